"""Typed, de-identified records of one dosimetry report and of RT Dose statistics.

Every value is already normalised to the unit in its name, every time is shifted by the patient's
date shift, and every identifier is pseudonymous (UIDs as ``2.25.<int>``, the patient as its
HMAC pseudonym, the report and the administration as tokens). Nothing here is PHI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A coded concept (system URI, code, optional display)."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class TherapyCycleRecord:
    """One radiopharmaceutical administration (therapy cycle)."""

    cycle_number: int
    radiopharmaceutical: CodeRecord | None = None
    radionuclide: CodeRecord | None = None
    administered_activity_mbq: float | None = None
    administration_time: datetime | None = None
    #: ``token("administration", f"{system}|{value}")`` of the MedicationAdministration identifier.
    administration_key: str | None = None


@dataclass(frozen=True, slots=True)
class TimePointRecord:
    """One imaging time point (a quantitative SPECT/PET series)."""

    id: str
    pointer: str
    series_uid: str | None = None  # pseudonymised SeriesInstanceUID
    acquisition_time: datetime | None = None
    hours_post_administration: float | None = None
    modality: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentationRefRecord:
    """The RTSTRUCT ROI or SEG segment a VOI was delineated with (pseudonymised UIDs)."""

    kind: str  # "roi" or "segment"
    series_uid: str
    number: int
    sop_instance_uid: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """Activity in a VOI at one time point."""

    time_point_id: str
    activity_mbq: float
    uncertainty_percent: float | None = None


@dataclass(frozen=True, slots=True)
class FitRecord:
    """A time-activity curve fit."""

    model: str
    parameters: dict[str, float] = field(default_factory=dict)
    r_squared: float | None = None
    aic: float | None = None


@dataclass(frozen=True, slots=True)
class UptakeRecord:
    """A VOI's uptake on the baseline (pre-therapy) PET."""

    suv_mean: float
    suv_max: float | None = None
    suv_type: str = "bw"
    series_uid: str | None = None  # pseudonymised SeriesInstanceUID of the PET


@dataclass(frozen=True, slots=True)
class BedRecord:
    """A BED and EQD2 derived at ingest (theragraph.derive.bed) with what it used."""

    bed_gy: float
    eqd2_gy: float
    tissue: str
    alpha_beta_gy: float
    repair_half_time_h: float
    effective_half_life_h: float
    half_life_basis: str  # "fit" (mono-exponential fit) or "physical" (radionuclide decay only)
    source: str


@dataclass(frozen=True, slots=True)
class VoiRecord:
    """One volume of interest (organ or lesion) and its dosimetry chain."""

    id: str
    type: str  # "organ" or "lesion"
    pointer: str
    label: str | None = None
    anatomy: CodeRecord | None = None
    segmentation: SegmentationRefRecord | None = None
    mass_g: float | None = None
    volume_ml: float | None = None
    activities: tuple[ActivityRecord, ...] = ()
    fit: FitRecord | None = None
    time_integrated_activity_mbq_h: float | None = None
    time_integrated_activity_uncertainty_percent: float | None = None
    absorbed_dose_gy: float | None = None
    absorbed_dose_uncertainty_percent: float | None = None
    absorbed_dose_per_activity_gy_per_gbq: float | None = None
    baseline_uptake: UptakeRecord | None = None


@dataclass(frozen=True, slots=True)
class MethodRecord:
    """Dosimetry method, software and calibration."""

    name: str
    software_name: str | None = None
    software_version: str | None = None
    calibration_factor_value: float | None = None
    calibration_factor_unit: str | None = None
    calibration_reference: str | None = None


@dataclass(frozen=True, slots=True)
class DosimetryReportRecord:
    """One de-identified dosimetry report."""

    report_key: str  # token("dosimetry", report_id)
    patient: str  # patient pseudonym
    format_version: str
    cycle: TherapyCycleRecord
    method: MethodRecord
    time_points: tuple[TimePointRecord, ...] = ()
    vois: tuple[VoiRecord, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoseVolumeRecord:
    """Dose statistics and cumulative DVH of one structure in one RT Dose (pseudonymised keys)."""

    rtdose_sop_uid: str
    rtdose_series_uid: str
    structure_sop_uid: str
    structure_series_uid: str
    structure_kind: str  # "roi" or "segment"
    number: int
    name: str | None
    voxel_count: int
    volume_ml: float
    mean_gy: float
    min_gy: float
    max_gy: float
    d_percent_gy: dict[int, float]  # {2: D2, 50: D50, 90: D90, 98: D98}
    v_gy_percent: dict[float, float]  # {20.0: V20Gy in % of the volume, ...}
    dvh_dose_gy: tuple[float, ...]  # cumulative DVH: dose bins (Gy) ...
    dvh_volume_percent: tuple[float, ...]  # ... and the % of volume receiving at least that dose
    dose_units: str = "GY"  # DoseUnits: GY or RELATIVE


@dataclass(frozen=True, slots=True)
class DoseGridRecord:
    """An RT Dose grid in Gy (or relative units), with its geometry in patient coordinates (mm).

    ``dose`` has shape (frames, rows, columns); voxel (k, r, c) has its centre at
    ``origin + c·column_spacing·row_direction + r·row_spacing·column_direction + offsets[k]·normal``
    (PS3.3 C.7.6.2.1.1 and C.8.8.3.2 GridFrameOffsetVector, relative to ImagePositionPatient).
    """

    sop_uid: str  # pseudonymised
    series_uid: str  # pseudonymised
    frame_of_reference_uid: str | None  # pseudonymised
    study_uid: str | None  # pseudonymised
    patient: str | None  # pseudonym
    referenced_structure_set_uids: tuple[str, ...]  # pseudonymised
    dose: Any  # numpy float64 array (frames, rows, columns)
    origin_mm: tuple[float, float, float]
    row_direction: tuple[float, float, float]
    column_direction: tuple[float, float, float]
    row_spacing_mm: float
    column_spacing_mm: float
    frame_offsets_mm: tuple[float, ...]
    dose_units: str = "GY"
    dose_summation_type: str | None = None


@dataclass(frozen=True, slots=True)
class StructureRecord:
    """One RTSTRUCT ROI (closed planar contours) or SEG segment (a binary mask on its own grid)."""

    kind: str  # "roi" or "segment"
    number: int
    name: str | None
    #: ROI: contour polygons, each an (N, 3) float array in patient coordinates (mm)
    contours: tuple[Any, ...] = ()
    geometric_types: tuple[str, ...] = ()
    #: SEG: mask (frames, rows, columns) of bool and the voxel-centre positions of its frames
    mask: Any = None
    mask_origins_mm: tuple[tuple[float, float, float], ...] = ()
    mask_row_direction: tuple[float, float, float] = (1.0, 0.0, 0.0)
    mask_column_direction: tuple[float, float, float] = (0.0, 1.0, 0.0)
    mask_spacing_mm: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True, slots=True)
class StructureSetRecord:
    """An RTSTRUCT or SEG instance: its structures and the keys that pair it with a dose grid."""

    kind: str  # "roi" (RTSTRUCT) or "segment" (SEG)
    sop_uid: str  # pseudonymised
    series_uid: str  # pseudonymised
    frame_of_reference_uids: tuple[str, ...]  # pseudonymised
    study_uid: str | None
    patient: str | None
    structures: tuple[StructureRecord, ...] = ()
