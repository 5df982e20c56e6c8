"""Curated queries (queries/*.rq) and rendering of SPARQL results."""
