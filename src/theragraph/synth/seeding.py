"""Deterministic randomness and identifiers derived from the cohort seed.

Every random draw and every identifier of the cohort is a pure function of ``(seed, patient
index, label)``, so the same seed writes byte-identical files, patients can be generated one at a
time (bounded memory), and adding a draw to one patient never shifts another's.
"""

from __future__ import annotations

import hashlib

import numpy as np

#: Independent random streams per patient.
STREAM_COHORT = 0
STREAM_PIXELS = 1
STREAM_FAULTS = 2


def _digest(*parts: object) -> bytes:
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def derive_uid(*parts: object) -> str:
    """Return a DICOM UID ``2.25.<integer>`` (PS3.5 B.2) derived from ``parts``.

    120 bits of a SHA-256 digest keep the UID at most 42 characters, below the 64 allowed.
    """
    return "2.25." + str(int.from_bytes(_digest("uid", *parts)[:15], "big"))


def derive_token(*parts: object, length: int = 16) -> str:
    """Return a lower-case hex token of ``length`` characters derived from ``parts``."""
    return _digest("token", *parts).hex()[:length]


def derive_int(*parts: object, modulo: int) -> int:
    """Return an integer in ``[0, modulo)`` derived from ``parts``."""
    return int.from_bytes(_digest("int", *parts)[:8], "big") % modulo


def patient_rng(seed: int, index: int, stream: int = STREAM_COHORT) -> np.random.Generator:
    """Return the random generator of one patient's stream (PCG64 seeded by a SeedSequence)."""
    return np.random.default_rng(np.random.SeedSequence([seed, index, stream]))
