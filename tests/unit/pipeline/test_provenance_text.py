"""The provenance written as text is the provenance the triples describe."""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox
import pytest

from theragraph.mapping.base import MappedGraph
from theragraph.pipeline.ingest import provenance_ntriples, provenance_triples


@pytest.mark.parametrize("complete", [True, False])
def test_provenance_text_equals_the_triples(complete: bool) -> None:
    graph = MappedGraph(
        graph="https://w3id.org/theragraph/graph/fhir/0a1b", kind="fhir",
        patient="https://w3id.org/theragraph/id/patient/ff00" if complete else None,
        source_checksum='hmac-sha256:ab"cd\\n' if complete else None,  # escaped in the text
        mapping_version="0123abcd" if complete else None,
    )
    when = datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)
    text = provenance_ntriples(graph, generated_at=when)
    parsed = [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
    assert len(parsed) == len(set(parsed))
    assert set(parsed) == set(provenance_triples(graph, generated_at=when))
    assert len(parsed) == (9 if complete else 6)
