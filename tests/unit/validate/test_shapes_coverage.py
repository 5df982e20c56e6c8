"""Shapes and ontology agree: every class the mappings produce has a shape, and every tg: term a
shape uses (targets, paths, classes, SPARQL text) is declared with a label and a definition."""

from __future__ import annotations

import re
from pathlib import Path

import rdflib
import yaml
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from theragraph.resources import list_resources
from theragraph.validate.run import default_shapes
from theragraph.vocab import TG

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_TG_IN_TEXT = re.compile(re.escape(str(TG)) + r"([A-Za-z][A-Za-z0-9_]*)")


def _ontology() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in list_resources("ontology", ".ttl"):
        g.parse(path, format="turtle")
    return g


def _shapes() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in default_shapes():
        g.parse(path, format="turtle")
    return g


def _strings(node: object) -> set[str]:
    if isinstance(node, dict):
        return {s for k, v in node.items() for s in _strings(k) | _strings(v)}
    if isinstance(node, list):
        return {s for v in node for s in _strings(v)}
    return {node} if isinstance(node, str) else set()


def _mapped_classes(onto: rdflib.Graph) -> set[rdflib.URIRef]:
    """tg: classes named anywhere in mappings/ (as ``Name``, ``tg:Name`` or a full IRI)."""
    classes = {c for c in onto.subjects(RDF.type, OWL.Class) if str(c).startswith(str(TG))}
    by_name = {str(c)[len(str(TG)):]: c for c in classes}
    found: set[rdflib.URIRef] = set()
    for path in list_resources("mappings", ".yaml"):
        for text in _strings(yaml.safe_load(Path(path).read_text())):
            name = text.removeprefix("tg:").removeprefix(str(TG))
            if name in by_name:
                found.add(by_name[name])
    return found


def test_every_mapped_class_has_a_shape() -> None:
    onto, shapes = _ontology(), _shapes()
    mapped = _mapped_classes(onto)
    assert len(mapped) >= 20  # the DICOM, FHIR and dosimetry mappings all name classes
    targeted = set(shapes.objects(None, SH.targetClass))
    assert sorted(str(c) for c in mapped - targeted) == []


def test_every_term_in_shapes_is_declared_with_label_and_definition() -> None:
    onto, shapes = _ontology(), _shapes()
    terms: set[rdflib.URIRef] = set()
    for s, p, o in shapes:
        for node in (s, p, o):
            if isinstance(node, rdflib.URIRef) and str(node).startswith(str(TG)):
                terms.add(node)
        if isinstance(o, rdflib.Literal) and p == SH.select:
            terms.update(TG[name] for name in _TG_IN_TEXT.findall(str(o)))
    assert len(terms) >= 30
    missing = sorted(
        str(t) for t in terms
        if (t, RDFS.label, None) not in onto or (t, SKOS.definition, None) not in onto
    )
    assert missing == []
