"""The raw per-instance DICOM attributes the QIBA SUV derivation needs.

A :class:`SuvInstanceInputs` is filled by :func:`theragraph.ingest.suv_inputs.read_suv_inputs`
and consumed by :func:`theragraph.derive.suv.compute_suv`. Values are kept as the file spells
them (DA/TM/DT strings, numbers in DICOM units) so the derivation alone decides how to interpret
them; a missing or malformed value is ``None``. The record holds original dates and UIDs: it is an
intermediate for the derivation and must never be mapped into the graph as it is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SuvInstanceInputs:
    """The attributes of one PET (or quantitative SPECT) instance that SUV depends on.

    Standard attributes use their DICOM keyword as field name; units are DICOM's (weight kg,
    size m, dose Bq, half-life s, frame times ms). Private values are named for what they hold.
    """

    SOPClassUID: str | None = None
    SOPInstanceUID: str | None = None
    InstanceNumber: int | None = None
    Modality: str | None = None
    SeriesInstanceUID: str | None = None
    Manufacturer: str | None = None
    Units: str | None = None
    CorrectedImage: tuple[str, ...] | None = None
    DecayCorrection: str | None = None
    SeriesDate: str | None = None
    SeriesTime: str | None = None
    AcquisitionDate: str | None = None
    AcquisitionTime: str | None = None
    AcquisitionDateTime: str | None = None
    #: (0054,1300) ms; its meaning differs by vendor (see derive.suv).
    FrameReferenceTime: float | None = None
    #: (0018,1242) ms.
    ActualFrameDuration: float | None = None
    DecayFactor: float | None = None
    #: kg.
    PatientWeight: float | None = None
    #: m (as written; the derivation also accepts centimetres written by mistake).
    PatientSize: float | None = None
    PatientSex: str | None = None
    SUVType: str | None = None
    RescaleSlope: float | None = None
    RescaleIntercept: float | None = None
    #: "+HHMM" / "-HHMM" as written.
    TimezoneOffsetFromUTC: str | None = None
    # Radiopharmaceutical Information Sequence (0054,0016), first item.
    RadiopharmaceuticalStartDateTime: str | None = None
    RadiopharmaceuticalStartTime: str | None = None
    #: Bq by the standard; some systems write MBq.
    RadionuclideTotalDose: float | None = None
    #: s.
    RadionuclideHalfLife: float | None = None
    Radiopharmaceutical: str | None = None
    RadionuclideCodeValue: str | None = None
    RadionuclideCodingSchemeDesignator: str | None = None
    RadionuclideCodeMeaning: str | None = None
    # Private attributes, found through their private creator.
    #: GE (0009,xx0D) "PET scan_datetime" in block GEMS_PETD_01, a DT string.
    ge_scan_datetime: str | None = None
    #: GE (0009,xx3B) "PET admin_datetime" in block GEMS_PETD_01, a DT string (informative).
    ge_admin_datetime: str | None = None
    #: Philips (7053,xx00) "SUV Scale Factor" in "Philips PET Private Group".
    philips_suv_scale_factor: float | None = None
    #: Philips (7053,xx09) "Activity Concentration Scale Factor" (Bq/ml per count).
    philips_activity_concentration_scale_factor: float | None = None
