# The two commands of the README: `make demo` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := .theragraph/demo
export THERAGRAPH_SECRET_FILE ?= $(CURDIR)/.theragraph/demo-secret.key

.PHONY: install demo test bench clean browser virtuoso

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned, so pip takes the CPU wheel on disk instead of a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[gnn,test]'
	touch $(STAMP)

install: $(STAMP)

$(THERAGRAPH_SECRET_FILE):
	mkdir -p $(dir $@)
	$(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $@
	chmod 600 $@

demo: install $(THERAGRAPH_SECRET_FILE)
	rm -rf $(DEMO)
	$(BIN)/theragraph synth --patients 20 --seed 7 --out $(DEMO)/data
	# the synthetic hospital's DICOM issuer and FHIR identifier system name the same patients
	THERAGRAPH_ISSUER_MAP="$$(cat $(DEMO)/data/issuer-map.json)" $(BIN)/theragraph ingest \
	  $$(for d in dicom fhir fhir-bulk dosimetry; do [ -d $(DEMO)/data/$$d ] && echo $(DEMO)/data/$$d; done) \
	  --workers 2 --store $(DEMO)/store --report $(DEMO)/ingest-report.json
	$(BIN)/theragraph query --store $(DEMO)/store -f queries/summarize-cohort.rq
	$(BIN)/theragraph query --store $(DEMO)/store -f queries/summarize-patients.rq

# Headless Chromium for the query-page test; when it cannot be installed the test skips, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	    ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 || \
	    echo "chromium not installed: the browser test will be skipped"; }

# Virtuoso (virtuoso-t, isql-vt) for the store contract tests; when it cannot be installed they skip, saying why.
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1 || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	    ($$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource) >/dev/null 2>&1 || \
	    echo "virtuoso-opensource not installed: the Virtuoso store tests will be skipped"; }

test: install browser virtuoso
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/ingest_dicom.py

clean:
	rm -rf $(VENV) .theragraph .pytest_cache
