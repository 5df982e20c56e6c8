"""Derive the SUV scale factors of one PET (or quantitative SPECT) series.

Pure functions on :class:`~theragraph.records.suv.SuvInstanceInputs`; no I/O besides the
radionuclide table. The decision tree follows the QIBA vendor-neutral SUV pseudo-code
(QIBA FDG-PET/CT Technical Committee, "SUV calculation" wiki page, 2013-2019), as design §5
summarises it. Every factor is in g/ml per unit of the *rescaled* pixel value (Bq/ml for BQML,
counts for Philips CNTS, SUV for GML): ``SUVbw = (stored * RescaleSlope + RescaleIntercept) *
suvbw_factor``. The rescale slope is applied per instance by the caller; it never enters the factor.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

import yaml

from theragraph.records.suv import SuvInstanceInputs
from theragraph.resources import data_path

# PS3.4 B.5: PET Image, Enhanced PET Image, Legacy Converted Enhanced PET Image.
PET_SOP_CLASSES = frozenset(
    {"1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.130", "1.2.840.10008.5.1.4.1.1.128.1"}
)
# NM Image (and the retired NM Image Storage); quantitative SPECT is stored here with Units BQML.
NM_SOP_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.5"})

#: QIBA: a RadionuclideTotalDose below this many "Bq" was written in MBq.
MBQ_THRESHOLD = 1e5
#: An injection time (TM only) later than the reference time by more than this crossed midnight;
#: by less, the clocks disagree and the data are wrong (no day is subtracted).
MIDNIGHT_MIN_GAP = timedelta(hours=12)
#: Relative spread under which per-instance factors count as one series-wide factor.
SERIES_WIDE_TOLERANCE = 1e-6

UNITS_ALIASES = {"BQML": "BQML", "BQ/ML": "BQML", "CNTS": "CNTS", "GML": "GML", "G/ML": "GML"}


@dataclass(frozen=True, slots=True)
class SuvResult:
    """The SUV factors of one series, or why they could not be computed.

    Attributes:
        suvbw_factor: SUVbw per rescaled pixel value (g/ml per Bq/ml for BQML; 1.0 for GML/BW);
            None when SUV cannot be computed. When per-instance factors differ (frame timing,
            DecayCorrection NONE) this is their median and ``series_wide`` is False.
        rule: the stable id of the rule that produced the factor (``not-computed`` on failure).
        reason: why SUV could not be computed (None on success).
        code: the stable issue code of the failure (``suv.*``, listed in theragraph.report.CODES).
        variants: factors for ``suvlbm_james``, ``suvlbm_janmahasatian``, ``suvbsa`` (cm2/ml per
            rescaled unit, Du Bois) and ``suvibw``; each present only when computable.
        time_rule: how the reference time was found, for rules that decay the dose.
        reference_time: the time the dose was decayed to (earliest over instances).
        injection_time: the radiopharmaceutical start time used.
        decay_time_s: reference minus injection time, seconds.
        injected_dose_bq: RadionuclideTotalDose in Bq (after the MBq check).
        decayed_dose_bq: the dose decayed to ``reference_time``.
        half_life_s: the half-life used.
        half_life_source: ``header`` or ``table:<nuclide>``.
        weight_kg: PatientWeight used.
        series_wide: True when every instance has the same factor.
        instance_factors: per-instance factors in input order (None where not computable).
        rescale_slope_varies: True when RescaleSlope differs between instances (so the factor on
            stored pixel values is per instance even when ``suvbw_factor`` is series-wide).
        notes: data problems worked around (e.g. dose converted from MBq).
    """

    suvbw_factor: float | None
    rule: str
    reason: str | None = None
    code: str | None = None
    variants: dict[str, float] = field(default_factory=dict)
    units: str | None = None
    time_rule: str | None = None
    reference_time: datetime | None = None
    injection_time: datetime | None = None
    decay_time_s: float | None = None
    injected_dose_bq: float | None = None
    decayed_dose_bq: float | None = None
    half_life_s: float | None = None
    half_life_source: str | None = None
    weight_kg: float | None = None
    series_wide: bool = True
    instance_factors: tuple[float | None, ...] = ()
    rescale_slope_varies: bool = False
    notes: tuple[str, ...] = ()

    @property
    def is_computed(self) -> bool:
        """Return True when an SUVbw factor was derived."""
        return self.suvbw_factor is not None


class _Failure(Exception):
    """Internal: stop the derivation with a stable code and a reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ------------------------------------------------------------------------------------------
# DICOM date and time parsing (PS3.5 6.2: DA, TM, DT), tolerant of common deviations.

_DT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6})\d*)?([+-]\d{4})?$")
_TM = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6})\d*)?$")


def parse_da(value: str | None) -> date | None:
    """Parse a DA value (YYYYMMDD; also the ACR-NEMA YYYY.MM.DD and ISO forms)."""
    if not value:
        return None
    digits = value.strip().replace(".", "").replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def parse_tm(value: str | None) -> time | None:
    """Parse a TM value (HHMMSS.FFFFFF, shorter forms, and HH:MM:SS written by some systems)."""
    if not value:
        return None
    text = value.strip().replace(":", "")
    match = _TM.match(text)
    if match is None:
        return None
    hour, minute, second, frac = match.groups()
    try:
        return time(
            int(hour),
            int(minute or 0),
            min(int(second or 0), 59),  # a leap second "60" is allowed by DICOM
            int((frac or "0").ljust(6, "0")),
        )
    except ValueError:
        return None


def parse_offset(value: str | None) -> timezone | None:
    """Parse a UTC offset ``+HHMM``/``-HHMM`` (TimezoneOffsetFromUTC or a DT suffix)."""
    if not value:
        return None
    text = value.strip()
    if not re.fullmatch(r"[+-]\d{4}", text):
        return None
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[3:5])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_dt(value: str | None) -> tuple[datetime, timezone | None] | None:
    """Parse a DT value into a naive datetime and its explicit offset (if any).

    A DT without an hour is useless as a time of day and gives None.
    """
    if not value:
        return None
    text = value.strip().replace("-", "", 2) if value.count("-") >= 2 else value.strip()
    text = text.replace(":", "").replace("T", "").replace(" ", "")
    match = _DT.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, offset = match.groups()
    if hour is None:
        return None
    try:
        naive = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute or 0),
            min(int(second or 0), 59),
            int((frac or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    return naive, parse_offset(offset)


# ------------------------------------------------------------------------------------------
# Radionuclide half-lives (src/theragraph/data/radionuclides.yaml).


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


# ------------------------------------------------------------------------------------------
# Body-size measures for the SUV variants.


def lbm_james_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Lean body mass after James (1976): 1.10 W - 128 (W/H)^2 (men), 1.07 W - 148 (W/H)^2."""
    ratio = weight_kg / (height_m * 100.0)
    if sex == "M":
        return 1.10 * weight_kg - 128.0 * ratio**2
    if sex == "F":
        return 1.07 * weight_kg - 148.0 * ratio**2
    return None


def lbm_janmahasatian_kg(weight_kg: float, height_m: float, sex: str) -> float | None:
    """Lean body mass after Janmahasatian et al. (2005), from weight and BMI."""
    bmi = weight_kg / height_m**2
    if sex == "M":
        return 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)
    if sex == "F":
        return 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)
    return None


def bsa_du_bois_m2(weight_kg: float, height_m: float) -> float:
    """Body surface area after Du Bois & Du Bois (1916): 0.007184 W^0.425 H_cm^0.725."""
    return 0.007184 * weight_kg**0.425 * (height_m * 100.0) ** 0.725


def ibw_kg(height_m: float, sex: str) -> float | None:
    """Ideal body weight as used for SUVibw (Zasadny & Wahl 1993): 48.0/45.5 + 1.06/0.91 per cm > 152."""
    height_cm = height_m * 100.0
    if sex == "M":
        return 48.0 + 1.06 * (height_cm - 152.0)
    if sex == "F":
        return 45.5 + 0.91 * (height_cm - 152.0)
    return None


def compute_variants(
    suvbw_factor: float, *, weight_kg: float | None, height_m: float | None, sex: str | None
) -> dict[str, float]:
    """Return the SUVlbm/SUVbsa/SUVibw factors derivable from an SUVbw factor.

    Each variant replaces body weight by another body measure: factor * measure / weight (BSA in
    cm2 against weight in g). A variant is left out when its inputs are missing or implausible.
    """
    variants: dict[str, float] = {}
    if not weight_kg or weight_kg <= 0 or not height_m or height_m <= 0:
        return variants
    per_kg = suvbw_factor / weight_kg
    if sex in ("M", "F"):
        for key, measure in (
            ("suvlbm_james", lbm_james_kg(weight_kg, height_m, sex)),
            ("suvlbm_janmahasatian", lbm_janmahasatian_kg(weight_kg, height_m, sex)),
            ("suvibw", ibw_kg(height_m, sex)),
        ):
            if measure is not None and measure > 0:
                variants[key] = per_kg * measure
    variants["suvbsa"] = suvbw_factor * bsa_du_bois_m2(weight_kg, height_m) * 1e4 / (
        weight_kg * 1000.0
    )
    return variants


# ------------------------------------------------------------------------------------------
# The QIBA decision tree.


def _first_value(instances: Sequence[SuvInstanceInputs], attr: str) -> Any:
    for inst in instances:
        value = getattr(inst, attr)
        if value not in (None, "", ()):
            return value
    return None


@dataclass(slots=True)
class _Clock:
    """Turns DICOM local times into aware datetimes (TimezoneOffsetFromUTC honoured)."""

    local: tzinfo

    def aware(self, parsed: tuple[datetime, timezone | None] | None) -> datetime | None:
        if parsed is None:
            return None
        naive, offset = parsed
        return naive.replace(tzinfo=offset or self.local)

    def combine(self, day: date | None, moment: time | None) -> datetime | None:
        if day is None or moment is None:
            return None
        return datetime.combine(day, moment, tzinfo=self.local)


def _clock(instances: Sequence[SuvInstanceInputs]) -> _Clock:
    local = parse_offset(_first_value(instances, "TimezoneOffsetFromUTC"))
    if local is None:
        # Without TimezoneOffsetFromUTC, naive local times are taken to share the zone of any
        # DT that states one (one scanner, one zone); else any zone works, as only differences count.
        for attr in ("RadiopharmaceuticalStartDateTime", "AcquisitionDateTime", "ge_scan_datetime"):
            parsed = parse_dt(_first_value(instances, attr))
            if parsed is not None and parsed[1] is not None:
                local = parsed[1]
                break
    return _Clock(local or timezone.utc)


def _acquisition_time(inst: SuvInstanceInputs, clock: _Clock) -> datetime | None:
    when = clock.aware(parse_dt(inst.AcquisitionDateTime))
    if when is not None:
        return when
    day = parse_da(inst.AcquisitionDate) or parse_da(inst.SeriesDate)
    return clock.combine(day, parse_tm(inst.AcquisitionTime))


def average_count_time_s(duration_s: float, half_life_s: float) -> float:
    """Return the time after frame start at which the count rate equals its frame average.

    QIBA (Siemens branch): t_ave = 1/lambda * ln(lambda T / (1 - exp(-lambda T))).
    """
    if duration_s <= 0:
        return 0.0
    decay = math.log(2) / half_life_s
    x = decay * duration_s
    return math.log(x / -math.expm1(-x)) / decay


def _is_ge(inst: SuvInstanceInputs) -> bool:
    maker = (inst.Manufacturer or "").upper()
    return maker.startswith("GE") or "GENERAL ELECTRIC" in maker


def _start_reference_times(
    instances: Sequence[SuvInstanceInputs], clock: _Clock, half_life_s: float
) -> tuple[str, list[datetime]]:
    """Return (rule, per-instance reference time) for DecayCorrection START."""
    acquisitions = [_acquisition_time(i, clock) for i in instances]
    known = [a for a in acquisitions if a is not None]
    earliest = min(known) if known else None
    series_day = parse_da(_first_value(instances, "SeriesDate"))
    if series_day is None and earliest is not None:
        series_day = earliest.date()
    series_time = clock.combine(series_day, parse_tm(_first_value(instances, "SeriesTime")))
    n = len(instances)
    # QIBA: Series Date/Time is the reference unless it is after the earliest acquisition
    # (a series re-processed later gets a new Series Time).
    if series_time is not None and (earliest is None or series_time <= earliest):
        return "bqml-start-series-time", [series_time] * n
    ge_scan = clock.aware(parse_dt(_first_value(instances, "ge_scan_datetime")))
    if ge_scan is not None:  # QIBA: GE private scan datetime (0009,xx0D)
        return "bqml-start-ge-private", [ge_scan] * n
    if all(a is not None for a in acquisitions):
        frame_ref = [i.FrameReferenceTime for i in instances]
        if all(_is_ge(i) for i in instances) and all(f is not None and f >= 0 for f in frame_ref):
            # GE: FrameReferenceTime is the offset of this bed's start from the scan start.
            times = [a - timedelta(milliseconds=f) for a, f in zip(acquisitions, frame_ref)]  # type: ignore[operator,arg-type]
            return "bqml-start-frame-ge", times
        durations = [i.ActualFrameDuration for i in instances]
        if all(f is not None and f > 0 for f in frame_ref) and all(
            d is not None and d > 0 for d in durations
        ):
            # Siemens (and the standard, PS3.3 C.8.9.4.1.5): FrameReferenceTime is the offset
            # from the reference time to the frame's average-count time; acquisition time is
            # the frame start. QIBA: ref = t_acq + t_ave - FRT.
            times = [
                a + timedelta(seconds=average_count_time_s(d / 1000.0, half_life_s) - f / 1000.0)  # type: ignore[operator]
                for a, f, d in zip(acquisitions, frame_ref, durations)
            ]
            return "bqml-start-frame-siemens", times
    if earliest is not None:
        return "bqml-start-acquisition", [earliest] * n
    raise _Failure("suv.missing-time", "no Series, Acquisition or GE private scan time")


def _none_reference_times(
    instances: Sequence[SuvInstanceInputs], clock: _Clock, half_life_s: float
) -> list[datetime]:
    """Per-frame reference times for DecayCorrection NONE: each frame's average-count time."""
    times: list[datetime] = []
    for inst in instances:
        start = _acquisition_time(inst, clock)
        if start is None:
            raise _Failure(
                "suv.missing-time",
                "DecayCorrection NONE needs AcquisitionDate/Time (0008,0022/0032) on every frame",
            )
        duration_s = (inst.ActualFrameDuration or 0.0) / 1000.0
        times.append(start + timedelta(seconds=average_count_time_s(duration_s, half_life_s)))
    return times


def _injection_time(
    instances: Sequence[SuvInstanceInputs], clock: _Clock, reference: datetime
) -> datetime:
    when = clock.aware(parse_dt(_first_value(instances, "RadiopharmaceuticalStartDateTime")))
    if when is not None:
        return when
    start = parse_tm(_first_value(instances, "RadiopharmaceuticalStartTime"))
    if start is None:
        raise _Failure(
            "suv.missing-time",
            "RadiopharmaceuticalStartDateTime/StartTime (0018,1078/1072) missing in "
            "RadiopharmaceuticalInformationSequence",
        )
    # StartTime on the scan's date (the series date, unless the reference came from elsewhere);
    # one day earlier when it falls after the scan (injection before midnight).
    reference_local = reference.astimezone(clock.local)
    when = datetime.combine(reference_local.date(), start, tzinfo=clock.local)
    if when > reference and when - reference >= MIDNIGHT_MIN_GAP:
        when -= timedelta(days=1)
    return when


def _half_life(instances: Sequence[SuvInstanceInputs]) -> tuple[float, str]:
    header = _first_value(instances, "RadionuclideHalfLife")
    if header is not None and header > 0:
        return float(header), "header"
    found = find_half_life(
        code_value=_first_value(instances, "RadionuclideCodeValue"),
        code_meaning=_first_value(instances, "RadionuclideCodeMeaning"),
        agent=_first_value(instances, "Radiopharmaceutical"),
    )
    if found is None:
        raise _Failure(
            "suv.missing-half-life",
            "RadionuclideHalfLife (0018,1075) missing and the radionuclide code is not in "
            "data/radionuclides.yaml",
        )
    name, half_life_s = found
    return half_life_s, f"table:{name}"


def _weight(instances: Sequence[SuvInstanceInputs]) -> float:
    weight = _first_value(instances, "PatientWeight")
    if weight is None or weight <= 0:
        raise _Failure("suv.missing-weight", "PatientWeight (0010,1030) missing or zero")
    return float(weight)


def _height_m(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float | None:
    size = _first_value(instances, "PatientSize")
    if size is None or size <= 0:
        return None
    if size > 3.0:  # written in centimetres, not metres
        notes.append("PatientSize looks like centimetres; divided by 100")
        return float(size) / 100.0
    return float(size)


def _dose_bq(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float:
    dose = _first_value(instances, "RadionuclideTotalDose")
    if dose is None or dose <= 0:
        raise _Failure("suv.missing-dose", "RadionuclideTotalDose (0018,1074) missing or zero")
    if dose < MBQ_THRESHOLD:  # QIBA: a "Bq" value this small was written in MBq
        notes.append("RadionuclideTotalDose below 1e5 read as MBq")
        return float(dose) * 1e6
    return float(dose)


def _units(instances: Sequence[SuvInstanceInputs]) -> str | None:
    raw = _first_value(instances, "Units")
    if raw is None:
        return None
    key = raw.strip().upper().replace(" ", "")
    return UNITS_ALIASES.get(key, key)


def _check_modality(instances: Sequence[SuvInstanceInputs], units: str | None) -> None:
    sop = _first_value(instances, "SOPClassUID")
    modality = _first_value(instances, "Modality")
    if sop in PET_SOP_CLASSES or (sop is None and modality == "PT"):
        return
    if modality == "PT" and sop not in NM_SOP_CLASSES:
        return
    if (sop in NM_SOP_CLASSES or modality == "NM") and units == "BQML":
        return  # quantitative SPECT stored as NM with Units BQML
    raise _Failure(
        "suv.not-pet",
        f"series is {modality or 'of unknown modality'}, not PET or quantitative SPECT "
        "(NM with Units BQML)",
    )


def _decay_correction(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> str:
    value = _first_value(instances, "DecayCorrection")
    if value in ("START", "ADMIN", "NONE"):
        return str(value)
    corrected = _first_value(instances, "CorrectedImage") or ()
    assumed = "START" if "DECY" in corrected else "NONE"
    notes.append(f"DecayCorrection (0054,1102) {'missing' if not value else 'unknown'}: assumed {assumed}")
    return assumed


def _check_corrected(instances: Sequence[SuvInstanceInputs], decay: str, notes: list[str]) -> None:
    corrected = _first_value(instances, "CorrectedImage")
    if corrected is None:
        notes.append("CorrectedImage (0028,0051) missing: assumed attenuation and decay corrected")
        return
    needed = ["ATTN"] + (["DECY"] if decay != "NONE" else [])
    missing = [c for c in needed if c not in corrected]
    if missing:
        raise _Failure(
            "suv.not-corrected",
            f"CorrectedImage (0028,0051) lacks {' and '.join(missing)}",
        )


def _summarise(factors: Sequence[float]) -> tuple[float, bool]:
    first = factors[0]
    wide = all(abs(f - first) <= SERIES_WIDE_TOLERANCE * abs(first) for f in factors)
    return (first, True) if wide else (statistics.median(factors), False)


def _slope_varies(instances: Sequence[SuvInstanceInputs]) -> bool:
    slopes = {i.RescaleSlope for i in instances if i.RescaleSlope is not None}
    return len(slopes) > 1


def _gml_factor(
    instances: Sequence[SuvInstanceInputs], notes: list[str]
) -> tuple[str, float, float | None]:
    """Return (rule, factor, weight) for Units GML (pixels already SUV of SUVType)."""
    suv_type = _first_value(instances, "SUVType") or "BW"
    if suv_type == "BW":
        weight = _first_value(instances, "PatientWeight")
        return "gml", 1.0, float(weight) if weight and weight > 0 else None
    weight = _weight(instances)
    height = _height_m(instances, notes)
    sex = _first_value(instances, "PatientSex")
    if suv_type == "BSA":
        if height is None:
            raise _Failure("suv.missing-body-size", "SUVType BSA needs PatientSize (0010,1020)")
        # pixel = C * BSA[cm2] / dose; SUVbw = C * W[g] / dose
        return "gml-bsa", weight * 1000.0 / (bsa_du_bois_m2(weight, height) * 1e4), weight
    measures = {
        "LBM": lbm_james_kg,
        "LBMJAMES128": lbm_james_kg,
        "LBMJANMA": lbm_janmahasatian_kg,
    }
    if suv_type in measures or suv_type == "IBW":
        if height is None or sex not in ("M", "F"):
            raise _Failure(
                "suv.missing-body-size",
                f"SUVType {suv_type} needs PatientSize (0010,1020) and PatientSex M or F",
            )
        if suv_type == "IBW":
            measure = ibw_kg(height, sex)
        else:
            measure = measures[suv_type](weight, height, sex)
        if measure is None or measure <= 0:
            raise _Failure("suv.missing-body-size", f"SUVType {suv_type}: body measure not positive")
        return f"gml-{suv_type.lower()}", weight / measure, weight
    raise _Failure("suv.unsupported-units", f"Units GML with unknown SUVType {suv_type}")


def compute_suv(instances: Sequence[SuvInstanceInputs]) -> SuvResult:
    """Compute the SUVbw factor (and variants) of one series, following QIBA.

    Args:
        instances: the SUV inputs of every instance of one series (any order).

    Returns:
        The factors and the rule used, or ``suvbw_factor=None`` with a ``code`` and ``reason``.
        Never raises on bad data.
    """
    notes: list[str] = []
    units = _units(instances) if instances else None
    try:
        if not instances:
            raise _Failure("suv.not-pet", "no instances")
        return _compute(instances, units, notes)
    except _Failure as failure:
        return SuvResult(
            suvbw_factor=None,
            rule="not-computed",
            reason=failure.reason,
            code=failure.code,
            units=units,
            series_wide=False,
            rescale_slope_varies=_slope_varies(instances),
            notes=tuple(notes),
        )


def _compute(instances: Sequence[SuvInstanceInputs], units: str | None, notes: list[str]) -> SuvResult:
    _check_modality(instances, units)
    if units not in ("BQML", "CNTS", "GML"):
        raise _Failure(
            "suv.unsupported-units",
            f"Units (0054,1001) {units or 'missing'}: SUV needs BQML, CNTS (Philips) or GML",
        )
    decay = _decay_correction(instances, notes)
    _check_corrected(instances, decay, notes)
    slope_varies = _slope_varies(instances)
    height = _height_m(instances, notes)
    sex = _first_value(instances, "PatientSex")

    if units == "GML":
        rule, factor, weight = _gml_factor(instances, notes)
        return SuvResult(
            suvbw_factor=factor,
            rule=rule,
            units=units,
            variants=compute_variants(factor, weight_kg=weight, height_m=height, sex=sex),
            weight_kg=weight,
            instance_factors=tuple(factor for _ in instances),
            rescale_slope_varies=slope_varies,
            notes=tuple(notes),
        )

    if units == "CNTS":
        suv_factors = [i.philips_suv_scale_factor for i in instances]
        if all(f is not None and f > 0 for f in suv_factors):
            # QIBA: Philips private SUV scale factor (7053,xx00) maps counts to SUVbw directly.
            factors = [float(f) for f in suv_factors]  # type: ignore[arg-type]
            factor, wide = _summarise(factors)
            weight = _first_value(instances, "PatientWeight")
            weight = float(weight) if weight and weight > 0 else None
            return SuvResult(
                suvbw_factor=factor,
                rule="cnts-philips-suv-factor",
                units=units,
                variants=compute_variants(factor, weight_kg=weight, height_m=height, sex=sex),
                weight_kg=weight,
                series_wide=wide,
                instance_factors=tuple(factors),
                rescale_slope_varies=slope_varies,
                notes=tuple(notes),
            )
        activity = [i.philips_activity_concentration_scale_factor for i in instances]
        if not all(f is not None and f > 0 for f in activity):
            raise _Failure(
                "suv.unsupported-units",
                "Units CNTS without the Philips SUV scale factor (7053,xx00) or activity "
                "concentration scale factor (7053,xx09) in block 'Philips PET Private Group'",
            )
        # QIBA: (7053,xx09) maps rescaled counts to Bq/ml; then proceed as BQML.
        return _bqml(instances, decay, notes, scale=[float(a) for a in activity],  # type: ignore[arg-type]
                     rule_override="cnts-philips-activity-factor", height=height, sex=sex,
                     slope_varies=slope_varies, units=units)

    return _bqml(instances, decay, notes, scale=None, rule_override=None, height=height, sex=sex,
                 slope_varies=slope_varies, units=units)


def _bqml(
    instances: Sequence[SuvInstanceInputs],
    decay: str,
    notes: list[str],
    *,
    scale: list[float] | None,
    rule_override: str | None,
    height: float | None,
    sex: str | None,
    slope_varies: bool,
    units: str,
) -> SuvResult:
    """BQML branch of QIBA: weight / decayed dose, per instance."""
    weight = _weight(instances)
    dose = _dose_bq(instances, notes)
    clock = _clock(instances)
    reference_times: list[datetime] | None
    injection: datetime | None = None
    half_life: float | None = None
    half_life_source: str | None = None

    if decay == "ADMIN":
        # Pixels are decay-corrected to the administration time: no decay of the dose.
        time_rule = "bqml-admin"
        reference_times = None
        factors = [weight * 1000.0 / dose] * len(instances)
        decayed = dose
        decay_time_s = 0.0
    else:
        half_life, half_life_source = _half_life(instances)
        if decay == "START":
            time_rule, reference_times = _start_reference_times(instances, clock, half_life)
        else:
            time_rule = "bqml-none-per-frame"
            reference_times = _none_reference_times(instances, clock, half_life)
        earliest_reference = min(reference_times)
        injection = _injection_time(instances, clock, earliest_reference)
        decay_times = [(r - injection).total_seconds() for r in reference_times]
        if min(decay_times) < 0:
            raise _Failure(
                "suv.injection-after-scan",
                "RadiopharmaceuticalStartDateTime/StartTime is after the scan reference time "
                f"({time_rule}); check the injection time and the scanner clock",
            )
        decayed_doses = [dose * 2.0 ** (-t / half_life) for t in decay_times]
        factors = [weight * 1000.0 / d for d in decayed_doses]
        decay_time_s = min(decay_times)
        decayed = dose * 2.0 ** (-decay_time_s / half_life)

    if scale is not None:
        factors = [f * s for f, s in zip(factors, scale)]
    factor, wide = _summarise(factors)
    return SuvResult(
        suvbw_factor=factor,
        rule=rule_override or time_rule,
        units=units,
        variants=compute_variants(factor, weight_kg=weight, height_m=height, sex=sex),
        time_rule=time_rule,
        reference_time=min(reference_times) if reference_times else None,
        injection_time=injection,
        decay_time_s=decay_time_s,
        injected_dose_bq=dose,
        decayed_dose_bq=decayed,
        half_life_s=half_life,
        half_life_source=half_life_source,
        weight_kg=weight,
        series_wide=wide,
        instance_factors=tuple(factors),
        rescale_slope_varies=slope_varies,
        notes=tuple(notes),
    )
