"""The known outcome mechanism of the synthetic cohort: response, PFS, OS and toxicity.

Each outcome is a documented function of patient features plus noise, with coefficients read
from ``parameters.yaml`` (``settings.<setting>.outcome``):

- **Response** (PSA50 for mCRPC, RECIST objective response for NET) is Bernoulli with
  ``logit p = intercept + b1 * log2(D_min / 10 Gy) + b2 * (SUVmean - 10) / 5 + b3 * log10(marker)
  + b4 * [LDH > ULN] + b5 * (ECOG - 1) + b6 * (age - 70) / 10`` where ``D_min`` is the cycle-1
  absorbed dose of the *least-irradiated* lesion. The mean lesion dose has coefficient 0 by
  construction: the effect is relational (a model must look at every lesion, not the average).
- **PFS** is Weibull proportional hazards, median ``median_months`` at linear predictor 0, with
  ``lp = response_log_hr * response + min-dose, marker, LDH and ECOG terms``.
- **OS** is PFS plus a Weibull post-progression survival with its own linear predictor.
- Both are censored by administrative follow-up (uniform per patient) and random drop-out.
- **Toxicity** (haematological CTCAE-like grade 0-4) is an ordinal logistic function of the
  cumulative bone-marrow absorbed dose and the baseline haemoglobin deficit.

The truth (probabilities and linear predictors) is returned alongside the realised outcomes, so
oracle AUC and C-index can be computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Reference values that centre the linear predictors (a typical patient has lp ~ 0).
REFERENCE_DOSE_GY = 10.0
REFERENCE_SUV = 10.0
REFERENCE_AGE_Y = 70.0
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class OutcomeFeatures:
    """What the outcome mechanism looks at (all known before therapy or after cycle 1)."""

    min_lesion_dose_gy: float
    mean_lesion_dose_gy: float
    suv_mean: float
    log10_psa: float
    log10_cga: float
    ldh_above_uln: bool
    ecog: int
    age_years: float
    hemoglobin_g_dl: float


@dataclass(frozen=True)
class ResponseTruth:
    """Response probability and the survival linear predictors before any outcome is drawn."""

    response_logit: float
    response_probability: float


@dataclass(frozen=True)
class Outcome:
    """Realised outcomes plus the ground truth that generated them."""

    response: bool
    response_probability: float
    pfs_log_hazard: float
    os_log_hazard: float
    pfs_months: float
    pfs_event: bool
    os_months: float
    os_event: bool
    follow_up_months: float
    toxicity_grade: int
    toxicity_latent_mean: float
    toxicity_grade3plus_probability: float


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def response_truth(features: OutcomeFeatures, spec: dict[str, Any]) -> ResponseTruth:
    """Return the true response logit and probability for one patient.

    Args:
        features: the patient's features.
        spec: ``settings.<setting>.outcome`` of the parameter file.
    """
    c = spec["response_logit"]
    logit = (
        c["intercept"]
        + c["log2_min_lesion_dose_per_10gy"]
        * math.log2(features.min_lesion_dose_gy / REFERENCE_DOSE_GY)
        + c["log2_mean_lesion_dose_per_10gy"]
        * math.log2(features.mean_lesion_dose_gy / REFERENCE_DOSE_GY)
        + c["suv_mean_per_5"] * (features.suv_mean - REFERENCE_SUV) / 5.0
        + c.get("log10_psa_per_decade", 0.0) * features.log10_psa
        + c.get("log10_cga_per_decade", 0.0) * features.log10_cga
        + c["ldh_above_uln"] * float(features.ldh_above_uln)
        + c["ecog_per_point"] * (features.ecog - 1)
        + c["age_per_10y"] * (features.age_years - REFERENCE_AGE_Y) / 10.0
    )
    return ResponseTruth(response_logit=logit, response_probability=_sigmoid(logit))


def _weibull_time(rng: np.random.Generator, *, median: float, shape: float, lp: float) -> float:
    """Draw a Weibull PH time with S(t) = exp(-(t/scale)^k * e^lp) and median ``median`` at lp 0."""
    scale = median / math.log(2.0) ** (1.0 / shape)
    u = float(rng.uniform(1e-12, 1.0))
    return scale * (-math.log(u) * math.exp(-lp)) ** (1.0 / shape)


def draw_outcome(
    rng: np.random.Generator,
    features: OutcomeFeatures,
    spec: dict[str, Any],
    *,
    marrow_dose_per_cycle_gy: float,
    interval_days: float,
    cycles_nominal: int,
) -> tuple[Outcome, int]:
    """Draw the realised outcomes and the number of cycles actually given.

    Therapy stops at progression, death or the end of follow-up, so the number of cycles is an
    outcome too (at least one cycle is always given).

    Returns:
        The outcome and the number of cycles given.
    """
    truth = response_truth(features, spec)
    response = bool(rng.uniform() < truth.response_probability)
    pfs_c, os_c = spec["pfs"], spec["os"]
    log2_dmin = math.log2(features.min_lesion_dose_gy / REFERENCE_DOSE_GY)
    marker = (
        features.log10_psa
        if spec["response_logit"].get("log10_psa_per_decade")
        else features.log10_cga
    )
    pfs_lp = (
        pfs_c["response_log_hr"] * float(response)
        + pfs_c["log2_min_lesion_dose_log_hr"] * log2_dmin
        + pfs_c.get("log10_psa_log_hr", 0.0) * marker
        + pfs_c["ldh_above_uln_log_hr"] * float(features.ldh_above_uln)
        + pfs_c["ecog_log_hr"] * (features.ecog - 1)
    )
    os_lp = (
        os_c["response_log_hr"] * float(response)
        + os_c["ldh_above_uln_log_hr"] * float(features.ldh_above_uln)
        + os_c["ecog_log_hr"] * (features.ecog - 1)
        + os_c["age_per_10y_log_hr"] * (features.age_years - REFERENCE_AGE_Y) / 10.0
    )
    pfs_true = _weibull_time(
        rng, median=pfs_c["median_months"], shape=pfs_c["weibull_shape"], lp=pfs_lp
    )
    post = _weibull_time(
        rng, median=os_c["post_progression_median_months"], shape=os_c["weibull_shape"], lp=os_lp
    )
    os_true = pfs_true + post
    fu = spec["follow_up_months"]
    admin_cut = float(rng.uniform(fu["low"], fu["high"]))
    dropout = float(rng.exponential(1.0 / spec["dropout_per_month"]))
    censor = min(admin_cut, dropout)
    pfs_event, os_event = pfs_true <= censor, os_true <= censor
    pfs_obs, os_obs = min(pfs_true, censor), min(os_true, censor)

    cycles = 1
    while cycles < cycles_nominal and cycles * interval_days / DAYS_PER_MONTH < pfs_obs:
        cycles += 1

    tox = spec["toxicity"]
    latent_mean = (
        tox["intercept"]
        + tox["per_gy_marrow"] * marrow_dose_per_cycle_gy * cycles
        + tox["per_g_dl_hb_deficit"] * max(0.0, 12.0 - features.hemoglobin_g_dl)
    )
    latent = latent_mean + float(rng.logistic())
    grade = sum(1 for cut in tox["cutpoints"] if latent > cut)
    outcome = Outcome(
        response=response,
        response_probability=truth.response_probability,
        pfs_log_hazard=pfs_lp,
        os_log_hazard=os_lp,
        pfs_months=pfs_obs,
        pfs_event=pfs_event,
        os_months=os_obs,
        os_event=os_event,
        follow_up_months=censor,
        toxicity_grade=grade,
        toxicity_latent_mean=latent_mean,
        toxicity_grade3plus_probability=_sigmoid(latent_mean - tox["cutpoints"][2]),
    )
    return outcome, cycles
