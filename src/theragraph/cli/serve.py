"""``theragraph serve``: run the SPARQL service (the ``api`` package) under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from theragraph.cli.options import STORE_HELP, err_console, resolve_store_location
from theragraph.report import ExitCode

app = typer.Typer()

#: uvicorn imports the app factory by name; theragraph itself never imports ``api``.
APP_FACTORY = "api.main:create_app"


def _fast_io() -> dict[str, str]:
    """Pick uvloop and httptools (``uvicorn[standard]``) when installed, else uvicorn's defaults.

    Named explicitly so a missing package shows up here rather than as a silent slowdown.
    """
    import importlib.util  # noqa: PLC0415

    options: dict[str, str] = {}
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    return options


@app.command("serve")
def serve_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(
        1,
        "--workers",
        help="Worker processes. Above 1 an embedded store is opened read-only (no /update).",
    ),
    anonymous_scopes: str | None = typer.Option(
        None, "--anonymous-scopes", help="Scopes for requests without a token (e.g. read)."
    ),
    query_timeout_s: float | None = typer.Option(
        None, "--query-timeout-s", help="Per-query time limit in seconds."
    ),
    access_log: Path | None = typer.Option(
        None, "--access-log", help="Write the JSON-lines access log to this file."
    ),
) -> None:
    """Serve /sparql, /update, /graphs, /queries and the query page at /."""
    import uvicorn  # noqa: PLC0415 (only this command needs it)

    location = resolve_store_location(store)
    os.environ["THERAGRAPH_STORE"] = location
    is_remote = "://" in location
    if workers > 1 and not is_remote:
        os.environ["THERAGRAPH_READ_ONLY"] = "true"
        err_console.print("several workers: the embedded store is opened read-only")
    if anonymous_scopes is not None:
        os.environ["THERAGRAPH_ANONYMOUS_SCOPES"] = anonymous_scopes
    if query_timeout_s is not None:
        os.environ["THERAGRAPH_QUERY_TIMEOUT_S"] = str(query_timeout_s)
    if access_log is not None:
        os.environ["THERAGRAPH_ACCESS_LOG"] = str(access_log)
    err_console.print(f"serving {location} on http://{host}:{port}/ (SPARQL at /sparql)")
    try:
        uvicorn.run(
            APP_FACTORY, factory=True, host=host, port=port, workers=workers,
            access_log=False, log_level="warning", **_fast_io(),
        )
    except SystemExit as exc:
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    raise typer.Exit(code=ExitCode.OK)
