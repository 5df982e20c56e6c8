"""The dosimetry ontology module with the core module is consistent under HermiT."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib

from theragraph.resources import resource_path


@pytest.mark.java
def test_dosimetry_module_is_consistent_with_hermit(tmp_path: Path) -> None:
    owlready2 = pytest.importorskip("owlready2")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for HermiT")
    merged = rdflib.Graph()
    for name in ("core.ttl", "dosimetry.ttl"):
        merged.parse(resource_path("ontology", name), format="turtle")
    nt = tmp_path / "dosimetry.nt"
    merged.serialize(nt, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(nt.as_uri()).load()
    with onto:
        owlready2.sync_reasoner(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    assert world.search_one(iri="https://w3id.org/theragraph/ontology#AbsorbedDose")
