"""The declarative FHIR mapping: classes, units, links, PHI, bad input through the pipeline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests import fhir_builders as fb
from theragraph.ids import Pseudonymizer, mint_iri, patient_iri
from theragraph.pipeline.fhir_source import FhirHandler
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext
from theragraph.report import IngestReport
from theragraph.store.oxigraph import OxigraphStore
from theragraph.vocab import TG


def ingest(store: OxigraphStore, pseudonymizer: Pseudonymizer, root: Path) -> IngestReport:
    ctx = IngestContext(pseudonymizer=pseudonymizer, root=root)
    return IngestPipeline(store, ctx, handlers=[FhirHandler()]).run([root])


def values(store: OxigraphStore, where: str) -> list[str]:
    return sorted(r["v"].value for r in store.query(f"PREFIX tg: <{TG}> SELECT ?v WHERE {{ {where} }}"))


def test_radiopharmaceutical_activity_is_harmonised_to_mbq(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    fb.write_json(tmp_path / "b.json", fb.bundle([
        fb.patient("p1", mrn="M1"),
        fb.lu_psma_cycle("a1", "p1", 1, "2021-01-01T10:00:00Z", 7.4, "GBq"),
        fb.lu_psma_cycle("a2", "p1", 2, "2021-02-12T10:00:00Z", 200.0, "mCi"),
        fb.lu_psma_cycle("a3", "p1", 3, "2021-03-26T10:00:00Z", 7_400_000_000.0, "Bq"),
    ]))
    ingest(memory_store, pseudonymizer, tmp_path)
    got = values(memory_store, "?a a tg:RadiopharmaceuticalTherapy ; tg:administeredActivity ?v")
    assert [float(v) for v in got] == pytest.approx([7400.0, 7400.0, 7400.0])
    assert values(memory_store, "?a tg:radionuclide ?v") == ["http://snomed.info/id/447553000"] * 3
    assert values(memory_store, "?a tg:cycleNumber ?v") == ["1", "2", "3"]


def test_lab_units_are_normalised_per_loinc_code(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    fb.write_json(tmp_path / "b.json", fb.bundle([
        fb.patient("p1", mrn="M1"), fb.psa("o1", "p1", 12.0, "2021-01-01", "ug/L"), fb.psa("o2", "p1", 0.5, "2021-02-01", "ng/mL"),
    ]))
    ingest(memory_store, pseudonymizer, tmp_path)
    assert [float(v) for v in values(memory_store, "?o a tg:TumorMarkerTest ; tg:valueNumber ?v")] == [0.5, 12.0]
    assert set(values(memory_store, "?o tg:valueUnit ?v")) == {"http://unitsofmeasure.org/ng%2FmL"}


def test_tnm_stage_group_has_staging_system_and_condition_histology(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    cond = fb.primary_cancer("c1", "p1")
    cond["extension"] = [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior",
                          "valueCodeableConcept": {"coding": [{"system": fb.SCT, "code": "41919005"}]}}]
    fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M1"), cond, fb.tnm_stage_group("s1", "p1", "1222806003", "2019-03-01")]))
    ingest(memory_store, pseudonymizer, tmp_path)
    assert values(memory_store, "?s a tg:TNMStageGroup ; tg:stagingSystem ?v") == ["http://snomed.info/id/897275008"]
    assert values(memory_store, "?c a tg:PrimaryCancerCondition ; tg:histologyMorphologyBehavior ?v") == ["http://snomed.info/id/41919005"]


def test_imaging_study_links_to_the_dicom_study_iri(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M1"), fb.imaging_study("i1", "p1", "1.2.3.4.5", "2021-01-01T09:00:00Z")]))
    ingest(memory_store, pseudonymizer, tmp_path)
    assert values(memory_store, "?i tg:describesStudy ?v") == [str(mint_iri("study", pseudonymizer.uid("1.2.3.4.5")))]


def test_no_phi_in_the_store(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    p = fb.patient("patient-alexander-doe", mrn="MRN-884422", name="Doe", birth="1950-05-17",
                   deceasedDateTime="2022-07-09")
    fb.write_json(tmp_path / "b.json", fb.bundle([p, fb.primary_cancer("c1", "patient-alexander-doe"),
                                                   fb.psa("o1", "patient-alexander-doe", 3.0, "2021-01-01")]))
    report = ingest(memory_store, pseudonymizer, tmp_path)
    assert not report.failed
    out = io.BytesIO()
    memory_store.dump(out)
    dump = out.getvalue().decode()
    for phi in ("MRN-884422", "Doe", "Alexander", "Baker Street", "Marylebone", "NW1 6XE", "7946 0958",
                "doe@mail.example", "1950-05-17", "2022-07-09", "2021-01-01", "patient-alexander-doe"):
        assert phi not in dump, phi
    pseudo = pseudonymizer.patient(fb.MRN_SYSTEM, "MRN-884422")
    assert values(memory_store, f"<{patient_iri(pseudo)}> tg:deathDate ?v") != []


def test_bad_input_is_reported_and_the_rest_lands(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    (tmp_path / "broken.json").write_text('{"resourceType": "Patient", "id": ')
    bad = fb.psa("bad-obs", "p1", 1.0, "2021-01-01")
    bad["status"] = 42
    dangling = fb.psa("dangling-obs", "p1", 1.0, "2021-01-01")
    dangling["specimen"] = {"reference": "Specimen/missing"}
    fb.write_json(tmp_path / "b.json", fb.bundle([
        fb.patient("p1", mrn="M1"), bad, {"resourceType": "Spaceship", "id": "enterprise"}, dangling, fb.psa("ok", "p1", 2.0, "2021-01-01"),
    ]))
    report = ingest(memory_store, pseudonymizer, tmp_path)
    issues = {(f.path, i.code): i for f in report.files for i in f.issues}
    assert issues[("broken.json", "read.invalid-json")]
    assert "Observation/bad-obs" in issues[("b.json", "read.invalid-resource")].location
    assert "Spaceship/enterprise" in issues[("b.json", "read.unknown-resource-type")].location
    assert "Observation/dangling-obs" in issues[("b.json", "link.dangling-reference")].location
    assert report.exit_code() == 1
    assert len(values(memory_store, "?o a tg:TumorMarkerTest . BIND(?o AS ?v)")) == 2


def test_unmapped_elements_and_types_are_counted(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    obs = fb.psa("o1", "p1", 1.0, "2021-01-01")
    obs["performer"] = [{"reference": "Practitioner/dr"}]
    fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M1"), obs,
                                                   {"resourceType": "Practitioner", "id": "dr"}]))
    report = ingest(memory_store, pseudonymizer, tmp_path)
    assert report.counts["unmapped-element.Observation.performer"] == 1
    assert report.counts["unmapped-resource-type.Practitioner"] == 1
    assert report.counts["deid-dropped.mcode-cancer-patient.name"] == 1
    assert report.counts["deid-dropped.mcode-cancer-patient.identifier"] == 1


def test_administration_identifier_becomes_the_dosimetry_join_key(tmp_path: Path, pseudonymizer: Pseudonymizer, memory_store: OxigraphStore) -> None:
    admin = fb.lu_psma_cycle("a1", "p1", 1, "2021-01-01T10:00:00Z", 7.4)
    admin["identifier"] = [{"system": "urn:oid:1.2.3.4.5.6", "value": "MA-0001-1"}]
    fb.write_json(tmp_path / "b.json", fb.bundle([fb.patient("p1", mrn="M1"), admin]))
    ingest(memory_store, pseudonymizer, tmp_path)
    # the same token the dosimetry reader computes from therapy_cycle.medication_administration
    assert values(memory_store, "?a tg:administrationKey ?v") == [
        pseudonymizer.token("administration", "urn:oid:1.2.3.4.5.6|MA-0001-1")]
    assert "MA-0001-1" not in str(list(memory_store.quads()))


def test_fast_iris_equal_the_minted_ones(pseudonymizer: Pseudonymizer) -> None:
    from theragraph.ids import graph_iri  # noqa: PLC0415
    from theragraph.mapping.fhir import FhirMapper  # noqa: PLC0415
    from theragraph.records.fhir import FhirRecord  # noqa: PLC0415

    graph = FhirMapper().map_record(FhirRecord("Observation", "abc", patient="xyz", data={}))
    assert graph.graph == str(graph_iri("fhir", "abc"))
    assert graph.patient == str(patient_iri("xyz"))
    assert FhirMapper.resource_iri("Observation", "abc").value == str(mint_iri("fhir/Observation", "abc"))


def test_every_term_of_the_fhir_mappings_and_queries_is_declared_with_label_and_definition() -> None:
    import re  # noqa: PLC0415

    import rdflib  # noqa: PLC0415
    from rdflib.namespace import RDFS, SKOS  # noqa: PLC0415

    from theragraph.resources import list_resources  # noqa: PLC0415

    onto = rdflib.Graph()
    for path in list_resources("ontology", ".ttl"):
        onto.parse(path, format="turtle")
    texts = [p.read_text() for p in list_resources("mappings", ".yaml") if p.parent.name == "fhir"]
    texts += [p.read_text() for p in list_resources("queries", ".rq")]
    names = {m for text in texts for m in re.findall(r"\btg:([A-Za-z][A-Za-z0-9]*)", text)}
    names |= {"hasPatient", "references", "fhirResourceType", "fhirResourceKey", "pseudonym", "valueUnit",
              "ratioNumerator", "ratioDenominator", "radiopharmaceutical", "radionuclide", "FhirResource",
              "RadiopharmaceuticalTherapy"}
    missing = [n for n in sorted(names)
               if (rdflib.URIRef(str(TG[n])), RDFS.label, None) not in onto
               or (rdflib.URIRef(str(TG[n])), SKOS.definition, None) not in onto]
    assert missing == []
