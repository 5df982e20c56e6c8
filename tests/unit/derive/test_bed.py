"""BED / EQD2 against hand-computed textbook cases.

Formulas: Dale RG, Br J Radiol 1985;58:515 (LQ with a mono-exponentially decaying dose rate);
Baechler S et al., Med Phys 2008;35:1123 (BED in the MIRD schema); Hobbs RF & Sgouros G,
Med Phys 2009;36:904 (BED of several cycles = sum of per-cycle BEDs); Fowler JF, Br J Radiol
1989;62:679 (acute single fraction, EQD2). With μ = ln2/T_rep and λ = ln2/T_eff the factor
G = λ/(μ+λ) simplifies to T_rep/(T_rep + T_eff), which keeps the hand arithmetic short.
"""

from __future__ import annotations

import math

import pytest

from theragraph.derive.bed import (
    bed_gy,
    cumulative_by_target,
    dose_rate_factor,
    eqd2_gy,
    physical_half_life_h,
    tissue,
    tissue_for,
)


def test_acute_single_fraction_matches_fowler() -> None:
    # Case 1 (Fowler 1989): one acute fraction of 10 Gy to a tumour with α/β = 10 Gy.
    # BED = 10 (1 + 10/10) = 20 Gy;  EQD2 = 20 / (1 + 2/10) = 20 / 1.2 = 16.667 Gy.
    bed = bed_gy(10.0, alpha_beta_gy=10.0)
    assert bed == pytest.approx(20.0, rel=1e-12)
    assert eqd2_gy(bed, alpha_beta_gy=10.0) == pytest.approx(16.6667, rel=1e-4)


def test_kidney_lu177_single_cycle_matches_dale() -> None:
    # Case 2 (Dale 1985 protracted exposure; kidney α/β = 2.6 Gy, T_rep = 2.8 h after MIRD 20):
    # D = 23 Gy, T_eff = 40 h.  G = 2.8/(2.8+40) = 2.8/42.8 = 0.0654206.
    # BED = 23 (1 + 0.0654206·23/2.6) = 23 (1 + 0.578721) = 23 · 1.578721 = 36.3106 Gy.
    # EQD2 = 36.3106 / (1 + 2/2.6) = 36.3106 / 1.769231 = 20.5234 Gy.
    assert dose_rate_factor(math.log(2) / 40, math.log(2) / 2.8) == pytest.approx(
        0.0654206, rel=1e-5
    )
    bed = bed_gy(23.0, alpha_beta_gy=2.6, repair_half_time_h=2.8, effective_half_life_h=40.0)
    assert bed == pytest.approx(36.3106, rel=1e-5)
    assert eqd2_gy(bed, alpha_beta_gy=2.6) == pytest.approx(20.5234, rel=1e-4)


def test_four_kidney_cycles_add_as_beds() -> None:
    # Case 3 (Hobbs & Sgouros 2009; Baechler 2008 multiple exposures): 4 cycles of 5 Gy each,
    # same kidney parameters and T_eff = 40 h.  Per cycle BED = 5 (1 + 0.0654206·5/2.6)
    # = 5 · 1.125809 = 5.62904 Gy;  cumulative BED = 4 · 5.62904 = 22.5162 Gy
    # (below the 28 Gy kidney BED limit of MIRD 20 / Bodei 2008, although 20 Gy total would
    # be 20 (1 + 0.0654206·20/2.6) = 30.06 Gy in one cycle: the reason BED, not dose, is summed).
    # EQD2 = 22.5162 / 1.769231 = 12.7266 Gy.
    per_cycle = bed_gy(5.0, alpha_beta_gy=2.6, repair_half_time_h=2.8, effective_half_life_h=40.0)
    assert per_cycle == pytest.approx(5.62904, rel=1e-5)
    totals = cumulative_by_target([("kidney-left", per_cycle)] * 4 + [("lesion-1", 1.0)])
    assert totals["kidney-left"] == pytest.approx(22.5162, rel=1e-5)
    assert totals["lesion-1"] == 1.0
    assert eqd2_gy(totals["kidney-left"], alpha_beta_gy=2.6) == pytest.approx(12.7266, rel=1e-4)
    one_cycle = bed_gy(20.0, alpha_beta_gy=2.6, repair_half_time_h=2.8, effective_half_life_h=40.0)
    assert one_cycle > totals["kidney-left"]


def test_fast_repair_makes_bed_approach_dose() -> None:
    # Red marrow (α/β 15 Gy, T_rep 0.5 h), D = 2 Gy, T_eff = 60 h: G = 0.5/60.5 = 0.0082645;
    # BED = 2 (1 + 0.0082645·2/15) = 2.002204 Gy.
    assert bed_gy(2.0, alpha_beta_gy=15, repair_half_time_h=0.5, effective_half_life_h=60) == (
        pytest.approx(2.002204, rel=1e-6)
    )


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        bed_gy(-1.0, alpha_beta_gy=2.6)
    with pytest.raises(ValueError):
        bed_gy(1.0, alpha_beta_gy=0.0)
    with pytest.raises(ValueError):
        bed_gy(1.0, alpha_beta_gy=2.6, repair_half_time_h=2.8)


def test_parameter_file_has_sources_and_resolves_codes() -> None:
    kidney = tissue("kidney")
    assert (kidney.alpha_beta_gy, kidney.repair_half_time_h) == (2.6, 2.8)
    assert "MIRD" in kidney.source
    for key in ("kidney", "red-marrow", "salivary-gland", "liver", "tumour"):
        assert tissue(key).source
    assert tissue_for("18639004", "organ").key == "kidney"
    assert tissue_for(None, "lesion").key == "tumour"
    assert tissue_for("999999", "organ") is None
    assert physical_half_life_h(None, "Lutetium-177") == pytest.approx(159.53)
    assert physical_half_life_h(None, "Unobtainium-1") is None
