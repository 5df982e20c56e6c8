"""Render SPARQL results (pyoxigraph result objects) as a table, JSON, CSV or TSV."""

from __future__ import annotations

import io
from typing import Any, TextIO

import pyoxigraph as ox
from rich.console import Console
from rich.table import Table

from theragraph.vocab import PREFIXES

FORMATS = ("table", "json", "csv", "tsv")
_OX_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


def term_text(term: Any) -> str:
    """Return a compact human form of an RDF term (IRI, literal value, blank node id)."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


# Longest namespace first, so tgr: wins over a shorter prefix of the same IRI.
_COMPACT = sorted(((str(ns), p) for p, ns in PREFIXES.items()), key=lambda x: -len(x[0]))


def compact_text(term: Any) -> str:
    """Return :func:`term_text`, with IRIs shortened to ``prefix:local`` where a prefix fits."""
    if isinstance(term, ox.NamedNode):
        for namespace, prefix in _COMPACT:
            if term.value.startswith(namespace):
                return f"{prefix}:{term.value[len(namespace):]}"
    return term_text(term)


def rows(results: Any, *, compact: bool = False) -> tuple[list[str], list[list[str]]]:
    """Return (variable names, rows of text) for a SELECT result."""
    render = compact_text if compact else term_text
    names = [v.value for v in results.variables]
    return names, [[render(sol[name]) for name in names] for sol in results]


def write_results(results: Any, out: TextIO, *, fmt: str = "table") -> None:
    """Write SELECT/ASK/CONSTRUCT results to ``out`` in one of :data:`FORMATS`."""
    if isinstance(results, ox.QueryBoolean):
        out.write(("true" if bool(results) else "false") + "\n")
        return
    if isinstance(results, ox.QueryTriples):
        data = ox.serialize(results, format=ox.RdfFormat.TURTLE)
        out.write(data.decode() if isinstance(data, bytes) else str(data))
        return
    if fmt == "table":
        names, body = rows(results, compact=True)
        table = Table(*names, show_lines=False)
        for row in body:
            table.add_row(*row)
        Console(file=out, width=200).print(table)
        out.write(f"{len(body)} row(s)\n")
        return
    buffer = io.BytesIO()
    results.serialize(buffer, format=_OX_FORMATS[fmt])
    out.write(buffer.getvalue().decode())
