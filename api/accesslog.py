"""A structured access log: one JSON line per request, never the results or the token.

Fields: ``time`` (UTC ISO 8601), ``principal`` (token name or ``anonymous``/``-``), ``method``,
``route`` (the route template, e.g. ``/queries/{name}/results``, so parameter values stay out),
``status``, ``duration_ms`` (to the last byte) and ``bytes`` (response body size).
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as encode_basestring
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER_NAME = "theragraph.api.access"


def configure_access_log(path: Path | None) -> logging.Logger:
    """Return the access logger writing plain JSON lines to ``path`` (stderr when None)."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


def _write_line(logger: logging.Logger, line: str) -> None:
    """Write one access-log line.

    When the logger has exactly the one stream handler :func:`configure_access_log` gave it,
    the line goes straight to that handler's stream (under the handler's lock, flushed, as
    the handler would write it): building a ``LogRecord`` costs more than the rest of a small
    query's logging. Otherwise (handlers added or replaced) it goes through ``logger.info``.
    """
    handlers = logger.handlers
    if len(handlers) == 1 and type(handlers[0]) in (logging.FileHandler, logging.StreamHandler):
        handler: Any = handlers[0]
        stream = handler.stream
        if stream is None:  # a FileHandler closed by logging.shutdown(); let it reopen
            logger.info(line)
            return
        with handler.lock:
            stream.write(line + "\n")
            stream.flush()
        return
    logger.info(line)


class AccessLogMiddleware:
    """Pure ASGI middleware (works with streamed bodies) that logs each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app
        self.logger = logging.getLogger(LOGGER_NAME)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request and log it when the response is complete (or fails)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "bytes": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            principal = getattr(scope.get("state", {}), "get", lambda *_: None)("principal")
            # The same JSON object json.dumps would write, assembled directly (hot path).
            _write_line(
                self.logger,
                '{"time": "%s", "principal": %s, "method": %s, "route": %s, "status": %d, '
                '"duration_ms": %s, "bytes": %d}'
                % (
                    datetime.now(UTC).isoformat(timespec="milliseconds"),
                    encode_basestring(principal or "-"),
                    encode_basestring(scope.get("method") or ""),
                    encode_basestring(getattr(route, "path", None) or "(unmatched)"),
                    state["status"],
                    round((time.perf_counter() - started) * 1000, 2),
                    state["bytes"],
                ),
            )
