"""Read SPARQL 1.1 Protocol requests and send query results (shared by the query routers).

Parsing follows the Recommendation (§2.1 query operation, §2.2 update operation): GET with a
``query`` parameter, POST form-encoded, POST direct (``application/sparql-query`` /
``application/sparql-update``), exactly one operation per request, UTF-8 only, and the dataset
parameters ``default-graph-uri`` / ``named-graph-uri`` (``using-…`` for updates).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from api.errors import RequestError
from theragraph.errors import QueryError
from theragraph.query.execution import (
    NotAcceptableError,
    QueryRunner,
    result_kind,
)
from theragraph.query.negotiation import Choice, choose, offered

log = logging.getLogger(__name__)

#: Bytes gathered before the status is sent; smaller results get a Content-Length.
BUFFER_BYTES = 256 * 1024
#: How long the event loop may block waiting for a query's first result (once per request);
#: a slower query is then awaited asynchronously, so a runaway query delays others by at most
#: this much.
INLINE_WAIT_S = 0.002
FORM = "application/x-www-form-urlencoded"


@dataclass(slots=True)
class ProtocolRequest:
    """One parsed protocol request."""

    params: dict[str, list[str]] = field(default_factory=dict)
    direct: str | None = None
    direct_kind: str | None = None

    def values(self, name: str) -> list[str]:
        """All values of a parameter (URL and form body together)."""
        return self.params.get(name, [])

    def iris(self, name: str) -> list[str]:
        """All values of a graph IRI parameter, checked.

        Raises:
            RequestError: when a value is not an absolute IRI.
        """
        values = self.values(name)
        for value in values:
            try:
                ox.NamedNode(value)
            except ValueError as exc:
                raise RequestError(
                    f"{name} is not a valid IRI: {exc}", code="request.invalid"
                ) from exc
        return values


def _media_type(request: Request) -> tuple[str | None, dict[str, str]]:
    header = request.headers.get("content-type")
    if not header:
        return None, {}
    parts = [p.strip() for p in header.split(";")]
    params = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return parts[0].lower(), params


def _check_charset(params: dict[str, str]) -> None:
    charset = params.get("charset")
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise RequestError(
            f"only UTF-8 is accepted (charset={charset}); the protocol requires UTF-8",
            code="request.unsupported-media-type",
        )


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(
            f"the request body is not valid UTF-8 (byte {exc.start})", code="request.invalid"
        ) from exc


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the request body, refusing more than ``max_bytes``.

    Raises:
        RequestError: ``request.too-large`` (413).
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(
            f"the request body exceeds {max_bytes} bytes", code="request.too-large"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise RequestError(
                f"the request body exceeds {max_bytes} bytes", code="request.too-large"
            )
    return bytes(body)


def _url_parameters(query_string: bytes) -> tuple[tuple[str, str], ...]:
    # As Starlette's Request.query_params parses it.
    return tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


_url_parameters_cached = lru_cache(maxsize=256)(_url_parameters)
#: URL query strings longer than this are parsed each time (bounds the memo to ~4 MiB).
_CACHE_MAX_BYTES = 16 * 1024


def url_parameters(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """Return the URL parameters as (name, value) pairs, memoised for repeated query strings.

    A GET query repeats its whole percent-encoded text in the URL; decoding it is a visible
    share of a small query's cost.
    """
    if len(query_string) > _CACHE_MAX_BYTES:
        return _url_parameters(query_string)
    return _url_parameters_cached(query_string)


async def parse_request(request: Request, *, direct_type: str, max_bytes: int) -> ProtocolRequest:
    """Parse URL parameters and the body of a protocol request.

    Args:
        request: the HTTP request (GET or POST).
        direct_type: ``application/sparql-query`` or ``application/sparql-update``.
        max_bytes: body size cap.

    Raises:
        RequestError: missing or wrong media type (400/415), non-UTF-8, too large (413).
    """
    parsed = ProtocolRequest()
    for key, value in url_parameters(request.scope.get("query_string", b"")):
        parsed.params.setdefault(key, []).append(value)
    if request.method != "POST":
        return parsed
    media, params = _media_type(request)
    body = await read_body(request, max_bytes)
    if media is None:
        raise RequestError(
            f"a POST needs a Content-Type: {FORM} or {direct_type}", code="request.invalid"
        )
    _check_charset(params)
    if media == FORM:
        text = _decode(body)
        try:
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise RequestError(
                "a form value is not percent-encoded UTF-8", code="request.invalid"
            ) from exc
        for key, value in pairs:
            parsed.params.setdefault(key, []).append(value)
    elif media == direct_type:
        parsed.direct = _decode(body)
        parsed.direct_kind = direct_type
    else:
        raise RequestError(
            f"unsupported Content-Type {media}; use {FORM} or {direct_type}",
            code="request.unsupported-media-type",
        )
    return parsed


def single_operation(parsed: ProtocolRequest, name: str, other: str) -> str:
    """Return the one operation text of the request (``query`` or ``update``).

    Raises:
        RequestError: when there is none, several, or one of the other kind too.
    """
    texts = parsed.values(name) + ([parsed.direct] if parsed.direct is not None else [])
    if parsed.values(other):
        raise RequestError(
            f"a request carries either a {name} or an {other}, not both; "
            + ("updates go to /update by POST" if other == "update" else "queries go to /sparql"),
            code="request.invalid",
        )
    if len(texts) != 1:
        raise RequestError(
            f"give exactly one {name} (found {len(texts)})", code="request.invalid"
        )
    return texts[0]


def negotiate(accept: str | None, *, graph: bool) -> Choice:
    """Pick the result media type or raise 406.

    Raises:
        NotAcceptableError: when the Accept header allows none we offer.
    """
    choice = choose(accept, graph=graph)
    if choice is None:
        raise NotAcceptableError(
            f"cannot answer in any of the accepted media types ({accept}); offered: "
            f"{', '.join(offered(graph=graph))}"
        )
    return choice


def serializer(accept: str | None) -> Callable[[Any, Any], str]:
    """Return a function that writes results in the negotiated format; returns the type."""

    def serialize(results: Any, output: Any) -> str:
        kind = result_kind(results)
        choice = negotiate(accept, graph=kind == "graph")
        announce = getattr(output, "announce", None)
        if announce is not None:
            announce(choice.content_type)
        if kind == "graph":
            ox.serialize(results, output, choice.format)
        else:
            results.serialize(output, choice.format)
        return choice.content_type

    return serialize


def whole_serializer(accept: str | None) -> Callable[[Any], tuple[str, bytes]]:
    """Return a function that serialises results at once: ``(content type, body)``."""

    def serialize(results: Any) -> tuple[str, bytes]:
        kind = result_kind(results)
        choice = negotiate(accept, graph=kind == "graph")
        if kind == "graph":
            body = ox.serialize(results, None, choice.format)
        else:
            body = results.serialize(None, choice.format)
        return choice.content_type, body

    return serialize


async def respond(
    runner: QueryRunner,
    execute: Callable[[], Any],
    accept: str | None,
    *,
    headers: dict[str, str] | None = None,
    key: Hashable | None = None,
) -> Response:
    """Run a query under the runner's limits and answer with its results.

    Results up to :data:`BUFFER_BYTES` are sent whole; larger ones stream. An error before the
    first byte is a normal error response; after it, the connection is cut (the client sees an
    incomplete body rather than a truncated result that looks complete).

    Args:
        runner: the query runner (slots, limits).
        execute: runs the query, returns pyoxigraph results.
        accept: the request's Accept header.
        headers: extra response headers.
        key: what identifies the query's work (text, dataset; the Accept header is added):
            a key that ran fast before runs inline (:meth:`QueryRunner.run_inline`).

    Raises:
        QueryError: for syntax errors, timeouts (504), overload (503), size (413), 406.
    """
    if key is not None:
        key = (key, accept)
        whole = runner.run_inline(key, execute, whole_serializer(accept))
        if whole is not None:
            return Response(whole[1], media_type=whole[0], headers=headers)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def notify() -> None:
        loop.call_soon_threadsafe(wake.set)

    if not runner.try_acquire():
        await asyncio.to_thread(runner.acquire)
    run = runner.start(execute, serializer(accept), acquired=True, notify=notify, key=key)

    inline = [INLINE_WAIT_S]

    async def next_chunk() -> bytes | None:
        while True:
            # The first wait blocks the loop briefly (bounded by INLINE_WAIT_S per request):
            # a fast query's result is taken without a round trip through the event loop.
            wait_s, inline[0] = inline[0], 0.0
            item = run.poll(min(wait_s, run.remaining_s()))
            if item is False and wait_s:
                item = run.poll()  # put just as the wait ended, without a wake-up
            if item is not False:
                return item  # type: ignore[return-value]
            remaining = run.remaining_s()
            if remaining <= 0:
                raise run.timeout_error()
            try:
                # asyncio.timeout, not wait_for: no extra task per wait on the hot path.
                async with asyncio.timeout(remaining):
                    await wake.wait()
            except TimeoutError:
                raise run.timeout_error() from None
            wake.clear()

    buffered: list[bytes] = []
    size = 0
    try:
        while size < BUFFER_BYTES:
            chunk = await next_chunk()
            if chunk is None:
                body = b"".join(buffered)
                return Response(body, media_type=run.media_type, headers=headers)
            buffered.append(chunk)
            size += len(chunk)
    except BaseException:
        run.cancel()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            for chunk in buffered:
                yield chunk
            while (chunk := await next_chunk()) is not None:
                yield chunk
        except QueryError as exc:
            log.warning("result stream cut: %s (%s)", exc.code, exc)
            raise
        finally:
            run.cancel()

    return StreamingResponse(stream(), media_type=run.media_type, headers=headers)
