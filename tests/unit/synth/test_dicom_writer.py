"""DICOM output: strict read-back, PET timing semantics per vendor, RTSTRUCT references."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from theragraph.synth.dicom_writer import (
    NM_SOP_CLASS,
    PET_SOP_CLASS,
    RTSTRUCT_SOP_CLASS,
    write_pet_ct,
)

from .conftest import read_strict


def _dt(date: str, time: str) -> datetime:
    return datetime.strptime(date + time.split(".")[0], "%Y%m%d%H%M%S")


@pytest.mark.parametrize("fixture", ["siemens_patient", "ge_patient", "net_patient"])
def test_every_file_reads_back_without_warnings(fixture, request, written):
    patient = request.getfixturevalue(fixture)
    series = written(patient)
    files = [f for s in series for f in s.files]
    assert files and all(f.parts[-4] == patient.person.mrn for f in files)
    for path in files:
        ds = read_strict(path)
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert ds.PatientID == patient.person.mrn
        assert ds.IssuerOfPatientID == "THERAGRAPH-SYNTH-HOSP"
    assert sum(f.stat().st_size for f in files) < 1_000_000


def test_pet_carries_the_full_radiopharmaceutical_module(siemens_patient, written):
    pet = next(s for s in written(siemens_patient) if s.plan.kind == "pet")
    ds = read_strict(pet.files[0])
    assert ds.SOPClassUID == PET_SOP_CLASS and ds.Units == "BQML"
    assert {"ATTN", "DECY"} <= set(ds.CorrectedImage) and ds.DecayCorrection == "START"
    rp = ds.RadiopharmaceuticalInformationSequence[0]
    assert float(rp.RadionuclideTotalDose) == pytest.approx(siemens_patient.pet.activity_mbq * 1e6)
    assert float(rp.RadionuclideHalfLife) > 3000
    assert rp.RadionuclideCodeSequence[0].CodingSchemeDesignator == "SCT"
    assert rp.RadiopharmaceuticalCodeSequence[0].CodeValue
    injected = _dt(rp.RadiopharmaceuticalStartDateTime[:8], rp.RadiopharmaceuticalStartDateTime[8:])
    assert injected < _dt(ds.SeriesDate, ds.SeriesTime)
    assert float(ds.PatientWeight) == siemens_patient.weight_kg


def test_siemens_frame_reference_time_is_the_average_count_time(siemens_patient, written):
    pet = next(s for s in written(siemens_patient) if s.plan.kind == "pet")
    lam = math.log(2) / siemens_patient.pet.half_life_s
    for path in pet.files:
        ds = read_strict(path)
        assert "GEMS_PETD_01" not in [e.value for e in ds if e.tag.group == 0x0009]
        duration = int(ds.ActualFrameDuration) / 1000.0
        t_ave = math.log(lam * duration / (1 - math.exp(-lam * duration))) / lam
        start = _dt(ds.AcquisitionDate, ds.AcquisitionTime) + timedelta(
            seconds=t_ave - float(ds.FrameReferenceTime) / 1000.0
        )
        assert abs((start - _dt(ds.SeriesDate, ds.SeriesTime)).total_seconds()) < 1.0


def test_ge_frame_reference_time_is_the_bed_offset_and_private_scan_time_present(
    ge_patient, written
):
    pet = next(s for s in written(ge_patient) if s.plan.kind == "pet")
    for path in pet.files:
        ds = read_strict(path)
        start = _dt(ds.AcquisitionDate, ds.AcquisitionTime) - timedelta(
            seconds=float(ds.FrameReferenceTime) / 1000.0
        )
        assert start == _dt(ds.SeriesDate, ds.SeriesTime)
        block = ds.private_block(0x0009, "GEMS_PETD_01")
        scan = block[0x0D].value
        assert scan == ds.SeriesDate + ds.SeriesTime


def test_series_time_rewritten_fault_keeps_the_true_scan_time_recoverable(ge_patient, tmp_path):
    pet = next(
        s
        for s in write_pet_ct(ge_patient, tmp_path, faults=frozenset({"series-time-rewritten"}))
        if s.plan.kind == "pet"
    )
    ds = read_strict(pet.files[0])
    series = _dt(ds.SeriesDate, ds.SeriesTime)
    assert series > _dt(ds.AcquisitionDate, ds.AcquisitionTime)
    scan = ds.private_block(0x0009, "GEMS_PETD_01")[0x0D].value
    assert _dt(scan[:8], scan[8:]) == _dt(ds.AcquisitionDate, ds.AcquisitionTime)


@pytest.mark.parametrize(
    "fault, check",
    [
        ("missing-weight", lambda ds, rp: "PatientWeight" not in ds),
        ("dose-in-mbq", lambda ds, rp: float(rp.RadionuclideTotalDose) < 1e5),
        (
            "missing-injection-date",
            lambda ds, rp: (
                "RadiopharmaceuticalStartDateTime" not in rp
                and "RadiopharmaceuticalStartTime" in rp
            ),
        ),
        (
            "injection-after-midnight",
            lambda ds, rp: (
                "RadiopharmaceuticalStartDateTime" not in rp
                and rp.RadiopharmaceuticalStartTime > ds.SeriesTime
            ),
        ),
    ],
)
def test_pet_header_faults(fault, check, siemens_patient, tmp_path):
    pet = next(
        s
        for s in write_pet_ct(siemens_patient, tmp_path, faults=frozenset({fault}))
        if s.plan.kind == "pet"
    )
    ds = read_strict(pet.files[0])
    assert check(ds, ds.RadiopharmaceuticalInformationSequence[0])


@pytest.mark.parametrize(
    "fixture, sop_class", [("siemens_patient", NM_SOP_CLASS), ("ge_patient", PET_SOP_CLASS)]
)
def test_spect_is_quantitative_lu177(fixture, sop_class, request, written):
    patient = request.getfixturevalue(fixture)
    spect = [s for s in written(patient) if s.plan.kind == "spect"]
    assert len(spect) == sum(len(c.time_points) for c in patient.cycles)
    ds = read_strict(spect[0].files[0])
    assert ds.SOPClassUID == sop_class and ds.Units == "BQML"
    rp = ds.RadiopharmaceuticalInformationSequence[0]
    assert rp.RadionuclideCodeSequence[0].CodeValue == "447553000"
    assert float(rp.RadionuclideTotalDose) == pytest.approx(patient.cycles[0].activity_gbq * 1e9)


@pytest.mark.parametrize("fixture", ["siemens_patient", "ge_patient"])
def test_rtstruct_references_the_cycle_spect_series(fixture, request, written):
    patient = request.getfixturevalue(fixture)
    series = written(patient)
    instances = {uid for s in series for uid in s.sop_instance_uids}
    for cycle in patient.cycles:
        spect = [s for s in series if s.plan.kind == "spect" and s.study.cycle == cycle.number]
        rt = next(s for s in series if s.plan.kind == "rtstruct" and s.study.cycle == cycle.number)
        ds = read_strict(rt.files[0])
        assert ds.SOPClassUID == RTSTRUCT_SOP_CLASS
        frame = ds.ReferencedFrameOfReferenceSequence[0]
        spect_for = {read_strict(s.files[0]).FrameOfReferenceUID for s in spect}
        assert spect_for == {frame.FrameOfReferenceUID}
        referenced = {
            series.SeriesInstanceUID
            for study in frame.RTReferencedStudySequence
            for series in study.RTReferencedSeriesSequence
        }
        assert referenced == {s.plan.uid for s in spect}
        assert [r.ROINumber for r in ds.StructureSetROISequence] == list(
            range(1, len(patient.vois) + 1)
        )
        assert [r.ROIName for r in ds.StructureSetROISequence] == [v.id for v in patient.vois]
        for roi in ds.ROIContourSequence:
            for contour in roi.ContourSequence:
                for image in contour.ContourImageSequence:
                    assert image.ReferencedSOPInstanceUID in instances
        kinds = {o.RTROIInterpretedType for o in ds.RTROIObservationsSequence}
        assert kinds == {"ORGAN", "GTV"}
