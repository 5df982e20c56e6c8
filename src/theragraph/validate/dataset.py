"""The data graph the fast engine validates: a SPARQL source plus the literals as written.

pyoxigraph's store keeps literals in canonical form ("01"^^xsd:integer becomes "1", xsd:byte becomes
xsd:integer, language tags are lower-cased). SHACL reports literals as written in the data, and
sh:datatype must see the declared datatype, so when data is loaded from files this module keeps a
map from each changed (canonical) literal back to the literal(s) as written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Literal
from rdflib.term import Node

from theragraph.validate.terms import from_ox

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_UPPER = re.compile(rb'"@[a-zA-Z]*[A-Z][a-zA-Z0-9-]*|"@[a-zA-Z]+-[a-zA-Z0-9-]*[A-Z]')


@dataclass
class DataGraph:
    """A data graph reachable by SPARQL, with the original forms of canonicalised literals.

    Attributes:
        store: a pyoxigraph store (data in its default graph) or a Theragraph ``Store``.
        originals: canonical literal -> the literals as written (only those that differ).
        union_default_graph: query the union of named graphs (a Theragraph store).
    """

    store: Any
    originals: dict[Any, list[Node]] = field(default_factory=dict)
    union_default_graph: bool = False
    hierarchy: dict[str, set[str]] = field(default_factory=dict)

    def select(self, sparql: str, substitutions: dict[Any, Any] | None = None) -> list[Any]:
        """Run a SELECT and return its solutions."""
        if isinstance(self.store, ox.Store):
            return list(self.store.query(sparql, substitutions=substitutions))
        named = {getattr(k, "value", k): v for k, v in (substitutions or {}).items()} or None
        return list(
            self.store.query(
                sparql, substitutions=named, union_default_graph=self.union_default_graph
            )
        )

    def to_report_term(self, term: Any) -> Node:
        """Return ``term`` as written in the data (the first original, if it was changed)."""
        if isinstance(term, ox.Literal):
            orig = self.originals.get(term)
            if orig:
                return orig[0]
        return from_ox(term)

    def written_forms(self, term: Any) -> list[Node]:
        """Return every literal as written that the store holds as ``term``."""
        if isinstance(term, ox.Literal) and term in self.originals:
            return list(self.originals[term])
        return [from_ox(term)]


def canonical_forms(literals: Iterable[ox.Literal]) -> dict[Any, list[Node]]:
    """Map each literal the store would change to its canonical form, via a scratch store."""
    candidates = [
        lit for lit in set(literals) if not lit.language and lit.datatype.value != _XSD_STRING
    ]
    if not candidates:
        return {}
    scratch = ox.Store()
    pred = ox.NamedNode("urn:x-theragraph:v")
    scratch.extend(
        ox.Quad(ox.NamedNode(f"urn:x-theragraph:{i}"), pred, lit)
        for i, lit in enumerate(candidates)
    )
    out: dict[Any, list[Node]] = defaultdict(list)
    for quad in scratch.quads_for_pattern(None, pred, None):
        i = int(quad.subject.value.rsplit(":", 1)[1])
        original = candidates[i]
        if quad.object != original or quad.object.datatype != original.datatype:
            out[quad.object].append(from_ox(original))
    return dict(out)


def _language_originals(raw: bytes, fmt: ox.RdfFormat) -> dict[Any, list[Node]]:
    """Return lower-cased language literals mapped to their mixed-case forms (via rdflib)."""
    import rdflib

    name = {
        ox.RdfFormat.TURTLE: "turtle",
        ox.RdfFormat.N_TRIPLES: "nt",
        ox.RdfFormat.N_QUADS: "nquads",
        ox.RdfFormat.TRIG: "trig",
        ox.RdfFormat.RDF_XML: "xml",
    }.get(fmt)
    if name is None:
        return {}
    g = rdflib.Dataset() if name in ("nquads", "trig") else rdflib.Graph()
    g.parse(data=raw, format=name)
    out: dict[Any, list[Node]] = defaultdict(list)
    for o in (
        set(g.objects(None, None))
        if name not in ("nquads", "trig")
        else set(q[2] for q in g.quads())
    ):
        if isinstance(o, Literal) and o.language and o.language != o.language.lower():
            out[ox.Literal(str(o), language=o.language.lower())].append(o)
    return dict(out)


def class_hierarchy(graph: Any) -> dict[str, set[str]]:
    """Return class IRI -> its subclasses (reflexive, transitive) from an rdflib graph."""
    from rdflib import RDFS, URIRef

    direct: dict[str, set[str]] = defaultdict(set)
    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct[str(sup)].add(str(sub))
    out: dict[str, set[str]] = {}
    for cls in list(direct):
        seen = {cls}
        todo = [cls]
        while todo:
            for sub in direct.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        out[cls] = seen
    return out


def load_files(paths: Sequence[Path | str]) -> tuple[DataGraph, list[ox.Quad]]:
    """Parse RDF files into an in-memory store (default graph) with the literals as written.

    Returns:
        The data graph and the parsed quads (shared with the shapes graph when the same file).

    Raises:
        SyntaxError: when a file does not parse (with line and column).
        ValueError: when the file extension names no RDF format.
    """
    store = ox.Store()
    quads: list[ox.Quad] = []
    originals: dict[Any, list[Node]] = {}
    for path in paths:
        path = Path(path)
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.TURTLE
        raw = path.read_bytes()
        base = path.resolve().as_uri()
        parsed = [
            ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
            for q in ox.parse(raw, format=fmt, base_iri=base)
        ]
        quads.extend(parsed)
        if _LANG_UPPER.search(raw):
            originals.update(_language_originals(raw, fmt))
    store.extend(quads)
    for lit, forms in canonical_forms(
        q.object for q in quads if isinstance(q.object, ox.Literal)
    ).items():
        originals.setdefault(lit, []).extend(forms)
    return DataGraph(store, originals), quads
