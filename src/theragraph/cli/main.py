"""The root ``theragraph`` command: global options and the verb modules."""

from __future__ import annotations

import logging

import typer

from theragraph import __version__
from theragraph.cli import dump, ingest, query
from theragraph.cli import serve, token

app = typer.Typer(
    name="theragraph",
    help="Map DICOM, mCODE/FHIR and dosimetry data into one validated, queryable RDF graph.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold PHI or the secret
    add_completion=False,
)
app.add_typer(ingest.app)
app.add_typer(query.app)
app.add_typer(dump.app)
app.add_typer(serve.app)
app.add_typer(token.app, name="token", help="Issue, list and revoke API tokens.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"theragraph {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages to stderr."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Theragraph: the semantic layer for precision oncology and theranostics."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
