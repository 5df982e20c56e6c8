"""Read the dosimetry CSV long format (docs/dosimetry-format.md) into report documents.

One row per value: ``report_id,section,item,field,value,unit``. Rows are grouped by
``report_id`` and rebuilt into the JSON report documents of format v1, which then go through the
same reader (:func:`theragraph.ingest.dosimetry.read_report`), so both formats give the same
records and the same issue codes. Knows nothing about RDF.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from theragraph.report import Issue

HEADER = ("report_id", "section", "item", "field", "value", "unit")
_INTEGERS = {"cycle_number", "roi_number", "segment_number"}
_NUMBERS = {"hours_post_administration", "r_squared", "aic", "uncertainty_percent", "value"}
_QUANTITIES = {
    "administered_activity",
    "mass",
    "volume",
    "time_integrated_activity",
    "absorbed_dose",
    "absorbed_dose_per_activity",
    "calibration_factor",
}
_LIST_SECTIONS = {"time_point": "time_points", "voi": "vois"}
_OBJECT_SECTIONS = {"patient", "therapy_cycle", "method"}


def is_csv_header(head: bytes) -> bool:
    """Return True when the first line of ``head`` is the long-format header."""
    first = head.split(b"\n", 1)[0].strip().lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace")
    return tuple(c.strip() for c in first.split(",")) == HEADER


def _number(text: str, integer: bool) -> float | int | str:
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return text  # left as text: the schema reports it with its pointer


def _set(target: dict[str, Any], dotted: str, value: Any, unit: str) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    leaf = parts[-1]
    if leaf in _QUANTITIES and unit:
        entry = target.setdefault(leaf, {})
        entry["value"] = _number(value, False)
        entry["unit"] = unit
    elif "parameters" in parts[:-1]:
        target[leaf] = _number(value, False)
    elif leaf in _INTEGERS:
        target[leaf] = _number(value, True)
    elif leaf in _NUMBERS:
        target[leaf] = _number(value, False)
    else:
        target[leaf] = value


def read_csv_documents(content: bytes) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Rebuild report documents from CSV bytes.

    Returns:
        The documents in first-seen order, and issues for rows that cannot be placed
        (``read.csv-row``, located as ``line N``).
    """
    text = content.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    documents: dict[str, dict[str, Any]] = {}
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    issues: list[Issue] = []
    next(reader, None)  # header, checked by the sniffer
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            issues.append(
                Issue(
                    code="read.csv-row",
                    location=f"line {line}",
                    message=f"expected {len(HEADER)} columns, found {len(row)}",
                )
            )
            continue
        report_id, section, item, field, value, unit = (c.strip() for c in row)
        doc = documents.setdefault(
            report_id,
            {
                "format": "theragraph-dosimetry-report",
                "format_version": "1.0",
                "report_id": report_id,
                "time_points": [],
                "vois": [],
            },
        )
        if section == "report":
            _set(doc, field, value, unit)
        elif section in _OBJECT_SECTIONS:
            _set(doc.setdefault(section, {}), field, value, unit)
        elif section in _LIST_SECTIONS:
            if not item:
                issues.append(
                    Issue(
                        code="read.csv-row",
                        location=f"line {line}",
                        message=f"section {section!r} needs an item id",
                    )
                )
                continue
            key = (report_id, section, item)
            if key not in items:
                items[key] = {"id": item}
                doc[_LIST_SECTIONS[section]].append(items[key])
            entry = items[key]
            if section == "voi" and field.startswith("activities."):
                _set_activity(entry, field.split(".", 2)[1:], value, unit)
            else:
                _set(entry, field, value, unit)
        else:
            issues.append(
                Issue(
                    code="read.csv-row",
                    location=f"line {line}",
                    message=f"unknown section {section!r}; see docs/dosimetry-format.md",
                )
            )
    return list(documents.values()), issues


def _set_activity(voi: dict[str, Any], rest: list[str], value: str, unit: str) -> None:
    time_point = rest[0]
    activities = voi.setdefault("activities", [])
    entry = next((a for a in activities if a["time_point"] == time_point), None)
    if entry is None:
        entry = {"time_point": time_point}
        activities.append(entry)
    if len(rest) == 1:
        entry["value"] = _number(value, False)
        entry["unit"] = unit
    else:
        entry[rest[1]] = _number(value, False)
