"""Benchmark: FHIR NDJSON ingest vs parse-alone (fhir.resources R4B model_validate).

Usage: PYTHONPATH=src:. python bench/ingest_fhir.py [--resources 100000] [--out DIR] [--workers N]
    [--no-shacl] [--stages] [--repeat N]
Writes generated NDJSON (synthetic, seeded) to DIR, then times (1) json + R4B model_validate of
every resource and (2) the full ingest as ``theragraph ingest`` runs it by default (the default
FHIR handler, SHACL validation of every unit at ingest, on-disk pyoxigraph store; ``--workers``
as the CLI option, and by default as many as the CLI takes), and prints resources/s for both and
their ratio, wall and CPU (the CPU of the worker processes included). ``--stages`` adds
per-stage thread-CPU timers (small overhead). ``--repeat N`` alternates the two N times: the
ratio reported is the median of the runs' ratios (each pairs a parse and an ingest minutes
apart), the times the medians of each.

Each parse-alone and each full ingest runs in a fresh Python process, as ``theragraph ingest``
does (imports not timed). Until 2026-12-05 the repeats ran in one process: its second and third
ingests took ~10 % longer than the first (26.4 -> 29.0 -> 29.6 s, peak RSS 1.06 -> 1.42 GB: the
workers fork from an ever larger parent), a cost no CLI run has; ``--in-process`` keeps that mode.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from theragraph.ids import Pseudonymizer
from theragraph.ingest.fhir import model_class
from theragraph.pipeline.fhir_source import FhirHandler
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.store.oxigraph import OxigraphStore
from tests import fhir_builders as fb


def generate(folder: Path, n: int, seed: int = 7) -> int:
    """Write ~n resources as NDJSON (Patient, Observation, MedicationAdministration files)."""
    rng = random.Random(seed)
    patients = max(1, n // 20)
    count = 0
    with (folder / "Patient.ndjson").open("w") as pf, (folder / "Observation.ndjson").open("w") as of, \
            (folder / "MedicationAdministration.ndjson").open("w") as mf:
        for i in range(patients):
            pid = f"bench-{i}"
            pf.write(json.dumps(fb.patient(pid, mrn=f"MRN{i:07d}")) + "\n")
            count += 1
            for c in range(4):
                mf.write(json.dumps(fb.lu_psma_cycle(f"{pid}-a{c}", pid, c + 1, f"2021-0{c + 1}-05T10:00:00Z", 7.4)) + "\n")
                count += 1
            for k in range(15):
                of.write(json.dumps(fb.psa(f"{pid}-o{k}", pid, round(rng.uniform(0.1, 200), 2), f"2021-{1 + k % 12:02d}-1{k % 9}T08:00:00Z")) + "\n")
                count += 1
    return count


def parse_alone(folder: Path) -> int:
    n = 0
    for path in sorted(folder.glob("*.ndjson")):
        with path.open("rb") as fh:
            for line in fh:
                obj = json.loads(line)
                model_class(obj["resourceType"]).model_validate(obj)
                n += 1
    return n


def handler_alone(folder: Path) -> int:
    """Index, validate, de-identify and map every resource, without the store or the pipeline."""
    from theragraph.ingest.fhir import FhirReader  # noqa: PLC0415
    from theragraph.mapping.fhir import FhirMapper  # noqa: PLC0415

    files = sorted(folder.glob("*.ndjson"))
    reader = FhirReader(Pseudonymizer(b"bench-secret-0123456789abcdef"))
    for path in files:
        reader.index_file(path)
    reader.finish_index()
    mapper = FhirMapper()
    n = 0
    for path in files:
        for record in reader.read_file(path):
            mapper.map_record(record)
            n += 1
    return n


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _install_stage_timers() -> dict[str, list[float]]:
    """Wrap the pipeline's stages with wall and thread-CPU timers (main process only)."""
    from theragraph.ingest.fhir import FhirReader  # noqa: PLC0415
    from theragraph.mapping.fhir import FhirMapper  # noqa: PLC0415
    from theragraph.pipeline import fhir_parallel, ingest  # noqa: PLC0415
    from theragraph.store.oxigraph import OxigraphStore as Ox  # noqa: PLC0415

    totals: dict[str, list[float]] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            w, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                slot = totals.setdefault(name, [0.0, 0.0])
                slot[0] += time.perf_counter() - w
                slot[1] += time.thread_time() - c
        return wrapper

    FhirReader.index_file = timed("index (first pass)", FhirReader.index_file)
    FhirReader.read_entry = timed("read (R4B, refs, de-id)", FhirReader.read_entry)
    FhirMapper.map_record = timed("map", FhirMapper.map_record)
    fhir_parallel._unpack = timed("unpack worker graphs", fhir_parallel._unpack)
    ingest._unchanged_graphs = timed("unchanged check", ingest._unchanged_graphs)
    ingest.IngestPipeline._validate = timed("SHACL validation", ingest.IngestPipeline._validate)
    ingest.provenance_ntriples = timed("provenance", ingest.provenance_ntriples)
    Ox.replace_graphs = timed("store write (writer thread)", Ox.replace_graphs)
    ingest.IngestPipeline._finish_unit = timed("wait for the writer", ingest.IngestPipeline._finish_unit)
    return totals


def _ingest_once(args: argparse.Namespace, work: Path, data: Path) -> tuple[float, float, float, object]:
    """Run the full ingest into a fresh store; return (wall s, main-process CPU s, workers' CPU s, report)."""
    store_dir = work / "store"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = OxigraphStore(None if args.memory else store_dir)
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"bench-secret-0123456789abcdef"), root=data,
                        workers=args.workers)
    validator = None
    if args.shacl:
        from theragraph.validate.ingest import make_ingest_validator  # noqa: PLC0415

        validator = make_ingest_validator()
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    report = IngestPipeline(store, ctx, handlers=[FhirHandler()], validator=validator).run([data])
    store.close()
    return time.perf_counter() - t0, time.process_time() - c0, _children_cpu() - k0, report


def _parse_once(data: Path) -> tuple[float, float, int]:
    t0, c0 = time.perf_counter(), time.process_time()
    parsed = parse_alone(data)
    return time.perf_counter() - t0, time.process_time() - c0, parsed


def _run_one(args: argparse.Namespace, data: Path, what: str) -> dict:
    """Time one parse-alone or full ingest, in this process or (default) a fresh one."""
    if not args.in_process:
        command = [sys.executable, __file__, "--one", what, "--out", str(args.out_dir),
                   "--workers", str(args.workers)]
        command += [flag for flag, on in (("--memory", args.memory), ("--no-shacl", not args.shacl),
                                          ("--stages", args.stages)) if on]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_ROOT / "src"), str(_ROOT)]))
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the {what} run failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    if what == "parse":
        t_parse, c_parse, parsed = _parse_once(data)
        return {"wall": t_parse, "cpu": c_parse, "parsed": parsed}
    global _STAGES
    if args.stages and _STAGES is None:
        _STAGES = _install_stage_timers()  # once: the wrappers would wrap each other
    before = {name: list(v) for name, v in (_STAGES or {}).items()}
    t_ingest, c_main, c_workers, report = _ingest_once(args, args.out_dir, data)
    stages = {name: [v[0] - before.get(name, [0.0, 0.0])[0], v[1] - before.get(name, [0.0, 0.0])[1]]
              for name, v in (_STAGES or {}).items()}
    return {"wall": t_ingest, "cpu": c_main + c_workers, "cpu_workers": c_workers,
            "graphs": report.graphs_written, "quads": report.quads_written,
            "status": dict(report.status_counts()),
            "stages": stages,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


_ROOT = Path(__file__).resolve().parents[1]
_STAGES: dict[str, list[float]] | None = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--memory", action="store_true", help="in-memory store (isolates store I/O)")
    parser.add_argument("--no-shacl", dest="shacl", action="store_false",
                        help="skip SHACL validation at ingest (the CLI validates by default)")
    parser.add_argument("--workers", type=int, default=None,
                        help="as `theragraph ingest --workers` (default: the CLI's default)")
    parser.add_argument("--skip-handler-alone", action="store_true",
                        help="skip the reader + mapper timing without the store")
    parser.add_argument("--stages", action="store_true", help="per-stage thread-CPU timers")
    parser.add_argument("--repeat", type=int, default=1,
                        help="alternate parse-alone and full ingest N times; report the medians "
                        "(a shared machine drifts by several %% between runs minutes apart)")
    parser.add_argument("--in-process", action="store_true",
                        help="time every run in this process (later runs pay for the earlier "
                        "ones' memory: ~10 %% slower ingests); default: a fresh process each")
    parser.add_argument("--one", choices=["parse", "ingest"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers is None:
        from theragraph.cli.ingest import default_workers  # noqa: PLC0415

        args.workers = default_workers()
    work = args.out or Path(tempfile.mkdtemp(prefix="tg-bench-fhir-"))
    args.out_dir = work
    data = work / "ndjson"
    if args.one:  # a child process: one timed run, a JSON line on stdout
        args.in_process = True
        print(json.dumps(_run_one(args, data, args.one)))
        return
    data.mkdir(parents=True, exist_ok=True)
    total = generate(data, args.resources)
    load_before = os.getloadavg()
    runs: list[tuple[float, float, float, float, float, float]] = []
    result: dict = {}
    stages: dict[str, list[float]] = {}
    for i in range(max(1, args.repeat)):
        parse = _run_one(args, data, "parse")
        t_parse = parse["wall"]
        print(f"parse alone (json + R4B model_validate): {t_parse:.1f} s, {parse['parsed'] / t_parse:,.0f} resources/s", flush=True)
        if i == 0 and not args.skip_handler_alone:
            t0 = time.perf_counter()
            handled = handler_alone(data)
            t_handler = time.perf_counter() - t0
            print(f"reader + de-identification + mapping, no store: {t_handler:.1f} s, "
                  f"{handled / t_handler:,.0f} resources/s ({t_handler / t_parse:.2f}x parse)", flush=True)
        result = _run_one(args, data, "ingest")
        t_ingest = result["wall"]
        for name, (wall, cpu) in result["stages"].items():
            slot = stages.setdefault(name, [0.0, 0.0])
            slot[0] += wall
            slot[1] += cpu
        runs.append((t_parse, parse["cpu"], t_ingest, result["cpu"], result["cpu_workers"], t_ingest / t_parse))
        if args.repeat > 1:
            print(f"  run {i + 1}: parse {t_parse:.1f} s, full ingest {t_ingest:.1f} s, "
                  f"ratio {t_ingest / t_parse:.2f}x", flush=True)
    t_parse, c_parse, t_ingest, c_ingest, c_workers, _ = (
        statistics.median(run[k] for run in runs) for k in range(6)
    )
    ratios = sorted(run[5] for run in runs)
    graphs = result["graphs"]
    print(f"resources: {total} (parsed {total}, graphs written {graphs}, quads {result['quads']})")
    where = "in-memory" if args.memory else "on-disk"
    label = f" (median of {len(runs)} alternating runs)" if len(runs) > 1 else ""
    mode = "one process for all runs" if args.in_process else "a fresh process per run"
    print(f"full ingest ({where} pyoxigraph){label}:  {t_ingest:.1f} s, {graphs / t_ingest:,.0f} resources/s")
    print(f"ratio full/parse: {statistics.median(ratios):.2f}x wall (goal <= 2x)"
          + (f", per run {' '.join(f'{r:.2f}x' for r in ratios)}" if len(runs) > 1 else "")
          + f"; CPU: parse {c_parse:.1f} s, ingest {c_ingest:.1f} s (all threads, RocksDB's included; "
          f"worker processes {c_workers:.1f} s), ratio {c_ingest / c_parse:.2f}x")
    print(f"R4B validation in the reader: on; SHACL validation at ingest: {'on' if args.shacl else 'off'}; "
          f"workers: {args.workers}; {mode}; status: {result['status']}"
          + (f"; peak RSS of the last ingest {result['peak_rss_mb']} MB" if "peak_rss_mb" in result else ""))
    for name, (wall, cpu) in stages.items():
        print(f"  stage {name:28s} {1e6 * cpu / total / len(runs):6.0f} us/resource thread CPU, "
              f"{wall / len(runs):6.1f} s wall")
    print(f"load average before the run (1/5/15 min): {load_before[0]:.1f}/{load_before[1]:.1f}/"
          f"{load_before[2]:.1f}; after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
