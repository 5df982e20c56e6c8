"""Builders for real RT Dose, RTSTRUCT and SEG files written with pydicom (tests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

RTDOSE = "1.2.840.10008.5.1.4.1.1.481.2"
RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"


def _base(
    path: Path,
    sop_class: str,
    modality: str,
    *,
    patient_id: str,
    study: str,
    frame_of_reference: str,
    series: str | None = None,
    sop: str | None = None,
) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = patient_id
    ds.PatientName = "Doe^Jane"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series or generate_uid()
    ds.FrameOfReferenceUID = frame_of_reference
    return ds


def write_rtdose(
    path: Path,
    dose_gy: np.ndarray,
    *,
    origin: tuple[float, float, float],
    spacing_mm: float,
    patient_id: str = "PAT-RT-1",
    study: str = "1.2.3.4.100",
    frame_of_reference: str = "1.2.3.4.200",
    scaling: float = 1e-5,
    structure_set_sop: str | None = None,
) -> FileDataset:
    """Write an RT Dose of shape (frames, rows, cols) in Gy; frames ``spacing_mm`` apart."""
    ds = _base(
        path,
        RTDOSE,
        "RTDOSE",
        patient_id=patient_id,
        study=study,
        frame_of_reference=frame_of_reference,
    )
    frames, rows, cols = dose_gy.shape
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.ImagePositionPatient = list(origin)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [spacing_mm, spacing_mm]
    ds.GridFrameOffsetVector = [i * spacing_mm for i in range(frames)]
    ds.FrameIncrementPointer = (0x3004, 0x000C)
    ds.DoseUnits, ds.DoseType, ds.DoseSummationType = "GY", "PHYSICAL", "PLAN"
    ds.DoseGridScaling = scaling
    if structure_set_sop:
        ref = Dataset()
        ref.ReferencedSOPClassUID = RTSTRUCT
        ref.ReferencedSOPInstanceUID = structure_set_sop
        ds.ReferencedStructureSetSequence = Sequence([ref])
    ds.PixelData = np.rint(dose_gy / scaling).astype(np.uint32).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return ds


def circle(
    radius: float, z: float, *, centre: tuple[float, float] = (0.0, 0.0), points: int = 256
) -> np.ndarray:
    """Return a closed planar circular contour (N, 3)."""
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    return np.column_stack(
        [centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t), np.full(points, z)]
    )


def sphere_contours(radius: float, planes: np.ndarray) -> list[np.ndarray]:
    """Return circular contours of a sphere at the origin on the given z planes."""
    return [circle(float(np.sqrt(radius**2 - z**2)), float(z)) for z in planes if abs(z) < radius]


def write_rtstruct(
    path: Path,
    rois: dict[int, tuple[str, list[np.ndarray]]],
    *,
    patient_id: str = "PAT-RT-1",
    study: str = "1.2.3.4.100",
    frame_of_reference: str = "1.2.3.4.200",
    sop: str | None = None,
) -> FileDataset:
    """Write an RTSTRUCT with closed planar contours per ROI number."""
    ds = _base(
        path,
        RTSTRUCT,
        "RTSTRUCT",
        patient_id=patient_id,
        study=study,
        frame_of_reference=frame_of_reference,
        sop=sop,
    )
    ref_for = Dataset()
    ref_for.FrameOfReferenceUID = frame_of_reference
    ds.ReferencedFrameOfReferenceSequence = Sequence([ref_for])
    ds.StructureSetLabel = "test"
    rois_seq, contours_seq = [], []
    for number, (name, contours) in rois.items():
        roi = Dataset()
        roi.ROINumber, roi.ROIName = number, name
        roi.ReferencedFrameOfReferenceUID = frame_of_reference
        rois_seq.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = number
        items = []
        for contour in contours:
            item = Dataset()
            item.ContourGeometricType = "CLOSED_PLANAR"
            item.NumberOfContourPoints = len(contour)
            item.ContourData = [f"{v:.4f}" for v in contour.ravel()]
            items.append(item)
        rc.ContourSequence = Sequence(items)
        contours_seq.append(rc)
    ds.StructureSetROISequence = Sequence(rois_seq)
    ds.ROIContourSequence = Sequence(contours_seq)
    ds.save_as(path, enforce_file_format=True)
    return ds


def write_seg(
    path: Path,
    mask: np.ndarray,
    *,
    origin: tuple[float, float, float],
    spacing_mm: float,
    segment_number: int = 1,
    label: str = "lesion",
    patient_id: str = "PAT-RT-1",
    study: str = "1.2.3.4.100",
    frame_of_reference: str = "1.2.3.4.200",
) -> FileDataset:
    """Write a binary SEG with one segment: mask (frames, rows, cols) on an axial grid."""
    ds = _base(
        path, SEG, "SEG", patient_id=patient_id, study=study, frame_of_reference=frame_of_reference
    )
    frames, rows, cols = mask.shape
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.SegmentationType = "BINARY"
    segment = Dataset()
    segment.SegmentNumber, segment.SegmentLabel = segment_number, label
    ds.SegmentSequence = Sequence([segment])
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [spacing_mm, spacing_mm]
    measures.SliceThickness = spacing_mm
    shared.PixelMeasuresSequence = Sequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for k in range(frames):
        item = Dataset()
        ident = Dataset()
        ident.ReferencedSegmentNumber = segment_number
        item.SegmentIdentificationSequence = Sequence([ident])
        position = Dataset()
        position.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing_mm]
        item.PlanePositionSequence = Sequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = np.packbits(mask.astype(np.uint8).ravel(), bitorder="little").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return ds
