"""``bench/ingest_fhir.py`` runs end to end on a small cohort (the figures are its job, not ours).

The benchmark is the evidence for the FHIR ingest's speed goal (bench/RESULTS.md): it must keep
running as the code changes. Timings are not asserted, only that both measurements ran, in fresh
processes, over every generated resource.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_fhir_ingest_benchmark_runs_and_reports_both_measurements(tmp_path: Path) -> None:
    """Two alternating runs of 400 resources.

    Too few for worker processes: that path has its own tests (test_fhir_parallel.py).
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest_fhir.py"), "--resources", "400",
         "--out", str(tmp_path), "--skip-handler-alone", "--repeat", "2"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # 20 patients x (1 Patient, 4 MedicationAdministration, 15 Observation), all of them written
    assert "resources: 400 (parsed 400, graphs written 400, quads 6760)" in out
    assert len(re.findall(r"^parse alone \(json \+ R4B model_validate\): [\d.]+ s", out, re.M)) == 2
    ratio = r"^ratio full/parse: [\d.]+x wall \(goal <= 2x\), per run [\d.]+x [\d.]+x;"
    assert re.search(ratio, out, re.M)
    assert "a fresh process per run; status: {'ingested': 3}" in out
