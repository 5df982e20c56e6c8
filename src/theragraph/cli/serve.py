"""``theragraph serve``: run the SPARQL service (the ``api`` package) under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from theragraph.cli.options import STORE_HELP, err_console, print_error, resolve_store_location
from theragraph.report import ExitCode

app = typer.Typer()

#: uvicorn imports the app factory by name; theragraph itself never imports ``api``.
APP_FACTORY = "api.main:create_app"
#: HTTP servers ``--server`` accepts.
SERVERS = ("uvicorn", "granian")


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


def default_workers(workers: int | None, *, read_only: bool, remote: bool) -> int:
    """Return the number of worker processes: as given, else one per core where that is safe.

    Several processes can share a remote store or an embedded store opened read-only (each
    opens it itself), like ``oxigraph serve``'s threads use every core; a writable embedded
    store can be opened by one process only, so it gets one worker unless asked otherwise.
    """
    if workers is not None:
        return workers
    if read_only or remote:
        return max(1, os.cpu_count() or 1)
    return 1


def _check_read_only_store(location: str) -> None:
    """Exit with code 3 unless ``location`` opens read-only (before workers start and fail)."""
    from theragraph.errors import TheragraphError  # noqa: PLC0415
    from theragraph.store import open_store  # noqa: PLC0415

    try:
        open_store(location, read_only=True).close()
    except TheragraphError as exc:
        print_error(exc)
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc


@app.command("serve")
def serve_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help=(
            "Worker processes. Default: one per CPU core for a read-only (--read-only) or "
            "remote store, 1 for a writable embedded store (only one process can open it for "
            "writing). Above 1 an embedded store is opened read-only (no /update)."
        ),
    ),
    server: str = typer.Option(
        "uvicorn",
        "--server",
        help="HTTP server: uvicorn (default) or granian (its HTTP handling runs in Rust "
        "threads: about twice the requests/s at 8 concurrent connections in bench/RESULTS.md).",
    ),
    read_only: bool = typer.Option(
        False,
        "--read-only",
        help="Open the embedded store read-only: no /update or Graph Store writes; "
        "--workers then defaults to the CPU count.",
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
    if server not in SERVERS:
        err_console.print(f"[red]error[/red] --server must be one of {', '.join(SERVERS)}")
        raise typer.Exit(code=ExitCode.USAGE)
    location = resolve_store_location(store)
    os.environ["THERAGRAPH_STORE"] = location
    is_remote = "://" in location
    workers = default_workers(workers, read_only=read_only, remote=is_remote)
    if (read_only or workers > 1) and not is_remote:
        if not read_only:
            err_console.print("several workers: the embedded store is opened read-only")
        os.environ["THERAGRAPH_READ_ONLY"] = "true"
        _check_read_only_store(location)
    if anonymous_scopes is not None:
        os.environ["THERAGRAPH_ANONYMOUS_SCOPES"] = anonymous_scopes
    if query_timeout_s is not None:
        os.environ["THERAGRAPH_QUERY_TIMEOUT_S"] = str(query_timeout_s)
    if access_log is not None:
        os.environ["THERAGRAPH_ACCESS_LOG"] = str(access_log)
    err_console.print(
        f"serving {location} on http://{host}:{port}/ (SPARQL at /sparql), "
        f"{workers} worker(s)"
    )
    try:
        if server == "granian":
            _run_granian(host, port, workers)
        else:
            import uvicorn  # noqa: PLC0415 (only this command needs it)

            uvicorn.run(
                APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="warning", **_fast_io(),
            )
    except SystemExit as exc:
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    raise typer.Exit(code=ExitCode.OK)


def _run_granian(host: str, port: int, workers: int) -> None:
    """Serve the app factory with granian (ASGI, HTTP/1.1; its auto loop is uvloop if installed)."""
    from granian import Granian  # noqa: PLC0415
    from granian.constants import HTTPModes, Interfaces, Loops  # noqa: PLC0415

    Granian(
        APP_FACTORY, factory=True, address=host, port=port, workers=workers,
        interface=Interfaces.ASGI, http=HTTPModes.http1, websockets=False, loop=Loops.auto,
        log_enabled=True, log_level="warning", log_access=False,
    ).serve()
