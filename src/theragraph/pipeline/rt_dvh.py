"""DVHs of a batch's RT Dose instances over its RTSTRUCT ROIs and SEG segments.

Called by the DICOM handler at the end of a batch with the RT Dose series and the RTSTRUCT/SEG
series it grouped. Pairing, per RT Dose instance: the structure sets it names in
ReferencedStructureSetSequence; else those sharing its FrameOfReferenceUID (only those: contours
in another frame of reference would give meaningless numbers). One named graph per RT Dose:
``graph_iri("dvh", pseudo(SOPInstanceUID))``.

Problems: an unreadable file fails (its read code); a structure without a volume or outside the
grid is a warning on the DVH graph's outcome (``dvh.not-a-volume``, ``dvh.outside-dose-grid``);
an RT Dose with no structure set in the batch is counted (``dvh.no-structure-set``) and logged,
not failed, because most RT Dose objects arrive without one.
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


def _read_structure_sets(
    structure_series: list[SeriesFiles], ctx: IngestContext
) -> tuple[list[tuple[StructureSetRecord, Path]], list[FileOutcome]]:
    sets, failures = [], []
    for series in structure_series:
        for path in series.files:
            try:
                ds = read_dataset(path)
                issuer = ctx.issuer_system(str(ds.get("IssuerOfPatientID", "") or "") or None)
                sets.append((read_structure_set(ds, ctx.pseudonymizer, issuer_system=issuer), path))
            except (InputError, AttributeError, KeyError, ValueError, TypeError) as exc:
                code = exc.code if isinstance(exc, InputError) else "read.missing-attribute"
                failures.append(
                    FileOutcome(
                        path=f"{ctx.relative(path)}#dvh",
                        status="failed",
                        kind="dvh",
                        issues=[
                            Issue(
                                code=code, message=f"cannot read the structure set for DVHs: {exc}"
                            )
                        ],
                    )
                )
    return sets, failures


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
    sets, failures = _read_structure_sets(structure_series, ctx)
    if failures:
        yield IngestUnit(graphs=[], outcomes=failures)
    for series in rtdose_series:
        for path in series.files:
            rel = f"{ctx.relative(path)}#dvh"
            try:
                ds = read_dataset(path)
                issuer = ctx.issuer_system(str(ds.get("IssuerOfPatientID", "") or "") or None)
                grid = read_dose_grid(ds, ctx.pseudonymizer, issuer_system=issuer, path=path)
            except InputError as exc:
                yield IngestUnit(
                    graphs=[],
                    outcomes=[
                        FileOutcome(
                            path=rel,
                            status="failed",
                            kind="dvh",
                            issues=[Issue(code=exc.code, message=str(exc.args[0]))],
                        )
                    ],
                )
                continue
            paired = _paired(grid, sets)
            if not paired:
                ctx.count("dvh.no-structure-set")
                log.info(
                    "RT Dose %s: no structure set in the batch shares its frame of reference", rel
                )
                continue
            yield _unit(grid, paired, path, rel, ctx)


def _unit(
    grid: DoseGridRecord,
    paired: list[tuple[StructureSetRecord, Path]],
    path: Path,
    rel: str,
    ctx: IngestContext,
) -> IngestUnit:
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
            try:
                records.append(dose_volume(grid, structure_set, structure))
            except DvhError as exc:
                what = "ROINumber" if structure.kind == "roi" else "SegmentNumber"
                issues.append(
                    Issue(
                        code=exc.code,
                        severity="warning",
                        location=f"{what} {structure.number}",
                        message=str(exc),
                    )
                )
    ctx.count("dvh.structures", len(records))
    if not records:
        return IngestUnit(
            graphs=[], outcomes=[FileOutcome(path=rel, status="skipped", kind="dvh", issues=issues)]
        )
    checksum = ctx.pseudonymizer.token("checksum", _digest([path, *(p for _, p in paired)]))
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
