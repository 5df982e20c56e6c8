"""HTTP content negotiation for SPARQL results (``Accept`` with q-values).

Solutions and booleans go out as SPARQL JSON (default), XML, CSV or TSV; graphs (CONSTRUCT,
DESCRIBE) as Turtle (default, as the SPARQL 1.1 Protocol's conformance tests expect), N-Triples,
N-Quads, JSON-LD or RDF/XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

#: media type -> pyoxigraph format, first one is the default.
RESULTS_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
}
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/trig": ox.RdfFormat.TRIG,
}
_CHARSET = "; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Choice:
    """The negotiated media type and the pyoxigraph format that writes it."""

    media_type: str
    format: ox.QueryResultsFormat | ox.RdfFormat

    @property
    def content_type(self) -> str:
        """The Content-Type header value (UTF-8 charset on text types)."""
        textual = self.media_type.startswith("text/")
        return self.media_type + (_CHARSET if textual else "")


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Return (media range, q) pairs from an Accept header, best first, stable order."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(m, q) for m, q, _ in ranges]


def choose(header: str | None, *, graph: bool) -> Choice | None:
    """Pick the response format for a result kind, or None when nothing acceptable (406).

    Memoised per header value (clients send the same few Accept headers again and again).

    Args:
        header: the request's Accept header (None or empty accepts anything).
        graph: True for CONSTRUCT/DESCRIBE results, False for solutions and booleans.
    """
    if header is not None and len(header) > _CACHE_MAX_CHARS:
        return _choose(header, graph)
    return _choose_cached(header, graph)


#: Accept headers longer than this are negotiated each time (bounds the memo's memory).
_CACHE_MAX_CHARS = 1024


def _choose(header: str | None, graph: bool) -> Choice | None:
    table: dict[str, ox.QueryResultsFormat | ox.RdfFormat] = (
        dict(GRAPH_TYPES) if graph else dict(RESULTS_TYPES)
    )
    default = next(iter(table))
    ranges = parse_accept(header)
    refused = {m for m, q in ranges if q == 0}
    for media, q in ranges:
        if q <= 0:
            continue
        if media in table:
            return Choice(media, table[media])
        if media in ("*/*", "*"):
            return Choice(default, table[default]) if default not in refused else None
        if media.endswith("/*"):
            family = media[:-1]
            for candidate in table:
                if candidate.startswith(family) and candidate not in refused:
                    return Choice(candidate, table[candidate])
    return None


_choose_cached = lru_cache(maxsize=256)(_choose)


def offered(*, graph: bool) -> list[str]:
    """Return the media types offered for a result kind (for 406 messages)."""
    return list(GRAPH_TYPES if graph else RESULTS_TYPES)
