"""Read the W3C SHACL test suite manifests (tests/data/shacl-w3c) into runnable cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from theragraph.validate.report import ValidationResult
from theragraph.validate.shapes import SH

SUITE = Path(__file__).resolve().parents[2] / "data" / "shacl-w3c"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")


def report_core(g: Graph, report: Node) -> Graph:
    """Return the comparable part of a report: conforms and each result's core triples.

    Messages are left out (wording); blank-node paths are followed, other blank nodes (focus
    nodes, shapes in the shapes graph) stay leaves, so the shapes' own triples stay out.
    """
    out = Graph()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, g.value(report, SH.conforms)))
    keep = (
        SH.focusNode,
        SH.resultSeverity,
        SH.sourceConstraintComponent,
        SH.sourceShape,
        SH.value,
        SH.resultPath,
    )
    for r in g.objects(report, SH.result):
        out.add((report, SH.result, r))
        out.add((r, RDF.type, SH.ValidationResult))
        for p in keep:
            for o in g.objects(r, p):
                out.add((r, p, o))
                if p == SH.resultPath:
                    _copy_closure(g, o, out)
    return out


def _copy_closure(g: Graph, node: Node, out: Graph) -> None:
    if not isinstance(node, BNode):
        return
    for p, o in g.predicate_objects(node):
        out.add((node, p, o))
        _copy_closure(g, o, out)


@dataclass
class Case:
    """One sht:Validate entry."""

    name: str
    data: Path
    shapes: Path
    failure: bool
    conforms: bool | None
    expected: Counter[tuple[Any, ...]]
    expected_graph: Graph | None = None


def _path(uri: URIRef) -> Path:
    return Path(str(uri).removeprefix("file://"))


def load_cases(manifest: Path = SUITE / "manifest.ttl") -> list[Case]:
    """Return every Validate case reachable from ``manifest`` through mf:include."""
    # Expected literals must stay as written ("2011-01-01"^^xsd:dateTime), as the engine reports.
    rdflib.NORMALIZE_LITERALS = False
    try:
        g = Graph().parse(manifest, format="turtle", publicID=manifest.resolve().as_uri())
    finally:
        rdflib.NORMALIZE_LITERALS = True
    cases: list[Case] = []
    for inc in g.objects(None, MF.include):
        cases.extend(load_cases(_path(inc)))
    for lst in g.objects(None, MF.entries):
        for entry in Collection(g, lst):
            if (entry, RDF.type, SHT.Validate) not in g:
                continue
            action = g.value(entry, MF.action)
            data = _path(g.value(action, SHT.dataGraph))
            shapes = _path(g.value(action, SHT.shapesGraph))
            result = g.value(entry, MF.result)
            name = f"{manifest.parent.name}/{str(entry).rsplit('/', 1)[-1]}"
            if result == SHT.Failure:
                cases.append(Case(name, data, shapes, True, None, Counter()))
                continue
            conforms = g.value(result, SH.conforms).toPython()
            expected: Counter[tuple[Any, ...]] = Counter()
            for r in g.objects(result, SH.result):
                expected[
                    ValidationResult(
                        focus=g.value(r, SH.focusNode),
                        component=g.value(r, SH.sourceConstraintComponent),
                        source_shape=g.value(r, SH.sourceShape),
                        severity=g.value(r, SH.resultSeverity),
                        path=g.value(r, SH.resultPath),
                        value=g.value(r, SH.value),
                    ).key()
                ] += 1
            cases.append(
                Case(name, data, shapes, False, conforms, expected, report_core(g, result))
            )
    return cases
