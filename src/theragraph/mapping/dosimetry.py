"""Map a dosimetry report record to RDF: one named graph, the MIRD workflow as PROV activities.

Chain (design §2, after MEDIRAD/MIRD): calibration -> activity quantification per VOI and time
point (used: the time point's series, the VOI, the calibration factor) -> time-activity curve
fitting -> activity integration -> absorbed dose calculation -> BED calculation. Each activity
``prov:used`` its inputs and ``prov:generated`` its output quantities, which carry ``tg:unit``.
Field -> property maps come from ``mappings/dosimetry/report.yaml``; the structure is here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from theragraph.derive.bed import bed_for_voi
from theragraph.ids import graph_iri, mint_iri, patient_iri
from theragraph.mapping.base import RDF_TYPE, MappedGraph, load_mapping, mapping_version, to_literal
from theragraph.records.dosimetry import CodeRecord, DosimetryReportRecord, VoiRecord
from theragraph.vocab import TG

MAPPING = "dosimetry/report.yaml"
_IRI_CACHE: dict[str, ox.NamedNode] = {}


@lru_cache
def _version() -> str:
    """Return the mapping version (content hash), computed once per process."""
    return mapping_version(MAPPING)


def report_graph_iri(report_key: str) -> str:
    """Return the named graph of one report (docs/contracts.md)."""
    return str(graph_iri("dosimetry", report_key))


def report_iri(report_key: str) -> str:
    """Return the IRI of one report node."""
    return str(mint_iri("dosimetry-report", report_key))


def cycle_iri(patient: str, cycle_number: int) -> str:
    """Return the therapy-cycle IRI: one per patient and cycle number, shared by its reports."""
    return str(mint_iri("therapy-cycle", f"{patient}/{cycle_number}"))


def series_iri(series_uid: str) -> str:
    """Return the DICOM series IRI of a pseudonymised SeriesInstanceUID."""
    return str(mint_iri("series", series_uid))


def structure_iri(kind: str, sop_uid: str, number: int) -> str:
    """Return the RTSTRUCT ROI (kind ``roi``) or SEG segment (``segment``) IRI."""
    return str(mint_iri(kind, f"{sop_uid}/{number}"))


class _Builder:
    """Expands CURIEs of the mapping file and appends triples to one graph."""

    def __init__(self, mapping: dict[str, Any], graph: MappedGraph) -> None:
        self.m = mapping
        self.g = graph
        self.prefixes: dict[str, str] = mapping["prefixes"]
        self._cache: dict[str, ox.NamedNode] = _IRI_CACHE

    def iri(self, curie_or_iri: str) -> ox.NamedNode:
        node = self._cache.get(curie_or_iri)
        if node is None:
            prefix, _, local = curie_or_iri.partition(":")
            if prefix in self.prefixes:
                node = ox.NamedNode(self.prefixes[prefix] + local)
            else:
                node = ox.NamedNode(curie_or_iri)
            self._cache[curie_or_iri] = node
        return node

    def link(self, s: ox.NamedNode, name: str, o: ox.NamedNode | ox.Literal) -> None:
        self.g.add(s, self.iri(self.m["links"][name]), o)

    def types(self, s: ox.NamedNode, name: str, sub: str | None = None) -> None:
        classes = self.m["classes"][name]
        if sub is not None:
            classes = classes[sub]
        for cls in classes:
            self.g.add(s, RDF_TYPE, self.iri(cls))

    def fields(self, s: ox.NamedNode, name: str, values: dict[str, Any]) -> None:
        """Add each mapped field present in ``values``; quantities also get ``tg:unit``."""
        for attr, spec in self.m["fields"][name].items():
            value = values.get(attr)
            if value is None:
                continue
            self.g.add(s, self.iri(spec["property"]), to_literal(value, spec["datatype"]))
            unit = spec.get("unit")
            # the node-level unit is for quantity nodes (one value each); other nodes rely on the
            # tg:unit annotation of the property (ontology/dosimetry.ttl)
            if unit and unit != "%" and "tg:DosimetryQuantity" in self.m["classes"].get(name, ()):
                self.link(s, "unit", self.iri(f"ucum:{quote(unit, safe='')}"))

    def code(self, s: ox.NamedNode, name: str, code: CodeRecord | None) -> None:
        if code is None:
            return
        base = self.m["code_systems"].get(code.system)
        if base is None:  # unknown system: keep it resolvable as system#code
            target = ox.NamedNode(f"{code.system.rstrip('#/')}#{quote(code.code, safe='')}")
        else:
            target = ox.NamedNode(base + quote(code.code, safe=""))
        self.link(s, name, target)
        if code.display:
            self.link(target, "code_display", to_literal(code.display))


def map_report(
    record: DosimetryReportRecord,
    *,
    source_checksum: str | None = None,
    structure_iris: dict[str, str] | None = None,
    administration_iri: str | None = None,
) -> MappedGraph:
    """Return the named graph of one dosimetry report.

    Args:
        record: the de-identified report.
        source_checksum: keyed checksum of the source bytes (re-ingest detection).
        structure_iris: VOI id -> ROI/segment IRI resolved by the caller (store look-up); a VOI
            whose segmentation names a ``sop_instance_uid`` is linked without it.
        administration_iri: the FHIR MedicationAdministration node of the cycle, when found.
    """
    mapping = load_mapping(MAPPING)
    patient = patient_iri(record.patient)
    graph = MappedGraph(
        graph=report_graph_iri(record.report_key),
        kind="dosimetry",
        patient=str(patient),
        source_checksum=source_checksum,
        mapping_version=_version(),
    )
    b = _Builder(mapping, graph)
    key = record.report_key
    p = ox.NamedNode(str(patient))
    graph.add(p, RDF_TYPE, ox.NamedNode(str(TG.Patient)))
    graph.add(p, ox.NamedNode(str(TG.pseudonym)), to_literal(record.patient))

    def node(*parts: str) -> ox.NamedNode:
        return ox.NamedNode(str(mint_iri("dosimetry-report", "/".join((key, *parts)))))

    report = ox.NamedNode(report_iri(key))
    b.types(report, "report")
    b.fields(
        report, "report", {"format_version": record.format_version, "created_at": record.created_at}
    )
    b.link(report, "has_patient", p)

    cycle = ox.NamedNode(cycle_iri(record.patient, record.cycle.cycle_number))
    b.types(cycle, "cycle")
    b.fields(cycle, "cycle", _attrs(record.cycle))
    b.code(cycle, "radiopharmaceutical", record.cycle.radiopharmaceutical)
    b.code(cycle, "radionuclide", record.cycle.radionuclide)
    b.link(cycle, "has_patient", p)
    b.link(report, "for_cycle", cycle)
    if administration_iri is not None:
        b.link(cycle, "medication_administration", ox.NamedNode(administration_iri))

    def activity(name: str, *parts: str) -> ox.NamedNode:
        a = node(*parts)
        b.types(a, name)
        b.link(a, "part_of_report", report)
        b.link(a, "for_cycle", cycle)
        return a

    def output(a: ox.NamedNode, name: str, values: dict[str, Any], *parts: str) -> ox.NamedNode:
        q = node(*parts)
        b.types(q, name)
        b.fields(q, name, values)
        b.link(a, "generated", q)
        b.link(q, "was_generated_by", a)
        b.link(q, "has_patient", p)
        b.link(q, "for_cycle", cycle)
        return q

    # method, software, calibration
    software = None
    if record.method.software_name:
        software = ox.NamedNode(
            str(
                mint_iri(
                    "software",
                    quote(
                        f"{record.method.software_name}/{record.method.software_version or ''}",
                        safe="/",
                    ),
                )
            )
        )
        b.types(software, "software")
        b.fields(software, "software", _attrs(record.method))
    calibration_factor = None
    if record.method.calibration_factor_value is not None:
        cal = activity("calibration", "calibration")
        calibration_factor = output(
            cal, "calibration_factor", _attrs(record.method), "calibration-factor"
        )

    time_points: dict[str, ox.NamedNode] = {}
    series_by_tp: dict[str, ox.NamedNode] = {}
    for tp in record.time_points:
        t = node("time-point", _local(tp.id))
        b.types(t, "time_point")
        b.fields(t, "time_point", _attrs(tp))
        b.link(t, "for_cycle", cycle)
        b.link(t, "part_of_report", report)
        if tp.series_uid:
            series = ox.NamedNode(series_iri(tp.series_uid))
            b.link(t, "imaging_series", series)
            series_by_tp[tp.id] = series
        time_points[tp.id] = t

    structures = structure_iris or {}
    for voi in record.vois:
        _map_voi(
            b,
            record,
            voi,
            node,
            activity,
            output,
            time_points,
            series_by_tp,
            calibration_factor,
            software,
            structures.get(voi.id),
            p,
            report,
        )
    return graph


def _map_voi(
    b: _Builder,
    record: DosimetryReportRecord,
    voi: VoiRecord,
    node: Any,
    activity: Any,
    output: Any,
    time_points: dict[str, ox.NamedNode],
    series_by_tp: dict[str, ox.NamedNode],
    calibration_factor: ox.NamedNode | None,
    software: ox.NamedNode | None,
    structure: str | None,
    patient: ox.NamedNode,
    report: ox.NamedNode,
) -> None:
    vid = _local(voi.id)
    v = node("voi", vid)
    b.types(v, "voi", voi.type)
    b.fields(v, "voi", _attrs(voi))
    b.code(v, "anatomy", voi.anatomy)
    b.link(v, "has_patient", patient)
    b.link(v, "part_of_report", report)
    seg = voi.segmentation
    if seg is not None:
        b.link(v, "segmentation_series", ox.NamedNode(series_iri(seg.series_uid)))
        b.fields(v, "segmentation", {seg.kind: seg.number})
        if structure is None and seg.sop_instance_uid:
            structure = structure_iri(seg.kind, seg.sop_instance_uid, seg.number)
        if structure is not None:
            b.link(v, "delineated_by", ox.NamedNode(structure))

    if voi.baseline_uptake is not None:
        u = node("voi", vid, "baseline-uptake")
        b.types(u, "uptake")
        b.fields(u, "uptake", _attrs(voi.baseline_uptake))
        b.link(v, "baseline_uptake", u)
        b.link(u, "of_voi", v)
        b.link(u, "has_patient", patient)
        if voi.baseline_uptake.series_uid:
            b.link(u, "imaging_series", ox.NamedNode(series_iri(voi.baseline_uptake.series_uid)))

    measurements = []
    for act in voi.activities:
        q = activity(
            "activity_quantification", "voi", vid, "quantification", _local(act.time_point_id)
        )
        for used in (v, series_by_tp.get(act.time_point_id), calibration_factor):
            if used is not None:
                b.link(q, "used", used)
        m = output(
            q,
            "activity_measurement",
            _attrs(act),
            "voi",
            vid,
            "activity",
            _local(act.time_point_id),
        )
        b.link(m, "of_voi", v)
        b.link(m, "at_time_point", time_points[act.time_point_id])
        measurements.append(m)

    fit = None
    if voi.fit is not None:
        fa = activity("fitting", "voi", vid, "fitting")
        for m in measurements:
            b.link(fa, "used", m)
        fit = output(fa, "fit", _attrs(voi.fit), "voi", vid, "fit")
        b.link(fit, "fit_model", b.iri(b.m["fit_models"][voi.fit.model]))
        b.link(fit, "of_voi", v)
        for name, value in sorted(voi.fit.parameters.items()):
            par = node("voi", vid, "fit", "parameter", _local(name))
            b.types(par, "fit_parameter")
            b.fields(par, "fit_parameter", {"name": name, "value": value})
            b.link(fit, "fit_parameter", par)

    tia = None
    if voi.time_integrated_activity_mbq_h is not None:
        ia = activity("integration", "voi", vid, "integration")
        b.link(ia, "used", fit if fit is not None else v)
        for m in measurements if fit is None else ():
            b.link(ia, "used", m)
        tia = output(ia, "time_integrated_activity", _attrs(voi), "voi", vid, "tia")
        b.link(tia, "of_voi", v)

    dose = None
    if voi.absorbed_dose_gy is not None or voi.absorbed_dose_per_activity_gy_per_gbq is not None:
        da = activity("dose_calculation", "voi", vid, "dose-calculation")
        b.link(da, "method", b.iri(b.m["methods"][record.method.name]))
        b.link(da, "used", v)
        for used in (tia, fit):
            if used is not None:
                b.link(da, "used", used)
                break
        if software is not None:
            b.link(da, "associated_with", software)
        if voi.absorbed_dose_gy is not None:
            dose = output(da, "absorbed_dose", _attrs(voi), "voi", vid, "absorbed-dose")
            b.link(dose, "of_voi", v)
        if voi.absorbed_dose_per_activity_gy_per_gbq is not None:
            dpa = output(
                da, "absorbed_dose_per_activity", _attrs(voi), "voi", vid, "dose-per-activity"
            )
            b.link(dpa, "of_voi", v)

    bed = bed_for_voi(voi, record.cycle)
    if dose is not None and bed is not None:
        ba = activity("bed_calculation", "voi", vid, "bed-calculation")
        b.link(ba, "used", dose)
        b.fields(ba, "bed_calculation", _attrs(bed))
        b.link(ba, "tissue", b.iri(b.m["tissues"][bed.tissue]))
        for name, value in (("bed", {"bed_gy": bed.bed_gy}), ("eqd2", {"eqd2_gy": bed.eqd2_gy})):
            q = output(ba, name, value, "voi", vid, name)
            b.link(q, "of_voi", v)
            b.link(q, "tissue", b.iri(b.m["tissues"][bed.tissue]))


def _attrs(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _local(text: str) -> str:
    """Make a report-local id safe as one IRI path segment."""
    return quote(text, safe="")
