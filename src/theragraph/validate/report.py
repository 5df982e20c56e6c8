"""The validation report: results, sh:ValidationReport as RDF/Turtle, JSON and a human summary.

Both engines produce :class:`ValidationReport`; nothing here runs validation.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from theragraph.validate.shapes import SH

#: Stable issue codes per SHACL Core component (``shacl.<component>``), for ingest reports.
COMPONENT_CODES: dict[URIRef, str] = {
    SH.ClassConstraintComponent: "shacl.class",
    SH.DatatypeConstraintComponent: "shacl.datatype",
    SH.NodeKindConstraintComponent: "shacl.node-kind",
    SH.MinCountConstraintComponent: "shacl.min-count",
    SH.MaxCountConstraintComponent: "shacl.max-count",
    SH.MinExclusiveConstraintComponent: "shacl.min-exclusive",
    SH.MinInclusiveConstraintComponent: "shacl.min-inclusive",
    SH.MaxExclusiveConstraintComponent: "shacl.max-exclusive",
    SH.MaxInclusiveConstraintComponent: "shacl.max-inclusive",
    SH.MinLengthConstraintComponent: "shacl.min-length",
    SH.MaxLengthConstraintComponent: "shacl.max-length",
    SH.PatternConstraintComponent: "shacl.pattern",
    SH.LanguageInConstraintComponent: "shacl.language-in",
    SH.UniqueLangConstraintComponent: "shacl.unique-lang",
    SH.EqualsConstraintComponent: "shacl.equals",
    SH.DisjointConstraintComponent: "shacl.disjoint",
    SH.LessThanConstraintComponent: "shacl.less-than",
    SH.LessThanOrEqualsConstraintComponent: "shacl.less-than-or-equals",
    SH.NotConstraintComponent: "shacl.not",
    SH.AndConstraintComponent: "shacl.and",
    SH.OrConstraintComponent: "shacl.or",
    SH.XoneConstraintComponent: "shacl.xone",
    SH.NodeConstraintComponent: "shacl.node",
    SH.QualifiedMinCountConstraintComponent: "shacl.qualified-min-count",
    SH.QualifiedMaxCountConstraintComponent: "shacl.qualified-max-count",
    SH.ClosedConstraintComponent: "shacl.closed",
    SH.HasValueConstraintComponent: "shacl.has-value",
    SH.InConstraintComponent: "shacl.in",
    SH.SPARQLConstraintComponent: "shacl.sparql",
}

_PATH_PREDICATES = (
    SH.inversePath,
    SH.zeroOrMorePath,
    SH.oneOrMorePath,
    SH.zeroOrOnePath,
    SH.alternativePath,
)

SEVERITY_NAMES = {SH.Violation: "error", SH.Warning: "warning", SH.Info: "info"}


@dataclass(slots=True)
class ValidationResult:
    """One ``sh:ValidationResult``. Terms are rdflib terms, literals as written in the data."""

    focus: Node
    component: URIRef
    source_shape: Node
    severity: URIRef = SH.Violation
    path: Node | None = None
    value: Node | None = None
    messages: list[Node] = field(default_factory=list)
    source_constraint: Node | None = None

    def key(self) -> tuple[Any, ...]:
        """Return the identity tuple compared between engines (blank nodes made anonymous)."""
        return (
            _anon(self.focus),
            _anon(self.path),
            _anon(self.value),
            _anon(self.source_shape),
            self.component,
            self.severity,
        )

    @property
    def code(self) -> str:
        """Return the stable issue code of this result's component."""
        return COMPONENT_CODES.get(self.component, "shacl.violation")


def _anon(term: Node | None) -> Any:
    if term is None:
        return None
    if isinstance(term, BNode):
        return "_:b"
    return term


@dataclass(slots=True)
class ValidationReport:
    """The outcome of validating a data graph against a shapes graph.

    Attributes:
        results: every validation result.
        shapes_graph: the shapes graph, for copying result paths (blank-node paths).
        notes: what the engine could not do itself (e.g. shapes run by the pyshacl fallback).
        engine: ``fast`` or ``pyshacl``.
    """

    results: list[ValidationResult] = field(default_factory=list)
    shapes_graph: Graph | None = None
    notes: list[str] = field(default_factory=list)
    engine: str = "fast"

    @property
    def conforms(self) -> bool:
        """Return True when there is no result at all (any severity, SHACL §3.4)."""
        return not self.results

    def keys(self) -> Counter[tuple[Any, ...]]:
        """Return the multiset of result identity tuples."""
        return Counter(r.key() for r in self.results)

    def to_graph(self) -> Graph:
        """Return the report as an RDF graph (``sh:ValidationReport``)."""
        g = Graph()
        g.bind("sh", SH)
        report = BNode()
        g.add((report, RDF.type, SH.ValidationReport))
        g.add((report, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            node = BNode()
            g.add((report, SH.result, node))
            g.add((node, RDF.type, SH.ValidationResult))
            g.add((node, SH.focusNode, r.focus))
            g.add((node, SH.resultSeverity, r.severity))
            g.add((node, SH.sourceConstraintComponent, r.component))
            g.add((node, SH.sourceShape, r.source_shape))
            if r.value is not None:
                g.add((node, SH.value, r.value))
            if r.path is not None:
                g.add((node, SH.resultPath, self._copy_path(g, r.path)))
            if r.source_constraint is not None:
                g.add((node, SH.sourceConstraint, r.source_constraint))
            for m in r.messages:
                g.add((node, SH.resultMessage, m))
        return g

    def _copy_path(self, g: Graph, node: Node) -> Node:
        """Copy a blank-node path from the shapes graph with fresh blank nodes; return its root.

        Each result gets its own copy, as reports are written (``sh:resultPath [ ... ]``), so
        two reports compare by graph isomorphism.
        """
        sg = self.shapes_graph
        if not isinstance(node, BNode) or sg is None:
            return node
        copy = BNode()
        # only the triples that make the path (a node may carry others: W3C path-strange-001)
        if (node, RDF.first, None) in sg:
            preds = [RDF.first, RDF.rest]
        else:
            preds = (
                [next(p for p in _PATH_PREDICATES if (node, p, None) in sg)]
                if any((node, p, None) in sg for p in _PATH_PREDICATES)
                else []
            )
        for p in preds:
            for o in sg.objects(node, p):
                g.add((copy, p, self._copy_path(g, o)))
        return copy

    def to_turtle(self) -> str:
        """Return the report serialised as Turtle."""
        return self.to_graph().serialize(format="turtle")

    def to_json(self) -> str:
        """Return the report as JSON: conforms, counts and every result."""
        return json.dumps(
            {
                "conforms": self.conforms,
                "engine": self.engine,
                "notes": self.notes,
                "results": [
                    {
                        "focusNode": _n3(r.focus),
                        "resultPath": _n3(r.path),
                        "value": _n3(r.value),
                        "sourceShape": _n3(r.source_shape),
                        "sourceConstraintComponent": str(r.component),
                        "severity": SEVERITY_NAMES.get(r.severity, str(r.severity)),
                        "code": r.code,
                        "messages": [str(m) for m in r.messages],
                    }
                    for r in self.results
                ],
            },
            indent=2,
        )

    def summary(self) -> str:
        """Return a human summary grouped by shape and severity."""
        if self.conforms:
            return "conforms: no validation results\n"
        groups: Counter[tuple[str, str, str]] = Counter(
            (_n3(r.source_shape) or "", SEVERITY_NAMES.get(r.severity, str(r.severity)), r.code)
            for r in self.results
        )
        lines = [f"does not conform: {len(self.results)} result(s)"]
        for (shape, sev, code), n in sorted(groups.items()):
            lines.append(f"  {shape}  {sev:<7}  {code:<28} {n}")
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines) + "\n"


def _n3(term: Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term)).n3()
    return term.n3()
