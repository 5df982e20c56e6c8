"""``theragraph ingest``: DICOM, FHIR and dosimetry files into the store."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from theragraph.cli.options import STORE_HELP, err_console, open_store_or_exit, print_error
from theragraph.config import get_settings
from theragraph.errors import ConfigError
from theragraph.ids import Pseudonymizer
from theragraph.pipeline.ingest import IngestPipeline, iter_files
from theragraph.pipeline.sources import IngestContext
from theragraph.report import ExitCode, IngestReport

app = typer.Typer()


def print_summary(report: IngestReport) -> None:
    """Print the per-status counts and the first problems to stderr."""
    counts = report.status_counts()
    err_console.print(
        "ingest: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ingested", "unchanged", "skipped", "failed"))
        + f"; {report.graphs_written} graph(s), {report.quads_written} quad(s) written"
    )
    for outcome in report.failed[:20]:
        for issue in outcome.issues[:1]:
            err_console.print(
                f"  [yellow]{outcome.status}[/yellow] "
                + escape(f"{outcome.path}: [{issue.code}] {issue.message}")
            )
    if len(report.failed) > 20:
        err_console.print(f"  ... and {len(report.failed) - 20} more (see --report)")


#: ``--workers`` by default: more rarely pays on one disk, and each worker holds its own memory
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Return the CPUs this process may use, at most :data:`MAX_DEFAULT_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


@app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders to ingest."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    report_file: Path | None = typer.Option(
        None, "--report", help="Write the full ingest report as JSON to this file."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1,
        help="Processes reading DICOM files and FHIR NDJSON in parallel "
        f"(default: the CPUs this process may use, at most {MAX_DEFAULT_WORKERS}; small inputs use one).",
    ),
    on_invalid: str = typer.Option(
        "reject", "--on-invalid",
        help="What to do with a graph that violates the SHACL shapes: reject, quarantine or warn.",
    ),
    validate: bool = typer.Option(
        True, "--validate/--no-validate", help="Validate each graph against shapes/ before writing."
    ),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="Stop at the first error (debugging)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Ingest files (found by content, not by extension) into the store.

    Each DICOM series, FHIR resource and dosimetry report becomes one named graph, replaced
    atomically on re-ingest. Identifying data is pseudonymised with THERAGRAPH_SECRET first.
    Exit status: 0 all ingested, 1 some files skipped or failed, 2 usage error, 3 cannot start.
    """
    if on_invalid not in ("reject", "quarantine", "warn"):
        err_console.print("--on-invalid must be reject, quarantine or warn")
        raise typer.Exit(code=ExitCode.USAGE)
    settings = get_settings()
    try:
        secret = settings.secret_bytes()
    except ConfigError as exc:
        print_error(exc)
        raise typer.Exit(code=ExitCode.CANNOT_START) from exc
    db = open_store_or_exit(store)
    root = paths[0] if len(paths) == 1 and paths[0].is_dir() else Path.cwd()
    ctx = IngestContext(
        pseudonymizer=Pseudonymizer(secret),
        root=root,
        workers=workers if workers is not None else default_workers(),
        issuer_map=settings.issuer_map,
        default_issuer=settings.default_issuer,
        fail_fast=fail_fast,
    )
    validator = None
    if validate:
        from theragraph.validate.ingest import make_ingest_validator  # noqa: PLC0415

        validator = make_ingest_validator()
    pipeline = IngestPipeline(db, ctx, validator=validator, on_invalid=on_invalid)  # type: ignore[arg-type]
    files = iter_files(paths)  # listed once: for the progress bar and for the pipeline
    with Progress(
        TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, disable=not progress, transient=True,
    ) as bar:
        task = bar.add_task("files", total=len(files))
        report = pipeline.run(paths, progress=lambda n: bar.advance(task, n), files=files)
    db.close()
    if report_file is not None:
        report_file.write_text(report.model_dump_json(indent=2))
    print_summary(report)
    raise typer.Exit(code=report.exit_code())
