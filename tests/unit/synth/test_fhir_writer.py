"""mCODE FHIR output: every resource validates with fhir.resources R4B and links to DICOM."""

from __future__ import annotations

import pytest
from fhir.resources.R4B import get_fhir_model_class

from theragraph.synth.fhir_writer import build_bundle, build_resources
from theragraph.synth.identity import PATIENT_IDENTIFIER_SYSTEM

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"


@pytest.fixture(params=["siemens_patient", "ge_patient", "net_patient"])
def patient_and_resources(request, written):
    patient = request.getfixturevalue(request.param)
    return patient, written(patient), build_resources(patient, written(patient))


def test_every_resource_and_the_bundle_validate_with_r4b(patient_and_resources):
    patient, _, resources = patient_and_resources
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    bundle = build_bundle(patient, resources)
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "collection"
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(resources)


def test_patient_identifier_matches_dicom_patient_id(patient_and_resources):
    patient, _, resources = patient_and_resources
    fhir_patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert fhir_patient["meta"]["profile"] == [MCODE + "mcode-cancer-patient"]
    identifier = fhir_patient["identifier"][0]
    assert (identifier["system"], identifier["value"]) == (
        PATIENT_IDENTIFIER_SYSTEM,
        patient.person.mrn,
    )
    assert fhir_patient["birthDate"] == patient.person.birth_date.isoformat()


def test_imaging_studies_carry_the_dicom_study_uids(patient_and_resources):
    _, series, resources = patient_and_resources
    studies = [r for r in resources if r["resourceType"] == "ImagingStudy"]
    identifiers = {
        i["value"] for s in studies for i in s["identifier"] if i["system"] == "urn:dicom:uid"
    }
    assert identifiers == {f"urn:oid:{s.study.uid}" for s in series}
    uids = {se["uid"] for s in studies for se in s["series"]}
    assert uids == {s.plan.uid for s in series}


def test_one_medication_administration_per_cycle_in_gbq(patient_and_resources):
    patient, _, resources = patient_and_resources
    admins = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert len(admins) == len(patient.cycles)
    for admin, cycle in zip(admins, patient.cycles, strict=True):
        dose = admin["dosage"]["dose"]
        assert (dose["value"], dose["system"], dose["code"]) == (
            cycle.activity_gbq,
            "http://unitsofmeasure.org",
            "GBq",
        )


def test_mcode_profiles_present(patient_and_resources):
    patient, _, resources = patient_and_resources
    profiles = {p for r in resources for p in r.get("meta", {}).get("profile", [])}
    for name in (
        "mcode-primary-cancer-condition",
        "mcode-tnm-stage-group",
        "mcode-tnm-primary-tumor-category",
        "mcode-tnm-regional-nodes-category",
        "mcode-tnm-distant-metastases-category",
        "mcode-tumor-marker-test",
        "mcode-ecog-performance-status",
        "mcode-cancer-disease-status",
        "mcode-cancer-related-medication-administration",
    ):
        assert MCODE + name in profiles
    loinc = {
        c["code"]
        for r in resources
        if r["resourceType"] == "Observation"
        for c in r["code"]["coding"]
        if c["system"] == "http://loinc.org"
    }
    assert ("2857-1" if patient.setting == "mcrpc" else "9811-1") in loinc
    assert "2532-0" in loinc  # LDH


def test_profiles_are_mcode_stu4_canonicals(shared_reference, patient_and_resources):
    """Every mCODE profile we claim exists among the STU4 StructureDefinitions."""
    import json

    known = {
        json.loads(p.read_text())["url"]
        for p in (shared_reference / "mcode-profiles").glob("*.json")
    }
    _, _, resources = patient_and_resources
    claimed = {
        p for r in resources for p in r.get("meta", {}).get("profile", []) if p.startswith(MCODE)
    }
    assert claimed <= known
