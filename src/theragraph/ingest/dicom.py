"""Read one DICOM file into a de-identified :class:`InstanceRecord` (design §1, §4).

Files are recognised by content (the ``DICM`` magic, or a plausible first data element for
files written without preamble and File Meta). Headers are read with pydicom up to the pixel
data. The SUV inputs (including private vendor tags) are read *before* de-identification,
through a callback, and are never stored. Every failure becomes a :class:`ReadFailure` with a
stable code; this module never raises for bad input and never imports rdflib or pyoxigraph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import io
import logging
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.errors import InvalidDicomError

from theragraph.ingest.deid import Deidentifier, raw_text
from theragraph.records.dicom import (
    InstanceEntry,
    InstanceRecord,
    ReadFailure,
    RecordIssue,
    SeriesRecord,
)

if TYPE_CHECKING:  # the object is passed in; importing ids would pull in rdflib
    from theragraph.ids import Pseudonymizer

log = logging.getLogger(__name__)

#: Explicit VRs a first data element may carry (PS3.5 6.2).
_VRS = frozenset(
    b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)
#: Groups a DICOM data set without File Meta plausibly starts with.
_FIRST_GROUPS = frozenset({0x0000, 0x0002, 0x0004, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028})

SuvReader = Callable[[pydicom.Dataset], Any]


def is_dicom_head(head: bytes) -> bool:
    """Return True when the first bytes of a file look like DICOM.

    Accepts the Part 10 preamble + ``DICM`` magic, and data sets written without preamble
    (explicit or implicit VR little endian, first tag in a low group).
    """
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    if head[:4] == b"DICM":
        return True
    group, element = struct.unpack_from("<HH", head, 0)
    if group not in _FIRST_GROUPS or element > 0x0100:
        return False
    if head[4:6] in _VRS:
        return True
    (length,) = struct.unpack_from("<I", head, 4)
    return length < 0x10000 and (element == 0 and length == 4 or length < 1024)


@dataclass(frozen=True, slots=True)
class ReaderContext:
    """What a reader process needs (picklable, sent once to each worker).

    Attributes:
        pseudonymizer: keyed pseudonymizer (patients, UIDs, date shifts).
        issuer_map: DICOM IssuerOfPatientID -> identifier system.
        default_issuer: system used when a file has no IssuerOfPatientID.
    """

    pseudonymizer: Pseudonymizer
    issuer_map: dict[str, str] = field(default_factory=dict)
    default_issuer: str = "urn:theragraph:default-issuer"

    def issuer_system(self, issuer: str | None) -> str:
        """Map a DICOM IssuerOfPatientID to its identifier system (as IngestContext does)."""
        if issuer and issuer in self.issuer_map:
            return self.issuer_map[issuer]
        return issuer or self.default_issuer


def _text(ds: pydicom.Dataset, keyword: str) -> str:
    return raw_text(ds, keyword)


def needs_suv_inputs(ds: pydicom.Dataset) -> bool:
    """Return True for PET instances and NM instances with Units BQML (quantitative SPECT)."""
    modality = _text(ds, "Modality").upper()
    return modality == "PT" or (modality == "NM" and _text(ds, "Units").upper() == "BQML")


def read_instance(
    path: Path | str, ctx: ReaderContext, *, suv_reader: SuvReader | None = None
) -> InstanceRecord | ReadFailure:
    """Read, check and de-identify one file.

    Args:
        path: the file.
        ctx: pseudonymizer and issuer map.
        suv_reader: called on the raw dataset of PET / BQML NM instances before
            de-identification; its result is kept in the record, never stored.

    Returns:
        The de-identified record, or a failure with code ``read.unreadable``,
        ``read.not-dicom``, ``read.corrupt`` or ``read.missing-attribute``.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return ReadFailure(name, "read.unreadable", f"cannot read file: {exc.strerror}")
    checksum = hashlib.sha256(data).hexdigest()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
        except InvalidDicomError:
            return ReadFailure(name, "read.not-dicom", "not a DICOM file")
        except Exception as exc:  # noqa: BLE001 - pydicom raises many types on broken files
            log.debug("pydicom failed on %s: %r", name, exc)
            return ReadFailure(
                name, "read.corrupt",
                f"file is truncated or corrupt ({type(exc).__name__}); re-export it from the source",
            )
        try:
            record = _to_record(name, ds, checksum, ctx, suv_reader)
        except Exception as exc:  # noqa: BLE001 - half-valid data: report, never crash the batch
            log.debug("cannot interpret %s: %r", name, exc, exc_info=True)
            return ReadFailure(
                name, "read.corrupt",
                f"DICOM data set cannot be interpreted ({type(exc).__name__})",
            )
    if isinstance(record, InstanceRecord) and caught:
        # pydicom's own warnings may quote values (names...): report only that they happened.
        record.issues.append(RecordIssue(
            code="read.nonconforming",
            message=f"{len(caught)} non-conformance warning(s) from the DICOM parser",
        ))
    return record


def _to_record(
    name: str, ds: pydicom.Dataset, checksum: str, ctx: ReaderContext, suv_reader: SuvReader | None
) -> InstanceRecord | ReadFailure:
    if len(ds) == 0 and not getattr(ds, "file_meta", None):
        return ReadFailure(name, "read.not-dicom", "no DICOM data elements found")
    sop_instance = _text(ds, "SOPInstanceUID")
    series = _text(ds, "SeriesInstanceUID")
    study = _text(ds, "StudyInstanceUID")
    missing = [k for k, v in (("SOPInstanceUID", sop_instance), ("SeriesInstanceUID", series),
                              ("StudyInstanceUID", study)) if not v]
    if missing:
        if not any(_text(ds, k) for k in ("SOPClassUID", "Modality", "PatientID")) and not getattr(
            ds, "file_meta", None
        ):
            return ReadFailure(name, "read.not-dicom", "no DICOM identifying attributes found")
        return ReadFailure(
            name, "read.missing-attribute",
            f"required attribute(s) missing: {', '.join(missing)} (not a composite instance?)",
        )
    issues: list[RecordIssue] = []
    patient_id = _text(ds, "PatientID")
    system = ctx.issuer_system(_text(ds, "IssuerOfPatientID") or None)
    pseudo = ctx.pseudonymizer
    if patient_id:
        patient = pseudo.patient(system, patient_id)
    else:
        # Without PatientID a study stands alone: one pseudonymous patient per study.
        patient = pseudo.patient("urn:theragraph:no-patient-id", study)
        issues.append(RecordIssue(
            code="read.missing-attribute", location="PatientID (0010,0020)",
            message="PatientID missing: the study gets its own pseudonymous patient",
        ))
    suv_inputs = None
    if suv_reader is not None and needs_suv_inputs(ds):
        try:
            suv_inputs = suv_reader(ds)
        except Exception as exc:  # noqa: BLE001 - SUV inputs are optional: warn, keep the file
            log.debug("SUV inputs unreadable in %s: %r", name, exc)
            issues.append(RecordIssue(code="suv.inputs-unreadable", message="SUV inputs unreadable"))
    result = _deidentifier(pseudo, patient).deidentify(ds)
    issues.extend(result.issues)
    sop_class = _text(ds, "SOPClassUID") or _text(getattr(ds, "file_meta", pydicom.Dataset()),
                                                   "MediaStorageSOPClassUID")
    return InstanceRecord(
        path=name,
        sop_instance_uid=pseudo.uid(sop_instance),
        series_uid=pseudo.uid(series),
        study_uid=pseudo.uid(study),
        sop_class_uid=sop_class,
        modality=_text(ds, "Modality").upper() or "OT",
        patient=patient,
        attributes=result.attributes,
        checksum=checksum,
        source_series_uid=series,
        suv_inputs=suv_inputs,
        issues=issues,
    )


#: Recently used de-identifiers by patient pseudonym (their memo spans a patient's series).
_DEIDENTIFIERS: dict[str, tuple[Pseudonymizer, Deidentifier]] = {}
_DEIDENTIFIERS_KEPT = 8


def _deidentifier(pseudo: Pseudonymizer, patient: str) -> Deidentifier:
    """Return the de-identifier of ``patient``, reusing the last few (files come by series)."""
    entry = _DEIDENTIFIERS.get(patient)
    if entry is not None and entry[0] is pseudo:
        return entry[1]
    if len(_DEIDENTIFIERS) >= _DEIDENTIFIERS_KEPT:
        _DEIDENTIFIERS.clear()
    deid = Deidentifier(pseudo, patient)
    _DEIDENTIFIERS[patient] = (pseudo, deid)
    return deid


_MISSING = object()


def to_series_record(instances: list[InstanceRecord]) -> SeriesRecord:
    """Fold the instances of one series into a :class:`SeriesRecord`.

    Attributes present with the same value in every instance go to ``common`` once; the rest
    stay per instance. The series checksum is the SHA-256 of the sorted file checksums, so it
    does not depend on file names or order.

    Raises:
        ValueError: when ``instances`` is empty.
    """
    if not instances:
        raise ValueError("a series needs at least one instance")
    ordered = sorted(instances, key=lambda r: r.sop_instance_uid)
    first = ordered[0].attributes
    rest = [r.attributes for r in ordered[1:]]
    try:  # values are hashable (de-identification returns tuples): intersect the items in C
        shared = set(first.items()).intersection(*(a.items() for a in rest))
        common = {k: v for k, v in first.items() if (k, v) in shared}
    except TypeError:
        common = {k: v for k, v in first.items() if all(a.get(k, _MISSING) == v for a in rest)}
    entries: list[InstanceEntry] = []
    seen: set[str] = set()
    for record in ordered:
        if record.sop_instance_uid in seen:
            continue  # the same instance twice (copies of a file): one node
        seen.add(record.sop_instance_uid)
        varying = {k: v for k, v in record.attributes.items() if k not in common}
        entries.append(InstanceEntry(record.sop_instance_uid, varying))
    digest = hashlib.sha256("\n".join(sorted(r.checksum for r in ordered)).encode()).hexdigest()
    head = ordered[0]
    issues: list[RecordIssue] = []
    for record in ordered:
        issues.extend(record.issues)
    return SeriesRecord(
        series_uid=head.series_uid,
        study_uid=head.study_uid,
        modality=head.modality,
        sop_class_uid=head.sop_class_uid,
        patient=head.patient,
        common=common,
        instances=entries,
        checksum=digest,
        suv_inputs=[r.suv_inputs for r in ordered if r.suv_inputs is not None],
        issues=issues,
    )
