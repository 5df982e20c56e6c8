"""The reference engine: pyshacl behind the same interface as the fast engine.

pyshacl is imported inside the functions (it is slow to import and only needed here).
"""

from __future__ import annotations

from collections.abc import Collection

from rdflib import Graph
from rdflib.term import Node

from theragraph.validate.report import ValidationReport, ValidationResult
from theragraph.validate.shapes import SH


def validate_pyshacl(data: Graph, shapes: Graph) -> ValidationReport:
    """Validate ``data`` against ``shapes`` with pyshacl and return our report model.

    The data graph is used as is (no RDFS/OWL inference), as the fast engine does.
    """
    from pyshacl import validate

    _conforms, report_graph, _text = validate(
        data,
        shacl_graph=shapes,
        inference="none",
        advanced=False,
        abort_on_first=False,
        allow_warnings=False,
        allow_infos=False,
        meta_shacl=False,
        do_owl_imports=False,
    )
    return ValidationReport(
        results=results_from_graph(report_graph), shapes_graph=shapes, engine="pyshacl"
    )


def results_from_graph(report: Graph) -> list[ValidationResult]:
    """Read every ``sh:ValidationResult`` of a report graph into our result model."""
    out: list[ValidationResult] = []
    for r in report.objects(None, SH.result):
        out.append(
            ValidationResult(
                focus=report.value(r, SH.focusNode),
                component=report.value(r, SH.sourceConstraintComponent),
                source_shape=report.value(r, SH.sourceShape),
                severity=report.value(r, SH.resultSeverity) or SH.Violation,
                path=report.value(r, SH.resultPath),
                value=report.value(r, SH.value),
                messages=list(report.objects(r, SH.resultMessage)),
                source_constraint=report.value(r, SH.sourceConstraint),
            )
        )
    return out


def validate_shapes_pyshacl(
    data: Graph, shapes: Graph, shape_nodes: Collection[Node]
) -> list[ValidationResult]:
    """Return pyshacl's results whose source shape is one of ``shape_nodes``.

    The fast engine uses this as its fallback for shapes it cannot compile.
    """
    wanted = set(shape_nodes)
    return [r for r in validate_pyshacl(data, shapes).results if r.source_shape in wanted]
