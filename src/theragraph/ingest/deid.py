"""De-identify one pydicom dataset into plain values (design §4, PS3.15 Annex E).

Applies the Basic Application Level Confidentiality Profile with the options *Retain
Longitudinal Temporal Information with Modified Dates* (per-patient whole-day shift, times of
day kept) and *Retain Patient Characteristics* (sex, age, weight, size). Which attribute gets
which action is data: ``theragraph/data/deid_actions.yaml`` (PS3.15 Table E.1-1). Every UID that
is not a well-known DICOM UID is replaced consistently through :meth:`Pseudonymizer.uid`, in
nested sequences too, so references still resolve. Private tags are always removed.

This module returns plain values; it never imports rdflib or pyoxigraph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

import struct
import warnings

import yaml
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag
from pydicom.uid import UID_dictionary
from pydicom.valuerep import DA, DT, TM

from theragraph.records.dicom import RecordIssue
from theragraph.resources import data_path

if TYPE_CHECKING:  # the object is passed in; importing ids would pull in rdflib
    from theragraph.ids import Pseudonymizer

#: Maximum nesting depth of sequences we descend into (deeper content is dropped).
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class DeidPolicy:
    """The decision table loaded from ``deid_actions.yaml``.

    Attributes:
        actions: Basic Profile action code per tag (int).
        always_remove: tags removed whatever the options say.
        retain: tags kept by the Retain Patient Characteristics / Longitudinal options.
        vr_rules: action per VR (``remove``, ``uid``, ``shift``).
        repeating_masks: group prefixes (``0x5000``, ``0x6000``) whose tags are removed.
        source: the standard and version the table comes from.
    """

    actions: dict[int, str]
    always_remove: frozenset[int]
    retain: frozenset[int]
    vr_rules: dict[str, str]
    repeating_masks: frozenset[int]
    standard_uid_roots: tuple[str, ...] = ()
    source: str = ""


@lru_cache
def load_policy() -> DeidPolicy:
    """Load and cache the de-identification table.

    Raises:
        FileNotFoundError: when the packaged table is missing.
    """
    raw = yaml.safe_load(data_path("deid_actions.yaml").read_text())
    actions: dict[int, str] = {}
    for code, tags in raw["actions"].items():
        for tag in tags:
            actions[int(tag, 16)] = code
    masks = frozenset(int(g.replace("xx", "00"), 16) for g in raw.get("repeating_groups_remove", []))
    retain = {int(t, 16) for t in raw.get("retain_patient_characteristics", [])}
    retain |= {int(t, 16) for t in raw.get("retain_longitudinal", [])}
    return DeidPolicy(
        actions=actions,
        always_remove=frozenset(int(t, 16) for t in raw.get("always_remove", [])),
        retain=frozenset(retain),
        vr_rules=dict(raw.get("vr_rules", {})),
        repeating_masks=masks,
        source=str(raw.get("source", "")),
        standard_uid_roots=tuple(raw.get("standard_uid_roots", [])),
    )


@dataclass(slots=True)
class DeidResult:
    """Attributes that survived de-identification, and what was dropped."""

    attributes: dict[str, Any] = field(default_factory=dict)
    issues: list[RecordIssue] = field(default_factory=list)
    private_dropped: int = 0
    invalid_dropped: int = 0


class Deidentifier:
    """Applies a :class:`DeidPolicy` to datasets of one patient."""

    def __init__(self, pseudonymizer: Pseudonymizer, patient: str, *, policy: DeidPolicy | None = None):
        """Create a de-identifier for one patient.

        Args:
            pseudonymizer: keyed pseudonymizer (UIDs and the date shift).
            patient: the patient pseudonym (decides the date shift).
            policy: the decision table (default: the packaged one).
        """
        self.pseudonymizer = pseudonymizer
        self.policy = policy or load_policy()
        self.shift: timedelta = pseudonymizer.date_shift(patient)
        # The instances of a series repeat most of their header byte for byte; the outcome of a
        # top-level element depends only on (tag, VR, bytes, byte order) for one patient, so it
        # is decided once. Entries that raised an issue are never memoised.
        self._memo: dict[tuple[Any, ...], dict[tuple[Any, ...], tuple[Any, ...]]] = {}

    # -- decisions ---------------------------------------------------------------------------

    def _table_removes(self, tag: int) -> bool:
        """Return True when the table alone removes ``tag`` (VR not yet known)."""
        if tag in self.policy.always_remove:
            return True
        return ((tag >> 16) & 0xFF00) in self.policy.repeating_masks

    def _action(self, tag: int, vr: str) -> str:
        """Return ``keep``, ``remove``, ``uid``, ``shift`` or ``clean`` (sequences)."""
        rule = self.policy.vr_rules.get(vr)
        if rule in ("uid", "shift"):
            return rule  # U, and the Modified Dates option for DA/DT (C in E.1-1)
        if rule == "remove":
            return "remove"
        code = self.policy.actions.get(tag)
        if code is None or tag in self.policy.retain:
            return "clean" if vr == "SQ" else "keep"
        if vr == "TM":
            return "keep"  # Retain Longitudinal Temporal Information: times of day are kept
        if vr == "SQ" and "U" in code:
            return "clean"  # X/Z/U*: keep the references, cleaned item by item
        return "remove"

    # -- conversion --------------------------------------------------------------------------

    def deidentify(self, ds: Dataset) -> DeidResult:
        """Return the de-identified attributes of ``ds`` by keyword.

        Values that cannot be decoded (bad VR, wrong length, odd character set) are dropped
        with a ``read.invalid-value`` warning that names the tag, never the value.
        """
        result = DeidResult()
        result.attributes = self._dataset(ds, result, depth=0)
        if result.private_dropped:
            result.issues.append(RecordIssue(
                code="deid.private-dropped", severity="info",
                message=f"{result.private_dropped} private attribute(s) removed",
            ))
        return result

    def _dataset(self, ds: Dataset, result: DeidResult, *, depth: int) -> dict[str, Any]:
        if depth == 0:
            return self._top_level(ds, result)
        out: dict[str, Any] = {}
        for raw_tag in list(ds.keys()):
            self._element(ds, raw_tag, result, depth, out)
        return out

    def _top_level(self, ds: Dataset, result: DeidResult) -> dict[str, Any]:
        """De-identify the top level of ``ds``, reusing decisions on byte-identical elements."""
        out: dict[str, Any] = {}
        elements = ds._dict  # noqa: SLF001 - raw access skips pydicom's slow path
        # text decoding and ambiguous VRs depend on these two, so memo entries are kept apart
        context = (_raw_bytes(elements.get(0x00080005)), _raw_bytes(elements.get(0x00280103)))
        memo = self._memo.setdefault(context, {})
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        for raw_tag in list(elements):
            raw = elements[raw_tag]
            key = None
            if type(raw) is RawDataElement and type(raw.value) is bytes:
                key = (raw.tag, raw.VR, raw.value, raw.is_little_endian)
                hit = memo.get(key)
                if hit is not None:
                    keyword, value, private, caught = hit
                    result.private_dropped += private
                    for warning in caught:  # the parser's warnings count once per file
                        warnings.warn_explicit(warning.message, warning.category,
                                               warning.filename, warning.lineno)
                    if keyword is not None:
                        out[keyword] = value
                    continue
            issues, private = len(result.issues), result.private_dropped
            decided: dict[str, Any] = {}
            if key is not None and not _decoded_here(raw):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    self._element(ds, raw_tag, result, 0, decided)
                for warning in caught:
                    warnings.warn_explicit(warning.message, warning.category,
                                           warning.filename, warning.lineno)
            else:
                caught = []
                self._element(ds, raw_tag, result, 0, decided)
            if key is not None and len(result.issues) == issues:
                keyword, value = next(iter(decided.items()), (None, None))
                memo[key] = (keyword, value, result.private_dropped - private, tuple(caught))
            out.update(decided)
        return out

    def _element(
        self, ds: Dataset, raw_tag: Any, result: DeidResult, depth: int, out: dict[str, Any]
    ) -> None:
        """Decide one element of ``ds``; put its keyword and cleaned value in ``out`` if kept."""
        tag = int(raw_tag)
        group = tag >> 16
        if group == 0x0002 and depth == 0:
            if tag != 0x00020010:  # keep only the transfer syntax of the File Meta
                return
        if group & 1:
            result.private_dropped += 1
            return
        if self._table_removes(tag) or (tag & 0xFFFF) == 0:  # group lengths carry nothing
            return
        keyword = _KEYWORDS.get(tag)
        if keyword is None:
            keyword = keyword_for_tag(tag)
            _KEYWORDS[tag] = keyword
        if not keyword:
            return  # not in the public dictionary: cannot tell what it holds
        raw = ds._dict.get(raw_tag)  # noqa: SLF001 - raw access skips pydicom's slow path
        try:
            fast = fast_raw_value(raw, ds) if isinstance(raw, RawDataElement) else _SLOW
            if fast is not _SLOW:
                vr, value = fast
                action = self._action(tag, vr)
                if action == "remove":
                    return
                value = self._value(value, vr, action, result, depth)
            else:
                elem = ds[raw_tag]
                vr = str(elem.VR)
                action = self._action(tag, vr)
                if action == "remove":
                    return
                value = self._value(elem.value, vr, action, result, depth)
        except Exception:  # noqa: BLE001 - malformed element or undecodable value
            self._invalid(result, tag)
            return
        if value is None or value == "" or value == ():
            return
        out[keyword] = value

    def _invalid(self, result: DeidResult, tag: int) -> None:
        result.invalid_dropped += 1
        result.issues.append(RecordIssue(
            code="read.invalid-value",
            message="attribute value cannot be decoded and was dropped",
            location=f"({tag >> 16:04X},{tag & 0xFFFF:04X})",
        ))

    def _value(self, value: Any, vr: str, action: str, result: DeidResult, depth: int) -> Any:
        if vr == "SQ":
            if depth >= MAX_DEPTH or not isinstance(value, DicomSequence | list):
                return None
            items = []
            for item in value:
                cleaned = self._dataset(item, result, depth=depth + 1)
                if cleaned:
                    items.append(tuple(cleaned.items()))  # file order = tag order
            return tuple(items)
        if isinstance(value, MultiValue | list | tuple):
            converted = tuple(
                v for v in (self._scalar(x, vr, action) for x in value) if v is not None and v != ""
            )
            if len(converted) == 1:
                return converted[0]
            return converted
        return self._scalar(value, vr, action)

    def _scalar(self, value: Any, vr: str, action: str) -> Any:
        if value is None:
            return None
        if action == "uid":
            text = str(value).strip().rstrip("\x00")
            if not text:
                return None
            if text in UID_dictionary or text.startswith(self.policy.standard_uid_roots):
                return text
            return self.pseudonymizer.uid(text)
        if vr == "DA":
            parsed = to_date(value)
            return parsed + self.shift if parsed is not None else None
        if vr == "DT":
            parsed_dt = to_datetime(value)
            return parsed_dt + self.shift if parsed_dt is not None else None
        if vr == "TM":
            return to_time(value)
        if vr in ("DS", "FL", "FD", "OF", "OD"):
            return float(value)
        if vr in ("IS", "SL", "SS", "UL", "US", "SV", "UV"):
            return int(value)
        if vr == "AT":
            tag = BaseTag(int(value))
            return f"({tag.group:04X},{tag.element:04X})"
        if isinstance(value, bytes):
            return None
        return str(value).strip()


_SLOW = object()
#: Memoised element decisions kept per de-identifier before the memo is emptied.
_MEMO_LIMIT = 20_000
_KEYWORDS: dict[int, str] = {}
#: VRs whose raw bytes are plain ASCII text split on backslashes (PS3.5 6.2).
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "SH", "LO", "UC", "UR"})
_BINARY = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}


def fast_raw_value(raw: RawDataElement, ds: Dataset) -> Any:
    """Decode a raw element's bytes for the common VRs, or return ``_SLOW`` for pydicom to do.

    pydicom's general conversion (hooks, validation, character sets) dominates header reading;
    plain ASCII strings and fixed-size numbers are decoded here directly. Anything else (non-ASCII
    text, sequences, ambiguous VRs) goes through pydicom.
    """
    vr = raw.VR or _dictionary_vr(raw.tag)
    if vr is None:
        return _SLOW
    data = raw.value
    if data is None:
        return vr, None
    if not isinstance(data, bytes):
        return _SLOW
    if vr in _TEXT_VRS:
        if not data.isascii() or b"\x1b" in data:
            return _SLOW  # a character set is in play: let pydicom decode it
        text = data.decode("ascii").rstrip(" \x00")
        if not text:
            return vr, None
        parts = [p.strip() for p in text.split("\\")]
        if vr in ("DS", "IS"):
            conv: list[Any] = [float(p) if vr == "DS" else int(float(p)) for p in parts if p]
        else:
            conv = parts
        return vr, (conv[0] if len(conv) == 1 else tuple(conv))
    code = _BINARY.get(vr)
    if code is not None:
        size = struct.calcsize(code)
        if len(data) % size:
            return _SLOW
        values = struct.unpack(("<" if raw.is_little_endian else ">") + code * (len(data) // size), data)
        return vr, (values[0] if len(values) == 1 else tuple(values))
    return _SLOW


def _decoded_here(raw: RawDataElement) -> bool:
    """Return True when :func:`fast_raw_value` decodes ``raw`` itself (pydicom cannot warn)."""
    vr = raw.VR
    if vr in _BINARY:
        return True
    data = raw.value
    return vr in _TEXT_VRS and data.isascii() and b"\x1b" not in data


def _raw_bytes(elem: Any) -> Any:
    """Return the raw bytes of an element (its value when already converted), or None."""
    if elem is None:
        return None
    value = elem.value
    return value if isinstance(value, bytes | str | int | float | None) else repr(value)


def raw_text(ds: Dataset, keyword: str) -> str:
    """Return a top-level text attribute of ``ds`` as a stripped string ('' when absent/bad)."""
    tag = tag_for_keyword(keyword)
    raw = ds._dict.get(tag) if tag is not None else None  # noqa: SLF001
    if raw is None:
        return ""
    if isinstance(raw, RawDataElement):
        try:
            fast = fast_raw_value(raw, ds)
        except (ValueError, UnicodeDecodeError, struct.error):
            fast = _SLOW
        if fast is not _SLOW:
            value = fast[1]
            return "" if value is None else str(value[0] if isinstance(value, tuple) else value)
    try:
        value = ds[tag].value
    except Exception:  # noqa: BLE001 - undecodable value counts as absent
        return ""
    if value is None:
        return ""
    return str(value).strip().rstrip("\x00")


def _dictionary_vr(tag: int) -> str | None:
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return vr if len(vr) == 2 else None  # 'US or SS' and the like: pydicom resolves these


def to_date(value: Any) -> date | None:
    """Parse a DICOM DA value (``YYYYMMDD``; ``YYYY.MM.DD`` tolerated) to a date, or None."""
    if isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    text = str(value).strip().replace(".", "").replace("-", "")
    if not text:
        return None
    parsed = DA(text)
    return date(parsed.year, parsed.month, parsed.day)


def to_time(value: Any) -> time | None:
    """Parse a DICOM TM value (``HH[MM[SS[.F]]]``; ``HH:MM:SS`` tolerated) to a time, or None."""
    if isinstance(value, time):
        return value
    text = str(value).strip().replace(":", "")
    if not text:
        return None
    parsed = TM(text)
    return time(parsed.hour, parsed.minute, parsed.second, parsed.microsecond)


def to_datetime(value: Any) -> datetime | None:
    """Parse a DICOM DT value (``YYYYMMDDHHMMSS.FFFFFF&ZZXX``, parts optional), or None.

    The UTC offset suffix, when present, becomes the tzinfo.
    """
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    parsed = DT(text)
    return datetime(
        parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
        parsed.microsecond, tzinfo=parsed.tzinfo,
    )


def to_timezone(offset: str | None) -> timezone | None:
    """Parse TimezoneOffsetFromUTC (``+HHMM`` / ``-HHMM``) into a timezone, or None."""
    if not offset:
        return None
    text = str(offset).strip()
    if len(text) != 5 or text[0] not in "+-" or not text[1:].isdigit():
        return None
    minutes = int(text[1:3]) * 60 + int(text[3:5])
    return timezone(timedelta(minutes=minutes if text[0] == "+" else -minutes))
