"""The one place that touches the SUV engineer's API (design §5), so DICOM ingest works with or
without it.

``theragraph.ingest.suv_inputs.read_suv_inputs(ds)`` reads the raw per-instance inputs (private
vendor tags included) before de-identification; ``theragraph.derive.suv.compute_suv(inputs)``
returns a ``SuvResult`` that is converted here into the plain :class:`SuvFactors` record the
mapper stores. While those modules are absent, no SUV is computed and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from theragraph.records.dicom import SuvFactors

log = logging.getLogger(__name__)


def suv_reader() -> Callable[[Any], Any] | None:
    """Return ``read_suv_inputs``, or None while the SUV module is not installed."""
    try:
        from theragraph.ingest.suv_inputs import read_suv_inputs  # noqa: PLC0415
    except ImportError:
        return None
    return read_suv_inputs


def is_available() -> bool:
    """Return True when both halves of the SUV API can be imported."""
    try:
        from theragraph.derive.suv import compute_suv  # noqa: F401, PLC0415
    except ImportError:
        return False
    return suv_reader() is not None


def compute_series_suv(inputs: Sequence[Any]) -> SuvFactors | None:
    """Compute the SUV factors of one series from its instances' inputs.

    Returns:
        The factors (or the reason they cannot be computed); None when the SUV module is absent
        or there are no inputs.
    """
    if not inputs:
        return None
    try:
        from theragraph.derive.suv import compute_suv  # noqa: PLC0415
    except ImportError:
        return None
    result = compute_suv(list(inputs))
    return SuvFactors(
        suvbw_factor=getattr(result, "suvbw_factor", None),
        rule=str(getattr(result, "rule", "")),
        reason=getattr(result, "reason", None),
        code=getattr(result, "code", None),
        variants=dict(getattr(result, "variants", {}) or {}),
    )
