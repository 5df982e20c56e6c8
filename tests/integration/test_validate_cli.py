"""``theragraph validate`` through the CLI: files and a store on disk, both engines, exit codes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from typer.testing import CliRunner

from theragraph.cli.main import app
from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.shapes import SH

pytestmark = pytest.mark.integration

W3C = Path(__file__).resolve().parents[1] / "data" / "shacl-w3c" / "core"
TG = "https://w3id.org/theragraph/ontology#"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _quiet_rdflib() -> None:
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)


def test_data_mode_prints_validation_report_as_turtle() -> None:
    case = W3C / "property" / "datatype-ill-formed"
    result = runner.invoke(
        app,
        [
            "validate",
            "--data",
            f"{case}-data.ttl",
            "--shapes",
            f"{case}-shapes.ttl",
            "--format",
            "ttl",
        ],
    )
    assert result.exit_code == 1
    report = Graph().parse(data=result.stdout, format="turtle")
    values = {str(v) for v in report.objects(None, SH.value)}
    assert values == {"300", "c", "55"}
    assert (None, SH.conforms, None) in report


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_conforming_data_exits_zero(engine: str) -> None:
    case = W3C / "property" / "minCount-002.ttl"  # a case whose data conforms
    result = runner.invoke(
        app,
        [
            "validate",
            "--data",
            str(case),
            "--shapes",
            str(case),
            "--engine",
            engine,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["conforms"] is True


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml"],
        ["--engine", "jena"],
        ["--data", str(W3C / "node" / "class-001.ttl")],  # --data without --shapes
    ],
)
def test_usage_errors_exit_two(args: list[str]) -> None:
    result = runner.invoke(app, ["validate", *args])
    assert result.exit_code == 2


def test_unsupported_sparql_in_shapes_exits_three() -> None:
    case = W3C.parent / "sparql" / "pre-binding" / "unsupported-sparql-001.ttl"
    result = runner.invoke(app, ["validate", "--data", str(case), "--shapes", str(case)])
    assert result.exit_code == 3
    assert "shacl.shapes" in result.stderr


def test_missing_store_exits_three(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--store", str(tmp_path / "nope" / "x")])
    assert result.exit_code == 3  # read-only open of a store that does not exist


def _store_with_patients(path: Path) -> None:
    store = OxigraphStore(path)
    writes = []
    for i, pseudonym in enumerate(["a" * 32, "b" * 32, "NOT-HEX"]):
        p = ox.NamedNode(f"https://w3id.org/theragraph/id/patient/{i}")
        writes.append(
            GraphWrite(
                f"https://w3id.org/theragraph/graph/fhir/Patient/{i}",
                [
                    ox.Triple(
                        p,
                        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                        ox.NamedNode(TG + "Patient"),
                    ),
                    ox.Triple(p, ox.NamedNode(TG + "pseudonym"), ox.Literal(pseudonym)),
                    ox.Triple(p, ox.NamedNode(TG + "sex"), ox.Literal("female" if i else "F")),
                ],
            )
        )
    store.replace_graphs(writes)
    store.close()


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_store_mode_reports_violations_by_code(tmp_path: Path, engine: str) -> None:
    _store_with_patients(tmp_path / "store")
    result = runner.invoke(
        app,
        ["validate", "--store", str(tmp_path / "store"), "--engine", engine, "--format", "json"],
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    codes = sorted((r["code"], r["severity"]) for r in report["results"])
    assert codes == [("shacl.in", "warning"), ("shacl.pattern", "error")]


def test_store_mode_text_summary_groups_by_shape(tmp_path: Path) -> None:
    _store_with_patients(tmp_path / "store")
    result = runner.invoke(app, ["validate", "--store", str(tmp_path / "store")])
    assert result.exit_code == 1
    assert "Patient-pseudonym" in result.stdout and "shacl.pattern" in result.stdout
