"""Build one synthetic patient's mCODE STU4 (FHIR R4) resources and Bundle as plain JSON dicts.

Resources: Patient (mcode-cancer-patient), the primary cancer Condition with histology, the
AJCC TNM stage group and T/N/M category Observations, tumour markers (PSA or chromogranin A) and
labs with LOINC and UCUM, body weight and height, ECOG, prior systemic treatments
(MedicationRequest), one MedicationAdministration per radioligand cycle (administered activity in
GBq), one ImagingStudy per DICOM study (identifier ``urn:oid:<StudyInstanceUID>``),
CancerDiseaseStatus over time, a haematological AdverseEvent with its CTCAE grade, and the vital
status (``Patient.deceasedDateTime``). Every dict validates with ``fhir.resources.R4B``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from theragraph.synth.cohort import StudyPlan, SyntheticPatient
from theragraph.synth.dicom_writer import WrittenSeries
from theragraph.synth.identity import (
    ACCESSION_SYSTEM,
    ADMINISTRATION_IDENTIFIER_SYSTEM,
    PATIENT_IDENTIFIER_SYSTEM,
)
from theragraph.synth.params import load_parameters

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
AJCC = "http://cancerstaging.org"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
FULL_URL_BASE = "http://hospital.example.org/fhir/"
AJCC_8TH = {
    "system": SNOMED,
    "code": "897275008",
    "display": (
        "American Joint Commission on Cancer, Cancer Staging Manual, 8th edition neoplasm staging "
        "system (tumor staging)"
    ),
}
CTCAE_GRADE_EXTENSION = "http://hl7.org/fhir/us/ctcae/StructureDefinition/ctcae-grade"
CTCAE_GRADE_SYSTEM = "http://hl7.org/fhir/us/ctcae/CodeSystem/ctcae-grade-code-system"


def _cc(coding: dict[str, str], text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {
        "coding": [{k: coding[k] for k in ("system", "code", "display") if k in coding}]
    }
    if text:
        concept["text"] = text
    return concept


def _when(value: datetime | date) -> str:
    return value.isoformat()


def _category(code: str) -> list[dict[str, Any]]:
    return [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": code,
                }
            ]
        }
    ]


def resource_id(patient: SyntheticPatient, name: str) -> str:
    """Return the FHIR id of one of the patient's resources (opaque, deterministic)."""
    return f"{patient.key}-{name}"


def _ref(resource: dict[str, Any]) -> dict[str, str]:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def _observation(
    patient: SyntheticPatient,
    name: str,
    *,
    profile: str | None,
    code: dict[str, Any],
    category: str | None,
    effective: datetime | date,
    **value: Any,
) -> dict[str, Any]:
    obs: dict[str, Any] = {"resourceType": "Observation", "id": resource_id(patient, name)}
    if profile:
        obs["meta"] = {"profile": [profile]}
    obs["status"] = "final"
    if category:
        obs["category"] = _category(category)
    obs["code"] = code
    obs["subject"] = {"reference": f"Patient/{resource_id(patient, 'patient')}"}
    obs["effectiveDateTime"] = _when(effective)
    obs.update(value)
    return obs


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def build_resources(patient: SyntheticPatient, series: list[WrittenSeries]) -> list[dict[str, Any]]:
    """Return every FHIR resource of one patient, in a stable order.

    Args:
        patient: the synthetic patient.
        series: the DICOM series actually written (their instances go into ImagingStudy).
    """
    params = load_parameters()
    codes = params["codes"]
    person = patient.person
    setting = patient.setting
    out: list[dict[str, Any]] = []
    start = patient.therapy_start
    pid = resource_id(patient, "patient")
    subject = {"reference": f"Patient/{pid}"}

    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"profile": [MCODE + "mcode-cancer-patient"]},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical Record Number",
                        }
                    ]
                },
                "system": PATIENT_IDENTIFIER_SYSTEM,
                "value": person.mrn,
            }
        ],
        "name": [{"family": person.family, "given": [person.given, f"{person.middle_initial}."]}],
        "telecom": [{"system": "phone", "value": person.phone, "use": "home"}],
        "gender": person.fhir_gender,
        "birthDate": person.birth_date.isoformat(),
        "address": [
            {
                "line": [person.street],
                "city": person.city,
                "postalCode": person.postal_code,
                "country": person.country,
            }
        ],
    }
    if patient.outcome.os_event:
        resource["deceasedDateTime"] = _when(
            patient.months_after_start(patient.outcome.os_months).date()
        )
    else:
        resource["deceasedBoolean"] = False
    out.append(resource)

    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "id": resource_id(patient, "primary-cancer"),
        "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
        "extension": [
            {
                "url": MCODE + "mcode-histology-morphology-behavior",
                "valueCodeableConcept": _cc(codes["histology"][setting]),
            }
        ],
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": _cc(codes["conditions"][setting]),
        "subject": subject,
        "onsetDateTime": _when(patient.diagnosed_on),
        "stage": [
            {
                "summary": _cc(
                    {
                        "system": AJCC,
                        "code": patient.tnm["stage_group"],
                        "display": f"AJCC stage {patient.tnm['stage_group']}",
                    }
                ),
                "assessment": [
                    {"reference": f"Observation/{resource_id(patient, 'tnm-stage-group')}"}
                ],
                "type": _cc(AJCC_8TH),
            }
        ],
    }
    out.append(condition)
    focus = [_ref(condition)]
    staged_on = patient.pet.started_at
    members = []
    for key, name, code, display, profile in (
        ("t", "tnm-t", "399504009", "cT category", "mcode-tnm-primary-tumor-category"),
        ("n", "tnm-n", "399534004", "cN category", "mcode-tnm-regional-nodes-category"),
        ("m", "tnm-m", "399387003", "cM category", "mcode-tnm-distant-metastases-category"),
    ):
        obs = _observation(
            patient,
            name,
            profile=MCODE + profile,
            category="imaging",
            code=_cc({"system": SNOMED, "code": code, "display": display}),
            effective=staged_on,
            focus=focus,
            valueCodeableConcept=_cc({"system": AJCC, "code": patient.tnm[key]}),
            method=_cc(AJCC_8TH),
        )
        members.append(obs)
    group = _observation(
        patient,
        "tnm-stage-group",
        profile=MCODE + "mcode-tnm-stage-group",
        category="imaging",
        code=_cc({"system": SNOMED, "code": "399537006", "display": "Clinical TNM stage grouping"}),
        effective=staged_on,
        focus=focus,
        valueCodeableConcept=_cc({"system": AJCC, "code": patient.tnm["stage_group"]}),
        method=_cc(AJCC_8TH),
        hasMember=[_ref(m) for m in members],
    )
    out.append(group)
    out.extend(members)

    baseline_at = staged_on - timedelta(days=3)
    follow_up_at = start + timedelta(weeks=12)
    for name, value in patient.markers.items():
        lab = codes["labs"][name]
        code = _cc({"system": LOINC, "code": lab["loinc"], "display": lab["display"]})
        profile = MCODE + "mcode-tumor-marker-test" if lab["tumor_marker"] else None
        extra = {"focus": focus} if lab["tumor_marker"] else {}
        out.append(
            _observation(
                patient,
                f"{name.split('_')[0]}-baseline",
                profile=profile,
                category="laboratory",
                code=code,
                effective=baseline_at,
                valueQuantity=_quantity(value, lab["ucum"]),
                **extra,
            )
        )
        if name in patient.follow_up_markers and patient.outcome.pfs_months * 30.4 > 12 * 7 - 14:
            out.append(
                _observation(
                    patient,
                    f"{name.split('_')[0]}-week12",
                    profile=profile,
                    category="laboratory",
                    code=code,
                    effective=follow_up_at,
                    valueQuantity=_quantity(patient.follow_up_markers[name], lab["ucum"]),
                    **extra,
                )
            )
    out.append(
        _observation(
            patient,
            "body-weight",
            profile="http://hl7.org/fhir/StructureDefinition/bodyweight",
            category="vital-signs",
            code=_cc({"system": LOINC, "code": "29463-7", "display": "Body weight"}),
            effective=baseline_at,
            valueQuantity=_quantity(patient.weight_kg, "kg"),
        )
    )
    out.append(
        _observation(
            patient,
            "body-height",
            profile="http://hl7.org/fhir/StructureDefinition/bodyheight",
            category="vital-signs",
            code=_cc({"system": LOINC, "code": "8302-2", "display": "Body height"}),
            effective=baseline_at,
            valueQuantity=_quantity(patient.height_cm, "cm"),
        )
    )
    out.append(
        _observation(
            patient,
            "ecog",
            profile=MCODE + "mcode-ecog-performance-status",
            category="survey",
            code=_cc(
                {"system": LOINC, "code": "89247-1", "display": "ECOG Performance Status score"}
            ),
            effective=baseline_at,
            valueInteger=patient.ecog,
            interpretation=[
                {"coding": [{"system": LOINC, "code": codes["ecog_answers"][patient.ecog]}]}
            ],
        )
    )

    for n, prior in enumerate(patient.prior_treatments, start=1):
        out.append(
            {
                "resourceType": "MedicationRequest",
                "id": resource_id(patient, f"prior-{n}"),
                "meta": {"profile": [MCODE + "mcode-cancer-related-medication-request"]},
                "extension": [
                    {
                        "url": MCODE + "mcode-procedure-intent",
                        "valueCodeableConcept": _cc(
                            {
                                "system": SNOMED,
                                "code": "363676003",
                                "display": "Palliative - procedure intent",
                            }
                        ),
                    }
                ],
                "status": "completed",
                "intent": "order",
                "medicationCodeableConcept": _cc(prior.code),
                "subject": subject,
                "authoredOn": _when(prior.started_on),
                "reasonReference": focus,
                "dosageInstruction": [
                    {
                        "timing": {
                            "repeat": {
                                "boundsPeriod": {
                                    "start": _when(prior.started_on),
                                    "end": _when(prior.ended_on),
                                }
                            }
                        }
                    }
                ],
            }
        )

    therapy = params["settings"][setting]["therapy"]
    for cycle in patient.cycles:
        out.append(
            {
                "resourceType": "MedicationAdministration",
                "id": resource_id(patient, f"rlt-cycle-{cycle.number}"),
                "meta": {"profile": [MCODE + "mcode-cancer-related-medication-administration"]},
                "extension": [
                    {
                        "url": MCODE + "mcode-procedure-intent",
                        "valueCodeableConcept": _cc(
                            {
                                "system": SNOMED,
                                "code": "363676003",
                                "display": "Palliative - procedure intent",
                            }
                        ),
                    }
                ],
                "identifier": [administration_identifier(patient, cycle.number)],
                "status": "completed",
                "medicationCodeableConcept": _cc(therapy["code"], text=therapy["agent"]),
                "subject": subject,
                "effectiveDateTime": _when(cycle.administered_at),
                "reasonReference": focus,
                "dosage": {
                    "text": f"cycle {cycle.number} of {therapy['cycles_nominal']}",
                    "route": _cc(
                        {"system": SNOMED, "code": "47625008", "display": "Intravenous route"}
                    ),
                    "dose": _quantity(cycle.activity_gbq, "GBq"),
                },
            }
        )

    by_study: dict[str, list[WrittenSeries]] = {}
    studies: dict[str, StudyPlan] = {}
    for item in series:
        by_study.setdefault(item.study.uid, []).append(item)
        studies[item.study.uid] = item.study
    for n, (uid, items) in enumerate(by_study.items(), start=1):
        out.append(_imaging_study(patient, studies[uid], items, n, subject))

    status = codes["disease_status"]
    evidence = (
        {
            "system": SNOMED,
            "code": "386344002",
            "display": "Laboratory data interpretation (procedure)",
        }
        if setting == "mcrpc"
        else {"system": SNOMED, "code": "363679005", "display": "Imaging (procedure)"}
    )
    assessments = [(follow_up_at, "improved" if patient.outcome.response else "stable")]
    if patient.outcome.pfs_event:
        assessments.append((patient.months_after_start(patient.outcome.pfs_months), "worse"))
    for n, (at, value) in enumerate(sorted(assessments), start=1):
        if at > patient.months_after_start(patient.outcome.follow_up_months) + timedelta(days=1):
            continue
        out.append(
            _observation(
                patient,
                f"disease-status-{n}",
                profile=MCODE + "mcode-cancer-disease-status",
                category=None,
                code=_cc(
                    {"system": LOINC, "code": "97509-4", "display": "Cancer Disease Progression"}
                ),
                effective=at,
                focus=focus,
                valueCodeableConcept=_cc(status[value]),
                extension=[
                    {
                        "url": MCODE + "mcode-cancer-disease-status-evidence-type",
                        "valueCodeableConcept": _cc(evidence),
                    }
                ],
            )
        )
    if patient.outcome.toxicity_grade > 0:
        grade = patient.outcome.toxicity_grade
        out.append(
            {
                "resourceType": "AdverseEvent",
                "id": resource_id(patient, "haematotoxicity"),
                "extension": [
                    {
                        "url": CTCAE_GRADE_EXTENSION,
                        "valueCodeableConcept": _cc(
                            {
                                "system": CTCAE_GRADE_SYSTEM,
                                "code": str(grade),
                                "display": f"Grade {grade}",
                            }
                        ),
                    }
                ],
                "actuality": "actual",
                "event": _cc({"system": SNOMED, "code": "271737000", "display": "Anemia"}),
                "subject": subject,
                "date": _when(start + timedelta(weeks=8)),
                "severity": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                            "code": ("mild", "moderate", "severe", "severe", "severe")[grade - 1],
                        }
                    ]
                },
                "suspectEntity": [
                    {
                        "instance": {
                            "reference": "MedicationAdministration/"
                            + resource_id(patient, "rlt-cycle-1")
                        }
                    }
                ],
            }
        )
    return out


def administration_identifier(patient: SyntheticPatient, cycle_number: int) -> dict[str, str]:
    """Return the business identifier of one therapy administration (cited by dosimetry)."""
    return {
        "system": ADMINISTRATION_IDENTIFIER_SYSTEM,
        "value": f"MA-{patient.person.mrn}-{cycle_number}",
    }


def _imaging_study(
    patient: SyntheticPatient,
    study: StudyPlan,
    items: list[WrittenSeries],
    n: int,
    subject: dict[str, str],
) -> dict[str, Any]:
    modalities = sorted({s.plan.modality for s in items})
    return {
        "resourceType": "ImagingStudy",
        "id": resource_id(patient, f"imaging-study-{n}"),
        "identifier": [
            {"system": "urn:dicom:uid", "value": f"urn:oid:{study.uid}"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}
                    ]
                },
                "system": ACCESSION_SYSTEM,
                "value": study.accession,
            },
        ],
        "status": "available",
        "modality": [{"system": DCM, "code": m} for m in modalities],
        "subject": subject,
        "started": _when(study.started_at),
        "numberOfSeries": len(items),
        "numberOfInstances": sum(len(s.sop_instance_uids) for s in items),
        "description": study.description,
        "series": [
            {
                "uid": s.plan.uid,
                "number": s.plan.number,
                "modality": {"system": DCM, "code": s.plan.modality},
                "description": s.plan.description,
                "numberOfInstances": len(s.sop_instance_uids),
                "started": _when(s.plan.started_at),
                "instance": [
                    {
                        "uid": uid,
                        "sopClass": {
                            "system": "urn:ietf:rfc:3986",
                            "code": f"urn:oid:{s.sop_class_uid}",
                        },
                        "number": k,
                    }
                    for k, uid in enumerate(s.sop_instance_uids, start=1)
                ],
            }
            for s in items
        ],
    }


def build_bundle(patient: SyntheticPatient, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the patient's mCODE Bundle (type collection) holding ``resources``."""
    return {
        "resourceType": "Bundle",
        "id": resource_id(patient, "bundle"),
        "meta": {"profile": [MCODE + "mcode-patient-bundle"]},
        "type": "collection",
        "timestamp": _when(
            patient.months_after_start(patient.outcome.follow_up_months).replace(microsecond=0)
        ),
        "entry": [
            {"fullUrl": f"{FULL_URL_BASE}{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
