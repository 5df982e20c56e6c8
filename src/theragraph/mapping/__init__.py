"""Mappers: records -> RDF triples, driven by the declarative files in mappings/."""
