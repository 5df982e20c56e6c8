"""Each curated FHIR query answers correctly on a small cohort.

The cohort is built here with our own FHIR builders (tests/fhir_builders.py), clearly synthetic,
until the cohort generator (branch ``synth``) lands; then it can switch to ``theragraph synth``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from tests import fhir_builders as fb
from theragraph.ids import Pseudonymizer, mint_iri, patient_iri
from theragraph.pipeline.fhir_source import FhirHandler
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.resources import resource_path
from theragraph.store.oxigraph import OxigraphStore

pytestmark = pytest.mark.integration

# (id, gleason, cycles, activity unit, psa before, psa nadir after, study uid, deceased)
COHORT = [
    ("p1", 9, 4, "GBq", 40.0, 10.0, "1.2.826.0.1.3680043.1.1", "2023-05-01"),
    ("p2", 9, 4, "GBq", 40.0, 30.0, "1.2.826.0.1.3680043.1.2", None),
    ("p3", 7, 4, "GBq", 40.0, 5.0, "1.2.826.0.1.3680043.1.3", None),
    ("p4", 8, 2, "mCi", 40.0, 5.0, "1.2.826.0.1.3680043.1.4", None),
]
ACTIVITY = {"GBq": 7.4, "mCi": 200.0}  # both 7400 MBq


def _patient_bundle(pid: str, gleason: int, cycles: int, unit: str, before: float, nadir: float,
                    uid: str, death: str | None) -> dict[str, Any]:
    extra = {"deceasedDateTime": death} if death else {}
    res = [fb.patient(pid, mrn=f"MRN-{pid}", **extra), fb.primary_cancer(f"{pid}-c", pid),
           fb.gleason(f"{pid}-g", pid, gleason, "2020-01-10T09:00:00Z"),
           fb.tnm_stage_group(f"{pid}-s", pid, "1222806003" if pid in ("p1", "p2") else "1222769001", "2020-01-12"),
           fb.psa(f"{pid}-psa0", pid, before * 2, "2020-12-01T08:00:00Z"),
           fb.psa(f"{pid}-psa1", pid, before, "2020-12-30T08:00:00Z", "ug/L"),
           fb.imaging_study(f"{pid}-pet", pid, uid, "2020-12-20T10:00:00Z")]
    for c in range(cycles):
        res.append(fb.lu_psma_cycle(f"{pid}-a{c}", pid, c + 1, f"2021-{1 + 2 * c:02d}-05T10:00:00+01:00", ACTIVITY[unit], unit))
    res.append(fb.psa(f"{pid}-psa2", pid, nadir, "2021-10-01T08:00:00Z"))
    res.append(fb.psa(f"{pid}-psa3", pid, nadir * 1.5, "2021-11-01T08:00:00Z"))
    return fb.bundle(res, urn=True)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[OxigraphStore, Pseudonymizer]:
    from tests.conftest import TEST_SECRET  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("cohort")
    for row in COHORT:
        fb.write_json(folder / f"{row[0]}.json", _patient_bundle(*row))
    store = OxigraphStore(tmp_path_factory.mktemp("store") / "db")
    pseudo = Pseudonymizer(TEST_SECRET)
    report = IngestPipeline(store, IngestContext(pseudonymizer=pseudo, root=folder), handlers=[FhirHandler()]).run([folder])
    assert not report.failed
    return store, pseudo


def run(store: OxigraphStore, name: str, **params: Any) -> list[dict[str, str]]:
    text = resource_path("queries", name).read_text()
    assert text.startswith("# title: ") and "# description: " in text
    rows = store.query(text, substitutions=params or None)
    names = [v.value for v in rows.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in rows]


def iri(pseudo: Pseudonymizer, pid: str) -> str:
    return str(patient_iri(pseudo.patient(fb.MRN_SYSTEM, f"MRN-{pid}")))


def test_psa_responders(cohort: tuple[OxigraphStore, Pseudonymizer]) -> None:
    store, pseudo = cohort
    rows = run(store, "select-psa-responders-lu-psma.rq")
    assert [(r["patient"], int(r["cycles"]), float(r["baseline"]), float(r["nadir"])) for r in rows] == [
        (iri(pseudo, "p1"), 4, 40.0, 10.0)]
    rows = run(store, "select-psa-responders-lu-psma.rq", min_cycles=ox.Literal("2", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    assert {r["patient"] for r in rows} == {iri(pseudo, "p1"), iri(pseudo, "p4")}


def test_patients_by_stage_group(cohort: tuple[OxigraphStore, Pseudonymizer]) -> None:
    store, _ = cohort
    rows = run(store, "count-patients-by-stage-group.rq",
               staging_system=ox.NamedNode("http://snomed.info/id/897275008"))
    assert {(r["stage"], int(r["patients"])) for r in rows} == {
        ("http://snomed.info/id/1222806003", 2), ("http://snomed.info/id/1222769001", 2)}


def test_radiopharmaceutical_cycles(cohort: tuple[OxigraphStore, Pseudonymizer]) -> None:
    store, pseudo = cohort
    rows = run(store, "select-radiopharmaceutical-cycles.rq")
    got = {r["patient"]: (int(r["cycles"]), float(r["total_activity_mbq"])) for r in rows}
    assert got == {iri(pseudo, p): (n, pytest.approx(7400.0 * n)) for p, _, n, *_ in COHORT}


def test_studies_of_cancer_patients_join_dicom_study_iris(cohort: tuple[OxigraphStore, Pseudonymizer]) -> None:
    store, pseudo = cohort
    rows = run(store, "select-studies-of-cancer-patients.rq")
    assert {(r["patient"], r["study"]) for r in rows} == {
        (iri(pseudo, row[0]), str(mint_iri("study", pseudo.uid(row[6])))) for row in COHORT}


def test_survival_after_first_cycle(cohort: tuple[OxigraphStore, Pseudonymizer]) -> None:
    store, pseudo = cohort
    rows = {r["patient"]: r for r in run(store, "select-survival-after-first-cycle.rq")}
    assert len(rows) == 4
    p1 = rows[iri(pseudo, "p1")]
    assert p1["deceased"] == "true" and "death_date" in p1
    assert rows[iri(pseudo, "p2")]["deceased"] == "false"
    # the interval survives the date shift: first cycle 2021-01-05, death 2023-05-01 -> 846 days
    from datetime import date, datetime  # noqa: PLC0415
    first = datetime.fromisoformat(p1["first_cycle"]).date()
    assert (date.fromisoformat(p1["death_date"][:10]) - first).days == 846
