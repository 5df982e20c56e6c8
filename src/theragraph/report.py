"""Ingest and command reports: issues with stable codes, per-file outcomes, exit codes.

Reports are pydantic models so they serialise to JSON for ``--report FILE`` and can be returned
by the API unchanged. Library callers use :meth:`IngestReport.raise_for_errors`.
"""

from __future__ import annotations

from collections import Counter
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, Field

from theragraph.errors import InputError

# Stable issue codes. Tests assert on these, never on message wording.
CODES: dict[str, str] = {
    "read.not-dicom": "file is not DICOM (no DICM preamble and not parseable as DICOM)",
    "read.corrupt": "file is truncated or corrupt",
    "read.invalid-json": "file is not valid JSON / NDJSON",
    "read.unknown-format": "file content matches no supported source format",
    "read.missing-attribute": "a required DICOM attribute or FHIR element is missing",
    "read.invalid-resource": "a FHIR resource fails R4 validation",
    "read.unknown-resource-type": "a FHIR resourceType is not known to FHIR R4",
    "read.schema": "a dosimetry report fails its JSON Schema",
    "deid.private-dropped": "private tags were dropped",
    "suv.not-pet": "series is not PET (or quantitative SPECT stored with Units BQML)",
    "suv.missing-weight": "PatientWeight missing or zero",
    "suv.missing-dose": "RadionuclideTotalDose missing or zero",
    "suv.missing-time": "injection or reference time cannot be determined",
    "suv.missing-half-life": "radionuclide half-life unknown",
    "suv.not-corrected": "CorrectedImage lacks ATTN or DECY",
    "suv.unsupported-units": "Units value has no SUV rule",
    "suv.missing-body-size": "PatientSize or PatientSex missing, needed to convert an SUVType back to SUVbw",
    "suv.injection-after-scan": "the injection time is after the scan reference time",
    "suv.invalid-value": "a value SUV depends on is out of range (e.g. times decades apart)",
    "suv.ambiguous-injection-date": "the injection date is missing or implausible and cannot be rebuilt (long half-life)",
    "map.unmapped-code": "a code has no mapping to an ontology term",
    "map.unmapped-element": "a source element has no mapping",
    "map.invalid-value": "a value does not fit the mapped datatype or unit",
    "link.dangling-reference": "a reference points to a record not in the store or batch",
    "link.duplicate-source": "two source files in one batch describe the same record (graph)",
    "link.identifier-collision": "two FHIR Patient resources share the identifier that names them",
    "deid.dates-dropped": "dates of a FHIR resource naming no resolvable patient were dropped",
    "shacl.violation": "the graph violates a SHACL shape",
    "shacl.class": "a value is not an instance of the class a shape requires (sh:class)",
    "shacl.datatype": "a value is not a well-formed literal of the required datatype",
    "shacl.node-kind": "a value is not the required kind of node (IRI, blank node, literal)",
    "shacl.min-count": "a required property is missing or has too few values",
    "shacl.max-count": "a property has more values than allowed",
    "shacl.min-exclusive": "a value is at or below the allowed minimum",
    "shacl.min-inclusive": "a value is below the allowed minimum",
    "shacl.max-exclusive": "a value is at or above the allowed maximum",
    "shacl.max-inclusive": "a value is above the allowed maximum",
    "shacl.min-length": "a value is shorter than allowed",
    "shacl.max-length": "a value is longer than allowed",
    "shacl.pattern": "a value does not match the required pattern",
    "shacl.language-in": "a value's language tag is not among the allowed ones",
    "shacl.unique-lang": "two values share a language tag",
    "shacl.equals": "the values of two properties differ where they must be equal",
    "shacl.disjoint": "two properties share a value where they must be disjoint",
    "shacl.less-than": "a value is not less than the value it is compared with",
    "shacl.less-than-or-equals": "a value is greater than the value it is compared with",
    "shacl.not": "a value conforms to a shape it must not conform to",
    "shacl.and": "a value does not conform to all the shapes required",
    "shacl.or": "a value conforms to none of the alternative shapes",
    "shacl.xone": "a value does not conform to exactly one of the alternative shapes",
    "shacl.node": "a value does not conform to the nested shape",
    "shacl.qualified-min-count": "too few values conform to the qualified shape",
    "shacl.qualified-max-count": "too many values conform to the qualified shape",
    "shacl.closed": "a node has a property the closed shape does not allow",
    "shacl.has-value": "a required value is missing",
    "shacl.in": "a value is not in the allowed value set",
    "shacl.sparql": "a SPARQL-based constraint found a problem",
    "shacl.shapes": "the shapes graph is malformed or uses an unsupported SPARQL construct",
    "store.write-failed": "the store rejected the write",
    "store.missing": "no store exists at the given location",
    "internal.bug": "an unexpected error (a bug): see the debug log",
    "read.unreadable": "the file cannot be opened or read",
    "read.invalid-value": "a DICOM attribute value cannot be decoded (bad VR or length); dropped",
    "read.nonconforming": "the DICOM parser warned about non-conformant encoding",
    "suv.inputs-unreadable": "the SUV inputs of an instance cannot be read",
    "suv.not-computable": "SUV cannot be computed (reason in the graph and the message)",
    "map.injection-date-assumed": "a time-only injection was dated by the series date (QIBA rule)",
    "map.unit-assumed": "a quantity's unit was inferred from its magnitude (e.g. MBq vs Bq)",
    # dosimetry reports and DVHs (issue #5)
    "read.unknown-time-point": "a dosimetry VOI activity names a time point the report lacks",
    "read.duplicate-id": "a dosimetry report uses a time point or VOI id twice",
    "read.implausible-value": "a value is outside its plausibility range (often a unit mix-up)",
    "read.inconsistent-value": "absorbed dose, activity and dose per activity disagree",
    "read.csv-row": "a dosimetry CSV row cannot be placed (columns, section, item)",
    "dvh.not-a-volume": "an ROI has no closed planar contour (point or open curve)",
    "dvh.outside-dose-grid": "a structure covers no voxel of the RT Dose grid",
    "dvh.unsupported-geometry": "the RT Dose grid is not axial",
    "dvh.relative-dose": "RT Dose DoseUnits is RELATIVE: statistics are not in Gy",
    "dvh.no-structure-set": "an RT Dose has no structure set in the batch (counted, not failed)",
}

# SPARQL service, access control and remote stores (api/, auth/, query/, store/remote.py).
CODES.update({
    "access.no-token": "the request carries no bearer token and anonymous access is off",
    "access.invalid-token": "the bearer token is malformed, unknown or revoked",
    "access.scope": "the token lacks the scope the action needs",
    "access.service": "SERVICE (federated query) is not allowed",
    "access.unknown-scope": "a scope is not one of read, ingest, admin",
    "access.duplicate-name": "a token with this name exists",
    "access.bad-name": "a token name has characters outside [A-Za-z0-9._@-]",
    "access.unknown-token": "no token has this name or id",
    "config.token-file": "the token file is missing, unreadable or malformed",
    "query.syntax": "SPARQL syntax error (message has line and column)",
    "query.failed": "the query failed while being evaluated",
    "query.timeout": "the query ran past its time limit",
    "query.overloaded": "all query slots are busy",
    "query.result-too-large": "the serialised result exceeds the configured cap",
    "query.not-acceptable": "no acceptable result media type",
    "query.bad-parameter": "a curated query parameter is missing, unknown or of the wrong type",
    "query.bad-header": "a curated query file has a malformed header",
    "query.unknown": "no curated query has this name",
    "request.invalid": "the HTTP request breaks the SPARQL 1.1 Protocol",
    "request.too-large": "the request body exceeds the configured cap",
    "request.unsupported-media-type": "the request Content-Type or charset is not accepted",
    "graph.not-found": "the named graph does not exist",
    "store.read-only": "the store is open read-only",
    "store.unavailable": "the store (or remote endpoint) cannot be reached",
    "store.bad-location": "a sparql+http(s):// store location is malformed",
})


class ExitCode(IntEnum):
    """Exit codes shared by every command (house style A4)."""

    OK = 0
    PARTIAL = 1
    USAGE = 2
    CANNOT_START = 3


Severity = Literal["error", "warning", "info"]
Status = Literal["ingested", "unchanged", "skipped", "failed", "quarantined"]


class Issue(BaseModel):
    """One problem found in a source record."""

    code: str
    severity: Severity = "error"
    message: str
    location: str | None = Field(
        default=None, description="DICOM keyword/tag, FHIR path or JSON pointer inside the file"
    )


class FileOutcome(BaseModel):
    """What happened to one source file (or one record inside it)."""

    path: str
    status: Status
    kind: str | None = Field(default=None, description="dicom, fhir, dosimetry, ...")
    graphs: list[str] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)


class IngestReport(BaseModel):
    """The full outcome of one ingest run."""

    files: list[FileOutcome] = Field(default_factory=list)
    graphs_written: int = 0
    quads_written: int = 0
    counts: dict[str, int] = Field(
        default_factory=dict, description="free-form counters, e.g. unmapped elements per profile"
    )

    def add(self, outcome: FileOutcome) -> None:
        """Append one file outcome."""
        self.files.append(outcome)

    @property
    def failed(self) -> list[FileOutcome]:
        """Outcomes that did not land (skipped or failed)."""
        return [f for f in self.files if f.status in ("skipped", "failed")]

    def status_counts(self) -> Counter[str]:
        """Count outcomes per status."""
        return Counter(f.status for f in self.files)

    def exit_code(self) -> ExitCode:
        """Return 0 when every file landed, 1 when some were skipped, failed or quarantined."""
        if self.failed or any(f.status == "quarantined" for f in self.files):
            return ExitCode.PARTIAL
        return ExitCode.OK

    def raise_for_errors(self) -> None:
        """Raise :class:`InputError` naming the first failed file, if any failed.

        Raises:
            InputError: when at least one file was skipped or failed.
        """
        if self.failed:
            first = self.failed[0]
            reason = first.issues[0].message if first.issues else first.status
            code = first.issues[0].code if first.issues else "read.invalid"
            raise InputError(
                f"{len(self.failed)} file(s) did not land; first: {reason}",
                path=first.path,
                code=code,
            )
