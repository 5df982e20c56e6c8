"""The dosimetry report reader: schema, units, plausibility, de-identification, CSV twin."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.builders_dosimetry import (
    PATIENT_SYSTEM,
    PATIENT_VALUE,
    RTSTRUCT_SERIES,
    SERIES_TP1,
    report_csv,
    report_document,
)
from theragraph.ingest.dosimetry import read_report, read_report_bytes
from theragraph.ingest.dosimetry_csv import is_csv_header, read_csv_documents


def test_valid_report_gives_normalised_deidentified_record(pseudonymizer) -> None:
    outcome = read_report(report_document(), pseudonymizer=pseudonymizer)
    assert outcome.issues == []
    record = outcome.record
    assert record is not None
    assert record.patient == pseudonymizer.patient(PATIENT_SYSTEM, PATIENT_VALUE)
    assert record.cycle.administered_activity_mbq == pytest.approx(7400.0)
    assert record.time_points[0].series_uid == pseudonymizer.uid(SERIES_TP1)
    assert record.time_points[0].series_uid.startswith("2.25.")
    # times are shifted by whole days; the time of day and offset are kept
    original = datetime.fromisoformat("2024-01-10T10:05:00+01:00")
    assert record.cycle.administration_time == original + pseudonymizer.date_shift(record.patient)
    assert record.cycle.administration_time.time() == original.time()
    # hours post administration computed when missing
    assert record.time_points[1].hours_post_administration == pytest.approx(24.0)
    kidney = record.vois[0]
    assert kidney.segmentation.series_uid == pseudonymizer.uid(RTSTRUCT_SERIES)
    assert kidney.absorbed_dose_gy == pytest.approx(3.1)
    assert kidney.fit.parameters["lambda_per_h"] == pytest.approx(0.02)


def test_no_identifier_survives_in_the_record(pseudonymizer) -> None:
    record = read_report(report_document(), pseudonymizer=pseudonymizer).record
    text = repr(record)
    for value in (
        PATIENT_VALUE,
        SERIES_TP1,
        RTSTRUCT_SERIES,
        "MA-0001-1",
        "DOS-0001-C1",
        "2024-01-10",
    ):
        assert value not in text


def test_schema_violations_are_located_by_json_pointer(pseudonymizer) -> None:
    doc = report_document(unexpected="x")
    doc["vois"][0]["absorbed_dose"]["unit"] = "rad"
    del doc["therapy_cycle"]["cycle_number"]
    outcome = read_report(doc, pseudonymizer=pseudonymizer)
    assert outcome.record is None
    located = {(i.code, i.location) for i in outcome.issues}
    assert ("read.schema", "/") in located  # additional property at the top
    assert ("read.schema", "/vois/0/absorbed_dose/unit") in located
    assert ("read.schema", "/therapy_cycle") in located


def test_schema_messages_do_not_quote_patient_identifiers(pseudonymizer) -> None:
    doc = report_document(
        patient={"identifier_system": PATIENT_SYSTEM, "identifier_value": 1234567}
    )
    outcome = read_report(doc, pseudonymizer=pseudonymizer)
    issue = next(i for i in outcome.issues if i.location == "/patient/identifier_value")
    assert "1234567" not in issue.message


def test_dose_in_mgy_labelled_gy_is_implausible(pseudonymizer) -> None:
    doc = report_document()
    doc["vois"][0]["absorbed_dose"] = {"value": 3100.0, "unit": "Gy"}  # really 3100 mGy
    outcome = read_report(doc, pseudonymizer=pseudonymizer)
    assert outcome.record is None
    codes = {(i.code, i.location) for i in outcome.issues}
    assert ("read.implausible-value", "/vois/0/absorbed_dose/value") in codes
    assert ("read.inconsistent-value", "/vois/0/absorbed_dose/value") in codes


def test_dose_per_activity_inconsistency_is_caught_inside_plausible_range(pseudonymizer) -> None:
    doc = report_document()
    doc["vois"][0]["absorbed_dose_per_activity"] = {"value": 4.2, "unit": "Gy/GBq"}
    outcome = read_report(doc, pseudonymizer=pseudonymizer)
    assert [i.code for i in outcome.issues] == ["read.inconsistent-value"]


def test_same_quantity_in_other_units_is_normalised(pseudonymizer) -> None:
    doc = report_document()
    doc["vois"][0]["absorbed_dose"] = {"value": 3100.0, "unit": "mGy"}
    doc["therapy_cycle"]["administered_activity"] = {"value": 7400.0, "unit": "MBq"}
    record = read_report(doc, pseudonymizer=pseudonymizer).record
    assert record.vois[0].absorbed_dose_gy == pytest.approx(3.1)
    assert record.cycle.administered_activity_mbq == pytest.approx(7400.0)


def test_activity_at_unknown_time_point_is_an_error(pseudonymizer) -> None:
    doc = report_document()
    doc["vois"][1]["activities"][0]["time_point"] = "tp9"
    outcome = read_report(doc, pseudonymizer=pseudonymizer)
    assert outcome.record is None
    assert [(i.code, i.location) for i in outcome.issues] == [
        ("read.unknown-time-point", "/vois/1/activities/0/time_point")
    ]


def test_invalid_json_is_reported(pseudonymizer) -> None:
    outcome = read_report_bytes(b'{"format": ', pseudonymizer=pseudonymizer)
    assert [i.code for i in outcome.issues] == ["read.invalid-json"]


def test_csv_long_format_gives_the_same_record(pseudonymizer) -> None:
    text = report_csv()
    assert is_csv_header(text.encode())
    documents, issues = read_csv_documents(text.encode())
    assert issues == []
    assert len(documents) == 1
    from_csv = read_report(documents[0], pseudonymizer=pseudonymizer)
    from_json = read_report(json.loads(json.dumps(report_document())), pseudonymizer=pseudonymizer)
    assert from_csv.issues == []
    assert from_csv.record == from_json.record


def test_csv_bad_rows_and_bad_numbers_are_located(pseudonymizer) -> None:
    text = report_csv() + "DOS-0001-C1,voi\nDOS-0001-C1,voi,kidney-left,absorbed_dose,three,Gy\n"
    documents, issues = read_csv_documents(text.encode())
    assert [(i.code, i.location) for i in issues] == [
        ("read.csv-row", f"line {text.count(chr(10)) - 1}")
    ]
    outcome = read_report(documents[0], pseudonymizer=pseudonymizer)
    assert ("read.schema", "/vois/0/absorbed_dose/value") in {
        (i.code, i.location) for i in outcome.issues
    }


def test_fast_and_reference_validators_agree() -> None:
    from theragraph.ingest.dosimetry import _fast_validator, _validator

    fast = _fast_validator()
    if fast is None:
        pytest.skip("jsonschema-rs not installed (optional accelerator)")
    bad_unit = report_document()
    bad_unit["vois"][0]["absorbed_dose"]["unit"] = "rad"
    bad_time = report_document()
    bad_time["therapy_cycle"]["administration_time"] = "2024-01-10T10:05:00"  # no UTC offset
    both = report_document()
    both["vois"][0]["segmentation"]["segment_number"] = 2  # oneOf: ROI and segment together
    for doc in (report_document(), report_document(extra=1), bad_unit, bad_time, both):
        assert fast.is_valid(doc) == _validator().is_valid(doc)
