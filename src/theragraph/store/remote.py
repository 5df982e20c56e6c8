"""A remote SPARQL 1.1 endpoint as a :class:`~theragraph.store.base.Store`, over HTTP (httpx).

Oxigraph server, Virtuoso, Fuseki, GraphDB, QLever (read-only) and others speak this protocol.

Location: ``sparql+http(s)://host:port/path[?update=URL-or-path&store=URL-or-path&dialect=NAME
&hide=IRI]``. The query endpoint is ``http(s)://host:port/path``; the update and Graph Store
Protocol endpoints default to the siblings ``update`` and ``store`` when the path ends in
``/query`` (Oxigraph's layout), else to the query URL itself (one endpoint for both, as Virtuoso
and Fuseki allow).

Results come back as pyoxigraph result objects, so code above the store is unchanged. The
server must use the union of named graphs as its default graph (``oxigraph serve
--union-default-graph``; Virtuoso does by default) for ``union_default_graph=True`` to hold.
The real default graph is not counted or dumped: Theragraph writes named graphs only.

``dialect=virtuoso`` (Virtuoso Open Source 7) papers over what Virtuoso does differently:

- its system graphs (:data:`VIRTUOSO_SYSTEM_GRAPHS`, plus any ``hide=IRI``) are left out of
  ``named_graphs``, ``count_quads``, ``quads`` and ``dump`` (docs/sparql-service.md shows how to
  make them private on the server, which keeps them out of user queries too);
- writes are split into operations small enough for its SPARQL compiler, and triples holding
  blank nodes (which its ``INSERT DATA`` rejects) go in ``INSERT {...} WHERE {}``;
- a query sent with a dataset (``default_graph``/``named_graphs``) loses its ``FROM`` clauses,
  which Virtuoso would add to the protocol's dataset instead of letting it replace them;
- blank nodes read back as ``nodeID://`` IRIs become labels, booleans read back as ``1``/``0``
  become ``true``/``false``, and the store's own reads (``quads``, ``dump``) rebuild doubles
  exactly (Virtuoso prints 6 significant digits);
- a result cut at its ``ResultSetMaxRows`` is an error, not a silent partial answer.

What cannot be papered over (one update request is not one transaction; booleans are integers;
doubles in user query results have 6 digits) is listed in docs/sparql-service.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from theragraph.errors import QueryError, StoreError
from theragraph.store.base import GraphWrite

#: Stands for "no graph" where the protocol cannot say "empty" (an absent parameter means
#: "the server's default"), so a restricted dataset never widens to everything.
EMPTY_GRAPH = "urn:theragraph:empty-graph"
_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_ACCEPT_BY_FORM = {
    "SELECT": "application/sparql-results+json",
    "ASK": "application/sparql-results+json",
    "CONSTRUCT": "application/n-triples",
    "DESCRIBE": "application/n-triples",
}
_DUMP_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}
_TOKEN = re.compile(
    r'\s+|#[^\n]*|<[^<>"{}|^`\\\s]*>'
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|[?$]\w+|[A-Za-z_][\w.-]*(?::[\w.:%-]*)?|:[\w.:%-]*|[0-9][\w.]*|\S",
    re.DOTALL,
)

#: Dialects: ``standard`` (SPARQL 1.1 as written, e.g. Oxigraph, Fuseki) and ``virtuoso``.
DIALECTS = ("standard", "virtuoso")
#: Graphs a fresh Virtuoso 7 database holds for itself (RDF views, LDP, service description).
VIRTUOSO_SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)
#: Triples per ``INSERT DATA`` operation (Virtuoso's parser gives up near 5,000).
VIRTUOSO_DATA_CHUNK = 2000
#: Triples per ``INSERT {...} WHERE {}`` operation (its SQL translation is capped at 10,000 lines).
VIRTUOSO_TEMPLATE_CHUNK = 500
_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_VIRTUOSO_JSON_BOOLEAN = re.compile(
    rb'("datatype": "' + _XSD_BOOLEAN.encode() + rb'", "value": ")([01])"'
)
_VIRTUOSO_NT_BOOLEAN = re.compile(rb'"([01])"(\^\^<' + re.escape(_XSD_BOOLEAN.encode()) + rb">)")
_BOOLEAN_WORDS = {b"0": b"false", b"1": b"true"}
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_VIRTUOSO_JSON_BNODE = b'"type": "bnode", "value": "nodeID://'


def without_dataset_clauses(sparql: str) -> str:
    """Remove ``FROM``/``FROM NAMED`` clauses, for a query sent with a protocol dataset.

    The SPARQL 1.1 Protocol says protocol dataset parameters replace the query's; Virtuoso adds
    them together, so a query restricted to some graphs could name others with ``FROM``.

    Raises:
        QueryError: code ``query.syntax`` when ``FROM`` remains where it could not be parsed
            out (fails closed rather than widen the dataset).
    """
    tokens = [m.group() for m in _TOKEN.finditer(sparql)]
    kept: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.upper() == "FROM":
            following = [i for i in range(index + 1, len(tokens)) if not _is_gap(tokens[i])]
            if following and tokens[following[0]].upper() == "NAMED":
                following = following[1:]
            if following and not tokens[following[0]].startswith(("?", "$", '"', "'")):
                index = following[0] + 1  # drop FROM [NAMED] <iri> or prefix:name
                continue
        kept.append(token)
        index += 1
    if any(t.upper() == "FROM" or t.upper().startswith("FROM:") for t in kept):
        raise QueryError(
            "cannot remove the FROM clause of a query sent with a restricted dataset",
            code="query.syntax",
        )
    return "".join(kept)


def _is_gap(token: str) -> bool:
    return token[0].isspace() or token[0] == "#"


def query_form(sparql: str) -> str | None:
    """Return the query form (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``), or None.

    Skips the prologue (comments, ``BASE``, ``PREFIX`` and Virtuoso's ``DEFINE`` pragmas)
    and reads the first keyword after it.
    """
    expect_iri = 0
    for match in _TOKEN.finditer(sparql):
        token = match.group()
        if token[0].isspace() or token[0] == "#":
            continue
        if expect_iri:
            expect_iri -= 1
            continue
        word = token.upper()
        if word == "BASE":
            expect_iri = 1
        elif word in ("PREFIX", "DEFINE"):
            expect_iri = 2  # name then IRI (or a pragma's value)
        else:
            return word if word in _ACCEPT_BY_FORM else None
    return None


def _blank_components(triples: Sequence[ox.Triple]) -> list[list[ox.Triple]]:
    """Group triples that share blank nodes (a union-find over blank node ids)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in triples:
        nodes = [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        for other in nodes[1:]:
            parent[root(other)] = root(nodes[0])
    groups: dict[str, list[ox.Triple]] = {}
    for triple in triples:
        node = triple.subject if isinstance(triple.subject, ox.BlankNode) else triple.object
        groups.setdefault(root(node.value), []).append(triple)
    return list(groups.values())


def _packed(groups: Iterable[list[ox.Triple]], size: int) -> Iterator[list[ox.Triple]]:
    """Pack groups of triples into batches of about ``size`` (a group is never split)."""
    batch: list[ox.Triple] = []
    for group in groups:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


class RemoteStore:
    """A Store backed by SPARQL 1.1 Protocol (query, update) and Graph Store endpoints."""

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        store_url: str | None = None,
        timeout_s: float = 300.0,
        headers: dict[str, str] | None = None,
        dialect: str = "standard",
        hidden_graphs: Sequence[str] = (),
    ) -> None:
        """Bind to the endpoints (no request is made until used).

        Args:
            query_url: the SPARQL query endpoint.
            update_url: the SPARQL update endpoint (default: ``query_url``).
            store_url: the Graph Store Protocol endpoint (optional; SPARQL is used without).
            timeout_s: HTTP timeout per request, in seconds.
            headers: extra headers, e.g. ``Authorization``.
            dialect: ``standard`` or ``virtuoso`` (see the module docstring).
            hidden_graphs: graphs left out of named_graphs, count_quads, quads and dump
                (Virtuoso dialect only; its system graphs are always left out).

        Raises:
            StoreError: code ``store.bad-location`` for an unknown dialect.
        """
        if dialect not in DIALECTS:
            raise StoreError(
                f"unknown SPARQL dialect {dialect!r}; use one of {list(DIALECTS)}",
                code="store.bad-location",
            )
        self.dialect = dialect
        self.hidden_graphs: tuple[str, ...] = (
            tuple(dict.fromkeys([*VIRTUOSO_SYSTEM_GRAPHS, *hidden_graphs]))
            if dialect == "virtuoso" else ()
        )
        # Not DEFINE input:default-graph-exclude: Virtuoso 7.2 then answers GRAPH <iri> {...}
        # with nothing. A FILTER in the store's own queries is what works.
        self._graph_filter = (
            f" FILTER (?g NOT IN ({', '.join(f'<{g}>' for g in self.hidden_graphs)}))"
            if self.hidden_graphs else ""
        )
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url
        self._client = httpx.Client(timeout=timeout_s, headers=headers or {})

    @classmethod
    def from_location(cls, location: str, **kwargs: Any) -> RemoteStore:
        """Build from ``sparql+http(s)://host:port/path[?update=...&store=...]``.

        Raises:
            StoreError: code ``store.bad-location`` for a malformed location.
        """
        if not location.startswith(("sparql+http://", "sparql+https://")):
            raise StoreError(
                f"{location!r} is not a sparql+http(s):// location", code="store.bad-location"
            )
        parts = urlsplit(location[len("sparql+") :])
        if not parts.hostname:
            raise StoreError(f"{location!r} has no host", code="store.bad-location")
        lists = parse_qs(parts.query)
        options = {k: v[-1] for k, v in lists.items()}
        query_url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
        path = parts.path.rstrip("/")
        if path.endswith("/query"):
            update_default = urljoin(query_url, "update")
            store_default: str | None = urljoin(query_url, "store")
        else:
            update_default, store_default = query_url, None
        update = options.get("update")
        store = options.get("store")
        if "dialect" in options:
            kwargs.setdefault("dialect", options["dialect"])
        if "hide" in lists:
            kwargs.setdefault("hidden_graphs", lists["hide"])
        return cls(
            query_url,
            update_url=urljoin(query_url, update) if update else update_default,
            store_url=urljoin(query_url, store) if store else store_default,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url})"

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreError(
                f"cannot reach the SPARQL endpoint {url}: {exc}", code="store.unavailable"
            ) from exc
        return response

    @staticmethod
    def _fail(response: httpx.Response, what: str, *, write: bool = False) -> None:
        if response.status_code < 400:
            return
        text = response.text[:2000]
        if response.status_code == 400:
            raise QueryError(f"SPARQL {what} rejected by the server: {text}", code="query.syntax")
        if write:
            raise StoreError(
                f"{what} failed with HTTP {response.status_code}: {text}",
                code="store.write-failed",
            )
        raise QueryError(
            f"{what} failed with HTTP {response.status_code}: {text}", code="query.failed"
        )

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: dict[str, Any] | None = None,
        union_default_graph: bool = True,
    ) -> Any:
        """Run a query remotely (see :meth:`Store.query`).

        Substitutions become a trailing ``VALUES`` block (terms written by pyoxigraph, so they
        are escaped). A dataset given by ``default_graph``/``named_graphs`` is sent as protocol
        parameters, with both parts explicit so an empty part stays empty.

        Raises:
            QueryError: on a syntax error or a failing query; StoreError when unreachable.
        """
        del union_default_graph  # decided by the server's configuration
        text = sparql
        explicit = default_graph is not None or named_graphs is not None
        if explicit and self.dialect == "virtuoso":
            text = without_dataset_clauses(text)
        if substitutions:
            names = list(substitutions)
            row = " ".join(str(substitutions[n]) for n in names)
            text = f"{text}\nVALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }}"
        data: list[tuple[str, str]] = [("query", text)]
        if explicit:
            data += [("default-graph-uri", g) for g in (default_graph or [EMPTY_GRAPH])]
            data += [("named-graph-uri", g) for g in (named_graphs or [EMPTY_GRAPH])]
        response = self._post(
            self.query_url,
            content=urlencode(data).encode(),
            headers={
                "Accept": _ACCEPT_BY_FORM.get(query_form(sparql) or "", _ACCEPT),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self._fail(response, "query")
        content = response.content
        if self.dialect == "virtuoso":
            content = self._virtuoso_result(response)
        media = response.headers.get("content-type", "").split(";")[0].strip()
        results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
        if results_format is not None:
            return ox.parse_query_results(content, results_format)
        rdf_format = ox.RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise QueryError(
                f"the endpoint answered with unsupported media type {media!r}",
                code="query.failed",
            )
        # Hand back a real QueryTriples: load the graph into memory and read it back.
        scratch = ox.Store()
        scratch.load(content, rdf_format, to_graph=ox.DefaultGraph())
        return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")

    @staticmethod
    def _virtuoso_result(response: httpx.Response) -> bytes:
        """Refuse a result cut at ``ResultSetMaxRows``; fix blank node labels and booleans."""
        limit = response.headers.get("x-sparql-maxrows")
        if limit is not None:
            raise QueryError(
                f"the endpoint cut the result at {limit} rows (Virtuoso's ResultSetMaxRows); "
                "raise it in virtuoso.ini [SPARQL] or narrow the query",
                code="query.result-too-large",
            )
        # Its JSON names blank nodes by internal IRI ("nodeID://b10001"), which is no label.
        content = response.content.replace(_VIRTUOSO_JSON_BNODE, b'"type": "bnode", "value": "')
        if _XSD_BOOLEAN.encode() in content:
            content = _VIRTUOSO_JSON_BOOLEAN.sub(
                lambda m: m.group(1) + _BOOLEAN_WORDS[m.group(2)] + b'"', content
            )
            content = _VIRTUOSO_NT_BOOLEAN.sub(
                lambda m: b'"' + _BOOLEAN_WORDS[m.group(1)] + b'"' + m.group(2), content
            )
        return content

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update in one request (one transaction, except on Virtuoso: per operation).

        Raises:
            QueryError: on a syntax error; StoreError when the write fails.
        """
        response = self._post(self.update_url, data={"update": sparql})
        self._fail(response, "update", write=True)

    def replace_graphs(self, writes: Sequence[GraphWrite]) -> int:
        """Replace named graphs atomically: one update request (DROP SILENT + INSERT DATA)."""
        if not writes:
            return 0
        writes = [w.expanded() for w in writes]
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(w.graph)}" for w in writes]
        if self.dialect == "virtuoso":
            total = sum(len(w.triples) for w in writes)
            self.update(" ;\n".join(ops + self._virtuoso_inserts(writes)))
            return total
        body, total = [], 0
        for write in writes:
            if write.triples:
                total += len(write.triples)
                data = ox.serialize(write.triples, format=ox.RdfFormat.N_TRIPLES).decode()
                body.append(f"GRAPH {ox.NamedNode(write.graph)} {{\n{data}}}")
        update = " ;\n".join(ops)
        if body:
            update += " ;\nINSERT DATA {\n" + "\n".join(body) + "\n}"
        self.update(update)
        return total

    @staticmethod
    def _virtuoso_inserts(writes: Sequence[GraphWrite]) -> list[str]:
        """Insert operations small enough for Virtuoso; blank nodes only in templates."""
        ops = []
        for write in writes:
            graph = ox.NamedNode(write.graph)
            plain = [t for t in write.triples if not _has_blank(t)]
            blank = [t for t in write.triples if _has_blank(t)]
            for start in range(0, len(plain), VIRTUOSO_DATA_CHUNK):
                data = ox.serialize(
                    plain[start : start + VIRTUOSO_DATA_CHUNK], format=ox.RdfFormat.N_TRIPLES
                ).decode()
                ops.append(f"INSERT DATA {{ GRAPH {graph} {{\n{data}}} }}")
            for batch in _packed(_blank_components(blank), VIRTUOSO_TEMPLATE_CHUNK):
                data = ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES).decode()
                ops.append(f"INSERT {{ GRAPH {graph} {{\n{data}}} }} WHERE {{}}")
        return ops

    def delete_graphs(self, graphs: Iterable[str]) -> None:
        """Delete named graphs in one update request."""
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in graphs]
        if ops:
            self.update(" ;\n".join(ops))

    def named_graphs(self) -> list[str]:
        """Return the IRIs of all named graphs."""
        results = self.query(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}{self._graph_filter} }}"
        )
        return [s["g"].value for s in results if isinstance(s["g"], ox.NamedNode)]

    def graph_exists(self, graph: str) -> bool:
        """Return True when the named graph holds at least one quad."""
        return bool(self.query(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))

    def existing_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Return all of ``graphs``: a request per graph costs more than the callers' one query."""
        return set(graphs)

    def count_quads(self) -> int:
        """Return the number of quads in named graphs."""
        results = self.query(
            f"SELECT (COUNT(*) AS ?c) WHERE {{ GRAPH ?g {{ ?s ?p ?o }}{self._graph_filter} }}"
        )
        return int(next(iter(results))["c"].value)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate over the quads of named graphs (of one graph when given)."""
        if graph is not None:
            node = ox.NamedNode(graph)
            if self.store_url is not None:
                response = self._client.get(
                    self.store_url, params={"graph": graph},
                    headers={"Accept": "application/n-triples"},
                )
                if response.status_code == 404:
                    return iter(())
                self._fail(response, "graph store GET")
                return iter(
                    [
                        ox.Quad(q.subject, q.predicate, q.object, node)
                        for q in ox.parse(response.content, ox.RdfFormat.N_TRIPLES)
                    ]
                )
            results = self.query(
                f"SELECT ?s ?p ?o {self._lexical} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}"
            )
            return iter([ox.Quad(r["s"], r["p"], self._object(r), node) for r in results])
        results = self.query(
            f"SELECT ?s ?p ?o ?g {self._lexical} "
            f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }}{self._graph_filter} }}"
        )
        return iter([ox.Quad(r["s"], r["p"], self._object(r), r["g"]) for r in results])

    @property
    def _lexical(self) -> str:
        # Virtuoso prints doubles with 6 significant digits and STR() with 16, one short of
        # exact; the residual against the 16-digit value restores the last bits.
        if self.dialect != "virtuoso":
            return ""
        return (
            f"(STR(?o) AS ?lexical) (IF(DATATYPE(?o) = <{_XSD_DOUBLE}>, "
            f'STR(?o - <{_XSD_DOUBLE}>(STR(?o))), "") AS ?residual)'
        )

    def _object(self, row: ox.QuerySolution) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        term = row["o"]
        if (
            self.dialect != "virtuoso"
            or not isinstance(term, ox.Literal)
            or term.datatype.value != _XSD_DOUBLE
            or row["lexical"] is None
        ):
            return term
        residual = row["residual"]
        try:
            value = float(row["lexical"].value) + (
                float(residual.value) if residual is not None and residual.value else 0.0
            )
        except ValueError:
            return term
        return ox.Literal(repr(value), datatype=term.datatype) if math.isfinite(value) else term

    def dump(self, output: IO[bytes], *, format: str = "nq") -> None:
        """Write every quad of named graphs as N-Quads or TriG."""
        try:
            rdf_format = _DUMP_FORMATS[format]
        except KeyError as exc:
            raise ValueError(
                f"unknown dump format {format!r}; use one of {list(_DUMP_FORMATS)}"
            ) from exc
        ox.serialize(self.quads(), output, rdf_format)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
