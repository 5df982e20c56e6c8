"""Derive the SUV scale factors of one PET (or quantitative SPECT) series.

Pure functions on :class:`~theragraph.records.suv.SuvInstanceInputs`; no I/O besides the
radionuclide table. The decision tree is the QIBA vendor-neutral SUV pseudo-code (QIBA FDG-PET/CT
Technical Committee, 2013-2018) as design §5 summarises it, refined where the IBSI SUV benchmark
(Vácha et al., oncoray/suv_computation, 2026: digital reference objects and a manual) settles a
case QIBA leaves open; each such place cites it.

Every factor is per unit of the *rescaled* pixel value (Bq/ml for BQML, counts for Philips CNTS,
SUV for GML): ``SUVbw = (stored * RescaleSlope + RescaleIntercept) * suvbw_factor``. The rescale
slope is applied per instance by the caller and never enters the factor.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from theragraph.derive.body_size import (
    MASS_BY_SUV_TYPE,
    bsa_du_bois_m2,
    compute_variants,
)
from theragraph.derive.dicom_time import parse_da, parse_dt, parse_offset, parse_tm
from theragraph.derive.radionuclides import find_half_life
from theragraph.records.suv import SuvInstanceInputs

# PS3.4 B.5: PET Image, Enhanced PET Image, Legacy Converted Enhanced PET Image.
PET_SOP_CLASSES = frozenset(
    {"1.2.840.10008.5.1.4.1.1.128", "1.2.840.10008.5.1.4.1.1.130", "1.2.840.10008.5.1.4.1.1.128.1"}
)
# NM Image (and the retired NM Image Storage); quantitative SPECT is stored here with Units BQML.
NM_SOP_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.5"})

#: QIBA: a RadionuclideTotalDose below this many "Bq" was written in MBq.
MBQ_THRESHOLD = 1e5
#: IBSI: a PatientWeight at or above this many "kg" was written in grams.
GRAMS_THRESHOLD = 1000.0
#: IBSI: an injection DT is trusted when reference - injection lies in [-1 h, 2 half-lives).
#: The negative floor admits dynamic scans that start shortly before the injection.
UPTAKE_FLOOR = timedelta(hours=-1)
#: IBSI: an injection date may be rebuilt from the scan date only for half-lives below this;
#: for longer-lived nuclides a date wrong by whole days still gives a plausible-looking SUV.
DATE_REBUILD_MAX_HALF_LIFE_S = 41400.0
#: A rebuilt injection time after the scan by more than this crossed midnight (one day earlier);
#: by less (beyond the floor above) the clocks disagree and no day is subtracted.
MIDNIGHT_MIN_GAP = timedelta(hours=12)
#: A private reference datetime further than this from the acquisition had its date shifted
#: by de-identification (standard dates shifted, private ones not): its time of day is kept.
PRIVATE_DATE_TOLERANCE = timedelta(hours=12)
#: Relative spread under which per-frame factors count as one series-wide factor.
SERIES_WIDE_TOLERANCE = 1e-6

#: Units (0054,1001) spellings met in files -> the defined term.
UNITS_ALIASES = {
    "BQML": "BQML", "BQ/ML": "BQML", "CNTS": "CNTS", "GML": "GML", "G/ML": "GML",
    "CM2ML": "CM2ML", "CM2/ML": "CM2ML",
}  # fmt: skip
#: PatientSex values met in files -> the DICOM enumerated value (M, F, O).
SEX_ALIASES = {"M": "M", "F": "F", "O": "O", "MALE": "M", "FEMALE": "F", "OTHER": "O"}
#: UCUM fragments of a Real World Value Mapping unit (CID 85) -> (Units, SUVType); first match wins.
MEASUREMENT_UNITS = (
    ("suvbw", "GML", "BW"),
    ("james128", "GML", "LBMJAMES128"),
    ("janma", "GML", "LBMJANMA"),
    ("suvlbm", "GML", "LBM"),
    ("suvibw", "GML", "IBW"),
    ("suvbsa", "CM2ML", "BSA"),
    ("bq/ml", "BQML", None),
    ("propcounts", "PROPCNTS", None),
    ("counts", "CNTS", None),
)


#: Stable rule ids (``SuvResult.rule`` / ``time_rule``) and what each means. Tests assert on them.
RULES: dict[str, str] = {
    "bqml-start-decay-correction-datetime": "BQML, decay-corrected to (0018,9701) (Enhanced PET)",
    "bqml-start-siemens-private": "BQML START, reference = Siemens (0071,xx22) decay datetime",
    "bqml-start-ge-private": "BQML START, reference = GE (0009,xx0D) scan datetime",
    "bqml-start-series-time": "BQML START, reference = Series Date/Time (not after acquisition)",
    "bqml-start-frame-siemens": "BQML START, reference = t_acq + t_ave - FrameReferenceTime",
    "bqml-start-frame-ge": "BQML START, reference = t_acq - FrameReferenceTime (GE bed offset)",
    "bqml-start-acquisition": "BQML START, reference = earliest Acquisition Date/Time",
    "bqml-admin": "BQML ADMIN: decay-corrected to the injection, no decay of the dose",
    "bqml-none-per-frame": "BQML NONE: dose decayed to each frame's average-count time",
    "cnts-philips-activity-factor": "Philips CNTS x (7053,xx09) = Bq/ml, then as BQML",
    "cnts-philips-suv-factor": "Philips CNTS x (7053,xx00) = SUVbw",
    "gml": "GML with SUVType BW (or none): already SUVbw, factor 1",
    "gml-lbm": "GML SUVlbm (LBM, male coefficient 120) converted back to SUVbw",
    "gml-lbmjames128": "GML SUVlbm (James 1976) converted back to SUVbw",
    "gml-lbmjanma": "GML SUVlbm (Janmahasatian 2005) converted back to SUVbw",
    "gml-ibw": "GML SUVibw converted back to SUVbw",
    "gml-bsa": "GML with SUVType BSA converted back to SUVbw",
    "cm2ml-bsa": "CM2ML SUVbsa (Du Bois) converted back to SUVbw",
    "not-computed": "SUV could not be computed: see code and reason",
}


@dataclass(frozen=True, slots=True)
class SuvResult:
    """The SUV factors of one series, or why they could not be computed.

    Attributes:
        suvbw_factor: SUVbw per rescaled pixel value (g/ml per Bq/ml for BQML; 1.0 for GML/BW);
            None when SUV cannot be computed. When per-frame factors differ (frame timing,
            DecayCorrection NONE) this is their median and ``series_wide`` is False.
        rule: the stable id of the rule that produced the factor (``not-computed`` on failure).
        reason: why SUV could not be computed (None on success).
        code: the stable issue code of the failure (``suv.*``, listed in theragraph.report.CODES).
        variants: factors for ``suvlbm_james``, ``suvlbm_janmahasatian``, ``suvbsa`` (cm2/ml per
            rescaled unit, Du Bois) and ``suvibw``; each present only when computable.
        units: the pixel unit SUV was derived from (BQML, CNTS, GML, CM2ML).
        time_rule: how the reference time was found, for rules that decay the dose.
        reference_time: the time the dose was decayed to (earliest over frames).
        injection_time: the radiopharmaceutical start time used.
        decay_time_s: reference minus injection time, seconds (earliest frame).
        injected_dose_bq: RadionuclideTotalDose in Bq (after the MBq check).
        decayed_dose_bq: the dose decayed to ``reference_time``.
        half_life_s: the half-life used.
        half_life_source: ``header`` or ``table:<nuclide>``.
        weight_kg: PatientWeight used.
        series_wide: True when every frame has the same factor.
        instance_factors: factors per frame in input order (one per instance for classic images,
            one per frame of an enhanced multi-frame instance).
        rescale_slope_varies: True when RescaleSlope differs between instances or frames (so the
            factor on *stored* pixel values varies even when ``suvbw_factor`` is series-wide).
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
    instance_factors: tuple[float, ...] = ()
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
# Reading the inputs: first non-empty value, clock, frames.


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

    def aware(self, value: str | None) -> datetime | None:
        parsed = parse_dt(value)
        if parsed is None:
            return None
        naive, offset = parsed
        return naive.replace(tzinfo=offset or self.local)


def _clock(instances: Sequence[SuvInstanceInputs]) -> _Clock:
    local = parse_offset(_first_value(instances, "TimezoneOffsetFromUTC"))
    if local is None:
        # Without TimezoneOffsetFromUTC, naive local times share the zone of any DT that states
        # one (one scanner, one zone); else any zone works, as only differences count.
        for attr in ("RadiopharmaceuticalStartDateTime", "AcquisitionDateTime", "ge_scan_datetime"):
            parsed = parse_dt(_first_value(instances, attr))
            if parsed is not None and parsed[1] is not None:
                local = parsed[1]
                break
    return _Clock(local or UTC)


@dataclass(slots=True)
class _Frame:
    """One image frame: a classic instance, or one frame of an enhanced multi-frame instance."""

    inst: SuvInstanceInputs
    start: datetime | None  # acquisition start of the frame
    duration_s: float | None
    frame_reference_ms: float | None  # classic FrameReferenceTime (0054,1300)
    reference: datetime | None = None  # enhanced FrameReferenceDateTime (0018,9151)


def _classic_start(inst: SuvInstanceInputs, clock: _Clock) -> datetime | None:
    when = clock.aware(inst.AcquisitionDateTime)
    if when is not None:
        return when
    day = parse_da(inst.AcquisitionDate) or parse_da(inst.SeriesDate)
    moment = parse_tm(inst.AcquisitionTime)
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment, tzinfo=clock.local)


def _frames(instances: Sequence[SuvInstanceInputs], clock: _Clock) -> list[_Frame]:
    frames: list[_Frame] = []
    for inst in instances:
        starts = inst.FrameAcquisitionDateTimes or ()
        references = inst.FrameReferenceDateTimes or ()
        count = max(len(starts), len(references))
        if count == 0:
            duration = inst.ActualFrameDuration
            frames.append(
                _Frame(
                    inst,
                    _classic_start(inst, clock),
                    duration / 1000.0 if duration and duration > 0 else None,
                    inst.FrameReferenceTime,
                )
            )
            continue
        durations = inst.FrameAcquisitionDurations or ()
        for k in range(count):
            duration_ms = durations[k] if k < len(durations) else None
            frames.append(
                _Frame(
                    inst,
                    clock.aware(starts[k]) if k < len(starts) else None,
                    duration_ms / 1000.0 if duration_ms and duration_ms > 0 else None,
                    None,
                    clock.aware(references[k]) if k < len(references) else None,
                )
            )
    return frames


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
    return (
        maker.startswith("GE ") or maker == "GE" or "GENERAL ELECTRIC" in maker or "GEMS" in maker
    )


# ------------------------------------------------------------------------------------------
# Preconditions.


def _units(instances: Sequence[SuvInstanceInputs]) -> tuple[str | None, str | None]:
    """Return (Units, SUVType implied by the unit) from Units, else the Real World Value Mapping."""
    raw = _first_value(instances, "Units")
    if raw is not None:
        key = raw.strip().upper().replace(" ", "")
        return UNITS_ALIASES.get(key, key), None
    code = _first_value(instances, "MeasurementUnits") or _first_value(instances, "RescaleType")
    if code is None:
        return None, None
    lowered = code.strip().lower()
    for fragment, units, suv_type in MEASUREMENT_UNITS:
        if fragment in lowered:
            return units, suv_type
    key = code.strip().upper().replace(" ", "")
    return UNITS_ALIASES.get(key, key), None


def _check_modality(instances: Sequence[SuvInstanceInputs], units: str | None) -> None:
    sop = _first_value(instances, "SOPClassUID")
    modality = _first_value(instances, "Modality")
    if sop in PET_SOP_CLASSES or (modality == "PT" and sop not in NM_SOP_CLASSES):
        return
    if (sop in NM_SOP_CLASSES or modality == "NM") and units == "BQML":
        return  # quantitative SPECT stored as NM with Units BQML
    raise _Failure(
        "suv.not-pet",
        f"series is {modality or 'of unknown modality'}, not PET or quantitative SPECT "
        "(NM with Units BQML)",
    )


def _decay_mode(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> str:
    """Return START, ADMIN or NONE from DecayCorrection, else Enhanced PET's DecayCorrected."""
    value = _first_value(instances, "DecayCorrection")
    if value in ("START", "ADMIN", "NONE"):
        return str(value)
    corrected = _first_value(instances, "DecayCorrected")
    if corrected in ("YES", "NO"):  # Enhanced PET (0018,9758)
        return "START" if corrected == "YES" else "NONE"
    image = _first_value(instances, "CorrectedImage") or ()
    assumed = "START" if "DECY" in image else "NONE"
    notes.append(
        f"DecayCorrection (0054,1102) {'unknown' if value else 'missing'}: assumed {assumed}"
    )
    return assumed


def _check_corrected(instances: Sequence[SuvInstanceInputs], decay: str, notes: list[str]) -> None:
    corrected = _first_value(instances, "CorrectedImage")
    if corrected is None:
        if _first_value(instances, "AttenuationCorrected") == "NO":
            raise _Failure("suv.not-corrected", "AttenuationCorrected (0018,9759) is NO")
        if _first_value(instances, "AttenuationCorrected") is None:
            notes.append("CorrectedImage (0028,0051) missing: assumed attenuation corrected")
        return
    if "ATTN" not in corrected:
        raise _Failure("suv.not-corrected", "CorrectedImage (0028,0051) lacks ATTN")
    if decay != "NONE" and "DECY" not in corrected:
        # QIBA also requires DECY; an explicit DecayCorrection START/ADMIN (Type 1) says more
        # than its absence from CorrectedImage, and the IBSI benchmark does not refuse it.
        notes.append(f"CorrectedImage lacks DECY although DecayCorrection is {decay}: trusted")


def _weight(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float:
    weight = _first_value(instances, "PatientWeight")
    if weight is None or weight <= 0:
        raise _Failure("suv.missing-weight", "PatientWeight (0010,1030) missing or not positive")
    if weight >= GRAMS_THRESHOLD:  # IBSI: no patient weighs a tonne; written in grams
        notes.append("PatientWeight of 1000 or more read as grams")
        return float(weight) / 1000.0
    return float(weight)


def _optional_weight(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float | None:
    try:
        return _weight(instances, notes)
    except _Failure:
        return None


def _height_m(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float | None:
    size = _first_value(instances, "PatientSize")
    if size is None or size <= 0:
        return None
    if size > 3.0:  # written in centimetres, not metres
        notes.append("PatientSize above 3 read as centimetres")
        return float(size) / 100.0
    return float(size)


def _dose_bq(instances: Sequence[SuvInstanceInputs], notes: list[str]) -> float:
    dose = _first_value(instances, "RadionuclideTotalDose")
    if dose is None or dose <= 0:
        raise _Failure(
            "suv.missing-dose", "RadionuclideTotalDose (0018,1074) missing or not positive"
        )
    if dose < MBQ_THRESHOLD:  # QIBA: a "Bq" value this small was written in MBq
        notes.append("RadionuclideTotalDose below 1e5 read as MBq")
        return float(dose) * 1e6
    return float(dose)


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
            "RadionuclideHalfLife (0018,1075) missing and the radionuclide is not in "
            "data/radionuclides.yaml",
        )
    name, half_life_s = found
    return half_life_s, f"table:{name}"


# ------------------------------------------------------------------------------------------
# Reference and injection times.


def _align_private(when: datetime, earliest: datetime | None, notes: list[str]) -> datetime:
    """Keep a private datetime's time of day when its date disagrees with the acquisition's."""
    if earliest is None or abs(when - earliest) <= PRIVATE_DATE_TOLERANCE:
        return when
    days = round((earliest - when) / timedelta(days=1))
    notes.append(f"private reference datetime {days:+d} day(s) off the acquisition date: re-dated")
    return when + timedelta(days=days)


def _ge_scan_start(frames: list[_Frame]) -> datetime | None:
    """Return GE's scan start, t_acq - FRT, when every frame is GE and all agree within 1 s."""
    if not frames or not all(_is_ge(f.inst) for f in frames):
        return None
    starts: list[datetime] = []
    for frame in frames:
        if frame.start is None or frame.frame_reference_ms is None or frame.frame_reference_ms < 0:
            return None
        starts.append(frame.start - timedelta(milliseconds=frame.frame_reference_ms))
    if max(starts) - min(starts) > timedelta(seconds=1):
        return None
    return min(starts)


def _start_reference_times(
    frames: list[_Frame],
    instances: Sequence[SuvInstanceInputs],
    clock: _Clock,
    half_life_s: float,
    notes: list[str],
) -> tuple[str, list[datetime]]:
    """Return (rule, per-frame reference time) for pixels decay-corrected to the scan start."""
    n = len(frames)
    starts = [f.start for f in frames]
    known = [s for s in starts if s is not None]
    earliest = min(known) if known else None

    # Enhanced PET states the instant outright: Decay Correction DateTime (0018,9701).
    stated = [clock.aware(i.DecayCorrectionDateTime) for i in instances]
    if all(s is not None for s in stated):
        return "bqml-start-decay-correction-datetime", [min(stated)] * n  # type: ignore[type-var]

    # IBSI step 1: the vendors' private reference datetimes, when every instance carries one.
    # Siemens (0071,xx22) is by definition the decay-correction instant; GE (0009,xx0D) is the
    # scan start QIBA falls back to.
    for attr, rule in (
        ("siemens_decay_correction_datetime", "bqml-start-siemens-private"),
        ("ge_scan_datetime", "bqml-start-ge-private"),
    ):
        values = [clock.aware(getattr(i, attr)) for i in instances]
        if all(v is not None for v in values):
            when = _align_private(min(values), earliest, notes)  # type: ignore[type-var]
            return rule, [when] * n

    # QIBA: Series Date/Time unless it is after the earliest acquisition (a series re-processed
    # later gets a new Series Time).
    series_day = parse_da(_first_value(instances, "SeriesDate")) or (
        earliest.astimezone(clock.local).date() if earliest else None
    )
    series_tm = parse_tm(_first_value(instances, "SeriesTime"))
    series_time = (
        datetime.combine(series_day, series_tm, tzinfo=clock.local)
        if series_day is not None and series_tm is not None
        else None
    )
    # GE: FrameReferenceTime is the offset of the bed start from the scan start, which GE
    # decay-corrects to; its Series Time may be when the series was created, before the scan.
    # Where the beds agree on one scan start that differs from the Series Time, it wins.
    ge_scan_start = _ge_scan_start(frames)
    if ge_scan_start is not None and (
        series_time is None or abs(series_time - ge_scan_start) > timedelta(seconds=1)
    ):
        return "bqml-start-frame-ge", [ge_scan_start] * n

    if series_time is not None and (earliest is None or series_time <= earliest):
        return "bqml-start-series-time", [series_time] * n

    if earliest is not None and all(s is not None for s in starts):
        frame_refs = [f.frame_reference_ms for f in frames]
        if all(_is_ge(f.inst) for f in frames) and all(
            r is not None and r >= 0 for r in frame_refs
        ):
            return "bqml-start-frame-ge", [
                s - timedelta(milliseconds=r)  # type: ignore[operator,arg-type]
                for s, r in zip(starts, frame_refs, strict=True)
            ]
        if all(r is not None and r > 0 for r in frame_refs):
            if all(f.duration_s for f in frames):
                # Siemens, Philips and the standard (PS3.3 C.8.9.4.1.5): FrameReferenceTime runs
                # from the reference to the frame's average-count time; the acquisition time is
                # the frame start. QIBA: ref = t_acq + t_ave - FRT.
                return "bqml-start-frame-siemens", [
                    f.start
                    + timedelta(  # type: ignore[operator]
                        seconds=average_count_time_s(f.duration_s, half_life_s)  # type: ignore[arg-type]
                        - f.frame_reference_ms / 1000.0  # type: ignore[operator]
                    )
                    for f in frames
                ]
            # IBSI DRO_error_3_2: the offset is known to matter but cannot be undone.
            raise _Failure(
                "suv.missing-time",
                "Series Time is after the acquisition and ActualFrameDuration (0018,1242) is "
                "missing, so the reference time cannot be back-computed from FrameReferenceTime",
            )
    if earliest is not None:
        return "bqml-start-acquisition", [earliest] * n
    raise _Failure("suv.missing-time", "no Series, Acquisition or private scan time")


def _none_reference_times(
    frames: list[_Frame], half_life_s: float, notes: list[str]
) -> list[datetime]:
    """Per-frame reference times for pixels not decay-corrected: each frame's average-count time."""
    times: list[datetime] = []
    for frame in frames:
        if frame.reference is not None:  # Enhanced PET Frame Reference DateTime
            times.append(frame.reference)
            continue
        if frame.start is None:
            raise _Failure(
                "suv.missing-time",
                "DecayCorrection NONE needs AcquisitionDate/Time (0008,0022/0032) on every frame",
            )
        if frame.duration_s is None:
            notes.append("ActualFrameDuration missing: frame start used as its reference time")
        offset = average_count_time_s(frame.duration_s or 0.0, half_life_s)
        times.append(frame.start + timedelta(seconds=offset))
    return times


def _rebuild_injection(
    moment: datetime, reference: datetime, clock: _Clock, half_life_s: float, source: str
) -> datetime:
    """Put an injection time of day on the scan's date (IBSI: only for short half-lives)."""
    if half_life_s >= DATE_REBUILD_MAX_HALF_LIFE_S:
        raise _Failure(
            "suv.ambiguous-injection-date",
            f"{source} gives no trustworthy injection date and the half-life ({half_life_s:.0f} s) "
            "is too long to take the scan date instead; add RadiopharmaceuticalStartDateTime",
        )
    local_reference = reference.astimezone(clock.local)
    when = datetime.combine(
        local_reference.date(),
        moment.timetz().replace(tzinfo=None),
        tzinfo=moment.tzinfo or clock.local,
    )
    if when - reference > -UPTAKE_FLOOR:
        if when - reference < MIDNIGHT_MIN_GAP:
            raise _Failure(
                "suv.injection-after-scan",
                f"{source} is after the scan reference time; check the injection time and the "
                "scanner clock",
            )
        when -= timedelta(days=1)  # injected before midnight, scanned after
    return when


def _injection_time(
    instances: Sequence[SuvInstanceInputs],
    clock: _Clock,
    reference: datetime,
    half_life_s: float,
    notes: list[str],
) -> datetime:
    """Return the injection time: the DT when plausible, else the time of day on the scan date."""
    stated = clock.aware(_first_value(instances, "RadiopharmaceuticalStartDateTime"))
    if stated is not None:
        uptake = reference - stated
        if UPTAKE_FLOOR <= uptake < timedelta(seconds=2 * half_life_s):
            return stated
        notes.append(
            "RadiopharmaceuticalStartDateTime outside [-1 h, 2 half-lives) before the scan: "
            "its date was rebuilt from the scan date"
        )
        return _rebuild_injection(
            stated, reference, clock, half_life_s, "RadiopharmaceuticalStartDateTime (0018,1078)"
        )
    start = parse_tm(_first_value(instances, "RadiopharmaceuticalStartTime"))
    if start is None:
        raise _Failure(
            "suv.missing-time",
            "RadiopharmaceuticalStartDateTime/StartTime (0018,1078/1072) missing in "
            "RadiopharmaceuticalInformationSequence",
        )
    moment = datetime.combine(reference.astimezone(clock.local).date(), start, tzinfo=clock.local)
    return _rebuild_injection(
        moment, reference, clock, half_life_s, "RadiopharmaceuticalStartTime (0018,1072)"
    )


# ------------------------------------------------------------------------------------------
# The decision tree.


def _summarise(factors: Sequence[float]) -> tuple[float, bool]:
    first = factors[0]
    wide = all(abs(f - first) <= SERIES_WIDE_TOLERANCE * abs(first) for f in factors)
    return (first, True) if wide else (statistics.median(factors), False)


def _slope_varies(instances: Sequence[SuvInstanceInputs]) -> bool:
    slopes: set[float] = set()
    for inst in instances:
        slopes.update(inst.FrameRescaleSlopes or ())
        if inst.RescaleSlope is not None:
            slopes.add(inst.RescaleSlope)
    return len(slopes) > 1


@dataclass(slots=True)
class _Context:
    instances: Sequence[SuvInstanceInputs]
    units: str
    suv_type: str | None
    notes: list[str]
    height_m: float | None
    sex: str | None
    slope_varies: bool

    def result(
        self, factors: list[float], rule: str, weight_kg: float | None, **extra: Any
    ) -> SuvResult:
        factor, wide = _summarise(factors)
        return SuvResult(
            suvbw_factor=factor,
            rule=rule,
            units=self.units,
            variants=compute_variants(
                factor, weight_kg=weight_kg, height_m=self.height_m, sex=self.sex
            ),
            weight_kg=weight_kg,
            series_wide=wide,
            instance_factors=tuple(factors),
            rescale_slope_varies=self.slope_varies,
            notes=tuple(self.notes),
            **extra,
        )


def compute_suv(instances: Sequence[SuvInstanceInputs]) -> SuvResult:
    """Compute the SUVbw factor (and variants) of one series.

    Args:
        instances: the SUV inputs of every instance of one series (any order).

    Returns:
        The factors and the rule used, or ``suvbw_factor=None`` with a ``code`` and ``reason``.
        Never raises on bad data.
    """
    notes: list[str] = []
    units, implied_type = _units(instances) if instances else (None, None)
    try:
        if not instances:
            raise _Failure("suv.not-pet", "no instances")
        _check_modality(instances, units)
        if units not in ("BQML", "CNTS", "GML", "CM2ML"):
            raise _Failure(
                "suv.unsupported-units",
                f"Units (0054,1001) {units or 'missing'}: SUV needs BQML, CNTS (Philips), GML "
                "or CM2ML",
            )
        ctx = _Context(
            instances=instances,
            units=units,
            suv_type=_first_value(instances, "SUVType") or implied_type,
            notes=notes,
            height_m=_height_m(instances, notes),
            sex=SEX_ALIASES.get(_first_value(instances, "PatientSex") or ""),
            slope_varies=_slope_varies(instances),
        )
        decay = _decay_mode(instances, notes)
        _check_corrected(instances, decay, notes)
        if units in ("GML", "CM2ML"):
            return _normalised(ctx)
        if units == "CNTS":
            return _philips_counts(ctx, decay)
        return _activity(ctx, decay, scale=None, rule=None)
    except _Failure as caught:
        failure = caught
    except (ArithmeticError, ValueError) as exc:  # e.g. a dose decayed to 0 over absurd times
        failure = _Failure("suv.invalid-value", f"a value SUV depends on is out of range ({exc})")
    return SuvResult(
        suvbw_factor=None,
        rule="not-computed",
        reason=failure.reason,
        code=failure.code,
        units=units,
        series_wide=False,
        rescale_slope_varies=_slope_varies(instances) if instances else False,
        notes=tuple(notes),
    )


def _normalised(ctx: _Context) -> SuvResult:
    """Units GML or CM2ML: pixels are already an SUV of SUVType; convert it back to SUVbw."""
    suv_type = ctx.suv_type or ("BSA" if ctx.units == "CM2ML" else "BW")
    n = sum(
        max(1, len(i.FrameReferenceDateTimes or i.FrameAcquisitionDateTimes or ()))
        for i in ctx.instances
    )
    if ctx.units == "GML" and suv_type == "BW":
        return ctx.result([1.0] * n, "gml", _optional_weight(ctx.instances, ctx.notes))
    weight = _weight(ctx.instances, ctx.notes)
    if suv_type == "BSA":
        if ctx.height_m is None:
            raise _Failure("suv.missing-body-size", "SUVType BSA needs PatientSize (0010,1020)")
        # pixel = C * BSA[cm2] / dose; SUVbw = C * W[g] / dose = pixel * W[g] / BSA[cm2]
        factor = weight * 1000.0 / (bsa_du_bois_m2(weight, ctx.height_m) * 1e4)
        rule = "cm2ml-bsa" if ctx.units == "CM2ML" else "gml-bsa"
        return ctx.result([factor] * n, rule, weight)
    measure = MASS_BY_SUV_TYPE.get(suv_type)
    if measure is None:
        raise _Failure(
            "suv.unsupported-units", f"Units {ctx.units} with unknown SUVType {suv_type}"
        )
    if ctx.height_m is None or ctx.sex not in ("M", "F", "O"):
        raise _Failure(
            "suv.missing-body-size",
            f"SUVType {suv_type} needs PatientSize (0010,1020) and PatientSex (0010,0040) "
            "M, F or O",
        )
    mass = measure(weight, ctx.height_m, ctx.sex)
    if mass is None or mass <= 0:
        raise _Failure("suv.missing-body-size", f"SUVType {suv_type}: body measure not positive")
    # pixel = C * M / dose; SUVbw = C * W / dose = pixel * W / M
    return ctx.result([weight / mass] * n, f"gml-{suv_type.lower()}", weight)


def _philips_counts(ctx: _Context, decay: str) -> SuvResult:
    """Units CNTS (Philips private scale factors, found by their private creator)."""
    instances = ctx.instances
    activity = [i.philips_activity_concentration_scale_factor for i in instances]
    if all(a is not None and a > 0 for a in activity):
        # (7053,xx09) maps rescaled counts to Bq/ml; then as BQML (QIBA). Tried before the SUV
        # factor, as the IBSI benchmark orders them: the SUV factor is written with 3-4
        # significant digits and ignores a later weight or dose correction.
        return _activity(
            ctx,
            decay,
            scale=[float(a) for a in activity],  # type: ignore[arg-type]
            rule="cnts-philips-activity-factor",
        )
    suv = [i.philips_suv_scale_factor for i in instances]
    if all(f is not None and f > 0 for f in suv):
        # QIBA: (7053,xx00) maps rescaled counts to SUVbw directly.
        factors = _per_frame(instances, [float(f) for f in suv])  # type: ignore[arg-type]
        return ctx.result(
            factors, "cnts-philips-suv-factor", _optional_weight(instances, ctx.notes)
        )
    raise _Failure(
        "suv.unsupported-units",
        "Units CNTS without the activity concentration scale factor (7053,xx09) or the SUV scale "
        "factor (7053,xx00) of private creator 'Philips PET Private Group'",
    )


def _per_frame(instances: Sequence[SuvInstanceInputs], values: list[float]) -> list[float]:
    """Repeat a per-instance value for each frame of that instance."""
    out: list[float] = []
    for inst, value in zip(instances, values, strict=True):
        out.extend(
            [value]
            * max(1, len(inst.FrameReferenceDateTimes or inst.FrameAcquisitionDateTimes or ()))
        )
    return out


def _activity(
    ctx: _Context, decay: str, *, scale: list[float] | None, rule: str | None
) -> SuvResult:
    """Units BQML (or counts scaled to Bq/ml): weight / decayed dose, per frame."""
    instances, notes = ctx.instances, ctx.notes
    weight = _weight(instances, notes)
    dose = _dose_bq(instances, notes)
    clock = _clock(instances)
    frames = _frames(instances, clock)
    scales = _per_frame(instances, scale) if scale is not None else [1.0] * len(frames)

    if decay == "ADMIN":
        # Pixels are decay-corrected to the administration time: no decay of the dose.
        factors = [weight * 1000.0 / dose * s for s in scales]
        return ctx.result(
            factors,
            rule or "bqml-admin",
            weight,
            time_rule="bqml-admin",
            decay_time_s=0.0,
            injected_dose_bq=dose,
            decayed_dose_bq=dose,
        )

    half_life, half_life_source = _half_life(instances)
    if decay == "START":
        time_rule, references = _start_reference_times(frames, instances, clock, half_life, notes)
    else:
        time_rule, references = (
            "bqml-none-per-frame",
            _none_reference_times(frames, half_life, notes),
        )
    earliest = min(references)
    injection = _injection_time(instances, clock, earliest, half_life, notes)
    decay_times = [(r - injection).total_seconds() for r in references]
    factors = [
        weight * 1000.0 / (dose * 2.0 ** (-t / half_life)) * s
        for t, s in zip(decay_times, scales, strict=True)
    ]
    first_decay = (earliest - injection).total_seconds()
    return ctx.result(
        factors,
        rule or time_rule,
        weight,
        time_rule=time_rule,
        reference_time=earliest,
        injection_time=injection,
        decay_time_s=first_decay,
        injected_dose_bq=dose,
        decayed_dose_bq=dose * 2.0 ** (-first_decay / half_life),
        half_life_s=half_life,
        half_life_source=half_life_source,
    )
