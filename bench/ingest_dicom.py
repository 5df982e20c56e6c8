"""Benchmark: full DICOM ingest vs the pydicom header-reading floor (issue 2).

Generates N_SERIES PET series of N_PER_SERIES small instances into bench/_work (reused when
present), then measures in one run:
  - floor: ``pydicom.dcmread(f, stop_before_pixels=True)`` over every file (one process);
  - full: ``python -m theragraph.cli.main ingest --workers 2`` into a fresh on-disk store;
and prints instances/s, the ratio, and the store size per instance. Use --write-results to
replace the "DICOM ingest" section of bench/RESULTS.md.

Run: PYTHONPATH=src python bench/ingest_dicom.py [--series 200 --per-series 100] [--write-results]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"


def _template(patient: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.Modality = "PT"
    ds.PatientName = f"Bench^Patient{patient}"
    ds.PatientID = f"BENCH{patient:05d}"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "F" if patient % 2 else "M"
    ds.PatientAge = "064Y"
    ds.PatientWeight = "72.5"
    ds.PatientSize = "1.70"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = "20240301"
    ds.StudyTime, ds.SeriesTime, ds.AcquisitionTime = "091000", "101000", "101000"
    ds.Manufacturer, ds.ManufacturerModelName, ds.SoftwareVersions = "ACME", "PET 1", "1.0"
    ds.InstitutionName = "Bench Hospital"
    ds.Units, ds.DecayCorrection = "BQML", "START"
    ds.CorrectedImage = ["ATTN", "DECY"]
    ds.ReconstructionMethod = "OSEM"
    ds.ActualFrameDuration = 120000
    ds.SliceThickness = "3"
    rp = Dataset()
    rp.Radiopharmaceutical = "FDG"
    rp.RadiopharmaceuticalStartDateTime = "20240301091000"
    rp.RadionuclideTotalDose = "370000000"
    rp.RadionuclideHalfLife = "6586.2"
    ds.RadiopharmaceuticalInformationSequence = Sequence([rp])
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = np.zeros((8, 8), dtype=np.uint16).tobytes()
    return ds


def generate(n_series: int, per_series: int) -> list[Path]:
    """Write (or reuse) the benchmark files; return their paths."""
    marker = WORK / f"done-{n_series}x{per_series}"
    data = WORK / "data"
    if marker.exists():
        return sorted(p for p in data.rglob("*") if p.is_file())
    shutil.rmtree(WORK, ignore_errors=True)
    files = []
    for s in range(n_series):
        ds = _template(s // 4)
        ds.StudyInstanceUID = generate_uid(entropy_srcs=[f"study{s // 4}"])
        ds.SeriesInstanceUID = generate_uid()
        ds.FrameOfReferenceUID = generate_uid()
        folder = data / f"series{s:04d}"
        folder.mkdir(parents=True)
        for i in range(per_series):
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.InstanceNumber = i + 1
            ds.ImagePositionPatient = [0.0, 0.0, 3.0 * i]
            ds.RescaleSlope = f"{1 + i / 1000:.4f}"
            path = folder / f"{i:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            files.append(path)
    marker.write_text("ok")
    return files


FLOOR_CPU: list[float] = []


def floor(files: list[Path]) -> float:
    """Return seconds for a bare dcmread(stop_before_pixels=True) loop (CPU s in FLOOR_CPU)."""
    start, cpu = time.perf_counter(), time.process_time()
    for f in files:
        pydicom.dcmread(f, stop_before_pixels=True)
    FLOOR_CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reader_breakdown(files: list[Path]) -> tuple[float, float, float]:
    """Return seconds per instance: floor, reader without SUV inputs, reader with SUV inputs."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from theragraph.ids import Pseudonymizer  # noqa: PLC0415
    from theragraph.ingest.dicom import ReaderContext, read_instance  # noqa: PLC0415
    from theragraph.pipeline import dicom_suv  # noqa: PLC0415

    ctx = ReaderContext(Pseudonymizer(b"bench-secret-0123456789abcdef0123456789"))
    suv = dicom_suv.suv_reader()
    out = []
    for fn in (lambda f: pydicom.dcmread(f, stop_before_pixels=True),
               lambda f: read_instance(f, ctx),
               lambda f: read_instance(f, ctx, suv_reader=suv)):
        start = time.perf_counter()
        for f in files:
            fn(f)
        out.append((time.perf_counter() - start) / len(files))
    return out[0], out[1], out[2]


FULL_CPU: list[float] = []


def full_ingest(workers: int, validate: bool = True) -> tuple[float, int, int]:
    """Run the CLI ingest into a fresh store; return (seconds, store bytes, exit code)."""
    store = WORK / "store"
    shutil.rmtree(store, ignore_errors=True)
    env = dict(os.environ)
    env.setdefault("THERAGRAPH_SECRET", "bench-secret-0123456789abcdef0123456789")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "theragraph.cli.main", "ingest", str(WORK / "data"), "--store", str(store),
           "--workers", str(workers), "--no-progress", "--report", str(WORK / "report.json"),
           "--validate" if validate else "--no-validate"]
    start = time.perf_counter()
    cpu = _children_cpu()
    rc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).returncode
    seconds = time.perf_counter() - start
    FULL_CPU.append(_children_cpu() - cpu)  # the CLI process and its reader workers
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return seconds, size, rc


def main() -> None:
    """Run the benchmark and print (and optionally record) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--per-series", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="alternate floor and full ingest this many times; report the medians")
    parser.add_argument("--no-validate", action="store_true",
                        help="ingest without the per-graph SHACL validation (the CLI default is on)")
    args = parser.parse_args()
    files = generate(args.series, args.per_series)
    n = len(files)
    floor(files[: min(n, 500)])  # warm the page cache
    FLOOR_CPU.clear()
    load_before = os.getloadavg()
    floors, fulls = [], []
    for _ in range(max(1, args.repeat)):  # alternate, so both see the same machine
        floors.append(floor(files))
        t_full, size, rc = full_ingest(args.workers, validate=not args.no_validate)
        fulls.append(t_full)
    t_floor, t_full = statistics.median(floors), statistics.median(fulls)
    FLOOR_CPU[:] = [statistics.median(FLOOR_CPU)]
    FULL_CPU[:] = [statistics.median(FULL_CPU)]
    # the workers read files in order, a series at a time: sample the same way
    b_floor, b_deid, b_suv = reader_breakdown(files[:1000])
    lines = [
        "## DICOM ingest",
        "",
        f"Command: `PYTHONPATH=src python bench/ingest_dicom.py --series {args.series} "
        f"--per-series {args.per_series} --workers {args.workers} --write-results`",
        "",
        f"- data: {n} PET instances in {args.series} series (8x8 pixels), machine: "
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared; load average at the end "
        f"{os.getloadavg()[0]:.1f}), Python {platform.python_version()}",
        f"- floor (bare `pydicom.dcmread(f, stop_before_pixels=True)` loop, 1 process): "
        f"{t_floor:.1f} s = {n / t_floor:.0f} instances/s",
        f"- full ingest (`theragraph ingest --workers {args.workers}`, read + de-identify + SUV inputs"
        f" + map + write, on-disk store): {t_full:.1f} s = {n / t_full:.0f} instances/s (exit {rc})",
        f"- SHACL validation at ingest: {'off (--no-validate)' if args.no_validate else 'on (CLI default)'}; "
        f"load average (1/5/15 min) before the run {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f}",
        f"- ratio full / floor (time): {t_full / t_floor:.2f}x (goal <= 2x)"
        + (f"; median of {len(fulls)} alternating runs, each: "
           + ", ".join(f"floor {a:.1f} s / full {b:.1f} s" for a, b in zip(floors, fulls)) if len(fulls) > 1 else ""),
        f"- CPU time (load-independent; all processes, the workers included): floor "
        f"{FLOOR_CPU[-1]:.1f} s, full ingest {FULL_CPU[-1]:.1f} s, ratio {FULL_CPU[-1] / FLOOR_CPU[-1]:.2f}x",
        f"- store size: {size / 1e6:.1f} MB = {size / n:.0f} bytes per instance (RocksDB, not compacted)",
        f"- reader per instance (1 process, the first 1,000 files in order, cumulative ms): dcmread "
        f"{b_floor * 1e3:.2f}, + de-identification {b_deid * 1e3:.2f}, + SUV inputs {b_suv * 1e3:.2f}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_results:
        results = HERE / "RESULTS.md"
        old = results.read_text() if results.exists() else "# Benchmark results\n\n"
        head, sep, tail = old.partition("## DICOM ingest")
        rest = tail.split("\n## ", 1)[1] if sep and "\n## " in tail else ""
        new = head.rstrip() + "\n\n" + text + ("\n## " + rest if rest else "")
        results.write_text(new.strip() + "\n")


if __name__ == "__main__":
    main()
