"""The source-handler protocol and the registry of handlers the ingest pipeline dispatches to.

A handler knows one source format end to end (sniff, read, de-identify, map) and yields
:class:`IngestUnit` objects; the pipeline owns validation, provenance and the atomic writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from theragraph.ids import Pseudonymizer
from theragraph.mapping.base import MappedGraph
from theragraph.report import FileOutcome
from theragraph.store.base import Store


@dataclass(slots=True)
class IngestContext:
    """What every handler needs besides its files (explicit arguments, no global settings)."""

    pseudonymizer: Pseudonymizer
    root: Path
    workers: int = 1
    issuer_map: dict[str, str] = field(default_factory=dict)
    default_issuer: str = "urn:theragraph:default-issuer"
    fail_fast: bool = False
    store: Store | None = None  # for look-ups of records ingested earlier (reference resolution)
    counts: dict[str, int] = field(default_factory=dict)

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the input root when possible (for reports)."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def issuer_system(self, issuer: str | None) -> str:
        """Map a DICOM IssuerOfPatientID to the FHIR identifier system it stands for."""
        if issuer and issuer in self.issuer_map:
            return self.issuer_map[issuer]
        return issuer or self.default_issuer

    def count(self, key: str, n: int = 1) -> None:
        """Increase a free-form report counter (e.g. ``unmapped.Observation.note``)."""
        self.counts[key] = self.counts.get(key, 0) + n


@dataclass(slots=True)
class SeriesFiles:
    """The files of one DICOM series, as grouped by the DICOM handler (original UIDs: never stored)."""

    modality: str
    series_uid: str
    sop_class_uid: str
    files: list[Path]


@dataclass(slots=True)
class IngestUnit:
    """Graphs written together, and the outcomes of the files they came from.

    Outcomes carry a provisional status (``ingested`` when graphs were produced, ``skipped`` or
    ``failed`` otherwise); the pipeline turns ``ingested`` into ``unchanged`` or ``failed``.
    """

    graphs: list[MappedGraph]
    outcomes: list[FileOutcome]


class SourceHandler(Protocol):
    """One source format, end to end."""

    kind: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """Return True when the file's first bytes say it is this handler's format."""
        ...

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Read, de-identify and map ``files``; call ``progress(n)`` as n files are read."""
        ...


def default_handlers() -> list[SourceHandler]:
    """Return the handlers in sniffing order (most specific first)."""
    from theragraph.pipeline.dicom_source import DicomHandler

    handlers: list[SourceHandler] = [DicomHandler()]
    from theragraph.pipeline.fhir_source import FhirHandler

    handlers.append(FhirHandler())
    # Registered by later issues: FHIR (#4) and dosimetry (#5) handlers.
    from theragraph.pipeline.dosimetry_source import DosimetryHandler

    handlers.append(DosimetryHandler())  # #5 last: it resolves references to earlier records
    return handlers
