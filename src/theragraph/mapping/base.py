"""Shared pieces of the mappers: the mapped-graph result, mapping-file loading, typed literals."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from theragraph.errors import MappingError
from theragraph.report import Issue
from theragraph.resources import resource_path

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_DATATYPES = {
    "string": ox.NamedNode(XSD + "string"),
    "integer": ox.NamedNode(XSD + "integer"),
    "double": ox.NamedNode(XSD + "double"),
    "decimal": ox.NamedNode(XSD + "decimal"),
    "boolean": ox.NamedNode(XSD + "boolean"),
    "date": ox.NamedNode(XSD + "date"),
    "dateTime": ox.NamedNode(XSD + "dateTime"),
    "time": ox.NamedNode(XSD + "time"),
}


@dataclass(slots=True)
class MappedGraph:
    """The RDF of one source record, ready for validation and an atomic write.

    Attributes:
        graph: IRI of the record's named graph.
        triples: the graph's content (provenance is added by the pipeline).
        kind: source kind (``dicom``, ``fhir``, ``dosimetry``).
        patient: IRI of the patient the record belongs to (for erasure and access grants).
        source_checksum: keyed checksum of the source bytes (re-ingest detection).
        mapping_version: version string of the mapping file(s) used.
        issues: warnings found while mapping (they do not stop the write).
        ntriples: the content as N-Triples, for a :class:`SerializedGraph` not parsed yet.
    """

    graph: str
    triples: list[ox.Triple] = field(default_factory=list)
    kind: str = ""
    patient: str | None = None
    source_checksum: str | None = None
    mapping_version: str | None = None
    issues: list[Issue] = field(default_factory=list)
    ntriples: bytes | None = None

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: ox.NamedNode, obj: Any) -> None:
        """Append one triple."""
        self.triples.append(ox.Triple(subject, predicate, obj))

    def serialized(self) -> bytes:
        """Return the content as N-Triples."""
        if self.ntriples is not None:
            return self.ntriples
        return ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES)


def _parse(ntriples: bytes) -> list[ox.Triple]:
    return [quad.triple for quad in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES, lenient=True)]


_TRIPLES_SLOT = MappedGraph.triples  # the dataclass slots, under SerializedGraph's properties
_NTRIPLES_SLOT = MappedGraph.ntriples
_SUBJECTS = frozenset({ox.NamedNode, ox.BlankNode})
_OBJECTS = frozenset({ox.NamedNode, ox.BlankNode, ox.Literal})


class SerializedGraph(MappedGraph):
    """A mapped graph held as N-Triples (from a worker process, or built as text by a mapper).

    Validation and the store read the bytes as they are; ``triples`` parses them only when some
    code asks for Python terms (~4 us per triple), and from then on the parsed list is the content
    (``ntriples`` is dropped, so changes to the list are never lost). Until then :meth:`add`
    appends a line of text, joined into ``ntriples`` when that is read: ~1 us per triple, against
    ~2 us for a ``Triple`` plus its serialisation later.
    """

    __slots__ = ("_lines",)

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: ox.NamedNode, obj: Any) -> None:
        """Append one triple (a line of text while the content is text)."""
        lines = self._lines
        if lines is None and _NTRIPLES_SLOT.__get__(self, MappedGraph) is not None:
            lines = self._lines = []  # created on the first line: most graphs (unpacked) get none
        if lines is not None:
            if (type(subject) not in _SUBJECTS or type(predicate) is not ox.NamedNode
                    or type(obj) not in _OBJECTS):
                raise TypeError(f"not RDF terms: {subject!r} {predicate!r} {obj!r}")
            # pyoxigraph writes its terms in N-Triples syntax (escapes included)
            lines.append(f"{subject} {predicate} {obj} .\n")
        else:
            _TRIPLES_SLOT.__get__(self, MappedGraph).append(ox.Triple(subject, predicate, obj))

    @property  # type: ignore[override]
    def ntriples(self) -> bytes | None:
        """The content as N-Triples (the lines added since it was last read joined to it)."""
        text: bytes | None = _NTRIPLES_SLOT.__get__(self, MappedGraph)
        lines = self._lines
        if lines:
            text = (text or b"") + "".join(lines).encode()
            _NTRIPLES_SLOT.__set__(self, text)
            self._lines = None
        return text

    @ntriples.setter
    def ntriples(self, value: bytes | None) -> None:
        _NTRIPLES_SLOT.__set__(self, value)
        self._lines = None

    @property  # type: ignore[override]
    def triples(self) -> list[ox.Triple]:
        if self.ntriples is not None:
            _TRIPLES_SLOT.__set__(self, _parse(self.ntriples))
            self.ntriples = None
        return _TRIPLES_SLOT.__get__(self, MappedGraph)  # type: ignore[no-any-return]

    @triples.setter
    def triples(self, value: list[ox.Triple]) -> None:
        _TRIPLES_SLOT.__set__(self, value)


@lru_cache
def load_mapping(name: str) -> dict[str, Any]:
    """Load and cache a YAML mapping file from ``mappings/`` (e.g. ``dicom/series.yaml``).

    Raises:
        MappingError: when the file is missing or not valid YAML.
    """
    try:
        path = resource_path("mappings", name)
        data = yaml.safe_load(Path(path).read_text())
    except (FileNotFoundError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot load mapping {name}: {exc}", code="map.bad-mapping-file") from exc
    if not isinstance(data, dict):
        raise MappingError(f"mapping {name} must be a YAML mapping", code="map.bad-mapping-file")
    return data


def mapping_version(*names: str) -> str:
    """Return a short content hash of mapping files: it changes whenever a mapping changes."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(resource_path("mappings", name).read_bytes())
    return digest.hexdigest()[:12]


def to_literal(value: Any, datatype: str | None = None) -> ox.Literal:
    """Return a typed literal for a Python value.

    Args:
        value: str, int, float, bool, date, datetime (timezone-aware or naive) or time.
        datatype: XSD local name to force (``double``, ``integer``, ``dateTime``...); inferred if None.

    Raises:
        MappingError: when the value does not fit the datatype.
    """
    try:
        if datatype is None:
            if isinstance(value, bool):
                datatype = "boolean"
            elif isinstance(value, int):
                datatype = "integer"
            elif isinstance(value, float):
                datatype = "double"
            elif isinstance(value, datetime):
                datatype = "dateTime"
            elif isinstance(value, date):
                datatype = "date"
            elif isinstance(value, time):
                datatype = "time"
            else:
                datatype = "string"
        if datatype == "boolean":
            lexical = "true" if value else "false"
        elif datatype == "integer":
            lexical = str(int(value))
        elif datatype in ("double", "decimal"):
            number = float(value)
            lexical = repr(number) if datatype == "double" else format(number, "f")
        elif datatype in ("dateTime", "date", "time"):
            lexical = value.isoformat() if hasattr(value, "isoformat") else str(value)
        else:
            lexical = str(value)
        return ox.Literal(lexical, datatype=_DATATYPES[datatype])
    except (KeyError, TypeError, ValueError) as exc:
        raise MappingError(
            f"value does not fit datatype xsd:{datatype}", code="map.invalid-value"
        ) from exc
