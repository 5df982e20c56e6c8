"""One table from errors to HTTP status; every error body is ``{"detail", "code"}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from theragraph.errors import (
    AccessError,
    ConfigError,
    QueryError,
    StoreError,
    TheragraphError,
)

log = logging.getLogger(__name__)

class RequestError(TheragraphError):
    """A malformed HTTP request (media type, encoding, size, parameters)."""

    code = "request.invalid"


#: Error code -> HTTP status; looked up first, then :data:`CLASS_STATUS`.
CODE_STATUS: dict[str, int] = {
    "access.no-token": 401,
    "access.invalid-token": 401,
    "query.syntax": 400,
    "query.bad-parameter": 400,
    "query.bad-header": 500,
    "query.not-acceptable": 406,
    "query.result-too-large": 413,
    "query.overloaded": 503,
    "query.timeout": 504,
    "query.failed": 400,
    "request.too-large": 413,
    "request.unsupported-media-type": 415,
    "request.invalid": 400,
    "request.method": 405,
    "graph.not-found": 404,
    "query.unknown": 404,
    "store.read-only": 403,
}
CLASS_STATUS: list[tuple[type[Exception], int]] = [
    (RequestError, 400),
    (AccessError, 403),
    (QueryError, 400),
    (StoreError, 503),
    (ConfigError, 500),
    (TheragraphError, 500),
]


def status_for(exc: TheragraphError) -> int:
    """Return the HTTP status of an error by its code, then by its class."""
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls, status in CLASS_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: TheragraphError) -> JSONResponse:
    """Render an error as JSON with its status (and a Bearer challenge on 401)."""
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status >= 500 and status not in (503, 504):
        log.error("internal error %s: %s", exc.code, exc)
    return JSONResponse({"detail": str(exc), "code": exc.code}, status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Register the handler table on ``app``."""

    @app.exception_handler(TheragraphError)
    async def _theragraph(_: Request, exc: TheragraphError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return JSONResponse({"detail": details, "code": "request.invalid"}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "request.not-found", 405: "request.method"}.get(
            exc.status_code, "request.invalid"
        )
        return JSONResponse(
            {"detail": str(exc.detail), "code": code}, exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse({"detail": "internal error (a bug)", "code": "internal.bug"}, 500)
