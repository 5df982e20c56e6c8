"""Body-size measures SUV normalises by: lean body mass, ideal body weight, body surface area.

Pure formulas; weight in kg, height in m, sex as DICOM PatientSex (``M``, ``F``, ``O``). For
``O`` the sex-specific measures are the mean of the male and female values, as the IBSI SUV
benchmark (Vácha et al., oncoray/suv_computation, DRO_2_x_2) prescribes; any other sex gives None.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[float, float, str], float | None]


def _by_sex(male: float, female: float, sex: str | None) -> float | None:
    if sex == "M":
        return male
    if sex == "F":
        return female
    if sex == "O":
        return (male + female) / 2.0
    return None


def lbm_james_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Return lean body mass after James (1976): 1.10 W - 128 (W/H)^2 (M); 1.07 W - 148 (W/H)^2 (F).

    W in kg, H in cm. DICOM SUVType ``LBMJAMES128``.
    """
    ratio_sq = (weight_kg / (height_m * 100.0)) ** 2
    return _by_sex(1.10 * weight_kg - 128.0 * ratio_sq, 1.07 * weight_kg - 148.0 * ratio_sq, sex)


def lbm_james120_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Return lean body mass with the male coefficient 120 instead of 128 (Morgan et al. 1994).

    This is what most consoles implemented for the older DICOM SUVType ``LBM`` (hence the later
    explicit ``LBMJAMES128``); the female formula is James's.
    """
    ratio_sq = (weight_kg / (height_m * 100.0)) ** 2
    return _by_sex(1.10 * weight_kg - 120.0 * ratio_sq, 1.07 * weight_kg - 148.0 * ratio_sq, sex)


def lbm_janmahasatian_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Return lean body mass after Janmahasatian et al. (2005): 9270 W / (6680 + 216 BMI) (M) ...

    ... and 9270 W / (8780 + 244 BMI) (F). DICOM SUVType ``LBMJANMA``.
    """
    bmi = weight_kg / height_m**2
    return _by_sex(
        9270.0 * weight_kg / (6680.0 + 216.0 * bmi),
        9270.0 * weight_kg / (8780.0 + 244.0 * bmi),
        sex,
    )


def ibw_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Return ideal body weight after Zasadny & Wahl (1993).

    48.0 + 1.06 (H - 152) for men, 45.5 + 0.91 (H - 152) for women, H in cm. ``weight_kg`` is
    unused; it keeps the signature of the other measures.
    """
    height_cm = height_m * 100.0
    return _by_sex(48.0 + 1.06 * (height_cm - 152.0), 45.5 + 0.91 * (height_cm - 152.0), sex)


def bsa_du_bois_m2(weight_kg: float, height_m: float) -> float:
    """Return body surface area in m2 (Du Bois & Du Bois 1916): 0.007184 W^0.425 H_cm^0.725."""
    return 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725


#: Mass measures per DICOM SUVType (PS3.3 C.8.9.1.1.3, (0054,1006)).
MASS_BY_SUV_TYPE: dict[str, Measure] = {
    "LBM": lbm_james120_kg,
    "LBMJAMES128": lbm_james_kg,
    "LBMJANMA": lbm_janmahasatian_kg,
    "IBW": ibw_kg,
}

#: Variant name -> mass measure, for the SUV variants reported next to SUVbw.
VARIANT_MEASURES: dict[str, Measure] = {
    "suvlbm_james": lbm_james_kg,
    "suvlbm_janmahasatian": lbm_janmahasatian_kg,
    "suvibw": ibw_kg,
}


def compute_variants(
    suvbw_factor: float, *, weight_kg: float | None, height_m: float | None, sex: str | None
) -> dict[str, float]:
    """Return the SUVlbm/SUVibw/SUVbsa factors derivable from an SUVbw factor.

    Each variant replaces body weight by another measure: factor * measure / weight; SUVbsa uses
    BSA in cm2 against weight in g (so its factor is in cm2/ml per rescaled unit). A variant is
    left out when its inputs are missing or the measure is not positive.
    """
    variants: dict[str, float] = {}
    if not weight_kg or weight_kg <= 0 or not height_m or height_m <= 0:
        return variants
    for key, measure in VARIANT_MEASURES.items():
        value = measure(weight_kg, height_m, sex or "")
        if value is not None and value > 0:
            variants[key] = suvbw_factor * value / weight_kg
    variants["suvbsa"] = (
        suvbw_factor * bsa_du_bois_m2(weight_kg, height_m) * 1e4 / (weight_kg * 1000.0)
    )
    return variants
