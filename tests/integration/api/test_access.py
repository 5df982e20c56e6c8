"""Tokens, scopes and per-dataset isolation: GRAPH, FROM, FROM NAMED, SERVICE and the protocol
dataset parameters must never show a restricted reader a graph outside its grants."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.servers import RunningApi

from .conftest import SECRET_B, SITE_A, SITE_B

pytestmark = pytest.mark.integration
B_GRAPH = f"{SITE_B}fhir/p2"
A_GRAPH = f"{SITE_A}fhir/p1"


def run(server: RunningApi, who: str | None, query: str, **params: object) -> httpx.Response:
    headers = server.headers(who) if who else {}
    return httpx.post(f"{server.url}/sparql", data={"query": query, **params}, headers=headers,
                      timeout=30)


ESCAPES = [
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
    f"SELECT * WHERE {{ GRAPH <{B_GRAPH}> {{ ?s ?p ?o }} }}",
    f"SELECT * FROM <{B_GRAPH}> WHERE {{ ?s ?p ?o }}",
    f"SELECT * FROM NAMED <{B_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    f"PREFIX b: <{SITE_B}> SELECT * FROM b:fhir\\/p2 WHERE {{ ?s ?p ?o }}",
    f"SELECT * WHERE {{ {{ SELECT * WHERE {{ GRAPH <{B_GRAPH}> {{ ?s ?p ?o }} }} }} }}",
    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{B_GRAPH}> {{ ?s ?p ?o }} }}",
    f"DESCRIBE <http://example.org/b/p2>",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { GRAPH ?g { ?x ?y ?z } } }",
]


@pytest.mark.parametrize("query", ESCAPES)
def test_restricted_reader_never_sees_other_datasets(api_server: RunningApi, query: str) -> None:
    r = run(api_server, "site-a", query)
    assert r.status_code == 200, r.text
    assert SECRET_B not in r.text and "example.org/b/" not in r.text


def test_restricted_reader_sees_its_own_dataset(api_server: RunningApi) -> None:
    r = run(api_server, "site-a", "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    values = {b["o"]["value"] for b in r.json()["results"]["bindings"]}
    assert "visible-of-site-a" in values


def test_protocol_graph_parameters_cannot_widen(api_server: RunningApi) -> None:
    for params in ({"default-graph-uri": B_GRAPH}, {"named-graph-uri": B_GRAPH}):
        r = run(api_server, "site-a", "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", **params)
        assert r.status_code == 200 and SECRET_B not in r.text


def test_ask_does_not_leak_existence(api_server: RunningApi) -> None:
    r = run(api_server, "site-a", f'ASK {{ ?s ?p "{SECRET_B}" }}')
    assert r.json()["boolean"] is False
    r = run(api_server, "reader", f'ASK {{ ?s ?p "{SECRET_B}" }}')
    assert r.json()["boolean"] is True


def test_service_is_refused(api_server: RunningApi) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{api_server.url}/sparql> {{ ?s ?p ?o }} }}"
    for who in ("site-a", "reader", "admin"):
        r = run(api_server, who, query)
        assert r.status_code == 403 and r.json()["code"] == "access.service"


def test_service_inside_strings_and_iris_is_not_a_service_clause(api_server: RunningApi) -> None:
    r = run(api_server, "site-a", 'SELECT ?x WHERE { BIND("SERVICE <http://x>" AS ?x) } # SERVICE')
    assert r.status_code == 200


def test_curated_queries_respect_grants(api_server: RunningApi) -> None:
    r = httpx.get(f"{api_server.url}/queries/list-types/results",
                  headers=api_server.headers("site-a"))
    assert r.status_code == 200
    counts = {b["type"]["value"]: int(b["instances"]["value"]) for b in r.json()["results"]["bindings"]}
    assert counts.get("https://w3id.org/theragraph/ontology#Patient") == 1


def test_no_token_is_401_with_challenge(api_server: RunningApi) -> None:
    r = run(api_server, None, "ASK {}")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] == "access.no-token"


def test_bad_and_revoked_tokens_are_401(api_server: RunningApi) -> None:
    forged = api_server.tokens["reader"][:-4] + "AAAA"
    r = httpx.post(f"{api_server.url}/sparql", data={"query": "ASK {}"},
                   headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["code"] == "access.invalid-token"
    tokens = api_server.service.tokens
    temporary = tokens.add("temporary", scopes="read")
    ok = httpx.post(f"{api_server.url}/sparql", data={"query": "ASK {}"},
                    headers={"Authorization": f"Bearer {temporary}"})
    assert ok.status_code == 200
    tokens.revoke("temporary")
    r = httpx.post(f"{api_server.url}/sparql", data={"query": "ASK {}"},
                   headers={"Authorization": f"Bearer {temporary}"})
    assert r.status_code == 401


def test_scopes_are_enforced(api_server: RunningApi) -> None:
    r = run(api_server, "ingest", "ASK {}")
    assert r.status_code == 403 and r.json()["code"] == "access.scope"
    r = httpx.post(f"{api_server.url}/update", data={"update": "CLEAR ALL"},
                   headers=api_server.headers("reader"))
    assert r.status_code == 403
    r = httpx.get(f"{api_server.url}/graphs", params={"graph": A_GRAPH},
                  headers=api_server.headers("site-a"))
    assert r.status_code == 403
    assert run(api_server, "admin", "ASK { GRAPH ?g { ?s ?p ?o } }").json()["boolean"] is True


def test_tokens_are_hashed_at_rest(api_server: RunningApi) -> None:
    text = api_server.service.tokens.path.read_text()
    for token in api_server.tokens.values():
        assert token not in text and token.split("_", 2)[2] not in text
    assert all("digest" in r for r in json.loads(text)["tokens"])


def test_access_log_has_principal_and_no_results_or_token(api_server: RunningApi) -> None:
    run(api_server, "site-a", "SELECT * WHERE { ?s ?p ?o }")
    lines = [json.loads(line) for line in api_server.access_log.read_text().splitlines()]
    entry = [e for e in lines if e["principal"] == "site-a" and e["route"] == "/sparql"][-1]
    assert entry["status"] == 200 and entry["bytes"] > 0 and entry["duration_ms"] >= 0
    assert set(entry) >= {"time", "principal", "route", "status", "duration_ms", "bytes"}
    text = api_server.access_log.read_text()
    assert "visible-of-site-a" not in text
    assert all(token.split("_", 2)[2] not in text for token in api_server.tokens.values())
