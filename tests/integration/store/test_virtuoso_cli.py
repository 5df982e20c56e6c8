"""``theragraph ingest`` and ``theragraph query`` end to end on Virtuoso, checked against the
embedded store fed the same cohort."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from tests.integration.dicom_cohort import write_cohort
from tests.support.provenance import run_neutral
from tests.support.servers import RunningVirtuoso
from theragraph.cli.main import app
from theragraph.config import get_settings
from theragraph.store import open_store

pytestmark = pytest.mark.integration
SECRET = "virtuoso-cli-secret-0123456789abcdef"
COUNT_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("THERAGRAPH_SECRET", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _ground(quads: list[ox.Quad]) -> set[ox.Quad]:
    """Quads without blank nodes (labels differ between stores) or ingest times, the run's activity
    as one placeholder, literals as pyoxigraph keeps them (values, not lexical forms: "2e-05" may
    come back "0.00002")."""
    scratch = ox.Store()
    scratch.extend(q for q in run_neutral(quads) if not isinstance(q.subject, ox.BlankNode)
                   and not isinstance(q.object, ox.BlankNode))
    return set(scratch)


def test_ingest_and_query_on_virtuoso_match_the_embedded_store(
    virtuoso_server: RunningVirtuoso, tmp_path, secret_env  # noqa: ANN001
) -> None:
    remote = open_store(virtuoso_server.location)
    remote.delete_graphs(remote.named_graphs())
    cohort = write_cohort(tmp_path / "cohort", junk=False)
    embedded_dir = tmp_path / "embedded"
    runner = CliRunner()
    for store in (virtuoso_server.location, str(embedded_dir)):
        result = runner.invoke(app, ["ingest", str(cohort.root), "--store", store, "--no-progress"])
        assert result.exit_code == 0, result.output
    # A second run finds every graph unchanged (reads the provenance back from Virtuoso).
    again = runner.invoke(app, ["ingest", str(cohort.root), "--store", virtuoso_server.location,
                                "--no-progress", "--report", str(tmp_path / "again.json")])
    assert again.exit_code == 0, again.output
    files = json.loads((tmp_path / "again.json").read_text())["files"]
    assert files and {f["status"] for f in files} == {"unchanged"}

    answers = []
    for store in (virtuoso_server.location, str(embedded_dir)):
        result = runner.invoke(app, ["query", "--store", store, "--format", "json", COUNT_PER_GRAPH])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["results"]["bindings"]
        answers.append({r["g"]["value"]: int(r["n"]["value"]) for r in rows})
    assert answers[0] == answers[1] and len(answers[0]) > 3

    embedded = open_store(embedded_dir)
    try:
        assert remote.count_quads() == embedded.count_quads()
        assert _ground(list(remote.quads())) == _ground(list(embedded.quads()))
    finally:
        embedded.close()
        remote.close()
