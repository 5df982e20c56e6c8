"""The per-graph validator the ingest pipeline calls before each write.

One named graph (one source record) is validated with the shapes in ``shapes/`` in a small
in-memory store holding the graph plus its neighbourhood from the store: every triple, from other
named graphs, whose subject the graph references (the patient node, a referenced series...), so
``sh:class`` and cross-source shapes see what they need. Only results about nodes described in the
graph itself are reported: a neighbour's own problems belong to the neighbour's graph.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib.term import BNode, Node, URIRef

from theragraph.mapping.base import MappedGraph
from theragraph.report import Issue
from theragraph.store import Store
from theragraph.validate.dataset import DataGraph, class_hierarchy
from theragraph.validate.engine import FastEngine
from theragraph.validate.report import SEVERITY_NAMES, ValidationResult
from theragraph.validate.run import default_ontology, default_shapes
from theragraph.validate.shapes import ShapesGraph, load_shapes, parse_graph
from theragraph.validate.terms import from_ox, to_ox

log = logging.getLogger(__name__)

_CHUNK = 500
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SH = "http://www.w3.org/ns/shacl#"
_CLASSES_USED = f"SELECT DISTINCT ?c WHERE {{ ?s <{_RDF_TYPE}> ?c FILTER(isIRI(?c)) }}"
# IRIs the unit references (rdf:type objects aside); those it does not describe are looked up in
# the store: their stored facts are the unit's neighbourhood. (FILTER NOT EXISTS in the query
# costs twice the scan: it runs per triple, the lookup per distinct IRI.)
_REFERENCED = f"SELECT DISTINCT ?o WHERE {{ ?s ?p ?o FILTER(isIRI(?o) && ?p != <{_RDF_TYPE}>) }}"


class _Triggers:
    """What must be in a graph for a top-level shape to have focus nodes there (computed once)."""

    def __init__(self, shapes: ShapesGraph, hierarchy: dict[str, set[str]]) -> None:
        self.always: set[Node] = set()
        self.by_class: dict[str, set[Node]] = {}
        self.by_predicate: dict[str, set[Node]] = {}
        for shape in shapes.top_level():
            for p, o in shape.targets:
                kind = str(p)
                if kind == _SH + "targetClass":
                    for cls in {str(o)} | hierarchy.get(str(o), set()):
                        self.by_class.setdefault(cls, set()).add(shape.node)
                elif kind in (_SH + "targetSubjectsOf", _SH + "targetObjectsOf"):
                    self.by_predicate.setdefault(str(o), set()).add(shape.node)
                else:  # sh:targetNode, SPARQL-based targets: always run
                    self.always.add(shape.node)

    def relevant_in(self, scratch: ox.Store) -> set[Node]:
        """Return the shapes whose targets can match in ``scratch``.

        A query on the rdf:type statements, and a lookup per predicate some shape targets: no
        scan of the whole unit.
        """
        keep = set(self.always)
        for row in scratch.query(_CLASSES_USED):
            keep |= self.by_class.get(row[0].value, set())
        for predicate, shapes in self.by_predicate.items():
            if _states(scratch, predicate=ox.NamedNode(predicate)):
                keep |= shapes
        return keep


class _Subset:
    """The shapes graph restricted to some top-level shapes (everything else delegated)."""

    def __init__(self, shapes: ShapesGraph, keep: set[Node]) -> None:
        self._shapes = shapes
        self._keep = keep

    def top_level(self) -> list[Any]:
        return [s for s in self._shapes.top_level() if s.node in self._keep]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shapes, name)


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
        # Shapes whose targets cannot match a graph are skipped: most graphs are one source
        # record and meet a handful of the shapes' target classes.
        self._triggers = _Triggers(self.shapes, self.hierarchy)

    def neighbourhood(self, graphs: Sequence[MappedGraph], store: Store) -> list[ox.Triple]:
        """Return the triples of other named graphs about the IRIs ``graphs`` reference."""
        return self._neighbours(_scratch_store(graphs), graphs, store)

    def _neighbours(
        self, scratch: ox.Store, graphs: Sequence[MappedGraph], store: Store,
        unwritten: ox.Store | None = None,
    ) -> list[ox.Triple]:
        """The neighbourhood of ``graphs``, found in ``scratch`` (their content, nothing else)."""
        referenced = sorted(
            (row[0] for row in scratch.query(_REFERENCED)
             if not _states(scratch, subject=row[0])),
            key=str,
        )
        return self._stored_facts(referenced, {g.graph for g in graphs}, store, unwritten)

    @staticmethod
    def _stored_facts(
        referenced: list[ox.NamedNode], own: set[str], store: Store, unwritten: ox.Store | None = None
    ) -> list[ox.Triple]:
        """Return the stored triples about ``referenced``, except those in the graphs ``own``,
        and those in ``unwritten`` (the facts of a unit validated but not written yet)."""
        # the stored (old) versions of the graphs being validated are not their neighbours
        out: list[ox.Triple] = []
        for i in range(0, len(referenced), _CHUNK):
            values = " ".join(str(n) for n in referenced[i : i + _CHUNK])
            rows = store.query(
                f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}",
                union_default_graph=False,
            )
            out.extend(
                ox.Triple(r["s"], r["p"], r["o"]) for r in rows if r["g"].value not in own
            )
            if unwritten is not None:
                rows = unwritten.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}")
                out.extend(ox.Triple(r["s"], r["p"], r["o"]) for r in rows)
        return list(dict.fromkeys(out)) if unwritten is not None else out

    def validate_graph(self, graph: MappedGraph, store: Store) -> list[Issue]:
        """Return one issue per SHACL result about a node described in ``graph``.

        Violations are ``error`` issues (they reject or quarantine the graph), warnings and infos
        keep their severity. Codes are ``shacl.<component>`` (see ``report.COMPONENT_CODES``).
        """
        return self.validate_unit([graph], store)[graph.graph]

    def validate_unit(self, graphs: Sequence[MappedGraph], store: Store) -> dict[str, list[Issue]]:
        """Validate the graphs written together in one pass; return the issues per graph IRI.

        The graphs see each other (a reference to a record of the same batch resolves) and the
        stored facts about what they reference. A result belongs to every graph that describes
        its focus node (e.g. a patient-level result to each graph that states the patient).
        """
        return self.validate_unit_facts(graphs, store)[0]

    def validate_unit_facts(
        self, graphs: Sequence[MappedGraph], store: Store, unwritten: ox.Store | None = None
    ) -> tuple[dict[str, list[Issue]], ox.Store]:
        """:meth:`validate_unit`, seeing also the ``unwritten`` facts of the previous unit.

        The issues come as a ``defaultdict``: a graph without any has no entry until read.

        Returns the issues and the facts this validation saw (the unit and its neighbourhood):
        passed as ``unwritten`` to the next unit's validation, they let the pipeline validate
        that unit while this one is still being written.
        """
        # only graphs with results get an entry (a list per graph of a 20,000-graph unit was
        # ~0.6 s of allocation and garbage collection per 100,000 graphs)
        issues: dict[str, list[Issue]] = defaultdict(list)
        # the unit goes into the scratch store first; what it uses and references is asked there
        scratch = _scratch_store(graphs)
        if not graphs:
            return issues, scratch
        neighbours = self._neighbours(scratch, graphs, store, unwritten)
        _load_triples(scratch, neighbours)
        keep = self._triggers.relevant_in(scratch)
        if not keep:
            return issues, scratch
        data = DataGraph(scratch, hierarchy=self.hierarchy)

        def fallback(nodes: set[Node]) -> list[ValidationResult]:
            from theragraph.validate.reference import validate_shapes_pyshacl
            from theragraph.validate.run import store_graph

            return validate_shapes_pyshacl(store_graph(_Quads(scratch)), self.shapes_graph, nodes)

        # one small graph: threads would cost more than the queries they overlap
        shapes = _Subset(self.shapes, keep)
        report = FastEngine(shapes, data, fallback=fallback, workers=1).validate()  # type: ignore[arg-type]
        if not report.results:
            return issues, scratch
        # a result about a node no triple describes (a patient not ingested yet) belongs to no graph
        focus = {r.focus for r in report.results if _described(scratch, r.focus)}
        owners = _owners(graphs, focus)
        for result in report.results:
            for graph_iri in owners.get(result.focus, ()):
                issues[graph_iri].append(to_issue(result))
        return issues, scratch


def _states(
    scratch: ox.Store, *, subject: ox.NamedNode | ox.BlankNode | None = None,
    predicate: ox.NamedNode | None = None,
) -> bool:
    """Whether ``scratch`` holds a triple with this subject and/or predicate (one index lookup)."""
    return next(iter(scratch.quads_for_pattern(subject, predicate, None)), None) is not None


def _described(scratch: ox.Store, node: Node) -> bool:
    """Whether ``node`` is the subject of a triple in ``scratch`` (the facts validation saw)."""
    return isinstance(node, (URIRef, BNode)) and _states(scratch, subject=to_ox(node))


def _owners(graphs: Sequence[MappedGraph], focus: set[Node]) -> dict[Node, list[str]]:
    """Return, for each of ``focus``, the graphs that describe it (state it as a subject).

    A graph that came serialised is read off its N-Triples lines (parsing a unit's graphs into
    terms costs ~40 us each, for a few results).
    """
    owners: dict[Node, list[str]] = {}
    if not focus:
        return owners
    wanted = {f"<{node}>".encode(): node for node in focus if isinstance(node, URIRef)}
    for g in graphs:
        data = g.ntriples
        if data is None or b"_:" in data:
            subjects = {from_ox(t.subject) for t in g.triples} & focus
        else:
            # without blank nodes every line starts with the subject IRI, up to the first space
            heads = {line[: line.find(b" ")] for line in data.splitlines() if line}
            subjects = {wanted[head] for head in heads & wanted.keys()}
        for subject in subjects:
            owners.setdefault(subject, []).append(g.graph)
    return owners


def _scratch_store(graphs: Sequence[MappedGraph]) -> ox.Store:
    """Return an in-memory store holding the content of ``graphs`` in its default graph.

    Content goes through N-Triples (parsed in Rust, a few times cheaper than a ``Quad`` per triple
    in Python), as it is when it arrived serialised. ``load`` renames blank nodes, and results are
    matched to graphs by their focus nodes, so graphs with blank nodes are copied term by term.
    """
    scratch = ox.Store()
    text: list[bytes] = []
    for g in graphs:
        data = g.serialized()
        if b"_:" not in data:  # no blank node (or a literal that looks like one: copied too)
            text.append(data)
        else:
            _load_triples(scratch, g.triples)
    if text:
        # lenient: serialised by pyoxigraph from checked terms; IRI checks were a third of the load
        scratch.load(b"".join(text), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return scratch


def _load_triples(scratch: ox.Store, triples: list[ox.Triple]) -> None:
    """Add ``triples`` to the default graph of ``scratch``, keeping blank nodes as they are."""
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples):
        scratch.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    elif triples:
        scratch.load(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES,
                     lenient=True)


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
    # a property shape written inline is a blank node whose label changes from run to run
    shape = "" if isinstance(result.source_shape, BNode) else f"shape {result.source_shape.n3()} — "
    message = (
        f"{result.focus.n3()}{' ' + path if path else ''}: {what}{value}; "
        f"{shape}fix the source record or its mapping"
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
