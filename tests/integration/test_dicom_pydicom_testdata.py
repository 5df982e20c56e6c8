"""pydicom's own test files (all of them) ingest without a crash: failures are clean outcomes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files

from theragraph.ids import Pseudonymizer
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.report import CODES
from theragraph.store.oxigraph import OxigraphStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_pydicom_test_file_ingests_or_fails_cleanly(tmp_path: Path) -> None:
    files = [Path(f) for f in get_testdata_files() if Path(f).is_file()]
    assert len(files) > 50
    root = tmp_path / "in"
    root.mkdir()
    for i, f in enumerate(files):  # copy: some names repeat across pydicom's folders
        shutil.copy(f, root / f"{i:03d}_{f.name}")
    store = OxigraphStore(None)
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"p" * 32), root=root, workers=1)
    report = IngestPipeline(store, ctx).run([root])
    bugs = [(o.path, i.message) for o in report.files for i in o.issues if i.code == "internal.bug"]
    assert bugs == []
    codes = {i.code for o in report.files for i in o.issues}
    assert codes <= set(CODES), codes - set(CODES)
    assert report.status_counts()["ingested"] > 30
    assert store.count_quads() > 1000
