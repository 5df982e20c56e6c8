"""The query and dump commands against a real on-disk store."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from theragraph.cli.main import app
from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore

pytestmark = pytest.mark.integration
EX = "http://example.org/"


@pytest.fixture
def store_dir(tmp_path):
    path = tmp_path / "store"
    store = OxigraphStore(path)
    triples = [
        ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "value"), ox.Literal(str(i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
        for i in range(3)
    ]
    store.replace_graphs([GraphWrite(EX + "g", triples)])
    store.close()
    del store
    return path


def test_query_json_counts_rows(store_dir):
    result = CliRunner().invoke(
        app, ["query", "--store", str(store_dir), "--format", "json", "SELECT ?s ?v WHERE { ?s ?p ?v } ORDER BY ?v"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [b["v"]["value"] for b in data["results"]["bindings"]] == ["0", "1", "2"]


def test_query_from_file_as_csv(store_dir, tmp_path):
    rq = tmp_path / "q.rq"
    rq.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    result = CliRunner().invoke(app, ["query", "--store", str(store_dir), "-f", str(rq), "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].strip() == "3"


def test_query_syntax_error_exits_1_with_code(store_dir):
    result = CliRunner().invoke(app, ["query", "--store", str(store_dir), "SELEC nothing"])
    assert result.exit_code == 1
    assert "query.syntax" in result.stderr


def test_query_needs_exactly_one_source(store_dir):
    result = CliRunner().invoke(app, ["query", "--store", str(store_dir)])
    assert result.exit_code == 2


def test_dump_writes_nquads_with_graph(store_dir):
    result = CliRunner().invoke(app, ["dump", "--store", str(store_dir)])
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) == 3 and all(line.endswith(f"<{EX}g> .") for line in lines)


def test_query_on_missing_store_exits_3_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(app, ["query", "--store", str(missing), "ASK {}"])
    assert result.exit_code == 3
    assert "store.missing" in result.stderr
    assert not missing.exists()


def test_table_output_compacts_known_namespaces(tmp_path):
    store = OxigraphStore(tmp_path / "s")
    store.replace_graphs([GraphWrite(EX + "g", [ox.Triple(
        ox.NamedNode("https://w3id.org/theragraph/id/patient/abc"),
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("https://w3id.org/theragraph/ontology#Patient"),
    )])])
    store.close()
    result = CliRunner().invoke(app, ["query", "--store", str(tmp_path / "s"), "SELECT ?s ?t WHERE { ?s a ?t }"])
    assert result.exit_code == 0
    assert "tgr:patient/abc" in result.stdout and "tg:Patient" in result.stdout
