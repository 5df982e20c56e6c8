"""``theragraph synth`` through the CLI: exit codes, outputs, refusal to overwrite."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from theragraph.cli.main import app

pytestmark = pytest.mark.integration


def test_synth_writes_a_cohort_with_truth_and_faults(tmp_path):
    out = tmp_path / "data"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--patients",
            "3",
            "--seed",
            "7",
            "--out",
            str(out),
            "--truth",
            "--faults",
            "1.0",
            "--ndjson-share",
            "0.34",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "truth.csv").read_text().count("\n") == 4
    faults = json.loads((out / "faults.json").read_text())
    assert len(faults["faults"]) == 3
    assert {f["kind"] for f in faults["faults"]} <= set(faults["kinds"])
    assert json.loads((out / "cohort.json").read_text())["seed"] == 7
    assert list((out / "dicom").iterdir()) and list((out / "dosimetry").iterdir())


def test_synth_refuses_an_existing_cohort_without_overwrite(tmp_path):
    runner = CliRunner()
    args = ["synth", "--patients", "1", "--seed", "1", "--out", str(tmp_path), "--no-progress"]
    assert runner.invoke(app, args).exit_code == 0
    second = runner.invoke(app, args)
    assert second.exit_code == 2
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0


def test_synth_rejects_a_rate_outside_the_unit_interval(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--seed", "1", "--out", str(tmp_path), "--faults", "1.5"]
    )
    assert result.exit_code == 2


def test_synth_package_never_imports_readers_or_rdf_libraries():
    """House style A1: synth may not import theragraph.ingest, rdflib or pyoxigraph."""
    import theragraph.synth

    forbidden = ("theragraph.ingest", "rdflib", "pyoxigraph")
    for path in Path(theragraph.synth.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
