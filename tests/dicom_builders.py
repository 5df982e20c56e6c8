"""Builders of real DICOM files (written with pydicom) for the DICOM ingest tests.

Each builder returns a pydicom Dataset with sensible defaults; keyword overrides replace or (with
None) delete attributes, e.g. ``pet_dataset(PatientWeight=None)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

PET = "1.2.840.10008.5.1.4.1.1.128"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
NM = "1.2.840.10008.5.1.4.1.1.20"
RTDOSE = "1.2.840.10008.5.1.4.1.1.481.2"
RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
RTPLAN = "1.2.840.10008.5.1.4.1.1.481.5"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"
LABELMAP_SEG = "1.2.840.10008.5.1.4.1.1.66.7"

#: Identifying values every builder plants, so PHI tests can search for them.
PHI = {
    "PatientName": "Doe^Johnathan",
    "PatientID": "MRN-98765",
    "PatientBirthDate": "19580317",
    "PatientAddress": "42 Acacia Avenue Springfield",
    "InstitutionName": "Saint Elsewhere Hospital",
    "ReferringPhysicianName": "House^Gregory",
    "AccessionNumber": "ACC-55501",
    "OtherPatientIDs": "OTHER-ID-777",
    "ImageComments": "patient anxious, wife Martha called",
    "StudyDescription": "PSMA PET for Johnathan",
}


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def base_dataset(
    sop_class: str, modality: str, *, study_uid: str, series_uid: str, sop_uid: str | None = None,
    patient_id: str = PHI["PatientID"], **overrides: Any,
) -> Dataset:
    """Return a composite instance with patient/study/series modules and planted PHI."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid or generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid(study_uid)
    ds.Modality = modality
    ds.PatientName = PHI["PatientName"]
    ds.PatientID = patient_id
    ds.IssuerOfPatientID = "HOSP-A"
    ds.PatientBirthDate = PHI["PatientBirthDate"]
    ds.PatientAddress = PHI["PatientAddress"]
    ds.OtherPatientIDs = PHI["OtherPatientIDs"]
    ds.PatientSex = "M"
    ds.PatientAge = "066Y"
    ds.PatientWeight = "81.5"
    ds.PatientSize = "1.78"
    ds.InstitutionName = PHI["InstitutionName"]
    ds.ReferringPhysicianName = PHI["ReferringPhysicianName"]
    ds.AccessionNumber = PHI["AccessionNumber"]
    ds.StudyDescription = PHI["StudyDescription"]
    ds.ImageComments = PHI["ImageComments"]
    ds.StudyDate = "20240110"
    ds.StudyTime = "101500"
    ds.SeriesDate = "20240110"
    ds.SeriesTime = "111500"
    ds.StudyID = "STUDY-12"
    ds.SeriesNumber = 3
    ds.Manufacturer = "ACME Medical"
    ds.ManufacturerModelName = "Scanatron 9000"
    ds.SoftwareVersions = "VG80"
    ds.DeviceSerialNumber = "SN-XYZ-0042"
    ds.TimezoneOffsetFromUTC = "+0100"
    # a private block: creator and value must never reach the graph
    block = ds.private_block(0x0019, "ACME PRIVATE GROUP", create=True)
    block.add_new(0x10, "LO", "Private Johnathan Note")
    for key, value in overrides.items():
        if value is None:
            if key in ds:
                delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def add_pixels(ds: Dataset, rows: int = 4, cols: int = 4, *, value: int = 1) -> Dataset:
    """Attach a tiny 16-bit image."""
    ds.Rows = rows
    ds.Columns = cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = (np.full((rows, cols), value, dtype=np.uint16)).tobytes()
    return ds


def radiopharmaceutical(**overrides: Any) -> Dataset:
    """Return a RadiopharmaceuticalInformationSequence item (18F-FDG, 350 MBq)."""
    item = Dataset()
    item.Radiopharmaceutical = "Fluorodeoxyglucose"
    item.RadiopharmaceuticalStartTime = "101500"
    item.RadiopharmaceuticalStartDateTime = "20240110101500"
    item.RadionuclideTotalDose = "350000000"
    item.RadionuclideHalfLife = "6586.2"
    item.RadionuclidePositronFraction = "0.97"
    item.RadionuclideCodeSequence = Sequence([_code("77004003", "SCT", "Fluorine-18")])
    item.RadiopharmaceuticalCodeSequence = Sequence([_code("35321007", "SCT", "Fludeoxyglucose F^18^")])
    for key, value in overrides.items():
        if value is None:
            delattr(item, key)
        else:
            setattr(item, key, value)
    return item


def pet_dataset(*, study_uid: str, series_uid: str, index: int = 0, **overrides: Any) -> Dataset:
    """Return one PET slice (Units BQML, decay-corrected to START)."""
    rp = overrides.pop("radiopharmaceutical_item", None) or radiopharmaceutical()
    ds = base_dataset(PET, "PT", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.Units = "BQML"
    ds.CorrectedImage = ["ATTN", "DECY", "SCAT"]
    ds.DecayCorrection = "START"
    ds.ReconstructionMethod = "OSEM 3i21s"
    ds.AcquisitionDate = "20240110"
    ds.AcquisitionTime = "111500"
    ds.ActualFrameDuration = 180000
    ds.FrameReferenceTime = 1000.0 * index
    ds.ImagePositionPatient = [0.0, 0.0, 3.0 * index]
    ds.InstanceNumber = index + 1
    ds.RescaleSlope = str(1.0 + index / 100)
    ds.RescaleIntercept = "0"
    ds.SliceThickness = "3.0"
    ds.NumberOfSlices = 8
    ds.RadiopharmaceuticalInformationSequence = Sequence([rp])
    return add_pixels(ds)


def ct_dataset(*, study_uid: str, series_uid: str, index: int = 0, **overrides: Any) -> Dataset:
    """Return one CT slice."""
    ds = base_dataset(CT, "CT", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.KVP = "120"
    ds.ConvolutionKernel = "B30f"
    ds.ImagePositionPatient = [0.0, 0.0, 3.0 * index]
    ds.InstanceNumber = index + 1
    ds.RescaleSlope = "1"
    ds.RescaleIntercept = "-1024"
    return add_pixels(ds)


def mr_dataset(*, study_uid: str, series_uid: str, index: int = 0, **overrides: Any) -> Dataset:
    """Return one MR slice."""
    ds = base_dataset(MR, "MR", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.MagneticFieldStrength = "3"
    ds.InstanceNumber = index + 1
    ds.ImagePositionPatient = [0.0, 0.0, 2.0 * index]
    return add_pixels(ds)


def nm_dataset(*, study_uid: str, series_uid: str, **overrides: Any) -> Dataset:
    """Return a quantitative SPECT (NM, Units BQML) instance with a 177Lu administration."""
    rp = radiopharmaceutical(
        Radiopharmaceutical="Lu-177 PSMA-617",
        RadionuclideHalfLife="574300",
        RadionuclideTotalDose="7400000000",
        RadionuclideCodeSequence=Sequence([_code("C-145A8", "SRT", "^177^Lutetium")]),
    )
    ds = base_dataset(NM, "NM", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.Units = "BQML"
    ds.NumberOfFrames = 1
    ds.RadiopharmaceuticalInformationSequence = Sequence([rp])
    return add_pixels(ds)


def _ref_series(series_uid: str, sop_uids: list[str], sop_class: str) -> Dataset:
    item = Dataset()
    item.SeriesInstanceUID = series_uid
    refs = []
    for uid in sop_uids:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class
        ref.ReferencedSOPInstanceUID = uid
        refs.append(ref)
    item.ReferencedInstanceSequence = Sequence(refs)
    return item


def rtstruct_dataset(
    *, study_uid: str, series_uid: str, referenced_series: str, referenced_sops: list[str], **overrides: Any
) -> Dataset:
    """Return an RT Structure Set with two ROIs referencing an image series."""
    ds = base_dataset(RTSTRUCT, "RTSTRUCT", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.StructureSetLabel = "Johnathan ctrs"
    ds.StructureSetDate = "20240111"
    ds.StructureSetTime = "090000"
    contour_images = []
    for uid in referenced_sops:
        ci = Dataset()
        ci.ReferencedSOPClassUID = CT
        ci.ReferencedSOPInstanceUID = uid
        contour_images.append(ci)
    rt_series = Dataset()
    rt_series.SeriesInstanceUID = referenced_series
    rt_series.ContourImageSequence = Sequence(contour_images)
    rt_study = Dataset()
    rt_study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    rt_study.ReferencedSOPInstanceUID = study_uid
    rt_study.RTReferencedSeriesSequence = Sequence([rt_series])
    frame = Dataset()
    frame.FrameOfReferenceUID = frame_uid(study_uid)
    frame.RTReferencedStudySequence = Sequence([rt_study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    rois, observations, contours = [], [], []
    for number, name, kind in ((1, "Liver Johnathan", "ORGAN"), (2, "Lesion 1", "GTV")):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = frame_uid(study_uid)
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        obs = Dataset()
        obs.ObservationNumber = number
        obs.ReferencedROINumber = number
        obs.RTROIInterpretedType = kind
        obs.ROIInterpreter = "Cuddy^Lisa"
        observations.append(obs)
        contour = Dataset()
        contour.ReferencedROINumber = number
        c = Dataset()
        c.ContourGeometricType = "CLOSED_PLANAR"
        c.NumberOfContourPoints = 3
        c.ContourData = [0, 0, 0, 1, 0, 0, 1, 1, 0]
        contour.ContourSequence = Sequence([c])
        contours.append(contour)
    ds.StructureSetROISequence = Sequence(rois)
    ds.RTROIObservationsSequence = Sequence(observations)
    ds.ROIContourSequence = Sequence(contours)
    return ds


def seg_dataset(
    *, study_uid: str, series_uid: str, referenced_series: str, referenced_sops: list[str],
    sop_class: str = SEG, **overrides: Any,
) -> Dataset:
    """Return a (binary or label-map) Segmentation with one segment."""
    ds = base_dataset(sop_class, "SEG", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.ReferencedSeriesSequence = Sequence([_ref_series(referenced_series, referenced_sops, PET)])
    segment = Dataset()
    segment.SegmentNumber = 1
    segment.SegmentLabel = "Lesion"
    segment.SegmentAlgorithmType = "SEMIAUTOMATIC"
    segment.SegmentAlgorithmName = "threshold"
    segment.SegmentedPropertyCategoryCodeSequence = Sequence([_code("49755003", "SCT", "Morphologically abnormal structure")])
    segment.SegmentedPropertyTypeCodeSequence = Sequence([_code("108369006", "SCT", "Neoplasm")])
    ds.SegmentSequence = Sequence([segment])
    ds.SegmentationType = "LABELMAP" if sop_class == LABELMAP_SEG else "BINARY"
    src = Dataset()
    src.ReferencedSOPClassUID = PET
    src.ReferencedSOPInstanceUID = referenced_sops[0]
    ds.SourceImageSequence = Sequence([src])
    return ds


def rtplan_dataset(*, study_uid: str, series_uid: str, structure_set_sop: str, **overrides: Any) -> Dataset:
    """Return an RT Plan referencing a structure set."""
    ds = base_dataset(RTPLAN, "RTPLAN", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.RTPlanLabel = "Johnathan plan"
    ds.PlanIntent = "CURATIVE"
    ds.RTPlanGeometry = "PATIENT"
    ref = Dataset()
    ref.ReferencedSOPClassUID = RTSTRUCT
    ref.ReferencedSOPInstanceUID = structure_set_sop
    ds.ReferencedStructureSetSequence = Sequence([ref])
    return ds


def rtdose_dataset(
    *, study_uid: str, series_uid: str, plan_sop: str, structure_set_sop: str, **overrides: Any
) -> Dataset:
    """Return an RT Dose referencing a plan and a structure set."""
    ds = base_dataset(RTDOSE, "RTDOSE", study_uid=study_uid, series_uid=series_uid, **overrides)
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    ds.DoseGridScaling = "0.001"
    ds.NumberOfFrames = 2
    ds.GridFrameOffsetVector = [0.0, 3.0]
    plan = Dataset()
    plan.ReferencedSOPClassUID = RTPLAN
    plan.ReferencedSOPInstanceUID = plan_sop
    ds.ReferencedRTPlanSequence = Sequence([plan])
    ss = Dataset()
    ss.ReferencedSOPClassUID = RTSTRUCT
    ss.ReferencedSOPInstanceUID = structure_set_sop
    ds.ReferencedStructureSetSequence = Sequence([ss])
    return ds


def write(ds: Dataset, path: Path, *, preamble: bool = True) -> Path:
    """Write ``ds`` to ``path`` (with or without preamble and File Meta)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=preamble, implicit_vr=False if not preamble else None,
               little_endian=True if not preamble else None)
    return path


def write_pet_series(folder: Path, n: int = 4, **overrides: Any) -> tuple[str, str, list[str]]:
    """Write a PET series of ``n`` slices; return (study_uid, series_uid, sop_uids)."""
    study, series = overrides.pop("study_uid", generate_uid()), overrides.pop("series_uid", generate_uid())
    sops = []
    for i in range(n):
        ds = pet_dataset(study_uid=study, series_uid=series, index=i, **overrides)
        sops.append(ds.SOPInstanceUID)
        write(ds, folder / f"slice{i:03d}")
    return study, series, sops


def frame_uid(study_uid: str) -> str:
    """Return the FrameOfReferenceUID the builders use for a study (deterministic)."""
    return generate_uid(entropy_srcs=[study_uid, "frame"])
