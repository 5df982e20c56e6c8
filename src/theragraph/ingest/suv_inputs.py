"""Read the attributes SUV needs from a pydicom Dataset, tolerating real-world junk.

The reader never raises on a bad value: a missing, empty or malformed attribute becomes ``None``.
Private attributes are located through their private creator (PS3.5 7.8.1), never by a fixed
element number, because the block a vendor's creator lands in varies between files. It does not
interpret values (that is :mod:`theragraph.derive.suv`'s job) and imports no RDF library.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from theragraph.records.suv import SuvInstanceInputs

logger = logging.getLogger(__name__)

# Private creators and element offsets (the low byte of the element number) SUV reads.
GE_PET_CREATOR = "GEMS_PETD_01"
GE_PET_GROUP = 0x0009
GE_SCAN_DATETIME = 0x0D  # (0009,xx0D) PET scan_datetime (DT); QIBA SUV: GE scan-time branch
GE_ADMIN_DATETIME = 0x3B  # (0009,xx3B) PET admin_datetime (DT)
SIEMENS_PET_CREATOR = "SIEMENS MED PT"
SIEMENS_PET_GROUP = 0x0071
SIEMENS_DECAY_CORRECTION_DATETIME = 0x22  # (0071,xx22) Decay Correction DateTime (DT)
PHILIPS_PET_CREATOR = "Philips PET Private Group"
PHILIPS_PET_GROUP = 0x7053
PHILIPS_SUV_SCALE_FACTOR = 0x00  # (7053,xx00) SUV Scale Factor (DS)
PHILIPS_ACTIVITY_SCALE_FACTOR = 0x09  # (7053,xx09) Activity Concentration Scale Factor (DS)

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@cache
def _tag(keyword: str) -> int | None:
    return tag_for_keyword(keyword)


#: VRs whose raw bytes are backslash-separated ASCII text; read here without pydicom's
#: conversion (every consumer below goes through to_text/to_float/_codes, which strip).
_PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI", "SH", "LO"})
_NUMBER_VRS = {"DS": float, "IS": int}
_SLOW = object()


@cache
def _dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _fast_value(raw: RawDataElement) -> Any:
    """Return a raw element's value as text (one string or a list) or ``_SLOW``.

    Only plain ASCII text VRs and valid DS/IS strings are read here (about 3x cheaper than
    pydicom's conversion); DS/IS come back as their strings, which :func:`to_float` and
    :func:`to_text` read exactly as they read pydicom's DSfloat/IS. Anything else (character
    sets, invalid numbers, binary VRs, sequences) returns ``_SLOW`` for pydicom to convert.
    """
    data = raw.value
    if not isinstance(data, bytes) or not data.isascii() or b"\x1b" in data:
        return _SLOW
    vr = raw.VR or _dictionary_vr(raw.tag)
    number = _NUMBER_VRS.get(vr) if vr else None
    if number is None and vr not in _PLAIN_TEXT_VRS:
        return _SLOW
    text = data.decode("ascii")
    if text.endswith((" ", "\x00")):
        text = text[:-1]  # one padding byte, as pydicom removes
    parts = text.split("\\")
    if number is not None:
        parts = [p.strip() for p in parts]
        try:
            for p in parts:
                if p:
                    number(p)
        except ValueError:
            return _SLOW  # invalid number: pydicom decides (it raises, and we return None)
        if any(not p for p in parts) and len(parts) > 1:
            return _SLOW
    if len(parts) == 1:
        return parts[0]
    return tuple(parts)  # memoised and shared: immutable


def _raw(ds: Dataset, keyword: str) -> Any:
    """Return the value of ``keyword`` in ``ds`` or None (never raises)."""
    tag = _tag(keyword)
    if tag is None:
        return None
    try:
        elem = ds._dict.get(tag)  # noqa: SLF001 - no conversion, no Tag() on the hot path
        if elem is None:
            return None
        if type(elem) is not RawDataElement:
            return elem.value
        data = elem.value
        if type(data) is not bytes:
            return ds[tag].value
        # The instances of a series repeat these bytes: decode them once per distinct value.
        # Sequences and non-ASCII text decode in the context of their data set (character set).
        plain = elem.VR not in (None, "SQ") and data.isascii() and b"\x1b" not in data
        key = (tag, elem.VR, data, elem.is_little_endian, elem.is_implicit_VR,
               None if plain else _charset(ds))
        value = _VALUES.get(key, _SLOW)
        if value is not _SLOW:
            return value
        value = _fast_value(elem)
        if value is _SLOW:
            value = ds[tag].value  # convert it (in place, once)
        if len(_VALUES) > _VALUES_KEPT:
            _VALUES.clear()
        _VALUES[key] = value
        return value
    except Exception:  # noqa: BLE001 - malformed elements raise many kinds of errors
        return None


#: Decoded values by (tag, VR, raw bytes, byte order, implicit VR, character set).
_VALUES: dict[tuple[Any, ...], Any] = {}
_VALUES_KEPT = 50_000


def _charset(ds: Dataset) -> Any:
    """Return the raw Specific Character Set of ``ds`` (a memo key part), or None."""
    elem = ds._dict.get(0x00080005)  # noqa: SLF001
    if elem is None:
        return getattr(ds, "_character_set", None) and repr(ds._character_set)  # noqa: SLF001
    value = elem.value
    return value if isinstance(value, bytes | str) else repr(value)


def _first(value: Any) -> Any:
    """Return the first item of a multi-valued value (pydicom MultiValue, list, tuple)."""
    if isinstance(value, (list, tuple, MultiValue)):
        return value[0] if len(value) else None
    return value


def to_text(value: Any) -> str | None:
    """Return ``value`` as a stripped string, or None when empty.

    Bytes (private elements read as UN) are decoded as Latin-1 with NULs and padding removed.
    """
    value = _first(value)
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1", errors="replace")
    text = str(value).replace("\x00", "").strip()
    return text or None


def to_float(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it cannot be read as a number.

    Accepts a decimal comma ("70,5") and surrounding junk ("70 kg") that real files carry.
    """
    value = _first(value)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = to_text(value)
        if text is None:
            return None
        text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            match = _NUMBER.search(text)
            if match is None:
                return None
            number = float(match.group(0))
    return number if math.isfinite(number) else None


def _to_int(value: Any) -> int | None:
    number = to_float(value)
    return int(number) if number is not None else None


def _codes(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, str)):
        text = to_text(value)
        items = text.split("\\") if text else []
    else:
        try:
            items = [to_text(v) or "" for v in value]
        except TypeError:
            items = [to_text(value) or ""]
    cleaned = tuple(i.strip().upper() for i in items if i and i.strip())
    return cleaned or None


def _upper(value: Any) -> str | None:
    text = to_text(value)
    return text.upper() if text else None


def _item(ds: Dataset, keyword: str) -> Dataset | None:
    """Return the first item of sequence ``keyword``, or None."""
    seq = _raw(ds, keyword)
    try:
        if seq is not None and len(seq) > 0 and isinstance(seq[0], Dataset):
            return seq[0]
    except TypeError:
        return None
    return None


def private_blocks(ds: Dataset, groups: Iterable[int]) -> dict[tuple[int, str], int]:
    """Map (group, lower-cased private creator) to its block for the private groups asked for.

    One pass over the dataset's tags (PS3.5 7.8.1: creators sit at (gggg,0010-00FF)).
    """
    wanted = set(groups)
    blocks: dict[tuple[int, str], int] = {}
    for tag in ds.keys():
        group, element = tag >> 16, tag & 0xFFFF
        if group not in wanted or not 0x10 <= element <= 0xFF:
            continue
        try:
            name = to_text(ds[tag].value)
        except Exception:  # noqa: BLE001
            continue
        if name:
            blocks.setdefault((group, name.lower()), element)
    return blocks


def find_private(
    ds: Dataset,
    group: int,
    creator: str,
    offset: int,
    *,
    blocks: dict[tuple[int, str], int] | None = None,
) -> Any:
    """Return the value of a private element located through its private creator, or None.

    The creator is matched ignoring case and padding. The element is
    ``(group, block << 8 | offset)`` where ``block`` is the element number of the creator.

    Args:
        ds: the dataset to search.
        group: the odd private group, e.g. ``0x7053``.
        creator: the private creator string, e.g. ``"Philips PET Private Group"``.
        offset: the element's low byte, e.g. ``0x09`` for (7053,xx09).
        blocks: the result of :func:`private_blocks` when several look-ups share one dataset.
    """
    if blocks is None:
        blocks = private_blocks(ds, [group])
    block = blocks.get((group, creator.strip().lower()))
    if block is None:
        return None
    element = Tag(group, (block << 8) | offset)
    if element not in ds:
        return None
    try:
        return ds[element].value
    except Exception:  # noqa: BLE001
        return None


def _functional_group(ds: Dataset, frame: Dataset | None, keyword: str) -> Dataset | None:
    """Return a functional-group macro item, per-frame first, then shared (PS3.3 C.7.6.16)."""
    if frame is not None:
        item = _item(frame, keyword)
        if item is not None:
            return item
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    return _item(shared, keyword) if shared is not None else None


def _frames(ds: Dataset) -> list[Dataset]:
    seq = _raw(ds, "PerFrameFunctionalGroupsSequence")
    try:
        return [item for item in seq if isinstance(item, Dataset)] if seq is not None else []
    except TypeError:
        return []


@dataclass(slots=True)
class _FrameValues:
    reference: list[str] = field(default_factory=list)
    acquisition: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    slopes: list[float] = field(default_factory=list)


def _frame_values(ds: Dataset) -> _FrameValues:
    """Collect per-frame timing and rescale of an enhanced multi-frame image (all or nothing)."""
    values = _FrameValues()
    frames = _frames(ds)
    for frame in frames:
        content = _item(frame, "FrameContentSequence")
        if content is not None:
            reference = to_text(_raw(content, "FrameReferenceDateTime"))
            acquisition = to_text(_raw(content, "FrameAcquisitionDateTime"))
            duration = to_float(_raw(content, "FrameAcquisitionDuration"))
            if reference:
                values.reference.append(reference)
            if acquisition:
                values.acquisition.append(acquisition)
            if duration is not None:
                values.durations.append(duration)
        transform = _functional_group(ds, frame, "PixelValueTransformationSequence")
        slope = to_float(_raw(transform, "RescaleSlope")) if transform is not None else None
        if slope is not None:
            values.slopes.append(slope)
    n = len(frames)
    for name in ("reference", "acquisition", "durations", "slopes"):
        if len(getattr(values, name)) != n:
            setattr(values, name, [])
    return values


def _pixel_transform(ds: Dataset) -> tuple[float | None, float | None, str | None]:
    """Return (RescaleSlope, RescaleIntercept, RescaleType), also from functional groups."""
    slope = to_float(_raw(ds, "RescaleSlope"))
    intercept = to_float(_raw(ds, "RescaleIntercept"))
    rescale_type = to_text(_raw(ds, "RescaleType"))
    if slope is None:
        frames = _frames(ds)
        transform = _functional_group(
            ds, frames[0] if frames else None, "PixelValueTransformationSequence"
        )
        if transform is not None:
            slope = to_float(_raw(transform, "RescaleSlope"))
            intercept = to_float(_raw(transform, "RescaleIntercept"))
            rescale_type = rescale_type or to_text(_raw(transform, "RescaleType"))
    return slope, intercept, rescale_type


def _measurement_units(ds: Dataset, slope: float | None, intercept: float | None) -> str | None:
    """Return the UCUM CodeValue of the Real World Value Mapping that the rescale produces.

    Enhanced PET states its unit only there (PS3.3 C.7.6.16.2.11). With several mappings, the one
    whose slope and intercept equal the Pixel Value Transformation wins (that is the unit of the
    rescaled values); among those, an SUVbw mapping is preferred, as MITK's IBSI reader does.
    """
    frames = _frames(ds)
    holders = [
        ds,
        _functional_group(ds, frames[0] if frames else None, "RealWorldValueMappingSequence"),
    ]
    mappings: list[Dataset] = []
    for holder in holders:
        if holder is None:
            continue
        seq = _raw(holder, "RealWorldValueMappingSequence") if holder is ds else [holder]
        try:
            mappings.extend(m for m in (seq or []) if isinstance(m, Dataset))
        except TypeError:
            continue
    found: list[tuple[bool, bool, str]] = []
    for mapping in mappings:
        units = _item(mapping, "MeasurementUnitsCodeSequence")
        code = to_text(_raw(units, "CodeValue")) if units is not None else None
        if not code:
            continue
        rwv_slope = to_float(_raw(mapping, "RealWorldValueSlope"))
        rwv_intercept = to_float(_raw(mapping, "RealWorldValueIntercept")) or 0.0
        matches = slope is None or (
            rwv_slope is not None
            and math.isclose(rwv_slope, slope, rel_tol=1e-6)
            and math.isclose(rwv_intercept, intercept or 0.0, abs_tol=1e-9)
        )
        found.append((matches, "suvbw" in code.lower(), code))
    if not found:
        return None
    found.sort(key=lambda item: (not item[0], not item[1]))
    return found[0][2]


def read_suv_inputs(ds: Dataset) -> SuvInstanceInputs:
    """Collect the SUV attributes of one instance.

    Args:
        ds: a dataset read by pydicom (pixel data not needed).

    Returns:
        The attributes, with None for each one missing or unreadable. Never raises on bad values.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns on every invalid VR value; we tolerate
        return _read(ds)


def _read(ds: Dataset) -> SuvInstanceInputs:
    pharm = _item(ds, "RadiopharmaceuticalInformationSequence")
    nuclide = _item(pharm, "RadionuclideCodeSequence") if pharm is not None else None

    def pharm_value(keyword: str) -> Any:
        return _raw(pharm, keyword) if pharm is not None else None

    def nuclide_text(keyword: str) -> str | None:
        return to_text(_raw(nuclide, keyword)) if nuclide is not None else None

    blocks = private_blocks(ds, (GE_PET_GROUP, SIEMENS_PET_GROUP, PHILIPS_PET_GROUP))

    def private(group: int, creator: str, offset: int) -> Any:
        return find_private(ds, group, creator, offset, blocks=blocks)

    slope, intercept, rescale_type = _pixel_transform(ds)
    frames = _frame_values(ds)
    acquisition_datetime = to_text(_raw(ds, "AcquisitionDateTime")) or (
        frames.acquisition[0] if frames.acquisition else None
    )
    sex = to_text(_raw(ds, "PatientSex"))
    return SuvInstanceInputs(
        SOPClassUID=to_text(_raw(ds, "SOPClassUID")),
        SOPInstanceUID=to_text(_raw(ds, "SOPInstanceUID")),
        InstanceNumber=_to_int(_raw(ds, "InstanceNumber")),
        Modality=(to_text(_raw(ds, "Modality")) or "").upper() or None,
        SeriesInstanceUID=to_text(_raw(ds, "SeriesInstanceUID")),
        Manufacturer=to_text(_raw(ds, "Manufacturer")),
        Units=to_text(_raw(ds, "Units")),
        CorrectedImage=_codes(_raw(ds, "CorrectedImage")),
        DecayCorrection=(to_text(_raw(ds, "DecayCorrection")) or "").upper() or None,
        SeriesDate=to_text(_raw(ds, "SeriesDate")),
        SeriesTime=to_text(_raw(ds, "SeriesTime")),
        AcquisitionDate=to_text(_raw(ds, "AcquisitionDate")),
        AcquisitionTime=to_text(_raw(ds, "AcquisitionTime")),
        AcquisitionDateTime=acquisition_datetime,
        FrameReferenceTime=to_float(_raw(ds, "FrameReferenceTime")),
        ActualFrameDuration=to_float(_raw(ds, "ActualFrameDuration")),
        DecayFactor=to_float(_raw(ds, "DecayFactor")),
        PatientWeight=to_float(_raw(ds, "PatientWeight")),
        PatientSize=to_float(_raw(ds, "PatientSize")),
        PatientSex=sex.upper() if sex else None,
        SUVType=(to_text(_raw(ds, "SUVType")) or "").upper() or None,
        RescaleSlope=slope,
        RescaleIntercept=intercept,
        TimezoneOffsetFromUTC=to_text(_raw(ds, "TimezoneOffsetFromUTC")),
        RadiopharmaceuticalStartDateTime=to_text(pharm_value("RadiopharmaceuticalStartDateTime")),
        RadiopharmaceuticalStartTime=to_text(pharm_value("RadiopharmaceuticalStartTime")),
        RadionuclideTotalDose=to_float(pharm_value("RadionuclideTotalDose")),
        RadionuclideHalfLife=to_float(pharm_value("RadionuclideHalfLife")),
        Radiopharmaceutical=to_text(pharm_value("Radiopharmaceutical")),
        RadionuclideCodeValue=nuclide_text("CodeValue"),
        RadionuclideCodingSchemeDesignator=nuclide_text("CodingSchemeDesignator"),
        RadionuclideCodeMeaning=nuclide_text("CodeMeaning"),
        DecayCorrected=_upper(_raw(ds, "DecayCorrected")),
        AttenuationCorrected=_upper(_raw(ds, "AttenuationCorrected")),
        DecayCorrectionDateTime=to_text(_raw(ds, "DecayCorrectionDateTime")),
        FrameReferenceDateTimes=tuple(frames.reference) or None,
        FrameAcquisitionDateTimes=tuple(frames.acquisition) or None,
        FrameAcquisitionDurations=tuple(frames.durations) or None,
        FrameRescaleSlopes=tuple(frames.slopes) or None,
        MeasurementUnits=_measurement_units(ds, slope, intercept),
        RescaleType=rescale_type,
        siemens_decay_correction_datetime=to_text(
            private(SIEMENS_PET_GROUP, SIEMENS_PET_CREATOR, SIEMENS_DECAY_CORRECTION_DATETIME)
        ),
        ge_scan_datetime=to_text(private(GE_PET_GROUP, GE_PET_CREATOR, GE_SCAN_DATETIME)),
        ge_admin_datetime=to_text(private(GE_PET_GROUP, GE_PET_CREATOR, GE_ADMIN_DATETIME)),
        philips_suv_scale_factor=to_float(
            private(PHILIPS_PET_GROUP, PHILIPS_PET_CREATOR, PHILIPS_SUV_SCALE_FACTOR)
        ),
        philips_activity_concentration_scale_factor=to_float(
            private(PHILIPS_PET_GROUP, PHILIPS_PET_CREATOR, PHILIPS_ACTIVITY_SCALE_FACTOR)
        ),
    )


# ---------------------------------------------------------------------------------------------
# Reading local files for the `dicom suv` diagnostic command.


@dataclass(slots=True)
class SuvSeriesInputs:
    """The SUV inputs of one series found in local files, in file order."""

    series_instance_uid: str | None
    modality: str | None
    instances: list[SuvInstanceInputs] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def is_dicom_file(path: Path) -> bool:
    """Return True when ``path`` holds DICOM by content: a DICM preamble or a parseable header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    # No preamble: accept a raw data set that starts with a group 0x0002/0x0008 element.
    return len(head) >= 4 and head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0


def read_file_suv_inputs(path: Path) -> SuvInstanceInputs:
    """Read one file's header and collect its SUV inputs.

    Raises:
        InvalidDicomError: when the file is not DICOM or its header cannot be parsed.
    """
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except InvalidDicomError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt files raise anything
        raise InvalidDicomError(f"cannot parse the DICOM header: {exc}") from exc
    if "SOPClassUID" not in ds and "Modality" not in ds:
        raise InvalidDicomError("no SOPClassUID or Modality: not a DICOM image")
    return read_suv_inputs(ds)


def collect_series(
    files: Iterable[Path],
) -> tuple[list[SuvSeriesInputs], list[tuple[Path, str]]]:
    """Read every DICOM file in ``files`` and group their SUV inputs by series.

    Args:
        files: candidate files (non-DICOM ones are skipped by content).

    Returns:
        The series (in order of first appearance) and the skipped files with the reason.
    """
    series: dict[str | None, SuvSeriesInputs] = {}
    skipped: list[tuple[Path, str]] = []
    for path in files:
        if not is_dicom_file(path):
            skipped.append((path, "not DICOM"))
            continue
        try:
            inputs = read_file_suv_inputs(path)
        except InvalidDicomError as exc:
            logger.debug("skipping %s: %s", path, exc)
            skipped.append((path, str(exc)))
            continue
        key = inputs.SeriesInstanceUID
        entry = series.get(key)
        if entry is None:
            entry = series[key] = SuvSeriesInputs(key, inputs.Modality)
        entry.instances.append(inputs)
        entry.files.append(path)
    return list(series.values()), skipped
