"""Regression: a target class with subclasses and an ``sh:class`` with subclasses in one shape.

Both expanded to ``VALUES ?cls_sub {...}``; the target's binding leaked into the nested class check,
so every ``tg:Instance`` whose series is a ``tg:Series`` was reported (553 false results on a
12-patient cohort) while pyshacl reported none.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import OxigraphStore
from theragraph.validate.run import validate_store

TG = "https://w3id.org/theragraph/ontology#"
ONTOLOGY = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix tg: <{TG}> .
tg:StructureSet rdfs:subClassOf tg:Instance .
tg:PETSeries rdfs:subClassOf tg:Series .
"""
SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix tg: <{TG}> .
<urn:shape> a sh:NodeShape ; sh:targetClass tg:Instance ;
    sh:property [ sh:path tg:inSeries ; sh:class tg:Series ; sh:nodeKind sh:IRI ] .
"""


def test_target_and_class_subclasses_do_not_share_a_variable(tmp_path: Path) -> None:
    (tmp_path / "onto.ttl").write_text(ONTOLOGY)
    (tmp_path / "shapes.ttl").write_text(SHAPES)
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    i, s, bad = (ox.NamedNode(f"urn:{x}") for x in ("i", "s", "bad"))
    triples = [
        ox.Triple(i, rdf_type, ox.NamedNode(TG + "Instance")),
        ox.Triple(i, ox.NamedNode(TG + "inSeries"), s),
        ox.Triple(s, rdf_type, ox.NamedNode(TG + "PETSeries")),
        ox.Triple(bad, rdf_type, ox.NamedNode(TG + "StructureSet")),
        ox.Triple(bad, ox.NamedNode(TG + "inSeries"), i),  # an instance, not a series
    ]
    store = OxigraphStore(None)
    store.replace_graphs([GraphWrite("urn:g", triples)])
    args = {"shapes": [tmp_path / "shapes.ttl"], "ontology": [tmp_path / "onto.ttl"]}
    fast = validate_store(store, engine="fast", **args)
    ref = validate_store(store, engine="pyshacl", **args)
    assert [str(r.focus) for r in fast.results] == ["urn:bad"]
    assert {r.key() for r in fast.results} == {r.key() for r in ref.results}
