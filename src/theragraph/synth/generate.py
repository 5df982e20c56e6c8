"""Write a whole synthetic cohort to disk, one patient at a time (bounded memory).

Layout of ``OUT``::

    dicom/<PatientID>/<StudyDate>_<Accession>/<SeriesNumber>_<Modality>/<n>.dcm
    fhir/<PatientID>.json              one mCODE Bundle (type collection) per patient
    fhir-bulk/<ResourceType>.ndjson    bulk-export files for a share of the patients
    dosimetry/DOS-<PatientID>-C<n>.json one report per therapy cycle
    issuer-map.json                    DICOM IssuerOfPatientID -> FHIR identifier system
    faults.json                        every injected defect (with --faults)
    truth.csv                          per-patient ground truth (with --truth)
    cohort.json                        seed, size and parameter version of the run

Nothing in a file depends on the wall clock, the process or the order of dict insertion by
other patients, so the same seed writes byte-identical files.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from theragraph.synth.cohort import SyntheticPatient, draw_patient
from theragraph.synth.dicom_writer import WrittenSeries, write_patient_dicom
from theragraph.synth.dosimetry_writer import build_report, report_id
from theragraph.synth.faults import (
    DICOM_HEADER_FAULTS,
    FAULT_KINDS,
    UNKNOWN_CODE_SYSTEM,
    FaultRecord,
    plan_faults,
    truncate_file,
    write_junk,
)
from theragraph.synth.fhir_writer import build_bundle, build_resources, resource_id
from theragraph.synth.identity import ISSUER_OF_PATIENT_ID, PATIENT_IDENTIFIER_SYSTEM
from theragraph.synth.params import load_parameters, parameters_version
from theragraph.synth.seeding import derive_int, derive_uid

GENERATOR_VERSION = "1.0"
#: What the generator writes at the top of OUT (``--overwrite`` removes exactly these).
OUTPUTS = (
    "dicom",
    "fhir",
    "fhir-bulk",
    "dosimetry",
    "issuer-map.json",
    "faults.json",
    "truth.csv",
    "cohort.json",
)
TRUTH_COLUMNS = (
    "patient_id",
    "identifier_system",
    "setting",
    "response_name",
    "response_probability",
    "response",
    "pfs_log_hazard",
    "pfs_months",
    "pfs_event",
    "os_log_hazard",
    "os_months",
    "os_event",
    "toxicity_grade",
    "toxicity_grade3plus_probability",
    "min_lesion_dose_gy",
    "mean_lesion_dose_gy",
    "suv_mean",
    "n_lesions",
    "n_cycles",
    "ecog",
    "age_years",
    "therapy_start",
    "faults",
)


@dataclass
class CohortSummary:
    """What one run wrote."""

    out: Path
    patients: int = 0
    files: int = 0
    bytes: int = 0
    faults: list[FaultRecord] = field(default_factory=list)


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def _write_text(path: Path, text: str, summary: CohortSummary) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    summary.files += 1
    summary.bytes += len(data)
    return path


def _is_ndjson_patient(seed: int, index: int, share: float) -> bool:
    return derive_int(seed, index, "ndjson", modulo=1_000_000) < int(share * 1_000_000)


def _truth_row(patient: SyntheticPatient, faults: frozenset[str]) -> list[Any]:
    o, f = patient.outcome, patient.features
    setting = load_parameters()["settings"][patient.setting]

    def num(value: float) -> str:
        return f"{value:.6g}"

    return [
        patient.person.mrn,
        PATIENT_IDENTIFIER_SYSTEM,
        patient.setting,
        setting["outcome"]["response_name"],
        num(o.response_probability),
        int(o.response),
        num(o.pfs_log_hazard),
        num(o.pfs_months),
        int(o.pfs_event),
        num(o.os_log_hazard),
        num(o.os_months),
        int(o.os_event),
        o.toxicity_grade,
        num(o.toxicity_grade3plus_probability),
        num(f.min_lesion_dose_gy),
        num(f.mean_lesion_dose_gy),
        num(f.suv_mean),
        len(patient.lesions),
        len(patient.cycles),
        patient.ecog,
        num(patient.age_years),
        patient.therapy_start.isoformat(),
        ";".join(sorted(faults)),
    ]


def prepare_output(out: Path, *, overwrite: bool) -> None:
    """Create ``out``; refuse to mix with an earlier run unless ``overwrite``.

    Raises:
        FileExistsError: when ``out`` already holds generator output and ``overwrite`` is false.
    """
    out.mkdir(parents=True, exist_ok=True)
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out} already holds a cohort ({', '.join(existing)}); choose an empty folder or "
            "pass --overwrite to replace it"
        )
    for name in existing:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()


def generate_cohort(
    out: Path,
    *,
    patients: int,
    seed: int,
    fault_rate: float = 0.0,
    truth: bool = False,
    ndjson_share: float = 0.1,
    overwrite: bool = False,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> CohortSummary:
    """Write ``patients`` synthetic patients under ``out`` and return what was written.

    Args:
        out: the output folder (created; must not hold an earlier cohort unless ``overwrite``).
        patients: cohort size.
        seed: the seed; the same seed writes byte-identical files.
        fault_rate: probability that a patient gets one injected defect (0 = clean data).
        truth: also write ``truth.csv`` with the per-patient ground truth.
        ndjson_share: share of patients written as FHIR bulk-export NDJSON instead of a Bundle.
        overwrite: replace an earlier cohort in ``out``.
        workers: processes writing patients in parallel (the output does not depend on it).
        progress: called with 1 after each patient.

    Raises:
        FileExistsError: see :func:`prepare_output`.
        ValueError: for a negative size or a rate outside [0, 1].
    """
    if patients < 0:
        raise ValueError("patients must be >= 0")
    if not 0.0 <= fault_rate <= 1.0 or not 0.0 <= ndjson_share <= 1.0:
        raise ValueError("--faults and --ndjson-share must lie in [0, 1]")
    prepare_output(out, overwrite=overwrite)
    summary = CohortSummary(out=out)
    _write_text(
        out / "issuer-map.json", _dump({ISSUER_OF_PATIENT_ID: PATIENT_IDENTIFIER_SYSTEM}), summary
    )
    _write_text(
        out / "cohort.json",
        _dump(
            {
                "generator": "theragraph synth",
                "generator_version": GENERATOR_VERSION,
                "parameters_version": parameters_version(),
                "seed": seed,
                "patients": patients,
                "fault_rate": fault_rate,
                "ndjson_share": ndjson_share,
                "issuer_of_patient_id": ISSUER_OF_PATIENT_ID,
                "patient_identifier_system": PATIENT_IDENTIFIER_SYSTEM,
            }
        ),
        summary,
    )
    jobs = ((seed, index, out, fault_rate, ndjson_share) for index in range(patients))
    with ExitStack() as stack:
        bulk: dict[str, IO[str]] = {}
        truth_writer = None
        if truth:
            handle = stack.enter_context(
                (out / "truth.csv").open("w", newline="", encoding="utf-8")
            )
            truth_writer = csv.writer(handle, lineterminator="\n")
            truth_writer.writerow(TRUTH_COLUMNS)
        if workers > 1:
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(workers))
            results: Iterator[PatientResult] = pool.imap(run_patient_job, jobs, chunksize=4)
        else:
            results = map(run_patient_job, jobs)
        # Results arrive in patient order whatever the number of workers, so the shared files
        # (NDJSON, truth.csv, faults.json) are identical for any --workers.
        for result in results:
            for kind, line in result.ndjson:
                if kind not in bulk:
                    path = out / "fhir-bulk" / f"{kind}.ndjson"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    bulk[kind] = stack.enter_context(path.open("w", encoding="utf-8", newline="\n"))
                    summary.files += 1
                bulk[kind].write(line)
                summary.bytes += len(line.encode("utf-8"))
            if truth_writer is not None:
                truth_writer.writerow(result.truth_row)
            summary.faults.extend(result.faults)
            summary.files += result.files
            summary.bytes += result.bytes
            summary.patients += 1
            if progress is not None:
                progress(1)
    if truth:
        summary.files += 1
        summary.bytes += (out / "truth.csv").stat().st_size
    if fault_rate > 0:
        _write_text(
            out / "faults.json",
            _dump(
                {
                    "fault_rate": fault_rate,
                    "kinds": FAULT_KINDS,
                    "faults": [record.to_json() for record in summary.faults],
                }
            ),
            summary,
        )
    return summary


@dataclass(frozen=True)
class PatientResult:
    """What one patient job reports back to the process that owns the shared files."""

    ndjson: list[tuple[str, str]]
    truth_row: list[Any]
    faults: list[FaultRecord]
    files: int
    bytes: int


def run_patient_job(job: tuple[int, int, Path, float, float]) -> PatientResult:
    """Draw and write one patient (runs in a worker process when --workers > 1).

    Args:
        job: ``(seed, index, out, fault_rate, ndjson_share)``.
    """
    seed, index, out, fault_rate, ndjson_share = job
    faults = plan_faults(seed, index, fault_rate)
    patient = draw_patient(seed, index)
    counts = CohortSummary(out=out)
    lines: list[tuple[str, str]] = []

    def collect(resource: dict[str, Any]) -> None:
        lines.append(
            (
                resource["resourceType"],
                json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n",
            )
        )

    records = write_patient(
        patient,
        out,
        faults=faults,
        summary=counts,
        as_ndjson=_is_ndjson_patient(seed, index, ndjson_share),
        write_ndjson=collect,
    )
    return PatientResult(lines, _truth_row(patient, faults), records, counts.files, counts.bytes)


def _relative(path: Path, out: Path) -> str:
    return path.relative_to(out).as_posix()


def write_patient(
    patient: SyntheticPatient,
    out: Path,
    *,
    faults: frozenset[str],
    summary: CohortSummary,
    as_ndjson: bool,
    write_ndjson: Callable[[dict[str, Any]], None],
) -> list[FaultRecord]:
    """Write every file of one patient and apply its faults; return the fault records."""
    mrn = patient.person.mrn
    records: list[FaultRecord] = []
    series = write_patient_dicom(patient, out / "dicom", faults=faults & DICOM_HEADER_FAULTS)
    for item in series:
        summary.files += len(item.files)
        summary.bytes += sum(path.stat().st_size for path in item.files)
    pet = next(s for s in series if s.plan.kind == "pet")
    for kind in sorted(faults & DICOM_HEADER_FAULTS):
        records.append(
            FaultRecord(
                mrn, kind, "dicom", tuple(_relative(p, out) for p in pet.files), FAULT_KINDS[kind]
            )
        )
    if "truncated-file" in faults:
        target = pet.files[0]
        before = target.stat().st_size
        truncate_file(target)
        summary.bytes -= before - target.stat().st_size
        records.append(
            FaultRecord(
                mrn,
                "truncated-file",
                "dicom",
                (_relative(target, out),),
                FAULT_KINDS["truncated-file"],
            )
        )
    if "non-dicom-junk" in faults:
        junk = out / "dicom" / mrn / "export-log.dcm"
        write_junk(junk)
        summary.files += 1
        summary.bytes += junk.stat().st_size
        records.append(
            FaultRecord(
                mrn,
                "non-dicom-junk",
                "dicom",
                (_relative(junk, out),),
                FAULT_KINDS["non-dicom-junk"],
            )
        )

    resources = build_resources(patient, series)
    if "fhir-unknown-code-system" in faults:
        marker = next(
            r for r in resources if r["id"].endswith(("-psa-baseline", "-chromogranin-baseline"))
        )
        marker["code"]["coding"] = [
            {
                "system": UNKNOWN_CODE_SYSTEM,
                "code": "TM-0042",
                "display": "tumour marker (local code)",
            }
        ]
    if as_ndjson:
        for resource in resources:
            write_ndjson(resource)
        fhir_paths: tuple[str, ...] = ("fhir-bulk",)
    else:
        path = _write_text(
            out / "fhir" / f"{mrn}.json", _dump(build_bundle(patient, resources)), summary
        )
        fhir_paths = (_relative(path, out),)
    if "fhir-unknown-code-system" in faults:
        marker_path = "fhir-bulk/Observation.ndjson" if as_ndjson else fhir_paths[0]
        records.append(
            FaultRecord(
                mrn,
                "fhir-unknown-code-system",
                "fhir",
                (marker_path,),
                f"{FAULT_KINDS['fhir-unknown-code-system']}: Observation/{marker['id']}",
            )
        )
    if "duplicate-resource" in faults:
        condition = next(r for r in resources if r["id"] == resource_id(patient, "primary-cancer"))
        copy = _write_text(out / "fhir" / f"{mrn}-Condition.json", _dump(condition), summary)
        source = "fhir-bulk/Condition.ndjson" if as_ndjson else f"fhir/{mrn}.json"
        records.append(
            FaultRecord(
                mrn,
                "duplicate-resource",
                "fhir",
                (source, _relative(copy, out)),
                f"{FAULT_KINDS['duplicate-resource']}: Condition/{condition['id']}",
            )
        )

    spect_by_cycle: dict[int, list[WrittenSeries]] = {}
    rtstruct_by_cycle: dict[int, WrittenSeries] = {}
    for item in series:
        if item.plan.kind == "spect":
            spect_by_cycle.setdefault(item.study.cycle, []).append(item)
        elif item.plan.kind == "rtstruct":
            rtstruct_by_cycle[item.study.cycle] = item
    for cycle in patient.cycles:
        missing = None
        if "dosimetry-missing-series" in faults and cycle.number == 1:
            missing = derive_uid(patient.seed, patient.index, "missing-series")
        report = build_report(
            patient,
            cycle,
            spect_by_cycle[cycle.number],
            rtstruct_by_cycle[cycle.number],
            missing_series_uid=missing,
        )
        path = _write_text(
            out / "dosimetry" / f"{report_id(patient, cycle.number)}.json", _dump(report), summary
        )
        if missing is not None:
            records.append(
                FaultRecord(
                    mrn,
                    "dosimetry-missing-series",
                    "dosimetry",
                    (_relative(path, out),),
                    f"{FAULT_KINDS['dosimetry-missing-series']}: {missing}",
                )
            )
    return records
