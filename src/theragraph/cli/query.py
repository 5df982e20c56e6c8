"""``theragraph query``: run SPARQL against the store and print the results."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from theragraph.cli.options import STORE_HELP, err_console, open_store_or_exit, print_error
from theragraph.errors import QueryError
from theragraph.query.results import FORMATS, write_results
from theragraph.report import ExitCode
from theragraph.store import Store

app = typer.Typer()


def _print_query(db: Store, text: str, output_format: str) -> None:
    # A result iterator keeps the store open: it must not outlive this frame, whose locals a
    # traceback (e.g. of typer.Exit) would otherwise keep alive.
    write_results(db.query(text), sys.stdout, fmt=output_format)


@app.command("query")
def query_command(
    sparql: str | None = typer.Argument(None, help="The SPARQL query text (or use -f)."),
    file: Path | None = typer.Option(None, "--file", "-f", help="Read the query from a .rq file."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    output_format: str = typer.Option(
        "table", "--format", help=f"Output format: {', '.join(FORMATS)}."
    ),
) -> None:
    """Run a SPARQL query over all graphs of the store (default graph = union of named graphs)."""
    if (sparql is None) == (file is None):
        err_console.print("give exactly one of QUERY or --file FILE.rq")
        raise typer.Exit(code=ExitCode.USAGE)
    if output_format not in FORMATS:
        err_console.print(f"unknown --format {output_format!r}; use one of {', '.join(FORMATS)}")
        raise typer.Exit(code=ExitCode.USAGE)
    text = file.read_text() if file is not None else sparql
    assert text is not None
    db = open_store_or_exit(store, read_only=True)
    try:
        _print_query(db, text, output_format)
    except QueryError as exc:
        print_error(exc)
        raise typer.Exit(code=ExitCode.PARTIAL) from exc
    finally:
        db.close()
    raise typer.Exit(code=ExitCode.OK)
