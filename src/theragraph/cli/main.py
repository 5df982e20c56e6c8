"""The root ``theragraph`` command: global options and the verb modules."""

from __future__ import annotations

import logging
import sys

import typer

from theragraph import __version__
from theragraph.cli import dicom, dump, ingest, query, serve, synth, token
from theragraph.cli import validate as validate_cli

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
app.add_typer(dicom.app, name="dicom", help="DICOM diagnostics for users checking their own files.")
app.add_typer(synth.app)
app.add_typer(validate_cli.app)
app.add_typer(serve.app)
app.add_typer(token.app, name="token", help="Issue, list and revoke API tokens.")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log to whatever ``sys.stderr`` is at emit time (test runners swap and close it)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: D102
        pass


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
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root_logger = logging.getLogger()
    root_logger.handlers = [h for h in root_logger.handlers if not isinstance(h, _StderrHandler)]
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG if verbose else logging.WARNING)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # `python -m theragraph.cli.main` (used by subprocess tests)
    main()
