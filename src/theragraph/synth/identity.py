"""Draw realistic-looking (entirely fictitious) personal data for one synthetic patient.

Names, record numbers, birth dates, addresses and phone numbers look real on purpose: the
de-identification of the readers is tested against them. None belongs to a real person; the
name lists are common European first and family names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from theragraph.synth.seeding import derive_int

#: One hospital issues every patient ID: DICOM IssuerOfPatientID and the FHIR identifier system
#: that the deployment's THERAGRAPH_ISSUER_MAP must pair (also written to OUT/issuer-map.json).
ISSUER_OF_PATIENT_ID = "THERAGRAPH-SYNTH-HOSP"
PATIENT_IDENTIFIER_SYSTEM = "urn:oid:1.2.826.0.1.3680043.10.1234.1"
#: System of the MedicationAdministration identifiers that dosimetry reports cite.
ADMINISTRATION_IDENTIFIER_SYSTEM = "urn:oid:1.2.826.0.1.3680043.10.1234.2"
#: System of the accession numbers (FHIR ImagingStudy.identifier besides the study UID).
ACCESSION_SYSTEM = "urn:oid:1.2.826.0.1.3680043.10.1234.3"

_MALE_GIVEN = (
    "Thomas",
    "Michael",
    "Peter",
    "Hans",
    "Jan",
    "Pieter",
    "Jean",
    "Luca",
    "Marco",
    "Karl",
    "Johann",
    "Lars",
    "Erik",
    "Miguel",
    "José",
    "António",
    "Pierre",
    "Andreas",
    "Stefan",
    "Klaus",
    "Giorgio",
    "Willem",
    "Henrik",
    "Jürgen",
    "François",
    "Tomasz",
    "Paulo",
    "Frederik",
)
_FEMALE_GIVEN = (
    "Maria",
    "Anna",
    "Sophie",
    "Elisabeth",
    "Ingrid",
    "Julia",
    "Ana",
    "Marta",
    "Claire",
    "Giulia",
    "Katarina",
    "Eva",
    "Helena",
    "Monika",
    "Sabine",
    "Inês",
    "Chiara",
    "Astrid",
    "Agnieszka",
)
_FAMILY = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "de Vries",
    "Jansen",
    "van Dijk",
    "Bakker",
    "Rossi",
    "Russo",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "Martin",
    "Silva",
    "Santos",
    "Ferreira",
    "García",
    "Fernández",
    "López",
    "Nowak",
    "Kowalski",
    "Andersson",
    "Johansson",
    "Nielsen",
    "Hansen",
    "O'Brien",
    "Murphy",
    "Novák",
    "Horvath",
    "Keller",
    "Wagner",
    "Becker",
)
_STREETS = (
    "Lindenstraße",
    "Kerkstraat",
    "Rua das Flores",
    "Via Roma",
    "Rue de la Paix",
    "Bahnhofstraße",
    "Calle Mayor",
    "Storgatan",
    "Dorpsstraat",
    "Hauptstraße",
    "Avenida da Liberdade",
    "Ulica Długa",
)
_CITIES = (
    ("Berlin", "10", "DE"),
    ("Hamburg", "20", "DE"),
    ("München", "80", "DE"),
    ("Utrecht", "35", "NL"),
    ("Lisboa", "11", "PT"),
    ("Porto", "40", "PT"),
    ("Milano", "20", "IT"),
    ("Lyon", "69", "FR"),
    ("Madrid", "28", "ES"),
    ("Göteborg", "41", "SE"),
    ("Kraków", "30", "PL"),
    ("Wien", "10", "AT"),
)


@dataclass(frozen=True)
class Person:
    """The identifying data of one synthetic patient (PHI look-alike)."""

    mrn: str
    family: str
    given: str
    middle_initial: str
    sex: str  # "M" or "F" (DICOM PatientSex)
    birth_date: date
    street: str
    postal_code: str
    city: str
    country: str
    phone: str

    @property
    def dicom_name(self) -> str:
        """Return the DICOM PN form ``Family^Given^Middle``."""
        return f"{self.family}^{self.given}^{self.middle_initial}"

    @property
    def fhir_gender(self) -> str:
        """Return the FHIR administrative gender."""
        return "male" if self.sex == "M" else "female"


def draw_mrn(seed: int, index: int) -> str:
    """Return a unique 8-character medical record number for patient ``index``.

    ``(a * index + b) mod 10**7`` with ``a`` coprime to 10 is a bijection, so no two patients of
    a cohort (up to ten million) share an MRN; ``b`` depends on the seed.
    """
    offset = derive_int(seed, "mrn-offset", modulo=10**7)
    return f"H{(7_919_371 * index + offset) % 10**7:07d}"


def draw_person(
    rng: np.random.Generator, *, seed: int, index: int, sex: str, age_years: float, on: date
) -> Person:
    """Draw one person of the given sex whose age is ``age_years`` on date ``on``."""
    given_pool = _MALE_GIVEN if sex == "M" else _FEMALE_GIVEN
    birth = on - timedelta(days=int(round(age_years * 365.25)))
    city, postal_prefix, country = _CITIES[int(rng.integers(len(_CITIES)))]
    return Person(
        mrn=draw_mrn(seed, index),
        family=_FAMILY[int(rng.integers(len(_FAMILY)))],
        given=given_pool[int(rng.integers(len(given_pool)))],
        middle_initial="ABCDEFGHJKLMNPRSTW"[int(rng.integers(18))],
        sex=sex,
        birth_date=birth,
        street=f"{_STREETS[int(rng.integers(len(_STREETS)))]} {int(rng.integers(1, 200))}",
        postal_code=f"{postal_prefix}{int(rng.integers(100, 999))}",
        city=city,
        country=country,
        phone=(
            f"+{int(rng.integers(30, 49))} {int(rng.integers(100, 999))} "
            f"{int(rng.integers(1000000, 9999999))}"
        ),
    )
