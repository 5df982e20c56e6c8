"""Theragraph's HTTP service (FastAPI): SPARQL 1.1 Protocol, curated queries, graph store, UI."""
