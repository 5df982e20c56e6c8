"""Builders of small FHIR R4 resources and Bundles for tests (our own synthetic data).

Until the cohort generator (branch ``synth``) lands, the query tests build their cohort here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MRN_SYSTEM = "http://hospital.example.org/mrn"
ATC = "http://www.whocc.no/atc"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
CYCLE_EXT = "https://w3id.org/theragraph/fhir/StructureDefinition/therapy-cycle-number"


def patient(pid: str, *, mrn: str, name: str = "Doe", birth: str = "1950-05-17", **extra: Any) -> dict[str, Any]:
    """A Patient with identifying data (name, address, telecom, MRN, birth date)."""
    res = {
        "resourceType": "Patient", "id": pid,
        "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"]},
        "text": {"status": "generated", "div": f"<div xmlns=\"http://www.w3.org/1999/xhtml\">{name} {mrn}</div>"},
        "identifier": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": MRN_SYSTEM, "value": mrn,
        }],
        "name": [{"family": name, "given": ["Alexander"]}],
        "telecom": [{"system": "phone", "value": "+44 20 7946 0958"}, {"system": "email", "value": f"{name.lower()}@mail.example"}],
        "address": [{"line": ["221B Baker Street"], "city": "Marylebone", "postalCode": "NW1 6XE"}],
        "gender": "male", "birthDate": birth,
    }
    res.update(extra)
    return res


def observation(oid: str, pid: str, code: tuple[str, str], *, when: str, **value: Any) -> dict[str, Any]:
    """An Observation about ``Patient/pid``; ``value`` gives value[x] (e.g. valueQuantity=...)."""
    res = {
        "resourceType": "Observation", "id": oid, "status": "final",
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
    }
    res.update(value)
    return res


def psa(oid: str, pid: str, value: float, when: str, unit: str = "ng/mL") -> dict[str, Any]:
    """A PSA result (LOINC 2857-1)."""
    return observation(oid, pid, (LOINC, "2857-1"), when=when,
                       valueQuantity={"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit})


def gleason(oid: str, pid: str, score: int, when: str) -> dict[str, Any]:
    """A Gleason score (LOINC 35266-6) as an integer."""
    return observation(oid, pid, (LOINC, "35266-6"), when=when, valueInteger=score)


def lu_psma_cycle(aid: str, pid: str, cycle: int, when: str, activity: float, unit: str = "GBq") -> dict[str, Any]:
    """One 177Lu-PSMA-617 cycle (ATC V10XX05) as a MedicationAdministration."""
    return {
        "resourceType": "MedicationAdministration", "id": aid, "status": "completed",
        "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-related-medication-administration"]},
        "extension": [{"url": CYCLE_EXT, "valuePositiveInt": cycle}],
        "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "V10XX05", "display": "lutetium (177Lu) vipivotide tetraxetan"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "dosage": {"dose": {"value": activity, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}},
    }


def primary_cancer(cid: str, pid: str, snomed: str = "399068003", onset: str = "2019-02-01") -> dict[str, Any]:
    """A primary cancer condition (default: malignant tumour of prostate)."""
    return {
        "resourceType": "Condition", "id": cid,
        "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"]},
        "code": {"coding": [{"system": SCT, "code": snomed}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": onset,
        "note": [{"text": "Patient Alexander Doe lives at 221B Baker Street"}],
    }


def tnm_stage_group(oid: str, pid: str, stage_code: str, when: str) -> dict[str, Any]:
    """A TNM clinical stage group (AJCC 8th edition as method)."""
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-tnm-stage-group"]},
        "code": {"coding": [{"system": SCT, "code": "399537006"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": stage_code}]},
        "method": {"coding": [{"system": SCT, "code": "897275008"}]},
    }


def imaging_study(sid: str, pid: str, study_uid: str, when: str) -> dict[str, Any]:
    """An ImagingStudy naming its DICOM StudyInstanceUID."""
    return {
        "resourceType": "ImagingStudy", "id": sid, "status": "available",
        "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{study_uid}"}],
        "subject": {"reference": f"Patient/{pid}"}, "started": when,
        "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "PT"}],
    }


def bundle(resources: list[dict[str, Any]], *, type_: str = "collection", urn: bool = False) -> dict[str, Any]:
    """A Bundle of ``resources``; with ``urn`` the references use urn:uuid fullUrls."""
    entries = []
    for i, res in enumerate(resources):
        full = f"urn:uuid:00000000-0000-4000-8000-{i:012d}" if urn else f"http://example.org/fhir/{res['resourceType']}/{res['id']}"
        entry: dict[str, Any] = {"fullUrl": full, "resource": res}
        if type_ == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{res['resourceType']}/{res['id']}"}
        if type_ == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    if urn:
        mapping = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["fullUrl"] for e in entries}
        text = json.dumps(entries)
        for ref, full in mapping.items():
            text = text.replace(f'"reference": "{ref}"', f'"reference": "{full}"')
        entries = json.loads(text)
    out: dict[str, Any] = {"resourceType": "Bundle", "type": type_, "entry": entries}
    if type_ == "document":
        out["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:11111111-1111-4111-8111-111111111111"}
        out["timestamp"] = "2024-01-01T00:00:00Z"
    return out


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as JSON and return the path."""
    path.write_text(json.dumps(obj))
    return path


def write_ndjson(path: Path, objs: list[Any]) -> Path:
    """Write NDJSON (one resource per line)."""
    path.write_text("\n".join(json.dumps(o) for o in objs) + "\n")
    return path
