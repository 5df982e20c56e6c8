"""The per-graph validator the ingest pipeline calls before each write.

One named graph (one source record) is validated with the shapes in ``shapes/`` in a small
in-memory store holding the graph plus its neighbourhood from the store: every triple, from other
named graphs, whose subject the graph references (the patient node, a referenced series...), so
``sh:class`` and cross-source shapes see what they need. Only results about nodes described in the
graph itself are reported: a neighbour's own problems belong to the neighbour's graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib.term import Node

from theragraph.mapping.base import MappedGraph
from theragraph.report import Issue
from theragraph.store import Store
from theragraph.validate.dataset import DataGraph, class_hierarchy
from theragraph.validate.engine import FastEngine
from theragraph.validate.report import SEVERITY_NAMES, ValidationResult
from theragraph.validate.run import default_ontology, default_shapes
from theragraph.validate.shapes import ShapesGraph, load_shapes, parse_graph
from theragraph.validate.terms import from_ox

log = logging.getLogger(__name__)

_CHUNK = 500


class IngestValidator:
    """Validates one mapped graph against the shapes, with the neighbouring facts it needs."""

    def __init__(self, shapes: Sequence[Path | str], ontology: Sequence[Path | str] = ()) -> None:
        """Parse the shapes and the ontology's class hierarchy once.

        Raises:
            ShapesError: when a shape is malformed.
        """
        self.shapes_graph = parse_graph(shapes)
        self.shapes: ShapesGraph = load_shapes(self.shapes_graph)
        self.hierarchy = class_hierarchy(parse_graph(ontology)) if ontology else {}
        #: graph IRI -> times validated in this run: a second source naming the same record
        self._seen: dict[str, int] = {}

    def neighbourhood(self, graph: MappedGraph, store: Store) -> list[ox.Triple]:
        """Return the triples of other named graphs about the IRIs ``graph`` references."""
        subjects = {t.subject for t in graph.triples}
        referenced = sorted(
            {
                t.object
                for t in graph.triples
                if isinstance(t.object, ox.NamedNode)
                and t.object not in subjects
                and t.predicate.value != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
            },
            key=str,
        )
        out: list[ox.Triple] = []
        this = ox.NamedNode(graph.graph)
        for i in range(0, len(referenced), _CHUNK):
            values = " ".join(str(n) for n in referenced[i : i + _CHUNK])
            rows = store.query(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"FILTER(?g != {this}) }}",
                union_default_graph=False,
            )
            out.extend(ox.Triple(r["s"], r["p"], r["o"]) for r in rows)
        return out

    def validate_graph(self, graph: MappedGraph, store: Store) -> list[Issue]:
        """Return one issue per SHACL result about a node described in ``graph``.

        Violations are ``error`` issues (they reject or quarantine the graph), warnings and infos
        keep their severity. Codes are ``shacl.<component>`` (see ``report.COMPONENT_CODES``).
        """
        duplicate: list[Issue] = []
        self._seen[graph.graph] = self._seen.get(graph.graph, 0) + 1
        if self._seen[graph.graph] > 1:
            duplicate.append(Issue(
                code="link.duplicate-source", severity="warning",
                message=f"{graph.graph} comes from more than one source file in this batch (the "
                "same resource exported twice?); the last one read wins: remove the duplicate",
                location=graph.graph))
        scratch = ox.Store()
        scratch.extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph.triples)
        scratch.extend(
            ox.Quad(t.subject, t.predicate, t.object) for t in self.neighbourhood(graph, store)
        )
        data = DataGraph(scratch, hierarchy=self.hierarchy)

        def fallback(nodes: set[Node]) -> list[ValidationResult]:
            from theragraph.validate.reference import validate_shapes_pyshacl
            from theragraph.validate.run import store_graph

            return validate_shapes_pyshacl(store_graph(_Quads(scratch)), self.shapes_graph, nodes)

        # one small graph: threads would cost more than the queries they overlap
        report = FastEngine(self.shapes, data, fallback=fallback, workers=1).validate()
        own = {from_ox(t.subject) for t in graph.triples}
        return duplicate + [to_issue(r) for r in report.results if r.focus in own]


class _Quads:
    """Adapter: the scratch store's quads for :func:`theragraph.validate.run.store_graph`."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def quads(self) -> Any:
        return iter(self._store)


def to_issue(result: ValidationResult) -> Issue:
    """Turn a SHACL result into an ingest issue with a stable code and a fix-it message."""
    severity = SEVERITY_NAMES.get(result.severity, "error")
    what = (
        str(result.messages[0])
        if result.messages
        else (f"violates {result.component.split('#')[-1].removesuffix('ConstraintComponent')}")
    )
    value = f" (value {result.value.n3()})" if result.value is not None else ""
    path = result.path.n3() if result.path is not None and hasattr(result.path, "n3") else None
    message = (
        f"{result.focus.n3()}{' ' + path if path else ''}: {what}{value}; "
        f"shape {result.source_shape.n3()} — fix the source record or its mapping"
    )
    return Issue(
        code=result.code,
        severity=severity,  # type: ignore[arg-type]
        message=message,
        location=path,
    )


def make_ingest_validator() -> IngestValidator | None:
    """Return the validator for ingest (has ``validate_graph``), or None while no shapes exist."""
    shapes = default_shapes()
    if not shapes:
        return None
    return IngestValidator(shapes, default_ontology())
