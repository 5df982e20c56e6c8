"""Lexical facts about a SPARQL request text, without a full parser.

Finds the dataset clauses (``FROM`` / ``FROM NAMED``), ``SERVICE`` clauses and the operation kind
(query or update), skipping strings, comments and IRIs so that words inside them never count.
The access layer uses it conservatively: a ``SERVICE`` keyword anywhere in the code refuses the
query for restricted readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
  | (?P<pname>[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*:[\w.\-:%\u00b7\u00c0-\uffff]*
              |:[\w.\-:%\u00c0-\uffff]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UPDATE_WORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH",
}
_QUERY_WORDS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


@dataclass(slots=True)
class SparqlFacts:
    """What the lexer found in a request text."""

    kind: str = "unknown"
    form: str | None = None
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    has_service: bool = False
    unresolved: list[str] = field(default_factory=list)
    keywords: set[str] = field(default_factory=set)
    has_relative_iri: bool = False
    #: character offsets of top-level ``WHERE`` of DELETE/INSERT operations (for USING).
    modify_where_offsets: list[int] = field(default_factory=list)


def scan(text: str) -> SparqlFacts:
    """Return the :class:`SparqlFacts` of ``text`` (a query or an update)."""
    facts = SparqlFacts()
    prefixes: dict[str, str] = {}
    matches = [m for m in _TOKEN_RE.finditer(text) if m.lastgroup not in ("ws", "comment")]
    tokens = [(m.lastgroup, m.group()) for m in matches]
    depth = 0
    for index, (kind, value) in enumerate(tokens):
        if kind == "iri" and ":" not in value:
            facts.has_relative_iri = True
        if kind == "other":
            depth += {"{": 1, "}": -1}.get(value, 0)
        if kind != "word":
            continue
        upper = value.upper()
        facts.keywords.add(upper)
        if upper == "WHERE" and depth == 0 and index > 0:
            previous = tokens[index - 1][1].upper()
            if previous != "DELETE":
                facts.modify_where_offsets.append(matches[index].start())
        if upper == "SERVICE":
            facts.has_service = True
        elif upper == "PREFIX" and index + 2 < len(tokens):
            (k1, v1), (k2, v2) = tokens[index + 1], tokens[index + 2]
            if k1 == "pname" and k2 == "iri":
                prefixes[v1.split(":", 1)[0]] = v2[1:-1]
        elif upper == "FROM" and index + 1 < len(tokens):
            target_index = index + 1
            named = tokens[target_index][0] == "word" and tokens[target_index][1].upper() == "NAMED"
            if named:
                target_index += 1
            if target_index >= len(tokens):
                continue
            tkind, tvalue = tokens[target_index]
            iri: str | None = None
            if tkind == "iri":
                iri = tvalue[1:-1]
            elif tkind == "pname":
                prefix, local = tvalue.split(":", 1)
                iri = prefixes[prefix] + local if prefix in prefixes else None
            if iri is None:
                facts.unresolved.append(tvalue)
            else:
                (facts.from_named if named else facts.from_graphs).append(iri)
        if facts.kind == "unknown":
            if upper in _QUERY_WORDS:
                facts.kind, facts.form = "query", upper
            elif upper in _UPDATE_WORDS:
                facts.kind = "update"
    return facts


#: Texts longer than this are scanned every time (bounds the cache's memory to ~4 MiB).
_CACHE_MAX_CHARS = 16 * 1024


@lru_cache(maxsize=256)
def _scan_cached(text: str) -> SparqlFacts:
    return scan(text)


def scan_cached(text: str) -> SparqlFacts:
    """Return :func:`scan` of ``text``, memoised for repeated texts (the HTTP hot path).

    Scanning costs about a microsecond per character in Python, which dominated the fixed cost
    of a curated query sent again and again. The returned facts are shared: do not mutate them.
    """
    if len(text) > _CACHE_MAX_CHARS:
        return scan(text)
    return _scan_cached(text)


def add_using(update: str, facts: SparqlFacts, default: list[str], named: list[str]) -> str:
    """Insert ``USING`` / ``USING NAMED`` before each DELETE/INSERT ``WHERE`` of an update.

    This is how the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` apply
    (SPARQL 1.1 Protocol §2.2.3); IRIs come from pyoxigraph ``NamedNode`` so they are escaped.
    """
    import pyoxigraph as ox  # noqa: PLC0415 (only updates need it)

    clause = "".join(f"USING {ox.NamedNode(g)} " for g in default) + "".join(
        f"USING NAMED {ox.NamedNode(g)} " for g in named
    )
    out, last = [], 0
    for offset in facts.modify_where_offsets:
        out.append(update[last:offset])
        out.append(clause)
        last = offset
    out.append(update[last:])
    return "".join(out)
