"""Source handler for dosimetry reports (JSON format v1 and the CSV long format).

Sniffs by content, reads and de-identifies with :mod:`theragraph.ingest.dosimetry`, resolves the
report's references against the store (records ingested earlier, including the DICOM and FHIR
files of the same batch: their handlers run first), and maps each report to its named graph.

A dangling reference (a time point's series, a VOI's RTSTRUCT ROI / SEG segment, or the
MedicationAdministration not found) is a ``link.dangling-reference`` *warning* located by JSON
pointer: the report still lands, because reports often arrive before their images; a later
re-ingest (or the cross-source SHACL shape) shows whether the reference has been filled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from theragraph.ids import graph_iri, patient_iri
from theragraph.ingest.dosimetry import ReadOutcome, read_report, read_report_bytes
from theragraph.ingest.dosimetry_csv import is_csv_header, read_csv_documents
from theragraph.mapping.base import MappedGraph, to_literal
from theragraph.mapping.dosimetry import map_report, report_graph_iri, series_iri, structure_iri
from theragraph.pipeline.sources import IngestContext, IngestUnit
from theragraph.records.dosimetry import DosimetryReportRecord
from theragraph.report import FileOutcome, Issue
from theragraph.store.base import Store
from theragraph.vocab import TG, TGR

_FORMAT_MARK = b'"theragraph-dosimetry-report"'
#: Reports written per store transaction (each report is still its own named graph and outcome).
BATCH_REPORTS = 64


class DosimetryHandler:
    """Dosimetry reports, end to end."""

    kind = "dosimetry"

    def sniff(self, path: Path, head: bytes) -> bool:
        """Return True for a JSON object declaring the report format, or the CSV header."""
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped.startswith(b"{") and _FORMAT_MARK in head and b'"format"' in head:
            return True
        return is_csv_header(stripped)

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Read, check references, and map each report; up to BATCH_REPORTS per write."""
        graphs: list[MappedGraph] = []
        outcomes: list[FileOutcome] = []
        for unit in self._units(files, ctx, progress):
            graphs.extend(unit.graphs)
            outcomes.extend(unit.outcomes)
            if len(outcomes) >= BATCH_REPORTS:
                yield IngestUnit(graphs=graphs, outcomes=outcomes)
                graphs, outcomes = [], []
        if outcomes:
            yield IngestUnit(graphs=graphs, outcomes=outcomes)

    def _units(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Yield one unit per report (a CSV file may hold several)."""
        for path in files:
            rel = ctx.relative(path)
            try:
                content = path.read_bytes()
            except OSError as exc:
                yield _failed(
                    rel, [Issue(code="read.unreadable", message=f"cannot read: {exc.strerror}")]
                )
                progress(1)
                continue
            checksum = ctx.pseudonymizer.checksum(hashlib.sha256(content).hexdigest())
            if is_csv_header(content.lstrip(b"\xef\xbb\xbf")):
                documents, row_issues = read_csv_documents(content)
                if row_issues and not documents:
                    yield _failed(rel, row_issues)
                for n, document in enumerate(documents, start=1):
                    outcome = read_report(document, pseudonymizer=ctx.pseudonymizer)
                    name = f"{rel}#report{n}" if len(documents) > 1 else rel
                    yield self._unit(
                        name, outcome, ctx, f"{checksum}/{n}", row_issues if n == 1 else []
                    )
            else:
                outcome = read_report_bytes(content, pseudonymizer=ctx.pseudonymizer)
                yield self._unit(rel, outcome, ctx, checksum, [])
            progress(1)

    def _unit(
        self, rel: str, outcome: ReadOutcome, ctx: IngestContext, checksum: str, extra: list[Issue]
    ) -> IngestUnit:
        record = outcome.record
        if record is None:
            ctx.count("dosimetry.rejected")
            return _failed(rel, extra + outcome.issues)
        resolved = resolve_references(record, ctx.store)
        link_issues = resolved.issues
        graph: MappedGraph = map_report(
            record,
            source_checksum=checksum,
            structure_iris=resolved.structures,
            administration_iri=resolved.administration,
        )
        graph.issues.extend(extra + outcome.issues + link_issues)
        ctx.count("dosimetry.reports")
        ctx.count("dosimetry.dangling-references", len(link_issues))
        return IngestUnit(
            graphs=[graph],
            outcomes=[
                FileOutcome(
                    path=rel,
                    status="ingested",
                    kind="dosimetry",
                    graphs=[graph.graph],
                    issues=list(graph.issues),
                )
            ],
        )


def _failed(rel: str, issues: list[Issue]) -> IngestUnit:
    return IngestUnit(
        graphs=[],
        outcomes=[FileOutcome(path=rel, status="failed", kind="dosimetry", issues=issues)],
    )


def _subject_exists(store: Store, iri: str) -> bool:
    return bool(
        store.query("ASK { GRAPH ?g { ?s ?p ?o } }", substitutions={"s": ox.NamedNode(iri)})
    )


def _find_structure(store: Store, kind: str, series_uid: str, number: int) -> str | None:
    """Find the ROI/segment numbered ``number`` in the RTSTRUCT/SEG series' graph, by IRI shape."""
    rows = store.query(
        "SELECT ?s ?g ?prefix ?suffix WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER(STRSTARTS(STR(?s), ?prefix) && STRENDS(STR(?s), ?suffix)) } LIMIT 1",
        substitutions={
            "g": ox.NamedNode(str(graph_iri("dicom-series", series_uid))),
            "prefix": ox.Literal(f"{TGR}{kind}/"),
            "suffix": ox.Literal(f"/{number}"),
        },
    )
    for row in rows:
        return str(row["s"].value)
    return None


@dataclass(slots=True)
class ResolvedReferences:
    """What a report's references resolved to in the store, and the dangling ones."""

    structures: dict[str, str] = field(default_factory=dict)  # VOI id -> ROI/segment IRI
    administration: str | None = None  # FHIR MedicationAdministration node IRI
    issues: list[Issue] = field(default_factory=list)


def resolve_references(record: DosimetryReportRecord, store: Store | None) -> ResolvedReferences:
    """Resolve a report's series, structure and administration references against the store.

    Returns:
        The structures and administration found, and one ``link.dangling-reference`` warning
        (JSON pointer + reason) per reference not found. Without a store nothing is checked.
    """
    if store is None:
        return ResolvedReferences()
    issues: list[Issue] = []
    for tp in record.time_points:
        if tp.series_uid and not _subject_exists(store, series_iri(tp.series_uid)):
            issues.append(
                Issue(
                    code="link.dangling-reference",
                    severity="warning",
                    location=f"{tp.pointer}/series_instance_uid",
                    message="the time point's DICOM series is not in the store or this batch; "
                    "ingest the series (the report lands and links once it arrives)",
                )
            )
    structures: dict[str, str] = {}
    for voi in record.vois:
        seg = voi.segmentation
        if seg is None:
            continue
        found = None
        if seg.sop_instance_uid:
            candidate = structure_iri(seg.kind, seg.sop_instance_uid, seg.number)
            found = candidate if _subject_exists(store, candidate) else None
        else:
            found = _find_structure(store, seg.kind, seg.series_uid, seg.number)
        if found is None:
            what = "ROI" if seg.kind == "roi" else "segment"
            issues.append(
                Issue(
                    code="link.dangling-reference",
                    severity="warning",
                    location=f"{voi.pointer}/segmentation",
                    message=f"the VOI's {what} number {seg.number} is not in the referenced "
                    f"{'RTSTRUCT' if seg.kind == 'roi' else 'SEG'} series in the store or batch; "
                    "ingest that series or fix the number",
                )
            )
        else:
            structures[voi.id] = found
    administration = _find_administration(store, record)
    if administration is None and record.cycle.administration_key is not None:
        issues.append(
            Issue(
                code="link.dangling-reference",
                severity="warning",
                location="/therapy_cycle/medication_administration",
                message="no MedicationAdministration with this identifier (or this patient and "
                "cycle number) is in the store or this batch; ingest the FHIR record and re-ingest",
            )
        )
    return ResolvedReferences(structures, administration, issues)


def _find_administration(store: Store, record: DosimetryReportRecord) -> str | None:
    """Find the cycle's FHIR MedicationAdministration: by join key, else patient + cycle/time."""
    mine = report_graph_iri(record.report_key)
    key = record.cycle.administration_key
    if key is not None:
        rows = store.query(
            "SELECT ?ma ?g ?p ?k WHERE { GRAPH ?g { ?ma ?p ?k } }",
            substitutions={"p": ox.NamedNode(str(TG.administrationKey)), "k": ox.Literal(key)},
        )
        for row in rows:
            if str(row["g"].value) != mine:
                return str(row["ma"].value)
    # Fallbacks while the FHIR mapping does not emit tg:administrationKey: a FHIR
    # MedicationAdministration node (by its IRI shape, docs/contracts.md) of the same patient with
    # the same cycle number, else with the same (equally date-shifted) administration time.
    candidates: list[tuple[ox.NamedNode, ox.Literal]] = [
        (ox.NamedNode(str(TG.cycleNumber)), to_literal(record.cycle.cycle_number, "integer"))
    ]
    if record.cycle.administration_time is not None:
        candidates.append((ox.NamedNode(str(TG.administrationTime)),
                           to_literal(record.cycle.administration_time, "dateTime")))
    for predicate, value in candidates:
        rows = store.query(
            "SELECT ?ma ?g ?hp ?patient ?p ?v ?prefix "
            "WHERE { GRAPH ?g { ?ma ?hp ?patient ; ?p ?w } "
            "FILTER(STRSTARTS(STR(?ma), ?prefix) && ?w = ?v) }",
            substitutions={
                "hp": ox.NamedNode(str(TG.hasPatient)),
                "patient": ox.NamedNode(str(patient_iri(record.patient))),
                "p": predicate,
                "v": value,
                "prefix": ox.Literal(f"{TGR}fhir/MedicationAdministration/"),
            },
        )
        for row in rows:
            if str(row["g"].value) != mine:
                return str(row["ma"].value)
    return None
