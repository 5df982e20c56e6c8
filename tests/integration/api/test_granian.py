"""``theragraph serve --server granian``: the limits behave as under uvicorn (real process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from theragraph.store import GraphWrite, open_store
from tests.support.servers import free_port, wait_for_health

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
BULK = "http://example.org/bulk"


@pytest.fixture(scope="module")
def granian_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("granian")
    base = tmp_path_factory.mktemp("granian")
    store = open_store(str(base / "store"))
    p = ox.NamedNode("http://example.org/p")
    store.replace_graphs([GraphWrite(BULK, [
        ox.Triple(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(str(i)))
        for i in range(250)
    ])])
    store.close()
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "THERAGRAPH_QUERY_TIMEOUT_S": "1", "THERAGRAPH_MAX_RESULT_BYTES": "2000000",
        "THERAGRAPH_MAX_REQUEST_BYTES": "1000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "theragraph.cli.main", "serve", "--server", "granian",
         "--store", str(base / "store"), "--read-only", "--workers", "1", "--port", str(port),
         "--anonymous-scopes", "read", "--access-log", str(base / "access.jsonl")],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_large_result_streams_completely(granian_url: str) -> None:
    query = f"SELECT * WHERE {{ GRAPH <{BULK}> {{ ?a ?b ?c . ?d ?e ?f }} }} LIMIT 6000"
    with httpx.stream("GET", f"{granian_url}/sparql", params={"query": query}, timeout=60) as r:
        body = r.read()
        assert r.headers.get("transfer-encoding") == "chunked"
    assert len(json.loads(body)["results"]["bindings"]) == 6000


def test_runaway_stream_is_cut_off_not_truncated(granian_url: str) -> None:
    query = f"SELECT * WHERE {{ GRAPH <{BULK}> {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} }}"
    complete = False
    with pytest.raises(httpx.HTTPError):
        with httpx.stream("GET", f"{granian_url}/sparql", params={"query": query},
                          timeout=60) as response:
            assert response.status_code == 200
            for _ in response.iter_bytes():
                pass
            complete = True
    assert not complete


def test_errors_keep_their_status_and_code(granian_url: str) -> None:
    r = httpx.post(f"{granian_url}/sparql", data={"query": "ASK {}" + " " * 2000})
    assert r.status_code == 413 and r.json()["code"] == "request.too-large"
    r = httpx.get(f"{granian_url}/sparql", params={"query": "SELEC"})
    assert r.status_code == 400 and r.json()["code"] == "query.syntax"
    r = httpx.get(f"{granian_url}/sparql", params={"query": "ASK {}"},
                  headers={"Authorization": "Bearer tg_00000000_" + "x" * 40})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    construct = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"
    r = httpx.get(f"{granian_url}/sparql", params={"query": construct})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
