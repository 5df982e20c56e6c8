"""Builders of real DICOM datasets and files for tests (house style A8: builders, not fixtures).

Each builder takes keyword overrides; ``None`` leaves an attribute out. Keep each area's builders
in clearly named functions (``pet_dataset``, ``add_ge_pet_private`` ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
NM_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.20"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"

#: ^18^Fluorine in DICOM CID 4020 (SNOMED CT).
F18_CODE = ("77004003", "SCT", "^18^Fluorine")


def pet_dataset(
    *,
    series_uid: str = "1.2.826.0.1.3680043.8.498.1",
    sop_uid: str | None = None,
    sop_class: str = PET_IMAGE_STORAGE,
    modality: str = "PT",
    manufacturer: str | None = "SIEMENS",
    instance_number: int = 1,
    units: str | None = "BQML",
    decay_correction: str | None = "START",
    corrected_image: Sequence[str] | None = ("NORM", "DTIM", "ATTN", "SCAT", "DECY", "RAN"),
    series_date: str | None = "20240110",
    series_time: str | None = "100000",
    acquisition_date: str | None = "20240110",
    acquisition_time: str | None = "100000",
    acquisition_datetime: str | None = None,
    frame_reference_time_ms: float | None = None,
    actual_frame_duration_ms: int | None = 120000,
    weight_kg: float | str | None = 75.0,
    size_m: float | None = 1.80,
    sex: str | None = "M",
    suv_type: str | None = None,
    rescale_slope: float | None = 1.0,
    rescale_intercept: float | None = 0.0,
    timezone_offset: str | None = None,
    dose_bq: float | str | None = 370e6,
    half_life_s: float | None = 6586.2,
    start_time: str | None = "090000",
    start_datetime: str | None = None,
    radiopharmaceutical: str | None = "Fluorodeoxyglucose",
    nuclide_code: tuple[str, str, str] | None = F18_CODE,
    patient_name: str = "Doe^Jane",
    patient_id: str = "MRN-0001",
) -> Dataset:
    """Return a PET Image dataset with a 4x4 pixel array and radiopharmaceutical data.

    Defaults describe an F-18 scan: 370 MBq injected at 09:00, series at 10:00 on 2024-01-10,
    75 kg, 1.80 m, male, Units BQML, DecayCorrection START.
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid or generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.100"
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.InstanceNumber = instance_number
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    optional: dict[str, Any] = {
        "Manufacturer": manufacturer,
        "Units": units,
        "DecayCorrection": decay_correction,
        "CorrectedImage": list(corrected_image) if corrected_image is not None else None,
        "SeriesDate": series_date,
        "SeriesTime": series_time,
        "AcquisitionDate": acquisition_date,
        "AcquisitionTime": acquisition_time,
        "AcquisitionDateTime": acquisition_datetime,
        "FrameReferenceTime": frame_reference_time_ms,
        "ActualFrameDuration": actual_frame_duration_ms,
        "PatientWeight": weight_kg,
        "PatientSize": size_m,
        "PatientSex": sex,
        "SUVType": suv_type,
        "RescaleSlope": rescale_slope,
        "RescaleIntercept": rescale_intercept,
        "TimezoneOffsetFromUTC": timezone_offset,
    }
    for keyword, value in optional.items():
        if value is not None:
            setattr(ds, keyword, value)
    pharm = Dataset()
    pharm_values: dict[str, Any] = {
        "Radiopharmaceutical": radiopharmaceutical,
        "RadiopharmaceuticalStartTime": start_time,
        "RadiopharmaceuticalStartDateTime": start_datetime,
        "RadionuclideTotalDose": dose_bq,
        "RadionuclideHalfLife": half_life_s,
    }
    for keyword, value in pharm_values.items():
        if value is not None:
            setattr(pharm, keyword, value)
    if nuclide_code is not None:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = nuclide_code
        pharm.RadionuclideCodeSequence = DicomSequence([code])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([pharm])
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.arange(16, dtype=np.uint16).reshape(4, 4).tobytes()
    return ds


def add_private_block(
    ds: Dataset, group: int, creator: str, values: dict[int, tuple[str, Any]], *, block: int = 0x10
) -> None:
    """Add private elements under ``creator`` in ``block`` (e.g. 0x11 to prove look-up by creator).

    Args:
        ds: the dataset to extend.
        group: odd private group.
        creator: private creator string.
        values: element offset (low byte) -> (VR, value).
        block: the element number of the creator (0x10-0xFF).
    """
    ds.add_new((group, block), "LO", creator)
    for offset, (vr, value) in values.items():
        ds.add_new((group, (block << 8) | offset), vr, value)


def add_ge_pet_private(ds: Dataset, *, scan_datetime: str, block: int = 0x10) -> None:
    """Add GE's GEMS_PETD_01 block with (0009,xx0D) PET scan_datetime."""
    add_private_block(ds, 0x0009, "GEMS_PETD_01", {0x0D: ("DT", scan_datetime)}, block=block)


def add_philips_pet_private(
    ds: Dataset,
    *,
    suv_scale_factor: float | None = None,
    activity_scale_factor: float | None = None,
    block: int = 0x10,
) -> None:
    """Add the "Philips PET Private Group" block with (7053,xx00) and/or (7053,xx09)."""
    values: dict[int, tuple[str, Any]] = {}
    if suv_scale_factor is not None:
        values[0x00] = ("DS", f"{suv_scale_factor:.10g}")
    if activity_scale_factor is not None:
        values[0x09] = ("DS", f"{activity_scale_factor:.10g}")
    add_private_block(ds, 0x7053, "Philips PET Private Group", values, block=block)


def set_raw_value(ds: Dataset, keyword: str, vr: str, raw: bytes) -> None:
    """Put an unvalidated value into ``ds`` (junk that pydicom refuses to set, as real files hold).

    ``raw`` is padded to an even length with a space, as DICOM requires.
    """
    if len(raw) % 2:
        raw += b" "
    tag = Tag(keyword)
    ds._dict[tag] = RawDataElement(tag, vr, len(raw), raw, 0, False, True)  # noqa: SLF001


def write_dataset(ds: Dataset, path: Path, *, implicit: bool = False) -> Path:
    """Write ``ds`` as a DICOM Part 10 file (preamble + File Meta) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def write_pet_series(
    folder: Path, datasets: Sequence[Dataset], *, implicit: bool = False
) -> list[Path]:
    """Write each dataset of a series to ``folder/IM<n>`` (no extension: found by content)."""
    return [
        write_dataset(ds, folder / f"IM{index:04d}", implicit=implicit)
        for index, ds in enumerate(datasets, start=1)
    ]
