"""Benchmark ``theragraph synth``: time, bytes and files per patient, and peak memory.

Usage (from the repository root)::

    PYTHONPATH=src python bench/synth.py --patients 2000 --seed 1 [--faults 0.05] [--keep]

Writes the cohort to bench/_work/synth (removed afterwards unless --keep) and prints a Markdown
table for bench/RESULTS.md. Peak resident memory is sampled after 10 % and after 100 % of the
patients: equal values show that memory does not grow with the cohort (patients are streamed).
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

from theragraph.synth.generate import generate_cohort


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main() -> int:
    """Run the benchmark and print the result table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=Path("bench/_work/synth"))
    parser.add_argument("--keep", action="store_true", help="keep the generated cohort")
    args = parser.parse_args()

    if args.out.exists():
        shutil.rmtree(args.out)
    checkpoints: dict[int, float] = {}
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done in (max(1, args.patients // 10), args.patients):
            checkpoints[done] = _peak_rss_mb()
        if done % 250 == 0:
            print(f"  {done} patients, {time.perf_counter() - start:.0f} s", file=sys.stderr)

    start = time.perf_counter()
    cpu0 = time.process_time()
    summary = generate_cohort(
        args.out,
        patients=args.patients,
        seed=args.seed,
        fault_rate=args.faults,
        truth=True,
        progress=progress,
    )
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    n = max(summary.patients, 1)
    print(
        "| patients | wall s | CPU s | ms/patient (CPU) | files/patient | KB/patient | "
        "peak RSS MB @10% | peak RSS MB @100% | extrapolated 10,000 (CPU) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    first, last = sorted(checkpoints)[0], sorted(checkpoints)[-1]
    print(
        f"| {summary.patients} | {wall:.1f} | {cpu:.1f} | {1000 * cpu / n:.0f} | "
        f"{summary.files / n:.1f} | {summary.bytes / n / 1024:.0f} | {checkpoints[first]:.0f} | "
        f"{checkpoints[last]:.0f} | {cpu / n * 10000 / 60:.0f} min |"
    )
    print(
        f"\nmachine: {platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}, total {summary.bytes / 1e6:.0f} MB in {summary.files} files",
        file=sys.stderr,
    )
    if not args.keep:
        shutil.rmtree(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
