"""The DICOM reader: sniffing by content, failures with stable codes, series folding."""

from __future__ import annotations

import json

from pydicom.uid import generate_uid

from tests.dicom_builders import ct_dataset, pet_dataset, write
from theragraph.ingest.dicom import ReaderContext, is_dicom_head, read_instance, to_series_record
from theragraph.records.dicom import InstanceRecord, ReadFailure


def test_sniff_accepts_part10_and_files_without_preamble(tmp_path):
    ds = ct_dataset(study_uid=generate_uid(), series_uid=generate_uid())
    with_preamble = write(ds, tmp_path / "a")
    bare = write(ct_dataset(study_uid=generate_uid(), series_uid=generate_uid()), tmp_path / "b", preamble=False)
    assert is_dicom_head(with_preamble.read_bytes()[:4096])
    assert bare.read_bytes()[128:132] != b"DICM" and is_dicom_head(bare.read_bytes()[:4096])


def test_sniff_rejects_json_text_and_empty_files():
    assert not is_dicom_head(json.dumps({"resourceType": "Patient"}).encode())
    assert not is_dicom_head(b"hello world, these are notes\n")
    assert not is_dicom_head(b"")


def test_reader_reports_stable_codes(tmp_path, pseudonymizer):
    ctx = ReaderContext(pseudonymizer)
    good = write(ct_dataset(study_uid=generate_uid(), series_uid=generate_uid()), tmp_path / "good")
    (tmp_path / "trunc").write_bytes(good.read_bytes()[:300])
    (tmp_path / "text").write_text("not dicom at all")
    no_series = ct_dataset(study_uid=generate_uid(), series_uid=generate_uid())
    del no_series.SeriesInstanceUID
    write(no_series, tmp_path / "noseries")
    assert isinstance(read_instance(good, ctx), InstanceRecord)
    assert read_instance(tmp_path / "trunc", ctx).code in ("read.corrupt", "read.missing-attribute")
    assert read_instance(tmp_path / "text", ctx).code in ("read.not-dicom", "read.corrupt")
    assert read_instance(tmp_path / "noseries", ctx).code == "read.missing-attribute"
    assert read_instance(tmp_path / "missing", ctx).code == "read.unreadable"


def test_suv_reader_sees_private_tags_before_deidentification(tmp_path, pseudonymizer):
    seen = {}

    def suv_reader(ds):
        seen["private"] = any(elem.tag.is_private for elem in ds)
        seen["name"] = str(ds.PatientName)
        return ("inputs", ds.Modality)

    path = write(pet_dataset(study_uid=generate_uid(), series_uid=generate_uid()), tmp_path / "pet")
    record = read_instance(path, ReaderContext(pseudonymizer), suv_reader=suv_reader)
    assert isinstance(record, InstanceRecord)
    assert seen["private"] and record.suv_inputs == ("inputs", "PT")
    assert "PatientName" not in record.attributes
    ct = write(ct_dataset(study_uid=generate_uid(), series_uid=generate_uid()), tmp_path / "ct")
    assert read_instance(ct, ReaderContext(pseudonymizer), suv_reader=suv_reader).suv_inputs is None


def test_issuer_map_decides_the_patient_pseudonym(tmp_path, pseudonymizer):
    path = write(ct_dataset(study_uid=generate_uid(), series_uid=generate_uid()), tmp_path / "ct")
    mapped = read_instance(path, ReaderContext(pseudonymizer, {"HOSP-A": "urn:oid:9.9"}))
    assert mapped.patient == pseudonymizer.patient("urn:oid:9.9", "MRN-98765")
    unmapped = read_instance(path, ReaderContext(pseudonymizer))
    assert unmapped.patient == pseudonymizer.patient("HOSP-A", "MRN-98765")


def test_series_record_keeps_shared_header_once_and_varying_values_per_instance(tmp_path, pseudonymizer):
    study, series = generate_uid(), generate_uid()
    ctx = ReaderContext(pseudonymizer)
    records = [read_instance(write(pet_dataset(study_uid=study, series_uid=series, index=i), tmp_path / f"{i}"), ctx)
               for i in range(5)]
    assert not any(isinstance(r, ReadFailure) for r in records)
    record = to_series_record(records)
    assert record.instance_count == 5
    assert record.common["PatientWeight"] == 81.5
    assert all("PatientWeight" not in e.varying for e in record.instances)
    assert all({"ImagePositionPatient", "RescaleSlope", "InstanceNumber"} <= e.varying.keys() for e in record.instances)
    assert len(record.suv_inputs) == 0  # no reader given
