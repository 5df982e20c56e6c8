"""Draw one synthetic patient: demographics, lesions, organs, therapy cycles, imaging, outcomes.

A patient is a pure function of ``(seed, index)``: nothing here depends on other patients, so
the generator streams one patient at a time. All parameter values come from ``parameters.yaml``
(with their literature sources); the outcome mechanism is in :mod:`theragraph.synth.outcome`.
This module writes no files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np

from theragraph.synth.identity import Person, draw_person
from theragraph.synth.kinetics import (
    activity_mbq,
    initial_activity_mbq,
    time_integrated_activity_mbq_h,
)
from theragraph.synth.outcome import DAYS_PER_MONTH, Outcome, OutcomeFeatures, draw_outcome
from theragraph.synth.params import load_parameters
from theragraph.synth.seeding import derive_token, derive_uid, patient_rng

#: Therapy start dates are drawn in this window (weekdays only).
FIRST_THERAPY_DAY = date(2019, 1, 7)
LAST_THERAPY_DAY = date(2024, 6, 28)
#: Image grid of the tiny phantoms (rows x columns), in-plane spacing and slice spacing (mm).
GRID = 16
PIXEL_MM = 30.0
PET_BEDS = 2
PET_SLICES_PER_BED = 3
SPECT_FRAMES = 8
#: Where each organ sits in the phantom: (row, column, fraction of the z extent). Columns grow
#: towards the patient's left (DICOM LPS), so the left kidney has the larger column.
ORGAN_VOXELS: dict[str, tuple[int, int, float]] = {
    "parotid-glands": (4, 8, 0.05),
    "submandibular-glands": (6, 8, 0.15),
    "liver": (7, 4, 0.4),
    "kidney-left": (9, 11, 0.55),
    "kidney-right": (9, 4, 0.55),
    "bone-marrow": (11, 8, 0.8),
}
#: PET uptake (SUVmean) of normal organs, used only for the pixel phantoms.
ORGAN_SUV: dict[str, dict[str, float]] = {
    "mcrpc": {
        "parotid-glands": 15.0,
        "submandibular-glands": 14.0,
        "liver": 5.0,
        "kidney-left": 25.0,
        "kidney-right": 25.0,
        "bone-marrow": 1.5,
    },
    "net": {
        "parotid-glands": 1.5,
        "submandibular-glands": 1.5,
        "liver": 7.0,
        "kidney-left": 14.0,
        "kidney-right": 14.0,
        "bone-marrow": 1.2,
    },
}


@dataclass(frozen=True)
class Voi:
    """One organ or lesion volume of interest, with its patient-level pharmacokinetics."""

    id: str
    type: str  # "organ" or "lesion"
    label: str
    anatomy: dict[str, str]
    mass_g: float
    volume_ml: float
    gy_per_gbq: float  # cycle-1 absorbed dose per administered activity
    lambda_bio_per_h: float
    suv_mean: float
    suv_max: float
    voxel: tuple[int, int, float]
    interpreted_type: str  # RTSTRUCT RTROIInterpretedType


@dataclass(frozen=True)
class TimePoint:
    """One post-therapy SPECT acquisition."""

    id: str
    hours: float
    acquired_at: datetime


@dataclass(frozen=True)
class SeriesPlan:
    """One DICOM series to be written (UIDs fixed in advance so every source can cite them)."""

    uid: str
    number: int
    modality: str
    kind: str  # "pet", "ct", "spect", "rtstruct"
    description: str
    frame_of_reference_uid: str
    started_at: datetime
    time_point: str | None = None


@dataclass(frozen=True)
class StudyPlan:
    """One DICOM study (one visit)."""

    uid: str
    accession: str
    id: str
    description: str
    started_at: datetime
    series: tuple[SeriesPlan, ...]
    cycle: int  # 0 for the diagnostic PET/CT


@dataclass(frozen=True)
class Cycle:
    """One therapy administration with its post-therapy imaging and absorbed doses."""

    number: int
    administered_at: datetime
    activity_gbq: float
    time_points: tuple[TimePoint, ...]
    gy_per_gbq: dict[str, float]
    lambda_eff_per_h: dict[str, float]
    calibration_cps_per_mbq: float
    studies: tuple[StudyPlan, ...]
    rtstruct: SeriesPlan

    def dose_gy(self, voi_id: str) -> float:
        """Return this cycle's absorbed dose of one VOI (Gy)."""
        return self.gy_per_gbq[voi_id] * self.activity_gbq


@dataclass(frozen=True)
class PetScan:
    """The diagnostic PET/CT before therapy."""

    radionuclide: str
    agent: str
    code: dict[str, str]
    half_life_s: float
    positron_fraction: float
    activity_mbq: float
    injected_at: datetime
    started_at: datetime
    bed_duration_s: float
    study: StudyPlan


@dataclass(frozen=True)
class PriorTreatment:
    """A systemic treatment given before radioligand therapy."""

    code: dict[str, str]
    started_on: date
    ended_on: date


@dataclass(frozen=True)
class SyntheticPatient:
    """Everything known about one synthetic patient (the writers render it per source)."""

    seed: int
    index: int
    key: str  # opaque token for FHIR ids and file names
    setting: str  # "mcrpc" or "net"
    person: Person
    site: dict[str, Any]
    tz: timezone
    age_years: float
    weight_kg: float
    height_cm: float
    ecog: int
    markers: dict[str, float]
    follow_up_markers: dict[str, float]
    tnm: dict[str, str]
    diagnosed_on: date
    prior_treatments: tuple[PriorTreatment, ...]
    vois: tuple[Voi, ...]
    pet: PetScan
    cycles: tuple[Cycle, ...]
    outcome: Outcome
    features: OutcomeFeatures
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def lesions(self) -> tuple[Voi, ...]:
        """Return the lesion VOIs."""
        return tuple(v for v in self.vois if v.type == "lesion")

    @property
    def therapy_start(self) -> datetime:
        """Return the first administration time."""
        return self.cycles[0].administered_at

    def months_after_start(self, months: float) -> datetime:
        """Return the datetime ``months`` after the first administration."""
        return self.therapy_start + timedelta(days=months * DAYS_PER_MONTH)


def _clip(value: float, spec: dict[str, Any]) -> float:
    return float(min(max(value, spec.get("low", -math.inf)), spec.get("high", math.inf)))


def _normal(rng: np.random.Generator, spec: dict[str, Any]) -> float:
    return _clip(float(rng.normal(spec["mean"], spec["sd"])), spec)


def _lognormal(rng: np.random.Generator, spec: dict[str, Any]) -> float:
    return _clip(spec["median"] * spec["gsd"] ** float(rng.normal()), spec)


def _uniform(rng: np.random.Generator, spec: dict[str, Any]) -> float:
    return float(rng.uniform(spec["low"], spec["high"]))


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _at(day: date, minutes: int, tz: timezone) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz) + timedelta(minutes=minutes)


def _tz(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> str:
    keys = sorted(shares)
    weights = np.array([shares[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=weights / weights.sum()))]


def draw_patient(seed: int, index: int) -> SyntheticPatient:
    """Draw synthetic patient ``index`` of the cohort with ``seed`` (pure, no I/O)."""
    params = load_parameters()
    rng = patient_rng(seed, index)
    key = derive_token(seed, index, "patient", length=12)
    setting = _pick(rng, {k: v["share"] for k, v in params["settings"].items()})
    sp = params["settings"][setting]
    site = params["sites"][
        int(rng.choice(len(params["sites"]), p=[s["share"] for s in params["sites"]]))
    ]
    tz = _tz(site["tz"])
    sex = _pick(rng, {"M" if k == "male" else "F": v for k, v in sp["sex"].items()})
    age = _normal(rng, sp["age_years"])
    body = params["body"][sex]
    weight = round(_normal(rng, body["weight_kg"]), 1)
    height = round(_normal(rng, body["height_cm"]), 0)

    span = (LAST_THERAPY_DAY - FIRST_THERAPY_DAY).days
    start_day = _weekday_on_or_after(FIRST_THERAPY_DAY + timedelta(days=int(rng.integers(span))))
    person = draw_person(rng, seed=seed, index=index, sex=sex, age_years=age, on=start_day)

    ecog = int(rng.choice(len(sp["ecog_probabilities"]), p=sp["ecog_probabilities"]))
    markers = {
        name: round(_lognormal(rng, spec) if "median" in spec else _normal(rng, spec), 2)
        for name, spec in sp["markers"].items()
    }
    tnm = {
        "t": str(rng.choice(sp["tnm"]["t"])),
        "n": str(rng.choice(sp["tnm"]["n"])),
        "m": str(rng.choice(sp["tnm"]["m"])),
        "stage_group": sp["tnm"]["stage_group"],
    }
    years_before = float(rng.uniform(2, 8) if setting == "mcrpc" else rng.uniform(0.5, 4))
    diagnosed_on = start_day - timedelta(days=int(years_before * 365.25))
    priors = []
    for treatment in params["codes"]["prior_treatments"][setting]:
        low, high = treatment["months_before"]
        begin = start_day - timedelta(days=int(rng.uniform(low, high) * DAYS_PER_MONTH))
        end = begin + timedelta(days=int(rng.uniform(60, 180)))
        end = min(end, start_day - timedelta(days=28))
        code = {k: treatment[k] for k in ("system", "code", "display")}
        priors.append(PriorTreatment(code=code, started_on=begin, ended_on=max(end, begin)))

    vois = _draw_vois(rng, setting, sp, params)
    lesions = [v for v in vois if v.type == "lesion"]

    # Diagnostic PET 10-40 days before therapy.
    option = sp["diagnostic_pet"]["options"][
        int(rng.integers(len(sp["diagnostic_pet"]["options"])))
    ]
    nuclide = params["radionuclides"][option["radionuclide"]]
    pet_day = _weekday_on_or_after(start_day - timedelta(days=int(rng.integers(10, 40))))
    injected_at = _at(pet_day, int(rng.integers(7 * 60 + 30, 13 * 60)), tz)
    pet_start = injected_at + timedelta(minutes=option["uptake_min"] + int(rng.integers(-5, 16)))
    pet_activity = round(option["activity_mbq_per_kg"] * weight * float(rng.uniform(0.85, 1.15)), 1)
    pet_for = derive_uid(seed, index, "pet-for")
    pet_study_uid = derive_uid(seed, index, "study", 0)
    pet_study = StudyPlan(
        uid=pet_study_uid,
        accession=f"A{derive_token(seed, index, 'acc', 0, length=9).upper()}",
        id="1",
        description=f"{option['agent']} PET/CT",
        started_at=pet_start - timedelta(minutes=2),
        series=(
            SeriesPlan(
                derive_uid(seed, index, "series", 0, "ct"),
                2,
                "CT",
                "ct",
                "CT AC 3mm",
                pet_for,
                pet_start - timedelta(minutes=2),
            ),
            SeriesPlan(
                derive_uid(seed, index, "series", 0, "pet"),
                3,
                "PT",
                "pet",
                f"PET WB {option['agent']} AC",
                pet_for,
                pet_start,
            ),
        ),
        cycle=0,
    )
    pet = PetScan(
        radionuclide=option["radionuclide"],
        agent=option["agent"],
        code=option["code"],
        half_life_s=nuclide["half_life_s"],
        positron_fraction=nuclide["positron_fraction"],
        activity_mbq=pet_activity,
        injected_at=injected_at,
        started_at=pet_start,
        bed_duration_s=float(rng.choice([120.0, 150.0, 180.0])),
        study=pet_study,
    )

    # Features the outcome mechanism sees: cycle-1 lesion doses and baseline markers.
    therapy = sp["therapy"]
    activity_c1 = round(_normal(rng, therapy["activity_gbq"]), 2)
    lesion_doses = [v.gy_per_gbq * activity_c1 for v in lesions]
    weights = np.array([v.volume_ml for v in lesions])
    features = OutcomeFeatures(
        min_lesion_dose_gy=min(lesion_doses),
        mean_lesion_dose_gy=float(np.mean(lesion_doses)),
        suv_mean=float(np.average([v.suv_mean for v in lesions], weights=weights)),
        log10_psa=math.log10(markers["psa_ng_ml"] / 60.0) if "psa_ng_ml" in markers else 0.0,
        log10_cga=(
            math.log10(markers["chromogranin_a_ng_ml"] / 350.0)
            if "chromogranin_a_ng_ml" in markers
            else 0.0
        ),
        ldh_above_uln=markers["ldh_u_l"] > params["codes"]["ldh_uln_u_l"],
        ecog=ecog,
        age_years=age,
        hemoglobin_g_dl=markers["hemoglobin_g_dl"],
    )
    marrow = next(v for v in vois if v.id == "bone-marrow")
    outcome, n_cycles = draw_outcome(
        rng,
        features,
        sp["outcome"],
        marrow_dose_per_cycle_gy=marrow.gy_per_gbq * therapy["activity_gbq"]["mean"],
        interval_days=therapy["interval_days"],
        cycles_nominal=therapy["cycles_nominal"],
    )
    ratio = float(rng.uniform(0.05, 0.5) if outcome.response else rng.uniform(0.55, 2.5))
    follow_up_markers = {
        k: round(v * ratio, 2)
        for k, v in markers.items()
        if k in ("psa_ng_ml", "chromogranin_a_ng_ml")
    }

    # Quantitative SPECT leaves SIEMENS (xSPECT Quant) and most GE systems as NM multi-frame;
    # some GE sites export it through a third-party reconstruction as PET SOP class slices.
    spect_modality = "PT" if site["vendor"] == "GE" and rng.uniform() < 0.5 else "NM"
    schedule = params["spect_schedules_h"][int(rng.integers(len(params["spect_schedules_h"])))]
    lu = params["radionuclides"]["Lu-177"]
    lambda_phys = math.log(2.0) / (lu["half_life_s"] / 3600.0)
    cycles = []
    for number in range(1, n_cycles + 1):
        day = _weekday_on_or_after(
            start_day + timedelta(days=(number - 1) * therapy["interval_days"])
        )
        administered = _at(day, int(rng.integers(9 * 60, 12 * 60)), tz)
        activity = activity_c1 if number == 1 else round(_normal(rng, therapy["activity_gbq"]), 2)
        shrink = (0.8 if outcome.response else 0.95) ** (number - 1)
        gy_per_gbq: dict[str, float] = {}
        lambda_eff: dict[str, float] = {}
        for voi in vois:
            noise = 1.0 if number == 1 else float(math.exp(rng.normal(0.0, 0.1)))
            gy_per_gbq[voi.id] = voi.gy_per_gbq * noise * (shrink if voi.type == "lesion" else 1.0)
            lambda_eff[voi.id] = lambda_phys + voi.lambda_bio_per_h
        acquired = [
            administered + timedelta(hours=float(h), minutes=int(rng.integers(-20, 40)))
            for h in schedule
        ]
        time_points = tuple(
            TimePoint(f"tp{i + 1}", round((at - administered).total_seconds() / 3600.0, 2), at)
            for i, at in enumerate(acquired)
        )
        spect_for = derive_uid(seed, index, "spect-for", number)
        studies = []
        for i, tp in enumerate(time_points):
            series = [
                SeriesPlan(
                    derive_uid(seed, index, "series", number, tp.id),
                    1,
                    spect_modality,
                    "spect",
                    f"Lu177 SPECT QUANT C{number} {tp.id.upper()}",
                    spect_for,
                    tp.acquired_at,
                    tp.id,
                )
            ]
            studies.append(
                StudyPlan(
                    uid=derive_uid(seed, index, "study", number, tp.id),
                    accession="A"
                    + derive_token(seed, index, "acc", number, tp.id, length=9).upper(),
                    id=f"{number}{i + 1}",
                    description=f"Lu177 SPECT/CT cycle {number} {int(round(tp.hours))}h",
                    started_at=tp.acquired_at,
                    series=tuple(series),
                    cycle=number,
                )
            )
        first = studies[0]
        rtstruct = SeriesPlan(
            derive_uid(seed, index, "series", number, "rtstruct"),
            90,
            "RTSTRUCT",
            "rtstruct",
            f"Dosimetry VOIs C{number}",
            spect_for,
            time_points[-1].acquired_at + timedelta(hours=2),
        )
        studies[0] = StudyPlan(
            first.uid,
            first.accession,
            first.id,
            first.description,
            first.started_at,
            (*first.series, rtstruct),
            first.cycle,
        )
        cycles.append(
            Cycle(
                number=number,
                administered_at=administered,
                activity_gbq=activity,
                time_points=time_points,
                gy_per_gbq=gy_per_gbq,
                lambda_eff_per_h=lambda_eff,
                calibration_cps_per_mbq=round(
                    _uniform(rng, params["calibration_factor_cps_per_mbq"]), 2
                ),
                studies=tuple(studies),
                rtstruct=rtstruct,
            )
        )

    return SyntheticPatient(
        seed=seed,
        index=index,
        key=key,
        setting=setting,
        person=person,
        site=site,
        tz=tz,
        age_years=age,
        weight_kg=weight,
        height_cm=height,
        ecog=ecog,
        markers=markers,
        follow_up_markers=follow_up_markers,
        tnm=tnm,
        diagnosed_on=diagnosed_on,
        prior_treatments=tuple(priors),
        vois=tuple(vois),
        pet=pet,
        cycles=tuple(cycles),
        outcome=outcome,
        features=features,
    )


def _draw_vois(
    rng: np.random.Generator, setting: str, sp: dict[str, Any], params: dict[str, Any]
) -> list[Voi]:
    """Draw the organ and lesion VOIs with their uptake and dose per activity."""
    vois: list[Voi] = []
    for organ_id, organ in params["organs"].items():
        mass = max(10.0, _normal(rng, organ["mass_g"]))
        suv = ORGAN_SUV[setting][organ_id]
        vois.append(
            Voi(
                id=organ_id,
                type="organ",
                label=organ["label"],
                anatomy=organ["anatomy"],
                mass_g=round(mass, 1),
                volume_ml=round(mass / 1.05, 1),
                gy_per_gbq=_lognormal(rng, organ["gy_per_gbq"][setting]),
                lambda_bio_per_h=_uniform(rng, organ["lambda_bio_per_h"]),
                suv_mean=suv,
                suv_max=round(suv * 1.6, 2),
                voxel=ORGAN_VOXELS[organ_id],
                interpreted_type=organ["interpreted_type"],
            )
        )
    les = sp["lesions"]
    count = int(
        min(
            max(rng.poisson(les["count"]["poisson_mean"]), les["count"]["low"]),
            les["count"]["high"],
        )
    )
    taken = {(r, c) for r, c, _ in ORGAN_VOXELS.values()}
    free = [(r, c) for r in range(2, GRID - 2) for c in range(2, GRID - 2) if (r, c) not in taken]
    spots = rng.choice(len(free), size=count, replace=False)
    dose = les["gy_per_gbq"]
    for n in range(count):
        site_name = les["sites"][int(rng.integers(len(les["sites"])))]
        site = params["lesion_sites"][site_name]
        volume = _lognormal(rng, les["volume_ml"])
        suv = _lognormal(rng, les["suv_mean"])
        # Uptake drives dose (both reflect receptor density), with lesion-level noise.
        gy = _clip(
            dose["median"]
            * (suv / les["suv_mean"]["median"]) ** dose["suv_exponent"]
            * dose["gsd"] ** float(rng.normal()),
            dose,
        )
        row, col = free[int(spots[n])]
        vois.append(
            Voi(
                id=f"lesion-{n + 1}",
                type="lesion",
                label=f"{site['label']} {n + 1}",
                anatomy=site["anatomy"],
                mass_g=round(volume * 1.05, 2),
                volume_ml=round(volume, 2),
                gy_per_gbq=gy,
                lambda_bio_per_h=_uniform(rng, params["lesion_lambda_bio_per_h"]),
                suv_mean=round(suv, 2),
                suv_max=round(suv * _uniform(rng, les["suvmax_over_suvmean"]), 2),
                voxel=(row, col, float(rng.uniform(0.0, 0.999))),
                interpreted_type="GTV",
            )
        )
    return vois


@dataclass(frozen=True)
class VoiCurve:
    """The time-activity curve of one VOI in one cycle."""

    a0_mbq: float
    lambda_eff_per_h: float
    tia_mbq_h: float
    dose_gy: float

    def activity_mbq(self, hours: float) -> float:
        """Return the VOI activity (MBq) ``hours`` after administration."""
        return activity_mbq(self.a0_mbq, self.lambda_eff_per_h, hours)


def voi_curve(cycle: Cycle, voi: Voi) -> VoiCurve:
    """Return the mono-exponential curve that delivers the VOI's cycle dose (see kinetics)."""
    energy = load_parameters()["radionuclides"]["Lu-177"]["mean_energy_per_decay_mev"]
    dose = cycle.dose_gy(voi.id)
    tia = time_integrated_activity_mbq_h(dose, voi.mass_g, mean_energy_mev=energy)
    lam = cycle.lambda_eff_per_h[voi.id]
    return VoiCurve(initial_activity_mbq(tia, lam), lam, tia, dose)
