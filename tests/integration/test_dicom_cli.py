"""``theragraph ingest`` on DICOM: exit codes (CliRunner and a real subprocess), SIGKILL safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.dicom_builders import write_pet_series
from tests.integration.dicom_cohort import write_cohort
from theragraph.cli.main import app
from theragraph.config import get_settings
from theragraph.store.oxigraph import OxigraphStore
from theragraph.vocab import PROV, TG

pytestmark = pytest.mark.integration
SECRET = "cli-test-secret-0123456789abcdef0123"


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("THERAGRAPH_SECRET", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _run(args: list[str]):
    return CliRunner().invoke(app, args)


def test_exit_0_when_every_file_lands_and_1_with_a_junk_file(tmp_path, secret_env):
    clean = write_cohort(tmp_path / "clean", junk=False)
    result = _run(["ingest", str(clean.root), "--store", str(tmp_path / "s1"), "--no-progress"])
    assert result.exit_code == 0, result.output
    dirty = write_cohort(tmp_path / "dirty", junk=True)
    report = tmp_path / "report.json"
    result = _run(["ingest", str(dirty.root), "--store", str(tmp_path / "s2"), "--no-progress",
                   "--report", str(report)])
    assert result.exit_code == 1
    assert '"read.unknown-format"' in report.read_text()


def test_exit_3_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("THERAGRAPH_SECRET", raising=False)
    monkeypatch.delenv("THERAGRAPH_SECRET_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    get_settings.cache_clear()
    try:
        write_pet_series(tmp_path / "pet", 2)
        result = _run(["ingest", str(tmp_path / "pet"), "--store", str(tmp_path / "s"), "--no-progress"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 3
    assert not (tmp_path / "s").exists() or not OxigraphStore(tmp_path / "s").count_quads()


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "theragraph.cli.main", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERAGRAPH_")}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def test_subprocess_exit_codes(tmp_path):
    cohort = write_cohort(tmp_path / "c", junk=True)
    proc = _cli("ingest", str(cohort.root), "--store", str(tmp_path / "s"), "--no-progress",
                env=_env(THERAGRAPH_SECRET=SECRET))
    proc.communicate(timeout=120)
    assert proc.returncode == 1
    proc = _cli("ingest", str(cohort.root), "--store", str(tmp_path / "s2"), "--no-progress", env=_env())
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3 and "THERAGRAPH_SECRET" in err


def test_sigkill_mid_ingest_leaves_each_series_graph_complete_or_absent(tmp_path):
    root = tmp_path / "many"
    for i in range(100):
        write_pet_series(root / f"s{i:03d}", 8)
    store_dir = tmp_path / "store"
    proc = _cli("--verbose", "ingest", str(root), "--store", str(store_dir), "--no-progress",
                env=_env(THERAGRAPH_SECRET=SECRET))
    assert proc.stderr is not None
    batches = 0
    deadline = time.monotonic() + 120
    for line in proc.stderr:  # the handler logs each batch before the pipeline writes it
        if "dicom: writing batch" in line:
            batches += 1
            if batches == 2:  # batch 1 is in the store, batch 2 is being written
                break
        if time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert batches == 2, "the ingest ended before it could be killed"
    store = OxigraphStore(store_dir)  # opens after a crash
    graphs = [g for g in store.named_graphs() if "/dicom-series/" in g]
    assert 0 < len(graphs) < 100
    for graph in graphs:
        rows = list(store.query(
            f"SELECT ?g ?n (COUNT(DISTINCT ?i) AS ?found) ?t WHERE {{ GRAPH ?g {{"
            f" ?s <{TG.instanceCount}> ?n . ?i <{TG.inSeries}> ?s ."
            f" ?g <{PROV.generatedAtTime}> ?t }} }} GROUP BY ?g ?n ?t",
            substitutions={"g": __import__("pyoxigraph").NamedNode(graph)},
        ))
        assert len(rows) == 1, graph
        assert int(rows[0]["n"].value) == int(rows[0]["found"].value) == 8
