"""Validate files or a whole store with either engine: the entry points the CLI and tests call.

``fast`` compiles the shapes to SPARQL (:mod:`theragraph.validate.engine`); ``pyshacl`` is the
reference (:mod:`theragraph.validate.reference`). Both return a :class:`ValidationReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from rdflib import Graph
from rdflib.term import Node

from theragraph.resources import list_resources
from theragraph.store import Store
from theragraph.validate.dataset import DataGraph, class_hierarchy, load_files
from theragraph.validate.engine import validate_with
from theragraph.validate.reference import validate_pyshacl
from theragraph.validate.report import ValidationReport, ValidationResult
from theragraph.validate.shapes import load_shapes, parse_graph

Engine = Literal["fast", "pyshacl"]


def default_shapes() -> list[Path]:
    """Return every ``shapes/**/*.ttl`` file (hand-written and generated)."""
    try:
        return list_resources("shapes", ".ttl")
    except FileNotFoundError:
        return []


def default_ontology() -> list[Path]:
    """Return every ``ontology/*.ttl`` file (the class hierarchy the shapes rely on)."""
    try:
        return list_resources("ontology", ".ttl")
    except FileNotFoundError:
        return []


def validate_files(
    data: Sequence[Path | str], shapes: Sequence[Path | str], *, engine: Engine = "fast"
) -> ValidationReport:
    """Validate RDF files against SHACL shapes files.

    Args:
        data: the data graph files (Turtle, N-Triples, N-Quads, TriG, RDF/XML; by extension).
        shapes: the shapes graph files.
        engine: ``fast`` or ``pyshacl``.

    Raises:
        SyntaxError: when a data file does not parse.
        ShapesError: when a shape is malformed or uses unsupported SPARQL.
    """
    shapes_graph = parse_graph(shapes)
    if engine == "pyshacl":
        return validate_pyshacl(parse_graph(data), shapes_graph)
    data_graph, _quads = load_files(data)

    def fallback(nodes: set[Node]) -> list[ValidationResult]:
        return _delegate(parse_graph(data), shapes_graph, nodes)

    return validate_with(load_shapes(shapes_graph), data_graph, fallback=fallback)


def store_graph(store: Store) -> Graph:
    """Return the union of every named graph of ``store`` as one rdflib graph (for pyshacl)."""
    import pyoxigraph as ox
    import rdflib

    buffer = bytearray()
    for quad in store.quads():
        buffer += f"{quad.subject} {quad.predicate} {quad.object} .\n".encode()
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        graph = Graph().parse(data=bytes(buffer), format="nt")
    finally:
        rdflib.NORMALIZE_LITERALS = previous
    del ox
    return graph


def validate_store(
    store: Store,
    *,
    shapes: Sequence[Path | str] | None = None,
    ontology: Sequence[Path | str] | None = None,
    engine: Engine = "fast",
) -> ValidationReport:
    """Validate the union of every named graph in ``store``.

    Args:
        store: the Theragraph store.
        shapes: shapes files (default: every ``shapes/**/*.ttl``).
        ontology: ontology files whose class hierarchy counts as data (default: ``ontology/``).
        engine: ``fast`` or ``pyshacl``.

    Raises:
        ShapesError: when a shape is malformed or uses unsupported SPARQL.
    """
    shapes_paths = list(shapes) if shapes is not None else default_shapes()
    onto_paths = list(ontology) if ontology is not None else default_ontology()
    shapes_graph = parse_graph(shapes_paths)
    onto = parse_graph(onto_paths)
    if engine == "pyshacl":
        return validate_pyshacl(store_graph(store) + onto, shapes_graph)
    data = DataGraph(store, union_default_graph=True, hierarchy=class_hierarchy(onto))

    def fallback(nodes: set[Node]) -> list[ValidationResult]:
        return _delegate(store_graph(store) + onto, shapes_graph, nodes)

    return validate_with(load_shapes(shapes_graph), data, fallback=fallback)


def _delegate(data: Graph, shapes: Graph, nodes: set[Node]) -> list[ValidationResult]:
    from theragraph.validate.reference import validate_shapes_pyshacl

    return validate_shapes_pyshacl(data, shapes, nodes)
