"""Time-activity curves and MIRD absorbed dose of the synthetic VOIs (pure functions).

Each VOI follows a mono-exponential curve ``A(t) = A0 * exp(-lambda_eff * t)`` (MBq, t in hours
after administration). Its cycle dose ``D`` is fixed first (from the drawn Gy/GBq); the curve is
then the one that delivers exactly ``D`` under the local-deposition S value of Lu-177:
``S = E_mean * 3600 s/h * 1e6 Bq/MBq / m`` (MIRD Pamphlet 21 formalism, non-penetrating
emissions only, Bolch 2009 JNM 50:477), so the dosimetry report, the SPECT pixel values and the
truth agree.
"""

from __future__ import annotations

import math

MEV_TO_J = 1.602176634e-13


def s_value_gy_per_mbq_h(mass_g: float, *, mean_energy_mev: float) -> float:
    """Return the self-dose S value (Gy per MBq.h) of a sphere of ``mass_g`` grams."""
    return mean_energy_mev * MEV_TO_J * 3600.0 * 1e6 / (mass_g / 1000.0)


def time_integrated_activity_mbq_h(
    dose_gy: float, mass_g: float, *, mean_energy_mev: float
) -> float:
    """Return the time-integrated activity (MBq.h) that delivers ``dose_gy`` to ``mass_g``."""
    return dose_gy / s_value_gy_per_mbq_h(mass_g, mean_energy_mev=mean_energy_mev)


def initial_activity_mbq(tia_mbq_h: float, lambda_eff_per_h: float) -> float:
    """Return ``A0`` (MBq) of a mono-exponential curve whose integral to infinity is ``tia``."""
    return tia_mbq_h * lambda_eff_per_h


def activity_mbq(a0_mbq: float, lambda_eff_per_h: float, hours: float) -> float:
    """Return the activity (MBq) ``hours`` after administration."""
    return a0_mbq * math.exp(-lambda_eff_per_h * hours)
