"""``theragraph ingest`` on FHIR: found by content, exit codes, report JSON with stable codes."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import fhir_builders as fb
from theragraph.cli.main import app
from theragraph.config import get_settings
from theragraph.store.oxigraph import OxigraphStore
from theragraph.vocab import TG

pytestmark = pytest.mark.integration


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THERAGRAPH_SECRET", "cli-test-secret-0123456789abcdef0123")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_ingests_fhir_bundle_and_ndjson(tmp_path: Path, secret_env: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    fb.write_json(data / "bundle", fb.bundle([fb.patient("p1", mrn="M1"), fb.psa("o1", "p1", 3.0, "2021-01-01")]))
    fb.write_ndjson(data / "export.ndjson", [fb.psa("o2", "p1", 2.0, "2021-02-01")])
    result = CliRunner().invoke(app, ["ingest", str(data), "--store", str(tmp_path / "s"), "--no-progress"])
    assert result.exit_code == 0, result.output
    del result  # its exc_info (typer.Exit) keeps the command's frame, and so its store, alive
    gc.collect()
    store = OxigraphStore(tmp_path / "s")
    rows = list(store.query(f"PREFIX tg: <{TG}> SELECT ?o WHERE {{ ?o a tg:TumorMarkerTest ; tg:hasPatient ?p . ?p a tg:Patient }}"))
    assert len(rows) == 2


def test_cli_exit_1_and_report_codes_for_bad_fhir(tmp_path: Path, secret_env: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.json").write_text('{"resourceType": "Observation", "id": "x", ')
    fb.write_json(data / "ok.json", fb.patient("p1", mrn="M1"))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["ingest", str(data), "--store", str(tmp_path / "s"), "--no-progress",
                                      "--report", str(report)])
    assert result.exit_code == 1
    files = json.loads(report.read_text())["files"]
    codes = {(f["path"], i["code"]) for f in files for i in f["issues"]}
    assert ("broken.json", "read.invalid-json") in codes
    assert any(f["path"] == "ok.json" and f["status"] == "ingested" for f in files)


def test_default_workers_follow_the_cpus_up_to_a_cap(monkeypatch) -> None:  # noqa: ANN001
    from theragraph.cli import ingest

    monkeypatch.setattr(ingest.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert ingest.default_workers() == ingest.MAX_DEFAULT_WORKERS
    monkeypatch.setattr(ingest.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert ingest.default_workers() == 1
