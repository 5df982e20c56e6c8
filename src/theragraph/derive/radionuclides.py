"""Look radionuclide half-lives up in ``data/radionuclides.yaml`` by code, name or agent text.

Used only when a header lacks RadionuclideHalfLife (0018,1075). Pure apart from reading the
packaged table once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from theragraph.resources import data_path


@lru_cache(maxsize=1)
def load_radionuclides() -> dict[str, dict[str, Any]]:
    """Return the radionuclide table keyed by nuclide name (``F-18``)."""
    with data_path("radionuclides.yaml").open(encoding="utf-8") as handle:
        table = yaml.safe_load(handle)
    return dict(table["radionuclides"])


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _nuclide_patterns(name: str, entry: dict[str, Any]) -> list[str]:
    symbol, mass = name.split("-", 1)
    element = str(entry.get("element", ""))
    forms = [f"{symbol}{mass}", f"{mass}{symbol}", f"{element}{mass}", f"{mass}{element}"]
    return [_normalise(f) for f in forms if f]


def find_half_life(
    *, code_value: str | None, code_meaning: str | None, agent: str | None
) -> tuple[str, float] | None:
    """Look a radionuclide up by code, then by code meaning, then by agent name.

    Args:
        code_value: RadionuclideCodeSequence CodeValue (SCT, SRT or DCM code).
        code_meaning: its CodeMeaning, e.g. ``^18^Fluorine``.
        agent: the free-text Radiopharmaceutical, e.g. ``Fludeoxyglucose F^18^``.

    Returns:
        (nuclide name, half-life in seconds), or None when nothing matches.
    """
    table = load_radionuclides()
    if code_value:
        wanted = code_value.strip().upper()
        for name, entry in table.items():
            codes = entry.get("codes") or {}
            if any(str(v).upper() == wanted for v in codes.values()):
                return name, float(entry["half_life_s"])
    for text in (code_meaning, agent):
        if not text:
            continue
        normalised = _normalise(text)
        # Longest pattern first so "99mtc" is not read as something shorter.
        candidates = sorted(
            ((p, name) for name, entry in table.items() for p in _nuclide_patterns(name, entry)),
            key=lambda item: -len(item[0]),
        )
        for pattern, name in candidates:
            if re.search(rf"(?<![0-9]){re.escape(pattern)}(?![0-9m])", normalised):
                return name, float(table[name]["half_life_s"])
    if agent:
        normalised = _normalise(agent)
        for name, entry in table.items():
            for tracer in entry.get("tracers") or []:
                if _normalise(str(tracer)) and _normalise(str(tracer)) in normalised:
                    return name, float(entry["half_life_s"])
    return None
