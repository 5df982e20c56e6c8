"""Readers: parse one source document into plain records with PHI removed. No RDF here."""
