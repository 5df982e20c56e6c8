import io

import pyoxigraph as ox
import pytest

from theragraph.errors import QueryError
from theragraph.store.base import GraphWrite

EX = "http://example.org/"


def _triples(n, tag="a"):
    return [ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(f"{tag}{i}")) for i in range(n)]


def test_replace_graphs_replaces_and_does_not_duplicate(disk_store):
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3))])
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3))])
    assert disk_store.count_quads() == 3
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(2, "b"))])
    values = sorted(q.object.value for q in disk_store.quads(EX + "g1"))
    assert values == ["b0", "b1"]


def test_replace_leaves_other_graphs_alone(disk_store):
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3)), GraphWrite(EX + "g2", _triples(4))])
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(1))])
    assert disk_store.count_quads() == 5
    assert set(disk_store.named_graphs()) == {EX + "g1", EX + "g2"}


def test_query_uses_union_default_graph(memory_store):
    memory_store.replace_graphs([GraphWrite(EX + "g1", _triples(2)), GraphWrite(EX + "g2", _triples(1, "z"))])
    rows = list(memory_store.query("SELECT ?o WHERE { ?s ?p ?o }"))
    assert len(rows) == 3
    only = list(memory_store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[EX + "g2"]))
    assert [r["o"].value for r in only] == ["z0"]


def test_syntax_error_is_query_error(memory_store):
    with pytest.raises(QueryError) as info:
        memory_store.query("SELEC ?x WHERE {}")
    assert info.value.code == "query.syntax"


def test_literals_with_quotes_and_newlines_survive(memory_store):
    tricky = ox.Literal('a "quoted"\nline\\ and }')
    memory_store.replace_graphs([GraphWrite(EX + "g", [ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), tricky)])])
    assert next(memory_store.quads()).object == tricky


def test_dump_nquads(memory_store):
    memory_store.replace_graphs([GraphWrite(EX + "g", _triples(2))])
    out = io.BytesIO()
    memory_store.dump(out, format="nq")
    assert out.getvalue().count(b"\n") == 2

