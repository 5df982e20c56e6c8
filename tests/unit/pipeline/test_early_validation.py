"""Unit N+1 is validated while unit N is written, and sees N's facts as if they had landed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox

from theragraph.ids import Pseudonymizer
from theragraph.mapping.base import RDF_TYPE, MappedGraph
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext, IngestUnit
from theragraph.report import FileOutcome
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.ingest import IngestValidator

EX = "https://example.org/"
SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
<{EX}ObsShape> a sh:NodeShape ; sh:targetClass <{EX}Obs> ;
    sh:property [ sh:path <{EX}subject> ; sh:minCount 1 ; sh:class <{EX}Patient> ] .
"""


def _graph(name: str, cls: str, subject: str | None = None) -> MappedGraph:
    node = ox.NamedNode(EX + name)
    graph = MappedGraph(graph=f"https://w3id.org/theragraph/graph/test/{name}", kind="test")
    graph.add(node, RDF_TYPE, ox.NamedNode(EX + cls))
    if subject is not None:
        graph.add(node, ox.NamedNode(EX + "subject"), ox.NamedNode(EX + subject))
    return graph


class TwoUnits:
    """Unit 1: patients (and, with ``bad``, an invalid observation); unit 2: their observations."""

    kind = "test"
    overlaps_writes = True

    def __init__(self, *, bad: bool = False) -> None:
        self.bad = bad

    def sniff(self, path: Path, head: bytes) -> bool:
        return True

    def ingest(self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]) -> Iterator[IngestUnit]:
        first = [_graph(f"p{i}", "Patient") for i in range(3)]
        if self.bad:
            first.append(_graph("orphan", "Obs", subject="nobody"))
        second = [_graph(f"o{i}", "Obs", subject=f"p{i}") for i in range(3)]
        for graphs in (first, second):
            yield IngestUnit(graphs, [FileOutcome(path="x", status="ingested", kind="test",
                                                  graphs=[g.graph for g in graphs])])
        progress(len(files))


def _pipeline(tmp_path: Path, handler: TwoUnits, events: list[str]) -> tuple[IngestPipeline, OxigraphStore]:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES)
    validator = IngestValidator([shapes])
    store = OxigraphStore(tmp_path / "store")
    write, check = store.replace_graphs, validator.validate_unit_facts

    def slow_write(writes):  # noqa: ANN001, ANN202
        time.sleep(0.3)  # the first unit is still being written when the second is validated
        result = write(writes)
        events.append(f"written {len(writes)}")
        return result

    def noted_check(graphs, st, unwritten=None):  # noqa: ANN001, ANN202
        events.append(f"validate {len(graphs)} {'with' if unwritten is not None else 'without'} unwritten")
        return check(graphs, st, unwritten)

    store.replace_graphs = slow_write  # type: ignore[method-assign]
    validator.validate_unit_facts = noted_check  # type: ignore[method-assign]
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"early-secret-0123456789abcdef"), root=tmp_path)
    return IngestPipeline(store, ctx, handlers=[handler], validator=validator), store


def test_the_next_unit_is_validated_during_the_write_and_sees_the_unwritten_facts(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("x")
    events: list[str] = []
    pipeline, store = _pipeline(tmp_path, TwoUnits(), events)
    report = pipeline.run([tmp_path / "in"])
    assert events == ["validate 3 without unwritten", "validate 3 with unwritten", "written 3", "written 3"]
    assert not [i for f in report.files for i in f.issues]  # the patients of unit 1 were seen
    assert report.graphs_written == 6
    store.close()


def test_after_a_rejected_graph_the_next_unit_waits_for_the_write(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("x")
    events: list[str] = []
    pipeline, store = _pipeline(tmp_path, TwoUnits(bad=True), events)
    report = pipeline.run([tmp_path / "in"])
    # the orphan is rejected, so unit 1's facts are not unit 2's: it waits for unit 1 to land
    assert events == ["validate 4 without unwritten", "written 3", "validate 3 without unwritten", "written 3"]
    assert report.graphs_written == 6
    assert {(i.code, i.severity) for f in report.files for i in f.issues} == {("shacl.class", "error")}
    store.close()


class Rewrite(TwoUnits):
    """Unit 2 writes a graph of unit 1 again, with new content."""

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Yield unit 1 (p0, p1), then unit 2 (p0 again, another class)."""
        units = ([_graph("p0", "Patient"), _graph("p1", "Patient")], [_graph("p0", "Person")])
        for graphs in units:
            yield IngestUnit(graphs, [FileOutcome(path="x", status="ingested", kind="test",
                                                  graphs=[g.graph for g in graphs])])
        progress(len(files))


def test_a_unit_that_rewrites_a_graph_in_flight_is_written_after_it(tmp_path: Path) -> None:
    """Two writes of one graph never run side by side: the later content wins, unmerged.

    On disk the writes of two units may run side by side (two writer threads).
    """
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("x")
    events: list[str] = []
    pipeline, store = _pipeline(tmp_path, Rewrite(), events)
    assert store.concurrent_writes == 2
    pipeline.run([tmp_path / "in"])
    # unit 2 is validated while unit 1 is written (or after, on a slow machine), written after it
    assert events in (
        ["validate 2 without unwritten", "validate 1 with unwritten", "written 2", "written 1"],
        ["validate 2 without unwritten", "written 2", "validate 1 with unwritten", "written 1"],
    )
    classes = {q.object.value for q in store.quads("https://w3id.org/theragraph/graph/test/p0")
               if q.predicate == RDF_TYPE}
    assert classes == {EX + "Person"}
    store.close()


def test_units_of_disjoint_graphs_are_written_side_by_side(tmp_path: Path) -> None:
    """On disk, unit 2's write starts while unit 1's still runs."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("x")
    events: list[str] = []
    pipeline, store = _pipeline(tmp_path, TwoUnits(), events)
    inside: list[int] = []
    write = store.replace_graphs

    def counted(writes):  # noqa: ANN001, ANN202
        inside.append(len(writes))
        time.sleep(0.2)  # long enough for the other writer thread to enter too
        peak.append(len(inside))
        try:
            return write(writes)
        finally:
            inside.pop()

    peak: list[int] = []
    store.replace_graphs = counted  # type: ignore[method-assign]
    report = pipeline.run([tmp_path / "in"])
    assert report.graphs_written == 6
    assert max(peak) == 2  # both units' writes were running at once
    store.close()
