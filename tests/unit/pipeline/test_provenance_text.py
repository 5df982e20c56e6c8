"""The provenance written with every graph: the statements of docs/contracts.md, valid N-Triples."""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox
import pytest

from theragraph import __version__
from theragraph.mapping.base import MappedGraph
from theragraph.pipeline.ingest import ingest_activity, provenance_ntriples

G = "https://w3id.org/theragraph/graph/fhir/0a1b"
TG = "https://w3id.org/theragraph/ontology#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize("complete", [True, False])
def test_provenance_states_the_contract(complete: bool) -> None:
    checksum = 'hmac-sha256:ab"cd\\n'  # quotes and backslashes escaped in the text
    graph = MappedGraph(
        graph=G, kind="fhir",
        patient="https://w3id.org/theragraph/id/patient/ff00" if complete else None,
        source_checksum=checksum if complete else None,
        mapping_version="0123abcd" if complete else None,
    )
    when = datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)
    run = ingest_activity()
    parsed = [q.triple for q in ox.parse(provenance_ntriples(graph, generated_at=when, activity=run),
                                          format=ox.RdfFormat.N_TRIPLES)]
    found = {(t.subject.value, t.predicate.value, t.object.value) for t in parsed}
    assert len(found) == len(parsed)
    expected = {
        (G, TG + "sourceKind", "fhir"),
        (G, PROV + "wasGeneratedBy", run),
        (G, PROV + "generatedAtTime", "2026-12-05T01:02:03+00:00"),
        (G, TG + "readerVersion", __version__),
    }
    if complete:
        expected |= {
            (G, TG + "sourceChecksum", checksum),
            (G, TG + "mappingVersion", "0123abcd"),
            (G, TG + "aboutPatient", "https://w3id.org/theragraph/id/patient/ff00"),
        }
    # not stated: tg:SourceRecordGraph (the domain of tg:sourceKind...) and prov:Activity (the
    # range of prov:wasGeneratedBy), both entailed
    assert found == expected
    assert not any(t.predicate.value == RDF_TYPE for t in parsed)
    times = [t.object for t in parsed if t.predicate.value == PROV + "generatedAtTime"]
    assert times[0].datatype.value == XSD + "dateTime"


def test_each_run_has_its_own_activity() -> None:
    first, second = ingest_activity(), ingest_activity()
    assert first != second
    assert first.startswith("https://w3id.org/theragraph/id/ingest/")
