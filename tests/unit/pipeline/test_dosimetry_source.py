"""Sniffing of dosimetry reports (JSON and CSV) by content."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders_dosimetry import report_csv, report_document
from theragraph.pipeline.dosimetry_source import DosimetryHandler


def test_sniff_by_content_not_by_name(tmp_path: Path) -> None:
    handler = DosimetryHandler()
    report = json.dumps(report_document(), indent=2).encode()
    assert handler.sniff(tmp_path / "x.dat", report[:4096])
    assert handler.sniff(tmp_path / "x.txt", report_csv().encode()[:4096])
    fhir = json.dumps({"resourceType": "Patient", "id": "p"}).encode()
    assert not handler.sniff(tmp_path / "report.json", fhir)
    assert not handler.sniff(tmp_path / "a.csv", b"a,b,c\n1,2,3\n")
    assert not handler.sniff(tmp_path / "x.dcm", b"\0" * 128 + b"DICM")
