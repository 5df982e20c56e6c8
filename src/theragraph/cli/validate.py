"""``theragraph validate``: SHACL-validate the whole store, or any RDF files against any shapes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from theragraph.cli.options import STORE_HELP, err_console, open_store_or_exit
from theragraph.report import ExitCode

app = typer.Typer()

_FORMATS = ("text", "json", "ttl")
_ENGINES = ("fast", "pyshacl")


@app.command("validate")
def validate_command(
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    data: list[Path] = typer.Option(
        None,
        "--data",
        help="Validate these RDF files instead of the store (repeat for more).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    shapes: list[Path] = typer.Option(
        None,
        "--shapes",
        help="Shapes files (repeat for more); default: every shapes/**/*.ttl of Theragraph.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
    engine: str = typer.Option(
        "fast",
        "--engine",
        help="fast (SHACL compiled to SPARQL, run in the store) or pyshacl (the reference).",
    ),
    output_format: str = typer.Option(
        "text",
        "--format",
        help="text (summary by shape and severity), json, or ttl (the sh:ValidationReport).",
    ),
) -> None:
    """Validate the store (or RDF files) against SHACL shapes; exit 1 when it does not conform."""
    from theragraph.validate.run import validate_files, validate_store
    from theragraph.validate.shapes import ShapesError

    # rdflib logs a traceback for every ill-typed literal; ill-typed literals are what we report.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)

    if output_format not in _FORMATS:
        err_console.print(f"--format must be one of {', '.join(_FORMATS)}")
        raise typer.Exit(code=ExitCode.USAGE)
    if engine not in _ENGINES:
        err_console.print(f"--engine must be one of {', '.join(_ENGINES)}")
        raise typer.Exit(code=ExitCode.USAGE)
    if data and store:
        err_console.print("give either --store or --data, not both")
        raise typer.Exit(code=ExitCode.USAGE)
    if data and not shapes:
        err_console.print("--data needs --shapes: the shapes graph to validate against")
        raise typer.Exit(code=ExitCode.USAGE)
    try:
        if data:
            report = validate_files(data, shapes, engine=engine)  # type: ignore[arg-type]
        else:
            # read-only when locked, so validation runs beside a running ingest or server
            db = open_store_or_exit(store, read_only=True)
            try:
                report = validate_store(db, shapes=shapes or None, engine=engine)  # type: ignore[arg-type]
            finally:
                db.close()
    except ShapesError as exc:
        err_console.print(
            f"[red]error[/red] \\[shacl.shapes] the shapes graph cannot be used: {exc}"
        )
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    except SyntaxError as exc:
        err_console.print(f"[red]error[/red] \\[read.syntax] an input file does not parse: {exc}")
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    for note in report.notes:
        err_console.print(f"note: {note}")
    if output_format == "ttl":
        sys.stdout.write(report.to_turtle())
    elif output_format == "json":
        sys.stdout.write(report.to_json() + "\n")
    else:
        sys.stdout.write(report.summary())
    sys.stdout.flush()
    raise typer.Exit(code=ExitCode.OK if report.conforms else ExitCode.PARTIAL)
