"""Biologically effective dose (BED), EQD2 and cumulative doses for radiopharmaceutical therapy.

Pure functions; the tissue parameters come from ``src/theragraph/data/radiobiology.yaml``.

Model (linear-quadratic with the Lea-Catcheside dose-rate factor G): for an absorbed dose D
delivered by a dose rate that decays mono-exponentially with effective decay constant λ (instant
uptake, delivered to completion), with mono-exponential sub-lethal damage repair at rate
μ = ln2 / T_rep (Dale, Br J Radiol 1985;58:515; Baechler et al., Med Phys 2008;35:1123)::

    BED  = D · (1 + G · D / (α/β)),    G = λ / (μ + λ)
    EQD2 = BED / (1 + 2 Gy / (α/β))

G → 1 for an acute exposure (λ ≫ μ) and G → 0 when repair is much faster than decay. Note the
factor is λ/(μ+λ), not μ/(μ+λ): Dale's BED for R(t) = R0·e^(−λt) is (R0/λ)(1 + R0/((μ+λ)(α/β)))
and R0 = λD. Doses of cycles separated by complete repair add as BEDs (Hobbs & Sgouros, Med Phys
2009;36:904), so a cumulative BED is the sum of the per-cycle BEDs.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from theragraph.records.dosimetry import BedRecord, TherapyCycleRecord, VoiRecord
from theragraph.resources import data_path

LN2 = math.log(2.0)
EQD2_REFERENCE_DOSE_GY = 2.0


@dataclass(frozen=True, slots=True)
class TissueParameters:
    """LQ parameters of one tissue, with their literature source."""

    key: str
    label: str
    alpha_beta_gy: float
    repair_half_time_h: float
    source: str

    @property
    def repair_rate_per_h(self) -> float:
        """Return μ = ln2 / T_rep in 1/h."""
        return LN2 / self.repair_half_time_h


def dose_rate_factor(effective_decay_per_h: float, repair_rate_per_h: float) -> float:
    """Return the Lea-Catcheside factor G = λ/(μ+λ) for a mono-exponential dose rate.

    Args:
        effective_decay_per_h: effective decay constant λ of the dose rate (1/h), > 0.
        repair_rate_per_h: repair rate μ = ln2 / T_rep (1/h), > 0.

    Raises:
        ValueError: when a rate is not positive.
    """
    if effective_decay_per_h <= 0 or repair_rate_per_h <= 0:
        raise ValueError("decay and repair rates must be positive")
    return effective_decay_per_h / (repair_rate_per_h + effective_decay_per_h)


def bed_gy(
    dose_gy: float,
    *,
    alpha_beta_gy: float,
    repair_half_time_h: float | None = None,
    effective_half_life_h: float | None = None,
) -> float:
    """Return the BED (Gy) of a dose delivered by a mono-exponentially decaying dose rate.

    Without ``repair_half_time_h``/``effective_half_life_h`` the exposure is treated as acute
    (G = 1: BED = D(1 + D/(α/β)), one external-beam fraction).

    Args:
        dose_gy: absorbed dose D (Gy), ≥ 0.
        alpha_beta_gy: α/β of the tissue (Gy), > 0.
        repair_half_time_h: repair half-time T_rep (h).
        effective_half_life_h: effective half-life of the dose rate T_eff (h).

    Raises:
        ValueError: for a negative dose, a non-positive α/β, or only one of the two half-times.
    """
    if dose_gy < 0:
        raise ValueError("dose must be >= 0")
    if alpha_beta_gy <= 0:
        raise ValueError("alpha/beta must be > 0")
    if (repair_half_time_h is None) != (effective_half_life_h is None):
        raise ValueError("give both repair_half_time_h and effective_half_life_h, or neither")
    g = 1.0
    if repair_half_time_h is not None and effective_half_life_h is not None:
        g = dose_rate_factor(LN2 / effective_half_life_h, LN2 / repair_half_time_h)
    return dose_gy * (1.0 + g * dose_gy / alpha_beta_gy)


def eqd2_gy(bed: float, *, alpha_beta_gy: float) -> float:
    """Return the equieffective dose in 2-Gy fractions, EQD2 = BED / (1 + 2 Gy/(α/β))."""
    if alpha_beta_gy <= 0:
        raise ValueError("alpha/beta must be > 0")
    return bed / (1.0 + EQD2_REFERENCE_DOSE_GY / alpha_beta_gy)


def cumulative_by_target(values: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Sum per-cycle values (absorbed doses or BEDs) per organ/lesion key.

    Args:
        values: ``(target key, per-cycle value)`` pairs, e.g. ``("kidney-left", 4.1)``.

    Returns:
        The sum per target key (cumulative dose, or cumulative BED as the sum of per-cycle BEDs).
    """
    totals: dict[str, float] = defaultdict(float)
    for key, value in values:
        totals[key] += value
    return dict(totals)


@lru_cache
def load_radiobiology() -> dict[str, Any]:
    """Load ``radiobiology.yaml`` (cached)."""
    data: dict[str, Any] = yaml.safe_load(data_path("radiobiology.yaml").read_text())
    return data


def tissue(key: str) -> TissueParameters:
    """Return the parameters of one tissue of ``radiobiology.yaml``.

    Raises:
        KeyError: for an unknown tissue key.
    """
    entry = load_radiobiology()["tissues"][key]
    return TissueParameters(
        key=key,
        label=entry["label"],
        alpha_beta_gy=float(entry["alpha_beta_gy"]),
        repair_half_time_h=float(entry["repair_half_time_h"]),
        source=entry["source"],
    )


def tissue_for(anatomy_code: str | None, voi_type: str) -> TissueParameters | None:
    """Return a VOI's tissue from its SNOMED CT code, or the lesion default; None if unknown."""
    data = load_radiobiology()
    if anatomy_code:
        for key, entry in data["tissues"].items():
            if anatomy_code in (entry.get("anatomy_codes") or []):
                return tissue(key)
    if voi_type == "lesion":
        return tissue(data["lesion_tissue"])
    return None


def _normalise_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def physical_half_life_h(code: str | None, display: str | None) -> float | None:
    """Return a radionuclide's physical half-life (h) from its code or display name, or None."""
    for entry in load_radiobiology()["radionuclides"].values():
        if code and code in (entry.get("codes") or []):
            return float(entry["half_life_h"])
        if display and _normalise_name(display) in {_normalise_name(n) for n in entry["names"]}:
            return float(entry["half_life_h"])
    return None


def bed_for_voi(voi: VoiRecord, cycle: TherapyCycleRecord) -> BedRecord | None:
    """Derive the BED and EQD2 of one VOI's absorbed dose in one cycle, or None.

    The effective half-life comes from a mono-exponential fit (``lambda_per_h`` or
    ``T_eff_h`` parameter) when the report has one, else from the radionuclide's physical
    half-life (physical decay only: the slowest clearance, hence the largest BED).

    Returns:
        None when the VOI has no absorbed dose, its tissue is unknown (an organ whose anatomy
        code is not in radiobiology.yaml), or no half-life can be found.
    """
    if voi.absorbed_dose_gy is None:
        return None
    params = tissue_for(voi.anatomy.code if voi.anatomy else None, voi.type)
    if params is None:
        return None
    t_eff_h, basis = _fit_half_life_h(voi), "fit"
    if t_eff_h is None:
        nuclide = cycle.radionuclide
        t_eff_h = physical_half_life_h(
            nuclide.code if nuclide else None, nuclide.display if nuclide else None
        )
        basis = "physical"
    if t_eff_h is None or t_eff_h <= 0:
        return None
    bed = bed_gy(
        voi.absorbed_dose_gy,
        alpha_beta_gy=params.alpha_beta_gy,
        repair_half_time_h=params.repair_half_time_h,
        effective_half_life_h=t_eff_h,
    )
    return BedRecord(
        bed_gy=bed,
        eqd2_gy=eqd2_gy(bed, alpha_beta_gy=params.alpha_beta_gy),
        tissue=params.key,
        alpha_beta_gy=params.alpha_beta_gy,
        repair_half_time_h=params.repair_half_time_h,
        effective_half_life_h=t_eff_h,
        half_life_basis=basis,
        source=params.source,
    )


def _fit_half_life_h(voi: VoiRecord) -> float | None:
    fit = voi.fit
    if fit is None or fit.model != "mono-exponential":
        return None
    for name, value in fit.parameters.items():
        lowered = name.lower()
        if lowered.startswith("lambda") and value > 0:
            # lambda_per_h, or lambda_per_s / lambda_per_min
            scale = {"s": 3600.0, "min": 60.0}.get(lowered.rsplit("_", 1)[-1], 1.0)
            return LN2 / (value * scale)
        if lowered in ("t_eff_h", "teff_h", "effective_half_life_h") and value > 0:
            return value
    return None
