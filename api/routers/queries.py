"""``/queries``: curated queries from ``queries/*.rq`` as named, parameterised endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, Security

from api.deps import ServiceDep, get_principal
from api.protocol import negotiate, respond
from api.schemas import CuratedQueryDoc, CuratedQueryList, QueryParamDoc
from theragraph.auth import Principal
from theragraph.errors import QueryError
from theragraph.query.curated import CuratedQuery, bind_params

router = APIRouter(
    prefix="/queries", tags=["queries"], dependencies=[Security(get_principal, scopes=["read"])]
)
ReaderDep = Annotated[Principal, Security(get_principal, scopes=["read"])]
NameParam = Annotated[str, Path(description="Query name (file stem)", max_length=200)]


def to_doc(query: CuratedQuery) -> CuratedQueryDoc:
    """Return the public documentation of a curated query."""
    return CuratedQueryDoc(
        name=query.name,
        title=query.title,
        description=query.description,
        form=query.form,
        params=[
            QueryParamDoc(name=p.name, type=p.type, optional=p.optional, description=p.description)
            for p in query.params
        ],
        sparql=query.text,
        results_url=f"/queries/{query.name}/results",
    )


def _find(service: Any, name: str) -> CuratedQuery:
    try:
        return service.curated[name]
    except KeyError:
        raise QueryError(
            f"no curated query {name!r}; GET /queries lists them", code="query.unknown"
        ) from None


@router.get("", operation_id="queries_list", response_model=CuratedQueryList,
            summary="List curated queries")
def list_queries(service: ServiceDep) -> CuratedQueryList:
    """List the curated queries with their titles, descriptions and parameters."""
    docs = [to_doc(q) for q in service.curated.values()]
    return CuratedQueryList(data=docs, count=len(docs))


@router.get("/{name}", operation_id="queries_get", response_model=CuratedQueryDoc,
            summary="Describe a curated query", responses={404: {"description": "Unknown"}})
def get_query(name: NameParam, service: ServiceDep) -> CuratedQueryDoc:
    """Return one curated query's documentation and text."""
    return to_doc(_find(service, name))


@router.get("/{name}/results", operation_id="queries_run", summary="Run a curated query",
            responses={200: {"content": {"application/sparql-results+json": {},
                                         "text/csv": {}, "text/turtle": {}}},
                       400: {"description": "Bad parameter"},
                       404: {"description": "Unknown query"}})
async def run_curated(
    name: NameParam, request: Request, service: ServiceDep, principal: ReaderDep
) -> Response:
    """Run a curated query; its parameters are URL parameters of the same name."""
    query = _find(service, name)
    values = dict(request.query_params)
    substitutions = bind_params(query, values)
    negotiate(request.headers.get("accept"), graph=query.form in ("CONSTRUCT", "DESCRIBE"))
    dataset = service.dataset(principal)
    store = service.store

    def execute() -> Any:
        try:
            return store.query(
                query.text,
                default_graph=dataset.default_graph,
                named_graphs=dataset.named_graphs,
                substitutions=substitutions,
            )
        except RuntimeError as exc:  # pyoxigraph: a parameter missing from the projection
            raise QueryError(
                f"curated query {query.name!r} cannot bind its parameters: {exc}",
                code="query.bad-header",
            ) from exc

    return await respond(service.runner, execute, request.headers.get("accept"))
