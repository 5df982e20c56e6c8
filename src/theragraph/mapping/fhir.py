"""Map de-identified FHIR records to RDF with the declarative files in ``mappings/fhir/``.

One mapping file per resource type (``mappings/fhir/<resource>.yaml``) says which class a resource
gets (by ``meta.profile``, else by its code) and which element becomes which property, with a
small path language (``stage.summary``, ``extension[url=...].valueCodeableConcept``,
``component[code=http://loinc.org|48018-6].valueCodeableConcept``). This module holds only the
algorithm: path evaluation, typed values, code IRIs, unit conversion, reference links.

Every resource also gets, whatever its mapping: ``rdf:type`` its class and ``tg:FhirResource``,
``tg:fhirResourceType``, ``tg:hasPatient`` and one ``tg:references`` link per resolved reference,
so nothing is linked silently and no reference is lost. Elements no mapping reads are counted per
profile (``unmapped-element.<profile>.<element>``) and resource types without a mapping file per
type (``unmapped-resource-type.<type>``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from theragraph.errors import MappingError
from theragraph.ids import graph_iri, mint_iri, patient_iri
from theragraph.mapping.base import (
    RDF_TYPE,
    MappedGraph,
    SerializedGraph,
    load_mapping,
    mapping_version,
)
from theragraph.records.fhir import RESOLVED_KEY, FhirRecord, ResolvedReference
from theragraph.report import Issue
from theragraph.resources import list_resources
from theragraph.vocab import TG, XSD

_TG = str(TG)
_XSD = str(XSD)
_TGR = str(mint_iri("", "")).rstrip("/")  # tgr: namespace, exactly as theragraph.ids mints it
_TGG_FHIR = str(graph_iri("fhir", ""))
_PATIENT = str(patient_iri(""))
_T_DOUBLE = ox.NamedNode(_XSD + "double")
_T_INTEGER = ox.NamedNode(_XSD + "integer")
_T_BOOLEAN = ox.NamedNode(_XSD + "boolean")
_T_DATE = ox.NamedNode(_XSD + "date")
_T_DATETIME = ox.NamedNode(_XSD + "dateTime")
_T_GYEAR = ox.NamedNode(_XSD + "gYear")
_T_GYEARMONTH = ox.NamedNode(_XSD + "gYearMonth")
_T_STRING = ox.NamedNode(_XSD + "string")

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(url|code|system)=(.+)\])?$")
_SKIP_UNMAPPED = frozenset({
    "resourceType", "_birthYear", "_studyInstanceUid", "_identifierKeys", "extension", "modifierExtension", "subject",
    "patient", "beneficiary",
})

#: Mapping files that are not per-resource element maps.
SUPPORT_FILES = ("deid.yaml", "codesystems.yaml", "units.yaml", "radiopharmaceuticals.yaml")


def _node(curie: str) -> ox.NamedNode:
    """Expand ``tg:Foo`` (the only prefix mapping files use for terms) or take a full IRI."""
    if curie.startswith("tg:"):
        return ox.NamedNode(_TG + curie[3:])
    if curie.startswith(("http://", "https://", "urn:")):
        return ox.NamedNode(curie)
    raise MappingError(f"mapping term {curie!r} must be tg:<name> or a full IRI", code="map.bad-mapping-file")


@dataclass(slots=True)
class Segment:
    """One step of an element path."""

    name: str
    filter_kind: str | None = None
    filter_value: str | None = None


@dataclass(slots=True)
class ElementRule:
    """One element -> property rule of a mapping file."""

    path: list[Segment]
    property: ox.NamedNode
    type: str
    unit: str | None = None
    unit_property: ox.NamedNode | None = None
    concept_property: ox.NamedNode | None = None
    node_class: ox.NamedNode | None = None
    elements: list[ElementRule] = field(default_factory=list)
    head: str = ""


@dataclass(slots=True)
class ClassRule:
    """Assign a class by profile (last URL segment) or by code (``system|code``)."""

    cls: ox.NamedNode
    profile: str | None = None
    code: tuple[str, str] | None = None


@dataclass(slots=True)
class ResourceMapping:
    """The compiled mapping of one resource type."""

    resource: str
    default_class: ox.NamedNode
    classes: list[ClassRule]
    code_path: list[Segment]
    elements: list[ElementRule]
    by_class: dict[str, list[ElementRule]]
    heads: frozenset[str]


def parse_path(text: str) -> list[Segment]:
    """Parse an element path (``a.b[url=X].c``) into segments.

    Raises:
        MappingError: for a malformed path.
    """
    segments: list[Segment] = []
    # split on dots that are not inside [...]
    depth = 0
    current = ""
    parts: list[str] = []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in parts:
        match = _SEGMENT.match(part)
        if match is None:
            raise MappingError(f"bad element path {text!r}", code="map.bad-mapping-file")
        segments.append(Segment(match.group(1), match.group(2), match.group(3)))
    return segments


def _compile_rule(raw: dict[str, Any]) -> ElementRule:
    path = parse_path(raw["path"])
    rule = ElementRule(
        path=path,
        property=_node(raw["property"]),
        type=raw.get("type", "string"),
        unit=raw.get("unit"),
        unit_property=_node(raw["unit_property"]) if raw.get("unit_property") else None,
        concept_property=_node(raw["concept_property"]) if raw.get("concept_property") else None,
        node_class=_node(raw["class"]) if raw.get("class") else None,
        elements=[_compile_rule(e) for e in raw.get("elements", [])],
        head=path[0].name,
    )
    return rule


def compile_mapping(raw: dict[str, Any]) -> ResourceMapping:
    """Compile one parsed mapping file."""
    classes = []
    for item in raw.get("classes", []):
        code = None
        if "code" in item:
            system, _, value = item["code"].rpartition("|")
            code = (system, value)
        classes.append(ClassRule(_node(item["class"]), item.get("profile"), code))
    elements = [_compile_rule(e) for e in raw.get("elements", [])]
    by_class = {str(_node(k).value): [_compile_rule(e) for e in v] for k, v in (raw.get("by_class") or {}).items()}
    heads = {r.head for r in elements} | {r.head for rules in by_class.values() for r in rules}
    if raw.get("code_path"):
        heads.add(parse_path(raw["code_path"])[0].name)
    return ResourceMapping(
        resource=raw["resource"],
        default_class=_node(raw.get("class", "tg:FhirResource")),
        classes=classes,
        code_path=parse_path(raw.get("code_path", "code")),
        elements=elements,
        by_class=by_class,
        heads=frozenset(heads),
    )


@dataclass(slots=True)
class Terminology:
    """Code-system prefixes and unit conversion tables."""

    prefixes: dict[str, str]
    strip: dict[str, str]
    units: dict[str, tuple[str, float]]
    lab_units: dict[str, str]
    radiopharmaceuticals: dict[tuple[str, str], dict[str, str]]
    _code_cache: dict[tuple[str, str], ox.NamedNode | None] = field(default_factory=dict)

    def code_iri(self, system: str | None, code: str | None) -> ox.NamedNode | None:
        """Return the IRI of a code, or None when the coding has no usable system and code."""
        if not system or not code:
            return None
        cached = self._code_cache.get((system, code))
        if cached is None:
            cached = self._code_iri(system, code)
            if len(self._code_cache) < 100_000:
                self._code_cache[(system, code)] = cached
        return cached

    def _code_iri(self, system: str, code: str) -> ox.NamedNode | None:
        prefix = self.prefixes.get(system)
        strip = self.strip.get(system)
        if strip and code.startswith(strip):
            code = code[len(strip):]
        if prefix is None:
            if not system.startswith(("http://", "https://", "urn:")):
                return None
            prefix = system + "#"
        return ox.NamedNode(prefix + quote(code, safe="-._~:"))

    def convert(self, value: float, unit: str, target: str) -> float | None:
        """Convert ``value`` from UCUM ``unit`` to ``target``; None when they are not commensurable."""
        if unit == target:
            return value
        src = self.units.get(unit)
        dst = self.units.get(target)
        if src is None or dst is None or src[0] != dst[0]:
            return None
        return value * src[1] / dst[1]


@lru_cache
def load_terminology() -> Terminology:
    """Load the code-system, unit and radiopharmaceutical tables."""
    systems = load_mapping("fhir/codesystems.yaml")
    units = load_mapping("fhir/units.yaml")
    radio = load_mapping("fhir/radiopharmaceuticals.yaml")
    table: dict[tuple[str, str], dict[str, str]] = {}
    for item in radio.get("radiopharmaceuticals", []):
        for coding in item["codes"]:
            system, _, code = coding.rpartition("|")
            table[(system, code)] = item
    return Terminology(
        prefixes=dict(systems["systems"]),
        strip=dict(systems.get("strip_prefixes") or {}),
        units={k: (v[0], float(v[1])) for k, v in units["units"].items()},
        lab_units={str(k): v for k, v in (units.get("lab_units") or {}).items()},
        radiopharmaceuticals=table,
    )


@lru_cache
def load_resource_mappings() -> dict[str, ResourceMapping]:
    """Load and compile every per-resource mapping file in ``mappings/fhir/``."""
    out: dict[str, ResourceMapping] = {}
    for path in list_resources("mappings", ".yaml"):
        if path.parent.name != "fhir" or path.name in SUPPORT_FILES:
            continue
        compiled = compile_mapping(load_mapping(f"fhir/{path.name}"))
        out[compiled.resource] = compiled
    return out


@lru_cache
def fhir_mapping_version() -> str:
    """Return the content hash of every FHIR mapping file."""
    names = sorted(
        f"fhir/{p.name}" for p in list_resources("mappings", ".yaml") if p.parent.name == "fhir"
    )
    return mapping_version(*names)


def select(node: Any, path: list[Segment]) -> list[Any]:
    """Evaluate an element path on JSON, flattening lists; filters keep matching items only."""
    current = [node]
    for seg in path:
        nxt: list[Any] = []
        for item in current:
            if not isinstance(item, dict):
                continue
            value = item.get(seg.name)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            if seg.filter_kind is not None:
                values = [v for v in values if _matches(v, seg.filter_kind, seg.filter_value or "")]
            nxt.extend(values)
        current = nxt
        if not current:
            break
    return current


def _matches(value: Any, kind: str, wanted: str) -> bool:
    if not isinstance(value, dict):
        return False
    if kind == "url":
        return value.get("url") == wanted
    if kind == "code":
        system, _, code = wanted.rpartition("|")
        return any(
            c.get("code") == code and (not system or c.get("system") == system)
            for c in _codings(value.get("code"))
        )
    return False


def _codings(value: Any) -> list[dict[str, Any]]:
    """Return the codings of a CodeableConcept, a Coding, or a list of either."""
    if isinstance(value, list):
        return [c for v in value for c in _codings(v)]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [c for c in value["coding"] or [] if isinstance(c, dict)]
    if "code" in value and ("system" in value or isinstance(value.get("code"), str)):
        return [value]
    return []


def _date_literal(text: str) -> ox.Literal | None:
    if "T" in text:
        return ox.Literal(text, datatype=_T_DATETIME)
    if len(text) == 10:
        return ox.Literal(text, datatype=_T_DATE)
    if len(text) == 7:
        return ox.Literal(text, datatype=_T_GYEARMONTH)
    if len(text) == 4:
        return ox.Literal(text, datatype=_T_GYEAR)
    return None


def _double(value: float) -> ox.Literal:
    return ox.Literal(repr(float(value)), datatype=_T_DOUBLE)


class FhirMapper:
    """Maps :class:`FhirRecord` objects to :class:`MappedGraph` objects."""

    def __init__(self, *, count: Callable[[str], None] | None = None) -> None:
        """Create a mapper; ``count`` receives unmapped-element and unmapped-type counters."""
        self.mappings = load_resource_mappings()
        self.terms = load_terminology()
        self.version = fhir_mapping_version()
        self.count = count or (lambda key: None)
        self._p = {name: ox.NamedNode(_TG + name) for name in (
            "hasPatient", "references", "fhirResourceType", "fhirResourceKey", "pseudonym",
            "valueUnit", "ratioNumerator", "ratioDenominator", "valueNumber", "valueCode",
            "valueBoolean", "radiopharmaceutical", "radionuclide",
            "describesStudy", "describesSeries", "FhirResource", "Patient",
        )}
        self._unit_cache: dict[str, ox.NamedNode] = {}

    # --- IRIs -------------------------------------------------------------------------------

    @staticmethod
    def resource_iri(resource_type: str, token: str) -> ox.NamedNode:
        """Return the node of a (non-Patient) FHIR resource (= ``mint_iri("fhir/<type>", token)``)."""
        return ox.NamedNode(f"{_TGR}/fhir/{resource_type}/{token}")

    def target_iri(self, ref: ResolvedReference) -> ox.NamedNode:
        """Return the IRI a resolved reference points to (patients: the identifier-based node)."""
        if ref.kind == "patient":
            return ox.NamedNode(_PATIENT + ref.key)
        return self.resource_iri(ref.resource_type, ref.key)

    # --- mapping ------------------------------------------------------------------------------

    def map_record(self, record: FhirRecord) -> MappedGraph:
        """Return the named graph of one record."""
        # built as text: validation, the store and worker processes all take N-Triples
        graph = SerializedGraph(
            graph=_TGG_FHIR + record.token,
            kind="fhir",
            patient=_PATIENT + record.patient if record.patient else None,
            source_checksum=record.checksum,
            mapping_version=self.version,
            ntriples=b"",
        )
        rt = record.resource_type
        data = record.data
        if rt == "Patient" and record.patient:
            subject = ox.NamedNode(_PATIENT + record.patient)
            graph.add(subject, RDF_TYPE, self._p["Patient"])
            graph.add(subject, self._p["pseudonym"], ox.Literal(record.patient))
            graph.add(subject, self._p["fhirResourceKey"], ox.Literal(record.token))
        else:
            subject = self.resource_iri(rt, record.token)
            if record.patient:
                graph.add(subject, self._p["hasPatient"], ox.NamedNode(graph.patient or ""))
        # rdf:type tg:FhirResource is entailed by every mapped class (rdfs:subClassOf); it is
        # stated only for resource types without a mapping file.
        graph.add(subject, self._p["fhirResourceType"], ox.Literal(rt))
        self._add_references(graph, subject, record)

        mapping = self.mappings.get(rt)
        profile_name = record.profiles[0].rstrip("/").rsplit("/", 1)[-1] if record.profiles else rt
        if mapping is None:
            self.count(f"unmapped-resource-type.{rt}")
            graph.add(subject, RDF_TYPE, self._p["FhirResource"])
            return graph
        cls = self._classify(mapping, record)
        graph.add(subject, RDF_TYPE, cls)
        rules = mapping.elements + mapping.by_class.get(cls.value, [])
        extra: list[ox.NamedNode] = []
        for rule in rules:
            if rule.head in data:  # most rules miss: skip path evaluation for absent elements
                self._apply(graph, subject, data, rule, record, extra_types=extra)
        for extra_cls in extra:  # e.g. tg:RadiopharmaceuticalTherapy found from the medication code
            for rule in mapping.by_class.get(extra_cls.value, []):
                self._apply(graph, subject, data, rule, record)
        for key in data:
            if key not in mapping.heads and key not in _SKIP_UNMAPPED:
                self.count(f"unmapped-element.{profile_name}.{key}")
        for key in record.deidentified_elements:
            self.count(f"deid-dropped.{profile_name}.{key}")
        for problem in record.problems:
            graph.issues.append(Issue(
                code=problem.code, severity=problem.severity, message=problem.message,
                location=problem.location,
            ))
        return graph

    def _classify(self, mapping: ResourceMapping, record: FhirRecord) -> ox.NamedNode:
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in record.profiles}
        codes: set[tuple[str, str]] | None = None
        for rule in mapping.classes:
            if rule.profile is not None and rule.profile in names:
                return rule.cls
            if rule.code is not None:
                if codes is None:
                    codes = {
                        (c.get("system", ""), c.get("code", ""))
                        for v in select(record.data, mapping.code_path) for c in _codings(v)
                    }
                if rule.code in codes or (not rule.code[0] and any(c == rule.code[1] for _, c in codes)):
                    return rule.cls
        return mapping.default_class

    def _add_references(self, graph: MappedGraph, subject: ox.NamedNode, record: FhirRecord) -> None:
        seen: set[str] = set()
        for ref in record.references:
            target = self.target_iri(ref)
            if target.value not in seen and target != subject:
                seen.add(target.value)
                graph.add(subject, self._p["references"], target)

    def _apply(
        self, graph: MappedGraph, subject: ox.NamedNode, data: Any, rule: ElementRule,
        record: FhirRecord, index_base: str = "", extra_types: list[ox.NamedNode] | None = None,
    ) -> None:
        values = select(data, rule.path)
        if not values:
            return
        kind = rule.type
        prop = rule.property
        if kind == "node":
            for i, value in enumerate(values):
                child = ox.NamedNode(f"{subject.value}/{rule.head}{index_base}/{i}")
                graph.add(subject, prop, child)
                if rule.node_class is not None:
                    graph.add(child, RDF_TYPE, rule.node_class)
                for sub in rule.elements:
                    self._apply(graph, child, value, sub, record, f"{index_base}-{i}")
            return
        if kind == "radiopharmaceutical":
            for value in values:
                cls = self._emit_radiopharmaceutical(graph, subject, value)
                if cls is not None and extra_types is not None and cls not in extra_types:
                    extra_types.append(cls)
            return
        for value in values:
            self._emit(graph, subject, prop, value, rule, record)

    def _emit(
        self, graph: MappedGraph, subject: ox.NamedNode, prop: ox.NamedNode, value: Any,
        rule: ElementRule, record: FhirRecord,
    ) -> None:
        kind = rule.type
        if kind == "concept":
            for coding in _codings(value):
                iri = self.terms.code_iri(coding.get("system"), coding.get("code"))
                if iri is not None:
                    graph.add(subject, prop, iri)
                else:
                    self.count(f"unmapped-code.{record.resource_type}")
        elif kind in ("code", "string"):
            if isinstance(value, str):
                graph.add(subject, prop, ox.Literal(value))
        elif kind == "boolean":
            if isinstance(value, bool):
                graph.add(subject, prop, ox.Literal("true" if value else "false", datatype=_T_BOOLEAN))
        elif kind == "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                graph.add(subject, prop, ox.Literal(str(value), datatype=_T_INTEGER))
        elif kind == "decimal":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                graph.add(subject, prop, _double(value))
        elif kind == "date":
            if isinstance(value, str):
                literal = _date_literal(value)
                if literal is not None:
                    graph.add(subject, prop, literal)
        elif kind == "gYear":
            if isinstance(value, int):
                graph.add(subject, prop, ox.Literal(f"{value:04d}", datatype=_T_GYEAR))
        elif kind == "reference":
            ref = value.get(RESOLVED_KEY) if isinstance(value, dict) else None
            if isinstance(ref, ResolvedReference):
                graph.add(subject, prop, self.target_iri(ref))
        elif kind == "quantity":
            self._emit_quantity(graph, subject, prop, value, rule, record)
        elif kind == "ratio":
            if isinstance(value, dict):
                num = (value.get("numerator") or {}).get("value")
                den = (value.get("denominator") or {}).get("value")
                if isinstance(num, (int, float)):
                    graph.add(subject, self._p["ratioNumerator"], _double(num))
                if isinstance(den, (int, float)):
                    graph.add(subject, self._p["ratioDenominator"], _double(den))
                if isinstance(num, (int, float)) and isinstance(den, (int, float)) and den:
                    graph.add(subject, prop, _double(num / den))
        elif kind == "dicom-study":
            if isinstance(value, str):
                graph.add(subject, prop, ox.NamedNode(str(mint_iri("study", value))))
        elif kind == "dicom-series":
            if isinstance(value, str):
                graph.add(subject, prop, ox.NamedNode(str(mint_iri("series", value))))
        else:
            raise MappingError(f"unknown element type {kind!r} in the {record.resource_type} mapping",
                               code="map.bad-mapping-file")

    def _emit_quantity(
        self, graph: MappedGraph, subject: ox.NamedNode, prop: ox.NamedNode, value: Any,
        rule: ElementRule, record: FhirRecord,
    ) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("value"), (int, float)):
            return
        number = float(value["value"])
        unit = value.get("code") or value.get("unit") or ""
        target = rule.unit
        if target is None:
            # Laboratory values: the canonical unit of the observation's LOINC code, if known.
            for coding in _codings(record.data.get("code")):
                if coding.get("system") == "http://loinc.org" and coding.get("code") in self.terms.lab_units:
                    target = self.terms.lab_units[coding["code"]]
                    break
        if target is not None and unit != target:
            converted = self.terms.convert(number, unit, target)
            if converted is None:
                graph.issues.append(Issue(
                    code="map.invalid-value", severity="warning",
                    message=f"unit {unit!r} cannot be converted to {target!r}; value kept in its own unit"
                    if rule.unit is None else
                    f"unit {unit!r} cannot be converted to {target!r}; value not mapped",
                    location=f"{record.location} {record.resource_type}.{'.'.join(s.name for s in rule.path)}",
                ))
                if rule.unit is not None:
                    return
            else:
                number, unit = converted, target
        graph.add(subject, prop, _double(number))
        if rule.unit is None and unit:
            unit_prop = rule.unit_property or self._p["valueUnit"]
            graph.add(subject, unit_prop, self._unit_iri(unit))

    def _unit_iri(self, unit: str) -> ox.NamedNode:
        iri = self._unit_cache.get(unit)
        if iri is None:
            iri = ox.NamedNode("http://unitsofmeasure.org/" + quote(unit, safe=""))
            if len(self._unit_cache) < 10_000:
                self._unit_cache[unit] = iri
        return iri

    def _emit_radiopharmaceutical(
        self, graph: MappedGraph, subject: ox.NamedNode, value: Any
    ) -> ox.NamedNode | None:
        for coding in _codings(value):
            item = self.terms.radiopharmaceuticals.get((coding.get("system", ""), coding.get("code", "")))
            if item is None:
                continue
            cls = ox.NamedNode(_TG + "RadiopharmaceuticalTherapy")
            graph.add(subject, RDF_TYPE, cls)
            graph.add(subject, self._p["radiopharmaceutical"], _node(item["iri"]))
            graph.add(subject, self._p["radionuclide"], _node(item["radionuclide"]))
            return cls
        return None
