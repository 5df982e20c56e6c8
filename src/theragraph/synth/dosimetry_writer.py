"""Build the per-cycle dosimetry reports (docs/contracts.md, format v1.0) of one patient.

Each report lists the SPECT time points by their real SeriesInstanceUIDs, and each VOI by its
RTSTRUCT ROINumber. VOI activities are the true curve plus measurement noise (5 % SD, the
quantitative SPECT accuracy reported by Uribe 2017 EJNMMI Phys 4:2); the mono-exponential fit,
time-integrated activity and absorbed dose are then computed from those noisy points, as a
dosimetry package would.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from theragraph.synth.cohort import Cycle, SyntheticPatient, voi_curve
from theragraph.synth.dicom_writer import WrittenSeries, roi_numbers
from theragraph.synth.fhir_writer import administration_identifier
from theragraph.synth.identity import PATIENT_IDENTIFIER_SYSTEM
from theragraph.synth.kinetics import s_value_gy_per_mbq_h
from theragraph.synth.params import load_parameters
from theragraph.synth.seeding import STREAM_PIXELS, patient_rng

FORMAT = "theragraph-dosimetry-report"
FORMAT_VERSION = "1.0"
ACTIVITY_NOISE = 0.05
SOFTWARE = {"name": "theragraph-synth-dosimetry", "version": "1.0"}


def report_id(patient: SyntheticPatient, cycle_number: int) -> str:
    """Return the report identifier of one cycle."""
    return f"DOS-{patient.person.mrn}-C{cycle_number}"


def _iso(value: datetime) -> str:
    return value.isoformat()


def _r(value: float, digits: int = 4) -> float:
    """Round to ``digits`` significant digits (stable, short JSON numbers)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _fit(hours: list[float], values: list[float]) -> tuple[float, float, float]:
    """Fit ``A0 * exp(-lambda t)`` by log-linear least squares; return A0, lambda, r^2."""
    t = np.array(hours)
    y = np.log(np.array(values))
    slope, intercept = np.polyfit(t, y, 1)
    lam = max(float(-slope), 1e-4)
    a0 = float(np.exp(intercept))
    predicted = a0 * np.exp(-lam * t)
    observed = np.array(values)
    ss_res = float(np.sum((observed - predicted) ** 2))
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return a0, lam, max(min(r2, 1.0), -1.0)


def build_report(
    patient: SyntheticPatient,
    cycle: Cycle,
    spect: list[WrittenSeries],
    rtstruct: WrittenSeries,
    *,
    missing_series_uid: str | None = None,
) -> dict[str, Any]:
    """Return the dosimetry report of one cycle.

    Args:
        patient: the synthetic patient.
        cycle: the therapy cycle.
        spect: the cycle's SPECT series, one per time point, in time order.
        rtstruct: the cycle's RTSTRUCT series (the VOI segmentations).
        missing_series_uid: fault injection: cite this (non-existent) series for the last
            time point instead of the real one.
    """
    params = load_parameters()
    therapy = params["settings"][patient.setting]["therapy"]
    lu = params["radionuclides"]["Lu-177"]
    rng = patient_rng(patient.seed, patient.index, STREAM_PIXELS + 1000 + cycle.number)
    time_points = []
    for k, (tp, series) in enumerate(zip(cycle.time_points, spect, strict=True)):
        uid = series.plan.uid
        if missing_series_uid is not None and k == len(spect) - 1:
            uid = missing_series_uid
        time_points.append(
            {
                "id": tp.id,
                "series_instance_uid": uid,
                "acquisition_time": _iso(tp.acquired_at),
                "hours_post_administration": tp.hours,
                "modality": series.plan.modality,
            }
        )
    numbers = roi_numbers(patient)
    vois = []
    for voi in patient.vois:
        curve = voi_curve(cycle, voi)
        hours = [tp.hours for tp in cycle.time_points]
        measured = [
            curve.activity_mbq(h) * float(np.exp(rng.normal(0.0, ACTIVITY_NOISE))) for h in hours
        ]
        a0, lam, r2 = _fit(hours, measured)
        tia = a0 / lam
        dose = tia * s_value_gy_per_mbq_h(
            voi.mass_g, mean_energy_mev=lu["mean_energy_per_decay_mev"]
        )
        vois.append(
            {
                "id": voi.id,
                "type": voi.type,
                "label": voi.label,
                "anatomy": dict(voi.anatomy),
                "segmentation": {
                    "series_instance_uid": rtstruct.plan.uid,
                    "sop_instance_uid": rtstruct.sop_instance_uids[0],
                    "roi_number": numbers[voi.id],
                },
                "mass": {"value": voi.mass_g, "unit": "g"},
                "volume": {"value": voi.volume_ml, "unit": "mL"},
                "activities": [
                    {
                        "time_point": tp.id,
                        "value": _r(value),
                        "unit": "MBq",
                        "uncertainty_percent": 5.0,
                    }
                    for tp, value in zip(cycle.time_points, measured, strict=True)
                ],
                "fit": {
                    "model": "mono-exponential",
                    "parameters": {"A0_MBq": _r(a0), "lambda_per_h": _r(lam)},
                    "r_squared": _r(r2),
                },
                "time_integrated_activity": {"value": _r(tia), "unit": "MBq.h"},
                "absorbed_dose": {"value": _r(dose), "unit": "Gy", "uncertainty_percent": 10.0},
                "absorbed_dose_per_activity": {
                    "value": _r(dose / cycle.activity_gbq),
                    "unit": "Gy/GBq",
                },
            }
        )
    created = cycle.time_points[-1].acquired_at + timedelta(days=3)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "report_id": report_id(patient, cycle.number),
        "patient": {
            "identifier_system": PATIENT_IDENTIFIER_SYSTEM,
            "identifier_value": patient.person.mrn,
        },
        "therapy_cycle": {
            "cycle_number": cycle.number,
            "radiopharmaceutical": dict(therapy["code"]),
            "radionuclide": dict(lu["code"]),
            "administered_activity": {"value": cycle.activity_gbq, "unit": "GBq"},
            "administration_time": _iso(cycle.administered_at),
            "medication_administration": administration_identifier(patient, cycle.number),
        },
        "time_points": time_points,
        "vois": vois,
        "method": {
            "name": "MIRD S-value",
            "software": dict(SOFTWARE),
            "calibration_factor": {
                "value": cycle.calibration_cps_per_mbq,
                "unit": "cps/MBq",
                "reference": "Lu-177 208 keV window, cylindrical phantom",
            },
        },
        "created": _iso(created.replace(hour=9, minute=0, second=0)),
    }
