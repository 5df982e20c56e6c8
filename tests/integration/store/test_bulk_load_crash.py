"""The bulk-loaded write path survives SIGKILL: every graph is complete or absent (issue #2, #4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests import fhir_builders as fb
from theragraph.store.oxigraph import JOURNAL_NAME, OxigraphStore

pytestmark = pytest.mark.integration

# Ingests the NDJSON in units of 300 resources; on the second bulk load a timer thread SIGKILLs
# the process while pyoxigraph is loading (the load releases the GIL, so the timer fires inside it).
_CHILD = textwrap.dedent("""
    import os, signal, sys, threading
    from pathlib import Path
    from theragraph.ids import Pseudonymizer
    from theragraph.pipeline.fhir_source import FhirHandler
    from theragraph.pipeline.ingest import IngestPipeline
    from theragraph.pipeline.sources import IngestContext
    from theragraph.store.oxigraph import OxigraphStore

    data, store_dir, delay = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    original = OxigraphStore._bulk_load
    calls = []

    def killing_bulk_load(self, writes):
        calls.append(1)
        if len(calls) == 2:
            threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
        return original(self, writes)

    OxigraphStore._bulk_load = killing_bulk_load
    store = OxigraphStore(store_dir)
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"crash-secret-0123456789abcdef"), root=data)
    IngestPipeline(store, ctx, handlers=[FhirHandler(batch_size=300)]).run([data])
    sys.exit(3)  # not killed: the test cannot prove anything
""")


def _write_ndjson(folder: Path, patients: int) -> None:
    folder.mkdir(parents=True)
    with (folder / "Patient.ndjson").open("w") as pf, (folder / "Observation.ndjson").open("w") as of:
        for i in range(patients):
            pid = f"crash-{i}"
            pf.write(json.dumps(fb.patient(pid, mrn=f"MRN{i:06d}")) + "\n")
            for k in range(9):
                of.write(json.dumps(fb.psa(f"{pid}-o{k}", pid, 1.5 + k, f"2021-0{1 + k}-10T08:00:00Z")) + "\n")


def _graph_sizes(store: OxigraphStore) -> Counter[str]:
    return Counter(q.graph_name.value for q in store.quads())


def test_sigkill_during_a_bulk_load_leaves_every_graph_complete_or_absent(tmp_path):
    data = tmp_path / "ndjson"
    _write_ndjson(data, 100)  # 1,000 resources: units of 300, the second one killed mid-load
    reference = OxigraphStore(tmp_path / "reference")
    from theragraph.ids import Pseudonymizer
    from theragraph.pipeline.fhir_source import FhirHandler
    from theragraph.pipeline.ingest import IngestPipeline
    from theragraph.pipeline.sources import IngestContext

    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"crash-secret-0123456789abcdef"), root=data)
    IngestPipeline(reference, ctx, handlers=[FhirHandler(batch_size=300)]).run([data])
    expected = _graph_sizes(reference)
    assert len(expected) == 1000

    store_dir = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(data), str(store_dir), "0.02"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert (store_dir / JOURNAL_NAME).exists(), "killed outside the bulk load: nothing proven"

    store = OxigraphStore(store_dir)  # opens after the crash and drops the interrupted load
    assert not (store_dir / JOURNAL_NAME).exists()
    found = _graph_sizes(store)
    assert 300 <= len(found) < 1000  # the first unit landed whole
    for graph, size in found.items():
        assert size == expected[graph], graph  # complete, or absent
    store.close()
