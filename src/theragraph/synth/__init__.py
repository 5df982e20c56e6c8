"""The synthetic theranostics cohort generator (never imports theragraph.ingest)."""
