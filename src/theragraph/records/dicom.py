"""Plain records of DICOM headers after de-identification (no RDF, no pydicom objects).

Attribute values are hashable Python values so that a series can tell, per attribute, whether
all its instances agree: ``str``, ``int``, ``float``, ``date``, ``datetime``, ``time``, a
``tuple`` of those (multi-valued attributes) or a :data:`SequenceValue` (a tuple of items, each
a tuple of ``(keyword, value)`` pairs sorted by tag). Dates are already shifted and UIDs already
pseudonymised (``2.25.<n>``) when a record exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: One sequence: items, each item a tuple of (keyword, value) pairs.
SequenceValue: TypeAlias = tuple[tuple[tuple[str, Any], ...], ...]


@dataclass(frozen=True, slots=True)
class RecordIssue:
    """A problem found while reading one file (turned into a report Issue by the pipeline)."""

    code: str
    message: str
    severity: str = "warning"
    location: str | None = None


@dataclass(slots=True)
class InstanceRecord:
    """One de-identified DICOM instance (one file).

    Attributes:
        path: the file it was read from (for reports only; never stored in the graph).
        sop_instance_uid: pseudonymised SOPInstanceUID.
        series_uid: pseudonymised SeriesInstanceUID.
        study_uid: pseudonymised StudyInstanceUID.
        sop_class_uid: SOPClassUID (a well-known UID, not identifying).
        modality: Modality (``PT``, ``NM``, ``CT``, ``MR``, ``RTDOSE``, ``RTSTRUCT``, ``SEG``...).
        patient: patient pseudonym (``Pseudonymizer.patient(system, PatientID)``).
        attributes: de-identified attributes by DICOM keyword (private tags removed).
        checksum: SHA-256 hex digest of the file's bytes.
        source_series_uid: the ORIGINAL SeriesInstanceUID, only for grouping and for handing
            series to other handlers (``SeriesFiles``); never stored.
        suv_inputs: raw values the SUV derivation needs (read before de-identification,
            including private vendor tags); never stored.
        issues: warnings found while reading (bad values dropped, etc.).
    """

    path: str
    sop_instance_uid: str
    series_uid: str
    study_uid: str
    sop_class_uid: str
    modality: str
    patient: str
    attributes: dict[str, Any]
    checksum: str
    source_series_uid: str
    suv_inputs: Any | None = None
    issues: list[RecordIssue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """A file that could not be read as DICOM (becomes a skipped/failed outcome)."""

    path: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """A reference from one DICOM object to another, with pseudonymised UIDs.

    Attributes:
        relation: the ontology property local name (``referencesSeries``, ``referencesPlan``...).
        target: ``series``, ``instance`` or ``study``: which kind of IRI the UID names.
        uid: the pseudonymised UID of the target.
        source_instance: pseudonymised SOPInstanceUID of the referring instance.
    """

    relation: str
    target: str
    uid: str
    source_instance: str


@dataclass(frozen=True, slots=True)
class SuvFactors:
    """The SUV derivation's result for one series, in the shape the mapper stores.

    Attributes:
        suvbw_factor: SUVbw factor (g/ml per Bq/ml), None when not computable.
        rule: the QIBA rule branch used.
        reason: why SUV could not be computed (None when it could).
        code: stable issue code (``suv.missing-weight``...) when not computable.
        variants: other factors by name (``suvlbm_james``, ``suvlbm_janmahasatian``,
            ``suvbsa``, ``suvibw``).
    """

    suvbw_factor: float | None
    rule: str
    reason: str | None = None
    code: str | None = None
    variants: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class InstanceEntry:
    """One instance inside a series record: only the attributes that vary within the series."""

    sop_instance_uid: str
    varying: dict[str, Any]


@dataclass(slots=True)
class SeriesRecord:
    """One de-identified DICOM series.

    A 500-slice series holds its shared header once (``common``) and, per instance, only the
    attributes whose values differ between instances (``instances[i].varying``).

    Attributes:
        series_uid: pseudonymised SeriesInstanceUID.
        study_uid: pseudonymised StudyInstanceUID.
        modality: Modality.
        sop_class_uid: SOPClassUID of the first instance.
        patient: patient pseudonym.
        common: attributes all instances agree on (present in all with the same value).
        instances: per-instance entries, sorted by SOPInstanceUID.
        references: references to other objects (pseudonymised UIDs).
        checksum: SHA-256 hex over the sorted file checksums (not keyed yet).
        suv_inputs: per-instance SUV inputs (PET and BQML NM only); never stored.
        suv: the SUV result, set by the pipeline once computed.
        issues: reading warnings of all instances.
    """

    series_uid: str
    study_uid: str
    modality: str
    sop_class_uid: str
    patient: str
    common: dict[str, Any]
    instances: list[InstanceEntry]
    references: list[ObjectReference] = field(default_factory=list)
    checksum: str = ""
    suv_inputs: list[Any] = field(default_factory=list)
    suv: SuvFactors | None = None
    issues: list[RecordIssue] = field(default_factory=list)

    @property
    def instance_count(self) -> int:
        """Number of instances in the series."""
        return len(self.instances)
