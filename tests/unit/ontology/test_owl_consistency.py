"""Every ontology/*.ttl file loads in owlready2 and the whole ontology is consistent (HermiT)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib

from theragraph.resources import list_resources

pytestmark = pytest.mark.java


def test_all_ontology_files_are_consistent_with_hermit(tmp_path: Path) -> None:
    owlready2 = pytest.importorskip("owlready2")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for HermiT")
    files = list_resources("ontology", ".ttl")
    assert any(f.name == "dicom.ttl" for f in files) and any(f.name == "core.ttl" for f in files)
    merged = rdflib.Graph()
    for path in files:
        merged.parse(path, format="turtle")  # owlready2 reads no Turtle: convert first
    nt = tmp_path / "theragraph.nt"
    merged.serialize(nt, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(nt.as_uri()).load()
    with onto:
        owlready2.sync_reasoner(world, infer_property_values=False, debug=0)
    inconsistent = list(world.inconsistent_classes())
    assert inconsistent == [], f"unsatisfiable classes: {inconsistent}"
    # HermiT raises OwlReadyInconsistentOntologyError for an inconsistent ontology, so reaching
    # here proves consistency; also check the DICOM classes made it into the world.
    assert world.search_one(iri="https://w3id.org/theragraph/ontology#RadiopharmaceuticalAdministration")
