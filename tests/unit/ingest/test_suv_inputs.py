"""Reading SUV inputs from real files: private tags by creator, junk values, enhanced PET."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from tests.builders import (
    add_ge_pet_private,
    add_philips_pet_private,
    add_private_block,
    pet_dataset,
    set_raw_value,
    write_dataset,
)
from theragraph.ingest.suv_inputs import (
    collect_series,
    find_private,
    is_dicom_file,
    read_suv_inputs,
    to_float,
)


def reread(tmp_path: Path, ds: Dataset, *, implicit: bool = False) -> Dataset:
    return pydicom.dcmread(write_dataset(ds, tmp_path / "IM1", implicit=implicit))


def test_reads_standard_attributes(tmp_path: Path) -> None:
    ds = pet_dataset(
        timezone_offset="+0100", start_datetime="20240110090000", suv_type="BW",
        frame_reference_time_ms=59936.85,
    )
    inputs = read_suv_inputs(reread(tmp_path, ds))
    assert inputs.Modality == "PT"
    assert inputs.Units == "BQML"
    assert inputs.CorrectedImage == ("NORM", "DTIM", "ATTN", "SCAT", "DECY", "RAN")
    assert inputs.DecayCorrection == "START"
    assert (inputs.SeriesDate, inputs.SeriesTime) == ("20240110", "100000")
    assert inputs.PatientWeight == 75.0
    assert inputs.PatientSize == 1.80
    assert inputs.PatientSex == "M"
    assert inputs.SUVType == "BW"
    assert inputs.RadionuclideTotalDose == 370e6
    assert inputs.RadionuclideHalfLife == 6586.2
    assert inputs.RadiopharmaceuticalStartDateTime == "20240110090000"
    assert inputs.RadionuclideCodeValue == "77004003"
    assert inputs.RadionuclideCodeMeaning == "^18^Fluorine"
    assert inputs.FrameReferenceTime == pytest.approx(59936.85)
    assert inputs.ActualFrameDuration == 120000
    assert inputs.TimezoneOffsetFromUTC == "+0100"
    assert inputs.RescaleSlope == 1.0
    assert inputs.ge_scan_datetime is None
    assert inputs.philips_suv_scale_factor is None


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("block", [0x10, 0x11, 0x42])
def test_private_tags_are_found_by_creator_in_any_block(
    tmp_path: Path, implicit: bool, block: int
) -> None:
    ds = pet_dataset()
    if block != 0x10:
        # other creators occupy the lower blocks: fixed element numbers would read them
        add_private_block(ds, 0x0009, "GEMS_IDEN_01", {0x0D: ("LO", "not a time")}, block=0x10)
        add_private_block(ds, 0x7053, "Philips Imaging DD 001", {0x00: ("DS", "9.9")}, block=0x10)
    add_ge_pet_private(ds, scan_datetime="20240110095500.00", block=block)
    add_philips_pet_private(ds, suv_scale_factor=0.000551, activity_scale_factor=1.602563, block=block)
    inputs = read_suv_inputs(reread(tmp_path, ds, implicit=implicit))
    assert inputs.ge_scan_datetime == "20240110095500.00"
    assert inputs.philips_suv_scale_factor == pytest.approx(0.000551)
    assert inputs.philips_activity_concentration_scale_factor == pytest.approx(1.602563)


def test_private_values_stored_as_un_bytes_are_decoded(tmp_path: Path) -> None:
    ds = pet_dataset()
    ds.add_new((0x7053, 0x0010), "LO", "Philips PET Private Group ")  # padded creator
    ds.add_new((0x7053, 0x1000), "UN", b"0.003515736 ")
    ds.add_new((0x0009, 0x0010), "LO", "GEMS_PETD_01")
    ds.add_new((0x0009, 0x100D), "UN", b"20240110095500\x00")
    inputs = read_suv_inputs(reread(tmp_path, ds))
    assert inputs.philips_suv_scale_factor == pytest.approx(0.003515736)
    assert inputs.ge_scan_datetime == "20240110095500"


def test_find_private_returns_none_without_creator() -> None:
    ds = Dataset()
    ds.add_new((0x7053, 0x1000), "DS", "1.0")  # an element without its creator
    assert find_private(ds, 0x7053, "Philips PET Private Group", 0x00) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("70,5", 70.5), ("70 kg", 70.0), ("", None), ("abc", None), ("nan", None), (b"1.5\x00", 1.5)],
)
def test_to_float_tolerates_junk(raw: object, expected: float | None) -> None:
    assert to_float(raw) == expected


def test_malformed_values_become_none_not_errors(tmp_path: Path) -> None:
    ds = pet_dataset()
    set_raw_value(ds, "PatientWeight", "DS", b"abc")
    set_raw_value(ds, "PatientSize", "DS", b"1,75")
    pharm = ds.RadiopharmaceuticalInformationSequence[0]
    set_raw_value(pharm, "RadionuclideTotalDose", "DS", b"n/a")
    set_raw_value(pharm, "RadionuclideHalfLife", "DS", b"six thousand")
    set_raw_value(ds, "SeriesTime", "TM", b"25:99")
    inputs = read_suv_inputs(reread(tmp_path, ds))
    assert inputs.PatientWeight is None
    assert inputs.RadionuclideTotalDose is None
    assert inputs.RadionuclideHalfLife is None
    assert inputs.PatientSize == pytest.approx(1.75)
    assert inputs.SeriesTime == "25:99"  # kept as written; the derivation rejects it


def test_missing_radiopharmaceutical_sequence(tmp_path: Path) -> None:
    ds = pet_dataset()
    del ds.RadiopharmaceuticalInformationSequence
    inputs = read_suv_inputs(reread(tmp_path, ds))
    assert inputs.RadionuclideTotalDose is None
    assert inputs.RadiopharmaceuticalStartTime is None
    assert inputs.RadionuclideCodeValue is None


def test_empty_dataset_gives_all_none() -> None:
    inputs = read_suv_inputs(Dataset())
    assert inputs.Units is None and inputs.CorrectedImage is None and inputs.PatientWeight is None


def test_enhanced_pet_rescale_and_frame_time_from_functional_groups() -> None:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.130"
    transform = Dataset()
    transform.RescaleSlope = "2.5"
    transform.RescaleIntercept = "0"
    shared = Dataset()
    shared.PixelValueTransformationSequence = DicomSequence([transform])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    content = Dataset()
    content.FrameAcquisitionDateTime = "20240110100000"
    frame = Dataset()
    frame.FrameContentSequence = DicomSequence([content])
    ds.PerFrameFunctionalGroupsSequence = DicomSequence([frame])
    inputs = read_suv_inputs(ds)
    assert inputs.RescaleSlope == 2.5
    assert inputs.AcquisitionDateTime == "20240110100000"


def test_collect_series_groups_by_series_and_skips_non_dicom(tmp_path: Path) -> None:
    write_dataset(pet_dataset(series_uid="1.2.3.1"), tmp_path / "a" / "x1")
    write_dataset(pet_dataset(series_uid="1.2.3.1", instance_number=2), tmp_path / "b" / "x2")
    write_dataset(pet_dataset(series_uid="1.2.3.2"), tmp_path / "x3.dcm")
    (tmp_path / "notes.txt").write_text("not dicom")
    truncated = tmp_path / "truncated"
    truncated.write_bytes((tmp_path / "x3.dcm").read_bytes()[:300])
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert not is_dicom_file(tmp_path / "notes.txt")
    series, skipped = collect_series(files)
    by_uid = {s.series_instance_uid: len(s.instances) for s in series}
    assert by_uid == {"1.2.3.1": 2, "1.2.3.2": 1}
    assert {p.name for p, _ in skipped} >= {"notes.txt"}
    assert all(p.name in {"notes.txt", "truncated"} for p, _ in skipped)
