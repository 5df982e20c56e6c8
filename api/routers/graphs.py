"""``/graphs``: the SPARQL 1.1 Graph Store HTTP Protocol (indirect identification), admin only."""

from __future__ import annotations

from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request, Response, Security

from api.deps import ServiceDep, get_principal
from api.errors import RequestError
from api.protocol import negotiate, read_body, respond
from api.service import Service
from theragraph.auth import Principal
from theragraph.errors import AccessError, QueryError
from theragraph.store import GraphWrite

router = APIRouter(
    prefix="/graphs", tags=["graphs"], dependencies=[Security(get_principal, scopes=["admin"])]
)
AdminDep = Annotated[Principal, Security(get_principal, scopes=["admin"])]
GraphParam = Annotated[
    str | None, Query(description="IRI of the named graph", max_length=4096)
]
DefaultParam = Annotated[
    str | None, Query(description="Present (empty) to address the default graph")
]
_TRIPLE_FORMATS = {
    ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD,
    ox.RdfFormat.N3,
}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/turtle": {"schema": {"type": "string"}},
            "application/n-triples": {"schema": {"type": "string"}},
            "application/rdf+xml": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "string"}},
        },
    }
}


def _target(graph: str | None, default: str | None) -> ox.NamedNode | None:
    """Return the graph node (None for the default graph).

    Raises:
        RequestError: unless exactly one of ``graph`` and ``default`` is given.
    """
    if (graph is None) == (default is None):
        raise RequestError(
            "give exactly one of ?graph=IRI or ?default", code="request.invalid"
        )
    if graph is None:
        return None
    try:
        return ox.NamedNode(graph)
    except ValueError as exc:
        raise RequestError(f"graph is not a valid IRI: {exc}", code="request.invalid") from exc


def _exists(service: Service, node: ox.NamedNode | None) -> bool:
    if node is None:
        return True
    return service.store.graph_exists(node.value)


async def _parse_body(request: Request, service: Service, base: str | None) -> list[ox.Triple]:
    body = await read_body(request, service.settings.max_request_bytes)
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    rdf_format = ox.RdfFormat.from_media_type(media) if media else None
    if rdf_format is None or rdf_format not in _TRIPLE_FORMATS:
        raise RequestError(
            f"unsupported Content-Type {media or '(none)'}; send Turtle, N-Triples, RDF/XML "
            "or JSON-LD",
            code="request.unsupported-media-type",
        )
    try:
        quads = ox.parse(body, rdf_format, base_iri=base)
        return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    except (SyntaxError, ValueError) as exc:
        raise QueryError(f"cannot parse the graph: {exc}", code="query.syntax") from exc


def _check_writable(service: Service) -> None:
    if service.settings.read_only:
        raise AccessError("the store is open read-only", code="store.read-only")


def _write_default(service: Service, triples: list[ox.Triple], *, replace: bool) -> None:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode() if triples else ""
    ops = ["CLEAR SILENT DEFAULT"] if replace else []
    if data:
        ops.append("INSERT DATA {\n" + data + "}")
    if ops:
        service.store.update(" ;\n".join(ops))


@router.get("", operation_id="graphs_get", summary="Get a graph",
            responses={200: {"content": {"text/turtle": {}, "application/n-triples": {}}},
                       404: {"description": "No such graph"}})
async def get_graph(
    request: Request, service: ServiceDep, principal: AdminDep,
    graph: GraphParam = None, default: DefaultParam = None,
) -> Response:
    """Return the triples of one graph, negotiated by Accept (Turtle by default)."""
    node = _target(graph, default)
    if not _exists(service, node):
        raise QueryError(f"no graph {graph}", code="graph.not-found")
    accept = request.headers.get("accept")
    negotiate(accept, graph=True)
    pattern = f"GRAPH {node} {{ ?s ?p ?o }}" if node is not None else "?s ?p ?o"
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}"
    store = service.store
    # The default graph is the store's real default graph here, not the union.
    default_graph: list[str] | None = [] if node is not None else None

    def execute() -> Any:
        if node is None:
            return store.query(query, union_default_graph=False)
        return store.query(query, default_graph=default_graph)

    return await respond(service.runner, execute, accept)


async def _prepare_write(
    request: Request, service: Service, graph: str | None, default: bool | None
) -> tuple[ox.NamedNode | None, list[ox.Triple], bool]:
    """Resolve the target graph, check the store is writable, parse the body (PUT and POST)."""
    node = _target(graph, default)
    _check_writable(service)
    triples = await _parse_body(request, service, graph)
    return node, triples, _exists(service, node)


@router.put("", operation_id="graphs_put", status_code=204, openapi_extra=_BODY_DOC,
            summary="Replace a graph", responses={201: {"description": "Created"}})
async def put_graph(
    request: Request, service: ServiceDep, principal: AdminDep,
    graph: GraphParam = None, default: DefaultParam = None,
) -> Response:
    """Replace a graph by the request body, in one transaction."""
    node, triples, existed = await _prepare_write(request, service, graph, default)
    if node is None:
        await service.run_write(lambda: _write_default(service, triples, replace=True))
    else:
        await service.run_write(service.store.replace_graphs, [GraphWrite(node.value, triples)])
    return Response(status_code=204 if existed else 201)


@router.post("", operation_id="graphs_post", status_code=204, openapi_extra=_BODY_DOC,
             summary="Add triples to a graph", responses={201: {"description": "Created"}})
async def post_graph(
    request: Request, service: ServiceDep, principal: AdminDep,
    graph: GraphParam = None, default: DefaultParam = None,
) -> Response:
    """Merge the request body into a graph, in one transaction."""
    node, triples, existed = await _prepare_write(request, service, graph, default)
    if node is None:
        await service.run_write(lambda: _write_default(service, triples, replace=False))
    else:
        def merge() -> None:
            current = [
                ox.Triple(q.subject, q.predicate, q.object)
                for q in service.store.quads(node.value)
            ]
            service.store.replace_graphs([GraphWrite(node.value, current + triples)])

        await service.run_write(merge)
    return Response(status_code=204 if existed else 201)


@router.delete("", operation_id="graphs_delete", status_code=204, summary="Delete a graph",
               responses={404: {"description": "No such graph"}})
async def delete_graph(
    service: ServiceDep, principal: AdminDep,
    graph: GraphParam = None, default: DefaultParam = None,
) -> Response:
    """Delete a graph (the default graph is emptied)."""
    node = _target(graph, default)
    _check_writable(service)
    if node is None:
        await service.run_write(service.store.update, "CLEAR SILENT DEFAULT")
        return Response(status_code=204)
    if not _exists(service, node):
        raise QueryError(f"no graph {graph}", code="graph.not-found")
    await service.run_write(service.store.delete_graphs, [node.value])
    return Response(status_code=204)
