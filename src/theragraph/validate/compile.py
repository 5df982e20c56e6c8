"""Compile SHACL Core constraints to set-oriented SPARQL SELECT queries.

Each query checks one constraint of one shape for *all* focus nodes at once: the focus nodes come
from a group pattern (the targets, or a VALUES block for nested shapes) that binds ``?this``.
Every query projects ``?this`` (focus node) and, where the component reports one, ``?value``
(and ``?path`` for sh:closed). Shape-based components (sh:node, sh:not, sh:and, sh:or, sh:xone,
qualified value shapes, sh:property) are combined in :mod:`theragraph.validate.engine`; this module
only writes query text and knows nothing of stores.
"""

from __future__ import annotations

import re
import zlib

from rdflib import RDF, BNode, Literal, URIRef
from rdflib.term import Node

from theragraph.validate.shapes import SH, Constraint, Path, Shape, ShapesError
from theragraph.validate.terms import to_sparql

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_NS = str(RDF)
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"

#: XSD datatypes that oxigraph can cast from a string: a literal of one of these is well-formed
#: exactly when casting its lexical form succeeds (SHACL §4.2.2 requires ill-formed literals to
#: violate sh:datatype).
CASTABLE = {
    f"{XSD}{t}"
    for t in (
        "boolean",
        "double",
        "float",
        "decimal",
        "integer",
        "dateTime",
        "date",
        "time",
        "duration",
        "yearMonthDuration",
        "dayTimeDuration",
    )
}

#: Integer subtypes: well-formed when the lexical form is an integer within the range.
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    f"{XSD}{name}": rng
    for name, rng in {
        "nonNegativeInteger": (0, None),
        "positiveInteger": (1, None),
        "nonPositiveInteger": (None, 0),
        "negativeInteger": (None, -1),
        "long": (-(2**63), 2**63 - 1),
        "int": (-(2**31), 2**31 - 1),
        "short": (-32768, 32767),
        "byte": (-128, 127),
        "unsignedLong": (0, 2**64 - 1),
        "unsignedInt": (0, 2**32 - 1),
        "unsignedShort": (0, 65535),
        "unsignedByte": (0, 255),
    }.items()
}

NODE_KINDS: dict[URIRef, str] = {
    SH.IRI: "isIRI(?value)",
    SH.BlankNode: "isBlank(?value)",
    SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
    SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
    SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
}


def value_pattern(
    shape: Shape, *, bound: bool = False, this: str = "?this", value: str = "?value"
) -> str:
    """Return a group pattern that relates the focus node to each value node of ``shape``.

    Args:
        shape: the shape; a node shape's only value node is the focus node itself.
        bound: True when ``value`` is already bound (inside FILTER [NOT] EXISTS).
        this: the focus-node variable.
        value: the value-node variable.
    """
    if shape.path is None:
        if bound:
            return f"FILTER(sameTerm({this}, {value}))"
        return f"BIND({this} AS {value})"
    return path_pattern(shape.path, this=this, value=value, bound=bound)


def path_pattern(
    path: Path, *, this: str = "?this", value: str = "?value", bound: bool = False
) -> str:
    """Return ``this PATH value``, adding the zero-length match SPARQL engines skip.

    A zero-length path relates every focus node to itself, even one absent from the data graph
    (SHACL §2.3.1.5); oxigraph only matches zero-length paths on nodes in the graph.
    """
    triple = f"{this} {path.to_sparql()} {value} ."
    if not path.may_be_empty():
        return triple
    if bound:
        return f"{{ {triple} }} UNION {{ FILTER(sameTerm({this}, {value})) }}"
    return f"{{ {triple} }} UNION {{ BIND({this} AS {value}) }}"


def scannable(path: Path | None) -> bool:
    """Return True when ``path`` can be evaluated for all subjects at once, cheaply.

    Predicates, inverses, sequences and alternatives of them: their unbound evaluation is a scan
    (or a join of scans). Zero-or-more/one-or-more/zero-or-one paths are not.
    """
    if path is None:
        return False
    if path.kind == "predicate":
        return True
    if path.kind in ("inverse", "sequence", "alternative"):
        return all(scannable(i) for i in path.items)
    return False


def path_scan(path: Path, value: str = "?value") -> str:
    """Return a sub-select of every ``(?this, value)`` pair of ``path`` in the data.

    oxigraph joins a sub-select with the focus pattern by a hash join (one scan of the
    predicate), where an inline triple pattern is evaluated by one index look-up per focus node,
    about 5x slower when most nodes are focus nodes (measured in bench/RESULTS.md).
    """
    return f"{{ SELECT ?this {value} WHERE {{ ?this {path.to_sparql()} {value} . }} }}"


def values_union(shape: Shape, focus: str, *, scan: bool = False) -> str:
    """Return a pattern binding ``?this`` (from ``focus``) and each of its value nodes ``?value``.

    Zero-length paths need the focus pattern inside each UNION branch, so that BIND sees
    ``?this`` bound. With ``scan`` (many focus nodes) a scannable path is joined as a
    sub-select (see :func:`path_scan`).
    """
    if shape.path is None:
        return f"{focus} BIND(?this AS ?value)"
    if scan and scannable(shape.path):
        return f"{focus} {path_scan(shape.path)}"
    if not shape.path.may_be_empty():
        return f"{focus} ?this {shape.path.to_sparql()} ?value ."
    return (
        f"{{ {focus} ?this {shape.path.to_sparql()} ?value . }} UNION "
        f"{{ {focus} BIND(?this AS ?value) }}"
    )


def datatype_ok(datatype: str) -> str:
    """Return a SPARQL condition true when ``?value`` is a well-formed literal of ``datatype``."""
    cond = f"(isLiteral(?value) && sameTerm(datatype(?value), <{datatype}>)"
    if datatype == f"{RDF_NS}langString":
        cond += ' && lang(?value) != ""'
    elif datatype == f"{XSD}string":
        cond += ' && lang(?value) = ""'
    elif datatype in CASTABLE:
        cond += f' && sameTerm(DATATYPE(COALESCE(<{datatype}>(STR(?value)), "")), <{datatype}>)'
    elif datatype in INTEGER_RANGES:
        low, high = INTEGER_RANGES[datatype]
        cond += ' && REGEX(STR(?value), "^[+-]?[0-9]+$")'
        if low is not None:
            cond += f" && xsd_integer(STR(?value)) >= {low}"
        if high is not None:
            cond += f" && xsd_integer(STR(?value)) <= {high}"
    return cond.replace("xsd_integer", f"<{XSD}integer>") + ")"


def instance_of(var: str, cls: Node, hierarchy: dict[str, set[str]] | None = None) -> str:
    """Return a pattern true when ``var`` is a SHACL instance of ``cls`` (SHACL §2.1.3.1).

    Args:
        var: the variable.
        cls: the class.
        hierarchy: class IRI -> all its subclasses, itself included (rdfs:subClassOf closure of
            the data graph plus any ontology). With it the pattern is a plain ``rdf:type`` look-up,
            far faster than the ``rdf:type/rdfs:subClassOf*`` path; without it, the path.
    """
    if hierarchy is None or str(cls) not in hierarchy:
        return f"{{ {var} <{RDF_NS}type>/<{RDFS_NS}subClassOf>* {to_sparql(cls)} . }}"
    subs = sorted(hierarchy.get(str(cls), set()) | {str(cls)})
    if len(subs) == 1:
        return f"{{ {var} <{RDF_NS}type> <{subs[0]}> . }}"
    values = " ".join(f"<{c}>" for c in subs)
    # one variable per (var, class): a target's VALUES must not bind a nested sh:class check's
    sub = f"?cls_{var.lstrip('?$')}_{zlib.crc32(str(cls).encode()):08x}"
    return f"{{ VALUES {sub} {{ {values} }} {var} <{RDF_NS}type> {sub} . }}"


#: Components whose check looks at one value node at a time (they combine into one query).
VALUE_COMPONENTS = {
    SH.ClassConstraintComponent,
    SH.DatatypeConstraintComponent,
    SH.NodeKindConstraintComponent,
    SH.MinExclusiveConstraintComponent,
    SH.MinInclusiveConstraintComponent,
    SH.MaxExclusiveConstraintComponent,
    SH.MaxInclusiveConstraintComponent,
    SH.MinLengthConstraintComponent,
    SH.MaxLengthConstraintComponent,
    SH.PatternConstraintComponent,
    SH.LanguageInConstraintComponent,
    SH.InConstraintComponent,
}


def value_condition(
    constraint: Constraint, *, hierarchy: dict[str, set[str]] | None = None
) -> str | None:
    """Return a SPARQL expression over ``?value`` that is true when the value violates.

    Returns:
        The expression, or None when the component is not a value-level one.

    Raises:
        ShapesError: when a parameter value is malformed.
    """
    comp, p = constraint.component, constraint.params
    if comp == SH.ClassConstraintComponent:
        return f"NOT EXISTS {{ {instance_of('?value', p[SH['class']], hierarchy)} }}"
    if comp == SH.DatatypeConstraintComponent:
        return f"!{datatype_ok(str(p[SH.datatype]))}"
    if comp == SH.NodeKindConstraintComponent:
        kind = p[SH.nodeKind]
        if kind not in NODE_KINDS:
            raise ShapesError(f"unknown sh:nodeKind {kind}")
        return f"!{NODE_KINDS[kind]}"
    for param, op in (
        (SH.minExclusive, ">"),
        (SH.minInclusive, ">="),
        (SH.maxExclusive, "<"),
        (SH.maxInclusive, "<="),
    ):
        if param in p:
            return f"!COALESCE(?value {op} {to_sparql(p[param])}, false)"
    if comp in (SH.MinLengthConstraintComponent, SH.MaxLengthConstraintComponent):
        param, op = (
            (SH.minLength, ">=")
            if comp == SH.MinLengthConstraintComponent
            else (SH.maxLength, "<=")
        )
        n = int(p[param])
        return f"isBlank(?value) || !COALESCE(STRLEN(STR(?value)) {op} {n}, false)"
    if comp == SH.PatternConstraintComponent:
        pattern = to_sparql(Literal(str(p[SH.pattern])))
        flags = p.get(SH.flags)
        flag_arg = f", {to_sparql(Literal(str(flags)))}" if flags is not None else ""
        return f"isBlank(?value) || !COALESCE(REGEX(STR(?value), {pattern}{flag_arg}), false)"
    if comp == SH.LanguageInConstraintComponent:
        tests = (
            " || ".join(
                f"langMatches(lang(?value), {to_sparql(Literal(str(t)))})" for t in p[SH.languageIn]
            )
            or "false"
        )
        return f"!COALESCE({tests}, false)"
    if comp == SH.InConstraintComponent:
        members = [to_sparql(m) for m in p[SH["in"]] if not isinstance(m, BNode)]
        if not members:
            return "true"
        return (
            f"NOT EXISTS {{ VALUES ?in {{ {' '.join(members)} }} FILTER(sameTerm(?value, ?in)) }}"
        )
    return None


def constraint_query(
    shape: Shape,
    constraint: Constraint,
    focus: str,
    *,
    hierarchy: dict[str, set[str]] | None = None,
    scan: bool = False,
) -> str | None:
    """Compile one value-level constraint to a SELECT of the violations.

    Args:
        shape: the shape declaring the constraint.
        constraint: the constraint.
        focus: a group pattern binding ``?this`` to each focus node.
        hierarchy: class IRI -> its subclasses (see :func:`instance_of`).
        scan: the focus nodes are many (a target): join scannable paths as sub-selects.

    Returns:
        The query text, or None when the component is evaluated by the engine (shape-based
        and SPARQL-based components).

    Raises:
        ShapesError: when a parameter value is malformed.
    """
    comp, p = constraint.component, constraint.params

    def filtered(cond: str) -> str:
        values = values_union(shape, focus, scan=scan)
        return f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER({cond}) }}"

    cond = value_condition(constraint, hierarchy=hierarchy)
    if cond is not None:
        return filtered(cond)
    if comp == SH.HasValueConstraintComponent:
        target = to_sparql(p[SH.hasValue])
        inner = value_pattern(shape, bound=True, value="?hv")
        return (
            f"SELECT DISTINCT ?this WHERE {{ {focus} "
            f"FILTER NOT EXISTS {{ BIND({target} AS ?hv) {inner} }} }}"
        )
    if comp in (SH.MinCountConstraintComponent, SH.MaxCountConstraintComponent):
        if shape.path is None:
            raise ShapesError("sh:minCount/sh:maxCount need a property shape")
        minimum = comp == SH.MinCountConstraintComponent
        n = int(p[SH.minCount] if minimum else p[SH.maxCount])
        if minimum and n <= 0:
            return None
        if minimum and n == 1:
            # the common case, without grouping: focus nodes that have no value at all
            return (
                f"SELECT DISTINCT ?this WHERE {{ {focus} "
                f"FILTER NOT EXISTS {{ {value_pattern(shape, value='?v_any')} }} }}"
            )
        if minimum:
            return (
                f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ {value_pattern(shape)} }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})"
            )
        if scan and scannable(shape.path):
            # count the values of every subject first, then keep the few focus nodes among them
            return (
                f"SELECT DISTINCT ?this WHERE {{ {{ SELECT ?this WHERE {{ "
                f"?this {shape.path.to_sparql()} "
                f"?value . }} GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n}) }} {focus} }}"
            )
        return (
            f"SELECT ?this WHERE {{ {values_union(shape, focus, scan=scan)} }} "
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n})"
        )
    if comp == SH.UniqueLangConstraintComponent:
        flag = p[SH.uniqueLang]
        if not is_true(flag):
            return None
        return (
            f"SELECT ?this ?lang WHERE {{ {{ SELECT DISTINCT ?this ?value ?lang WHERE {{ "
            f"{values_union(shape, focus, scan=scan)} "
            f'FILTER(isLiteral(?value) && lang(?value) != "") '
            f"BIND(LCASE(lang(?value)) AS ?lang) }} }} }} GROUP BY ?this ?lang "
            f"HAVING (COUNT(?value) > 1)"
        )
    if comp == SH.EqualsConstraintComponent:
        other = to_sparql(p[SH.equals])
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {{ {values_union(shape, focus, scan=scan)} "
            f"FILTER NOT EXISTS {{ ?this {other} ?value }} }} UNION {{ {focus} "
            f"?this {other} ?value . FILTER NOT EXISTS {{ {value_pattern(shape, bound=True)} }}"
            f" }} }}"
        )
    if comp == SH.DisjointConstraintComponent:
        other = to_sparql(p[SH.disjoint])
        return (
            f"SELECT DISTINCT ?this ?value WHERE {{ {values_union(shape, focus, scan=scan)} "
            f"?this {other} ?value . }}"
        )
    if comp in (SH.LessThanConstraintComponent, SH.LessThanOrEqualsConstraintComponent):
        strict = comp == SH.LessThanConstraintComponent
        other = to_sparql(p[SH.lessThan] if strict else p[SH.lessThanOrEquals])
        op = "<" if strict else "<="
        other_values = (
            f"{{ SELECT ?this ?other WHERE {{ ?this {other} ?other . }} }}"
            if scan
            else f"?this {other} ?other ."
        )
        # One result per (value, other value) pair, as the SPARQL definition in SHACL §4.5.3.
        return (
            f"SELECT DISTINCT ?this ?value ?other WHERE {{ {values_union(shape, focus, scan=scan)} "
            f"{other_values} FILTER(!COALESCE(?value {op} ?other, false)) }}"
        )
    if comp == SH.ClosedConstraintComponent:
        allowed = {str(i) for i in p[SH.ignoredProperties] if isinstance(i, URIRef)}
        allowed.update(str(i) for i in p.get("allowed", []))
        not_in = (
            f"FILTER(?path NOT IN ({', '.join(f'<{a}>' for a in sorted(allowed))}))"
            if allowed
            else ""
        )
        return (
            f"SELECT DISTINCT ?this ?path ?value WHERE {{ {{ SELECT DISTINCT ?this ?node "
            f"WHERE {{ {values_union(shape, focus, scan=scan)} BIND(?value AS ?node) }} }} "
            f"?node ?path ?value . {not_in} }}"
        )
    return None


def class_scan(
    constraint: Constraint, index: int, hierarchy: dict[str, set[str]] | None
) -> tuple[str, str] | None:
    """Return (condition, pattern) checking sh:class by a join with all instances of the class.

    The pattern binds ``?k<index>`` to true for values that are instances; the condition is true
    for a violation. None when the component is not sh:class or the class hierarchy is unknown
    (then :func:`value_condition`'s NOT EXISTS applies).
    """
    if constraint.component != SH.ClassConstraintComponent or hierarchy is None:
        return None
    cls = constraint.params[SH["class"]]
    if str(cls) not in hierarchy:
        return None
    var = f"?k{index}"
    pattern = (
        f"OPTIONAL {{ SELECT ?value (true AS {var}) WHERE {{ "
        f"{instance_of('?value', cls, hierarchy)} }} }}"
    )
    return f"!BOUND({var})", pattern


def combined_value_query(
    shape: Shape,
    conditions: list[str],
    focus: str,
    *,
    with_missing: bool = False,
    scan: bool = False,
    extras: str = "",
) -> str:
    """Return one SELECT checking several value-level conditions: ``?c<i>`` true = violated.

    One scan of the value nodes replaces one query per constraint. With ``with_missing`` (a
    property shape with sh:minCount 1 and a path that cannot be empty) the values are OPTIONAL
    and ``?m`` is true for a focus node without any value. With ``scan`` a scannable path is
    joined as a sub-select and ``extras`` (patterns over ``?value``, e.g. from
    :func:`class_scan`) join the values.
    """
    if scan and scannable(shape.path):
        assert shape.path is not None
        values = f"{{ {path_scan(shape.path)} {extras} }}"
        binds = " ".join(
            f"BIND(COALESCE(BOUND(?value) && ({c}), false) AS ?c{i})"
            for i, c in enumerate(conditions)
        )
        flags = [f"?c{i}" for i in range(len(conditions))]
        if with_missing:
            flags.append("?m")
            body = f"{focus} OPTIONAL {values} BIND(!BOUND(?value) AS ?m)"
        else:
            body = f"{focus} {values}"
        return (
            f"SELECT DISTINCT ?this ?value {' '.join(flags)} WHERE {{ {body} "
            f"{binds} FILTER({' || '.join(flags)}) }}"
        )
    binds = " ".join(
        f"BIND(COALESCE(BOUND(?value) && ({c}), false) AS ?c{i})" for i, c in enumerate(conditions)
    )
    flags = [f"?c{i}" for i in range(len(conditions))]
    if with_missing and shape.path is not None and not shape.path.may_be_empty():
        flags.append("?m")
        body = (
            f"{focus} OPTIONAL {{ ?this {shape.path.to_sparql()} ?value . }} "
            "BIND(!BOUND(?value) AS ?m)"
        )
    else:
        body = values_union(shape, focus)
    return (
        f"SELECT DISTINCT ?this ?value {' '.join(flags)} WHERE {{ {body} "
        f"{binds} FILTER({' || '.join(flags)}) }}"
    )


def focus_values(shape: Shape, focus: str, *, scan: bool = False) -> str:
    """Return a SELECT of every (focus node, value node) pair of ``shape``."""
    return f"SELECT DISTINCT ?this ?value WHERE {{ {values_union(shape, focus, scan=scan)} }}"


def focus_nodes_with_values(shape: Shape, focus: str) -> str:
    """Return a SELECT of every focus node with its value nodes, unbound when it has none."""
    return (
        f"SELECT DISTINCT ?this ?value WHERE {{ {{ {focus} }} "
        f"OPTIONAL {{ {value_pattern(shape)} }} }}"
    )


def target_pattern(shape: Shape, *, hierarchy: dict[str, set[str]] | None = None) -> str | None:
    """Return a group pattern binding ``?this`` to every target of ``shape``, or None.

    Blank-node targets (``sh:targetNode _:b``) cannot be written in SPARQL; the engine adds them.
    """
    branches: list[str] = []
    nodes = [
        to_sparql(o) for p, o in shape.targets if p == SH.targetNode and not isinstance(o, BNode)
    ]
    if nodes:
        branches.append(f"VALUES ?this {{ {' '.join(nodes)} }}")
    for p, o in shape.targets:
        if isinstance(o, BNode) or p == SH.targetNode:
            continue
        term = to_sparql(o)
        if p == SH.targetClass:
            branches.append(instance_of("?this", o, hierarchy))
        elif p == SH.targetSubjectsOf:
            branches.append(f"?this {term} ?t_any .")
        elif p == SH.targetObjectsOf:
            branches.append(f"?t_any {term} ?this .")
    if not branches:
        return None
    if len(branches) == 1:
        # one target: no DISTINCT sub-select (each query projects DISTINCT or groups by ?this)
        return f"{{ {branches[0]} }}"
    union = " UNION ".join(f"{{ {b} }}" for b in branches)
    return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"


_UNSUPPORTED = re.compile(r"\b(MINUS|SERVICE|VALUES)\b", re.IGNORECASE)


def check_prebinding(select: str) -> None:
    """Reject SPARQL constructs where pre-binding is undefined (SHACL §5.2.1.1).

    Raises:
        ShapesError: for MINUS, SERVICE, VALUES, a subquery not projecting ``$this`` or a
            BIND/AS that rebinds a pre-bound variable.
    """
    body = re.sub(r'"""[\s\S]*?"""|"[^"\n]*"|<[^>\s]*>|#[^\n]*', " ", select)
    if _UNSUPPORTED.search(body):
        raise ShapesError("SPARQL constraint uses MINUS, SERVICE or VALUES (SHACL §5.2.1.1)")
    if re.search(r"\bAS\s+[$?](this|shapesGraph|currentShape)\b", body, re.IGNORECASE):
        raise ShapesError("SPARQL constraint rebinds a pre-bound variable (SHACL §5.2.1.1)")
    inner = [m.start() for m in re.finditer(r"\bSELECT\b", body, re.IGNORECASE)]
    for start in inner[1:]:
        head = body[start : body.find("{", start)] if "{" in body[start:] else body[start:]
        if not re.search(r"[$?]this\b", head):
            raise ShapesError("SPARQL constraint has a subquery that does not project $this")


def is_true(term: object) -> bool:
    """Return True for the literal ``true`` (SHACL names only true; "1" does not activate)."""
    return (
        isinstance(term, Literal)
        and str(term) == "true"
        and (term.datatype is None or str(term.datatype).endswith("#boolean"))
    )


def allowed_closed_predicates(shapes_graph: object, shape: Shape) -> list[Node]:
    """Return the predicates a closed shape allows: its property shapes' predicate paths."""
    g = shapes_graph.graph  # type: ignore[attr-defined]
    out: list[Node] = []
    for ps in g.objects(shape.node, SH.property):
        path = g.value(ps, SH.path)
        if isinstance(path, URIRef):
            out.append(path)
    return out
