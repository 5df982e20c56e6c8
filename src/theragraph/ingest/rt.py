"""Read DICOM RT Dose grids, RTSTRUCT contours and SEG segments into de-identified records.

Knows DICOM (pydicom), not RDF. UIDs are pseudonymised on the way in; names, IDs and dates are
not read at all. Geometry follows PS3.3: RT Dose C.8.8.3 (GridFrameOffsetVector, DoseGridScaling,
DoseUnits), ROI Contour C.8.8.6 (ContourData triplets in patient coordinates, mm), Segmentation
C.8.20 (binary frames with PlanePositionSequence per frame).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from theragraph.errors import InputError
from theragraph.ids import Pseudonymizer
from theragraph.records.dosimetry import DoseGridRecord, StructureRecord, StructureSetRecord

RTDOSE_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.2"
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def read_dataset(path: Path) -> Dataset:
    """Read a DICOM file (tolerating a missing preamble, as old RT files often have).

    Raises:
        InputError: ``read.not-dicom`` or ``read.corrupt``.
    """
    try:
        return pydicom.dcmread(path, force=True)
    except InvalidDicomError as exc:
        raise InputError("not a DICOM file", path=path, code="read.not-dicom") from exc
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(f"cannot read DICOM: {exc}", path=path, code="read.corrupt") from exc


def _pseudo(pseudonymizer: Pseudonymizer, value: Any) -> str | None:
    return pseudonymizer.uid(str(value)) if value else None


def _patient(ds: Dataset, pseudonymizer: Pseudonymizer, issuer_system: str | None) -> str | None:
    patient_id = str(ds.get("PatientID", "") or "").strip()
    if not patient_id:
        return None
    system = (
        issuer_system
        or str(ds.get("IssuerOfPatientID", "") or "")
        or "urn:theragraph:default-issuer"
    )
    return pseudonymizer.patient(system, patient_id)


def _triplet(values: Any) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def read_dose_grid(
    ds: Dataset,
    pseudonymizer: Pseudonymizer,
    *,
    issuer_system: str | None = None,
    path: Path | None = None,
) -> DoseGridRecord:
    """Return the dose grid of an RT Dose dataset, scaled to DoseUnits (Gy or relative).

    Raises:
        InputError: ``read.missing-attribute`` when a geometry attribute or the pixels are missing.
    """
    try:
        pixels = ds.pixel_array
        scaling = float(ds.DoseGridScaling)
        origin = _triplet(ds.ImagePositionPatient)
        orientation = [float(v) for v in ds.ImageOrientationPatient]
        row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    except (AttributeError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"RT Dose lacks a grid attribute or pixel data: {exc}",
            path=path,
            code="read.missing-attribute",
        ) from exc
    dose = np.asarray(pixels, dtype=np.float64) * scaling
    if dose.ndim == 2:
        dose = dose[np.newaxis]
    offsets = [float(v) for v in (ds.get("GridFrameOffsetVector") or [0.0])]
    if len(offsets) != dose.shape[0]:
        raise InputError(
            "GridFrameOffsetVector does not match NumberOfFrames",
            path=path,
            code="read.missing-attribute",
        )
    # PS3.3 C.8.8.3.2: offsets are relative to ImagePositionPatient when the first is 0; when the
    # first equals ImagePositionPatient's z (legacy "absolute" form) make them relative.
    if offsets[0] != 0.0 and abs(offsets[0] - origin[2]) < 1e-3:
        offsets = [o - origin[2] for o in offsets]
    referenced = tuple(
        uid
        for item in ds.get("ReferencedStructureSetSequence", [])
        if (uid := _pseudo(pseudonymizer, item.get("ReferencedSOPInstanceUID")))
    )
    return DoseGridRecord(
        sop_uid=pseudonymizer.uid(str(ds.SOPInstanceUID)),
        series_uid=pseudonymizer.uid(str(ds.SeriesInstanceUID)),
        frame_of_reference_uid=_pseudo(pseudonymizer, ds.get("FrameOfReferenceUID")),
        study_uid=_pseudo(pseudonymizer, ds.get("StudyInstanceUID")),
        patient=_patient(ds, pseudonymizer, issuer_system),
        referenced_structure_set_uids=referenced,
        dose=dose,
        origin_mm=origin,
        row_direction=_triplet(orientation[:3]),
        column_direction=_triplet(orientation[3:]),
        row_spacing_mm=row_spacing,
        column_spacing_mm=column_spacing,
        frame_offsets_mm=tuple(offsets),
        dose_units=str(ds.get("DoseUnits", "GY")).upper(),
        dose_summation_type=str(ds.get("DoseSummationType", "")) or None,
    )


def read_structure_set(
    ds: Dataset, pseudonymizer: Pseudonymizer, *, issuer_system: str | None = None
) -> StructureSetRecord:
    """Return the ROIs of an RTSTRUCT or the segments of a SEG dataset.

    Raises:
        InputError: ``read.unknown-format`` for another SOP class.
    """
    sop_class = str(ds.get("SOPClassUID", ""))
    modality = str(ds.get("Modality", ""))
    if sop_class == SEG_SOP_CLASS or modality == "SEG":
        return _read_seg(ds, pseudonymizer, issuer_system)
    if sop_class != RTSTRUCT_SOP_CLASS and modality != "RTSTRUCT":
        raise InputError("not an RTSTRUCT or SEG instance", code="read.unknown-format")
    names = {
        int(r.ROINumber): str(r.get("ROIName", "") or "") or None
        for r in ds.get("StructureSetROISequence", [])
    }
    frames = {
        pseudonymizer.uid(str(item.FrameOfReferenceUID))
        for item in ds.get("ReferencedFrameOfReferenceSequence", [])
        if item.get("FrameOfReferenceUID")
    }
    frames |= {
        pseudonymizer.uid(str(r.ReferencedFrameOfReferenceUID))
        for r in ds.get("StructureSetROISequence", [])
        if r.get("ReferencedFrameOfReferenceUID")
    }
    structures = []
    for roi in ds.get("ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        contours, types = [], []
        for contour in roi.get("ContourSequence", []):
            data = np.asarray([float(v) for v in contour.ContourData], dtype=np.float64)
            contours.append(data.reshape(-1, 3))
            types.append(str(contour.get("ContourGeometricType", "")))
        structures.append(
            StructureRecord(
                kind="roi",
                number=number,
                name=names.get(number),
                contours=tuple(contours),
                geometric_types=tuple(types),
            )
        )
    return StructureSetRecord(
        kind="roi",
        sop_uid=pseudonymizer.uid(str(ds.SOPInstanceUID)),
        series_uid=pseudonymizer.uid(str(ds.SeriesInstanceUID)),
        frame_of_reference_uids=tuple(sorted(frames)),
        study_uid=_pseudo(pseudonymizer, ds.get("StudyInstanceUID")),
        patient=_patient(ds, pseudonymizer, issuer_system),
        structures=tuple(structures),
    )


def _read_seg(
    ds: Dataset, pseudonymizer: Pseudonymizer, issuer_system: str | None
) -> StructureSetRecord:
    pixels = np.asarray(ds.pixel_array)
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    shared = ds.get("SharedFunctionalGroupsSequence", [Dataset()])[0]
    measures = shared.get("PixelMeasuresSequence", [Dataset()])[0]
    spacing = tuple(float(v) for v in measures.get("PixelSpacing", [1.0, 1.0]))
    orient = shared.get("PlaneOrientationSequence", [Dataset()])[0].get(
        "ImageOrientationPatient", [1, 0, 0, 0, 1, 0]
    )
    per_frame = ds.get("PerFrameFunctionalGroupsSequence", [])
    if len(per_frame) != pixels.shape[0]:
        # PS3.3 C.7.6.16: one functional-group item per frame; a mismatch means a truncated file
        raise InputError(
            f"SEG has {pixels.shape[0]} frame(s) but {len(per_frame)} per-frame functional groups",
            code="read.corrupt",
        )
    per_segment: dict[int, list[tuple[int, tuple[float, float, float]]]] = {}
    for index, frame in enumerate(per_frame):
        number = int(frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        position = _triplet(frame.PlanePositionSequence[0].ImagePositionPatient)
        per_segment.setdefault(number, []).append((index, position))
    labels = {
        int(s.SegmentNumber): str(s.get("SegmentLabel", "") or "") or None
        for s in ds.get("SegmentSequence", [])
    }
    structures = []
    for number, frames in sorted(per_segment.items()):
        mask = pixels[[i for i, _ in frames]] > 0
        structures.append(
            StructureRecord(
                kind="segment",
                number=number,
                name=labels.get(number),
                mask=mask,
                mask_origins_mm=tuple(p for _, p in frames),
                mask_row_direction=_triplet(orient[:3]),
                mask_column_direction=_triplet(orient[3:]),
                mask_spacing_mm=(spacing[0], spacing[1]),
            )
        )
    return StructureSetRecord(
        kind="segment",
        sop_uid=pseudonymizer.uid(str(ds.SOPInstanceUID)),
        series_uid=pseudonymizer.uid(str(ds.SeriesInstanceUID)),
        frame_of_reference_uids=(
            (pseudonymizer.uid(str(ds.FrameOfReferenceUID)),)
            if ds.get("FrameOfReferenceUID")
            else ()
        ),
        study_uid=_pseudo(pseudonymizer, ds.get("StudyInstanceUID")),
        patient=_patient(ds, pseudonymizer, issuer_system),
        structures=tuple(structures),
    )
