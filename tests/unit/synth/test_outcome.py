"""The outcome mechanism: the truth must be learnable, and the effect relational (min dose)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from theragraph.synth.cohort import draw_patient

N = 400


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC (numpy only)."""
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def c_index(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
    """Harrell's C (numpy only): higher risk should fail earlier."""
    concordant = comparable = 0.0
    for i in np.flatnonzero(event):
        later = time > time[i]
        comparable += later.sum()
        concordant += (risk[i] > risk[later]).sum() + 0.5 * (risk[i] == risk[later]).sum()
    return concordant / comparable


@lru_cache(maxsize=1)
def cohort(seed: int = 21) -> tuple:
    return tuple(draw_patient(seed, i) for i in range(N))


def test_oracle_auc_of_response_is_clearly_above_chance():
    patients = cohort()
    p = np.array([x.outcome.response_probability for x in patients])
    y = np.array([x.outcome.response for x in patients])
    assert 0.2 < y.mean() < 0.8
    assert auc(p, y) > 0.7


def test_least_irradiated_lesion_beats_the_mean_dose():
    patients = [x for x in cohort() if len(x.lesions) >= 3]
    y = np.array([x.outcome.response for x in patients])
    d_min = np.array([x.features.min_lesion_dose_gy for x in patients])
    d_mean = np.array([x.features.mean_lesion_dose_gy for x in patients])
    assert auc(d_min, y) > auc(d_mean, y)


@pytest.mark.parametrize("setting", ["mcrpc", "net"])
def test_oracle_c_index_of_pfs_is_above_chance_within_each_setting(setting):
    patients = [x for x in cohort() if x.setting == setting]
    risk = np.array([x.outcome.pfs_log_hazard for x in patients])
    time = np.array([x.outcome.pfs_months for x in patients])
    event = np.array([x.outcome.pfs_event for x in patients])
    assert 0.3 < event.mean() < 0.99  # some censoring, mostly events
    assert c_index(risk, time, event) > 0.62


def test_survival_is_consistent():
    for x in cohort()[:100]:
        o = x.outcome
        assert 0 < o.pfs_months <= o.os_months <= o.follow_up_months + 1e-9 or o.os_event
        assert not (o.os_event and not o.pfs_event)
        assert 0 <= o.toxicity_grade <= 4
