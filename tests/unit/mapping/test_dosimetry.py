"""The dosimetry mappings against the ontology, and the mapper's graph shape."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS

from tests.builders_dosimetry import report_document
from theragraph.ingest.dosimetry import read_report
from theragraph.mapping.dosimetry import map_report
from theragraph.resources import list_resources, resource_path
from theragraph.vocab import TG

MY_FILES = [
    ("mappings", "dosimetry/report.yaml"),
    ("mappings", "dosimetry/dvh.yaml"),
    ("queries", "find-patients-kidney-bed-over.rq"),
    ("queries", "list-lesion-dose-vs-baseline-suv.rq"),
    ("queries", "list-dose-per-cycle.rq"),
    ("queries", "list-dvh-statistics.rq"),
    ("queries", "construct-cumulative-dose.rq"),
]
#: Terms the dosimetry module shares with modules declared in other files (merged later):
#: tg:cycleNumber (clinical.ttl), tg:radiopharmaceutical / tg:radionuclide (dicom.ttl,
#: clinical.ttl), tg:MedicationAdministration (clinical.ttl), tg:Series and tg:ROI (dicom.ttl).
DECLARED_ELSEWHERE = {
    "cycleNumber",
    "radiopharmaceutical",
    "radionuclide",
    "MedicationAdministration",
    "Series",
    "ROI",
}


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in list_resources("ontology", ".ttl"):
        graph.parse(path)
    return graph


def _terms(text: str) -> set[str]:
    return set(re.findall(r"\btg:([A-Za-z][A-Za-z0-9]*)", text)) | set(
        re.findall(re.escape(str(TG)) + r"([A-Za-z][A-Za-z0-9]*)", text)
    )


def test_every_term_used_is_declared_with_label_and_definition(ontology) -> None:
    missing = []
    for kind, name in MY_FILES:
        for term in sorted(_terms(resource_path(kind, name).read_text())):
            iri = TG[term]
            declared = (iri, None, None) in ontology
            if not declared and term in DECLARED_ELSEWHERE:
                continue
            if not (
                declared
                and (iri, RDFS.label, None) in ontology
                and (iri, SKOS.definition, None) in ontology
            ):
                missing.append(f"{name}: tg:{term}")
    assert missing == []


def test_dosimetry_ontology_terms_all_have_label_and_definition() -> None:
    graph = rdflib.Graph().parse(resource_path("ontology", "dosimetry.ttl"))
    subjects = {s for s in graph.subjects() if str(s).startswith(str(TG))}
    assert len(subjects) > 80
    for s in subjects:
        assert (s, RDFS.label, None) in graph, s
        assert (s, SKOS.definition, None) in graph, s


def test_mapped_report_has_one_node_per_workflow_step(pseudonymizer) -> None:
    record = read_report(report_document(), pseudonymizer=pseudonymizer).record
    graph = map_report(record)
    types: dict[str, int] = {}
    for t in graph.triples:
        if t.predicate.value.endswith("#type") and t.object.value.startswith(str(TG)):
            local = t.object.value.split("#")[1]
            types[local] = types.get(local, 0) + 1
    assert types["DosimetryReport"] == 1
    assert types["TherapyCycle"] == 1
    assert types["ImagingTimePoint"] == 2
    assert types["ActivityMeasurement"] == 3  # kidney at tp1 and tp2, lesion at tp1
    assert types["TimeActivityCurveFit"] == 2
    assert types["AbsorbedDose"] == 2
    assert types["BiologicallyEffectiveDose"] == 2  # kidney (fit) and lesion (physical decay)
    assert types["Calibration"] == 1
    assert graph.kind == "dosimetry"
    assert graph.patient.endswith(record.patient)
