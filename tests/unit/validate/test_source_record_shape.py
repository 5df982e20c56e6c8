"""The SourceRecordGraph shape finds provenance graphs by their properties.

Their type is entailed, not stated; the shape checks them for every source kind the pipeline
writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.run import validate_store

ROOT = Path(__file__).resolve().parents[3]
SHAPE = ROOT / "shapes" / "SourceRecordGraph.ttl"
G = "https://w3id.org/theragraph/graph/{kind}/0a1b"
RUN = "<https://w3id.org/theragraph/id/ingest/00ff>"


def _provenance(graph: str, kind: str, *, reader: bool = True) -> bytes:
    g = f"<{graph}>"
    lines = [
        f'{g} <https://w3id.org/theragraph/ontology#sourceKind> "{kind}" .',
        f"{g} <http://www.w3.org/ns/prov#wasGeneratedBy> {RUN} .",
        f'{g} <http://www.w3.org/ns/prov#generatedAtTime> "2026-12-05T01:02:03Z"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> .",
    ]
    if reader:
        lines.append(f'{g} <https://w3id.org/theragraph/ontology#readerVersion> "0.1.0" .')
    return ("\n".join(lines) + "\n").encode()


def _violations(*writes: GraphWrite, engine: str = "fast") -> set[tuple[str, str]]:
    store = OxigraphStore(None)
    store.replace_graphs(list(writes))
    report = validate_store(store, shapes=[SHAPE], ontology=[], engine=engine)  # type: ignore[arg-type]
    return {(str(r.focus), str(r.path)) for r in report.results}


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize("kind", ["dicom", "fhir", "dosimetry", "dvh"])
def test_complete_provenance_of_every_kind_conforms(kind: str, engine: str) -> None:
    graph = G.format(kind=kind)
    assert _violations(GraphWrite(graph, ntriples=_provenance(graph, kind)), engine=engine) == set()


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_untyped_graph_missing_its_reader_version_is_reported(engine: str) -> None:
    graph = G.format(kind="fhir")
    write = GraphWrite(graph, ntriples=_provenance(graph, "fhir", reader=False))
    found = _violations(write, engine=engine)
    assert found == {(graph, "https://w3id.org/theragraph/ontology#readerVersion")}


def test_unknown_source_kind_is_reported() -> None:
    graph = G.format(kind="fhir")
    found = _violations(GraphWrite(graph, ntriples=_provenance(graph, "spreadsheet")))
    assert found == {(graph, "https://w3id.org/theragraph/ontology#sourceKind")}
