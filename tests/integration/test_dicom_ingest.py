"""DICOM ingest end to end: real files written by pydicom, a real on-disk pyoxigraph store."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.integration.dicom_cohort import write_cohort
from tests.dicom_builders import PHI
from tests.support.provenance import run_neutral
from theragraph.ids import Pseudonymizer, mint_iri, patient_iri
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.store.oxigraph import OxigraphStore
from theragraph.vocab import DCMATTR, TG

pytestmark = pytest.mark.integration
SECRET = b"theragraph-test-secret-0123456789abcdef"


def _ingest(root: Path, store: OxigraphStore, *, workers: int = 1, issuer_map=None):
    ctx = IngestContext(
        pseudonymizer=Pseudonymizer(SECRET), root=root, workers=workers,
        issuer_map=issuer_map or {"HOSP-A": "urn:oid:1.2.3.4.5"},
    )
    return IngestPipeline(store, ctx).run([root]), ctx


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    cohort = write_cohort(root)
    store = OxigraphStore(tmp_path_factory.mktemp("store") / "db")
    report, ctx = _ingest(root, store)
    return cohort, store, report, ctx


def _ask(store, sparql: str, **subs) -> bool:
    prefix = f"PREFIX tg: <{TG}>\nPREFIX dcmattr: <{DCMATTR}>\n"
    return bool(store.query(prefix + sparql, substitutions=subs))


def _series(ctx, uid: str) -> ox.NamedNode:
    return ox.NamedNode(str(mint_iri("series", ctx.pseudonymizer.uid(uid))))


def _instance(ctx, uid: str) -> ox.NamedNode:
    return ox.NamedNode(str(mint_iri("instance", ctx.pseudonymizer.uid(uid))))


def test_every_modality_lands_as_its_series_class(ingested):
    cohort, store, report, ctx = ingested
    expected = {"pet": "PETSeries", "ct": "CTSeries", "mr": "MRSeries", "nm": "NMSeries",
                "rtstruct": "RTStructSeries", "seg": "SegmentationSeries", "labelmap": "SegmentationSeries",
                "rtplan": "RTPlanSeries", "rtdose": "RTDoseSeries"}
    for key, klass in expected.items():
        assert _ask(store, "ASK { ?s a ?c ; tg:instanceCount ?n }", s=_series(ctx, cohort.uids[key]),
                    c=ox.NamedNode(str(TG[klass]))), key
    assert report.counts["dicom.series"] == 9
    assert _ask(store, "ASK { ?s tg:sopClass <urn:oid:1.2.840.10008.5.1.4.1.1.66.7> }",
                s=_series(ctx, cohort.uids["labelmap"]))


def test_broken_files_are_outcomes_with_stable_codes_and_the_rest_lands(ingested):
    cohort, store, report, ctx = ingested
    by_path = {o.path: o for o in report.files}
    assert by_path["junk/notes.txt"].issues[0].code == "read.unknown-format"
    assert by_path["junk/truncated.dcm"].status == "failed"
    assert by_path["junk/truncated.dcm"].issues[0].code in ("read.corrupt", "read.missing-attribute")
    assert by_path["junk/magic-garbage.dcm"].issues[0].code in ("read.corrupt", "read.not-dicom",
                                                                 "read.missing-attribute")
    assert not [o for o in report.files if any(i.code == "internal.bug" for i in o.issues)]
    assert report.status_counts()["ingested"] == 9
    assert report.exit_code() == 1


def test_references_resolve_after_uid_pseudonymisation(ingested):
    cohort, store, report, ctx = ingested
    u = cohort.uids
    # SEG and label-map SEG -> the PET series they were drawn on (an existing series node)
    for seg in ("seg", "labelmap"):
        assert _ask(store, "ASK { ?seg tg:referencesSeries ?pet . ?pet a tg:PETSeries }",
                    seg=_series(ctx, u[seg]), pet=_series(ctx, u["pet"]))
    # RTSTRUCT -> the CT series (nested RTReferencedSeriesSequence)
    assert _ask(store, "ASK { ?ss tg:referencesSeries ?ct . ?ct a tg:CTSeries }",
                ss=_series(ctx, u["rtstruct"]), ct=_series(ctx, u["ct"]))
    # RTDOSE -> plan and structure set instances, which are typed in their own graphs
    assert _ask(store, "ASK { ?d tg:referencesPlan ?p . ?p a tg:RTPlan ; tg:inSeries ?ps }",
                d=_instance(ctx, u["rtdose_sop"]), p=_instance(ctx, u["rtplan_sop"]))
    assert _ask(store, "ASK { ?d tg:referencesStructureSet ?s . ?s a tg:StructureSet }",
                d=_instance(ctx, u["rtdose_sop"]), s=_instance(ctx, u["rtstruct_sop"]))
    # RT content: ROIs and segments with the contract's IRIs
    roi = ox.NamedNode(str(mint_iri("roi", f"{ctx.pseudonymizer.uid(u['rtstruct_sop'])}/2")))
    assert _ask(store, 'ASK { ?r a tg:ROI ; tg:roiNumber 2 ; tg:roiInterpretedType "GTV" ; tg:inStructureSet ?s }',
                r=roi, s=_instance(ctx, u["rtstruct_sop"]))
    segment = ox.NamedNode(str(mint_iri("segment", f"{ctx.pseudonymizer.uid(u['seg_sop'])}/1")))
    assert _ask(store, "ASK { ?g a tg:Segment ; tg:segmentedPropertyType <http://snomed.info/id/108369006> }",
                g=segment)


def test_store_holds_no_phi_names_ids_dates_private_tags_or_original_uids(ingested):
    cohort, store, report, ctx = ingested
    buffer = io.BytesIO()
    store.dump(buffer, format="nq")
    text = buffer.getvalue().decode()
    forbidden = [*PHI.values(), "Doe", "Johnathan", "MRN-98765", "1958-03-17", "Acacia", "Elsewhere",
                 "Gregory", "ACME PRIVATE GROUP", "Private Johnathan Note", "SN-XYZ-0042", "STUDY-12",
                 "Cuddy", "Liver Johnathan", "HOSP-A", *cohort.all_uids]
    leaked = [value for value in forbidden if value in text]
    assert leaked == []
    assert "2024-01-10" not in text  # dates are shifted per patient


def test_patient_node_is_the_one_fhir_meets_through_the_issuer_map(ingested):
    cohort, store, report, ctx = ingested
    pseudo = ctx.pseudonymizer.patient(ctx.issuer_system("HOSP-A"), PHI["PatientID"])
    assert ctx.issuer_system("HOSP-A") == "urn:oid:1.2.3.4.5"
    patient = ox.NamedNode(str(patient_iri(pseudo)))
    assert _ask(store, 'ASK { ?s a tg:Series ; tg:hasPatient ?p . ?p a tg:Patient ; tg:sex "male" }',
                s=_series(ctx, cohort.uids["pet"]), p=patient)


def test_administration_time_honours_timezone_and_keeps_time_of_day(ingested):
    cohort, store, report, ctx = ingested
    rows = list(store.query(
        f"PREFIX tg: <{TG}> SELECT ?s ?t ?a WHERE {{ ?s tg:hasRadiopharmaceuticalAdministration ?r . "
        "?r tg:administrationStartTime ?t ; tg:administeredActivity ?a }",
        substitutions={ox.Variable("s").value: _series(ctx, cohort.uids["pet"])},
    ))
    assert len(rows) == 1
    stamp, activity = rows[0]["t"].value, float(rows[0]["a"].value)
    assert stamp.endswith("T10:15:00+01:00") and not stamp.startswith("2024-01-10")
    assert activity == pytest.approx(350.0)


def test_lossless_layer_stores_shared_header_once_and_varying_values_per_instance(ingested):
    cohort, store, report, ctx = ingested
    pet = _series(ctx, cohort.uids["pet"])
    weights = list(store.query(f"SELECT ?s WHERE {{ ?s <{DCMATTR.PatientWeight}> ?w }}",
                               default_graph=[str(_graph(ctx, cohort.uids['pet']))]))
    assert [r["s"] for r in weights] == [pet]
    positions = list(store.query(
        f"PREFIX tg: <{TG}> SELECT ?s ?i WHERE {{ ?i tg:inSeries ?s ; <{DCMATTR.ImagePositionPatient}> ?p }}",
        substitutions={"s": pet},
    ))
    assert len(positions) == 3


def _graph(ctx, uid):
    from theragraph.ids import graph_iri

    return graph_iri("dicom-series", ctx.pseudonymizer.uid(uid))


def test_reingest_is_unchanged_and_keeps_the_quad_count(ingested):
    cohort, store, report, ctx = ingested
    before = store.count_quads()
    again, _ = _ingest(cohort.root, store)
    assert store.count_quads() == before
    assert again.status_counts()["unchanged"] == 9
    assert again.graphs_written == 0


def test_two_workers_produce_the_same_graphs(tmp_path):
    cohort = write_cohort(tmp_path / "c", junk=False)
    one, two = OxigraphStore(None), OxigraphStore(None)
    r1, _ = _ingest(cohort.root, one, workers=1)
    r2, _ = _ingest(cohort.root, two, workers=2)
    assert sorted(one.named_graphs()) == sorted(two.named_graphs())
    assert one.count_quads() == two.count_quads()
    assert r1.exit_code() == r2.exit_code() == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_series_split_across_folders_lands_whole(tmp_path, workers):
    """Series are written as their folders complete; a series with files in a later folder is
    mapped again with all its files, so the store equals a one-folder ingest of the same files."""
    from tests.dicom_builders import pet_dataset, write  # noqa: PLC0415
    from pydicom.uid import generate_uid  # noqa: PLC0415

    study, split = generate_uid(), generate_uid()
    flat = tmp_path / "flat"
    for i in range(6):  # a/ and c/ hold the split series, b/ another one in between
        folder = "a" if i < 3 else "c"
        ds = pet_dataset(study_uid=study, series_uid=split, index=i, PatientID="SPLIT1")
        write(ds, tmp_path / "layout" / folder / f"x{i}")
        write(ds, flat / f"x{i}")
    for i in range(2):
        ds = pet_dataset(study_uid=study, series_uid=generate_uid(entropy_srcs=[study, "b"]),
                         index=i, PatientID="SPLIT1")
        write(ds, tmp_path / "layout" / "b" / f"y{i}")
        write(ds, flat / f"y{i}")
    split_store = OxigraphStore(tmp_path / "split-store")
    report, ctx = _ingest(tmp_path / "layout", split_store, workers=workers)
    assert report.exit_code() == 0
    flat_store = OxigraphStore(tmp_path / "flat-store")
    _ingest(flat, flat_store, workers=workers)
    series = _series(ctx, split)

    def instances(store):
        query = f"PREFIX tg: <{TG}>\nSELECT ?n WHERE {{ {series} tg:instanceCount ?n }}"
        return [s["n"].value for s in store.query(query)]

    assert instances(split_store) == instances(flat_store) == ["6"]
    assert _same_content(split_store, flat_store)


def _same_content(a: OxigraphStore, b: OxigraphStore) -> bool:
    """Compare two stores' quads without provenance times or run activities (which differ
    between runs)."""
    return set(run_neutral(a.quads())) == set(run_neutral(b.quads()))
