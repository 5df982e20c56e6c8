"""The lean ``/sparql`` path (api.fastpath) behaves like the FastAPI routes it stands in for."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from api.fastpath import bearer_token
from tests.support.servers import RunningApi

pytestmark = pytest.mark.integration
ASK = "ASK { ?s ?p ?o }"


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("Basic abc", None), ("Bearer ", None), ("bearer  tg_x ", "tg_x"),
     ("Bearer tg_1_abc", "tg_1_abc")],
)
def test_bearer_token_parsing_matches_httpbearer(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


def test_other_auth_scheme_is_401_with_challenge(api_server: RunningApi) -> None:
    r = httpx.get(f"{api_server.url}/sparql", params={"query": ASK},
                  headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401 and r.json()["code"] == "access.no-token"
    assert r.headers["www-authenticate"] == "Bearer"


def test_ingest_scope_cannot_query(api_server: RunningApi) -> None:
    r = httpx.get(f"{api_server.url}/sparql", params={"query": ASK},
                  headers=api_server.headers("ingest"))
    assert r.status_code == 403 and r.json()["code"] == "access.scope"


def test_other_methods_still_reach_fastapi(api_server: RunningApi) -> None:
    r = httpx.put(f"{api_server.url}/sparql", headers=api_server.headers("reader"))
    assert r.status_code == 405 and r.json()["code"] == "request.method"


def test_slash_form_is_served_and_logged(api_server: RunningApi) -> None:
    r = httpx.get(f"{api_server.url}/sparql/", params={"query": ASK},
                  headers=api_server.headers("reader"))
    assert r.status_code == 200 and r.json()["boolean"] is True
    deadline = time.monotonic() + 5  # the line is written just after the last byte is sent
    while True:
        lines = [json.loads(line) for line in api_server.access_log.read_text().splitlines()]
        found = any(e["route"] == "/sparql/" and e["principal"] == "reader" for e in lines)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found


def test_sparql_routes_stay_in_the_openapi_schema(api_server: RunningApi) -> None:
    paths = httpx.get(f"{api_server.url}/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/sparql"])


def test_repeated_query_text_gives_the_same_answer(api_server: RunningApi) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    bodies = [
        httpx.post(f"{api_server.url}/sparql", data={"query": query},
                   headers=api_server.headers(who)).json()["results"]["bindings"][0]["n"]["value"]
        for who in ("reader", "site-a", "reader", "site-a")
    ]
    assert bodies[0] == bodies[2] and bodies[1] == bodies[3] and bodies[0] != bodies[1]


def _count(api_server: RunningApi, who: str, query: str) -> int:
    r = httpx.get(f"{api_server.url}/sparql", params={"query": query},
                  headers=api_server.headers(who))
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("who", ["reader", "site-a"])
def test_a_repeated_query_sees_every_write(api_server: RunningApi, who: str) -> None:
    # The same text again and again runs inline once known to be fast, and a restricted
    # reader's visible graphs are memoised: both must see writes at once.
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/fastpath#p> ?o }"
    graph = f"https://w3id.org/theragraph/graph/site-a/fastpath-{who}"
    before = [_count(api_server, who, query) for _ in range(5)]
    url, admin = f"{api_server.url}/graphs", api_server.headers("admin")
    r = httpx.put(url, params={"graph": graph}, headers={**admin, "content-type": "text/turtle"},
                  content="<http://example.org/s> <http://example.org/fastpath#p> 'one' , 'two' .")
    assert r.status_code == 201
    after = [_count(api_server, who, query) for _ in range(5)]
    r = httpx.post(f"{api_server.url}/update", headers=admin,
                   data={"update": f"DROP GRAPH <{graph}>"})
    assert r.status_code == 204
    dropped = _count(api_server, who, query)
    assert set(before) == {0} and set(after) == {2} and dropped == 0
