"""One Store contract, run against the embedded pyoxigraph store and remote endpoints
(``oxigraph serve`` and Virtuoso's ``virtuoso-t`` on 127.0.0.1) through :class:`RemoteStore`."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from api.settings import ApiSettings
from theragraph.auth import TokenFile
from theragraph.errors import QueryError, StoreError
from theragraph.store import GraphWrite, Store, open_store
from theragraph.store.remote import RemoteStore
from tests.support.servers import (
    RunningOxigraph,
    RunningVirtuoso,
    oxigraph_binary,
    start_api,
    start_oxigraph,
    start_virtuoso,
    virtuoso_binaries,
)

pytestmark = pytest.mark.integration
EX = "http://example.org/"


@pytest.fixture(scope="module")
def oxigraph_server() -> Iterator[RunningOxigraph]:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is missing (pip install oxigraph)")
    server = start_oxigraph(binary)
    yield server
    server.stop()


#: Virtuoso's ResultSetMaxRows for the test server: low, so a cut result can be provoked.
VIRTUOSO_MAX_ROWS = 5000


@pytest.fixture(scope="module")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVirtuoso]:
    binaries = virtuoso_binaries()
    if binaries is None:
        pytest.skip("virtuoso-t/isql-vt are missing (apt-get install virtuoso-opensource; "
                    "`make virtuoso` tries it)")
    server = start_virtuoso(binaries, tmp_path_factory.mktemp("virtuoso"),
                            max_rows=VIRTUOSO_MAX_ROWS)
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # noqa: ANN001
    if request.param == "embedded":
        st = open_store(tmp_path / "store")
    elif request.param == "remote":
        server = request.getfixturevalue("oxigraph_server")
        st = open_store(f"sparql+{server.url}/query")
        st.update("DROP SILENT ALL")
    else:
        virtuoso = request.getfixturevalue("virtuoso_server")
        st = open_store(virtuoso.location)
        st.delete_graphs(st.named_graphs())  # never DROP ALL: that drops its system graphs
    yield st
    st.close()


def backend(request: pytest.FixtureRequest) -> str:
    return request.node.callspec.params["store"]


def triples(n: int, tag: str = "a") -> list[ox.Triple]:
    return [ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(f"{EX}p"), ox.Literal(f"{tag}{i}"))
            for i in range(n)]


def test_replace_graphs_is_idempotent(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(3))])
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(3))])
    assert store.count_quads() == 3
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(2, "b"))])
    assert sorted(q.object.value for q in store.quads(f"{EX}g1")) == ["b0", "b1"]


def test_replace_leaves_other_graphs(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(3)), GraphWrite(f"{EX}g2", triples(4))])
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(1))])
    assert store.count_quads() == 5
    assert set(store.named_graphs()) == {f"{EX}g1", f"{EX}g2"}
    assert store.graph_exists(f"{EX}g2") and not store.graph_exists(f"{EX}g9")


def test_failed_write_changes_nothing(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(2))])
    with pytest.raises((QueryError, StoreError)):
        store.update(f"DROP GRAPH <{EX}g1> ; INSERT DATA {{ this is not sparql }}")
    assert store.count_quads() == 2


def test_union_default_graph_and_restrictions(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(2)), GraphWrite(f"{EX}g2", triples(1, "z"))])
    assert len(list(store.query("SELECT ?o WHERE { ?s ?p ?o }"))) == 3
    only = list(store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[f"{EX}g2"]))
    assert [r["o"].value for r in only] == ["z0"]
    none = list(store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[], named_graphs=[]))
    assert none == []
    named = list(store.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                             default_graph=[], named_graphs=[f"{EX}g1"]))
    assert {r["g"].value for r in named} == {f"{EX}g1"}


def test_substitutions_bind_variables(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(3))])
    # pyoxigraph substitutes only variables of the projection (SEP-0007 as implemented).
    rows = list(store.query("SELECT ?s ?o WHERE { ?s ?p ?o }",
                            substitutions={"s": ox.NamedNode(f"{EX}s1")}))
    assert [r["o"].value for r in rows] == ["a1"]


def test_result_kinds(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(2))])
    assert isinstance(store.query("ASK { ?s ?p ?o }"), ox.QueryBoolean)
    graph = store.query("CONSTRUCT WHERE { ?s ?p ?o }")
    assert isinstance(graph, ox.QueryTriples) and len(list(graph)) == 2
    assert isinstance(store.query("SELECT * WHERE { ?s ?p ?o }"), ox.QuerySolutions)


def test_syntax_error_is_query_error(store: Store) -> None:
    with pytest.raises(QueryError) as info:
        store.query("SELEC ?x WHERE {}")
    assert info.value.code == "query.syntax"


def test_literals_with_quotes_and_newlines_survive(store: Store) -> None:
    tricky = ox.Literal('a "quoted"\nline\\ and } \u00e9')
    store.replace_graphs([GraphWrite(f"{EX}g", [ox.Triple(ox.NamedNode(f"{EX}s"), ox.NamedNode(f"{EX}p"), tricky)])])
    assert next(iter(store.quads(f"{EX}g"))).object == tricky


def test_delete_graphs_and_dump(store: Store) -> None:
    store.replace_graphs([GraphWrite(f"{EX}g1", triples(2)), GraphWrite(f"{EX}g2", triples(2))])
    store.delete_graphs([f"{EX}g1", f"{EX}missing"])
    out = io.BytesIO()
    store.dump(out, format="nq")
    dumped = list(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))
    assert len(dumped) == 2 and {q.graph_name.value for q in dumped} == {f"{EX}g2"}


def test_remote_location_defaults() -> None:
    store = RemoteStore.from_location("sparql+http://db:7878/query")
    assert (store.update_url, store.store_url) == ("http://db:7878/update", "http://db:7878/store")
    store = RemoteStore.from_location("sparql+https://db/sparql?update=/sparql-auth")
    assert (store.query_url, store.update_url, store.store_url) == (
        "https://db/sparql", "https://db/sparql-auth", None)
    with pytest.raises(StoreError):
        RemoteStore.from_location("sparql+http:///nohost")


def test_unreachable_endpoint_is_store_error() -> None:
    from tests.support.servers import free_port  # noqa: PLC0415

    store = open_store(f"sparql+http://127.0.0.1:{free_port()}/query")
    with pytest.raises(StoreError) as info:
        store.query("ASK {}")
    assert info.value.code == "store.unavailable"


def test_api_over_remote_store_keeps_isolation(oxigraph_server: RunningOxigraph, tmp_path) -> None:  # noqa: ANN001
    remote = open_store(f"sparql+{oxigraph_server.url}/query")
    remote.update("DROP SILENT ALL")
    remote.replace_graphs([GraphWrite(f"{EX}site-a/1", triples(1, "visible")),
                           GraphWrite(f"{EX}site-b/1", triples(1, "hidden"))])
    token_file = tmp_path / "tokens.json"
    token = TokenFile(token_file).add("a", scopes="read", datasets=[f"{EX}site-a/"])
    running = start_api(ApiSettings(store=f"sparql+{oxigraph_server.url}/query", token_file=token_file))
    try:
        for query in ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                      f"SELECT * FROM <{EX}site-b/1> WHERE {{ ?s ?p ?o }}"):
            r = httpx.post(f"{running.url}/sparql", data={"query": query},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert r.status_code == 200 and "hidden0" not in r.text
        r = httpx.post(f"{running.url}/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert "visible0" in r.text
    finally:
        running.stop()
