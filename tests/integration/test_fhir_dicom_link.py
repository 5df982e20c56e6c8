"""A synthetic patient's DICOM PET series and FHIR Bundle meet on one patient node, in either order.

The DICOM file is written with pydicom (tests/builders.py); the Bundle with tests/fhir_builders.py.
The DICOM IssuerOfPatientID is mapped to the FHIR identifier system by ``issuer_map`` (design §3).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests import fhir_builders as fb
from theragraph.ids import Pseudonymizer, mint_iri, patient_iri
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext, default_handlers
from theragraph.store.oxigraph import OxigraphStore
from theragraph.vocab import TG

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("theragraph.pipeline.dicom_source") is None,
        reason="the DICOM handler (branch dicom) is not merged yet",
    ),
]

SECRET = b"theragraph-test-secret-0123456789abcdef"
ISSUER = "HOSP-A"
STUDY_UID = "1.2.826.0.1.3680043.8.498.100"


def _write_inputs(root: Path) -> tuple[Path, Path]:
    from tests.builders import pet_dataset, write_pet_series  # noqa: PLC0415

    ds = pet_dataset(patient_id="MRN-4242", patient_name="Doe^Alexander")
    ds.IssuerOfPatientID = ISSUER
    dicom_dir = root / "dicom"
    write_pet_series(dicom_dir, [ds])
    fhir_dir = root / "fhir"
    fhir_dir.mkdir()
    fb.write_json(fhir_dir / "bundle.json", fb.bundle([
        fb.patient("pat-1", mrn="MRN-4242"),
        fb.primary_cancer("cond-1", "pat-1"),
        fb.imaging_study("img-1", "pat-1", STUDY_UID, "2024-01-10T10:00:00Z"),
    ], urn=True))
    return dicom_dir, fhir_dir


@pytest.mark.parametrize("order", ["dicom-first", "fhir-first", "together"])
def test_dicom_and_fhir_meet_on_one_patient(tmp_path: Path, order: str) -> None:
    dicom_dir, fhir_dir = _write_inputs(tmp_path)
    store = OxigraphStore(tmp_path / "store")
    pseudo = Pseudonymizer(SECRET)
    runs = {"dicom-first": [[dicom_dir], [fhir_dir]], "fhir-first": [[fhir_dir], [dicom_dir]],
            "together": [[dicom_dir, fhir_dir]]}[order]
    for paths in runs:
        ctx = IngestContext(pseudonymizer=pseudo, root=tmp_path, issuer_map={ISSUER: fb.MRN_SYSTEM})
        report = IngestPipeline(store, ctx, handlers=default_handlers()).run(paths)
        assert not report.failed, [(f.path, f.issues) for f in report.failed]
    patients = list(store.query(f"PREFIX tg: <{TG}> SELECT DISTINCT ?p WHERE {{ ?p a tg:Patient }}"))
    expected = str(patient_iri(pseudo.patient(fb.MRN_SYSTEM, "MRN-4242")))
    assert [r["p"].value for r in patients] == [expected]
    # the series (DICOM), the condition and the ImagingStudy record (FHIR) hang off that node, and
    # the FHIR ImagingStudy points at the study node the DICOM handler made.
    study = ox.NamedNode(str(mint_iri("study", pseudo.uid(STUDY_UID))))
    ask = store.query(
        f"PREFIX tg: <{TG}> ASK {{ ?series a tg:Series ; tg:hasPatient ?p . "
        "?cond a tg:PrimaryCancerCondition ; tg:hasPatient ?p . "
        "?rec tg:describesStudy ?study ; tg:hasPatient ?p . ?study tg:hasPatient ?p }",
        substitutions={"p": ox.NamedNode(expected), "study": study},
    )
    assert bool(ask)
