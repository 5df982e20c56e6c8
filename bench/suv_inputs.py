"""Benchmark: cost of read_suv_inputs + compute_suv on top of a bare pydicom header read.

Writes N synthetic PET instances (one series, GE private block present) to a temporary folder,
then times (a) ``pydicom.dcmread(stop_before_pixels=True)`` alone and (b) the same read followed by
``read_suv_inputs``, and finally ``compute_suv`` over the whole series.

Run: ``PYTHONPATH=src:. python bench/suv_inputs.py [N]`` (default N = 2000).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pydicom

from tests.builders import add_ge_pet_private, pet_dataset, write_pet_series
from theragraph.derive.suv import compute_suv
from theragraph.ingest.suv_inputs import read_suv_inputs


def main(n: int) -> None:
    """Write ``n`` instances, time the reads and print instances per second."""
    with tempfile.TemporaryDirectory() as tmp:
        datasets = []
        for i in range(n):
            ds = pet_dataset(instance_number=i + 1, manufacturer="GE MEDICAL SYSTEMS")
            add_ge_pet_private(ds, scan_datetime="20240110100000")
            datasets.append(ds)
        paths = write_pet_series(Path(tmp), datasets)
        start = time.perf_counter()
        for path in paths:
            pydicom.dcmread(path, stop_before_pixels=True)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        inputs = [read_suv_inputs(pydicom.dcmread(p, stop_before_pixels=True)) for p in paths]
        with_inputs = time.perf_counter() - start
        start = time.perf_counter()
        result = compute_suv(inputs)
        derive = time.perf_counter() - start
    print(f"instances: {n}")
    print(f"bare dcmread:            {n / bare:8.0f} instances/s")
    print(f"dcmread+read_suv_inputs: {n / with_inputs:8.0f} instances/s")
    print(f"compute_suv (series):    {derive * 1000:8.1f} ms ({result.rule})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
