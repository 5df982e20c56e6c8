"""A remote SPARQL 1.1 endpoint as a :class:`~theragraph.store.base.Store`, over HTTP (httpx).

Oxigraph server, Virtuoso, Fuseki, GraphDB, QLever (read-only) and others speak this protocol.

Location: ``sparql+http(s)://host:port/path[?update=URL-or-path&store=URL-or-path]``. The query
endpoint is ``http(s)://host:port/path``; the update and Graph Store Protocol endpoints default
to the siblings ``update`` and ``store`` when the path ends in ``/query`` (Oxigraph's layout),
else to the query URL itself (one endpoint for both, as Virtuoso and Fuseki allow).

Results come back as pyoxigraph result objects, so code above the store is unchanged. The
server must use the union of named graphs as its default graph (``oxigraph serve
--union-default-graph``; Virtuoso does by default) for ``union_default_graph=True`` to hold.
The real default graph is not counted or dumped: Theragraph writes named graphs only.
"""

from __future__ import annotations

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
_DUMP_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}


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
    ) -> None:
        """Bind to the endpoints (no request is made until used).

        Args:
            query_url: the SPARQL query endpoint.
            update_url: the SPARQL update endpoint (default: ``query_url``).
            store_url: the Graph Store Protocol endpoint (optional; SPARQL is used without).
            timeout_s: HTTP timeout per request, in seconds.
            headers: extra headers, e.g. ``Authorization``.
        """
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
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        query_url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
        path = parts.path.rstrip("/")
        if path.endswith("/query"):
            update_default = urljoin(query_url, "update")
            store_default: str | None = urljoin(query_url, "store")
        else:
            update_default, store_default = query_url, None
        update = options.get("update")
        store = options.get("store")
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
        if substitutions:
            names = list(substitutions)
            row = " ".join(str(substitutions[n]) for n in names)
            text = f"{sparql}\nVALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }}"
        data: list[tuple[str, str]] = [("query", text)]
        if default_graph is not None or named_graphs is not None:
            data += [("default-graph-uri", g) for g in (default_graph or [EMPTY_GRAPH])]
            data += [("named-graph-uri", g) for g in (named_graphs or [EMPTY_GRAPH])]
        response = self._post(
            self.query_url,
            content=urlencode(data).encode(),
            headers={"Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded"},
        )
        self._fail(response, "query")
        media = response.headers.get("content-type", "").split(";")[0].strip()
        results_format = ox.QueryResultsFormat.from_media_type(media) if media else None
        if results_format is not None:
            return ox.parse_query_results(response.content, results_format)
        rdf_format = ox.RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise QueryError(
                f"the endpoint answered with unsupported media type {media!r}",
                code="query.failed",
            )
        # Hand back a real QueryTriples: load the graph into memory and read it back.
        scratch = ox.Store()
        scratch.load(response.content, rdf_format, to_graph=ox.DefaultGraph())
        return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update (one request, one transaction on the server).

        Raises:
            QueryError: on a syntax error; StoreError when the write fails.
        """
        response = self._post(self.update_url, data={"update": sparql})
        self._fail(response, "update", write=True)

    def replace_graphs(self, writes: Sequence[GraphWrite]) -> int:
        """Replace named graphs atomically: one update request (DROP SILENT + INSERT DATA)."""
        if not writes:
            return 0
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(w.graph)}" for w in writes]
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

    def delete_graphs(self, graphs: Iterable[str]) -> None:
        """Delete named graphs in one update request."""
        ops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in graphs]
        if ops:
            self.update(" ;\n".join(ops))

    def named_graphs(self) -> list[str]:
        """Return the IRIs of all named graphs."""
        results = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return [s["g"].value for s in results if isinstance(s["g"], ox.NamedNode)]

    def graph_exists(self, graph: str) -> bool:
        """Return True when the named graph holds at least one quad."""
        return bool(self.query(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))

    def count_quads(self) -> int:
        """Return the number of quads in named graphs."""
        results = self.query("SELECT (COUNT(*) AS ?c) WHERE { GRAPH ?g { ?s ?p ?o } }")
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
            results = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}")
            return iter([ox.Quad(r["s"], r["p"], r["o"], node) for r in results])
        results = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return iter([ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in results])

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
