"""RDF namespaces used by Theragraph. Code takes IRIs from here, never from string literals."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

#: The Theragraph ontology (classes and properties).
TG = Namespace("https://w3id.org/theragraph/ontology#")
#: Instance data: patients, studies, series, ... (deterministic IRIs minted by theragraph.ids).
TGR = Namespace("https://w3id.org/theragraph/id/")
#: Named graphs, one per source record.
TGG = Namespace("https://w3id.org/theragraph/graph/")
#: Raw DICOM attributes of the lossless layer: ``dcmattr:PatientWeight`` etc.
DCMATTR = Namespace("https://w3id.org/theragraph/dicom/attribute/")
#: DICOM controlled terminology (PS3.16 DCM codes).
DCM = Namespace("http://dicom.nema.org/resources/ontology/DCM/")
SNOMED = Namespace("http://snomed.info/id/")
LOINC = Namespace("http://loinc.org/rdf/")
NCIT = Namespace("http://purl.obolibrary.org/obo/NCIT_")
RADLEX = Namespace("http://radlex.org/RID/")
UCUM = Namespace("http://unitsofmeasure.org/")
#: WHO ATC classification as published by BioPortal (radiopharmaceutical agents, V10...).
ATC = Namespace("http://purl.bioontology.org/ontology/ATC/")
SCT_SYSTEM = "http://snomed.info/sct"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
SH = Namespace("http://www.w3.org/ns/shacl#")
FHIR = Namespace("http://hl7.org/fhir/")

PREFIXES: dict[str, Namespace] = {
    "tg": TG,
    "tgr": TGR,
    "tgg": TGG,
    "dcmattr": DCMATTR,
    "dcm": DCM,
    "sct": SNOMED,
    "loinc": LOINC,
    "ncit": NCIT,
    "radlex": RADLEX,
    "ucum": UCUM,
    "atc": ATC,
    "prov": PROV,
    "dcat": DCAT,
    "dct": DCTERMS,
    "skos": SKOS,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
}


def sparql_prefixes() -> str:
    """Return PREFIX declarations for every namespace above, for prepending to queries."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


__all__ = [
    "ATC", "DCAT", "DCM", "DCMATTR", "DCTERMS", "FHIR", "LOINC", "NCIT", "OWL", "PREFIXES", "PROV",
    "RADLEX", "RDF", "RDFS", "SH", "SKOS", "SNOMED", "TG", "TGG", "TGR", "UCUM", "XSD",
    "sparql_prefixes",
]
