"""Plain records of FHIR resources after reading and de-identification (no RDF here).

A :class:`FhirRecord` is what the FHIR reader hands to the mapper: the resource's JSON with every
identifying element removed, every date shifted by the patient's offset and every reference
replaced by the pseudonymous token of its target. Original ids, names, identifiers and free text
never reach a record (the ``location`` used for reports is the only place a resource id appears,
and reports are not written to the graph).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TargetKind = Literal["patient", "resource"]

#: The JSON key the reader puts in place of ``Reference.reference`` once it is resolved.
RESOLVED_KEY = "_resolved"


@dataclass(slots=True, frozen=True)
class ResolvedReference:
    """The target of one FHIR Reference, in pseudonymous terms.

    Attributes:
        kind: ``patient`` (``key`` is the patient pseudonym) or ``resource`` (``key`` is the
            resource token, ``Pseudonymizer.token("fhir", "<type>/<id>")``).
        resource_type: the target's resourceType.
        key: patient pseudonym or resource token.
        found: False when the target is neither in the batch nor in the store (dangling).
    """

    kind: TargetKind
    resource_type: str
    key: str
    found: bool = True


@dataclass(slots=True)
class RecordProblem:
    """A problem the reader found in one resource (becomes an ``Issue`` in the report)."""

    code: str
    message: str
    severity: Literal["error", "warning", "info"] = "warning"
    location: str | None = None


@dataclass(slots=True)
class FhirRecord:
    """One de-identified FHIR resource.

    Attributes:
        resource_type: the resourceType (``Observation``).
        token: the resource's pseudonymous key (names its graph and its node).
        profiles: canonical URLs from ``meta.profile``.
        patient: pseudonym of the patient the resource is about (None when it names none).
        data: the de-identified JSON: PHI elements dropped, dates shifted, references replaced
            by ``{"_resolved": ResolvedReference}``.
        checksum: keyed checksum of the resource's source JSON (re-ingest detection).
        location: where the resource came from, for reports (``file#entry[3] Observation/x``).
        patient_identifier_fallback: True when a Patient had no identifier and its pseudonym was
            derived from its resource id.
        references: every resolved reference of the resource, including those inside elements
            the de-identifier drops (e.g. ``note.authorReference``), for ``tg:references`` links.
        deidentified_elements: top-level elements the de-identifier removed (names, identifier,
            address...), counted in the report as ``deid-dropped.<profile>.<element>``.
        problems: warnings found while reading (dangling references, dropped dates...).
    """

    resource_type: str
    token: str
    profiles: tuple[str, ...] = ()
    patient: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    checksum: str = ""
    location: str = ""
    patient_identifier_fallback: bool = False
    references: list[ResolvedReference] = field(default_factory=list)
    deidentified_elements: tuple[str, ...] = ()
    problems: list[RecordProblem] = field(default_factory=list)


@dataclass(slots=True)
class FailedResource:
    """A resource (or file) the reader could not turn into a record."""

    location: str
    code: str
    message: str
    resource_type: str | None = None
