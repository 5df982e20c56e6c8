"""``theragraph token``: issue, list and revoke bearer tokens for the SPARQL service."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theragraph.auth import TokenFile, default_token_path
from theragraph.cli.options import STORE_HELP, err_console, resolve_store_location
from theragraph.errors import ConfigError
from theragraph.report import ExitCode

app = typer.Typer(no_args_is_help=True)

TOKEN_FILE_HELP = (
    "Token file (default: THERAGRAPH_TOKEN_FILE, else theragraph-tokens.json inside the store "
    "directory; required for a remote store)."
)


def _token_file(store: str | None, token_file: Path | None) -> TokenFile:
    try:
        if token_file is None:
            import os  # noqa: PLC0415

            env = os.environ.get("THERAGRAPH_TOKEN_FILE")
            token_file = Path(env) if env else default_token_path(resolve_store_location(store))
        return TokenFile(token_file)
    except ConfigError as exc:
        err_console.print(f"[red]error[/red] [{exc.code}] {exc}")
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc


@app.command("add")
def add_command(
    name: str = typer.Argument(..., help="A unique name for the token's holder."),
    scopes: str = typer.Option("read", "--scopes", help="Comma list of read, ingest, admin."),
    datasets: str | None = typer.Option(
        None,
        "--datasets",
        help="Comma list of graph IRI prefixes the holder may read (default: all graphs).",
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    token_file: Path | None = typer.Option(None, "--token-file", help=TOKEN_FILE_HELP),
) -> None:
    """Issue a token; it is printed once, on the last line, and stored only as a hash."""
    tokens = _token_file(store, token_file)
    grants = [d.strip() for d in datasets.split(",")] if datasets else None
    try:
        token = tokens.add(name, scopes=scopes, datasets=grants)
    except ConfigError as exc:
        err_console.print(f"[red]error[/red] [{exc.code}] {exc}")
        raise typer.Exit(code=ExitCode.USAGE) from exc
    err_console.print(
        f"token {name!r} created with scopes {scopes}"
        + (f", datasets {', '.join(grants)}" if grants else ", all graphs")
        + ". Copy it now: it cannot be shown again."
    )
    typer.echo(token)
    raise typer.Exit(code=ExitCode.OK)


@app.command("list")
def list_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    token_file: Path | None = typer.Option(None, "--token-file", help=TOKEN_FILE_HELP),
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List tokens (names, scopes, datasets; never the tokens themselves)."""
    records = [r.public() for r in _token_file(store, token_file).records()]
    if output_format == "json":
        typer.echo(json.dumps(records, indent=2))
    else:
        table = Table("name", "id", "scopes", "datasets", "created")
        for r in records:
            table.add_row(
                str(r["name"]), str(r["id"]), ",".join(r["scopes"]),  # type: ignore[arg-type]
                ",".join(r["datasets"] or ["(all)"]), str(r["created_at"]),  # type: ignore[arg-type]
            )
        from rich.console import Console  # noqa: PLC0415

        Console(width=200).print(table)
    raise typer.Exit(code=ExitCode.OK)


@app.command("revoke")
def revoke_command(
    name: str = typer.Argument(..., help="Name (or id) of the token to revoke."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    token_file: Path | None = typer.Option(None, "--token-file", help=TOKEN_FILE_HELP),
) -> None:
    """Revoke a token; a running server refuses it from its next request."""
    try:
        record = _token_file(store, token_file).revoke(name)
    except ConfigError as exc:
        err_console.print(f"[red]error[/red] [{exc.code}] {exc}")
        raise typer.Exit(code=ExitCode.PARTIAL) from exc
    err_console.print(f"revoked token {record.name!r} ({record.id})")
    raise typer.Exit(code=ExitCode.OK)
