"""The app factory: ``uvicorn --factory api.main:create_app`` (``theragraph serve`` does this)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from api.accesslog import AccessLogMiddleware, configure_access_log
from api.errors import install_handlers
from api.fastpath import SparqlFastPath
from api.routers import graphs, health, queries, sparql, ui
from api.routers.ui import STATIC_DIR
from api.service import Service
from api.settings import ApiSettings
from theragraph import __version__


def _operation_id(route: APIRoute) -> str:
    # Stable ids: the explicit operation_id of each route, else its function name.
    return route.operation_id or route.name


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

    app = FastAPI(
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
    # Last added runs first: the access log wraps the lean /sparql path, which wraps FastAPI.
    app.add_middleware(SparqlFastPath, service=service)
    app.add_middleware(AccessLogMiddleware)
    return app
