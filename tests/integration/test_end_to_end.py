"""One end-to-end run through the CLI: synth -> ingest -> validate -> query -> dump (PHI scan)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from theragraph.cli.main import app
from theragraph.config import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PATIENTS = 4


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, monkeypatch_module):
    """Generate a small cohort and ingest all of its sources into one on-disk store."""
    root = tmp_path_factory.mktemp("e2e")
    data, store = root / "data", root / "store"
    runner = CliRunner()
    result = runner.invoke(
        app, ["synth", "--patients", str(PATIENTS), "--seed", "11", "--out", str(data), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    monkeypatch_module.setenv("THERAGRAPH_SECRET", "end-to-end-test-secret-0123456789")
    monkeypatch_module.setenv("THERAGRAPH_ISSUER_MAP", (data / "issuer-map.json").read_text())
    get_settings.cache_clear()
    sources = [str(data / d) for d in ("dicom", "fhir", "fhir-bulk", "dosimetry") if (data / d).is_dir()]
    report = root / "report.json"
    result = runner.invoke(
        app, ["ingest", *sources, "--store", str(store), "--report", str(report), "--no-progress"]
    )
    yield data, store, json.loads(report.read_text()), result
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _query_csv(store, name: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(app, ["query", "--store", str(store), "-f", f"queries/{name}", "--format", "csv"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_every_file_of_a_clean_cohort_lands(cohort):
    _, _, report, result = cohort
    assert result.exit_code == 0, result.output
    statuses = {f["status"] for f in report["files"]}
    assert statuses == {"ingested"}, [f for f in report["files"] if f["status"] != "ingested"][:3]
    assert report["graphs_written"] > PATIENTS * 10


def test_images_records_and_dosimetry_meet_on_one_patient_node(cohort):
    _, store, _, _ = cohort
    rows = _query_csv(store, "summarize-patients.rq")
    patients = {r["patient"] for r in rows}
    assert len(patients) == PATIENTS  # one node per person, whatever the source
    for row in rows:
        assert int(row["cycles"]) >= 1
        assert int(row["pet_series"] or 0) + int(row["spect_series"] or 0) >= 1
        assert float(row["kidney_dose_gy"]) > 0


def test_store_is_valid_against_the_shapes(cohort):
    _, store, _, _ = cohort
    result = CliRunner().invoke(app, ["validate", "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.stdout[-2000:]


def test_reingest_writes_nothing(cohort):
    data, store, _, _ = cohort
    before = CliRunner().invoke(app, ["query", "--store", str(store), "--format", "csv", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"])
    sources = [str(data / d) for d in ("dicom", "fhir", "fhir-bulk", "dosimetry") if (data / d).is_dir()]
    result = CliRunner().invoke(app, ["ingest", *sources, "--store", str(store), "--no-progress"])
    assert result.exit_code == 0, result.output
    after = CliRunner().invoke(app, ["query", "--store", str(store), "--format", "csv", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"])
    assert before.stdout == after.stdout


def test_no_identifying_value_of_the_inputs_reaches_the_store(cohort):
    data, store, _, _ = cohort
    dump = CliRunner().invoke(app, ["dump", "--store", str(store)])
    assert dump.exit_code == 0
    text = dump.stdout
    identifying: set[str] = set()
    for bundle in (data / "fhir").glob("*.json"):
        for entry in json.loads(bundle.read_text()).get("entry", []):
            resource = entry["resource"]
            if resource.get("resourceType") != "Patient":
                continue
            identifying.update(i["value"] for i in resource.get("identifier", []))
            for name in resource.get("name", []):
                identifying.update(name.get("given", []))
                identifying.add(name.get("family", ""))
            identifying.add(resource.get("birthDate", ""))
            for address in resource.get("address", []):
                identifying.update(address.get("line", []))
            for telecom in resource.get("telecom", []):
                identifying.add(telecom.get("value", ""))
    identifying.discard("")
    assert identifying, "the generator wrote no identifying values to look for"
    leaked = sorted(v for v in identifying if re.search(re.escape(v), text))
    assert not leaked, f"identifying values found in the store: {len(leaked)}"
