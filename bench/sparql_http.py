# ruff: noqa: D103, E501 - a benchmark script
"""Benchmark: the Theragraph SPARQL service against ``oxigraph serve-read-only`` on the same data.

(a) Research queries (the curated ``queries/*.rq`` plus ``bench/sparql_http_queries/*.rq``):
    median latency through Theragraph (``/sparql``) and through Oxigraph (``/query``), same
    query text, same data, alternating, N runs each.
(b) A trivial SELECT at 1 and 8 concurrent keep-alive connections for a fixed time: requests/s.

Data: a documented synthetic graph (``--patients`` patients, ~1,080 triples each, seeded), one
named graph per source record as Theragraph writes them; 1,000 patients give 1.08 M triples.
That bulk graph uses a few bench-only terms, so most curated queries would find nothing in it;
the store therefore also holds a real synthetic cohort (``--cohort`` patients from
``theragraph synth``, ingested by ``theragraph ingest``: DICOM, FHIR/mCODE and dosimetry
reports, ~12,000 quads per patient) that the curated queries do find rows in.
Everything runs on 127.0.0.1; load is bounded by count and time. Usage::

    PYTHONPATH=src:. python bench/sparql_http.py --patients 1000 --runs 7 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from theragraph.query.text import scan

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "_work" / "sparql_http"
TG = "https://w3id.org/theragraph/ontology#"
TGR = "https://w3id.org/theragraph/id/"
TGG = "https://w3id.org/theragraph/graph/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
TRIVIAL = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
CONDITIONS = ["399068003", "254637007", "363418001"]
RADIONUCLIDES = ["http://snomed.info/id/77004003", "http://snomed.info/id/89121004"]


def t(name: str) -> ox.NamedNode:
    return ox.NamedNode(TG + name)


def lit(value: object, datatype: str | None = None) -> ox.Literal:
    if datatype is None:
        return ox.Literal(str(value))
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def generate(patients: int, seed: int) -> list[ox.Quad]:
    """Return the synthetic graph (seeded), one named graph per source record.

    Per patient: 1 FHIR patient, 2 conditions, 3 studies x 4 series x 20 instances, and one
    dosimetry report with 5 VOIs (~1,080 triples per patient).
    """
    rng = random.Random(seed)
    quads: list[ox.Quad] = []
    for p in range(patients):
        patient = ox.NamedNode(f"{TGR}patient/p{p:04d}")
        g = ox.NamedNode(f"{TGG}fhir/patient-{p:04d}")
        quads += [ox.Quad(patient, RDF_TYPE, t("Patient"), g),
                  ox.Quad(patient, t("pseudonym"), lit(f"p{p:04d}"), g),
                  ox.Quad(patient, t("sex"), lit(rng.choice(["female", "male"])), g),
                  ox.Quad(patient, t("ageAtFirstVisitYears"), lit(rng.randint(35, 85), "integer"), g)]
        for c in range(2):
            cond = ox.NamedNode(f"{TGR}fhir/Condition/p{p:04d}-{c}")
            g = ox.NamedNode(f"{TGG}fhir/condition-{p:04d}-{c}")
            quads += [ox.Quad(cond, RDF_TYPE, t("Condition"), g),
                      ox.Quad(cond, t("hasPatient"), patient, g),
                      ox.Quad(cond, t("code"), ox.NamedNode("http://snomed.info/id/" + rng.choice(CONDITIONS)), g),
                      ox.Quad(cond, t("onsetDate"), lit(f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "date"), g)]
        for s in range(3):
            study = ox.NamedNode(f"{TGR}study/p{p:04d}-{s}")
            date = lit(f"2024-0{s + 1}-{rng.randint(10, 28)}", "date")
            for k in range(4):
                series = ox.NamedNode(f"{TGR}series/p{p:04d}-{s}-{k}")
                g = ox.NamedNode(f"{TGG}dicom-series/p{p:04d}-{s}-{k}")
                modality = ["PT", "CT", "NM", "RTSTRUCT"][k]
                quads += [ox.Quad(study, RDF_TYPE, t("ImagingStudy"), g),
                          ox.Quad(study, t("hasPatient"), patient, g),
                          ox.Quad(study, t("studyDate"), date, g),
                          ox.Quad(series, RDF_TYPE, t("ImageSeries"), g),
                          ox.Quad(series, t("partOfStudy"), study, g),
                          ox.Quad(series, t("hasPatient"), patient, g),
                          ox.Quad(series, t("modality"), lit(modality), g)]
                if modality == "PT":
                    quads += [ox.Quad(series, t("suvbwFactor"), lit(round(rng.uniform(1e-4, 9e-4), 7), "double"), g),
                              ox.Quad(series, t("radionuclide"), ox.NamedNode(rng.choice(RADIONUCLIDES)), g)]
                for i in range(20):
                    inst = ox.NamedNode(f"{TGR}instance/p{p:04d}-{s}-{k}-{i}")
                    quads += [ox.Quad(inst, RDF_TYPE, t("ImageInstance"), g),
                              ox.Quad(inst, t("partOfSeries"), series, g),
                              ox.Quad(inst, t("instanceNumber"), lit(i + 1, "integer"), g),
                              ox.Quad(inst, t("sliceLocationMm"), lit(round(rng.uniform(-400, 400), 2), "decimal"), g)]
        g = ox.NamedNode(f"{TGG}dosimetry/p{p:04d}")
        for v in range(5):
            voi = ox.NamedNode(f"{TGR}voi/p{p:04d}-{v}")
            quads += [ox.Quad(voi, RDF_TYPE, t("VolumeOfInterest"), g),
                      ox.Quad(voi, t("hasPatient"), patient, g),
                      ox.Quad(voi, t("absorbedDoseGy"), lit(round(rng.uniform(0.5, 40), 2), "double"), g),
                      ox.Quad(voi, t("massG"), lit(round(rng.uniform(10, 300), 1), "double"), g)]
    return quads


def ingested_cohort(patients: int, seed: int, env: dict[str, str]) -> Path:
    """Synthesise ``patients`` with ``theragraph synth``, ingest them, return their N-Quads."""
    out = WORK / "cohort"
    secret = WORK / "bench-secret.key"
    secret.write_text(base64.b64encode(random.Random(seed).randbytes(32)).decode())
    env = {**env, "THERAGRAPH_SECRET_FILE": str(secret)}
    cli = [sys.executable, "-m", "theragraph.cli.main"]
    subprocess.run([*cli, "synth", "--patients", str(patients), "--seed", str(seed),
                    "--out", str(out / "data")], env=env, check=True, capture_output=True)
    env["THERAGRAPH_ISSUER_MAP"] = (out / "data" / "issuer-map.json").read_text()
    sources = [str(out / "data" / d) for d in ("dicom", "fhir", "fhir-bulk", "dosimetry")
               if (out / "data" / d).is_dir()]
    ingest = subprocess.run([*cli, "ingest", *sources, "--workers", "2", "--store",
                             str(out / "store"), "--report", str(out / "ingest-report.json")],
                            env=env, capture_output=True, text=True)
    if ingest.returncode not in (0, 1):  # 1: some files skipped, reported; the rest landed
        raise RuntimeError(f"ingest failed: {ingest.stderr[-2000:]}")
    report = json.loads((out / "ingest-report.json").read_text())
    print(f"cohort: {patients} patients ingested (exit {ingest.returncode}), "
          f"{report.get('quads_written', '?')} quads in {report.get('graphs_written', '?')} graphs")
    nq = out / "cohort.nq"
    store = ox.Store.read_only(str(out / "store"))
    with nq.open("wb") as handle:
        store.dump(handle, ox.RdfFormat.N_QUADS)
    del store
    return nq


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, params={"query": "ASK {}"}, headers=headers or {}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.args}")
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer: {url}")


def load_queries() -> dict[str, str]:
    queries = {}
    for folder in (ROOT / "queries", ROOT / "bench" / "sparql_http_queries"):
        for path in sorted(folder.glob("*.rq")):
            text = path.read_text()
            if "# param:" in text and "(iri)" in text:
                continue  # needs a parameter value we cannot invent
            queries[path.stem] = text
    return queries


def timed(client: httpx.Client, url: str, query: str, extra: dict[str, str]) -> tuple[float, int]:
    """Return the seconds to the last byte and the number of result rows (triples)."""
    graph = scan(query).form in ("CONSTRUCT", "DESCRIBE")
    accept = "application/n-triples" if graph else "application/sparql-results+json"
    started = time.perf_counter()
    r = client.post(url, data={"query": query, **extra}, headers={"Accept": accept})
    body = r.read()
    elapsed = time.perf_counter() - started
    if r.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
    if graph:
        return elapsed, body.count(b"\n")
    results = json.loads(body)
    return elapsed, len(results["results"]["bindings"]) if "results" in results else 1


async def _worker(host: str, port: int, request: bytes, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            headers = head.decode("latin-1").lower()
            if "content-length:" in headers:
                length = int(headers.split("content-length:", 1)[1].split("\r\n", 1)[0])
                await reader.readexactly(length)
            else:  # chunked
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            done += 1
    finally:
        writer.close()
        counts.append(done)


def throughput(url: str, path_query: str, headers: dict[str, str], connections: int, seconds: float) -> float:
    """Requests/s of a keep-alive raw HTTP/1.1 client with ``connections`` connections."""
    host, port = url.split("//", 1)[1].split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"GET {path_query} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Accept: application/sparql-results+json\r\n{extra}\r\n").encode()
    counts: list[int] = []

    async def main() -> None:
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(_worker(host, int(port), request, stop_at, counts)
                               for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cohort", type=int, default=20,
                        help="patients of the ingested synth cohort added to the store (0: none)")
    parser.add_argument("--runs", type=int, default=7, help="runs per query and server")
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput measurement")
    parser.add_argument("--keep", action="store_true", help="reuse generated stores")
    parser.add_argument("--skip-latency", action="store_true", help="only measure (b)")
    parser.add_argument("--slices", type=int, default=5,
                        help="(b): alternate the two servers in this many slices per point; "
                        "the ratio is the median of the slices' ratios")
    parser.add_argument("--tg-server", choices=("uvicorn", "granian"), default="uvicorn",
                        help="theragraph serve --server")
    parser.add_argument("--tg-workers", type=int, default=0,
                        help="theragraph serve --workers; 0: its default, one per CPU core "
                             "(the store is served --read-only, like oxigraph serve-read-only)")
    args = parser.parse_args()
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")

    tg_store, ox_store = WORK / "theragraph-store", WORK / "oxigraph-store"
    nq = WORK / "data.nq"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    if not (args.keep and tg_store.exists() and ox_store.exists()):
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        started = time.perf_counter()
        quads = generate(args.patients, args.seed)
        with nq.open("wb") as out:
            ox.serialize(quads, out, ox.RdfFormat.N_QUADS)
        del quads
        files = [nq] + ([ingested_cohort(args.cohort, args.seed, env)] if args.cohort else [])
        for target in (tg_store, ox_store):
            store = ox.Store(str(target))
            for path in files:
                store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
            del store
        print(f"generated and loaded the data in {time.perf_counter() - started:.1f} s")
    n_quads = len(ox.Store.read_only(str(ox_store)))
    print(f"store: {n_quads:,} quads, {args.patients} bulk patients + {args.cohort} ingested")

    token = subprocess.run(
        [sys.executable, "-m", "theragraph.cli.main", "token", "add", f"bench-{os.getpid()}",
         "--scopes", "read", "--store", str(tg_store)],
        env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}
    tg_port, ox_port = free_port(), free_port()
    tg = subprocess.Popen(
        [sys.executable, "-m", "theragraph.cli.main", "serve", "--store", str(tg_store),
         "--port", str(tg_port), "--query-timeout-s", "300", "--access-log", os.devnull,
         "--read-only", "--server", args.tg_server,
         *(["--workers", str(args.tg_workers)] if args.tg_workers else [])],
        env={**env, "THERAGRAPH_MAX_CONCURRENT_QUERIES": "16"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    oxi = subprocess.Popen(
        [oxigraph, "serve-read-only", "--location", str(ox_store), "--bind",
         f"127.0.0.1:{ox_port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tg_url, ox_url = f"http://127.0.0.1:{tg_port}", f"http://127.0.0.1:{ox_port}"
    lines: list[str] = []
    try:
        wait_http(f"{tg_url}/sparql", tg, auth)
        wait_http(f"{ox_url}/query", oxi)
        print("\n(a) research queries: median latency (ms)")
        header = ("| query | rows | Theragraph | Oxigraph | overhead |\n"
                  "|---|---:|---:|---:|---:|")
        print(header)
        lines.append(header)
        overheads = []
        with httpx.Client(timeout=600, headers=auth) as tg_client, httpx.Client(timeout=600) as ox_client:
            for name, query in ({} if args.skip_latency else load_queries()).items():
                _, rows = timed(tg_client, f"{tg_url}/sparql", query, {})  # warm both caches
                _, ox_rows = timed(ox_client, f"{ox_url}/query", query, {})
                if rows != ox_rows:
                    raise RuntimeError(f"{name}: {rows} rows through Theragraph, {ox_rows} direct")
                tg_times, ox_times = [], []
                for _ in range(args.runs):
                    tg_times.append(timed(tg_client, f"{tg_url}/sparql", query, {})[0])
                    ox_times.append(timed(ox_client, f"{ox_url}/query", query, {})[0])
                tg_ms, ox_ms = statistics.median(tg_times) * 1e3, statistics.median(ox_times) * 1e3
                overheads.append(tg_ms / ox_ms - 1)
                row = (f"| {name} | {rows} | {tg_ms:.1f} | {ox_ms:.1f} | "
                       f"{100 * (tg_ms / ox_ms - 1):+.1f}% |")
                print(row)
                lines.append(row)
            if overheads:
                with_rows = [o for o, line in zip(overheads, lines[1:], strict=True)
                             if line.split("|")[2].strip() != "0"]
                summary_row = (f"median overhead: {100 * statistics.median(overheads):+.1f}% over "
                               f"{len(overheads)} queries")
                if with_rows:
                    summary_row += (f"; {100 * statistics.median(with_rows):+.1f}% over the "
                                    f"{len(with_rows)} with rows")
                print(summary_row)
                lines.append("")
                lines.append(summary_row)
        print("\n(b) trivial SELECT, requests/s")
        header = ("| connections | Theragraph | Oxigraph | ratio (median of slices) |"
                  "\n|---:|---:|---:|---:|")
        print(header)
        lines.append("")
        lines.append(header)
        path = "?" + urlencode({"query": TRIVIAL})
        for connections in (1, 8):
            # alternate short slices: the VM's speed drifts by tens of % within a minute
            pairs = []
            for _ in range(max(1, args.slices)):
                pairs.append((
                    throughput(tg_url, f"/sparql{path}", auth, connections, args.seconds / args.slices),
                    throughput(ox_url, f"/query{path}", {}, connections, args.seconds / args.slices),
                ))
            tg_rps = statistics.mean(t for t, _ in pairs)
            ox_rps = statistics.mean(o for _, o in pairs)
            ratio = statistics.median(t / o for t, o in pairs)
            row = (f"| {connections} | {tg_rps:.0f} | {ox_rps:.0f} | {ratio:.2f}x "
                   f"(slices {min(t / o for t, o in pairs):.2f}-{max(t / o for t, o in pairs):.2f}) |")
            print(row)
            lines.append(row)
    finally:
        for process in (tg, oxi):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run([sys.executable, "-m", "theragraph.cli.main", "token", "revoke",
                        f"bench-{os.getpid()}", "--store", str(tg_store)], env=env,
                       capture_output=True)
    summary = (f"{n_quads:,} quads ({args.patients} bulk + {args.cohort} ingested patients); "
               f"theragraph {args.tg_server}, workers={args.tg_workers or os.cpu_count()}; "
               f"runs={args.runs}; "
               f"{args.seconds:g} s per throughput point in {args.slices} alternating slices")
    (WORK / "last-run.md").write_text(summary + "\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
