"""Options and helpers shared by several commands (store location, stderr console)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from theragraph.config import get_settings
from theragraph.errors import StoreError, TheragraphError
from theragraph.report import ExitCode
from theragraph.store import Store, open_store
from theragraph.store.open import REMOTE_SCHEMES

#: Diagnostics and progress go to stderr; results go to stdout.
err_console = Console(stderr=True)

STORE_HELP = (
    "Store: a directory for the embedded pyoxigraph store (default: THERAGRAPH_STORE or "
    ".theragraph/store), or sparql+http://host:port/path for a remote SPARQL endpoint."
)


def print_error(exc: TheragraphError) -> None:
    """Print an error with its stable code to stderr (markup-safe)."""
    err_console.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(str(exc))}")


def resolve_store_location(store: str | None) -> str:
    """Return the explicit ``--store`` or the configured default."""
    return store or get_settings().store


def open_store_or_exit(store: str | None, *, read_only: bool = False) -> Store:
    """Open the store, or print why not and exit with code 3.

    With ``read_only``, the store is opened normally when it is free and read-only only when
    another process (e.g. ``theragraph serve``) holds its lock: a read-only RocksDB view of a
    store being written can miss files that compaction removes.
    """
    location = resolve_store_location(store)
    if read_only and not location.startswith(REMOTE_SCHEMES) and not Path(location).exists():
        print_error(StoreError(
            f"no store at {location}: ingest something first, or pass --store DIR",
            code="store.missing",
        ))
        raise typer.Exit(code=ExitCode.CANNOT_START)
    try:
        return open_store(location)
    except TheragraphError as exc:
        if not read_only:
            print_error(exc)
            raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    try:
        return open_store(location, read_only=True)
    except TheragraphError as exc:
        print_error(exc)
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
