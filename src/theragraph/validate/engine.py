"""The fast SHACL engine: run compiled SPARQL checks over a data graph and build the report.

One query per constraint per shape covers every focus node of that shape. Shape-based
components (sh:node, sh:not, sh:and, sh:or, sh:xone, qualified value shapes, sh:property) validate
the nested shape once for the set of all value nodes and combine the answers here. A shape the
engine cannot compile is validated by pyshacl instead, and the report says so in ``notes``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from theragraph.validate import compile as cq
from theragraph.validate.dataset import DataGraph, canonical_forms
from theragraph.validate.report import ValidationReport, ValidationResult
from theragraph.validate.shapes import SH, Constraint, Shape, ShapesError, ShapesGraph
from theragraph.validate.terms import from_ox, to_ox

log = logging.getLogger(__name__)
_OWL_IMPORTS = URIRef("http://www.w3.org/2002/07/owl#imports")

_CHUNK = 2000
_ALL_NODES = "{ SELECT DISTINCT ?this WHERE { { ?this ?f_p ?f_o } UNION { ?f_s ?f_p ?this } } }"


Fallback = Callable[[set[Node]], list[ValidationResult]]


@dataclass(slots=True)
class Focus:
    """The focus nodes of one shape: a SPARQL pattern binding ``?this``, and/or explicit nodes."""

    pattern: str | None = None
    nodes: tuple[Any, ...] = ()
    scan: bool = True  # the pattern may bind many nodes (a class or predicate target)


@dataclass(slots=True)
class _Row:
    focus: Any
    value: Any = None
    path: Any = None
    extra: dict[str, Any] | None = None


class FastEngine:
    """Validate a :class:`DataGraph` against a :class:`ShapesGraph` with SPARQL.

    Attributes:
        scan_target_nodes: also join values by scanning for shapes whose only targets are
            ``sh:targetNode`` (off: a few named nodes are cheaper to look up; tests turn it on
            to run the scanning queries over the whole W3C suite).
    """

    scan_target_nodes = False

    def __init__(
        self,
        shapes: ShapesGraph,
        data: DataGraph,
        *,
        fallback: Fallback | None = None,
        workers: int | None = None,
    ) -> None:
        """Prepare to validate ``data`` against ``shapes``.

        Args:
            shapes: the parsed shapes graph.
            data: the data graph.
            fallback: validates the shapes this engine cannot compile (pyshacl), returning their
                results; without it such shapes raise :class:`ShapesError`.
            workers: threads running independent checks (default: CPU count, at most 8).
        """
        self.shapes = shapes
        self.data = data
        self.fallback = fallback
        self.workers = workers if workers is not None else min(8, os.cpu_count() or 1)
        self._conform_cache: dict[tuple[Node, frozenset[Any]], set[Any]] = {}
        self._local = threading.local()
        self.notes: list[str] = []
        self.fallback_shapes: list[Node] = []
        self._raw_focus: dict[int, Any] = {}
        self._shapes_loaded = False
        self.hierarchy: dict[str, set[str]] = {}

    # -- running queries -------------------------------------------------------------------------

    def _select(self, build: Any, focus: Focus) -> list[Any]:
        """Run the query ``build(focus_clause, scan)`` for every part of ``focus``.

        ``scan`` is True for the target pattern (typically many focus nodes): the compiled query
        then joins scannable paths as sub-selects, which oxigraph evaluates by a hash join
        instead of one index look-up per focus node. Explicit nodes (nested shapes) keep the
        look-ups.
        """
        out: list[Any] = []
        if focus.pattern is not None:
            # no DISTINCT: every compiled query projects DISTINCT or counts DISTINCT values, and
            # de-duplicating 100k focus nodes costs as much as the join (measured)
            clause = f"{{ SELECT ?this WHERE {{ {focus.pattern} }} }}"
            out.extend(self.data.select(build(clause, focus.scan)))
        plain = [n for n in focus.nodes if not isinstance(n, ox.BlankNode)]
        blank = [n for n in focus.nodes if isinstance(n, ox.BlankNode)]
        for i in range(0, len(plain), _CHUNK):
            clause = f"VALUES ?this {{ {' '.join(str(n) for n in plain[i : i + _CHUNK])} }}"
            out.extend(self.data.select(build(clause, False)))
        for b in blank:
            # A blank node cannot be named in SPARQL: bind it by substitution (a join on ?this).
            out.extend(self.data.select(build(_ALL_NODES, False), {ox.Variable("this"): b}))
        return out

    def _focus_nodes(self, focus: Focus) -> list[Any]:
        rows = self._select(lambda f, _scan: f"SELECT DISTINCT ?this WHERE {{ {f} }}", focus)
        seen = dict.fromkeys(r["this"] for r in rows)
        for n in focus.nodes:
            seen.setdefault(n, None)
        return list(seen)

    # -- public API ------------------------------------------------------------------------------

    def validate(self) -> ValidationReport:
        """Validate every shape that has targets and return the report.

        Raises:
            ShapesError: when a shape is malformed or a SPARQL constraint is unsupported.
        """
        results: list[ValidationResult] = []
        self.hierarchy = self._class_hierarchy()
        self._remember_target_literals()
        custom = self.shapes.custom_component_shapes()
        delegated: set[Node] = set()
        tasks: list[Callable[[], list[ValidationResult]]] = []
        for shape in self.shapes.top_level():
            if shape.deactivated:
                continue
            reach = self.shapes.referenced(shape.node)
            if reach & custom:
                delegated |= reach
                continue
            pattern = cq.target_pattern(shape, hierarchy=self.hierarchy)
            blank_targets = tuple(
                to_ox(o) for p, o in shape.targets if p == SH.targetNode and isinstance(o, BNode)
            )
            # only sh:targetNode: a few named nodes, look their values up instead of scanning
            scan = self.scan_target_nodes or any(p != SH.targetNode for p, _ in shape.targets)
            focus = Focus(pattern=pattern, nodes=blank_targets, scan=scan)
            tasks.extend(self._tasks(shape, focus))
        results.extend(self._run_tasks(tasks))
        if delegated:
            if self.fallback is None:
                raise ShapesError(
                    "shapes use SPARQL-based constraint components, which the fast "
                    "engine does not compile; use --engine pyshacl"
                )
            results.extend(self.fallback(delegated))
            self.notes.append(
                f"{len(delegated)} shape(s) use SPARQL-based constraint components and were "
                "validated by pyshacl: "
                + ", ".join(sorted(n.n3() for n in delegated if not isinstance(n, BNode)))
            )
        report = ValidationReport(
            results=results, shapes_graph=self.shapes.graph, notes=self.notes, engine="fast"
        )
        return report

    def _class_hierarchy(self) -> dict[str, set[str]]:
        """Return the subclasses of every class the shapes name, from the data and the ontology.

        One query per class here saves an ``rdf:type/rdfs:subClassOf*`` path in every check.
        """
        g = self.shapes.graph
        classes = set(g.objects(None, SH.targetClass)) | set(g.objects(None, SH["class"]))
        classes |= {
            s.node for s in self.shapes.shapes.values() if (SH.targetClass, s.node) in s.targets
        }
        out: dict[str, set[str]] = {}
        for cls in classes:
            if not isinstance(cls, URIRef):
                continue
            subs = {str(cls)} | self.data.hierarchy.get(str(cls), set())
            rows = self.data.select(
                f"SELECT DISTINCT ?sub WHERE {{ ?sub <http://www.w3.org/2000/01/rdf-schema#"
                f"subClassOf>+ <{cls}> }}"
            )
            subs |= {r["sub"].value for r in rows if isinstance(r["sub"], ox.NamedNode)}
            if any(isinstance(r["sub"], ox.BlankNode) for r in rows):
                continue  # a blank-node subclass cannot be named: keep the path form
            # subclasses of subclasses declared only in the ontology
            for sub in list(subs):
                subs |= self.data.hierarchy.get(sub, set())
            out[str(cls)] = subs
        return out

    def _remember_target_literals(self) -> None:
        """Report literal ``sh:targetNode`` values as the shapes graph writes them."""
        literals = [
            o
            for s in self.shapes.shapes.values()
            for p, o in s.targets
            if p == SH.targetNode and isinstance(o, Literal)
        ]
        for lit in literals:
            canonical = to_ox(lit)
            if lit.language and lit.language != lit.language.lower():
                self.data.originals.setdefault(canonical, []).append(lit)
        changed = canonical_forms([to_ox(lit) for lit in literals if not lit.language])
        for canonical, forms in changed.items():
            self.data.originals.setdefault(canonical, []).extend(forms)

    @property
    def _stack(self) -> list[Node]:
        """The shapes being validated in this thread (recursion guard)."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _tasks(self, shape: Shape, focus: Focus) -> list[Callable[[], list[ValidationResult]]]:
        """Split a top-level shape into independent checks that can run concurrently.

        Property shapes of a node shape share its focus nodes, so they split further.
        """
        if shape.deactivated:
            return []
        tasks: list[Callable[[], list[ValidationResult]]] = []
        rest: list[Constraint] = []
        for c in shape.constraints:
            if c.component == SH.PropertyConstraintComponent and shape.path is None:
                prop = self.shapes.shape(c.params[SH.property])
                tasks.extend(self._tasks(prop, focus))
            else:
                rest.append(c)
        if rest:
            part = Shape(
                node=shape.node,
                path=shape.path,
                targets=shape.targets,
                constraints=rest,
                severity=shape.severity,
                messages=shape.messages,
            )
            tasks.append(lambda: self.validate_shape(part, focus))
        return tasks

    def _run_tasks(
        self, tasks: list[Callable[[], list[ValidationResult]]]
    ) -> list[ValidationResult]:
        """Run checks on a thread pool (pyoxigraph releases the GIL while a query runs)."""
        workers = min(len(tasks), self.workers)
        if workers <= 1:
            return [r for task in tasks for r in task()]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [r for rows in pool.map(lambda t: t(), tasks) for r in rows]

    def validate_shape(self, shape: Shape, focus: Focus) -> list[ValidationResult]:
        """Validate ``shape`` for every node of ``focus``."""
        if shape.deactivated:
            return []
        results: list[ValidationResult] = []
        self._stack.append(shape.node)  # per thread (see _stack)
        try:
            combined: list[tuple[Constraint, str]] = []
            min_one = None
            if shape.path is not None and not shape.path.may_be_empty():
                min_one = next(
                    (
                        c
                        for c in shape.constraints
                        if c.component == SH.MinCountConstraintComponent
                        and int(c.params[SH.minCount]) == 1
                    ),
                    None,
                )
            for constraint in shape.constraints:
                cond = None
                if constraint is min_one:
                    continue
                if constraint.component in cq.VALUE_COMPONENTS and not (
                    constraint.component == SH.DatatypeConstraintComponent and self.data.originals
                ):
                    cond = cq.value_condition(constraint, hierarchy=self.hierarchy)
                if cond is not None:
                    combined.append((constraint, cond))
                else:
                    results.extend(self._check(shape, constraint, focus))
            if combined or min_one is not None:
                results.extend(self._check_values(shape, combined, focus, min_one=min_one))
        finally:
            self._stack.pop()
        return results

    def nonconforming(self, shape_node: Node, nodes: Iterable[Any]) -> set[Any]:
        """Return the members of ``nodes`` that do not conform to the shape at ``shape_node``."""
        key = (shape_node, frozenset(nodes))
        if key in self._conform_cache:
            return self._conform_cache[key]
        if not key[1]:
            return set()
        if shape_node in self._stack:
            # Recursive shapes are undefined in SHACL Core; treat the recursive call as conforming.
            return set()
        shape = self.shapes.shape(shape_node)
        results = self.validate_shape(shape, Focus(nodes=tuple(key[1])))
        bad = {self._raw_focus[id(r)] for r in results}
        self._conform_cache[key] = bad
        return bad

    # -- results ---------------------------------------------------------------------------------

    def _result(
        self,
        shape: Shape,
        component: URIRef,
        focus: Any,
        *,
        value: Any = None,
        path: Node | None = None,
        use_shape_path: bool = True,
        messages: list[Node] | None = None,
        source_constraint: Node | None = None,
    ) -> ValidationResult:
        result = ValidationResult(
            focus=self.data.to_report_term(focus),
            component=component,
            source_shape=shape.node,
            severity=shape.severity,
            path=path
            if path is not None
            else (shape.path.node if shape.path is not None and use_shape_path else None),
            value=self.data.to_report_term(value) if value is not None else None,
            messages=list(messages) if messages is not None else list(shape.messages),
            source_constraint=source_constraint,
        )
        self._raw_focus[id(result)] = focus
        return result

    # -- constraints -----------------------------------------------------------------------------

    def _check(self, shape: Shape, c: Constraint, focus: Focus) -> list[ValidationResult]:
        comp = c.component
        if comp == SH.PropertyConstraintComponent:
            return self._property(shape, c, focus)
        if comp in (
            SH.NodeConstraintComponent,
            SH.NotConstraintComponent,
            SH.AndConstraintComponent,
            SH.OrConstraintComponent,
            SH.XoneConstraintComponent,
        ):
            return self._logical(shape, c, focus)
        if comp in (
            SH.QualifiedMinCountConstraintComponent,
            SH.QualifiedMaxCountConstraintComponent,
        ):
            return self._qualified(shape, c, focus)
        if comp == SH.SPARQLConstraintComponent:
            return self._sparql(shape, c, focus)
        if comp == SH.ClosedConstraintComponent:
            c.params["allowed"] = cq.allowed_closed_predicates(self.shapes, shape)
        queries = {
            scan: cq.constraint_query(shape, c, "{focus}", hierarchy=self.hierarchy, scan=scan)
            for scan in (False, True)
        }
        if queries[False] is None:
            return []
        rows = self._select(lambda f, scan: queries[scan].replace("{focus}", f), focus)
        out: list[ValidationResult] = []
        if comp == SH.DatatypeConstraintComponent:
            return self._datatype(shape, c, focus, rows)
        for r in rows:
            value = r["value"]
            if comp == SH.ClosedConstraintComponent:
                out.append(
                    self._result(shape, comp, r["this"], value=r["value"], path=from_ox(r["path"]))
                )
            elif comp == SH.HasValueConstraintComponent or comp in (
                SH.MinCountConstraintComponent,
                SH.MaxCountConstraintComponent,
                SH.UniqueLangConstraintComponent,
            ):
                out.append(self._result(shape, comp, r["this"]))
            else:
                out.append(self._result(shape, comp, r["this"], value=value))
        return out

    def _check_values(
        self,
        shape: Shape,
        combined: list[tuple[Constraint, str]],
        focus: Focus,
        *,
        min_one: Constraint | None = None,
    ) -> list[ValidationResult]:
        """Check all value-level constraints of ``shape`` (and sh:minCount 1) in one query."""
        with_missing = min_one is not None
        plain = cq.combined_value_query(
            shape, [c for _, c in combined], "{focus}", with_missing=with_missing
        )
        conditions, extras = [], []
        for i, (constraint, cond) in enumerate(combined):
            by_join = (
                cq.class_scan(constraint, i, self.hierarchy)
                if cq.scannable(shape.path)
                else None
            )
            if by_join is not None:
                cond = by_join[0]
                extras.append(by_join[1])
            conditions.append(cond)
        scanning = cq.combined_value_query(
            shape,
            conditions,
            "{focus}",
            with_missing=with_missing,
            scan=True,
            extras=" ".join(extras),
        )
        queries = {False: plain, True: scanning}
        rows = self._select(lambda f, scan: queries[scan].replace("{focus}", f), focus)
        out: list[ValidationResult] = []
        true = ox.Literal(True)
        if min_one is not None:
            missing = dict.fromkeys(r["this"] for r in rows if r["m"] == true)
            out.extend(self._result(shape, min_one.component, f) for f in missing)
        for i, (constraint, _) in enumerate(combined):
            var = f"c{i}"
            for r in rows:
                if r[var] == true:
                    out.append(
                        self._result(shape, constraint.component, r["this"], value=r["value"])
                    )
        return out

    def _datatype(
        self, shape: Shape, c: Constraint, focus: Focus, rows: list[Any]
    ) -> list[ValidationResult]:
        """sh:datatype, re-checked on the literals as written where the store changed them."""
        datatype = str(c.params[SH.datatype])
        out: list[ValidationResult] = []
        seen: set[tuple[Any, Any]] = set()
        for r in rows:
            v = r["value"]
            if isinstance(v, ox.Literal) and v in self.data.originals:
                continue  # decided below from the forms as written
            out.append(self._result(shape, c.component, r["this"], value=v))
        if self.data.originals:
            pairs = self._select(lambda f, scan: cq.focus_values(shape, f, scan=scan), focus)
            for r in pairs:
                v = r["value"]
                if not (isinstance(v, ox.Literal) and v in self.data.originals):
                    continue
                for form in self.data.originals[v]:
                    if (r["this"], form) in seen:
                        continue
                    seen.add((r["this"], form))
                    if not _is_datatype(form, datatype):
                        res = self._result(shape, c.component, r["this"])
                        res.value = form
                        out.append(res)
        return out

    def _property(self, shape: Shape, c: Constraint, focus: Focus) -> list[ValidationResult]:
        prop = self.shapes.shape(c.params[SH.property])
        if shape.path is None:
            return self.validate_shape(prop, focus)
        # Each (focus, value) pair validates the value against the nested shape, so a value
        # shared by two focus nodes reports its results twice (W3C test property-001).
        pairs = self._value_pairs(shape, focus)
        times: dict[Any, int] = defaultdict(int)
        for _, v in pairs:
            times[v] += 1
        nested = self.validate_shape(prop, Focus(nodes=tuple(times)))
        out: list[ValidationResult] = []
        for r in nested:
            out.extend([r] * times.get(self._raw_focus[id(r)], 1))
        return out

    def _value_pairs(self, shape: Shape, focus: Focus) -> list[tuple[Any, Any]]:
        rows = self._select(lambda f, scan: cq.focus_values(shape, f, scan=scan), focus)
        return list(dict.fromkeys((r["this"], r["value"]) for r in rows))

    def _logical(self, shape: Shape, c: Constraint, focus: Focus) -> list[ValidationResult]:
        comp, p = c.component, c.params
        pairs = self._value_pairs(shape, focus)
        values = {v for _, v in pairs}
        out: list[ValidationResult] = []
        if comp == SH.NodeConstraintComponent:
            bad = self.nonconforming(p[SH.node], values)
            failing = {v for v in values if v in bad}
        elif comp == SH.NotConstraintComponent:
            bad = self.nonconforming(p[SH["not"]], values)
            failing = {v for v in values if v not in bad}
        else:
            members = (
                p[SH["and"]]
                if comp == SH.AndConstraintComponent
                else (p[SH["or"]] if comp == SH.OrConstraintComponent else p[SH.xone])
            )
            conforming_counts: dict[Any, int] = defaultdict(int)
            any_bad: set[Any] = set()
            for m in members:
                bad = self.nonconforming(m, values)
                any_bad |= bad & values
                for v in values:
                    if v not in bad:
                        conforming_counts[v] += 1
            if comp == SH.AndConstraintComponent:
                failing = any_bad
            elif comp == SH.OrConstraintComponent:
                failing = {v for v in values if conforming_counts[v] == 0}
            else:
                failing = {v for v in values if conforming_counts[v] != 1}
        for f, v in pairs:
            if v in failing:
                out.append(self._result(shape, comp, f, value=v))
        return out

    def _qualified(self, shape: Shape, c: Constraint, focus: Focus) -> list[ValidationResult]:
        p = c.params
        rows = self._select(lambda f, _scan: cq.focus_nodes_with_values(shape, f), focus)
        per_focus: dict[Any, set[Any]] = defaultdict(set)
        for r in rows:
            per_focus[r["this"]]
            if r["value"] is not None:
                per_focus[r["this"]].add(r["value"])
        for n in focus.nodes:
            per_focus.setdefault(n, set())
        values = set().union(*per_focus.values()) if per_focus else set()
        bad = self.nonconforming(p[SH.qualifiedValueShape], values)
        conforming = values - bad
        for sib in p.get("siblings", []):
            sib_bad = self.nonconforming(sib, conforming)
            conforming = conforming & sib_bad
        out: list[ValidationResult] = []
        for f, vals in per_focus.items():
            n = len(vals & conforming)
            if c.component == SH.QualifiedMinCountConstraintComponent:
                if n < p[SH.qualifiedMinCount]:
                    out.append(self._result(shape, c.component, f))
            elif n > p[SH.qualifiedMaxCount]:
                out.append(self._result(shape, c.component, f))
        return out

    # -- SPARQL-based constraints (SHACL §5) -----------------------------------------------------

    def _sparql(self, shape: Shape, c: Constraint, focus: Focus) -> list[ValidationResult]:
        g = self.shapes.graph
        node = c.params[SH.sparql]
        deact = g.value(node, SH.deactivated)
        if isinstance(deact, Literal) and deact.toPython() is True:
            return []
        select = g.value(node, SH.select)
        if select is None:
            raise ShapesError(f"sh:sparql constraint {node} has no sh:select")
        text = str(select)
        cq.check_prebinding(text)
        prologue = self._prefixes(node)
        if re.search(r"[$?]shapesGraph\b", text):
            text = re.sub(
                r"\bbound\s*\(\s*[$?]shapesGraph\s*\)", "(true)", text, flags=re.IGNORECASE
            )
            text = re.sub(r"[$?]shapesGraph\b", f"<{self._shapes_graph_iri()}>", text)
        if shape.path is not None:
            text = re.sub(r"\$PATH\b", shape.path.to_sparql(), text)
        messages = list(g.objects(node, SH.message))
        out: list[ValidationResult] = []
        for f in self._focus_nodes(focus):
            query = prologue + _prebind(
                text,
                {
                    "this": f,
                    "currentShape": to_ox(shape.node)
                    if not isinstance(shape.node, BNode)
                    else None,
                },
            )
            subst = {ox.Variable("this"): f} if isinstance(f, ox.BlankNode) else None
            for sol in self.data.select(query, subst):
                if sol["failure"] == ox.Literal(True):
                    raise ShapesError(f"SPARQL constraint {node} reported a failure")
                path = sol["path"]
                value = sol["value"] if sol["value"] is not None else f
                msgs = (
                    [_substitute(m, sol, f) for m in messages] if messages else list(shape.messages)
                )
                if sol["message"] is not None:
                    msgs = [from_ox(sol["message"])]
                res = self._result(
                    shape,
                    SH.SPARQLConstraintComponent,
                    f,
                    value=value,
                    path=from_ox(path) if path is not None else None,
                    messages=msgs,
                    source_constraint=node,
                )
                out.append(res)
        return out

    def _prefixes(self, node: Node) -> str:
        """Return PREFIX lines from sh:prefixes, following owl:imports (SHACL §5.2.1)."""
        g = self.shapes.graph
        lines = []
        todo = list(g.objects(node, SH.prefixes))
        seen: set[Node] = set()
        while todo:
            owner = todo.pop()
            if owner in seen:
                continue
            seen.add(owner)
            todo.extend(g.objects(owner, _OWL_IMPORTS))
            for decl in g.objects(owner, SH.declare):
                prefix = g.value(decl, SH.prefix)
                ns = g.value(decl, SH.namespace)
                if prefix is not None and ns is not None:
                    lines.append(f"PREFIX {prefix}: <{ns}>")
        return "\n".join(dict.fromkeys(lines)) + "\n"

    def _shapes_graph_iri(self) -> str:
        """Load the shapes graph into a named graph of an in-memory data store, for $shapesGraph.

        Raises:
            ShapesError: for a Theragraph store, whose named graphs are the data.
        """
        if not isinstance(self.data.store, ox.Store) or self.data.union_default_graph:
            raise ShapesError("$shapesGraph is only supported for data loaded from files")
        iri = "urn:x-theragraph:shapes-graph"
        graph = ox.NamedNode(iri)
        if not self._shapes_loaded:
            self.data.store.extend(
                ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph) for s, p, o in self.shapes.graph
            )
            self._shapes_loaded = True
        return iri


def _prebind(text: str, bindings: dict[str, Any]) -> str:
    """Replace pre-bound variables by their terms in the query body (not in the projection)."""
    match = re.search(r"\bWHERE\b|\{", text, re.IGNORECASE)
    start = match.start() if match else 0
    head, body = text[:start], text[start:]
    for name, term in bindings.items():
        if term is None or isinstance(term, ox.BlankNode):
            continue
        # a pre-bound variable is bound; drop it from inner projections, then substitute it
        body = re.sub(rf"\bbound\s*\(\s*[$?]{name}\s*\)", "(true)", body, flags=re.IGNORECASE)
        body = re.sub(
            rf"(\bSELECT\b(?:\s+(?:DISTINCT|REDUCED))?)([^{{]*?)\s[$?]{name}\b",
            r"\1\2",
            body,
            flags=re.IGNORECASE,
        )
        body = re.sub(
            r"(\bSELECT\b(?:\s+(?:DISTINCT|REDUCED))?)\s*(WHERE\b|\{)",
            r"\1 * \2",
            body,
            flags=re.IGNORECASE,
        )
        body = re.sub(rf"[$?]{name}\b", lambda _m, t=str(term): t, body)
    return head + body


def _substitute(message: Node, sol: Any, focus: Any) -> Node:
    text = str(message)

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        term = focus if name == "this" else sol[name]
        if term is None:
            return m.group(0)
        return term.value if hasattr(term, "value") else str(term)

    text = re.sub(r"\{[$?](\w+)\}", repl, text)
    if isinstance(message, Literal):
        return Literal(text, lang=message.language, datatype=message.datatype)
    return Literal(text)


def _is_datatype(term: Node, datatype: str) -> bool:
    """Return True when ``term`` (as written) is a well-formed literal of ``datatype``."""
    if not isinstance(term, Literal):
        return False
    if term.language:
        return datatype == "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
    dt = str(term.datatype or "http://www.w3.org/2001/XMLSchema#string")
    if dt != datatype:
        return False
    fresh = Literal(str(term), datatype=term.datatype)
    return not fresh.ill_typed


def validate_with(
    shapes: ShapesGraph, data: DataGraph, *, fallback: Fallback | None = None
) -> ValidationReport:
    """Validate ``data`` against ``shapes`` with the fast engine.

    Raises:
        ShapesError: when a shape is malformed or uses an unsupported SPARQL construct.
    """
    return FastEngine(shapes, data, fallback=fallback).validate()


__all__: Sequence[str] = ("FastEngine", "Focus", "validate_with")
