"""Limits: a runaway query is cut off (time or size) and does not block other requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from api.settings import ApiSettings
from theragraph.store import GraphWrite
from tests.support.servers import RunningApi, start_api

pytestmark = pytest.mark.integration
BULK = "http://example.org/bulk"
# ~250^3 = 15.6 M solutions: a few seconds of engine time, far beyond the 1 s limit.
RUNAWAY_COUNT = (
    f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BULK}> {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} }}"
)
RUNAWAY_SELECT = f"SELECT * WHERE {{ GRAPH <{BULK}> {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} }}"


@pytest.fixture(scope="module")
def limited() -> Iterator[RunningApi]:
    settings = ApiSettings(
        store=":memory:", anonymous_scopes="read", query_timeout_s=1.0,
        max_result_bytes=2_000_000, max_concurrent_queries=2, queue_wait_s=0.2,
    )
    running = start_api(settings)
    p = ox.NamedNode("http://example.org/p")
    running.service.store.replace_graphs([GraphWrite(BULK, [
        ox.Triple(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(str(i)))
        for i in range(250)
    ])])
    yield running
    # Let lingering engine threads finish before the next module starts.
    runner = running.service.runner
    for _ in range(limited_slots(running)):
        runner.acquire(wait_s=60)
    running.stop()


def limited_slots(running: RunningApi) -> int:
    return running.service.settings.max_concurrent_queries


def ask(url: str) -> httpx.Response:
    return httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=60)


def wait_for_free_slots(running: RunningApi) -> None:
    runner = running.service.runner
    n = limited_slots(running)
    for _ in range(n):
        runner.acquire(wait_s=60)
    for _ in range(n):
        runner._slots.release()  # noqa: SLF001 - test waits for idle runner


def test_runaway_aggregate_times_out_while_fast_query_answers(limited: RunningApi) -> None:
    wait_for_free_slots(limited)
    finished: list[tuple[str, int]] = []

    def runaway() -> None:
        r = httpx.get(f"{limited.url}/sparql", params={"query": RUNAWAY_COUNT}, timeout=60)
        finished.append(("runaway", r.status_code))
        finished.append(("code", r.json()["code"]))

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)  # the runaway is evaluating
    fast = ask(limited.url)
    finished.append(("fast", fast.status_code))
    thread.join(60)
    assert finished[0] == ("fast", 200)
    assert ("runaway", 504) in finished and ("code", "query.timeout") in finished


def test_all_slots_busy_is_503(limited: RunningApi) -> None:
    wait_for_free_slots(limited)
    threads = [
        threading.Thread(
            target=httpx.get,
            args=(f"{limited.url}/sparql",),
            kwargs={"params": {"query": RUNAWAY_COUNT}, "timeout": 60},
        )
        for _ in range(limited_slots(limited))
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    r = ask(limited.url)
    assert r.status_code == 503 and r.json()["code"] == "query.overloaded"
    for thread in threads:
        thread.join(60)
    assert httpx.get(f"{limited.url}/health").status_code == 200


def test_runaway_select_stream_is_cut_off(limited: RunningApi) -> None:
    wait_for_free_slots(limited)
    started = time.monotonic()
    received = 0
    complete = False
    with pytest.raises(httpx.HTTPError):
        with httpx.stream("GET", f"{limited.url}/sparql", params={"query": RUNAWAY_SELECT},
                          timeout=60) as response:
            assert response.status_code == 200  # streaming had begun
            for chunk in response.iter_bytes():
                received += len(chunk)
            complete = True
    assert not complete
    assert received <= 2_000_000 + 512 * 1024
    assert time.monotonic() - started < 30
    assert ask(limited.url).status_code == 200


def test_large_result_streams_completely(limited: RunningApi) -> None:
    wait_for_free_slots(limited)
    query = f"SELECT * WHERE {{ GRAPH <{BULK}> {{ ?a ?b ?c . ?d ?e ?f }} }} LIMIT 6000"
    with httpx.stream("GET", f"{limited.url}/sparql", params={"query": query}, timeout=60) as r:
        body = r.read()
        assert r.headers.get("transfer-encoding") == "chunked"
    assert len(body) > 300_000
    assert len(json.loads(body)["results"]["bindings"]) == 6000
