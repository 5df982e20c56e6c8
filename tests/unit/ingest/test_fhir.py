"""The FHIR reader: formats, validation, reference resolution, de-identification."""

from __future__ import annotations

import gc
import json
from datetime import date
from pathlib import Path

import pytest

from tests import fhir_builders as fb
from theragraph.ids import Pseudonymizer
from theragraph.ingest.fhir import FHIR_LOCAL_SYSTEM, FhirReader, select_patient_identifier
from theragraph.ingest.fhir_deid import shift_fhir_date
from theragraph.mapping.fhir import FhirMapper
from theragraph.records.fhir import FailedResource, FhirRecord


def read_all(reader: FhirReader, paths: list[Path]) -> list[FhirRecord | FailedResource]:
    for p in paths:
        reader.index_file(p)
    reader.finish_index()
    return [item for p in paths for item in reader.read_file(p)]


@pytest.mark.parametrize("type_", ["collection", "transaction", "searchset", "document"])
def test_bundle_types_yield_one_record_per_entry(tmp_path: Path, pseudonymizer: Pseudonymizer, type_: str) -> None:
    path = fb.write_json(tmp_path / "b.json", fb.bundle(
        [fb.patient("p1", mrn="MRN1"), fb.psa("o1", "p1", 4.2, "2020-01-02")], type_=type_, urn=True))
    records = read_all(FhirReader(pseudonymizer), [path])
    assert [r.resource_type for r in records] == ["Patient", "Observation"]
    patient, obs = records
    assert isinstance(obs, FhirRecord) and obs.patient == patient.patient  # urn:uuid resolved
    assert patient.patient == pseudonymizer.patient(fb.MRN_SYSTEM, "MRN1")


def test_ndjson_is_read_line_by_line_and_bad_lines_are_reported(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = tmp_path / "Observation.ndjson"
    lines = [json.dumps(fb.psa(f"o{i}", "p1", i, "2020-01-02")) for i in range(5)]
    lines.insert(2, '{"resourceType": "Observation", "id": ')
    path.write_text("\n".join(lines) + "\n")
    pat = fb.write_ndjson(tmp_path / "Patient.ndjson", [fb.patient("p1", mrn="MRN1"), fb.patient("p2", mrn="MRN2")])
    items = read_all(FhirReader(pseudonymizer), [path, pat])
    failed = [i for i in items if isinstance(i, FailedResource)]
    assert [(f.code, f.location) for f in failed] == [("read.invalid-json", "line 3")]
    assert sum(isinstance(i, FhirRecord) for i in items) == 7


def test_invalid_resource_and_unknown_type_are_failures_with_location(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    bad = fb.psa("bad-1", "p1", 1.0, "2020-01-02")
    bad["valueQuantity"]["value"] = "not a number"
    unknown = {"resourceType": "Starship", "id": "x"}
    path = fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M"), bad, unknown]))
    items = read_all(FhirReader(pseudonymizer), [path])
    failures = {i.code: i for i in items if isinstance(i, FailedResource)}
    assert set(failures) == {"read.invalid-resource", "read.unknown-resource-type"}
    assert "Observation/bad-1" in failures["read.invalid-resource"].location
    assert "valueQuantity" in failures["read.invalid-resource"].message
    assert "Starship/x" in failures["read.unknown-resource-type"].location


def test_r4_only_data_is_accepted(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    # MedicationAdministration.effectiveDateTime and medicationCodeableConcept are R4 (R5 renamed them).
    path = fb.write_json(tmp_path / "ma.json", fb.lu_psma_cycle("a1", "p1", 1, "2021-03-04T09:30:00+01:00", 7.4))
    [record] = read_all(FhirReader(pseudonymizer), [path])
    assert isinstance(record, FhirRecord)


def test_dangling_reference_is_reported(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    obs = fb.psa("o1", "p1", 3.0, "2020-01-02")
    obs["specimen"] = {"reference": "Specimen/nowhere"}
    path = fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M"), obs]))
    records = read_all(FhirReader(pseudonymizer), [path])
    codes = [(p.code, p.location) for r in records for p in r.problems]
    assert codes == [("link.dangling-reference", "entry[1] Observation/o1 Observation.specimen")]


def test_dates_shift_by_the_patient_offset_and_times_are_kept(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = fb.write_json(tmp_path / "b.json", fb.bundle([
        fb.patient("p1", mrn="MRN7"), fb.lu_psma_cycle("a1", "p1", 1, "2021-03-04T09:30:00+01:00", 7.4)]))
    _, admin = read_all(FhirReader(pseudonymizer), [path])
    pseudo = pseudonymizer.patient(fb.MRN_SYSTEM, "MRN7")
    shift = pseudonymizer.date_shift(pseudo)
    expected = (date(2021, 3, 4) + shift).isoformat() + "T09:30:00+01:00"
    assert admin.data["effectiveDateTime"] == expected


def test_patient_phi_is_removed_and_birth_date_becomes_shifted_year(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = fb.write_json(tmp_path / "p.json", fb.patient("p1", mrn="MRN9", birth="1950-01-03"))
    [record] = read_all(FhirReader(pseudonymizer), [path])
    text = json.dumps(record.data, default=str)
    for phi in ("MRN9", "Doe", "Alexander", "Baker", "7946", "mail.example", "1950-01-03", "p1"):
        assert phi not in text
    shift = pseudonymizer.date_shift(record.patient)
    assert record.data["_birthYear"] == (date(1950, 1, 3) + shift).year


def test_identifier_choice_prefers_issuer_map_systems_then_mr() -> None:
    res = {"resourceType": "Patient", "id": "x", "identifier": [
        {"system": "urn:other", "value": "A"},
        {"system": "urn:mr", "value": "B", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}},
        {"system": "urn:pacs", "value": "C"},
    ]}
    assert select_patient_identifier(res, preferred_systems={"urn:pacs"}, default_system="d")[:2] == ("urn:pacs", "C")
    assert select_patient_identifier(res, preferred_systems=set(), default_system="d")[:2] == ("urn:mr", "B")
    res.pop("identifier")
    assert select_patient_identifier(res, preferred_systems=set(), default_system="d") == (FHIR_LOCAL_SYSTEM, "Patient/x", True)


def test_imaging_study_uid_is_pseudonymised_like_dicom(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = fb.write_json(tmp_path / "b.json", fb.bundle([
        fb.patient("p1", mrn="M"), fb.imaging_study("s1", "p1", "1.2.840.113619.2.55.3", "2020-01-01T10:00:00Z")]))
    _, study = read_all(FhirReader(pseudonymizer), [path])
    assert study.data["_studyInstanceUid"] == pseudonymizer.uid("1.2.840.113619.2.55.3")
    assert "1.2.840.113619.2.55.3" not in json.dumps(study.data, default=str)


def test_partial_dates_keep_their_precision() -> None:
    assert shift_fhir_date("2020-03", -40) == "2020-01"
    assert shift_fhir_date("2020", -400) == "2018"
    assert shift_fhir_date("2020-03-01T00:30:00Z", -1) == "2020-02-29T00:30:00+00:00"
    assert shift_fhir_date("hello", -1) is None


def test_distinct_patients_sharing_an_identifier_are_kept_apart(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("a", mrn="M1"), fb.patient("b", mrn="M1")]))
    a, b = read_all(FhirReader(pseudonymizer), [path])
    assert a.patient != b.patient
    assert [p.code for p in a.problems] == ["link.identifier-collision"]


def test_ndjson_with_a_broken_first_line_keeps_the_other_lines(tmp_path: Path, pseudonymizer: Pseudonymizer) -> None:
    path = tmp_path / "x.ndjson"
    path.write_text('{"resourceType": "Obs\n' + "\n".join(json.dumps(fb.psa(f"o{i}", "p1", 1.0, "2020-01-02")) for i in range(3)) + "\n")
    items = read_all(FhirReader(pseudonymizer), [path])
    assert [type(i).__name__ for i in items] == ["FailedResource", "FhirRecord", "FhirRecord", "FhirRecord"]


def test_reading_and_mapping_leave_no_reference_cycles(
    tmp_path: Path, pseudonymizer: Pseudonymizer
) -> None:
    """Each resource's data is freed when its record is: no reference cycle per resource.

    A cycle per resource (a self-calling closure) kept every resource's data alive until the
    cyclic GC found it: ~19 objects per resource, ~4 % of a worker's CPU in collections.
    """
    objs = [fb.patient("p1", mrn="MRN1"),
            fb.lu_psma_cycle("a1", "p1", 1, "2021-01-05T10:00:00Z", 7.4)]
    objs += [fb.psa(f"o{i}", "p1", i + 0.5, "2020-01-02") for i in range(20)]
    objs.append(fb.psa("dangling", "p-not-here", 1.0, "2020-01-02"))  # a reported problem too
    path = fb.write_ndjson(tmp_path / "x.ndjson", objs)
    reader = FhirReader(pseudonymizer)
    reader.index_file(path)
    reader.finish_index()
    mapper = FhirMapper()

    def read_and_map() -> int:
        mapped = 0
        for item in reader.read_file(path):
            assert isinstance(item, FhirRecord), item
            mapped += len(mapper.map_record(item).serialized()) > 0
        return mapped

    assert read_and_map() == len(objs)  # the first pass builds the models and caches
    gc.collect()
    gc.disable()
    try:
        assert read_and_map() == len(objs)
        assert gc.collect() == 0  # nothing unreachable was left for the cyclic GC
    finally:
        gc.enable()
