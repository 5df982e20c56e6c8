"""SerializedGraph: content shipped as N-Triples, parsed only when Python terms are asked for."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from theragraph.mapping.base import MappedGraph, SerializedGraph
from theragraph.store.base import GraphWrite

NT = b'<http://e/s> <http://e/p> "x" .\n<http://e/s> <http://e/q> <http://e/o> .\n'


def test_bytes_are_used_as_they_are_until_triples_are_read() -> None:
    graph = SerializedGraph(graph="http://e/g", triples=[], ntriples=NT)
    assert isinstance(graph, MappedGraph)
    assert graph.serialized() is NT
    assert [t.predicate.value for t in graph.triples] == ["http://e/p", "http://e/q"]
    assert all(isinstance(t, ox.Triple) for t in graph.triples)
    assert graph.ntriples is None  # the parsed list is the content from now on


def test_changes_after_parsing_are_kept() -> None:
    graph = SerializedGraph(graph="http://e/g", triples=[], ntriples=NT)
    graph.add(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/r"), ox.Literal("y"))
    assert len(graph.triples) == 3
    assert graph.serialized().count(b"\n") == 3


def test_graph_write_counts_and_expands_its_serialised_part() -> None:
    extra = ox.Triple(ox.NamedNode("http://e/g"), ox.NamedNode("http://e/k"), ox.Literal("z"))
    write = GraphWrite("http://e/g", [extra], ntriples=NT)
    assert write.size() == 3
    expanded = write.expanded()
    assert expanded.ntriples == b"" and len(expanded.triples) == 3
    assert all(isinstance(t, ox.Triple) for t in expanded.triples)
    assert set(expanded.triples) == {extra, *(q.triple for q in ox.parse(NT, format=ox.RdfFormat.N_TRIPLES))}


def test_owners_read_off_the_text_equal_the_parsed_ones() -> None:
    from theragraph.validate.ingest import _owners  # noqa: PLC0415

    text = (b'<http://e/s> <http://e/p> "a \\u00e9 <http://e/x> " .\n'
            b'<http://e/t%C3%A9> <http://e/q> <http://e/o> .\n')
    shipped = SerializedGraph(graph="http://e/g1", triples=[], ntriples=text)
    plain = MappedGraph(graph="http://e/g2", triples=[q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)])
    focus = {URIRef("http://e/s"), URIRef("http://e/t%C3%A9"), URIRef("http://e/x"), URIRef("http://e/o")}
    owners = _owners([shipped, plain], focus)
    # objects, and IRIs inside literals, are not described by the graph
    assert owners == {URIRef("http://e/s"): ["http://e/g1", "http://e/g2"],
                      URIRef("http://e/t%C3%A9"): ["http://e/g1", "http://e/g2"]}
    assert shipped.ntriples is not None  # nothing was parsed


def test_added_triples_are_written_as_text_that_parses_back_to_them() -> None:
    terms = [
        (ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal('quote " backslash \\ newline \n é')),
        (ox.NamedNode("http://e/s"), ox.NamedNode("http://e/q"), ox.Literal("7.4", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#double"))),
        (ox.NamedNode("http://e/s"), ox.NamedNode("http://e/r"), ox.Literal("prostate", language="en")),
        (ox.NamedNode("http://e/s"), ox.NamedNode("http://e/t"), ox.NamedNode("http://e/t%C3%A9")),
    ]
    graph = SerializedGraph(graph="http://e/g", ntriples=b"")
    for s, p, o in terms:
        graph.add(s, p, o)
    assert graph.ntriples is not None and graph.ntriples.count(b"\n") == len(terms)
    assert graph.triples == [ox.Triple(*t) for t in terms]  # parsed on demand, in order
    graph.add(*terms[0])  # after parsing: a Triple in the list
    assert len(graph.triples) == len(terms) + 1


def test_adding_something_that_is_not_a_term_fails_as_a_triple_would() -> None:
    graph = SerializedGraph(graph="http://e/g", ntriples=b"")
    with pytest.raises(TypeError):
        graph.add(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), "plain string")
    assert graph.ntriples == b""


def test_lines_added_after_the_text_was_read_are_appended_to_it() -> None:
    s, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    graph = SerializedGraph(graph="http://e/g", ntriples=b"")
    graph.add(s, p, ox.Literal("1"))
    first = graph.ntriples
    graph.add(s, p, ox.Literal("2"))
    assert graph.serialized() == first + b'<http://e/s> <http://e/p> "2" .\n'
    assert [t.object.value for t in graph.triples] == ["1", "2"]
