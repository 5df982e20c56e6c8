"""Curated queries: load ``queries/*.rq`` with their header docs and bind their parameters.

Header comments (``docs/contracts.md``)::

    # title: PET SUV factors per series
    # description: One row per PET series with its SUVbw factor and the rule used.
    # param: radionuclide (iri, optional) restrict to this radionuclide

Parameters become pyoxigraph ``substitutions`` (a variable of the same name), never text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from theragraph.errors import QueryError
from theragraph.resources import list_resources

XSD = "http://www.w3.org/2001/XMLSchema#"
#: Parameter types a header may declare, with the XSD datatype of the bound literal.
PARAM_TYPES: dict[str, str | None] = {
    "iri": None,
    "string": f"{XSD}string",
    "integer": f"{XSD}integer",
    "decimal": f"{XSD}decimal",
    "double": f"{XSD}double",
    "boolean": f"{XSD}boolean",
    "date": f"{XSD}date",
    "dateTime": f"{XSD}dateTime",
}
_HEADER_RE = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*)$")
_PARAM_RE = re.compile(r"^(\w+)\s*(?:\(([^)]*)\))?\s*(.*)$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FORM_RE = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class QueryParam:
    """One declared parameter of a curated query."""

    name: str
    type: str = "string"
    optional: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class CuratedQuery:
    """A curated query file and its header documentation."""

    name: str
    title: str
    description: str
    text: str
    path: Path
    params: tuple[QueryParam, ...] = field(default_factory=tuple)

    @property
    def form(self) -> str:
        """The query form (SELECT, ASK, CONSTRUCT or DESCRIBE), from the query text."""
        body = "\n".join(
            line for line in self.text.splitlines() if not line.lstrip().startswith("#")
        )
        match = _FORM_RE.search(body)
        return match.group(1).upper() if match else "SELECT"


def parse_header(text: str) -> tuple[str, str, tuple[QueryParam, ...]]:
    """Return (title, description, params) from the leading comment lines of a query.

    Raises:
        QueryError: code ``query.bad-header`` for an unknown parameter type.
    """
    title, description, params = "", "", []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        match = _HEADER_RE.match(line)
        if match is None:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "title":
            title = value
        elif key == "description":
            description = f"{description} {value}".strip()
        else:
            pmatch = _PARAM_RE.match(value)
            if pmatch is None:
                continue
            flags = [f.strip() for f in (pmatch.group(2) or "").split(",") if f.strip()]
            types = [f for f in flags if f != "optional" and f != "required"]
            ptype = types[0] if types else "string"
            if ptype not in PARAM_TYPES:
                raise QueryError(
                    f"parameter {pmatch.group(1)!r} has unknown type {ptype!r}; use one of "
                    f"{sorted(PARAM_TYPES)}",
                    code="query.bad-header",
                )
            params.append(
                QueryParam(pmatch.group(1), ptype, "optional" in flags, pmatch.group(3).strip())
            )
    return title, description, tuple(params)


def load_query(path: Path) -> CuratedQuery:
    """Load one ``.rq`` file; its name is the file stem (``list-pet-suv``)."""
    text = path.read_text(encoding="utf-8")
    title, description, params = parse_header(text)
    return CuratedQuery(path.stem, title or path.stem, description, text, path, params)


def load_curated(directory: Path | None = None) -> dict[str, CuratedQuery]:
    """Load every curated query, keyed by name, sorted by name.

    Args:
        directory: where the ``.rq`` files are; defaults to the project's ``queries/``.

    Returns:
        An empty dict when there is no queries directory.
    """
    if directory is None:
        try:
            paths = list_resources("queries", ".rq")
        except FileNotFoundError:
            return {}
    else:
        paths = sorted(p for p in Path(directory).rglob("*.rq") if p.is_file())
    queries: dict[str, CuratedQuery] = {}
    for path in paths:
        if _NAME_RE.match(path.stem):
            queries[path.stem] = load_query(path)
    return dict(sorted(queries.items()))


def to_term(param: QueryParam, value: str) -> Any:
    """Convert one textual parameter value to the RDF term its declared type asks for.

    Raises:
        QueryError: code ``query.bad-parameter`` when the value does not fit the type.
    """
    try:
        if param.type == "iri":
            if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value):
                raise ValueError("not an absolute IRI")
            return ox.NamedNode(value)
        datatype = PARAM_TYPES[param.type]
        assert datatype is not None
        if param.type == "integer":
            value = str(int(value))
        elif param.type in ("decimal", "double"):
            Decimal(value)
        elif param.type == "boolean":
            if value not in ("true", "false", "1", "0"):
                raise ValueError("use true or false")
        elif param.type in ("date", "dateTime"):
            pattern = (
                r"^-?\d{4,}-\d\d-\d\d(Z|[+-]\d\d:\d\d)?$"
                if param.type == "date"
                else r"^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$"
            )
            if not re.match(pattern, value):
                raise ValueError(f"not an xsd:{param.type}")
        return ox.Literal(value, datatype=ox.NamedNode(datatype))
    except (ValueError, InvalidOperation) as exc:
        raise QueryError(
            f"parameter {param.name!r} expects {param.type}: {exc}",
            code="query.bad-parameter",
        ) from exc


def bind_params(query: CuratedQuery, values: dict[str, str]) -> dict[str, Any]:
    """Return the substitutions for ``values`` (name -> text) checked against the header.

    Raises:
        QueryError: code ``query.bad-parameter`` for an unknown or missing parameter or a
            value of the wrong type.
    """
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise QueryError(
            f"query {query.name!r} has no parameter(s) {unknown}; it takes {sorted(declared)}",
            code="query.bad-parameter",
        )
    bound: dict[str, Any] = {}
    for name, param in declared.items():
        if name in values and values[name] != "":
            bound[name] = to_term(param, values[name])
        elif not param.optional:
            raise QueryError(
                f"query {query.name!r} needs parameter {name!r} ({param.type})",
                code="query.bad-parameter",
            )
    return bound
