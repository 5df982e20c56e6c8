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
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from theragraph.records.suv import SuvInstanceInputs

logger = logging.getLogger(__name__)

# Private creators and element offsets (the low byte of the element number) SUV reads.
GE_PET_CREATOR = "GEMS_PETD_01"
GE_PET_GROUP = 0x0009
GE_SCAN_DATETIME = 0x0D  # (0009,xx0D) PET scan_datetime (DT); QIBA SUV: GE scan-time branch
GE_ADMIN_DATETIME = 0x3B  # (0009,xx3B) PET admin_datetime (DT)
PHILIPS_PET_CREATOR = "Philips PET Private Group"
PHILIPS_PET_GROUP = 0x7053
PHILIPS_SUV_SCALE_FACTOR = 0x00  # (7053,xx00) SUV Scale Factor (DS)
PHILIPS_ACTIVITY_SCALE_FACTOR = 0x09  # (7053,xx09) Activity Concentration Scale Factor (DS)

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _raw(ds: Dataset, keyword: str) -> Any:
    """Return the value of ``keyword`` in ``ds`` or None (never raises)."""
    try:
        elem = ds.data_element(keyword)
    except Exception:  # noqa: BLE001 - malformed elements raise many kinds of errors
        return None
    if elem is None:
        return None
    try:
        return elem.value
    except Exception:  # noqa: BLE001
        return None


def _first(value: Any) -> Any:
    """Return the first item of a multi-valued value (pydicom MultiValue, list, tuple)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
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


def _item(ds: Dataset, keyword: str) -> Dataset | None:
    """Return the first item of sequence ``keyword``, or None."""
    seq = _raw(ds, keyword)
    try:
        if seq is not None and len(seq) > 0 and isinstance(seq[0], Dataset):
            return seq[0]
    except TypeError:
        return None
    return None


def find_private(ds: Dataset, group: int, creator: str, offset: int) -> Any:
    """Return the value of a private element located through its private creator, or None.

    The creator is matched ignoring case and padding. The element is
    ``(group, block << 8 | offset)`` where ``block`` is the element number of the creator.

    Args:
        ds: the dataset to search.
        group: the odd private group, e.g. ``0x7053``.
        creator: the private creator string, e.g. ``"Philips PET Private Group"``.
        offset: the element's low byte, e.g. ``0x09`` for (7053,xx09).
    """
    wanted = creator.strip().lower()
    for block in range(0x10, 0x100):
        tag = Tag(group, block)
        if tag not in ds:
            continue
        try:
            name = to_text(ds[tag].value)
        except Exception:  # noqa: BLE001
            continue
        if name is None or name.lower() != wanted:
            continue
        element = Tag(group, (block << 8) | offset)
        if element not in ds:
            continue
        try:
            return ds[element].value
        except Exception:  # noqa: BLE001
            return None
    return None


def _pixel_transform(ds: Dataset) -> tuple[float | None, float | None]:
    """Return (RescaleSlope, RescaleIntercept), also from enhanced multi-frame functional groups."""
    slope = to_float(_raw(ds, "RescaleSlope"))
    intercept = to_float(_raw(ds, "RescaleIntercept"))
    if slope is None:
        for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            group = _item(ds, groups)
            transform = _item(group, "PixelValueTransformationSequence") if group else None
            if transform is not None:
                slope = to_float(_raw(transform, "RescaleSlope"))
                intercept = to_float(_raw(transform, "RescaleIntercept"))
                break
    return slope, intercept


def _frame_acquisition_datetime(ds: Dataset) -> str | None:
    """Return the first frame's FrameAcquisitionDateTime of an enhanced multi-frame image."""
    frame = _item(ds, "PerFrameFunctionalGroupsSequence")
    content = _item(frame, "FrameContentSequence") if frame is not None else None
    return to_text(_raw(content, "FrameAcquisitionDateTime")) if content is not None else None


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

    slope, intercept = _pixel_transform(ds)
    acquisition_datetime = to_text(_raw(ds, "AcquisitionDateTime")) or _frame_acquisition_datetime(
        ds
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
        ge_scan_datetime=to_text(find_private(ds, GE_PET_GROUP, GE_PET_CREATOR, GE_SCAN_DATETIME)),
        ge_admin_datetime=to_text(
            find_private(ds, GE_PET_GROUP, GE_PET_CREATOR, GE_ADMIN_DATETIME)
        ),
        philips_suv_scale_factor=to_float(
            find_private(ds, PHILIPS_PET_GROUP, PHILIPS_PET_CREATOR, PHILIPS_SUV_SCALE_FACTOR)
        ),
        philips_activity_concentration_scale_factor=to_float(
            find_private(ds, PHILIPS_PET_GROUP, PHILIPS_PET_CREATOR, PHILIPS_ACTIVITY_SCALE_FACTOR)
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
            skipped.append((path, str(exc)))
            continue
        key = inputs.SeriesInstanceUID
        entry = series.get(key)
        if entry is None:
            entry = series[key] = SuvSeriesInputs(key, inputs.Modality)
        entry.instances.append(inputs)
        entry.files.append(path)
    return list(series.values()), skipped

