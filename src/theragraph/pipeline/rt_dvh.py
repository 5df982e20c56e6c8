"""DVHs of a batch's RT Dose instances over its RTSTRUCT ROIs and SEG segments.

Called by the DICOM handler at the end of a batch with the RT Dose series and the RTSTRUCT/SEG
series it grouped. Pairing, per RT Dose instance: the structure sets it names in
ReferencedStructureSetSequence; else those sharing its FrameOfReferenceUID (only those: contours
in another frame of reference would give meaningless numbers). One named graph per RT Dose:
``graph_iri("dvh", pseudo(SOPInstanceUID))``.

Problems never fail a file here: the RT Dose and structure-set series themselves are reported
by the DICOM handler, and a DVH is a derived product. A structure without a volume or outside the
grid is a warning on the DVH graph's outcome (``dvh.not-a-volume``, ``dvh.outside-dose-grid``);
an RT Dose or structure set that cannot be read for DVHs (e.g. a header without pixel data), an
RT Dose with no structure set in the batch (``dvh.no-structure-set``) or one where no structure
gave a DVH are counted in the ingest report (``counts["dvh.skipped.<code>"]``) and logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from theragraph.derive.dvh import DvhError, dose_volume
from theragraph.errors import InputError
from theragraph.ids import patient_iri
from theragraph.ingest.rt import read_dataset, read_dose_grid, read_structure_set
from theragraph.mapping.dvh import map_dvhs
from theragraph.pipeline.sources import IngestContext, IngestUnit, SeriesFiles
from theragraph.records.dosimetry import DoseGridRecord, DoseVolumeRecord, StructureSetRecord
from theragraph.report import FileOutcome, Issue

log = logging.getLogger(__name__)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _code_of(exc: Exception, ctx: IngestContext) -> str:
    """Return the code of a reading failure; unexpected ones are bugs (raised on fail-fast)."""
    if isinstance(exc, InputError):
        return exc.code
    if isinstance(exc, (AttributeError, KeyError, ValueError, TypeError, IndexError)):
        return "read.missing-attribute"  # malformed or incomplete RT headers
    if ctx.fail_fast:
        raise exc
    log.debug("DVH input crashed", exc_info=exc)
    return "internal.bug"


def _skip(ctx: IngestContext, code: str, what: str, reason: object) -> None:
    ctx.count(f"dvh.skipped.{code}")
    log.warning("no DVH for %s (%s): %s", what, code, reason)


def _read_structure_sets(
    structure_series: list[SeriesFiles], ctx: IngestContext
) -> list[tuple[StructureSetRecord, Path]]:
    sets = []
    for series in structure_series:
        for path in series.files:
            try:
                ds = read_dataset(path)
                issuer = ctx.issuer_system(str(ds.get("IssuerOfPatientID", "") or "") or None)
                sets.append((read_structure_set(ds, ctx.pseudonymizer, issuer_system=issuer), path))
            except Exception as exc:  # a DVH must never cost the DICOM batch its other units
                code = _code_of(exc, ctx)
                _skip(ctx, code, ctx.relative(path), exc)
    return sets


def _paired(
    grid: DoseGridRecord, sets: list[tuple[StructureSetRecord, Path]]
) -> list[tuple[StructureSetRecord, Path]]:
    if grid.referenced_structure_set_uids:
        named = [s for s in sets if s[0].sop_uid in grid.referenced_structure_set_uids]
        if named:
            return named
    if grid.frame_of_reference_uid is None:
        return []
    return [s for s in sets if grid.frame_of_reference_uid in s[0].frame_of_reference_uids]


def dvh_units(
    rtdose_series: list[SeriesFiles], structure_series: list[SeriesFiles], ctx: IngestContext
) -> Iterator[IngestUnit]:
    """Yield one unit per RT Dose instance that has a structure set in the batch.

    Args:
        rtdose_series: the batch's RTDOSE series (original UIDs; never stored).
        structure_series: the batch's RTSTRUCT and SEG series.
        ctx: the ingest context (pseudonymizer, issuer map, counters).
    """
    sets = _read_structure_sets(structure_series, ctx)
    for series in rtdose_series:
        for path in series.files:
            rel = f"{ctx.relative(path)}#dvh"
            try:
                ds = read_dataset(path)
                issuer = ctx.issuer_system(str(ds.get("IssuerOfPatientID", "") or "") or None)
                grid = read_dose_grid(ds, ctx.pseudonymizer, issuer_system=issuer, path=path)
            except Exception as exc:  # a DVH must never cost the DICOM batch its other units
                code = _code_of(exc, ctx)
                _skip(ctx, code, rel, exc)
                continue
            paired = _paired(grid, sets)
            if not paired:
                reason = "no structure set in the batch is referenced by it or shares its frame"
                _skip(ctx, "dvh.no-structure-set", rel, reason)
                continue
            unit = _unit(grid, paired, path, rel, ctx)
            if unit is not None:
                yield unit


def _unit(
    grid: DoseGridRecord,
    paired: list[tuple[StructureSetRecord, Path]],
    path: Path,
    rel: str,
    ctx: IngestContext,
) -> IngestUnit | None:
    records: list[DoseVolumeRecord] = []
    issues: list[Issue] = []
    if grid.dose_units != "GY":
        issues.append(
            Issue(
                code="dvh.relative-dose",
                severity="warning",
                location="DoseUnits (3004,0002)",
                message=f"DoseUnits is {grid.dose_units}: statistics are in relative units, not Gy",
            )
        )
    for structure_set, _ in paired:
        for structure in structure_set.structures:
            what = "ROINumber" if structure.kind == "roi" else "SegmentNumber"
            try:
                records.append(dose_volume(grid, structure_set, structure))
            except DvhError as exc:
                issues.append(
                    Issue(
                        code=exc.code,
                        severity="warning",
                        location=f"{what} {structure.number}",
                        message=str(exc),
                    )
                )
            except Exception as exc:  # one odd structure must not cost the others their DVH
                if ctx.fail_fast:
                    raise
                log.debug("DVH crashed", exc_info=exc)
                issues.append(
                    Issue(
                        code="internal.bug",
                        severity="warning",
                        location=f"{what} {structure.number}",
                        message=f"DVH computation failed: {exc!r}",
                    )
                )
    ctx.count("dvh.structures", len(records))
    if not records:
        for issue in issues:
            _skip(ctx, issue.code, f"{rel} {issue.location or ''}".strip(), issue.message)
        return None
    checksum = ctx.pseudonymizer.checksum(_digest([path, *(p for _, p in paired)]))
    patient = str(patient_iri(grid.patient)) if grid.patient else None
    graph = map_dvhs(grid.sop_uid, records, patient=patient, source_checksum=checksum)
    graph.issues.extend(issues)
    return IngestUnit(
        graphs=[graph],
        outcomes=[
            FileOutcome(
                path=rel, status="ingested", kind="dvh", graphs=[graph.graph], issues=list(issues)
            )
        ],
    )
