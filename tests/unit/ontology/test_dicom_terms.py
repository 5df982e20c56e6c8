"""Every tg: term the DICOM mapping uses is declared in ontology/ with a label and a definition."""

from __future__ import annotations

import re
from pathlib import Path

import rdflib
from rdflib.namespace import RDFS, SKOS

from theragraph.mapping.base import load_mapping
from theragraph.resources import list_resources, resource_path
from theragraph.vocab import TG


def _declared() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in list_resources("ontology", ".ttl"):
        g.parse(path, format="turtle")
    return g


def _mapping_terms() -> set[str]:
    terms: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("property", "factor", "rule", "reason", "relation", "class", "link",
                           "number_property") and isinstance(value, str):
                    terms.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    curated = load_mapping("dicom/curated.yaml")
    walk(curated)
    walk(load_mapping("dicom/references.yaml"))
    terms.update(curated["modality_classes"].values())
    terms.update(curated["instance_classes"].values())
    terms.update(curated["suv"]["variants"].values())
    # terms named in the mapper's code
    source = Path(str(resource_path("mappings", "dicom/curated.yaml"))).parents[2] / "src/theragraph/mapping/dicom.py"
    if source.is_file():
        terms.update(re.findall(r'_tg\("([A-Za-z]+)"\)', source.read_text()))
    return terms


def test_every_mapped_term_is_declared_with_label_and_definition() -> None:
    g = _declared()
    missing = []
    for name in sorted(_mapping_terms()):
        iri = TG[name]
        if (iri, RDFS.label, None) not in g or (iri, SKOS.definition, None) not in g:
            missing.append(name)
    assert missing == []


def test_quantity_properties_carry_a_ucum_unit() -> None:
    g = _declared()
    curated = load_mapping("dicom/curated.yaml")
    for section in ("series", "acquisition", "reconstruction"):
        for spec in curated[section]:
            if "unit" in spec:
                assert (TG[spec["property"]], TG.unit, rdflib.URIRef(f"http://unitsofmeasure.org/{spec['unit']}")) in g
