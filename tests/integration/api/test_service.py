"""Content negotiation, curated queries, Graph Store Protocol, health, docs, limits on input."""

from __future__ import annotations

import io

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from tests.support.servers import RunningApi

from .conftest import KASEI

pytestmark = pytest.mark.integration
SELECT = "SELECT ?s ?title WHERE { ?s <http://purl.org/dc/terms/title> ?title } ORDER BY ?s"
CONSTRUCT = "CONSTRUCT WHERE { ?s <http://purl.org/dc/terms/title> ?title }"


def get(server: RunningApi, query: str, accept: str | None = None, who: str = "reader") -> httpx.Response:
    headers = server.headers(who)
    if accept is not None:
        headers["Accept"] = accept
    return httpx.get(f"{server.url}/sparql", params={"query": query}, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/html, */*;q=0.1", "application/sparql-results+json"),
        ("application/json", "application/json"),
    ],
)
def test_select_results_are_negotiated(api_server: RunningApi, accept: str | None, expected: str) -> None:
    r = get(api_server, SELECT, accept)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    if expected == "text/csv":
        assert r.text.splitlines()[0] == "s,title" and len(r.text.splitlines()) == 5
        return
    fmt = ox.QueryResultsFormat.from_media_type(expected)
    rows = list(ox.parse_query_results(r.content, fmt))
    assert len(rows) == 4


@pytest.mark.parametrize(
    "accept",
    ["text/turtle", "application/n-triples", "application/n-quads", "application/ld+json",
     "application/rdf+xml"],
)
def test_graph_results_are_negotiated_and_isomorphic(api_server: RunningApi, accept: str) -> None:
    r = get(api_server, CONSTRUCT, accept)
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == accept
    rdflib_format = {"text/turtle": "turtle", "application/n-triples": "nt",
                     "application/n-quads": "nquads", "application/ld+json": "json-ld",
                     "application/rdf+xml": "xml"}[accept]
    got = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    expected = rdflib.Graph().parse(data=get(api_server, CONSTRUCT, "text/turtle").content, format="turtle")
    assert len(got) == 4 and isomorphic(got, expected)


def test_graph_default_is_turtle(api_server: RunningApi) -> None:
    r = get(api_server, CONSTRUCT, None)
    assert r.headers["content-type"].startswith("text/turtle")


def test_unacceptable_is_406(api_server: RunningApi) -> None:
    r = get(api_server, SELECT, "image/png")
    assert r.status_code == 406 and r.json()["code"] == "query.not-acceptable"
    r = get(api_server, CONSTRUCT, "application/sparql-results+json")
    assert r.status_code == 406


def test_large_request_body_is_413(api_server: RunningApi) -> None:
    limit = api_server.service.settings.max_request_bytes
    body = "ASK {} #" + "x" * (limit + 10)
    r = httpx.post(f"{api_server.url}/sparql", content=body,
                   headers={**api_server.headers("reader"), "content-type": "application/sparql-query"})
    assert r.status_code == 413 and r.json()["code"] == "request.too-large"


def test_curated_queries_are_listed_with_docs(api_server: RunningApi) -> None:
    r = httpx.get(f"{api_server.url}/queries", headers=api_server.headers("reader"))
    body = r.json()
    assert r.status_code == 200 and body["count"] == len(body["data"]) >= 2
    doc = {q["name"]: q for q in body["data"]}["list-types"]
    assert doc["title"] and doc["description"] and doc["form"] == "SELECT"
    assert doc["params"] == [{"name": "type", "type": "iri", "optional": True,
                              "description": "count only this class"}]
    one = httpx.get(f"{api_server.url}/queries/list-types", headers=api_server.headers("reader"))
    assert one.json()["sparql"].startswith("# title:")


def test_curated_query_parameters_are_bound_not_formatted(api_server: RunningApi) -> None:
    url = f"{api_server.url}/queries/list-types/results"
    r = httpx.get(url, params={"type": "http://xmlns.com/foaf/0.1/Document"},
                  headers=api_server.headers("reader"))
    rows = r.json()["results"]["bindings"]
    assert [(b["type"]["value"], b["instances"]["value"]) for b in rows] == [
        ("http://xmlns.com/foaf/0.1/Document", "4")]
    evil = "http://x/> } UNION { ?s ?p ?o"
    r = httpx.get(url, params={"type": evil}, headers=api_server.headers("reader"))
    assert r.status_code == 400 and r.json()["code"] == "query.bad-parameter"
    r = httpx.get(url, params={"nope": "1"}, headers=api_server.headers("reader"))
    assert r.status_code == 400
    r = httpx.get(f"{api_server.url}/queries/no-such/results", headers=api_server.headers("reader"))
    assert r.status_code == 404 and r.json()["code"] == "query.unknown"


def test_graph_store_protocol_roundtrip(api_server: RunningApi) -> None:
    url, admin = f"{api_server.url}/graphs", api_server.headers("admin")
    graph = "http://example.org/gsp/g1"
    turtle = "<http://example.org/s> <http://example.org/p> 'one' , 'two' ."
    r = httpx.put(url, params={"graph": graph}, content=turtle,
                  headers={**admin, "content-type": "text/turtle"})
    assert r.status_code == 201
    r = httpx.put(url, params={"graph": graph}, content=turtle,
                  headers={**admin, "content-type": "text/turtle"})
    assert r.status_code == 204
    r = httpx.post(url, params={"graph": graph},
                   content='<http://example.org/s> <http://example.org/p> "three" .',
                   headers={**admin, "content-type": "application/n-triples"})
    assert r.status_code == 204
    r = httpx.get(url, params={"graph": graph}, headers={**admin, "accept": "application/n-triples"})
    got = rdflib.Graph().parse(data=r.text, format="nt")
    assert r.status_code == 200 and len(got) == 3
    assert httpx.delete(url, params={"graph": graph}, headers=admin).status_code == 204
    assert httpx.get(url, params={"graph": graph}, headers=admin).status_code == 404
    assert httpx.delete(url, params={"graph": graph}, headers=admin).status_code == 404
    r = httpx.put(url, params={"graph": graph}, content="not turtle {",
                  headers={**admin, "content-type": "text/turtle"})
    assert r.status_code == 400
    r = httpx.put(url, params={"graph": graph}, content="x", headers={**admin, "content-type": "image/png"})
    assert r.status_code == 415


def test_health_version_and_openapi(api_server: RunningApi) -> None:
    assert httpx.get(f"{api_server.url}/health").json()["status"] == "ok"
    assert httpx.get(f"{api_server.url}/version").json()["sparql_endpoint"] == "/sparql"
    spec = httpx.get(f"{api_server.url}/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"sparql_query_get", "sparql_query_post", "sparql_update", "queries_list",
            "queries_get", "queries_run", "graphs_get", "graphs_put", "graphs_post",
            "graphs_delete", "health", "version"} <= ids


def test_query_page_is_served_locally(api_server: RunningApi) -> None:
    page = httpx.get(f"{api_server.url}/")
    assert page.status_code == 200 and "/static/yasgui/yasgui.min.js" in page.text
    assert "cdn" not in page.text.lower() and "unpkg" not in page.text
    js = httpx.get(f"{api_server.url}/static/yasgui/yasgui.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_kasei_data_via_dump_is_isomorphic(api_server: RunningApi) -> None:
    r = get(api_server, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{KASEI}data1.rdf> {{ ?s ?p ?o }} }}",
            "application/n-triples", who="admin")
    got = rdflib.Graph().parse(data=r.text, format="nt")
    out = io.BytesIO()
    expected = rdflib.Graph()
    for q in api_server.service.store.quads(f"{KASEI}data1.rdf"):
        out.write(f"{q.subject} {q.predicate} {q.object} .\n".encode())
    expected.parse(data=out.getvalue(), format="nt")
    assert isomorphic(got, expected)
