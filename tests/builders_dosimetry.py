"""Builders for dosimetry test inputs: report documents and their CSV long-format twin."""

from __future__ import annotations

import copy
from typing import Any

PATIENT_SYSTEM = "urn:oid:1.2.3.4.5"
PATIENT_VALUE = "MRN0001"
SERIES_TP1 = "1.2.826.0.1.3680043.8.498.1001"
SERIES_TP2 = "1.2.826.0.1.3680043.8.498.1002"
RTSTRUCT_SERIES = "1.2.826.0.1.3680043.8.498.2001"
RTSTRUCT_SOP = "1.2.826.0.1.3680043.8.498.2001.1"

_BASE: dict[str, Any] = {
    "format": "theragraph-dosimetry-report",
    "format_version": "1.0",
    "report_id": "DOS-0001-C1",
    "patient": {"identifier_system": PATIENT_SYSTEM, "identifier_value": PATIENT_VALUE},
    "therapy_cycle": {
        "cycle_number": 1,
        "radiopharmaceutical": {
            "system": "http://snomed.info/sct",
            "code": "1010001",
            "display": "Lutetium (177Lu) vipivotide tetraxetan",
        },
        "radionuclide": {
            "system": "http://snomed.info/sct",
            "code": "1010002",
            "display": "Lutetium-177",
        },
        "administered_activity": {"value": 7.4, "unit": "GBq"},
        "administration_time": "2024-01-10T10:05:00+01:00",
        "medication_administration": {"system": "urn:oid:1.2.3.4.5.6", "value": "MA-0001-1"},
    },
    "time_points": [
        {
            "id": "tp1",
            "series_instance_uid": SERIES_TP1,
            "acquisition_time": "2024-01-10T14:05:00+01:00",
            "hours_post_administration": 4.0,
        },
        {
            "id": "tp2",
            "series_instance_uid": SERIES_TP2,
            "acquisition_time": "2024-01-11T10:05:00+01:00",
        },
    ],
    "vois": [
        {
            "id": "kidney-left",
            "type": "organ",
            "label": "Left kidney",
            "anatomy": {
                "system": "http://snomed.info/sct",
                "code": "18639004",
                "display": "Left kidney structure",
            },
            "segmentation": {"series_instance_uid": RTSTRUCT_SERIES, "roi_number": 3},
            "mass": {"value": 150.0, "unit": "g"},
            "volume": {"value": 145.0, "unit": "mL"},
            "activities": [
                {"time_point": "tp1", "value": 120.5, "unit": "MBq", "uncertainty_percent": 5.0},
                {"time_point": "tp2", "value": 80.0, "unit": "MBq"},
            ],
            "fit": {
                "model": "mono-exponential",
                "parameters": {"A0_MBq": 130.0, "lambda_per_h": 0.02},
                "r_squared": 0.98,
            },
            "time_integrated_activity": {"value": 6500.0, "unit": "MBq.h"},
            "absorbed_dose": {"value": 3.1, "unit": "Gy", "uncertainty_percent": 10.0},
            "absorbed_dose_per_activity": {"value": 0.42, "unit": "Gy/GBq"},
        },
        {
            "id": "lesion-1",
            "type": "lesion",
            "label": "Bone lesion L3",
            "activities": [{"time_point": "tp1", "value": 12.0, "unit": "MBq"}],
            "fit": {"model": "trapezoid"},
            "absorbed_dose": {"value": 25.0, "unit": "Gy"},
        },
    ],
    "method": {
        "name": "MIRD S-value",
        "software": {"name": "OLINDA/EXM", "version": "2.2"},
        "calibration_factor": {"value": 9.5, "unit": "cps/MBq", "reference": "CAL-2024-01"},
    },
    "created": "2024-01-20T09:00:00+01:00",
}


def report_document(**overrides: Any) -> dict[str, Any]:
    """Return a valid report document; top-level keys can be overridden (None deletes)."""
    doc = copy.deepcopy(_BASE)
    for key, value in overrides.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def report_csv(document: dict[str, Any] | None = None) -> str:
    """Return the CSV long-format twin of a report document (docs/dosimetry-format.md)."""
    doc = document or report_document()
    rid = doc["report_id"]
    rows = ["report_id,section,item,field,value,unit"]

    def emit(section: str, item: str, prefix: str, obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and set(value) >= {"value", "unit"}:
                rows.append(f"{rid},{section},{item},{name},{value['value']},{value['unit']}")
                for extra in set(value) - {"value", "unit"}:
                    rows.append(f"{rid},{section},{item},{name}.{extra},{value[extra]},")
            elif isinstance(value, dict):
                emit(section, item, f"{name}.", value)
            elif key == "activities":
                for act in value:
                    tp = act["time_point"]
                    rows.append(
                        f"{rid},{section},{item},activities.{tp},{act['value']},{act['unit']}"
                    )
                    if "uncertainty_percent" in act:
                        rows.append(
                            f"{rid},{section},{item},activities.{tp}.uncertainty_percent,"
                            f"{act['uncertainty_percent']},"
                        )
            elif key != "id":
                rows.append(f"{rid},{section},{item},{name},{value},")

    rows.append(f"{rid},report,,format_version,{doc['format_version']},")
    rows.append(f"{rid},report,,created,{doc['created']},")
    for section in ("patient", "therapy_cycle", "method"):
        emit(section, "", "", doc[section])
    for tp in doc["time_points"]:
        emit("time_point", tp["id"], "", tp)
    for voi in doc["vois"]:
        emit("voi", voi["id"], "", voi)
    return "\n".join(rows) + "\n"
