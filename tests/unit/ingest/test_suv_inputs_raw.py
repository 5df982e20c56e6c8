"""The SUV reader's raw-bytes fast path reads exactly what pydicom's conversion reads."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from theragraph.ingest import suv_inputs


def _write(path: Path, syntax: str, weight: str, corrected: list[str]) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.Modality = "PT"
    ds.Manufacturer = "ACME "
    ds.Units, ds.DecayCorrection = "BQML", "START"
    ds.CorrectedImage = corrected
    ds.SeriesDate, ds.SeriesTime = "20240301", "101000.5"
    ds.PatientWeight = "99.9" if "," in weight else weight  # pydicom refuses to write bad DS
    ds.PatientSize = " 1.70 "
    ds.PatientSex = "F"
    ds.InstanceNumber = "7"
    ds.ActualFrameDuration = 120000
    ds.RescaleSlope, ds.RescaleIntercept = "1.2500", "0"
    item = Dataset()
    item.RadiopharmaceuticalStartDateTime = "20240301091000"
    item.RadionuclideTotalDose = "370000000"
    item.RadionuclideHalfLife = "6586.2"
    ds.RadiopharmaceuticalInformationSequence = Sequence([item])
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    if "," in weight:
        path.write_bytes(path.read_bytes().replace(b"99.9", weight.encode()))
    return path


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize(("weight", "corrected"), [
    ("72.5", ["ATTN", "DECY"]),
    ("70,5", ["ATTN"]),  # invalid DS: pydicom decides, as before
    ("", ["DECY", "ATTN", "SCAT"]),
])
def test_fast_path_reads_what_pydicom_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str, weight: str, corrected: list[str]
) -> None:
    path = _write(tmp_path / "x.dcm", syntax, weight, corrected)
    fast = suv_inputs.read_suv_inputs(pydicom.dcmread(path, stop_before_pixels=True))
    monkeypatch.setattr(suv_inputs, "_fast_value", lambda raw: suv_inputs._SLOW)
    slow = suv_inputs.read_suv_inputs(pydicom.dcmread(path, stop_before_pixels=True))
    assert fast == slow
    assert fast.RadionuclideTotalDose == 370000000.0
    assert fast.CorrectedImage == tuple(corrected)
    assert fast.InstanceNumber == 7
