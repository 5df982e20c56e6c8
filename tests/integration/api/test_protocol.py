"""The W3C SPARQL 1.1 Protocol test suite (w3c/rdf-tests sparql/sparql11/protocol/manifest.ttl),
one test per case, against a real server. Queries go to /sparql, updates to /update (the
service's update endpoint); the data are the suite's kasei.us graphs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from api.settings import ApiSettings
from theragraph.auth import TokenFile
from tests.support.servers import RunningApi, start_api

from .conftest import KASEI, load_test_data

pytestmark = pytest.mark.integration

D = {n: f"{KASEI}data{n}.rdf" for n in range(4)}
FORM = "application/x-www-form-urlencoded"
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
RESULT_TYPES = BOOLEAN_TYPES + ("text/csv", "text/tab-separated-values")
RDF_TYPES = (
    "text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json",
    "application/n-quads",
)
UPDATE_PREFIX = """PREFIX dc: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
DROP ALL ;
INSERT DATA {
    GRAPH <%(d1)s> { <%(d1)s> a foaf:Document }
    GRAPH <%(d2)s> { <%(d2)s> a foaf:Document }
    GRAPH <%(d3)s> { <%(d3)s> a foaf:Document }
} ;
""" % {"d1": D[1], "d2": D[2], "d3": D[3]}


@pytest.fixture(scope="module")
def proto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """A server of its own: the update cases DROP ALL."""
    base = tmp_path_factory.mktemp("protocol")
    running = start_api(ApiSettings(store=str(base / "store"), query_timeout_s=20))
    tokens = TokenFile(base / "store" / "theragraph-tokens.json")
    running.tokens = {"admin": tokens.add("admin", scopes="admin")}
    yield running
    running.stop()


@pytest.fixture
def client(proto: RunningApi) -> Iterator[httpx.Client]:
    load_test_data(proto.service.store)
    with httpx.Client(base_url=proto.url, headers=proto.headers("admin"), timeout=30) as c:
        yield c


def media(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def boolean(response: httpx.Response) -> bool:
    assert response.status_code == 200, response.text
    kind = media(response)
    assert kind in BOOLEAN_TYPES
    if kind == "application/sparql-results+json":
        return json.loads(response.text)["boolean"]
    return "<boolean>true</boolean>" in response.text


def ask_both(d_a: str, d_b: str) -> str:
    return f"ASK {{ <{d_a}> a ?type . <{d_b}> a ?type . }}"


def test_query_post_form(client: httpx.Client) -> None:
    r = client.post(f"/sparql?default-graph-uri={quote(D[0], safe='')}",
                    content="query=ASK%20%7B%7D", headers={"content-type": FORM})
    assert boolean(r) is True


def test_query_dataset_default_graphs_get(client: httpx.Client) -> None:
    r = client.get("/sparql", params=[("query", ask_both(D[1], D[2])),
                                      ("default-graph-uri", D[1]), ("default-graph-uri", D[2])])
    assert boolean(r) is True


def test_query_dataset_default_graphs_post(client: httpx.Client) -> None:
    r = client.post("/sparql", params=[("default-graph-uri", D[1]), ("default-graph-uri", D[2])],
                    content=ask_both(D[1], D[2]),
                    headers={"content-type": "application/sparql-query"})
    assert boolean(r) is True


def test_default_graph_uri_restricts_the_default_graph(client: httpx.Client) -> None:
    r = client.get("/sparql", params=[("query", ask_both(D[1], D[2])),
                                      ("default-graph-uri", D[1])])
    assert boolean(r) is False


NAMED_ASK = (f"ASK {{ GRAPH ?g1 {{ <{D[1]}> a ?type }} GRAPH ?g2 {{ <{D[2]}> a ?type }} }}")


def test_query_dataset_named_graphs_post(client: httpx.Client) -> None:
    r = client.post("/sparql", params=[("named-graph-uri", D[1]), ("named-graph-uri", D[2])],
                    content=NAMED_ASK, headers={"content-type": "application/sparql-query"})
    assert boolean(r) is True


def test_query_dataset_named_graphs_get(client: httpx.Client) -> None:
    r = client.get("/sparql", params=[("query", NAMED_ASK), ("named-graph-uri", D[1]),
                                      ("named-graph-uri", D[2])])
    assert boolean(r) is True


def test_query_dataset_full(client: httpx.Client) -> None:
    query = (f"ASK {{ <{D[3]}> a ?type GRAPH ?g1 {{ <{D[1]}> a ?type }} "
             f"GRAPH ?g2 {{ <{D[2]}> a ?type }} }}")
    r = client.post("/sparql", params=[("default-graph-uri", D[3]), ("named-graph-uri", D[1]),
                                       ("named-graph-uri", D[2])],
                    content=query, headers={"content-type": "application/sparql-query"})
    assert boolean(r) is True


def test_query_multiple_dataset(client: httpx.Client) -> None:
    # The protocol dataset replaces the query's FROM (Protocol §2.1.4).
    query = f"ASK FROM <{D[3]}> {{ <{D[1]}> a ?type }}"
    r = client.post("/sparql", params=[("default-graph-uri", D[1])], content=query,
                    headers={"content-type": "application/sparql-query"})
    assert boolean(r) is True


def test_query_from_clause_is_honoured(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": f"ASK FROM <{D[3]}> {{ <{D[1]}> a ?type }}"})
    assert boolean(r) is False
    r = client.get("/sparql", params={"query": f"ASK FROM <{D[1]}> {{ <{D[1]}> a ?type }}"})
    assert boolean(r) is True


def test_query_get(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s a ?type }"})
    assert r.status_code == 200 and media(r) in RESULT_TYPES
    assert len(r.json()["results"]["bindings"]) == 6  # 4 kasei documents, 2 patients


def test_query_content_type_select(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "SELECT (1 AS ?value) {}"})
    assert r.status_code == 200 and media(r) in RESULT_TYPES


def test_query_content_type_ask(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "ASK {}"})
    assert media(r) in BOOLEAN_TYPES and boolean(r) is True


def test_query_content_type_describe(client: httpx.Client) -> None:
    r = client.post("/sparql", content=f"DESCRIBE <{D[1]}>",
                    headers={"content-type": "application/sparql-query"})
    assert r.status_code == 200 and media(r) == "text/turtle"
    assert D[1] in r.text


def test_query_content_type_construct(client: httpx.Client) -> None:
    r = client.post("/sparql", content="CONSTRUCT { <s> <p> 1 } WHERE {}",
                    headers={"content-type": "application/sparql-query"})
    assert r.status_code == 200 and media(r) in RDF_TYPES
    assert media(r) == "text/turtle"


def _update(client: httpx.Client, text: str, params: list[tuple[str, str]]) -> None:
    r = client.post("/update", params=params, content=text,
                    headers={"content-type": "application/sparql-update"})
    assert r.status_code in (200, 204), r.text


def _ask(client: httpx.Client, query: str) -> bool:
    return boolean(client.post("/sparql", content=query,
                               headers={"content-type": "application/sparql-query"}))


def _bib_ask(graph: str) -> str:
    return f"""ASK {{
    GRAPH <{graph}> {{
        <{D[1]}> a <http://purl.org/dc/terms/BibliographicResource> .
        <{D[2]}> a <http://purl.org/dc/terms/BibliographicResource> .
    }}
    FILTER NOT EXISTS {{
        GRAPH <{graph}> {{ <{D[3]}> a <http://purl.org/dc/terms/BibliographicResource> . }}
    }}
}}"""


def test_update_dataset_default_graph(client: httpx.Client) -> None:
    graph = "http://example.org/protocol-update-dataset-test/"
    text = UPDATE_PREFIX + (
        f"INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }} "
        "WHERE { ?s a foaf:Document }"
    )
    _update(client, text, [("using-graph-uri", D[1])])
    query = (f"ASK {{ GRAPH <{graph}> {{ <{D[1]}> a <http://purl.org/dc/terms/BibliographicResource> }}"
             f" FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{D[2]}> ?p ?o }} }} }}")
    assert _ask(client, query) is True


def test_update_dataset_default_graphs(client: httpx.Client) -> None:
    graph = "http://example.org/protocol-update-dataset-graphs-test/"
    text = UPDATE_PREFIX + (
        f"INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }} "
        "WHERE { ?s a foaf:Document }"
    )
    _update(client, text, [("using-graph-uri", D[1]), ("using-graph-uri", D[2])])
    assert _ask(client, _bib_ask(graph)) is True


def test_update_dataset_named_graphs(client: httpx.Client) -> None:
    graph = "http://example.org/protocol-update-dataset-named-graphs-test/"
    text = UPDATE_PREFIX + (
        f"INSERT {{ GRAPH <{graph}> {{ ?s a dc:BibliographicResource }} }} "
        "WHERE { GRAPH ?g { ?s a foaf:Document } }"
    )
    _update(client, text, [("using-named-graph-uri", D[1]), ("using-named-graph-uri", D[2])])
    assert _ask(client, _bib_ask(graph)) is True


def test_update_dataset_full(client: httpx.Client) -> None:
    graph = "http://example.org/protocol-update-dataset-full-test/"
    text = UPDATE_PREFIX + f"""INSERT {{ GRAPH <{graph}> {{ ?s <http://example.org/in> ?in }} }}
WHERE {{
    {{ GRAPH ?g {{ ?s a foaf:Document }} BIND(?g AS ?in) }}
    UNION
    {{ ?s a foaf:Document . BIND("default" AS ?in) }}
}}"""
    _update(client, text, [("using-graph-uri", D[1]), ("using-named-graph-uri", D[2])])
    query = f"""ASK {{
    GRAPH <{graph}> {{
        <{D[1]}> <http://example.org/in> "default" .
        <{D[2]}> <http://example.org/in> <{D[2]}> .
    }}
    FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{D[3]}> ?p ?o }} }}
}}"""
    assert _ask(client, query) is True


def test_update_post_form(client: httpx.Client) -> None:
    r = client.post("/update", content="update=CLEAR+ALL", headers={"content-type": FORM})
    assert r.status_code in (200, 204)
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is False


def test_update_post_direct(client: httpx.Client) -> None:
    r = client.post("/update", content="CLEAR ALL",
                    headers={"content-type": "application/sparql-update"})
    assert r.status_code in (200, 204)
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is False


def test_update_base_uri(client: httpx.Client, proto: RunningApi) -> None:
    text = """CLEAR ALL ;
INSERT DATA { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> <http://example.org/p> <test> } }"""
    _update(client, text, [])
    r = client.get("/sparql", params={"query": "SELECT ?o WHERE { GRAPH <http://example.org/protocol-base-test/> { ?s ?p ?o } }"})
    value = r.json()["results"]["bindings"][0]["o"]["value"]
    assert value.startswith("http") and value.endswith("/test")


def test_query_post_direct(client: httpx.Client) -> None:
    r = client.post("/sparql", content="ASK {}", headers={"content-type": "application/sparql-query"})
    assert boolean(r) is True


def test_bad_query_method(client: httpx.Client) -> None:
    r = client.put(f"/sparql?query=ASK%20%7B%7D&default-graph-uri={quote(D[0], safe='')}",
                   headers={"content-type": FORM})
    assert 400 <= r.status_code < 500


def test_bad_multiple_queries(client: httpx.Client) -> None:
    r = client.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert 400 <= r.status_code < 500


def test_bad_query_wrong_media_type(client: httpx.Client) -> None:
    r = client.post("/sparql", content="ASK {}", headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500


def test_bad_query_missing_form_type(proto: RunningApi) -> None:
    # httpx always adds a Content-Type for content=; send the raw bytes without one.
    with httpx.Client(base_url=proto.url, headers=proto.headers("admin")) as c:
        request = c.build_request("POST", "/sparql", content=b"query=ASK%20%7B%7D")
        request.headers.pop("content-type", None)
        r = c.send(request)
    assert 400 <= r.status_code < 500


def test_bad_query_missing_direct_type(proto: RunningApi) -> None:
    with httpx.Client(base_url=proto.url, headers=proto.headers("admin")) as c:
        request = c.build_request("POST", "/sparql", content=b"ASK {}")
        request.headers.pop("content-type", None)
        r = c.send(request)
    assert 400 <= r.status_code < 500


def test_bad_query_non_utf8(client: httpx.Client) -> None:
    r = client.post("/sparql", content="ASK {}".encode("utf-16"),
                    headers={"content-type": "application/sparql-query; charset=UTF-16"})
    assert 400 <= r.status_code < 500


def test_bad_query_non_utf8_bytes_without_charset(client: httpx.Client) -> None:
    r = client.post("/sparql", content="ASK {}".encode("utf-16"),
                    headers={"content-type": "application/sparql-query"})
    assert 400 <= r.status_code < 500


def test_bad_query_syntax(client: httpx.Client) -> None:
    r = client.get("/sparql?query=ASK%20%7B")
    assert r.status_code == 400
    assert r.json()["code"] == "query.syntax"
    assert "1:" in r.json()["detail"]  # the parser's position


def test_bad_update_get(client: httpx.Client) -> None:
    assert 400 <= client.get("/sparql?update=CLEAR%20ALL").status_code < 500
    assert 400 <= client.get("/update?update=CLEAR%20ALL").status_code < 500
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is True


def test_bad_query_and_update_together(client: httpx.Client) -> None:
    body = "query=ASK%20%7B%7D&update=CLEAR%20ALL"
    assert 400 <= client.post("/sparql", content=body, headers={"content-type": FORM}).status_code < 500
    assert 400 <= client.post("/update", content=body, headers={"content-type": FORM}).status_code < 500
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is True


def test_update_on_query_endpoint_is_refused(client: httpx.Client) -> None:
    body = "update=CLEAR%20ALL"
    assert 400 <= client.post("/sparql", content=body, headers={"content-type": FORM}).status_code < 500
    r = client.post("/sparql", content="CLEAR ALL", headers={"content-type": "application/sparql-query"})
    assert 400 <= r.status_code < 500
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is True


def test_bad_multiple_updates(client: httpx.Client) -> None:
    r = client.post("/update", content="update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
                    headers={"content-type": FORM})
    assert 400 <= r.status_code < 500


def test_bad_update_wrong_media_type(client: httpx.Client) -> None:
    r = client.post("/update", content="CLEAR NAMED", headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500


def test_bad_update_missing_form_type(proto: RunningApi) -> None:
    with httpx.Client(base_url=proto.url, headers=proto.headers("admin")) as c:
        request = c.build_request("POST", "/update", content=b"update=CLEAR%20NAMED")
        request.headers.pop("content-type", None)
        r = c.send(request)
    assert 400 <= r.status_code < 500


def test_bad_update_non_utf8(client: httpx.Client) -> None:
    r = client.post("/update", content="CLEAR NAMED".encode("utf-16"),
                    headers={"content-type": "application/sparql-update; charset=UTF-16"})
    assert 400 <= r.status_code < 500


def test_bad_update_syntax(client: httpx.Client) -> None:
    r = client.post("/update", content="update=INSERT%20DATA%20%7B", headers={"content-type": FORM})
    assert r.status_code == 400 and r.json()["code"] == "query.syntax"


def test_bad_update_dataset_conflict(client: httpx.Client) -> None:
    text = (f"PREFIX dc: <http://purl.org/dc/terms/> PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
            f"CLEAR ALL ; INSERT {{ GRAPH <http://example.org/protocol-update-dataset-conflict/> "
            f"{{ ?s a dc:BibliographicResource }} }} USING <{D[1]}> WHERE {{ ?s a foaf:Document }}")
    r = client.post("/update", params=[("using-named-graph-uri", D[1])], content=text,
                    headers={"content-type": "application/sparql-update"})
    assert 400 <= r.status_code < 500
    assert _ask(client, "ASK { GRAPH ?g { ?s ?p ?o } }") is True
