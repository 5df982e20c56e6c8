"""Plain typed records produced by the readers (PHI already removed)."""
