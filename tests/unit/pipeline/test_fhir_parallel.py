"""``--workers N`` for FHIR NDJSON: the same report and the same graphs as one process."""

from __future__ import annotations

import json
from pathlib import Path

from tests import fhir_builders as fb
from theragraph.ids import Pseudonymizer
from theragraph.pipeline.fhir_source import FhirHandler
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.report import IngestReport
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.ingest import make_ingest_validator
from tests.support.provenance import run_neutral

SECRET = b"parallel-secret-0123456789abcdef"


def _ingest(store: OxigraphStore, data: Path, workers: int) -> IngestReport:
    ctx = IngestContext(pseudonymizer=Pseudonymizer(SECRET), root=data, workers=workers)
    pipeline = IngestPipeline(store, ctx, handlers=[FhirHandler(batch_size=150, parallel_min_bytes=0)],
                              validator=make_ingest_validator())
    return pipeline.run([data])


def _write_batch(data: Path) -> None:
    data.mkdir()
    lines = []
    for i in range(40):
        lines.append(json.dumps(fb.patient(f"p{i}", mrn=f"M{i:04d}")))
        lines += [json.dumps(fb.psa(f"p{i}-o{k}", f"p{i}", 1.0 + k, f"2021-0{1 + k}-10T08:00:00Z")) for k in range(6)]
        lines.append(json.dumps(fb.lu_psma_cycle(f"p{i}-a", f"p{i}", 1, "2021-03-05T10:00:00Z", 7.4)))
    lines.insert(5, '{"resourceType": "Observation", "id": "cut-')  # invalid JSON
    bad = fb.psa("bad-status", "p1", 1.0, "2021-01-01")
    bad["valueQuantity"]["value"] = "not-a-number"  # fails R4B validation
    lines.insert(77, json.dumps(bad))
    local = fb.psa("local-code", "p2", 1.0, "2021-01-01T08:00:00Z")
    local["code"]["coding"] = [{"system": "http://lab.example/codes", "code": "TM-0042"}]
    local["meta"] = {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-tumor-marker-test"]}
    lines.insert(120, json.dumps(local))  # R4B-valid, but the shapes report its code's IRI
    # a reference that only the store resolves (a Patient of the earlier run)
    lines.insert(250, json.dumps(fb.psa("old-o1", "old", 4.2, "2021-05-05T08:00:00Z")))
    lines.insert(251, json.dumps(fb.bundle([fb.patient("b1", mrn="MB1"), fb.psa("b1-o", "b1", 3.0, "2021-01-01")])))
    (data / "export.ndjson").write_text("\n".join(lines) + "\n")
    fb.write_json(data / "bundle.json", fb.bundle([fb.patient("j1", mrn="MJ1"), fb.psa("j1-o", "j1", 2.0, "2021-02-01")]))


def _content(store: OxigraphStore) -> set[tuple[str, str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name))
            for q in run_neutral(store.quads())}


def test_workers_give_the_same_report_and_graphs_as_one_process(tmp_path):
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    fb.write_ndjson(earlier / "old.ndjson", [fb.patient("old", mrn="MOLD"), fb.psa("old-o0", "old", 1.0, "2021-01-01")])
    data = tmp_path / "data"
    _write_batch(data)
    reports, contents = [], []
    for workers in (1, 2):
        store = OxigraphStore(tmp_path / f"store{workers}")
        _ingest(store, earlier, 1)
        reports.append(_ingest(store, data, workers).model_dump())
        contents.append(_content(store))
        store.close()
    one, two = reports
    assert one == two
    assert contents[0] == contents[1]
    codes = {i["code"] for f in one["files"] for i in f["issues"]}
    assert {"read.invalid-json", "read.invalid-resource"} <= codes
    # SHACL ran on the graphs the workers shipped as N-Triples, with the same results
    assert any(c.startswith("shacl.") for c in codes), codes
    assert "link.dangling-reference" not in codes  # old-o1's patient resolved through the store
    assert one["graphs_written"] == 40 * 8 + 1 + 2 + 2 + 1  # the local-code warning lands
    assert one["counts"]["deid-dropped.mcode-cancer-patient.name"] == 42


def test_workers_start_only_for_enough_ndjson(tmp_path, monkeypatch):  # noqa: ANN001
    from theragraph.pipeline import fhir_source

    started: list[int] = []
    real = fhir_source.ParallelNdjson

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fhir_source, "ParallelNdjson", spy)
    data = tmp_path / "data"
    _write_batch(data)  # ~100 kB of NDJSON
    for threshold, expected in ((fhir_source.PARALLEL_MIN_BYTES, 0), (50_000, 1)):
        started.clear()
        store = OxigraphStore(None)
        ctx = IngestContext(pseudonymizer=Pseudonymizer(SECRET), root=data, workers=2)
        IngestPipeline(store, ctx, handlers=[FhirHandler(parallel_min_bytes=threshold)]).run([data])
        assert len(started) == expected, threshold


def test_the_first_pass_in_workers_indexes_as_one_process(tmp_path, monkeypatch):  # noqa: ANN001
    from theragraph.ingest.fhir import FhirReader  # noqa: PLC0415
    from theragraph.pipeline import fhir_parallel  # noqa: PLC0415

    data = tmp_path / "data"
    _write_batch(data)  # NDJSON with a Bundle line and broken lines, and a Bundle file
    (data / "crlf.ndjson").write_bytes(
        b"\r\n".join(json.dumps(fb.patient(f"c{i}", mrn=f"MC{i}")).encode() for i in range(30)) + b"\r\n")
    monkeypatch.setattr(fhir_parallel, "INDEX_CHUNK_BYTES", 700)  # many ranges, cut mid-line
    files = sorted(data.iterdir())
    readers = [FhirReader(Pseudonymizer(SECRET)) for _ in range(2)]
    for path in files:
        readers[0].index_file(path)
    fhir_parallel.index_in_parallel(readers[1], files, 2)
    one, two = readers
    assert len(one.index.tokens) > 300 and len(one.index.patients) > 70
    assert (one.index.tokens, one.index.patients) == (two.index.tokens, two.index.patients)
    assert (one._identifiers, one._keys_by_patient) == (two._identifiers, two._keys_by_patient)
    assert len(fhir_parallel._line_ranges(data / "export.ndjson", 700)) > 50


def test_the_first_unit_is_small_so_the_write_starts_early(tmp_path):  # noqa: ANN001
    data = tmp_path / "data"
    data.mkdir()
    fb.write_ndjson(data / "export.ndjson", [fb.psa(f"o{i}", "p", 1.0, "2021-01-01") for i in range(23)])
    ctx = IngestContext(pseudonymizer=Pseudonymizer(SECRET), root=data)
    handler = FhirHandler(batch_size=10, first_batch_size=4)
    sizes = [len(unit.graphs) for unit in handler.ingest([data / "export.ndjson"], ctx, lambda n: None)]
    assert sizes == [4, 10, 9]


def test_warm_up_validates_each_files_first_resource_and_changes_nothing(tmp_path):  # noqa: ANN001
    import copy

    from theragraph.ingest.fhir import FhirReader
    from theragraph.pipeline.fhir_parallel import warm_up

    good = fb.psa("o1", "p1", 1.0, "2021-01-10T08:00:00Z")
    (tmp_path / "obs.ndjson").write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    broken = '{"resourceType": "Observation", "id": "cut-\n' + json.dumps(good) + "\n"
    (tmp_path / "broken.ndjson").write_text(broken)
    bundle = {"resourceType": "Bundle", "type": "collection"}
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    reader = FhirReader(Pseudonymizer(SECRET))
    before = copy.deepcopy(good)
    # broken, non-NDJSON and unreadable files: skipped
    names = ("obs.ndjson", "broken.ndjson", "bundle.json", "missing.ndjson")
    warm_up(reader, [tmp_path / n for n in names])
    assert reader._validator._memo  # noqa: SLF001 - the Observation's elements validated here
    assert good == before
    # the second pass still reads and reports everything, the broken line included
    records = list(reader.read_file(tmp_path / "broken.ndjson"))
    assert [type(r).__name__ for r in records] == ["FailedResource", "FhirRecord"]


def test_objects_are_frozen_while_the_workers_run_and_released_after(tmp_path):  # noqa: ANN001
    import gc

    from theragraph.pipeline.fhir_parallel import FULL_COLLECTION_THRESHOLD, collector_set_for_workers

    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    with collector_set_for_workers():
        assert gc.get_freeze_count() > 0  # the parent's objects: out of the collector's walks
        assert gc.get_threshold()[2] >= FULL_COLLECTION_THRESHOLD  # full collections put off
        assert gc.get_threshold()[:2] == thresholds[:2]  # young ones as they were
    assert gc.get_freeze_count() == 0  # collectable again after the run
    assert gc.get_threshold() == thresholds
    # frozen by someone else: not unfrozen by us (the count itself may fall as frozen objects
    # are freed, so only "still frozen" is asserted)
    gc.freeze()
    try:
        with collector_set_for_workers():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    data = tmp_path / "data"
    _write_batch(data)
    _ingest(OxigraphStore(None), data, workers=2)  # a run with workers leaves nothing frozen
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
