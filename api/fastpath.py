"""A lean ASGI path for ``/sparql`` GET and POST, in front of FastAPI's routing.

A trivial query's cost through FastAPI is mostly the framework: the middleware stack, route
matching, dependency injection (``Security`` + ``HTTPBearer`` + scopes) and the exception
middleware. This middleware answers the two hot operations directly with the same code the
routers use (:func:`api.routers.sparql.run_query`), the same authentication
(:meth:`api.service.Service.authenticate`) and the same error rendering
(:func:`api.errors.error_response`). Every other request (other paths and methods, which get the
405 and OpenAPI behaviour of the routers) goes on to FastAPI, where the ``/sparql`` routes still
exist and are documented in the OpenAPI schema.

It sits inside :class:`api.accesslog.AccessLogMiddleware` and fills in what that logs: the route
(``scope["route"]``) and the principal (``scope["state"]["principal"]``). The app
(:class:`api.main.TheragraphApp`) calls that pair directly for ``/sparql``, before FastAPI's own
``__call__`` (telemetry checks) and Starlette's error middleware, so an unexpected exception is
turned into the same 500 body here.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from api.service import Service
from theragraph.errors import TheragraphError

#: Paths served here (the routers register both, the slash form hidden from the schema).
PATHS = frozenset({"/sparql", "/sparql/"})
METHODS = frozenset({"GET", "POST"})
log = logging.getLogger(__name__)


class _RouteTag:
    """What the access log reads from ``scope["route"]``: the route template."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


_ROUTES = {path: _RouteTag(path) for path in PATHS}


def bearer_token(header: str | None) -> str | None:
    """Return the credentials of an ``Authorization: Bearer ...`` header, else None.

    Matches FastAPI's ``HTTPBearer(auto_error=False)``: another scheme or an empty value counts
    as no token.
    """
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class SparqlFastPath:
    """Pure ASGI middleware answering ``GET``/``POST /sparql`` without FastAPI's routing."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        """Wrap ``app`` (the rest of the FastAPI stack)."""
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``/sparql`` queries here; pass everything else on."""
        if (
            scope["type"] != "http"
            or scope["path"] not in PATHS
            or scope["method"] not in METHODS
        ):
            await self.app(scope, receive, send)
            return
        from api.routers.sparql import run_query  # noqa: PLC0415 (import cycle)

        scope["route"] = _ROUTES[scope["path"]]
        state: dict[str, Any] = scope.setdefault("state", {})
        request = Request(scope, receive)
        service = self.service
        try:
            principal = service.authenticate(bearer_token(request.headers.get("authorization")))
            state["principal_object"] = principal
            state["principal"] = principal.name
            principal.require("read")
            response = await run_query(request, service, principal)
        except TheragraphError as exc:
            response = error_response(exc)
        except Exception:  # the app's catch-all handler (api.errors), which is not in front
            log.exception("unhandled error")
            response = JSONResponse(
                {"detail": "internal error (a bug)", "code": "internal.bug"}, 500
            )
        await response(scope, receive, send)
