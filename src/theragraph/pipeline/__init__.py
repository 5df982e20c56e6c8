"""Pipelines: source files -> records -> mapped graphs -> validation -> store."""
