"""``/sparql`` (SPARQL 1.1 Protocol query operation) and ``/update`` (update operation, admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, Security

from api.deps import ServiceDep, get_principal
from api.errors import RequestError
from api.protocol import negotiate, parse_request, respond, single_operation
from api.service import Service
from theragraph.auth import Principal
from theragraph.errors import AccessError, QueryError
from theragraph.query.text import add_using, scan, scan_cached

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

ReaderDep = Annotated[Principal, Security(get_principal, scopes=["read"])]
AdminDep = Annotated[Principal, Security(get_principal, scopes=["admin"])]

router = APIRouter(tags=["sparql"], dependencies=[Security(get_principal, scopes=["read"])])
update_router = APIRouter(
    tags=["sparql"], dependencies=[Security(get_principal, scopes=["admin"])]
)

_QUERY_DOC = {
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "The SPARQL query (GET, or POST form in the body)."},
        {"name": "default-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form",
         "explode": True, "description": "Graphs making up the default graph."},
        {"name": "named-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form",
         "explode": True, "description": "Graphs visible to GRAPH."},
    ],
    "responses": {
        "200": {
            "description": "Query results, negotiated by Accept",
            "content": {
                "application/sparql-results+json": {}, "application/sparql-results+xml": {},
                "text/csv": {}, "text/tab-separated-values": {}, "text/turtle": {},
                "application/n-triples": {}, "application/ld+json": {},
                "application/rdf+xml": {},
            },
        },
        "400": {"description": "Malformed request or query syntax error"},
        "401": {"description": "No or bad token"},
        "403": {"description": "Missing scope or forbidden feature (SERVICE)"},
        "406": {"description": "No acceptable result format"},
        "413": {"description": "Request body or result too large"},
        "503": {"description": "All query slots busy"},
        "504": {"description": "Query timed out"},
    },
}
_POST_DOC = {
    **_QUERY_DOC,
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                        "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["query"],
                }
            },
            QUERY_TYPE: {"schema": {"type": "string"}},
        },
    },
}


def _authenticated(request: Request) -> tuple[Service, Principal]:
    """Return the service and the principal that the router's auth dependency established.

    The hot query routes read them from the request instead of declaring their own
    dependencies: FastAPI's dependency resolution is a large share of a trivial query's cost.
    """
    principal = getattr(request.state, "principal_object", None)
    if principal is None:  # pragma: no cover - the router dependency always runs first
        raise AccessError("not authenticated", code="access.no-token")
    return request.app.state.service, principal


async def run_query(
    request: Request, service: Service, principal: Principal
) -> Response:
    """Parse, check and run one protocol query request."""
    parsed = await parse_request(
        request, direct_type=QUERY_TYPE, max_bytes=service.settings.max_request_bytes
    )
    text = single_operation(parsed, "query", "update")
    facts = scan_cached(text)
    if facts.kind == "update":
        raise RequestError(
            "this is the query endpoint; send SPARQL Update to /update by POST (admin scope)",
            code="request.invalid",
        )
    if facts.has_service and not (
        service.settings.allow_service and principal.has_scope("admin")
    ):
        raise AccessError(
            "SERVICE (federated query) is not allowed on this endpoint", code="access.service"
        )
    if facts.unresolved and principal.is_restricted:
        raise QueryError(
            f"cannot resolve FROM {facts.unresolved[0]}: undefined prefix", code="query.syntax"
        )
    if facts.form is not None:
        negotiate(request.headers.get("accept"), graph=facts.form in ("CONSTRUCT", "DESCRIBE"))
    protocol_default = parsed.iris("default-graph-uri")
    protocol_named = parsed.iris("named-graph-uri")
    dataset = service.dataset(
        principal,
        protocol_default=protocol_default,
        protocol_named=protocol_named,
        from_graphs=facts.from_graphs,
        from_named=facts.from_named,
    )
    if facts.has_relative_iri:
        text = f"BASE <{request.url.replace(query='')}>\n{text}"
    store = service.store

    def execute() -> Any:
        return store.query(
            text, default_graph=dataset.default_graph, named_graphs=dataset.named_graphs
        )

    # The key names the work exactly: the text (its FROM clauses included), the grants and the
    # protocol graphs decide the dataset, given the store's graphs (the runner's memo is
    # cleared on every write). Remote stores never run inline (their writes are not seen
    # here, and their queries do network I/O).
    key = (
        (text, principal.graphs if principal.is_restricted else None,
         tuple(protocol_default), tuple(protocol_named))
        if service.local_store
        else None
    )
    return await respond(service.runner, execute, request.headers.get("accept"), key=key)


@router.get("/sparql/", include_in_schema=False)
@router.get("/sparql", operation_id="sparql_query_get", openapi_extra=_QUERY_DOC,
            summary="SPARQL 1.1 query (GET)")
async def sparql_get(request: Request) -> Response:
    """Run a SPARQL query given in the ``query`` URL parameter."""
    return await run_query(request, *_authenticated(request))


@router.post("/sparql/", include_in_schema=False)
@router.post("/sparql", operation_id="sparql_query_post", openapi_extra=_POST_DOC,
             summary="SPARQL 1.1 query (POST form or direct)")
async def sparql_post(request: Request) -> Response:
    """Run a SPARQL query sent form-encoded or as ``application/sparql-query``."""
    return await run_query(request, *_authenticated(request))


_UPDATE_DOC = {
    "parameters": [
        {"name": "using-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form",
         "explode": True},
        {"name": "using-named-graph-uri", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form",
         "explode": True},
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": {"update": {"type": "string"}},
                           "required": ["update"]}
            },
            UPDATE_TYPE: {"schema": {"type": "string"}},
        },
    },
    "responses": {"204": {"description": "Update applied"}},
}


@update_router.post("/update/", include_in_schema=False, status_code=204)
@update_router.post("/update", operation_id="sparql_update", status_code=204,
                    openapi_extra=_UPDATE_DOC, summary="SPARQL 1.1 Update (admin)")
async def sparql_update(
    request: Request, service: ServiceDep, principal: AdminDep
) -> Response:
    """Apply a SPARQL Update in one transaction (admin scope)."""
    parsed = await parse_request(
        request, direct_type=UPDATE_TYPE, max_bytes=service.settings.max_request_bytes
    )
    text = single_operation(parsed, "update", "query")
    facts = scan(text)
    using = parsed.iris("using-graph-uri")
    using_named = parsed.iris("using-named-graph-uri")
    if (using or using_named) and facts.keywords & {"USING", "WITH"}:
        raise RequestError(
            "using-graph-uri/using-named-graph-uri cannot be combined with USING or WITH in "
            "the update (SPARQL 1.1 Protocol §2.2.3)",
            code="request.invalid",
        )
    if facts.has_service and not service.settings.allow_service:
        raise AccessError("SERVICE is not allowed in updates", code="access.service")
    if using or using_named:
        text = add_using(text, facts, using, using_named)
    if facts.has_relative_iri:
        text = f"BASE <{request.url.replace(query='')}>\n{text}"
    if service.settings.read_only:
        raise AccessError("the store is open read-only", code="store.read-only")
    await service.run_write(service.store.update, text)
    return Response(status_code=204)


