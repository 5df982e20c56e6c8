"""Map a de-identified :class:`SeriesRecord` to the RDF of its named graph.

Two layers, both driven by ``mappings/dicom/*.yaml``:

- curated: study, series, instances, patient, equipment, acquisition, reconstruction,
  radiopharmaceutical administration, RT objects, references and SUV factors as ontology terms
  (``tg:``) with datatypes and UCUM units (``curated.yaml``, ``references.yaml``);
- lossless: every remaining attribute as ``dcmattr:<Keyword>``, once on the series where all
  instances agree and on the instance only where values vary (``lossless.yaml``).

The record is already de-identified: this module adds no identifying data and reads no files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from theragraph.ids import graph_iri, mint_iri, patient_iri
from theragraph.ingest.deid import to_timezone
from theragraph.mapping.base import RDF_TYPE, MappedGraph, load_mapping, mapping_version, to_literal
from theragraph.records.dicom import ObjectReference, SeriesRecord
from theragraph.report import Issue
from theragraph.vocab import DCMATTR, TG, UCUM

MAPPINGS = ("dicom/curated.yaml", "dicom/lossless.yaml", "dicom/references.yaml")
_SEX = {"M": "male", "F": "female", "O": "other"}
_AGE_UNITS = {"Y": 1.0, "M": 1 / 12, "W": 7 / 365.25, "D": 1 / 365.25}


_INSTANCE_PREFIX = str(mint_iri("instance", ""))


@lru_cache(maxsize=4096)
def _tg(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(TG[name]))


@lru_cache(maxsize=8192)
def _attr(keyword: str) -> ox.NamedNode:
    return ox.NamedNode(str(DCMATTR[keyword]))


def _node(iri: Any) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


@lru_cache
def dicom_mapping_version() -> str:
    """Return the content hash of the DICOM mapping files (changes when a mapping changes)."""
    return mapping_version(*MAPPINGS)


def series_graph_iri(series_uid: str) -> str:
    """Return the named-graph IRI of a series (``series_uid`` already pseudonymised)."""
    return str(graph_iri("dicom-series", series_uid))


def series_iri(series_uid: str) -> ox.NamedNode:
    """Return the IRI of a series node."""
    return _node(mint_iri("series", series_uid))


def instance_iri(sop_instance_uid: str) -> ox.NamedNode:
    """Return the IRI of an instance node (``mint_iri("instance", uid)``, built directly: one per
    instance, on the ingest's hot path)."""
    return ox.NamedNode(_INSTANCE_PREFIX + sop_instance_uid)


# -- literals ------------------------------------------------------------------------------------


def _literal(value: Any, separator: str) -> ox.Literal | None:
    """Return the lossless literal of a scalar or multi-valued value (None for sequences)."""
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):
            return None
        return ox.Literal(separator.join(_lexical(v) for v in value))
    if isinstance(value, bool):
        return to_literal(value)
    if isinstance(value, int | float | date | time):
        return to_literal(value)
    return ox.Literal(str(value))


def _lexical(value: Any) -> str:
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _first(value: Any) -> Any:
    if isinstance(value, tuple):
        return value[0] if value and not isinstance(value[0], tuple) else None
    return value


def _scaled(value: Any, spec: Mapping[str, Any]) -> Any:
    value = _first(value)
    if value is None:
        return None
    datatype = spec.get("datatype")
    if "scale" in spec:
        return float(value) * float(spec["scale"])
    if datatype == "double":
        return float(value)
    if datatype == "integer":
        return int(value)
    return str(value)


def combine_datetime(
    attributes: Mapping[str, Any],
    spec: Mapping[str, Any],
    tz: Any,
    *,
    fallback_date: date | None = None,
) -> datetime | None:
    """Build an xsd:dateTime value from a DT attribute or a DA + TM pair.

    A DT without its own UTC offset, and a DA + TM pair, take TimezoneOffsetFromUTC (``tz``)
    when the file gives one; otherwise the value stays without time zone.
    """
    dt_key = spec.get("datetime")
    if dt_key and isinstance(attributes.get(dt_key), datetime):
        value: datetime = attributes[dt_key]
        return value if value.tzinfo is not None or tz is None else value.replace(tzinfo=tz)
    day = attributes.get(spec.get("date", ""), None) or fallback_date
    clock = attributes.get(spec.get("time", ""), None)
    if isinstance(day, date) and isinstance(clock, time):
        return datetime.combine(day, clock, tzinfo=tz)
    return None


# -- the mapper ----------------------------------------------------------------------------------


class DicomSeriesMapper:
    """Turns series records into mapped graphs (one named graph per series)."""

    def __init__(self) -> None:
        """Load the mapping files."""
        self.curated = load_mapping("dicom/curated.yaml")
        self.lossless = load_mapping("dicom/lossless.yaml")
        self.references = load_mapping("dicom/references.yaml")["rules"]
        self.version = dicom_mapping_version()
        self._skip = frozenset(self.lossless.get("skip", []))
        self._structured = frozenset(self.lossless.get("structured", []))
        self._max_values = int(self.lossless.get("max_values", 64))
        self._max_items = int(self.lossless.get("max_items", 32))
        self._sep = str(self.lossless.get("multi_value_separator", "\\"))
        self._ref_rules = {r["sequence"]: r for r in self.references}
        self._code_systems: dict[str, str] = self.curated.get("code_systems", {})

    def map_series(self, series: SeriesRecord, *, source_checksum: str | None) -> MappedGraph:
        """Return the graph of one series.

        Args:
            series: the de-identified series record.
            source_checksum: keyed checksum of the series' files (re-ingest detection).
        """
        out = MappedGraph(
            graph=series_graph_iri(series.series_uid),
            kind="dicom",
            patient=str(patient_iri(series.patient)),
            source_checksum=source_checksum,
            mapping_version=self.version,
        )
        common = series.common
        tz = _timezone(common)
        s = series_iri(series.series_uid)
        study = _node(mint_iri("study", series.study_uid))
        patient = _node(patient_iri(series.patient))
        add = out.triples.append
        T = ox.Triple

        # patient, study, series (design §3: one patient node, met by every source)
        add(T(patient, RDF_TYPE, _tg("Patient")))
        add(T(patient, _tg("pseudonym"), ox.Literal(series.patient)))
        sex = _SEX.get(str(common.get("PatientSex", "")).upper())
        if sex:
            add(T(patient, _tg("sex"), ox.Literal(sex)))
        add(T(study, RDF_TYPE, _tg("Study")))
        add(T(study, _tg("hasPatient"), patient))
        add(T(study, _tg("studyInstanceUID"), ox.Literal(series.study_uid)))
        for spec in self.curated.get("study_datetimes", []):
            value = combine_datetime(common, spec, tz)
            if value is not None:
                add(T(study, _tg(spec["property"]), to_literal(value)))
        add(T(s, RDF_TYPE, _tg("Series")))
        klass = self.curated.get("modality_classes", {}).get(series.modality)
        if klass:
            add(T(s, RDF_TYPE, _tg(klass)))
        add(T(s, _tg("inStudy"), study))
        add(T(s, _tg("hasPatient"), patient))
        add(T(s, _tg("seriesInstanceUID"), ox.Literal(series.series_uid)))
        add(T(s, _tg("instanceCount"), to_literal(series.instance_count)))
        self._properties(out, s, common, self.curated.get("series", []))
        for spec in self.curated.get("series_datetimes", []):
            value = combine_datetime(common, spec, tz)
            if value is not None:
                add(T(s, _tg(spec["property"]), to_literal(value)))
        self._equipment(out, s, common)
        self._grouped_node(out, s, series, "acquisition", "hasAcquisition", "Acquisition")
        self._grouped_node(out, s, series, "reconstruction", "hasReconstruction", "Reconstruction")
        self._radiopharmaceuticals(out, s, patient, series, tz)
        self._suv(out, s, series)

        # instances: identity, the varying attributes, RT content, references
        instance_class = self.curated.get("instance_classes", {}).get(series.modality)
        refs: dict[tuple[str, str, str], ObjectReference] = {}
        for entry in series.instances:
            i = instance_iri(entry.sop_instance_uid)
            add(T(i, RDF_TYPE, _tg("Instance")))
            if instance_class:
                add(T(i, RDF_TYPE, _tg(instance_class)))
            add(T(i, _tg("inSeries"), s))
            add(T(i, _tg("sopInstanceUID"), ox.Literal(entry.sop_instance_uid)))
            self._lossless(out, i, entry.varying)
            for keyword, spec in self._acq_varying(entry.varying):
                value = _scaled(entry.varying[keyword], spec)
                if value is not None:
                    add(T(i, _tg(spec["property"]), to_literal(value, spec.get("datatype"))))
            if instance_class or entry.varying.keys() & self._structured:
                full = {**common, **entry.varying}
                self._rt_content(out, i, entry.sop_instance_uid, series.modality, full)
            for ref in self._references(entry.varying, entry.sop_instance_uid):
                refs[(ref.relation, ref.target, ref.uid)] = ref
        # references common to all instances are stated once, by the series
        # (a one-instance series, e.g. an RT Dose, also states them on its instance)
        only = series.instances[0].sop_instance_uid if series.instance_count == 1 else ""
        for ref in self._references(common, ""):
            refs[(ref.relation, ref.target, ref.uid)] = ref
            if only:
                ref_i = ObjectReference(ref.relation, ref.target, ref.uid, only)
                refs[(ref.relation, ref.target, ref.uid, only)] = ref_i  # type: ignore[index]
        for ref in refs.values():
            subject = instance_iri(ref.source_instance) if ref.source_instance else s
            add(T(subject, _tg(ref.relation), _node(mint_iri(ref.target, ref.uid))))
            if ref.target == "series" and ref.source_instance:
                add(T(s, _tg(ref.relation), _node(mint_iri("series", ref.uid))))
        self._lossless(out, s, common)
        series.references = list(refs.values())

        out.triples = list(dict.fromkeys(out.triples))  # drop duplicates (same fact twice)
        return out

    # -- curated pieces -----------------------------------------------------------------------

    def _properties(
        self, out: MappedGraph, subject: ox.NamedNode, attrs: Mapping[str, Any],
        specs: Iterable[Mapping[str, Any]],
    ) -> None:
        for spec in specs:
            value = attrs.get(spec["keyword"])
            if value is None:
                continue
            prop = _tg(spec["property"])
            kind = spec.get("kind")
            if kind == "modality":
                out.add(subject, prop, _node(self._code_systems["DCM"] + str(_first(value))))
            elif kind == "oid":
                out.add(subject, prop, ox.NamedNode(f"urn:oid:{_first(value)}"))
            elif kind == "age":
                years = _age_years(str(_first(value)))
                if years is not None:
                    out.add(subject, prop, to_literal(years, "double"))
            elif spec.get("multi") and isinstance(value, tuple):
                for v in value:
                    out.add(subject, prop, to_literal(_scaled(v, spec), spec.get("datatype")))
            else:
                scaled = _scaled(value, spec)
                if scaled is not None:
                    out.add(subject, prop, to_literal(scaled, spec.get("datatype")))

    def _equipment(self, out: MappedGraph, s: ox.NamedNode, common: Mapping[str, Any]) -> None:
        specs = self.curated.get("equipment", [])
        parts = [str(common.get(spec["keyword"], "")) for spec in specs]
        if not any(parts):
            return
        key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        equipment = _node(mint_iri("equipment", key))
        out.add(equipment, RDF_TYPE, _tg("Equipment"))
        out.add(s, _tg("hasEquipment"), equipment)
        self._properties(out, equipment, common, specs)

    def _acq_varying(self, varying: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
        for spec in self.curated.get("acquisition", []):
            if spec["keyword"] in varying:
                yield spec["keyword"], spec

    def _grouped_node(
        self, out: MappedGraph, s: ox.NamedNode, series: SeriesRecord, section: str,
        link: str, klass: str,
    ) -> None:
        specs = [spec for spec in self.curated.get(section, []) if spec["keyword"] in series.common]
        if not specs:
            return
        node = _node(mint_iri(section, series.series_uid))
        out.add(node, RDF_TYPE, _tg(klass))
        out.add(s, _tg(link), node)
        self._properties(out, node, series.common, specs)

    def _code_iri(self, item: Mapping[str, Any]) -> ox.NamedNode | None:
        value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue")
        scheme = str(item.get("CodingSchemeDesignator", ""))
        if not value:
            return None
        if str(value).startswith(("urn:", "http")):
            return ox.NamedNode(str(value))
        base = self._code_systems.get(scheme)
        if base is None:
            return None
        return ox.NamedNode(base + str(value).strip())

    def _first_code(self, attrs: Mapping[str, Any], sequence: str) -> tuple[ox.NamedNode | None, bool]:
        """Return (code IRI, had_code) of the first item of a code sequence."""
        items = attrs.get(sequence)
        if not isinstance(items, tuple) or not items:
            return None, False
        item = dict(items[0])
        return self._code_iri(item), bool(item.get("CodeValue"))

    def _radiopharmaceuticals(
        self, out: MappedGraph, s: ox.NamedNode, patient: ox.NamedNode, series: SeriesRecord, tz: Any
    ) -> None:
        spec = self.curated.get("radiopharmaceutical") or {}
        items = series.common.get(spec.get("sequence", ""))
        if not isinstance(items, tuple):
            return
        series_date = series.common.get("SeriesDate")
        for index, raw in enumerate(items):
            item = dict(raw)
            node = _node(mint_iri("radiopharmaceutical-administration", f"{series.series_uid}/{index}"))
            out.add(node, RDF_TYPE, _tg("RadiopharmaceuticalAdministration"))
            out.add(node, _tg("hasPatient"), patient)
            out.add(s, _tg("hasRadiopharmaceuticalAdministration"), node)
            for key, prop in (("agent_code", "radiopharmaceutical"), ("radionuclide_code", "radionuclide")):
                code, had_code = self._first_code(item, spec[key])
                if code is not None:
                    out.add(node, _tg(prop), code)
                elif had_code:
                    out.issues.append(Issue(
                        code="map.unmapped-code", severity="warning", location=spec[key],
                        message="code of an unknown coding scheme; add it to mappings/dicom/curated.yaml",
                    ))
            activity = spec["activity"]
            dose = _first(item.get(activity["keyword"]))
            if isinstance(dose, int | float) and dose > 0:
                if dose < float(activity["assume_mbq_below"]):
                    mbq = float(dose)
                    out.issues.append(Issue(
                        code="map.unit-assumed", severity="warning", location=activity["keyword"],
                        message="RadionuclideTotalDose is implausibly small for Bq: read as MBq",
                    ))
                else:
                    mbq = float(dose) * float(activity["scale"])
                out.add(node, _tg(activity["property"]), to_literal(mbq, "double"))
            for key in ("agent_name", "half_life", "positron_fraction", "route"):
                self._properties(out, node, item, [spec[key]])
            start = combine_datetime(
                item, spec["start"], tz,
                fallback_date=series_date if isinstance(series_date, date) else None,
            )
            if start is not None and not isinstance(item.get(spec["start"]["datetime"]), datetime):
                start = self._assume_injection_date(out, start, series, tz)
            if start is not None:
                out.add(node, _tg(spec["start"]["property"]), to_literal(start))

    @staticmethod
    def _assume_injection_date(
        out: MappedGraph, start: datetime, series: SeriesRecord, tz: Any
    ) -> datetime:
        """Date a time-only injection by the series date, a day earlier across midnight.

        QIBA SUV rule (design §5): RadiopharmaceuticalStartTime on SeriesDate, minus one day when
        that falls after the scan. The graph must say the date was assumed.
        """
        scan = combine_datetime(series.common, {"date": "SeriesDate", "time": "SeriesTime"}, tz)
        moved = scan is not None and start > scan
        if moved:
            start -= timedelta(days=1)
        out.issues.append(Issue(
            code="map.injection-date-assumed",
            severity="warning",
            location="RadiopharmaceuticalStartDateTime (0018,1078)",
            message="RadiopharmaceuticalStartDateTime missing: the injection date was taken from "
            "SeriesDate" + (" minus one day (the start time is after the series time: an "
            "injection before midnight)" if moved else "") + "; write the full start datetime "
            "at the scanner if you can",
        ))
        return start

    def _suv(self, out: MappedGraph, s: ox.NamedNode, series: SeriesRecord) -> None:
        result = series.suv
        if result is None:
            return
        spec = self.curated["suv"]
        out.add(s, _tg(spec["rule"]), ox.Literal(result.rule))
        if result.suvbw_factor is not None:
            out.add(s, _tg(spec["factor"]), to_literal(float(result.suvbw_factor), "double"))
            for name, value in sorted(result.variants.items()):
                prop = spec["variants"].get(name)
                if prop and value is not None:
                    out.add(s, _tg(prop), to_literal(float(value), "double"))
        else:
            out.add(s, _tg(spec["reason"]), ox.Literal(result.reason or result.code or "unknown"))
            out.issues.append(Issue(
                code=result.code or "suv.not-computable", severity="warning",
                message=f"SUV not computable: {result.reason or result.code}",
            ))

    def _rt_content(
        self, out: MappedGraph, i: ox.NamedNode, sop: str, modality: str, attrs: Mapping[str, Any]
    ) -> None:
        if modality == "RTDOSE":
            self._properties(out, i, attrs, self.curated.get("rtdose", []))
        elif modality == "RTPLAN":
            self._properties(out, i, attrs, self.curated.get("rtplan", []))
        for key in ("roi", "segment"):
            self._numbered_items(out, i, sop, attrs, self.curated.get(key, {}))

    def _numbered_items(
        self, out: MappedGraph, i: ox.NamedNode, sop: str, attrs: Mapping[str, Any], spec: Mapping[str, Any]
    ) -> None:
        """Map the numbered items of one sequence (ROIs, segments) to nodes, as ``spec`` says."""
        items = attrs.get(spec.get("sequence", ""))
        if not isinstance(items, tuple):
            return
        joined: dict[Any, dict[str, Any]] = {}  # e.g. RT ROI Observations, by ReferencedROINumber
        if spec.get("observations"):
            joined = {
                _first(dict(o).get("ReferencedROINumber")): dict(o)
                for o in attrs.get(spec["observations"], ()) if isinstance(o, tuple)
            }
        for raw in items:
            item = dict(raw)
            number = _first(item.get(spec["number"]))
            if number is None:
                continue
            node = _node(mint_iri(spec["iri_kind"], f"{sop}/{number}"))
            out.add(node, RDF_TYPE, _tg(spec["class"]))
            out.add(node, _tg(spec["link"]), i)
            out.add(node, _tg(spec["number_property"]), to_literal(int(number)))
            self._properties(out, node, item, spec.get("properties", []))
            if number in joined:
                self._properties(out, node, joined[number], spec.get("observation_properties", []))
            for code_spec in spec.get("codes", []):
                code, _ = self._first_code(item, code_spec["sequence"])
                if code is not None:
                    out.add(node, _tg(code_spec["property"]), code)

    def _references(self, attrs: Mapping[str, Any], source: str) -> Iterable[ObjectReference]:
        for keyword, value in attrs.items():
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                yield from self._sequence_refs(keyword, value, source, depth=0)

    def _sequence_refs(self, keyword: str, items: tuple, source: str, *, depth: int) -> Iterable[ObjectReference]:
        rule = self._ref_rules.get(keyword)
        for raw in items:
            item = dict(raw)
            if rule is not None:
                uid = _first(item.get(rule["uid"]))
                if uid:
                    yield ObjectReference(rule["relation"], rule["target"], str(uid), source)
            if depth < 6:
                for k, v in item.items():
                    if isinstance(v, tuple) and v and isinstance(v[0], tuple):
                        yield from self._sequence_refs(k, v, source, depth=depth + 1)

    # -- lossless layer ------------------------------------------------------------------------

    def _lossless(self, out: MappedGraph, subject: ox.NamedNode | ox.BlankNode, attrs: Mapping[str, Any]) -> None:
        triples = out.triples
        for keyword, value in attrs.items():
            if keyword in self._skip:
                continue
            if isinstance(value, tuple):
                if value and isinstance(value[0], tuple):
                    if keyword in self._structured or len(value) > self._max_items:
                        continue
                    self._sequence(out, subject, keyword, value)
                    continue
                if len(value) > self._max_values:
                    continue
            literal = _literal(value, self._sep)
            if literal is not None:
                triples.append(ox.Triple(subject, _attr(keyword), literal))

    def _sequence(self, out: MappedGraph, subject: ox.NamedNode | ox.BlankNode, keyword: str, items: tuple) -> None:
        for index, raw in enumerate(items):
            node = ox.BlankNode()
            out.add(subject, _attr(keyword), node)
            out.add(node, _tg("itemIndex"), to_literal(index))
            self._lossless(out, node, dict(raw))


def _timezone(common: Mapping[str, Any]) -> Any:
    return to_timezone(common.get("TimezoneOffsetFromUTC"))


def _age_years(text: str) -> float | None:
    """Parse a DICOM AS value (``045Y``, ``006M``...) into years."""
    text = text.strip().upper()
    if len(text) != 4 or not text[:3].isdigit() or text[3] not in _AGE_UNITS:
        return None
    return round(int(text[:3]) * _AGE_UNITS[text[3]], 4)


def unit_iri(unit: str) -> ox.NamedNode:
    """Return the UCUM IRI of a unit code (for ``tg:unit`` annotations)."""
    return ox.NamedNode(str(UCUM[unit]))
