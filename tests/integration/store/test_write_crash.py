"""A FHIR ingest killed (SIGKILL) while a unit is being written: every graph complete or absent.

New graphs go through the journalled bulk loader (store/oxigraph.py), so the kills must land
inside a load at least once for the test to prove its roll-back.
"""

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

# Ingests the NDJSON in units of 300 resources; on the second write a timer thread SIGKILLs the
# process ``delay`` seconds after pyoxigraph's bulk load began (it releases the GIL, so the timer
# fires inside it; the journal was written and fsynced just before).
_CHILD = textwrap.dedent("""
    import os, signal, sys, threading
    from pathlib import Path
    from theragraph.ids import Pseudonymizer
    from theragraph.pipeline.fhir_source import FhirHandler
    from theragraph.pipeline.ingest import IngestPipeline
    from theragraph.pipeline.sources import IngestContext
    from theragraph.store.oxigraph import OxigraphStore

    data, store_dir, delay = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])

    class KillingStore:  # the raw pyoxigraph store; its second bulk load is killed
        def __init__(self, raw):
            self.raw, self.loads = raw, 0

        def bulk_load(self, *args, **kwargs):
            self.loads += 1
            if self.loads == 2:
                threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
            self.raw.bulk_load(*args, **kwargs)
            if self.loads == 2:
                threading.Event().wait(30)  # killed while loading or just after: never returns

        def __getattr__(self, name):
            return getattr(self.raw, name)

    store = OxigraphStore(store_dir)
    store._store = KillingStore(store.raw)
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


def test_sigkill_during_a_write_leaves_every_graph_complete_or_absent(tmp_path):
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

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    interrupted = 0
    for delay in ("0.0", "0.005", "0.01", "0.02", "0.05"):  # inside the load or just after
        store_dir = tmp_path / f"store-{delay}"
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(data), str(store_dir), delay],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
        # killed inside a bulk load (the second unit's; the third may be loading beside it, with
        # a journal of its own)
        interrupted += (store_dir / JOURNAL_NAME).exists()

        store = OxigraphStore(store_dir)  # opens after the crash: an interrupted load is rolled back
        found = _graph_sizes(store)
        # the first unit landed whole; the second (and a third written beside it) whole or not
        # at all
        assert len(found) in (300, 600, 900)
        for graph, size in found.items():
            assert size == expected[graph], graph  # complete, or absent
        assert not list(store_dir.glob("*.journal"))
        store.close()
    # the roll-back path ran at least once (else the timing missed the load every time)
    assert interrupted, "no kill landed inside a bulk load; adjust the delays"
