"""The app factory: ``uvicorn --factory api.main:create_app`` (``theragraph serve`` does this)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.accesslog import AccessLogMiddleware, configure_access_log
from api.errors import install_handlers
from api.fastpath import METHODS, PATHS, SparqlFastPath
from api.routers import graphs, health, queries, sparql, ui
from api.routers.ui import STATIC_DIR
from api.service import Service
from api.settings import ApiSettings
from theragraph import __version__


def _operation_id(route: APIRoute) -> str:
    # Stable ids: the explicit operation_id of each route, else its function name.
    return route.operation_id or route.name


class TheragraphApp(FastAPI):
    """FastAPI, with ``GET``/``POST /sparql`` handed straight to the lean path.

    ``front`` (the access log around :class:`api.fastpath.SparqlFastPath`) answers SPARQL
    queries before FastAPI's ``__call__`` (which checks for OpenTelemetry providers on every
    request) and the middleware stack; everything else goes the normal way.
    """

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        front = self.front
        if (
            front is not None
            and scope["type"] == "http"
            and scope["path"] in PATHS
            and scope["method"] in METHODS
        ):
            scope["app"] = self
            await front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the HTTP service.

    Args:
        settings: service settings; read from ``THERAGRAPH_*`` environment variables when None.

    Raises:
        StoreError: when the store cannot be opened.
        ConfigError: for bad access settings.
    """
    settings = settings or ApiSettings()
    service = Service.from_settings(settings)
    configure_access_log(settings.access_log)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.store.close()

    app = TheragraphApp(
        title="Theragraph SPARQL service",
        version=__version__,
        description=(
            "SPARQL 1.1 Protocol endpoint (`/sparql`, `/update`), Graph Store Protocol "
            "(`/graphs`), curated queries (`/queries`). Authenticate with "
            "`Authorization: Bearer <token>` (see `theragraph token add`)."
        ),
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.service = service
    install_handlers(app)
    app.include_router(health.router)
    app.include_router(sparql.router)
    app.include_router(sparql.update_router)
    app.include_router(queries.router)
    app.include_router(graphs.router)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(AccessLogMiddleware)
    # /sparql queries: the access log around the lean path, called before FastAPI's stack.
    app.front = AccessLogMiddleware(SparqlFastPath(super(TheragraphApp, app).__call__, service))
    return app
