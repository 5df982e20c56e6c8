"""Per-graph validation at ingest, and the pipeline's reject / quarantine / warn choices."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from theragraph.ids import Pseudonymizer, graph_iri, patient_iri
from theragraph.mapping.base import RDF_TYPE, MappedGraph, to_literal
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext, IngestUnit
from theragraph.report import CODES, FileOutcome
from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.ingest import IngestValidator, make_ingest_validator
from theragraph.vocab import TG

P_PSEUDONYM = ox.NamedNode(str(TG.pseudonym))
P_SEX = ox.NamedNode(str(TG.sex))
PATIENT = ox.NamedNode(str(TG.Patient))


def patient_graph(key: str, *, pseudonym: str | None, sex: str = "female") -> MappedGraph:
    p = ox.NamedNode(str(patient_iri(key)))
    g = MappedGraph(graph=str(graph_iri("fhir", f"Patient/{key}")), kind="fhir", patient=p.value)
    g.add(p, RDF_TYPE, PATIENT)
    if pseudonym is not None:
        g.add(p, P_PSEUDONYM, to_literal(pseudonym))
    g.add(p, P_SEX, to_literal(sex))
    return g


@pytest.fixture(scope="module")
def validator() -> IngestValidator:
    made = make_ingest_validator()
    assert made is not None
    return made


def test_valid_patient_graph_has_no_issues(
    validator: IngestValidator, memory_store: OxigraphStore
) -> None:
    graph = patient_graph("a" * 32, pseudonym="a" * 32)
    assert validator.validate_graph(graph, memory_store) == []


def test_missing_pseudonym_is_a_min_count_error(
    validator: IngestValidator, memory_store: OxigraphStore
) -> None:
    issues = validator.validate_graph(patient_graph("b" * 32, pseudonym=None), memory_store)
    assert [(i.code, i.severity) for i in issues] == [("shacl.min-count", "error")]
    assert issues[0].location == f"<{TG.pseudonym}>"
    assert "shacl.min-count" in CODES


def test_bad_pseudonym_and_sex_give_pattern_error_and_in_warning(
    validator: IngestValidator, memory_store: OxigraphStore
) -> None:
    issues = validator.validate_graph(
        patient_graph("c" * 32, pseudonym="NOT-HEX", sex="F"), memory_store
    )
    assert sorted((i.code, i.severity) for i in issues) == [
        ("shacl.in", "warning"),
        ("shacl.pattern", "error"),
    ]


def test_neighbourhood_fetches_referenced_nodes_from_other_graphs(
    validator: IngestValidator, memory_store: OxigraphStore
) -> None:
    patient = patient_graph("d" * 32, pseudonym="d" * 32)
    memory_store.replace_graphs([GraphWrite(patient.graph, patient.triples)])
    series = MappedGraph(graph=str(graph_iri("dicom", "series/1")), kind="dicom")
    s = ox.NamedNode("https://w3id.org/theragraph/id/series/1")
    series.add(s, ox.NamedNode(str(TG.hasPatient)), ox.NamedNode(str(patient_iri("d" * 32))))
    facts = validator.neighbourhood([series], memory_store)
    assert ox.Triple(ox.NamedNode(str(patient_iri("d" * 32))), RDF_TYPE, PATIENT) in facts
    # a neighbour's own problems are not reported against this graph
    assert validator.validate_graph(series, memory_store) == []


class PatientJsonHandler:
    """A tiny real source handler for the pipeline tests: one patient per ``*.patient.json``."""

    kind = "patient-json"

    def sniff(self, path: Path, head: bytes) -> bool:
        """Accept ``*.patient.json``."""
        return path.name.endswith(".patient.json")

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Map each file to one patient graph."""
        for path in files:
            record = json.loads(path.read_text())
            key = ctx.pseudonymizer.patient("urn:test", record["id"])
            graph = patient_graph(
                key, pseudonym=record.get("pseudonym", key), sex=record.get("sex", "female")
            )
            graph.source_checksum = ctx.pseudonymizer.token("file", path.read_text())
            yield IngestUnit(
                graphs=[graph],
                outcomes=[
                    FileOutcome(
                        path=ctx.relative(path),
                        status="ingested",
                        kind=self.kind,
                        graphs=[graph.graph],
                    )
                ],
            )
            progress(1)


def _run(
    tmp_path: Path,
    store: OxigraphStore,
    on_invalid: str,
    validator: IngestValidator,
    *,
    bad: dict[str, str] | None = None,
) -> tuple[object, Path]:
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    (src / "good.patient.json").write_text(json.dumps({"id": "1"}))
    (src / "bad.patient.json").write_text(json.dumps(bad or {"id": "2", "pseudonym": "NOPE"}))
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"k" * 32), root=src)
    pipeline = IngestPipeline(
        store, ctx, handlers=[PatientJsonHandler()], validator=validator, on_invalid=on_invalid
    )  # type: ignore[arg-type]
    return pipeline.run([src]), src


def _statuses(report: object) -> dict[str, str]:
    return {f.path: f.status for f in report.files}  # type: ignore[attr-defined]


def test_reject_keeps_invalid_graph_out(tmp_path: Path, validator: IngestValidator) -> None:
    store = OxigraphStore(tmp_path / "store")
    report, _ = _run(tmp_path, store, "reject", validator)
    assert _statuses(report) == {"good.patient.json": "ingested", "bad.patient.json": "failed"}
    assert len(store.named_graphs()) == 1


def test_quarantine_puts_invalid_graph_in_separate_store(
    tmp_path: Path, validator: IngestValidator
) -> None:
    store = OxigraphStore(tmp_path / "store")
    report, _src = _run(tmp_path, store, "quarantine", validator)
    assert _statuses(report) == {"good.patient.json": "ingested", "bad.patient.json": "quarantined"}
    assert report.exit_code() == 1  # type: ignore[attr-defined]
    bad = next(f for f in report.files if f.status == "quarantined")  # type: ignore[attr-defined]
    assert [i.code for i in bad.issues] == ["shacl.pattern"]
    # invisible to queries on the store ...
    assert len(store.named_graphs()) == 1
    count = list(store.query(f'SELECT (COUNT(*) AS ?n) WHERE {{ ?p <{TG.pseudonym}> "NOPE" }}'))
    assert count[0]["n"].value == "0"
    # ... and kept in <store>/quarantine, with its provenance
    quarantine = OxigraphStore(tmp_path / "store" / "quarantine")
    assert quarantine.named_graphs() == bad.graphs
    # a corrected record releases the graph from quarantine
    quarantine.close()
    del quarantine
    report2, _ = _run(tmp_path, store, "quarantine", validator, bad={"id": "2"})
    assert _statuses(report2)["bad.patient.json"] == "ingested"
    assert len(store.named_graphs()) == 2
    assert OxigraphStore(tmp_path / "store" / "quarantine").named_graphs() == []


def test_warn_writes_invalid_graph_with_issues(tmp_path: Path, validator: IngestValidator) -> None:
    store = OxigraphStore(tmp_path / "store")
    report, _ = _run(tmp_path, store, "warn", validator)
    assert _statuses(report) == {"good.patient.json": "ingested", "bad.patient.json": "ingested"}
    assert len(store.named_graphs()) == 2


def test_a_unit_is_validated_in_one_pass_with_the_same_results_per_graph(memory_store):
    """validate_unit gives each graph the issues validate_graph gives it alone."""
    validator = make_ingest_validator()
    assert validator is not None
    graphs = [
        MappedGraph(
            graph=f"https://w3id.org/theragraph/graph/test/{i}",
            triples=[ox.Triple(ox.NamedNode(f"https://w3id.org/theragraph/id/patient/{tag}"), RDF_TYPE, PATIENT), ox.Triple(ox.NamedNode(f"https://w3id.org/theragraph/id/patient/{tag}"), P_PSEUDONYM, to_literal(tag))],
        )
        for i, tag in enumerate(["0123456789abcdef0123456789abcdef", "not-a-pseudonym"])
    ]
    together = validator.validate_unit(graphs, memory_store)
    for graph in graphs:
        alone = validator.validate_graph(graph, memory_store)
        assert sorted(i.code for i in together[graph.graph]) == sorted(i.code for i in alone)
    assert together[graphs[1].graph] and any(i.severity == "error" for i in together[graphs[1].graph])
