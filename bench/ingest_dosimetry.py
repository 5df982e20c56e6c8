"""Benchmark: dosimetry report ingest and DVH computation.

Usage (from the repository root)::

    PYTHONPATH=src:. python bench/ingest_dosimetry.py --reports 200 --grid 100

Writes ``--reports`` JSON reports (2 time points, 2 VOIs each, as tests/builders_dosimetry.py)
into a temporary folder, ingests them with the real pipeline into an on-disk store (no DICOM, so
every reference is reported dangling: the worst case for look-ups), re-ingests them (all
unchanged), then computes the DVH of a sphere (radius 0.4·grid voxels) on a grid³ RT Dose.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

from tests.builders_dosimetry import report_document
from tests.builders_rt import sphere_contours, write_rtdose, write_rtstruct
from theragraph.derive.dvh import dose_volume
from theragraph.ids import Pseudonymizer
from theragraph.ingest.rt import read_dose_grid, read_structure_set
from theragraph.pipeline.dosimetry_source import DosimetryHandler
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.store.oxigraph import OxigraphStore


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--grid", type=int, default=100)
    args = parser.parse_args()
    pseudonymizer = Pseudonymizer(b"bench-secret-0123456789abcdef")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(args.reports):
            doc = report_document(report_id=f"DOS-{i:05d}")
            doc["patient"]["identifier_value"] = f"MRN{i // 4:05d}"
            doc["therapy_cycle"]["cycle_number"] = i % 4 + 1
            (root / f"r{i:05d}.json").write_text(json.dumps(doc))
        store = OxigraphStore(root / "store")
        ctx = IngestContext(pseudonymizer=pseudonymizer, root=root)
        pipeline = IngestPipeline(store, ctx, handlers=[DosimetryHandler()])
        files = sorted(root.glob("r*.json"))
        start = time.perf_counter()
        report = pipeline.run(files)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = pipeline.run(files)
        second = time.perf_counter() - start
        print(f"ingest: {args.reports} reports, {report.quads_written} quads in {first:.2f} s "
              f"({args.reports / first:.0f} reports/s; {report.status_counts()})")
        print(f"re-ingest unchanged: {second:.2f} s ({again.status_counts()})")
        n = args.grid
        centres = np.arange(n) - (n - 1) / 2
        radius = 0.4 * n
        write_rtdose(root / "rd.dcm", np.full((n, n, n), 2.0), origin=(centres[0],) * 3,
                     spacing_mm=1.0)
        write_rtstruct(root / "rs.dcm", {1: ("sphere", sphere_contours(radius, centres))})
        grid = read_dose_grid(pydicom.dcmread(root / "rd.dcm"), pseudonymizer)
        structures = read_structure_set(pydicom.dcmread(root / "rs.dcm"), pseudonymizer)
        start = time.perf_counter()
        stats = dose_volume(grid, structures, structures.structures[0])
        elapsed = time.perf_counter() - start
        print(f"dvh: {n}^3 grid, sphere r={radius:.0f} mm ({stats.voxel_count} voxels, "
              f"{len(structures.structures[0].contours)} contours x 256 points) in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
