"""Parse DICOM DA, TM and DT values (PS3.5 6.2), tolerating the deviations real files carry.

Pure functions; no time zone is assumed here: :func:`parse_dt` returns the explicit offset, if
any, and the caller decides what a naive value means.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

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
