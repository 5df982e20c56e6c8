"""Map the DVHs of one RT Dose to its named graph (mappings/dosimetry/dvh.yaml).

Statistics are typed literals in unit-named properties; V_t values are one JSON object literal
and the cumulative curve is one ``rdf:JSON`` literal, so a DVH is a couple of dozen triples, not
thousands.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from theragraph.ids import graph_iri, mint_iri
from theragraph.mapping.base import RDF_TYPE, MappedGraph, load_mapping, mapping_version, to_literal
from theragraph.records.dosimetry import DoseVolumeRecord
from theragraph.vocab import TG

MAPPING = "dosimetry/dvh.yaml"


def dvh_graph_iri(rtdose_sop_uid: str) -> str:
    """Return the named graph of one RT Dose's DVHs (docs/contracts.md)."""
    return str(graph_iri("dvh", rtdose_sop_uid))


def dvh_iri(record: DoseVolumeRecord) -> str:
    """Return the DVH node IRI: ``dvh/<sop>/<ROINumber>`` or ``dvh/<sop>/segment/<n>``."""
    if record.structure_kind == "roi":
        return str(mint_iri("dvh", f"{record.rtdose_sop_uid}/{record.number}"))
    return str(mint_iri("dvh", f"{record.rtdose_sop_uid}/segment/{record.number}"))


def map_dvhs(
    rtdose_sop_uid: str,
    records: list[DoseVolumeRecord],
    *,
    patient: str | None,
    source_checksum: str | None = None,
) -> MappedGraph:
    """Return the graph holding every DVH of one RT Dose instance.

    Args:
        rtdose_sop_uid: pseudonymised SOPInstanceUID of the RT Dose.
        records: one record per structure.
        patient: patient IRI (None when the RT Dose names no patient).
        source_checksum: keyed checksum of the inputs (RT Dose and structure sets).
    """
    m = load_mapping(MAPPING)
    prefixes: dict[str, str] = m["prefixes"]

    def iri(curie: str) -> ox.NamedNode:
        prefix, _, local = curie.partition(":")
        return ox.NamedNode(prefixes[prefix] + local)

    def link(name: str) -> ox.NamedNode:
        return iri(m["links"][name])

    graph = MappedGraph(
        graph=dvh_graph_iri(rtdose_sop_uid),
        kind="dvh",
        patient=patient,
        source_checksum=source_checksum,
        mapping_version=mapping_version(MAPPING),
    )
    json_type = iri(m["json_datatype"])
    if patient:
        graph.add(ox.NamedNode(patient), RDF_TYPE, ox.NamedNode(str(TG.Patient)))
    for record in records:
        node = ox.NamedNode(dvh_iri(record))
        for cls in m["classes"]["dvh"]:
            graph.add(node, RDF_TYPE, iri(cls))
        structure = ox.NamedNode(
            str(mint_iri(record.structure_kind, f"{record.structure_sop_uid}/{record.number}"))
        )
        series = ox.NamedNode(str(mint_iri("series", record.rtdose_series_uid)))
        graph.add(node, link("structure"), structure)
        graph.add(node, link("dose_grid"), series)
        graph.add(
            node, link("dose_instance"), ox.NamedNode(str(mint_iri("instance", rtdose_sop_uid)))
        )
        if patient:
            graph.add(node, link("has_patient"), ox.NamedNode(patient))
        values = {
            "voxel_count": record.voxel_count,
            "volume_ml": record.volume_ml,
            "mean_gy": record.mean_gy,
            "min_gy": record.min_gy,
            "max_gy": record.max_gy,
            "dose_units": record.dose_units,
            "name": record.name,
        }
        for attr, spec in m["fields"].items():
            if values.get(attr) is not None:
                graph.add(node, iri(spec["property"]), to_literal(values[attr], spec["datatype"]))
        for percent, prop in m["d_percent_properties"].items():
            if int(percent) in record.d_percent_gy:
                graph.add(node, iri(prop), to_literal(record.d_percent_gy[int(percent)], "double"))
        v_json = json.dumps({f"{t:g}": round(v, 4) for t, v in record.v_gy_percent.items()})
        graph.add(node, iri(m["v_property"]), to_literal(v_json, "string"))
        curve = json.dumps(
            {
                "dose_gy": list(record.dvh_dose_gy),
                "volume_percent": list(record.dvh_volume_percent),
            },
            separators=(",", ":"),
        )
        graph.add(node, iri(m["curve_property"]), ox.Literal(curve, datatype=json_type))
        activity = ox.NamedNode(f"{dvh_iri(record)}/calculation")
        for cls in m["classes"]["calculation"]:
            graph.add(activity, RDF_TYPE, iri(cls))
        graph.add(activity, link("used"), series)
        graph.add(activity, link("used"), structure)
        graph.add(activity, link("generated"), node)
        graph.add(node, link("was_generated_by"), activity)
    return graph
