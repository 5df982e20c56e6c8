"""Pseudonyms and deterministic IRIs (design §3).

All identifiers in the graph are derived from the deployment secret with HMAC-SHA256, so the
same source identifier always maps to the same pseudonym, re-ingest yields the same IRIs, and
nobody without the secret can reverse or confirm an identifier. The secret never leaves this
object (its repr hides it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime, timedelta

from rdflib import URIRef

from theragraph.vocab import TGG, TGR

#: Per-patient date shifts fall in [-MAX_SHIFT_DAYS, -1] (PS3.15 "Modified Dates" option).
MAX_SHIFT_DAYS = 3650


class Pseudonymizer:
    """Keyed pseudonymisation of patient identifiers, DICOM UIDs and dates."""

    __slots__ = ("_key", "_keyed", "_uid_cache")

    def __init__(self, secret: bytes) -> None:
        """Create a pseudonymizer.

        Args:
            secret: the deployment secret (at least 16 bytes).

        Raises:
            ValueError: when the secret is too short to be safe.
        """
        if len(secret) < 16:
            raise ValueError("the pseudonymisation secret must be at least 16 bytes long")
        self._key = secret
        # the key schedule, computed once: copying it is ~1.5x cheaper than hmac.new per digest
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)
        self._uid_cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return "Pseudonymizer(<secret hidden>)"

    def __reduce__(self) -> tuple[type, tuple[bytes]]:
        # worker processes started by "spawn" (macOS, Windows) receive it pickled; an HMAC
        # object does not pickle, so the copy is rebuilt from the secret
        return (Pseudonymizer, (self._key,))

    def _digest(self, domain: str, value: str) -> bytes:
        mac = self._keyed.copy()
        mac.update(f"{domain}\x1f{value}".encode())
        return mac.digest()

    def token(self, domain: str, value: str, *, length: int = 32) -> str:
        """Return a hex pseudonym of ``value`` within ``domain`` (``length`` hex chars)."""
        return self._digest(domain, value).hex()[:length]

    def checksum(self, value: str) -> str:
        """Return the keyed checksum of a source record's content digest (``tg:sourceChecksum``).

        88 bits of HMAC-SHA256 in base64url: 15 characters, which pyoxigraph keeps inline in each
        quad instead of in its string table (one distinct string per graph less to write).
        """
        return base64.urlsafe_b64encode(self._digest("checksum", value)[:11]).decode().rstrip("=")

    def patient(self, system: str, value: str) -> str:
        """Return the patient pseudonym for an identifier ``(system, value)``.

        The system is the FHIR ``Patient.identifier.system``; DICOM callers pass the system their
        IssuerOfPatientID maps to, so one person's images and records meet.
        """
        return self.token("patient", f"{system.strip()}|{value.strip()}")

    def uid(self, original: str) -> str:
        """Replace a DICOM UID by ``2.25.<integer>`` (PS3.5 B.2), consistently."""
        original = original.strip().rstrip("\x00")
        cached = self._uid_cache.get(original)
        if cached is None:
            number = int.from_bytes(self._digest("uid", original)[:16], "big")
            cached = f"2.25.{number}"
            self._uid_cache[original] = cached
        return cached

    def date_shift(self, patient_pseudonym: str) -> timedelta:
        """Return the patient's date shift: whole days, negative, identical across sources."""
        number = int.from_bytes(self._digest("dateshift", patient_pseudonym)[:8], "big")
        return timedelta(days=-(1 + number % MAX_SHIFT_DAYS))

    def shift_date(self, value: date, patient_pseudonym: str) -> date:
        """Shift a calendar date by the patient's offset."""
        return value + self.date_shift(patient_pseudonym)

    def shift_datetime(self, value: datetime, patient_pseudonym: str) -> datetime:
        """Shift a datetime by whole days: the time of day and time zone are kept."""
        return value + self.date_shift(patient_pseudonym)


def mint_iri(kind: str, key: str) -> URIRef:
    """Return the instance IRI ``tgr:<kind>/<key>``; ``key`` must already be pseudonymous."""
    return TGR[f"{kind}/{key}"]


def patient_iri(pseudonym: str) -> URIRef:
    """Return the IRI of a patient node."""
    return mint_iri("patient", pseudonym)


def graph_iri(kind: str, key: str) -> URIRef:
    """Return the named-graph IRI of one source record (a series, a resource, a report)."""
    return TGG[f"{kind}/{key}"]
