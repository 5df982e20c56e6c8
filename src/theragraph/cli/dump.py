"""``theragraph dump``: write every quad of the store, so users can see what is stored."""

from __future__ import annotations

import sys

import typer

from theragraph.cli.options import STORE_HELP, open_store_or_exit
from theragraph.report import ExitCode

app = typer.Typer()


@app.command("dump")
def dump_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    output_format: str = typer.Option("nq", "--format", help="nq (N-Quads) or trig."),
) -> None:
    """Write all quads of the store to stdout as N-Quads or TriG."""
    if output_format not in ("nq", "trig"):
        typer.echo("--format must be nq or trig", err=True)
        raise typer.Exit(code=ExitCode.USAGE)
    db = open_store_or_exit(store, read_only=True)
    try:
        db.dump(sys.stdout.buffer, format=output_format)
    finally:
        db.close()
    sys.stdout.flush()
    raise typer.Exit(code=ExitCode.OK)
