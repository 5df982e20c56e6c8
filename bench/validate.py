"""Benchmark: whole-store SHACL validation, fast (SPARQL on pyoxigraph) vs pyshacl, same data.

The synthetic cohort generator (``theragraph synth`` + ``theragraph ingest``) cannot produce a
1 M-triple store in minutes on the team's machine (about 0.46 s CPU per synthetic patient, DICOM
ingest at ~58 instances/s: over an hour), so this script writes its own domain-like store: per
patient one named graph holding the patient (pseudonym, sex, weight), four imaging series
(modality, injected activity, injection and series times, link to the patient) and three
absorbed doses per series (dose in Gy, organ IRI, link to the series): about 92 triples per
patient, so 11,000 patients give just over 1 M triples. About 1 % of the
values are deliberate faults (missing or implausible weight, negative dose or activity, unknown
modality or sex, injection after the scan, doses pointing at a missing series, a series without
a patient) so both engines have results to agree on.
Shapes: ``bench/validate_shapes.ttl`` (5 targeted shapes, 1 nested).

Run::

    PYTHONPATH=src:. python bench/validate.py --patients 11000 --store /tmp/tg-bench-store

It prints seconds for each engine and whether their result sets are identical, and appends
nothing to files: copy the figures into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore

TG = "https://w3id.org/theragraph/ontology#"
BENCH = "https://w3id.org/theragraph/bench#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SHAPES = Path(__file__).with_name("validate_shapes.ttl")
ORGANS = ["kidney_left", "kidney_right", "liver", "spleen", "salivary", "lesion"]


def _n(ns: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(ns + local)


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    if datatype is None:
        return ox.Literal(value)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def patient_graph(i: int, rnd: random.Random) -> GraphWrite:
    """Return one patient's named graph (110 triples), with rare deliberate faults."""
    t: list[ox.Triple] = []
    add = t.append
    p = _n("https://w3id.org/theragraph/id/patient/", f"{i:08d}")
    fault = rnd.random
    add(ox.Triple(p, RDF_TYPE, _n(TG, "Patient")))
    add(ox.Triple(p, _n(TG, "pseudonym"), _lit(f"{rnd.getrandbits(64):016x}")))
    weight = rnd.uniform(45, 120)
    if fault() < 0.01:
        weight = rnd.choice([0.5, 700.0])
    if fault() > 0.01:
        add(ox.Triple(p, _n(BENCH, "weightKg"), _lit(f"{weight:.1f}", "decimal")))
    add(ox.Triple(p, _n(BENCH, "sex"), _lit(rnd.choice("FMOU") if fault() > 0.01 else "X")))
    for j in range(4):
        s = _n("https://w3id.org/theragraph/id/series/", f"{i:08d}-{j}")
        add(ox.Triple(s, RDF_TYPE, _n(BENCH, "Series")))
        if fault() > 0.005:
            add(ox.Triple(s, _n(TG, "hasPatient"), p))
        add(
            ox.Triple(
                s,
                _n(BENCH, "modality"),
                _lit(rnd.choice(["PT", "CT", "NM"]) if fault() > 0.01 else "XX"),
            )
        )
        activity = rnd.uniform(150, 7400) if fault() > 0.01 else -5.0
        add(ox.Triple(s, _n(BENCH, "injectedActivityMBq"), _lit(f"{activity:.1f}", "decimal")))
        day = 1 + (i + j) % 27
        inj_h, scan_h = 9, 10 + j
        if fault() < 0.01:
            inj_h = 23
        add(
            ox.Triple(
                s,
                _n(BENCH, "injectionTime"),
                _lit(f"2024-03-{day:02d}T{inj_h:02d}:00:00Z", "dateTime"),
            )
        )
        add(
            ox.Triple(
                s,
                _n(BENCH, "seriesTime"),
                _lit(f"2024-03-{day:02d}T{scan_h:02d}:30:00Z", "dateTime"),
            )
        )
        add(ox.Triple(s, _n(BENCH, "seriesNumber"), _lit(str(j + 1), "integer")))
        for k in range(3):
            d = _n("https://w3id.org/theragraph/id/dose/", f"{i:08d}-{j}-{k}")
            add(ox.Triple(d, RDF_TYPE, _n(BENCH, "AbsorbedDose")))
            dose = rnd.uniform(0.1, 40) if fault() > 0.01 else -1.0
            add(ox.Triple(d, _n(BENCH, "doseGy"), _lit(f"{dose:.3f}", "decimal")))
            add(ox.Triple(d, _n(BENCH, "organ"), _n(BENCH, rnd.choice(ORGANS))))
            target = (
                s if fault() > 0.005 else _n("https://w3id.org/theragraph/id/series/", "missing")
            )
            add(ox.Triple(d, _n(BENCH, "fromSeries"), target))
            add(ox.Triple(d, _n(BENCH, "method"), _lit("MIRD")))
    return GraphWrite(f"https://w3id.org/theragraph/graph/bench/{i:08d}", t)


def build_store(path: Path, patients: int, seed: int = 42) -> OxigraphStore:
    """Create (or reuse) the benchmark store at ``path``."""
    if path.exists() and (path / ".bench-complete").exists():
        store = OxigraphStore(path)
        return store
    if path.exists():
        shutil.rmtree(path)
    store = OxigraphStore(path)
    rnd = random.Random(seed)
    batch: list[GraphWrite] = []
    for i in range(patients):
        batch.append(patient_graph(i, rnd))
        if len(batch) == 500:
            store.replace_graphs(batch)
            batch = []
    if batch:
        store.replace_graphs(batch)
    (path / ".bench-complete").write_text(str(patients))
    return store


def ingest_share(patients: int, path: Path) -> None:
    """Print the per-graph validation cost at ingest as a share of the pipeline's time.

    The graphs come straight from :func:`patient_graph` (no file parsing), so the share is an
    upper bound: real ingest also reads and maps DICOM/FHIR files.
    """
    from theragraph.ids import Pseudonymizer
    from theragraph.mapping.base import MappedGraph
    from theragraph.pipeline.ingest import IngestPipeline
    from theragraph.pipeline.sources import IngestContext, IngestUnit
    from theragraph.report import FileOutcome
    from theragraph.validate.ingest import IngestValidator

    class BenchHandler:
        kind = "bench"

        def sniff(self, path: Path, head: bytes) -> bool:
            return path.suffix == ".bench"

        def ingest(self, files, ctx, progress):  # type: ignore[no-untyped-def]
            rnd = random.Random(7)
            for i in range(patients):
                w = patient_graph(i, rnd)
                g = MappedGraph(graph=w.graph, triples=w.triples, kind="dicom")
                yield IngestUnit(
                    [g], [FileOutcome(path=f"{i}", status="ingested", graphs=[g.graph])]
                )

    validator = IngestValidator([SHAPES])
    spent = [0.0]
    inner = validator.validate_graph

    def timed(graph, store):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return inner(graph, store)
        finally:
            spent[0] += time.perf_counter() - t

    validator.validate_graph = timed  # type: ignore[method-assign]
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / "x.bench").write_text("x")
    store = OxigraphStore(path / "store")
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"b" * 32), root=path)
    pipeline = IngestPipeline(
        store, ctx, handlers=[BenchHandler()], validator=validator, on_invalid="warn"
    )
    t0 = time.perf_counter()
    pipeline.run([path / "x.bench"])
    total = time.perf_counter() - t0
    print(
        f"ingest: {patients} graphs in {total:.2f} s, of which SHACL validation {spent[0]:.2f} s "
        f"({100 * spent[0] / total:.0f} %, {1000 * spent[0] / patients:.1f} ms per graph)"
    )


def main(argv: list[str] | None = None) -> int:
    """Build the store, time both engines, compare their results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=11_000)
    parser.add_argument("--store", type=Path, default=Path("/tmp/tg-bench-validate"))
    parser.add_argument("--skip-pyshacl", action="store_true")
    parser.add_argument(
        "--ingest-share",
        type=int,
        default=0,
        metavar="N",
        help="only measure per-graph validation at ingest over N patient graphs",
    )
    args = parser.parse_args(argv)
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    if args.ingest_share:
        ingest_share(args.ingest_share, args.store)
        return 0

    from theragraph.validate.reference import validate_pyshacl
    from theragraph.validate.run import store_graph, validate_store
    from theragraph.validate.shapes import parse_graph

    t0 = time.perf_counter()
    store = build_store(args.store, args.patients)
    n = store.count_quads()
    print(
        f"store: {n:,} quads in {len(store.named_graphs()):,} named graphs "
        f"(built/opened in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )

    # Wall time and CPU time (all threads of this process): the team's machines are shared, so
    # CPU seconds are the steadier comparison; both are reported.
    t0, c0 = time.perf_counter(), time.process_time()
    fast = validate_store(store, shapes=[SHAPES], ontology=[])
    fast_s, fast_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"fast:    {fast_s:7.2f} s wall  {fast_cpu:7.2f} s CPU  {len(fast.results):,} results  "
        f"{dict(Counter(r.code for r in fast.results))}",
        flush=True,
    )
    if args.skip_pyshacl:
        return 0
    t0, c0 = time.perf_counter(), time.process_time()
    graph = store_graph(store)
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    ref = validate_pyshacl(graph, parse_graph([SHAPES]))
    ref_s, ref_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"pyshacl: {ref_s:7.2f} s wall  {ref_cpu:7.2f} s CPU  {len(ref.results):,} results "
        f"(+ {load_s:.2f} s wall / {load_cpu:.2f} s CPU loading the store into rdflib)"
    )
    same = fast.keys() == ref.keys()
    print(f"identical results: {same}")
    print(
        f"speed-up, validation only: {ref_s / fast_s:.1f}x wall, {ref_cpu / fast_cpu:.1f}x CPU; "
        f"with pyshacl's rdflib load: {(ref_s + load_s) / fast_s:.1f}x wall, "
        f"{(ref_cpu + load_cpu) / fast_cpu:.1f}x CPU"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
