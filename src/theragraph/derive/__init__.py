"""Derived quantities (SUV, BED, ...): pure functions on records."""
