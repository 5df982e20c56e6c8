"""``theragraph dicom``: diagnostics for users checking their own DICOM files (local only)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from theragraph.cli.options import err_console
from theragraph.derive.suv import SuvResult, compute_suv
from theragraph.ingest.suv_inputs import SuvSeriesInputs, collect_series
from theragraph.pipeline.ingest import iter_files
from theragraph.report import ExitCode

app = typer.Typer(no_args_is_help=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def series_summary(series: SuvSeriesInputs, result: SuvResult) -> dict[str, Any]:
    """Return the JSON object printed for one series (original UIDs: local diagnostics only)."""
    return {
        "series_instance_uid": series.series_instance_uid,
        "modality": series.modality,
        "n_instances": len(series.instances),
        "units": result.units,
        "suvbw_factor": result.suvbw_factor,
        "rule": result.rule,
        "time_rule": result.time_rule,
        "reason": result.reason,
        "code": result.code,
        "variants": result.variants,
        "series_wide": result.series_wide,
        "rescale_slope_varies": result.rescale_slope_varies,
        "reference_time": _iso(result.reference_time),
        "injection_time": _iso(result.injection_time),
        "decay_time_s": result.decay_time_s,
        "injected_dose_bq": result.injected_dose_bq,
        "decayed_dose_bq": result.decayed_dose_bq,
        "half_life_s": result.half_life_s,
        "half_life_source": result.half_life_source,
        "weight_kg": result.weight_kg,
        "notes": list(result.notes),
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="SUV per series")
    table.add_column("series", overflow="fold")
    for column in ("modality", "n", "units", "SUVbw factor"):
        table.add_column(column, no_wrap=True)
    table.add_column("rule", no_wrap=True, min_width=max((len(r["rule"]) for r in rows), default=4))
    table.add_column("reason", overflow="fold")
    for row in rows:
        factor = row["suvbw_factor"]
        table.add_row(
            escape(str(row["series_instance_uid"])),
            str(row["modality"] or ""),
            str(row["n_instances"]),
            str(row["units"] or ""),
            f"{factor:.6g}" if factor is not None else "-",
            row["rule"],
            escape(f"[{row['code']}] {row['reason']}") if row["code"] else "",
        )
    Console().print(table)


@app.command("suv")
def suv_command(
    paths: list[Path] = typer.Argument(..., exists=True, help="DICOM files or folders (walked)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per series."),
) -> None:
    """Compute the SUV factors of each PET/quantitative SPECT series in local DICOM files.

    Files are recognised by content and grouped by SeriesInstanceUID. Exit code 0 when every
    PET/SPECT series got a factor, 1 when some could not (or none was found).
    """
    series, skipped = collect_series(iter_files(paths))
    rows: list[dict[str, Any]] = []
    failed = 0
    attempted = 0
    for entry in series:
        result = compute_suv(entry.instances)
        rows.append(series_summary(entry, result))
        if result.code == "suv.not-pet":
            continue  # CT, MR, ... in the same folder are listed but are not failures
        attempted += 1
        if not result.is_computed:
            failed += 1
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    if skipped:
        err_console.print(f"dicom suv: {len(skipped)} file(s) skipped (not DICOM or unreadable)")
    if attempted == 0:
        err_console.print("dicom suv: no PET or quantitative SPECT series found")
        raise typer.Exit(code=ExitCode.PARTIAL)
    raise typer.Exit(code=ExitCode.PARTIAL if failed else ExitCode.OK)
