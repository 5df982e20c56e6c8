"""Choose and apply the realistic defects that ``--faults RATE`` asks for, and record each one.

Each patient independently gets one fault with probability ``RATE``; its kind is drawn uniformly
from :data:`FAULT_KINDS` on a random stream of its own, so turning faults on never changes the
clean data of other patients. Header faults are applied by the DICOM writer while writing;
file-level faults (truncation, junk) are applied here after writing; FHIR and dosimetry faults by
the generator. Every fault becomes one :class:`FaultRecord` in ``OUT/faults.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from theragraph.synth.seeding import STREAM_FAULTS, patient_rng

#: Fault kinds, with what each one does (also written into faults.json).
FAULT_KINDS: dict[str, str] = {
    "missing-weight": (
        "PatientWeight (0010,1030) removed from every file of the diagnostic PET series"
    ),
    "dose-in-mbq": (
        "RadionuclideTotalDose (0018,1074) of the diagnostic PET written in MBq instead of Bq"
    ),
    "injection-after-midnight": (
        "injection late in the evening, PET scan after midnight; only "
        "RadiopharmaceuticalStartTime is given (no StartDateTime)"
    ),
    "missing-injection-date": (
        "RadiopharmaceuticalStartDateTime (0018,1078) absent; only the start time"
    ),
    "series-time-rewritten": (
        "SeriesTime (0008,0031) of the diagnostic PET rewritten 47 min after the "
        "acquisition started (as after a re-reconstruction)"
    ),
    "truncated-file": "one PET file cut to 60 % of its bytes",
    "non-dicom-junk": "a text file with a .dcm extension in the patient's DICOM folder",
    "fhir-unknown-code-system": "a tumour-marker Observation coded in an unknown local code system",
    "dosimetry-missing-series": (
        "a dosimetry report time point cites a SeriesInstanceUID that does not exist"
    ),
    "duplicate-resource": (
        "the primary cancer Condition appears both in the Bundle (or NDJSON) and as a "
        "standalone file"
    ),
}
DICOM_HEADER_FAULTS = frozenset(
    {
        "missing-weight",
        "dose-in-mbq",
        "injection-after-midnight",
        "missing-injection-date",
        "series-time-rewritten",
    }
)
UNKNOWN_CODE_SYSTEM = "http://lab.synthetic-hospital.example/codes"


@dataclass(frozen=True)
class FaultRecord:
    """One injected defect: which patient, which kind, which file(s)."""

    patient_id: str
    kind: str
    source: str  # dicom, fhir or dosimetry
    paths: tuple[str, ...]
    detail: str

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form written to faults.json."""
        record = asdict(self)
        record["paths"] = list(self.paths)
        return record


def plan_faults(seed: int, index: int, rate: float) -> frozenset[str]:
    """Return the fault kinds of patient ``index`` (empty or one kind)."""
    if rate <= 0.0:
        return frozenset()
    rng = patient_rng(seed, index, STREAM_FAULTS)
    if rng.uniform() >= rate:
        return frozenset()
    kinds = sorted(FAULT_KINDS)
    return frozenset({kinds[int(rng.integers(len(kinds)))]})


def truncate_file(path: Path, *, keep: float = 0.6) -> None:
    """Cut ``path`` to ``keep`` of its size (a transfer that stopped half-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def write_junk(path: Path) -> None:
    """Write a non-DICOM file that a careless export leaves next to the images."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "Export log - PACS query/retrieve\nStatus: COMPLETED WITH WARNINGS\n"
        "This file is not a DICOM object.\n",
        encoding="utf-8",
    )
