"""Compare stores filled by different ingest runs: what differs from run to run is set aside."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

PROV = "http://www.w3.org/ns/prov#"
INGEST_TIMES = {ox.NamedNode(PROV + name) for name in ("startedAtTime", "endedAtTime", "generatedAtTime")}
RUN_PREFIX = "https://w3id.org/theragraph/id/ingest/"
#: stands for every run's activity IRI (one per ``ingest`` run, so it differs between stores)
RUN = ox.NamedNode(RUN_PREFIX + "run")


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    return RUN if isinstance(term, ox.NamedNode) and term.value.startswith(RUN_PREFIX) else term


def run_neutral(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Return ``quads`` without ingest times and with each run's activity IRI replaced by ``RUN``."""
    return [ox.Quad(_term(q.subject), q.predicate, _term(q.object), q.graph_name)
            for q in quads if q.predicate not in INGEST_TIMES]
