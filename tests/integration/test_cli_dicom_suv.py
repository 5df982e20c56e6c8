"""``theragraph dicom suv`` on real files written by pydicom, through Typer's CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders import (
    CT_IMAGE_STORAGE,
    add_philips_pet_private,
    pet_dataset,
    write_pet_series,
)
import theragraph
from theragraph.cli.main import app

pytestmark = pytest.mark.integration

#: 75000 g / (370e6 Bq * 2^(-3600 s / 6586.2 s)): the builder's default PET series.
ONE_HOUR_FACTOR = 75_000.0 / (370e6 * 2.0 ** (-3600.0 / 6586.2))


def write_cohort(root: Path) -> None:
    write_pet_series(
        root / "pet",
        [pet_dataset(series_uid="1.2.3.10", instance_number=n, acquisition_time="100000")
         for n in (1, 2, 3)],
    )
    philips = pet_dataset(series_uid="1.2.3.20", units="CNTS", manufacturer="Philips")
    add_philips_pet_private(philips, suv_scale_factor=0.000728)
    write_pet_series(root / "philips", [philips], implicit=True)
    write_pet_series(
        root / "ct", [pet_dataset(series_uid="1.2.3.30", sop_class=CT_IMAGE_STORAGE, modality="CT")]
    )
    (root / "README.txt").write_text("not a DICOM file")


def test_json_lists_one_object_per_series_and_exits_0(tmp_path: Path) -> None:
    write_cohort(tmp_path)
    result = CliRunner().invoke(app, ["dicom", "suv", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["series_instance_uid"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"1.2.3.10", "1.2.3.20", "1.2.3.30"}
    pet = rows["1.2.3.10"]
    assert pet["n_instances"] == 3
    assert pet["rule"] == "bqml-start-series-time"
    assert pet["suvbw_factor"] == pytest.approx(ONE_HOUR_FACTOR, rel=1e-12)
    assert pet["reason"] is None
    assert set(pet["variants"]) == {"suvlbm_james", "suvlbm_janmahasatian", "suvbsa", "suvibw"}
    assert rows["1.2.3.20"]["suvbw_factor"] == pytest.approx(0.000728)
    assert rows["1.2.3.20"]["rule"] == "cnts-philips-suv-factor"
    ct = rows["1.2.3.30"]
    assert ct["suvbw_factor"] is None and ct["code"] == "suv.not-pet"


def test_series_without_weight_exits_1_with_reason(tmp_path: Path) -> None:
    write_pet_series(tmp_path / "ok", [pet_dataset(series_uid="1.2.3.10")])
    write_pet_series(tmp_path / "bad", [pet_dataset(series_uid="1.2.3.11", weight_kg=None)])
    result = CliRunner().invoke(app, ["dicom", "suv", str(tmp_path / "ok"), str(tmp_path / "bad"), "--json"])
    assert result.exit_code == 1
    rows = {row["series_instance_uid"]: row for row in json.loads(result.stdout)}
    assert rows["1.2.3.11"]["suvbw_factor"] is None
    assert rows["1.2.3.11"]["code"] == "suv.missing-weight"
    assert rows["1.2.3.11"]["reason"]
    assert rows["1.2.3.10"]["suvbw_factor"] == pytest.approx(ONE_HOUR_FACTOR, rel=1e-12)


def test_table_output_without_json(tmp_path: Path) -> None:
    write_pet_series(tmp_path, [pet_dataset(series_uid="1.2.3.10")])
    result = CliRunner().invoke(app, ["dicom", "suv", str(tmp_path)])
    assert result.exit_code == 0
    assert "bqml-start-series-time" in result.stdout


def test_no_pet_series_exits_1(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("nothing")
    result = CliRunner().invoke(app, ["dicom", "suv", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == []


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dicom", "suv", str(tmp_path / "absent")])
    assert result.exit_code == 2


def test_entry_point_exit_code(tmp_path: Path) -> None:
    write_pet_series(tmp_path, [pet_dataset(series_uid="1.2.3.10")])
    # run this checkout's package, not whichever one the venv has installed
    src = str(Path(theragraph.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", "from theragraph.cli.main import main; main()",
         "dicom", "suv", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["suvbw_factor"] == pytest.approx(ONE_HOUR_FACTOR, rel=1e-12)
