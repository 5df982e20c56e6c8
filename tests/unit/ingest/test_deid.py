"""De-identification: the PS3.15 table, the two options, UIDs, sequences, private tags."""

from __future__ import annotations

from datetime import date, time

from pydicom.uid import generate_uid

from tests.dicom_builders import PHI, pet_dataset, radiopharmaceutical
from theragraph.ingest.deid import Deidentifier, load_policy, to_timezone


def _deid(pseudonymizer, ds):
    return Deidentifier(pseudonymizer, "patient-1").deidentify(ds)


def test_policy_table_names_its_source_and_holds_the_basic_profile():
    policy = load_policy()
    assert "PS3.15" in policy.source
    assert policy.actions[0x00100010] == "Z"  # PatientName
    assert policy.actions[0x0020000D] == "U"  # StudyInstanceUID
    assert 0x00100030 in policy.always_remove  # PatientBirthDate


def test_names_ids_addresses_birth_dates_comments_and_private_tags_are_dropped(pseudonymizer):
    ds = pet_dataset(study_uid=generate_uid(), series_uid=generate_uid())
    result = _deid(pseudonymizer, ds)
    attrs = result.attributes
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientAddress", "OtherPatientIDs",
                    "InstitutionName", "ReferringPhysicianName", "AccessionNumber", "ImageComments",
                    "StudyDescription", "IssuerOfPatientID", "DeviceSerialNumber", "StudyID"):
        assert keyword not in attrs, keyword
    assert result.private_dropped == 2  # private creator + value
    assert not any(str(v) in PHI.values() for v in attrs.values())
    assert [i.code for i in result.issues] == ["deid.private-dropped"]


def test_patient_characteristics_are_retained(pseudonymizer):
    attrs = _deid(pseudonymizer, pet_dataset(study_uid=generate_uid(), series_uid=generate_uid())).attributes
    assert attrs["PatientSex"] == "M" and attrs["PatientAge"] == "066Y"
    assert attrs["PatientWeight"] == 81.5 and attrs["PatientSize"] == 1.78


def test_dates_shift_per_patient_and_times_of_day_are_kept(pseudonymizer):
    attrs = _deid(pseudonymizer, pet_dataset(study_uid=generate_uid(), series_uid=generate_uid())).attributes
    shift = pseudonymizer.date_shift("patient-1")
    assert attrs["StudyDate"] == date(2024, 1, 10) + shift
    assert attrs["SeriesTime"] == time(11, 15)
    item = dict(attrs["RadiopharmaceuticalInformationSequence"][0])
    assert item["RadiopharmaceuticalStartTime"] == time(10, 15)
    assert item["RadiopharmaceuticalStartDateTime"].date() == date(2024, 1, 10) + shift
    assert attrs["TimezoneOffsetFromUTC"] == "+0100"


def test_uids_are_replaced_consistently_and_well_known_uids_kept(pseudonymizer):
    study, series = generate_uid(), generate_uid()
    a = _deid(pseudonymizer, pet_dataset(study_uid=study, series_uid=series)).attributes
    b = _deid(pseudonymizer, pet_dataset(study_uid=study, series_uid=series, index=1)).attributes
    assert a["StudyInstanceUID"] == b["StudyInstanceUID"] == pseudonymizer.uid(study)
    assert a["SOPInstanceUID"] != b["SOPInstanceUID"]
    assert a["SOPInstanceUID"].startswith("2.25.")
    assert a["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.128"  # PET Image Storage: not identifying


def test_uids_inside_nested_sequences_are_replaced(pseudonymizer):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = pet_dataset(study_uid=generate_uid(), series_uid=generate_uid(),
                     radiopharmaceutical_item=radiopharmaceutical())
    original = generate_uid()
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = original
    ds.SourceImageSequence = Sequence([ref])
    item = dict(_deid(pseudonymizer, ds).attributes["SourceImageSequence"][0])
    assert item["ReferencedSOPInstanceUID"] == pseudonymizer.uid(original)


def test_undecodable_values_are_dropped_with_a_located_issue(pseudonymizer):
    ds = pet_dataset(study_uid=generate_uid(), series_uid=generate_uid())
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    # a bad DS as it arrives from a file (pydicom refuses to set it on a Dataset)
    ds._dict[Tag(0x00180050)] = RawDataElement(Tag(0x00180050), "DS", 4, b"ab.c", 0, False, True)
    result = _deid(pseudonymizer, ds)
    assert "SliceThickness" not in result.attributes
    assert any(i.code == "read.invalid-value" and i.location == "(0018,0050)" for i in result.issues)


def test_timezone_offset_parsing():
    assert to_timezone("+0130").utcoffset(None).total_seconds() == 5400
    assert to_timezone("-0500").utcoffset(None).total_seconds() == -18000
    assert to_timezone("bogus") is None and to_timezone(None) is None
