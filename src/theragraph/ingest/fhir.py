"""Read FHIR R4 JSON into de-identified :class:`~theragraph.records.fhir.FhirRecord` objects.

Accepts a single resource, a Bundle (any type: collection, transaction, searchset, document...;
every entry becomes its own record) and NDJSON bulk-export files (read line by line, so memory is
bounded by the longest line plus one small token per resource in the batch index). Each resource
is validated with the ``fhir.resources.R4B`` models (the package's default models are R5 and
reject R4 data), its references are resolved to pseudonymous tokens, and it is de-identified
(``ingest/fhir_deid.py``) before it leaves this module. Never imports rdflib or pyoxigraph.

Reading is two passes over the files: :meth:`FhirReader.index_file` learns every resource key and
each Patient's pseudonym (so references to a patient resolve to the identifier-based patient, in
any order of files); :meth:`FhirReader.read_file` then yields records.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from theragraph.ids import Pseudonymizer
from theragraph.ingest.fhir_deid import Deidentifier
from theragraph.ingest.fhir_validate import R4BValidator
from theragraph.records.fhir import (
    RESOLVED_KEY,
    FailedResource,
    FhirRecord,
    RecordProblem,
    ResolvedReference,
)

#: Identifier system used when a Patient has no identifier at all (its resource id stands in).
FHIR_LOCAL_SYSTEM = "urn:theragraph:fhir-local"
#: HL7 v2 table 0203 "MR" (medical record number) identifier type.
_MR = ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")

_LITERAL_REF = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)

#: Store look-up for a token not in the batch: (resource_type, token) -> (exists, patient pseudonym).
StoreLookup = Callable[[str, str], tuple[bool, str | None]]
#: what the first pass keeps of a resource: key, token, and for a Patient its pseudonym and
#: chosen identifier (system, value)
IndexedEntry = tuple[str, str, str | None, tuple[str, str] | None]


def _model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class  # noqa: PLC0415 (heavy import, lazy)

    return get_fhir_model_class(resource_type)


_MODEL_CACHE: dict[str, Any] = {}


def model_class(resource_type: str) -> Any:
    """Return the R4B pydantic model class of a resourceType.

    Raises:
        KeyError: when FHIR R4 has no such resource type.
    """
    cls = _MODEL_CACHE.get(resource_type)
    if cls is None:
        try:
            cls = _model_class(resource_type)
        except (ValueError, KeyError, AttributeError) as exc:
            raise KeyError(resource_type) from exc
        _MODEL_CACHE[resource_type] = cls
    return cls


@dataclass(slots=True)
class RawEntry:
    """One resource as found in a file, before validation."""

    resource: dict[str, Any]
    full_url: str | None
    location: str
    bundle_urls: dict[str, str] | None = None
    raw: bytes | None = None


def resource_key(resource: dict[str, Any], full_url: str | None = None) -> str:
    """Return the resource's key ``<type>/<id>``: from its id, else its fullUrl, else its content.

    The key is the input to the resource token; it never enters the graph.
    """
    resource_type = str(resource.get("resourceType", "Resource"))
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{resource_type}/{rid}"
    if full_url:
        match = _LITERAL_REF.search(full_url)
        if match and match.group(1) == resource_type:
            return f"{resource_type}/{match.group(2)}"
        return f"{resource_type}/{full_url}"
    digest = hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()
    return f"{resource_type}/#sha256:{digest}"


def select_patient_identifier(
    resource: dict[str, Any], *, preferred_systems: set[str], default_system: str
) -> tuple[str, str, bool]:
    """Choose the identifier that names a Patient (design §3), deterministically.

    Order: the first identifier whose system is one the DICOM issuer map points to; else the first
    of type MR; else the first identifier; else ``(FHIR_LOCAL_SYSTEM, "Patient/<id>")``.

    Returns:
        ``(system, value, fallback)``; ``fallback`` is True for the resource-id stand-in.
    """
    idents = [
        i for i in resource.get("identifier") or []
        if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"].strip()
    ]
    for ident in idents:
        if ident.get("system") in preferred_systems:
            return ident["system"], ident["value"], False
    for ident in idents:
        for coding in (ident.get("type") or {}).get("coding") or []:
            if (coding.get("system"), coding.get("code")) == _MR:
                return ident.get("system") or default_system, ident["value"], False
    if idents:
        return idents[0].get("system") or default_system, idents[0]["value"], False
    return FHIR_LOCAL_SYSTEM, resource_key(resource), True


class ReferenceIndex:
    """Resource tokens and patient pseudonyms of one ingest batch, plus a store fallback."""

    def __init__(self, pseudonymizer: Pseudonymizer, lookup: StoreLookup | None = None) -> None:
        """Create an empty index; ``lookup`` answers for records ingested in earlier runs."""
        self.pseudonymizer = pseudonymizer
        self.lookup = lookup
        self.tokens: set[str] = set()
        self.patients: dict[str, str] = {}
        self._store_cache: dict[str, tuple[bool, str | None]] = {}
        self._tokens: dict[str, str] = {}

    def token(self, key: str) -> str:
        """Return the pseudonymous token of a resource key (memoised, bounded)."""
        token = self._tokens.get(key)
        if token is None:
            if len(self._tokens) >= 65536:
                self._tokens.clear()
            token = self.pseudonymizer.token("fhir", key)
            self._tokens[key] = token
        return token

    def add(self, key: str, patient: str | None = None) -> str:
        """Register a resource key (and, for a Patient, its pseudonym); return its token."""
        token = self.token(key)
        self.add_token(token, patient)
        return token

    def add_token(self, token: str, patient: str | None = None) -> None:
        """Register a resource by its token (and, for a Patient, its pseudonym)."""
        self.tokens.add(token)
        if patient is not None:
            self.patients[token] = patient

    def resolve_key(self, key: str) -> ResolvedReference:
        """Resolve a resource key to a patient pseudonym or a resource token."""
        resource_type = key.split("/", 1)[0]
        token = self.token(key)
        patient = self.patients.get(token)
        if patient is not None:
            return ResolvedReference("patient", resource_type, patient)
        if token in self.tokens:
            return ResolvedReference("resource", resource_type, token)
        found, patient = self._from_store(resource_type, token)
        if patient is not None:
            return ResolvedReference("patient", resource_type, patient)
        return ResolvedReference("resource", resource_type, token, found=found)

    def _from_store(self, resource_type: str, token: str) -> tuple[bool, str | None]:
        if self.lookup is None:
            return False, None
        cached = self._store_cache.get(token)
        if cached is None:
            cached = self.lookup(resource_type, token)
            self._store_cache[token] = cached
        return cached


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes as ``json.loads`` does, ~2x faster on the usual input.

    orjson (Rust) parses strict UTF-8 JSON; what it refuses (another encoding, NaN, lone
    surrogates, invalid JSON) goes to ``json.loads``, so results and error messages are exactly
    the standard library's. orjson reads integers beyond 64 bits as floats: data with 19 digits
    in a row goes to ``json.loads`` too. Both passes parse every NDJSON line (json.loads: 6 us
    for a 700-byte line, this: 2.7 us).
    """
    if _LONG_DIGITS not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


#: bytes.translate table: digits -> b"0", anything else -> b" " (finds runs of digits in C)
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_DIGITS = b"0" * 19


def iter_raw_entries(path: Path) -> Iterator[RawEntry | FailedResource]:
    """Yield every resource in a FHIR JSON or NDJSON file (Bundle entries one by one).

    Invalid JSON yields a :class:`FailedResource` (``read.invalid-json``) for the file or, in
    NDJSON, for the line; the other lines are still read.
    """
    with path.open("rb") as fh:
        if _looks_ndjson(fh):
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield from ndjson_line_entries(number, line)
            return
        data = fh.read()
    try:
        obj = parse_json(data)
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc))
        lineno = getattr(exc, "lineno", None)
        where = f" at line {lineno}" if lineno else ""
        yield FailedResource("file", "read.invalid-json", f"not valid JSON{where}: {message}")
        return
    yield from _entries_of(obj, "file", raw=data)


def _looks_ndjson(fh: BinaryIO) -> bool:
    """Return True for NDJSON (FHIR Bulk Data); ``fh`` is left at the start either way.

    NDJSON: at least two non-empty lines, one of the first two a complete JSON object on its own
    (a broken first line must not hide the others).
    """
    heads: list[bytes] = []
    while len(heads) < 2:
        line = fh.readline()
        if not line:
            break
        if line.strip():
            heads.append(line)
    fh.seek(0)
    return len(heads) == 2 and any(_is_json_object(h) for h in heads)


def is_ndjson(path: Path) -> bool:
    """Return True when ``path`` is an NDJSON file (see :func:`iter_raw_entries`)."""
    with path.open("rb") as fh:
        return _looks_ndjson(fh)


def ndjson_line_entries(number: int, line: bytes) -> Iterator[RawEntry | FailedResource]:
    """Yield the resources of NDJSON line ``number`` (a Bundle line yields its entries)."""
    try:
        obj = parse_json(line)
    except ValueError as exc:
        yield FailedResource(f"line {number}", "read.invalid-json", f"not valid JSON: {exc.msg}")
        return
    yield from _entries_of(obj, f"line {number}", raw=line)


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(parse_json(line), dict)
    except ValueError:
        return False


def _entries_of(obj: Any, location: str, *, raw: bytes | None) -> Iterator[RawEntry | FailedResource]:
    if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
        yield FailedResource(location, "read.missing-attribute", "JSON object without resourceType")
        return
    if obj["resourceType"] != "Bundle":
        yield RawEntry(obj, None, location, None, raw)
        return
    entries = obj.get("entry") or []
    urls: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                urls[full_url] = resource_key(entry["resource"], full_url)
    for index, entry in enumerate(entries):
        where = f"{location} entry[{index}]" if location != "file" else f"entry[{index}]"
        if not isinstance(entry, dict):
            yield FailedResource(where, "read.invalid-resource", "Bundle.entry is not an object")
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # e.g. a transaction DELETE or a searchset outcome-less entry
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            yield FailedResource(where, "read.missing-attribute", "Bundle.entry.resource without resourceType")
            continue
        if resource["resourceType"] == "Bundle":
            yield from _entries_of(resource, where, raw=None)
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        yield RawEntry(resource, full_url, where, urls, None)


class FhirReader:
    """Turns FHIR files into records, in two passes (index, then read)."""

    def __init__(
        self,
        pseudonymizer: Pseudonymizer,
        *,
        preferred_systems: set[str] | None = None,
        default_system: str = "urn:theragraph:default-issuer",
        lookup: StoreLookup | None = None,
        validate: bool = True,
    ) -> None:
        """Create a reader.

        Args:
            pseudonymizer: keyed pseudonyms for patients, resource keys, dates and UIDs.
            preferred_systems: identifier systems the DICOM issuer map points to (chosen first).
            default_system: system assumed for a Patient identifier without one (as for DICOM).
            lookup: answers for references to records ingested in earlier runs.
            validate: validate each resource with the R4B models (disable only in benchmarks).
        """
        self.pseudonymizer = pseudonymizer
        self.preferred_systems = preferred_systems or set()
        self.default_system = default_system
        self.index = ReferenceIndex(pseudonymizer, lookup)
        self.deid = Deidentifier(pseudonymizer)
        self.validate = validate
        self._validator = R4BValidator()
        self._identifiers: dict[str, tuple[str, str]] = {}
        self._keys_by_patient: dict[str, set[str]] = {}
        self._collisions: set[str] = set()

    def patient_pseudonym(self, resource: dict[str, Any]) -> tuple[str, bool]:
        """Return a Patient resource's pseudonym and whether the resource-id fallback was used."""
        system, value, fallback = select_patient_identifier(
            resource, preferred_systems=self.preferred_systems, default_system=self.default_system
        )
        return self.pseudonymizer.patient(system, value), fallback

    def index_file(self, path: Path) -> None:
        """First pass: register every resource key of ``path`` and each Patient's pseudonym."""
        for entry in iter_raw_entries(path):
            if not isinstance(entry, FailedResource):
                self.add_indexed(self.index_entry(entry))

    def index_entry(self, entry: RawEntry) -> IndexedEntry:
        """Return what the first pass registers for one resource (reads nothing else).

        Kept apart from :meth:`add_indexed` so that worker processes can index parts of a file.
        """
        key = resource_key(entry.resource, entry.full_url)
        if entry.resource.get("resourceType") != "Patient":
            return key, self.index.token(key), None, None
        system, value, _ = select_patient_identifier(
            entry.resource, preferred_systems=self.preferred_systems,
            default_system=self.default_system,
        )
        return key, self.index.token(key), self.pseudonymizer.patient(system, value), (system, value)

    def add_indexed(self, item: IndexedEntry) -> None:
        """Register one resource of the first pass (from :meth:`index_entry`)."""
        key, token, patient, identifier = item
        if patient is not None and identifier is not None:
            self._identifiers[key] = identifier
            self._keys_by_patient.setdefault(patient, set()).add(key)
        self.index.add_token(token, patient)

    def finish_index(self) -> None:
        """Separate distinct Patient resources that share one identifier (a data error).

        Two Patient resources with different ids but the same chosen identifier are different
        people in the source (the mCODE examples reuse MRNs): each gets the pseudonym of its
        identifier qualified by its resource key, and a ``link.identifier-collision`` warning.
        """
        for keys in self._keys_by_patient.values():
            if len(keys) < 2:
                continue
            for key in keys:
                system, value = self._identifiers[key]
                token = self.index.token(key)
                self.index.patients[token] = self.pseudonymizer.patient(system, f"{value}|{key}")
                self._collisions.add(token)

    def warm_up(self, entry: RawEntry) -> None:
        """Validate one resource and discard the verdict: loads its R4B model classes.

        fhir.resources imports element models, and pydantic builds their validators, on first
        use (~0.1 s for an Observation); done in the parent before the worker processes fork,
        they share the result instead of each building it again.
        """
        try:
            self._validator.validate(model_class(entry.resource["resourceType"]), entry.resource)
        except (KeyError, ValidationError, ValueError, TypeError):
            pass  # the second pass reports it

    def read_file(self, path: Path) -> Iterator[FhirRecord | FailedResource]:
        """Second pass: yield one record (or failure) per resource of ``path``."""
        for entry in iter_raw_entries(path):
            if isinstance(entry, FailedResource):
                yield entry
                continue
            yield self.read_entry(entry)

    def read_entry(self, entry: RawEntry) -> FhirRecord | FailedResource:
        """Validate, resolve and de-identify one resource."""
        resource = entry.resource
        resource_type = resource["resourceType"]
        key = resource_key(resource, entry.full_url)
        where = f"{entry.location} {key}"
        if self.validate:
            try:
                cls = model_class(resource_type)
            except KeyError:
                return FailedResource(
                    where, "read.unknown-resource-type",
                    f"resourceType {resource_type!r} is not a FHIR R4 resource type",
                    resource_type,
                )
            try:
                self._validator.validate(cls, resource)
            except ValidationError as exc:
                first = exc.errors()[0]
                element = ".".join(str(p) for p in (resource_type, *first["loc"]))
                return FailedResource(
                    where, "read.invalid-resource",
                    f"fails FHIR R4 validation at {element}: {first['msg']} "
                    f"({exc.error_count()} error(s)); fix the element or drop the resource",
                    resource_type,
                )
        # An NDJSON line is checksummed as read (cheap); other resources as canonical JSON, so the
        # same resource in a Bundle and in its own file has one checksum (re-ingest writes nothing).
        source_bytes = (
            entry.raw if entry.raw is not None and entry.location.startswith("line ")
            else json.dumps(resource, sort_keys=True, separators=(",", ":")).encode()
        )
        token = self.index.token(key)
        problems: list[RecordProblem] = []
        fallback = False
        if resource_type == "Patient":
            patient, fallback = self.patient_pseudonym(resource)
            patient = self.index.patients.get(token, patient)
            if token in self._collisions:
                problems.append(RecordProblem(
                    "link.identifier-collision",
                    "another Patient resource in this batch has the same identifier; the two are "
                    "kept apart (pseudonym qualified by the resource id) and cannot meet DICOM: "
                    "give each patient a unique identifier",
                    location=f"{where} Patient.identifier",
                ))
            if fallback:
                problems.append(RecordProblem(
                    "read.missing-attribute",
                    "Patient has no identifier: its pseudonym is derived from the resource id, so "
                    "it cannot meet the DICOM patient; add Patient.identifier",
                    location=f"{where} Patient.identifier",
                ))
        else:
            patient = None
        resolved = self._resolve_all(resource, entry, where, problems, resource_type)
        if patient is None:
            patient = self._patient_of(resolved)
        self.deid.pseudonymise_uids(resource)
        self.deid.key_identifiers(resource)
        removed: list[str] = []
        data, dropped = self.deid.apply(resource, patient, removed)
        if dropped:
            problems.append(RecordProblem(
                "deid.dates-dropped",
                f"{dropped} date(s) dropped: the resource names no resolvable patient, so its "
                "dates cannot be shifted",
                location=where,
            ))
        profiles = tuple(
            p for p in ((resource.get("meta") or {}).get("profile") or []) if isinstance(p, str)
        )
        checksum_input = (
            source_bytes
            + repr(sorted((p, r.key, r.found) for p, r in resolved)).encode()
            + (patient or "").encode()
        )
        return FhirRecord(
            resource_type=resource_type,
            token=token,
            profiles=profiles,
            patient=patient,
            data=data,
            checksum=self.pseudonymizer.checksum(hashlib.sha256(checksum_input).hexdigest()),
            location=where,
            patient_identifier_fallback=fallback,
            references=[r for _, r in resolved],
            deidentified_elements=tuple(removed),
            problems=problems,
        )

    def _patient_of(self, resolved: list[tuple[str, ResolvedReference]]) -> str | None:
        for element in self.deid.rules.patient_elements:
            for path, ref in resolved:
                if path == element and ref.kind == "patient":
                    return ref.key
        return None

    def _resolve_all(
        self,
        resource: dict[str, Any],
        entry: RawEntry,
        where: str,
        problems: list[RecordProblem],
        resource_type: str,
    ) -> list[tuple[str, ResolvedReference]]:
        """Replace every Reference's target by ``{"_resolved": ResolvedReference}`` (in place)."""
        found: list[tuple[str, ResolvedReference]] = []
        # a method, not a closure that calls itself: that closure is a reference cycle, which kept
        # each resource's data alive until the cyclic GC found it (~19 objects per resource)
        self._visit_references(resource, "", entry, where, problems, resource_type, found)
        return found

    def _visit_references(
        self,
        node: Any,
        path: str,
        entry: RawEntry,
        where: str,
        problems: list[RecordProblem],
        resource_type: str,
        found: list[tuple[str, ResolvedReference]],
    ) -> None:
        """Resolve the references in ``node`` (at element ``path``); see :meth:`_resolve_all`."""
        if isinstance(node, list):
            for item in node:
                if isinstance(item, (dict, list)):
                    self._visit_references(item, path, entry, where, problems, resource_type, found)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("reference")
        if isinstance(ref, str):
            target = self._resolve_string(ref, entry)
            if target is None:
                return  # contained (#id) reference: local to the resource
            node[RESOLVED_KEY] = target
            found.append((path, target))
            if not target.found:
                problems.append(RecordProblem(
                    "link.dangling-reference",
                    f"reference to a {target.resource_type} not found in this batch or the "
                    "store; it will resolve when that resource is ingested",
                    location=f"{where} {resource_type}.{path}",
                ))
            return
        ident = node.get("identifier")
        if node.get("type") == "Patient" and isinstance(ident, dict) and ident.get("value"):
            system = ident.get("system") or self.default_system
            target = ResolvedReference(
                "patient", "Patient", self.pseudonymizer.patient(system, ident["value"])
            )
            node[RESOLVED_KEY] = target
            found.append((path, target))
            return
        for key, value in node.items():
            if key in ("contained", "text", "meta") or not isinstance(value, (dict, list)):
                continue
            self._visit_references(value, f"{path}.{key}" if path else key, entry, where, problems,
                                   resource_type, found)

    def _resolve_string(self, ref: str, entry: RawEntry) -> ResolvedReference | None:
        if ref.startswith("#"):
            return None
        if entry.bundle_urls and ref in entry.bundle_urls:
            return self.index.resolve_key(entry.bundle_urls[ref])
        match = _LITERAL_REF.search(ref)
        if match is None:
            # A urn:uuid / urn:oid outside its Bundle, or an unparseable URL.
            return ResolvedReference("resource", "Resource", self.index.token(f"Resource/{ref}"), found=False)
        return self.index.resolve_key(f"{match.group(1)}/{match.group(2)}")
