"""Read one dosimetry report (JSON, format v1): validate, normalise units, de-identify.

Returns plain records (:mod:`theragraph.records.dosimetry`); knows nothing about RDF. Every
problem is an :class:`~theragraph.report.Issue` whose ``location`` is a JSON pointer into the
report. Messages never quote identifying values (patient or administration identifiers).

De-identification (design §4): the patient identifier becomes its pseudonym, the report id and
the MedicationAdministration identifier become keyed tokens, every date-time is shifted by the
patient's date shift (time of day and offset kept), and every DICOM UID becomes ``2.25.<int>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import jsonschema
import yaml

from theragraph.ids import Pseudonymizer
from theragraph.records.dosimetry import (
    ActivityRecord,
    CodeRecord,
    DosimetryReportRecord,
    FitRecord,
    MethodRecord,
    SegmentationRefRecord,
    TherapyCycleRecord,
    TimePointRecord,
    UptakeRecord,
    VoiRecord,
)
from theragraph.report import Issue
from theragraph.resources import data_path, resource_path

FORMAT = "theragraph-dosimetry-report"
SCHEMA_NAME = "dosimetry/report.schema.json"
UNITS_NAME = "dosimetry/units.yaml"
#: JSON pointers under which values are identifying: schema messages there are not quoted.
_IDENTIFYING = ("/patient", "/therapy_cycle/medication_administration", "/report_id")


@dataclass(slots=True)
class ReadOutcome:
    """The result of reading one report: a record when it is valid, and every issue found."""

    record: DosimetryReportRecord | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when a record was produced (warnings allowed)."""
        return self.record is not None


@lru_cache
def load_schema() -> dict[str, Any]:
    """Return the report JSON Schema (draft 2020-12)."""
    schema: dict[str, Any] = json.loads(resource_path("mappings", SCHEMA_NAME).read_text())
    return schema


@lru_cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


@lru_cache
def load_units() -> dict[str, Any]:
    """Return the unit normalisation table (``mappings/dosimetry/units.yaml``)."""
    data: dict[str, Any] = yaml.safe_load(resource_path("mappings", UNITS_NAME).read_text())
    return data


@lru_cache
def load_plausibility() -> dict[str, Any]:
    """Return the plausibility ranges (``src/theragraph/data/dosimetry_plausibility.yaml``)."""
    data: dict[str, Any] = yaml.safe_load(data_path("dosimetry_plausibility.yaml").read_text())
    return data


def is_report_document(document: Any) -> bool:
    """Return True for a JSON object that declares the dosimetry report format."""
    return isinstance(document, dict) and document.get("format") == FORMAT


def to_pointer(path: Any) -> str:
    """Return the JSON pointer (RFC 6901) of a path of keys and indices."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


@lru_cache
def _fast_validator() -> Any:
    """Return a jsonschema-rs validator when that optional package is installed, else None.

    It checks a valid report ~200x faster; ``jsonschema`` still produces the located issues.
    """
    try:
        import jsonschema_rs
    except ImportError:
        return None
    try:
        return jsonschema_rs.validator_for(load_schema())
    except Exception:  # an engine that cannot compile the schema: fall back, never fail
        return None


def schema_issues(document: Any) -> list[Issue]:
    """Validate a document against the schema; one ``read.schema`` issue per violation."""
    fast = _fast_validator()
    if fast is not None and fast.is_valid(document):
        return []
    issues = []
    for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path)):
        pointer = to_pointer(error.absolute_path)
        if pointer.startswith(_IDENTIFYING):
            message = f"fails the schema's '{error.validator}' constraint (value not shown)"
        else:
            message = error.message
        issues.append(
            Issue(
                code="read.schema",
                location=pointer or "/",
                message=f"{message}; see mappings/dosimetry/report.schema.json",
            )
        )
    return issues


def normalise(kind: str, value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` to the target unit of quantity ``kind`` (units.yaml).

    Raises:
        KeyError: for a unit the table does not list (the schema forbids them).
    """
    return float(value) * float(load_units()["kinds"][kind]["factors"][unit])


def read_report_bytes(content: bytes, *, pseudonymizer: Pseudonymizer) -> ReadOutcome:
    """Parse and read one JSON report.

    Args:
        content: the file's bytes (UTF-8 JSON).
        pseudonymizer: the deployment's pseudonymizer.
    """
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "encoding"
        return ReadOutcome(
            None,
            [
                Issue(
                    code="read.invalid-json",
                    location="/",
                    message=f"not valid UTF-8 JSON ({where}); fix the file and re-ingest",
                )
            ],
        )
    return read_report(document, pseudonymizer=pseudonymizer)


def read_report(document: Any, *, pseudonymizer: Pseudonymizer) -> ReadOutcome:
    """Validate, normalise and de-identify one parsed report.

    Errors (the report does not land): schema violations (``read.schema``), activities naming an
    unknown time point (``read.unknown-time-point``), duplicate ids (``read.duplicate-id``),
    values outside the plausibility ranges (``read.implausible-value``) and doses inconsistent
    with dose per activity (``read.inconsistent-value``).
    """
    issues = schema_issues(document)
    if issues:
        return ReadOutcome(None, issues)
    issues.extend(_reference_issues(document))
    issues.extend(_plausibility_issues(document))
    if any(i.severity == "error" for i in issues):
        return ReadOutcome(None, issues)
    return ReadOutcome(_to_record(document, pseudonymizer), issues)


def _reference_issues(document: dict[str, Any]) -> list[Issue]:
    issues = []
    tp_ids: set[str] = set()
    for i, tp in enumerate(document["time_points"]):
        if tp["id"] in tp_ids:
            issues.append(
                Issue(
                    code="read.duplicate-id",
                    location=f"/time_points/{i}/id",
                    message="time point id is used twice; ids must be unique",
                )
            )
        tp_ids.add(tp["id"])
    voi_ids: set[str] = set()
    for v, voi in enumerate(document["vois"]):
        if voi["id"] in voi_ids:
            issues.append(
                Issue(
                    code="read.duplicate-id",
                    location=f"/vois/{v}/id",
                    message="VOI id is used twice; ids must be unique",
                )
            )
        voi_ids.add(voi["id"])
        for a, act in enumerate(voi.get("activities", [])):
            if act["time_point"] not in tp_ids:
                issues.append(
                    Issue(
                        code="read.unknown-time-point",
                        location=f"/vois/{v}/activities/{a}/time_point",
                        message=f"activity names time point {act['time_point']!r}, which is not in "
                        "/time_points; add it or fix the id",
                    )
                )
    return issues


def _range_issue(name: str, value: float, group: str, pointer: str, unit: str) -> Issue | None:
    low, high = (float(x) for x in load_plausibility()["ranges"][name][group])
    if low <= value <= high:
        return None
    return Issue(
        code="read.implausible-value",
        location=pointer,
        message=f"{value:g} {unit} is outside the plausible range [{low:g}, {high:g}] {unit} for "
        f"a {group} (src/theragraph/data/dosimetry_plausibility.yaml); check the unit "
        "(e.g. mGy labelled Gy, MBq labelled GBq)",
    )


def _plausibility_issues(document: dict[str, Any]) -> list[Issue]:
    checks: list[Issue | None] = []
    cycle = document["therapy_cycle"]
    administered_mbq = None
    if "administered_activity" in cycle:
        q = cycle["administered_activity"]
        administered_mbq = normalise("activity", q["value"], q["unit"])
        checks.append(
            _range_issue(
                "administered_activity_mbq",
                administered_mbq,
                "cycle",
                "/therapy_cycle/administered_activity/value",
                "MBq",
            )
        )
    tolerance = float(load_plausibility()["tolerance_dose_per_activity_consistency"])
    fields = (
        ("mass", "mass", "mass_g", "g"),
        ("volume", "volume", "volume_ml", "mL"),
        (
            "time_integrated_activity",
            "time_integrated_activity",
            "time_integrated_activity_mbq_h",
            "MBq.h",
        ),
        ("absorbed_dose", "absorbed_dose", "absorbed_dose_gy", "Gy"),
        (
            "absorbed_dose_per_activity",
            "absorbed_dose_per_activity",
            "absorbed_dose_per_activity_gy_per_gbq",
            "Gy/GBq",
        ),
    )
    for v, voi in enumerate(document["vois"]):
        group = voi["type"]
        values: dict[str, float] = {}
        for key, kind, range_name, unit in fields:
            if key in voi:
                values[key] = normalise(kind, voi[key]["value"], voi[key]["unit"])
                checks.append(
                    _range_issue(range_name, values[key], group, f"/vois/{v}/{key}/value", unit)
                )
        for a, act in enumerate(voi.get("activities", [])):
            mbq = normalise("activity", act["value"], act["unit"])
            checks.append(
                _range_issue("activity_mbq", mbq, group, f"/vois/{v}/activities/{a}/value", "MBq")
            )
        dose, dpa = values.get("absorbed_dose"), values.get("absorbed_dose_per_activity")
        if dose is not None and dpa and administered_mbq:
            implied = dose / (administered_mbq / 1000.0)
            if abs(implied - dpa) / dpa > tolerance:
                checks.append(
                    Issue(
                        code="read.inconsistent-value",
                        location=f"/vois/{v}/absorbed_dose/value",
                        message=f"absorbed dose / administered activity = {implied:.4g} Gy/GBq but "
                        f"absorbed_dose_per_activity says {dpa:.4g} Gy/GBq (tolerance "
                        f"{tolerance:.0%}); one of the units is probably wrong",
                    )
                )
    return [c for c in checks if c is not None]


def _code(entry: dict[str, Any] | None) -> CodeRecord | None:
    if not entry:
        return None
    return CodeRecord(system=entry["system"], code=entry["code"], display=entry.get("display"))


def _to_record(document: dict[str, Any], pseudonymizer: Pseudonymizer) -> DosimetryReportRecord:
    patient = pseudonymizer.patient(
        document["patient"]["identifier_system"], document["patient"]["identifier_value"]
    )

    def shifted(text: str | None) -> datetime | None:
        if text is None:
            return None
        return pseudonymizer.shift_datetime(datetime.fromisoformat(text), patient)

    cycle = document["therapy_cycle"]
    ma = cycle.get("medication_administration")
    administered = cycle.get("administered_activity")
    cycle_record = TherapyCycleRecord(
        cycle_number=cycle["cycle_number"],
        radiopharmaceutical=_code(cycle.get("radiopharmaceutical")),
        radionuclide=_code(cycle.get("radionuclide")),
        administered_activity_mbq=(
            normalise("activity", administered["value"], administered["unit"])
            if administered
            else None
        ),
        administration_time=shifted(cycle.get("administration_time")),
        administration_key=(
            administration_key(pseudonymizer, ma["system"], ma["value"]) if ma else None
        ),
    )
    admin_at = cycle_record.administration_time
    time_points = []
    for i, tp in enumerate(document["time_points"]):
        acquired = shifted(tp.get("acquisition_time"))
        hours = tp.get("hours_post_administration")
        if hours is None and acquired is not None and admin_at is not None:
            hours = (acquired - admin_at).total_seconds() / 3600.0
        series = tp.get("series_instance_uid")
        time_points.append(
            TimePointRecord(
                id=tp["id"],
                pointer=f"/time_points/{i}",
                series_uid=pseudonymizer.uid(series) if series else None,
                acquisition_time=acquired,
                hours_post_administration=hours,
                modality=tp.get("modality"),
            )
        )
    vois = [_voi_record(v, i, pseudonymizer) for i, v in enumerate(document["vois"])]
    method = document["method"]
    software = method.get("software") or {}
    calibration = method.get("calibration_factor") or {}
    return DosimetryReportRecord(
        report_key=pseudonymizer.token("dosimetry", document["report_id"]),
        patient=patient,
        format_version=document["format_version"],
        cycle=cycle_record,
        method=MethodRecord(
            name=method["name"],
            software_name=software.get("name"),
            software_version=software.get("version"),
            calibration_factor_value=calibration.get("value"),
            calibration_factor_unit=calibration.get("unit"),
            calibration_reference=calibration.get("reference"),
        ),
        time_points=tuple(time_points),
        vois=tuple(vois),
        created_at=shifted(document.get("created")),
    )


def administration_key(pseudonymizer: Pseudonymizer, system: str, value: str) -> str:
    """Return the pseudonymous join key of a MedicationAdministration identifier.

    The FHIR mapping emits the same key (``tg:administrationKey``) on the MedicationAdministration
    whose ``identifier`` is ``(system, value)``, so cycles and administrations join in SPARQL.
    """
    return pseudonymizer.token("administration", f"{system.strip()}|{value.strip()}")


def _quantity(voi: dict[str, Any], key: str, kind: str) -> tuple[float | None, float | None]:
    entry = voi.get(key)
    if entry is None:
        return None, None
    return normalise(kind, entry["value"], entry["unit"]), entry.get("uncertainty_percent")


def _voi_record(voi: dict[str, Any], index: int, pseudonymizer: Pseudonymizer) -> VoiRecord:
    seg = voi.get("segmentation")
    segmentation = None
    if seg is not None:
        is_roi = "roi_number" in seg
        segmentation = SegmentationRefRecord(
            kind="roi" if is_roi else "segment",
            series_uid=pseudonymizer.uid(seg["series_instance_uid"]),
            number=int(seg["roi_number"] if is_roi else seg["segment_number"]),
            sop_instance_uid=(
                pseudonymizer.uid(seg["sop_instance_uid"]) if seg.get("sop_instance_uid") else None
            ),
        )
    fit = voi.get("fit")
    uptake = voi.get("baseline_uptake")
    mass_g, _ = _quantity(voi, "mass", "mass")
    volume_ml, _ = _quantity(voi, "volume", "volume")
    tia, tia_u = _quantity(voi, "time_integrated_activity", "time_integrated_activity")
    dose, dose_u = _quantity(voi, "absorbed_dose", "absorbed_dose")
    dpa, _ = _quantity(voi, "absorbed_dose_per_activity", "absorbed_dose_per_activity")
    return VoiRecord(
        id=voi["id"],
        type=voi["type"],
        pointer=f"/vois/{index}",
        label=voi.get("label"),
        anatomy=_code(voi.get("anatomy")),
        segmentation=segmentation,
        mass_g=mass_g,
        volume_ml=volume_ml,
        activities=tuple(
            ActivityRecord(
                time_point_id=a["time_point"],
                activity_mbq=normalise("activity", a["value"], a["unit"]),
                uncertainty_percent=a.get("uncertainty_percent"),
            )
            for a in voi.get("activities", [])
        ),
        fit=FitRecord(
            model=fit["model"],
            parameters={k: float(v) for k, v in fit.get("parameters", {}).items()},
            r_squared=fit.get("r_squared"),
            aic=fit.get("aic"),
        )
        if fit
        else None,
        time_integrated_activity_mbq_h=tia,
        time_integrated_activity_uncertainty_percent=tia_u,
        absorbed_dose_gy=dose,
        absorbed_dose_uncertainty_percent=dose_u,
        absorbed_dose_per_activity_gy_per_gbq=dpa,
        baseline_uptake=UptakeRecord(
            suv_mean=float(uptake["suv_mean"]),
            suv_max=uptake.get("suv_max"),
            suv_type=uptake.get("suv_type", "bw"),
            series_uid=(
                pseudonymizer.uid(uptake["series_instance_uid"])
                if uptake.get("series_instance_uid")
                else None
            ),
        )
        if uptake
        else None,
    )
