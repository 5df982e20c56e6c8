"""Load a SHACL shapes graph into a model: node/property shapes, targets, paths, constraints.

This module only reads the shapes graph (rdflib); it knows nothing of SPARQL or of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node


class _Vocabulary(str):
    """A namespace whose terms are made once (rdflib's Namespace builds a URIRef per access)."""

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        term = URIRef(str(self) + name)
        self.__dict__[name] = term
        return term

    def __getitem__(self, name: str) -> URIRef:  # type: ignore[override]
        return self.__getattr__(name)


SH = _Vocabulary("http://www.w3.org/ns/shacl#")

#: Parameters of the SHACL Core constraint components (W3C SHACL §4), mapped to the component.
#: A component with several parameters is keyed by its main parameter.
COMPONENTS: dict[URIRef, URIRef] = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.equals: SH.EqualsConstraintComponent,
    SH.disjoint: SH.DisjointConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH.property: SH.PropertyConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.closed: SH.ClosedConstraintComponent,
    SH.sparql: SH.SPARQLConstraintComponent,
}


class ShapesError(ValueError):
    """The shapes graph is malformed (e.g. a property shape without a well-formed sh:path)."""


@dataclass(frozen=True, slots=True)
class Path:
    """A SHACL property path (W3C SHACL §2.3.1).

    Attributes:
        kind: ``predicate``, ``inverse``, ``sequence``, ``alternative``, ``zeroOrMore``,
            ``oneOrMore`` or ``zeroOrOne``.
        iri: the predicate (``predicate`` only).
        items: the sub-paths (one for the unary forms).
        node: the path's node in the shapes graph, copied into ``sh:resultPath``.
    """

    kind: str
    iri: URIRef | None = None
    items: tuple[Path, ...] = ()
    node: Node | None = None

    def to_sparql(self) -> str:
        """Return the path as a SPARQL 1.1 property path expression."""
        if self.kind == "predicate":
            return f"<{self.iri}>"
        if self.kind == "inverse":
            return f"^({self.items[0].to_sparql()})"
        if self.kind == "sequence":
            return "(" + "/".join(i.to_sparql() for i in self.items) + ")"
        if self.kind == "alternative":
            return "(" + "|".join(i.to_sparql() for i in self.items) + ")"
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.kind]
        return f"({self.items[0].to_sparql()}){suffix}"

    def may_be_empty(self) -> bool:
        """Return True when the path can match zero steps (the focus node is its own value)."""
        if self.kind in ("zeroOrMore", "zeroOrOne"):
            return True
        if self.kind == "sequence":
            return all(i.may_be_empty() for i in self.items)
        if self.kind == "alternative":
            return any(i.may_be_empty() for i in self.items)
        if self.kind == "inverse":
            return self.items[0].may_be_empty()
        return False


@dataclass(slots=True)
class Constraint:
    """One constraint: a component with its parameter values, declared on one shape."""

    component: URIRef
    params: dict[URIRef, Any]
    node: Node | None = None  # the sh:sparql constraint node, when a SPARQL-based constraint


@dataclass(slots=True)
class Shape:
    """A node shape or a property shape."""

    node: Node
    path: Path | None = None
    targets: list[tuple[URIRef, Node]] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    severity: URIRef = SH.Violation
    messages: list[Node] = field(default_factory=list)
    deactivated: bool = False

    @property
    def is_property(self) -> bool:
        """Return True for a property shape (one with ``sh:path``)."""
        return self.path is not None


class ShapesGraph:
    """The parsed shapes graph: every shape by node, and the graph for look-ups."""

    def __init__(self, graph: Graph) -> None:
        """Parse every shape in ``graph``.

        Raises:
            ShapesError: when a shape is malformed.
        """
        self.graph = graph
        self.shapes: dict[Node, Shape] = {}
        self._custom: set[Node] | None = None
        self._referenced: dict[Node, set[Node]] = {}
        for node in self._shape_nodes():
            self.shape(node)

    def _shape_nodes(self) -> list[Node]:
        g = self.graph
        nodes: set[Node] = set()
        for cls in (SH.NodeShape, SH.PropertyShape):
            nodes.update(g.subjects(RDF.type, cls))
            nodes.update(g.transitive_subjects(RDFS.subClassOf, cls))
        nodes.update(s for s in g.subjects(RDF.type, None) if (s, RDF.type, SH.NodeShape) in g)
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.path):
            nodes.update(g.subjects(p, None))
        for p in (SH.property, SH.node, SH.qualifiedValueShape, SH["not"]):
            nodes.update(g.objects(None, p))
        for p in (SH["and"], SH["or"], SH.xone):
            for lst in g.objects(None, p):
                nodes.update(self.list_items(lst))
        # Subclasses of sh:NodeShape etc. declared as types
        shape_classes = {SH.NodeShape, SH.PropertyShape, SH.Shape}
        shape_classes.update(g.transitive_subjects(RDFS.subClassOf, SH.Shape))
        for cls in list(shape_classes):
            shape_classes.update(g.transitive_subjects(RDFS.subClassOf, cls))
        for cls in shape_classes:
            nodes.update(g.subjects(RDF.type, cls))
        return sorted(nodes, key=str)

    def list_items(self, node: Node) -> list[Node]:
        """Return the members of the RDF list at ``node``."""
        if node == RDF.nil:
            return []
        return list(Collection(self.graph, node))

    def shape(self, node: Node) -> Shape:
        """Return the shape at ``node``, parsing it on first use."""
        if node in self.shapes:
            return self.shapes[node]
        g = self.graph
        shape = Shape(node=node)
        self.shapes[node] = shape
        path_node = g.value(node, SH.path)
        if path_node is not None:
            shape.path = self.parse_path(path_node)
        shape.severity = g.value(node, SH.severity) or SH.Violation  # type: ignore[assignment]
        shape.messages = list(g.objects(node, SH.message))
        deact = g.value(node, SH.deactivated)
        shape.deactivated = _is_true(deact)
        for p in (SH.targetNode, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf):
            shape.targets.extend((p, o) for o in g.objects(node, p))
        if (node, RDF.type, RDFS.Class) in g or (
            node,
            RDF.type,
            URIRef("http://www.w3.org/2002/07/owl#Class"),
        ) in g:
            if isinstance(node, URIRef) and not shape.is_property:
                shape.targets.append((SH.targetClass, node))
            elif isinstance(node, URIRef):
                shape.targets.append((SH.targetClass, node))
        shape.constraints = self._constraints(node)
        return shape

    def _constraints(self, node: Node) -> list[Constraint]:
        g = self.graph
        out: list[Constraint] = []
        for param, comp in COMPONENTS.items():
            values = list(g.objects(node, param))
            if not values:
                continue
            if param in (SH.closed,):
                if not any(_is_true(v) for v in values):
                    continue
                ignored: list[Node] = []
                for lst in g.objects(node, SH.ignoredProperties):
                    ignored.extend(self.list_items(lst))
                out.append(Constraint(comp, {SH.closed: True, SH.ignoredProperties: ignored}))
                continue
            if param == SH.sparql:
                for v in values:
                    out.append(Constraint(comp, {SH.sparql: v}, node=v))
                continue
            for v in values:
                params: dict[URIRef, Any] = {param: v}
                if param in (SH["and"], SH["or"], SH.xone, SH["in"], SH.languageIn):
                    params[param] = self.list_items(v)
                if param == SH.pattern:
                    params[SH.flags] = g.value(node, SH.flags)
                out.append(Constraint(comp, params))
        # qualified value shapes: one constraint per sh:qualifiedValueShape with its counts
        for q in g.objects(node, SH.qualifiedValueShape):
            qmin = g.value(node, SH.qualifiedMinCount)
            qmax = g.value(node, SH.qualifiedMaxCount)
            disjoint = g.value(node, SH.qualifiedValueShapesDisjoint)
            is_disjoint = _is_true(disjoint)
            siblings: list[Node] = []
            if is_disjoint:
                for parent in g.subjects(SH.property, node):
                    for sib in g.objects(parent, SH.property):
                        for sq in g.objects(sib, SH.qualifiedValueShape):
                            if sq != q:
                                siblings.append(sq)
            if qmin is not None:
                out.append(
                    Constraint(
                        SH.QualifiedMinCountConstraintComponent,
                        {
                            SH.qualifiedValueShape: q,
                            SH.qualifiedMinCount: int(qmin),
                            "siblings": siblings,
                        },
                    )
                )
            if qmax is not None:
                out.append(
                    Constraint(
                        SH.QualifiedMaxCountConstraintComponent,
                        {
                            SH.qualifiedValueShape: q,
                            SH.qualifiedMaxCount: int(qmax),
                            "siblings": siblings,
                        },
                    )
                )
        return out

    def parse_path(self, node: Node) -> Path:
        """Parse the SHACL path at ``node``.

        Raises:
            ShapesError: when the path is not well-formed.
        """
        g = self.graph
        if isinstance(node, URIRef):
            return Path("predicate", iri=node, node=node)
        if not isinstance(node, BNode):
            raise ShapesError(f"ill-formed sh:path {node!r}")
        if (node, RDF.first, None) in g:
            items = tuple(self.parse_path(i) for i in self.list_items(node))
            if len(items) < 2:
                raise ShapesError("a sequence path needs at least two members")
            return Path("sequence", items=items, node=node)
        for pred, kind in (
            (SH.inversePath, "inverse"),
            (SH.zeroOrMorePath, "zeroOrMore"),
            (SH.oneOrMorePath, "oneOrMore"),
            (SH.zeroOrOnePath, "zeroOrOne"),
        ):
            inner = g.value(node, pred)
            if inner is not None:
                return Path(kind, items=(self.parse_path(inner),), node=node)
        alt = g.value(node, SH.alternativePath)
        if alt is not None:
            items = tuple(self.parse_path(i) for i in self.list_items(alt))
            return Path("alternative", items=items, node=node)
        raise ShapesError(f"ill-formed sh:path {node!r}")

    def custom_component_shapes(self) -> set[Node]:
        """Return the shapes that use a SPARQL-based constraint component (SHACL §6).

        A shape uses a component when it has a value for each mandatory parameter.
        """
        if self._custom is not None:
            return self._custom
        g = self.graph
        out: set[Node] = set()
        for comp in set(g.subjects(SH.parameter, None)):
            mandatory = []
            for param in g.objects(comp, SH.parameter):
                if _is_true(g.value(param, SH.optional)):
                    continue
                path = g.value(param, SH.path)
                if path is not None:
                    mandatory.append(path)
            if not mandatory:
                continue
            for node in self.shapes:
                if all((node, p, None) in g for p in mandatory):
                    out.add(node)
        self._custom = out
        return out

    def referenced(self, node: Node) -> set[Node]:
        """Return ``node`` and every shape it reaches through shape-based parameters."""
        if node in self._referenced:
            return self._referenced[node]
        g = self.graph
        seen: set[Node] = set()
        todo = [node]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
                todo.extend(g.objects(n, p))
            for p in (SH["and"], SH["or"], SH.xone):
                for lst in g.objects(n, p):
                    todo.extend(self.list_items(lst))
        self._referenced[node] = seen
        return seen

    def top_level(self) -> list[Shape]:
        """Return the shapes that have targets (the entry points of validation)."""
        return [s for s in self.shapes.values() if s.targets]


def _is_true(term: object) -> bool:
    return isinstance(term, Literal) and str(term) == "true"


def parse_graph(paths: Sequence[FilePath | str]) -> Graph:
    """Parse RDF files into one rdflib graph, keeping literals as written (no normalisation).

    Raises:
        Exception: rdflib's parser errors for malformed files.
    """
    import rdflib

    graph = Graph()
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        for path in paths:
            path = FilePath(path)
            fmt = rdflib.util.guess_format(str(path)) or "turtle"
            graph.parse(path, format=fmt, publicID=path.resolve().as_uri())
    finally:
        rdflib.NORMALIZE_LITERALS = previous
    return graph


def load_shapes(graph: Graph) -> ShapesGraph:
    """Parse ``graph`` into a :class:`ShapesGraph`.

    Raises:
        ShapesError: when a shape is malformed.
    """
    return ShapesGraph(graph)
