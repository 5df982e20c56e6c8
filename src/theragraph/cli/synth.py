"""``theragraph synth``: write a synthetic theranostics cohort (DICOM, mCODE FHIR, dosimetry)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from theragraph.cli.options import err_console
from theragraph.report import ExitCode

app = typer.Typer()


@app.command("synth")
def synth_command(
    patients: int = typer.Option(20, "--patients", min=0, help="Number of patients to generate."),
    seed: int = typer.Option(
        ..., "--seed", help="Random seed; the same seed writes identical files."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output folder (dicom/, fhir/, fhir-bulk/, dosimetry/)."
    ),
    faults: float = typer.Option(
        0.0,
        "--faults",
        min=0.0,
        max=1.0,
        help="Share of patients with one injected defect, recorded in OUT/faults.json.",
    ),
    truth: bool = typer.Option(
        False,
        "--truth",
        help="Also write OUT/truth.csv with per-patient ground-truth probabilities.",
    ),
    ndjson_share: float = typer.Option(
        0.1,
        "--ndjson-share",
        min=0.0,
        max=1.0,
        help="Share of patients exported as FHIR bulk NDJSON instead of a Bundle.",
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace a cohort already in OUT (only the generator's own files).",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Processes writing patients in parallel (same output for any value).",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Generate a synthetic cohort with a known outcome mechanism (see docs/synthetic-cohort.md).

    Writes, per patient, a diagnostic PSMA- or SSTR-PET/CT, post-therapy Lu-177 SPECT and an
    RTSTRUCT per cycle, an mCODE Bundle and one dosimetry report per cycle, all fictitious.
    Exit status: 0 written, 2 usage error or OUT already holds a cohort.
    """
    from theragraph.synth.generate import generate_cohort  # noqa: PLC0415

    with Progress(
        TextColumn("synth"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task("patients", total=patients)
        try:
            summary = generate_cohort(
                out,
                patients=patients,
                seed=seed,
                fault_rate=faults,
                truth=truth,
                ndjson_share=ndjson_share,
                overwrite=overwrite,
                workers=workers,
                progress=lambda n: bar.advance(task, n),
            )
        except FileExistsError as exc:
            err_console.print(f"[red]error[/red] [synth.output-exists] {exc}")
            raise typer.Exit(code=ExitCode.USAGE) from exc
    err_console.print(
        f"synth: {summary.patients} patient(s), {summary.files} file(s), "
        f"{summary.bytes / 1e6:.1f} MB, {len(summary.faults)} fault(s) -> {out}"
    )
    raise typer.Exit(code=ExitCode.OK)
