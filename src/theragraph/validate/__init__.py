"""SHACL validation: shapes loading, the fast SPARQL engine, the pyshacl reference, reports."""
