"""The radionuclide table: codes agree with DICOM's context groups, half-lives are plausible."""

from __future__ import annotations

import pytest
from pydicom.sr import _cid_dict as cid
from pydicom.sr._snomed_dict import mapping as snomed_mapping
from pydicom.sr.codedict import codes

from theragraph.derive.suv import load_radionuclides

TABLE = load_radionuclides()


def _dicom_codes() -> dict[tuple[str, str], str]:
    """(scheme, value) -> CodeMeaning for DICOM CID 4020 (PET radionuclide) and CID 18."""
    found: dict[tuple[str, str], str] = {}
    for group in (4020, 18):
        for scheme, names in cid.cid_concepts[group].items():
            for name in names:
                code = getattr(getattr(codes, scheme), name)
                found[(scheme, code.value)] = code.meaning
                legacy = snomed_mapping["SCT"].get(code.value) if scheme == "SCT" else None
                if legacy:
                    found[("SRT", legacy)] = code.meaning
    return found


DICOM_CODES = _dicom_codes()


@pytest.mark.parametrize("nuclide", sorted(TABLE))
def test_codes_match_dicom_context_groups(nuclide: str) -> None:
    entry = TABLE[nuclide]
    element, mass = entry["element"], str(entry["mass"])
    for scheme, value in (entry.get("codes") or {}).items():
        meaning = DICOM_CODES.get((scheme, str(value)))
        assert meaning is not None, f"{nuclide}: {scheme} {value} is not in CID 4020/18"
        assert meaning == f"^{mass}^{element}", f"{nuclide}: {scheme} {value} means {meaning}"


@pytest.mark.parametrize("nuclide", sorted(TABLE))
def test_half_lives_are_positive_and_named(nuclide: str) -> None:
    entry = TABLE[nuclide]
    assert entry["half_life_s"] > 0
    symbol, mass = nuclide.split("-")
    assert str(entry["mass"]) == mass


def test_well_known_half_lives() -> None:
    # F-18 109.77 min, Ga-68 67.71 min, Lu-177 6.6443 d, Tc-99m 6.0067 h
    assert TABLE["F-18"]["half_life_s"] == pytest.approx(109.77 * 60)
    assert TABLE["Ga-68"]["half_life_s"] == pytest.approx(67.71 * 60)
    assert TABLE["Lu-177"]["half_life_s"] == pytest.approx(6.6443 * 86400)
    assert TABLE["Tc-99m"]["half_life_s"] == pytest.approx(6.0067 * 3600, rel=1e-5)
