"""Per-graph SHACL validation at ingest as a share of ingest time, on the synthetic cohort.

Writes a cohort with ``theragraph synth`` (unless ``--cohort`` names one), then ingests it twice
into fresh stores in the same process: once with validation (the default ``reject`` mode, the
shapes in ``shapes/``) and once without. Prints wall and CPU seconds of both runs, the seconds
spent inside the validator (timed around ``validate_unit_facts``) and two shares:

- ``validator share`` = validator seconds / ingest seconds with validation;
- ``overhead share``  = (with - without) / with (noisier: two runs on a shared machine).

Run from the repository root::

    PYTHONPATH=src:. python bench/validate_ingest.py --patients 50 --seed 11 --work /tmp/tg-vi
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from theragraph.ids import Pseudonymizer
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.ingest import make_ingest_validator

ISSUER = {"THERAGRAPH-SYNTH-HOSP": "urn:oid:1.2.826.0.1.3680043.10.1234.1"}
SECRET = b"theragraph-bench-secret-0123456789abcdef"


def ingest(cohort: Path, store_dir: Path, *, validate: bool) -> tuple[float, float, float, int]:
    """Ingest ``cohort`` into a fresh store; return (wall s, CPU s, validator s, graphs)."""
    shutil.rmtree(store_dir, ignore_errors=True)
    store = OxigraphStore(store_dir)
    validator = make_ingest_validator() if validate else None
    spent = [0.0]
    if validator is not None:
        # the pipeline validates each unit's graphs in one pass (validate_unit_facts)
        inner = validator.validate_unit_facts

        def timed(graphs, db, unwritten=None):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return inner(graphs, db, unwritten)
            finally:
                spent[0] += time.perf_counter() - t

        validator.validate_unit_facts = timed  # type: ignore[method-assign]
    ctx = IngestContext(pseudonymizer=Pseudonymizer(SECRET), root=cohort, issuer_map=ISSUER)
    pipeline = IngestPipeline(store, ctx, validator=validator, on_invalid="reject")
    t0, c0 = time.perf_counter(), time.process_time()
    report = pipeline.run([cohort])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    store.close()
    return wall, cpu, spent[0], report.graphs_written


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tg-validate-ingest"))
    parser.add_argument("--cohort", type=Path, default=None, help="an existing synth output")
    args = parser.parse_args(argv)
    cohort = args.cohort or args.work / "cohort"
    if args.cohort is None and not (cohort / ".theragraph-synth.json").exists():
        subprocess.run(
            [sys.executable, "-m", "theragraph.cli.main", "synth", "--patients",
             str(args.patients), "--seed", str(args.seed), "--out", str(cohort)],
            check=True,
        )
    w_on, c_on, v_on, graphs = ingest(cohort, args.work / "store-validate", validate=True)
    w_off, c_off, _, graphs_off = ingest(cohort, args.work / "store-plain", validate=False)
    print(f"cohort: {cohort} ({graphs} graphs with validation, {graphs_off} without)")
    print(f"--validate:    wall {w_on:8.1f} s  CPU {c_on:8.1f} s  in validator {v_on:8.1f} s")
    print(f"--no-validate: wall {w_off:8.1f} s  CPU {c_off:8.1f} s")
    print(f"validator share of ingest (wall): {v_on / w_on:6.1%}")
    print(f"overhead share (wall):  {(w_on - w_off) / w_on:6.1%}   (CPU): {(c_on - c_off) / c_on:6.1%}")
    print(f"per graph: {1000 * v_on / max(graphs, 1):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
