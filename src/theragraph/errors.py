"""The one exception hierarchy of Theragraph.

Every error a user can meet derives from :class:`TheragraphError` and carries a stable ``code``
of the form ``stage.kebab-name`` (listed in :mod:`theragraph.report`). Messages say what went wrong,
where, and what to do; they never quote the value of an identifying field.
"""

from __future__ import annotations

from pathlib import Path


class TheragraphError(Exception):
    """Base class of all Theragraph errors."""

    code: str = "internal.bug"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InputError(TheragraphError):
    """A source file or record cannot be read or is not valid for its format."""

    code = "read.invalid"

    def __init__(
        self, message: str, *, path: Path | str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.path}: {base}" if self.path is not None else base


class MappingError(TheragraphError):
    """A record cannot be mapped to RDF (a mapping file is wrong or a value does not fit)."""

    code = "map.invalid"


class QueryError(TheragraphError):
    """A SPARQL query or update is malformed or failed in the store."""

    code = "query.invalid"


class StoreError(TheragraphError):
    """The store cannot be opened, is locked, or a write failed."""

    code = "store.unavailable"


class ConfigError(TheragraphError):
    """The configuration is missing or invalid (e.g. no deployment secret)."""

    code = "config.invalid"


class AccessError(TheragraphError):
    """The principal lacks the scope or dataset grant the action needs."""

    code = "access.denied"
