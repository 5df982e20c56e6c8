"""The ingest pipeline: walk inputs, dispatch to handlers, validate, add provenance, write.

Each source record's graph is written with a replace (one transaction), so a crash leaves it
either as it was or complete, and re-ingesting unchanged files writes nothing.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import pyoxigraph as ox

from theragraph import __version__
from theragraph.errors import TheragraphError
from theragraph.mapping.base import RDF_TYPE, MappedGraph, to_literal
from theragraph.pipeline.sources import IngestContext, IngestUnit, SourceHandler, default_handlers
from theragraph.report import FileOutcome, IngestReport, Issue
from theragraph.store.base import GraphWrite, Store
from theragraph.vocab import PROV, TG

log = logging.getLogger(__name__)

OnInvalid = Literal["reject", "quarantine", "warn"]
SNIFF_BYTES = 4096

_P_CHECKSUM = ox.NamedNode(str(TG.sourceChecksum))
_P_MAPPING = ox.NamedNode(str(TG.mappingVersion))


class GraphValidator(Protocol):
    """Validates one mapped graph before it is written (the SHACL layer provides one).

    A validator may also offer ``validate_unit(graphs, store) -> {graph IRI: issues}``; the
    pipeline then validates each unit's graphs in one pass, which is much cheaper.
    """

    def validate_graph(self, graph: MappedGraph, store: Store) -> list[Issue]:
        """Return the violations (severity ``error``) and warnings of ``graph``."""
        ...


def iter_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders recursively into files (sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            files.append(path)
    return files


def _common_root(paths: Sequence[Path]) -> Path:
    resolved = [p.resolve() for p in paths]
    if len(resolved) == 1:
        return resolved[0] if resolved[0].is_dir() else resolved[0].parent
    parts = zip(*(p.parts for p in resolved))
    common = [names[0] for names in parts if len(set(names)) == 1]
    return Path(*common) if common else Path("/")


_C_ENTITY = ox.NamedNode(str(PROV.Entity))
_C_SOURCE_RECORD_GRAPH = ox.NamedNode(str(TG.SourceRecordGraph))
_C_ACTIVITY = ox.NamedNode(str(PROV.Activity))
_P_SOURCE_KIND = ox.NamedNode(str(TG.sourceKind))
_P_GENERATED_BY = ox.NamedNode(str(PROV.wasGeneratedBy))
_P_GENERATED_AT = ox.NamedNode(str(PROV.generatedAtTime))
_P_READER_VERSION = ox.NamedNode(str(TG.readerVersion))
_P_ENDED_AT = ox.NamedNode(str(PROV.endedAtTime))
_P_ASSOCIATED_WITH = ox.NamedNode(str(PROV.wasAssociatedWith))
_P_ABOUT_PATIENT = ox.NamedNode(str(TG.aboutPatient))
_SOFTWARE = ox.NamedNode(f"https://w3id.org/theragraph/software/theragraph/{__version__}")
_READER_VERSION = to_literal(__version__)


@lru_cache(maxsize=64)
def _string_literal(value: str) -> ox.Literal:
    return to_literal(value)


@lru_cache(maxsize=8)
def _time_literal(value: datetime) -> ox.Literal:
    return to_literal(value)


def provenance_triples(graph: MappedGraph, *, generated_at: datetime) -> list[ox.Triple]:
    """Return the PROV-O description of a graph, attached to the graph IRI (design §1)."""
    g = ox.NamedNode(graph.graph)
    activity = ox.NamedNode(graph.graph + "/ingest")
    when = _time_literal(generated_at)  # one literal per unit (all its graphs share the time)
    triples = [
        ox.Triple(g, RDF_TYPE, _C_ENTITY),
        ox.Triple(g, RDF_TYPE, _C_SOURCE_RECORD_GRAPH),
        ox.Triple(g, _P_SOURCE_KIND, _string_literal(graph.kind)),
        ox.Triple(g, _P_GENERATED_BY, activity),
        ox.Triple(g, _P_GENERATED_AT, when),
        ox.Triple(g, _P_READER_VERSION, _READER_VERSION),
        ox.Triple(activity, RDF_TYPE, _C_ACTIVITY),
        ox.Triple(activity, _P_ENDED_AT, when),
        ox.Triple(activity, _P_ASSOCIATED_WITH, _SOFTWARE),
    ]
    if graph.source_checksum:
        triples.append(ox.Triple(g, _P_CHECKSUM, to_literal(graph.source_checksum)))
    if graph.mapping_version:
        triples.append(ox.Triple(g, _P_MAPPING, _string_literal(graph.mapping_version)))
    if graph.patient:
        triples.append(ox.Triple(g, _P_ABOUT_PATIENT, ox.NamedNode(graph.patient)))
    return triples


def _unchanged_graphs(store: Store, graphs: Sequence[MappedGraph]) -> set[str]:
    """Return the graphs whose stored checksum and mapping version equal the new ones (one query)."""
    keyed = [g for g in graphs if g.source_checksum]
    if not keyed:
        return set()
    values = " ".join(
        f"({ox.NamedNode(g.graph)} {to_literal(g.source_checksum)} {to_literal(g.mapping_version or '')})"
        for g in keyed
    )
    result = store.query(
        f"SELECT ?g WHERE {{ VALUES (?g ?c ?m) {{ {values} }} "
        f"GRAPH ?g {{ ?g {_P_CHECKSUM} ?c ; {_P_MAPPING} ?m }} }}",
        union_default_graph=False,
    )
    return {solution["g"].value for solution in result}


@dataclass(slots=True)
class _PendingUnit:
    """A unit whose write was submitted: what it writes and how each graph fared."""

    unit: IngestUnit
    writes: list[GraphWrite] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, list[Issue]] = field(default_factory=dict)
    quarantined: list[GraphWrite] = field(default_factory=list)
    future: Future[int] | None = None


class IngestPipeline:
    """Runs handlers over files and writes their graphs to one store."""

    def __init__(
        self,
        store: Store,
        ctx: IngestContext,
        *,
        handlers: list[SourceHandler] | None = None,
        validator: GraphValidator | None = None,
        on_invalid: OnInvalid = "reject",
        quarantine: Store | None = None,
    ) -> None:
        """Create a pipeline writing to ``store``.

        ``quarantine`` receives graphs that violate the shapes when ``on_invalid`` is
        ``quarantine`` (default: :func:`quarantine_store_for` ``store``, opened on first use).
        """
        self.store = store
        self._quarantine = quarantine
        self.ctx = ctx
        self.handlers = handlers if handlers is not None else default_handlers()
        self.validator = validator
        self.on_invalid = on_invalid
        if self.ctx.store is None:
            self.ctx.store = store

    def classify(self, files: list[Path], report: IngestReport) -> dict[str, list[Path]]:
        """Assign each file to the first handler whose sniff accepts it; report the rest."""
        groups: dict[str, list[Path]] = {h.kind: [] for h in self.handlers}
        for path in files:
            try:
                with path.open("rb") as fh:
                    head = fh.read(SNIFF_BYTES)
            except OSError as exc:
                report.add(FileOutcome(
                    path=self.ctx.relative(path), status="failed",
                    issues=[Issue(code="read.unreadable", message=f"cannot read file: {exc.strerror}")],
                ))
                continue
            for handler in self.handlers:
                if handler.sniff(path, head):
                    groups[handler.kind].append(path)
                    break
            else:
                report.add(FileOutcome(
                    path=self.ctx.relative(path), status="skipped",
                    issues=[Issue(
                        code="read.unknown-format",
                        message="not DICOM, FHIR JSON/NDJSON or a dosimetry report; "
                        "check the file is complete and in a supported format",
                    )],
                ))
        return groups

    def run(
        self, paths: Sequence[Path], *, progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Ingest every file under ``paths`` and return the report."""
        report = IngestReport()
        tick = progress or (lambda n: None)
        files = iter_files(paths)
        groups = self.classify(files, report)
        tick(len(files) - sum(len(v) for v in groups.values()))
        # One writer thread: pyoxigraph releases the GIL while it writes, so a handler that allows
        # it reads and maps unit N+1 while unit N is written. Each unit is still one transaction,
        # and unit N+1 is validated only after unit N has landed (it may reference unit N).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="theragraph-write") as writer:
            for handler in self.handlers:
                chunk = groups.get(handler.kind) or []
                if chunk:
                    self._run_handler(handler, chunk, tick, writer, report)
        report.counts.update(self.ctx.counts)
        return report

    def _run_handler(
        self,
        handler: SourceHandler,
        chunk: list[Path],
        tick: Callable[[int], None],
        writer: ThreadPoolExecutor,
        report: IngestReport,
    ) -> None:
        """Write every unit of one handler; a handler crash is reported, not raised."""
        overlap = getattr(handler, "overlaps_writes", False)
        pending: _PendingUnit | None = None
        try:
            for unit in handler.ingest(chunk, self.ctx, tick):
                if pending is not None:
                    pending, done = None, pending
                    self._finish_unit(done, report)
                started = self._start_unit(unit, writer)
                if overlap:
                    pending = started
                else:
                    self._finish_unit(started, report)
            if pending is not None:
                pending, done = None, pending
                self._finish_unit(done, report)
        except Exception as exc:  # a handler bug must not lose the other handlers' work
            if pending is not None:  # the unit read before the crash still lands and is reported
                self._finish_unit(pending, report)
            if self.ctx.fail_fast:
                raise
            log.debug("handler %s crashed:\n%s", handler.kind, traceback.format_exc())
            report.add(FileOutcome(
                path=self.ctx.relative(chunk[0].parent), status="failed", kind=handler.kind,
                issues=[Issue(code="internal.bug", message=f"{handler.kind} handler failed: {exc!r}")],
            ))

    def quarantine_store(self) -> Store:
        """Return the store that holds quarantined graphs, opening it on first use."""
        if self._quarantine is None:
            self._quarantine = quarantine_store_for(self.store)
        return self._quarantine

    def _validate(self, graphs: Sequence[MappedGraph]) -> dict[str, list[Issue]]:
        """Validate a unit's graphs, in one pass when the validator can (much cheaper)."""
        if self.validator is None:
            return {}
        validate_unit = getattr(self.validator, "validate_unit", None)
        if validate_unit is not None:
            return validate_unit(graphs, self.store)
        return {g.graph: self.validator.validate_graph(g, self.store) for g in graphs}

    def _start_unit(self, unit: IngestUnit, writer: ThreadPoolExecutor) -> _PendingUnit:
        """Check, validate and add provenance to a unit's graphs; submit its write to ``writer``.

        The store must already hold the previous unit (validation and the unchanged check read it).
        """
        now = datetime.now(UTC)
        pending = _PendingUnit(unit)
        unchanged_before = _unchanged_graphs(self.store, unit.graphs)
        # unchanged graphs were valid when they landed: only new content is validated
        unit_issues = self._validate([g for g in unit.graphs if g.graph not in unchanged_before])
        for graph in unit.graphs:
            if self.validator is not None:
                problems = unit_issues.get(graph.graph, [])
                errors = [p for p in problems if p.severity == "error"]
                graph.issues.extend(problems)
                if errors and self.on_invalid == "reject":
                    pending.rejected[graph.graph] = errors
                    continue
                if errors and self.on_invalid == "quarantine":
                    # the old valid version (if any) stays in the store, as with reject
                    pending.quarantined.append(GraphWrite(
                        graph.graph, graph.triples + provenance_triples(graph, generated_at=now)))
                    continue
            if graph.graph in unchanged_before:
                pending.unchanged.append(graph.graph)
                continue
            pending.writes.append(
                GraphWrite(graph.graph, graph.triples + provenance_triples(graph, generated_at=now)))
            pending.written.append(graph.graph)
        pending.future = writer.submit(self.store.replace_graphs, pending.writes)
        return pending

    def _finish_unit(self, pending: _PendingUnit, report: IngestReport) -> None:
        """Wait for a unit's write, update the quarantine and add the unit's outcomes to ``report``."""
        unit = pending.unit
        assert pending.future is not None
        try:
            quads = pending.future.result()
        except TheragraphError as exc:
            if self.ctx.fail_fast:
                raise
            for outcome in unit.outcomes:
                if outcome.status == "ingested":
                    outcome.status = "failed"
                    outcome.issues.append(Issue(code=exc.code, message=str(exc)))
            for outcome in unit.outcomes:
                report.add(outcome)
            return
        writes, written, quarantined = pending.writes, pending.written, pending.quarantined
        rejected, unchanged = pending.rejected, pending.unchanged
        report.graphs_written += len(writes)
        report.quads_written += quads
        if quarantined or (written and (self._quarantine is not None
                                        or self.on_invalid == "quarantine")):
            self._update_quarantine(quarantined, written)
        held = {w.graph for w in quarantined}
        issues_by_graph = {g.graph: g.issues for g in unit.graphs}
        for outcome in unit.outcomes:
            if outcome.status == "ingested":
                mine = set(outcome.graphs)
                for g in mine:
                    for issue in issues_by_graph.get(g, []):
                        if issue not in outcome.issues:
                            outcome.issues.append(issue)
                if mine and mine <= set(rejected):
                    outcome.status = "failed"
                elif mine and mine <= held:
                    outcome.status = "quarantined"
                elif mine and mine <= set(unchanged):
                    outcome.status = "unchanged"
            report.add(outcome)

    def _update_quarantine(self, quarantined: list[GraphWrite], written: list[str]) -> None:
        """Put invalid graphs in quarantine; release graphs that now landed valid."""
        store = self.quarantine_store()
        released = [g for g in written if store.graph_exists(g)]
        if released:
            store.delete_graphs(released)
        if quarantined:
            store.replace_graphs(quarantined)


def quarantine_store_for(store: Store) -> Store:
    """Return the quarantine store next to ``store``: ``<store>/quarantine`` on disk.

    A separate pyoxigraph store (not graph IRIs under a prefix) keeps quarantined graphs out of
    every query (the union default graph, the API, exports) without any reader excluding them.

    Raises:
        ConfigError: for a remote store, which has no place for a second store.
    """
    from theragraph.errors import ConfigError
    from theragraph.store.oxigraph import OxigraphStore

    if isinstance(store, OxigraphStore):
        if store.path is None:
            return OxigraphStore(None)
        return OxigraphStore(store.path / "quarantine")
    raise ConfigError("--on-invalid quarantine needs the embedded store; use reject or warn "
                      "with a remote SPARQL store", code="config.quarantine")
