"""Write one synthetic patient's DICOM files (PET/CT, post-therapy SPECT, RTSTRUCT) with pydicom.

Files look like a hospital PACS export: ``dicom/<PatientID>/<StudyDate>_<Accession>/
<SeriesNumber>_<Modality>/<InstanceNumber>.dcm``, Explicit VR Little Endian with File Meta, real
identifying attributes (names, IDs, birth dates, addresses) so de-identification is exercised.

Vendor timing semantics (QIBA SUV vendor-neutral pseudo-code):
- SIEMENS: FrameReferenceTime = bed start offset + decay-weighted average-count time of the
  frame, so ``series start = AcquisitionDateTime + T_ave - FrameReferenceTime``.
- GE: FrameReferenceTime = bed start offset (``series start = AcquisitionDateTime -
  FrameReferenceTime``), and the private ``GEMS_PETD_01`` (0009,xx0D) holds the scan datetime.

Post-therapy quantitative SPECT is NM multi-frame (Units BQML) at SIEMENS sites and the PET SOP
class (quantitative SPECT exported as PET, Units BQML) at GE sites. Header defects asked for by
the fault plan are applied here; file-level defects (truncation, junk) in :mod:`faults`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from theragraph.synth.cohort import (
    GRID,
    PET_BEDS,
    PET_SLICES_PER_BED,
    PIXEL_MM,
    SPECT_FRAMES,
    Cycle,
    SeriesPlan,
    StudyPlan,
    SyntheticPatient,
    Voi,
    voi_curve,
)
from theragraph.synth.identity import ISSUER_OF_PATIENT_ID
from theragraph.synth.params import load_parameters
from theragraph.synth.seeding import STREAM_PIXELS, derive_int, derive_uid, patient_rng

PET_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.128"
CT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.2"
NM_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.20"
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
STUDY_COMPONENT_SOP_CLASS = "1.2.840.10008.3.1.2.3.1"  # Detached Study Management (RT references)
IMPLEMENTATION_CLASS_UID = derive_uid("theragraph-synth-implementation", 1)
IMPLEMENTATION_VERSION = "TG_SYNTH_1"
GE_PRIVATE_CREATOR = "GEMS_PETD_01"


@dataclass(frozen=True)
class WrittenSeries:
    """Where one series went and what it holds."""

    plan: SeriesPlan
    study: StudyPlan
    files: tuple[Path, ...]
    sop_instance_uids: tuple[str, ...]
    sop_class_uid: str


def instance_uid(series_uid: str, number: int) -> str:
    """Return the SOPInstanceUID of instance ``number`` of a series (derived, deterministic)."""
    return derive_uid(series_uid, "instance", number)


def _da(value: datetime) -> str:
    return value.strftime("%Y%m%d")


def _tm(value: datetime) -> str:
    return value.strftime("%H%M%S")


def _dt(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")


def _ds(value: float) -> str:
    text = f"{value:.8g}"
    return text if len(text) <= 16 else f"{value:.6e}"


def _tz_offset(patient: SyntheticPatient) -> str:
    offset = patient.tz.utcoffset(None) or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _code_item(scheme: str, code: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = code
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _age(patient: SyntheticPatient, on: datetime) -> str:
    born = patient.person.birth_date
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return f"{years:03d}Y"


def _base_dataset(
    patient: SyntheticPatient,
    study: StudyPlan,
    series: SeriesPlan,
    *,
    sop_class: str,
    sop_uid: str,
    number: int,
    faults: frozenset[str],
) -> Dataset:
    """Return the patient, study, series, equipment and SOP common modules."""
    person, site = patient.person, patient.site
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.InstanceCreationDate = _da(series.started_at)
    ds.InstanceCreationTime = _tm(series.started_at)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = _da(study.started_at)
    ds.SeriesDate = _da(series.started_at)
    ds.StudyTime = _tm(study.started_at)
    ds.SeriesTime = _tm(series.started_at)
    ds.AccessionNumber = study.accession
    ds.Modality = series.modality
    vendor = site["vendor"]
    ds.Manufacturer = "SIEMENS" if vendor == "SIEMENS" else "GE MEDICAL SYSTEMS"
    ds.InstitutionName = site["institution"]
    ds.InstitutionAddress = site["address"]
    ds.ReferringPhysicianName = "Weber^Anna^^Dr."
    ds.TimezoneOffsetFromUTC = _tz_offset(patient)
    ds.StationName = "PETCT01" if series.kind in ("pet", "ct") else "SPECT01"
    ds.StudyDescription = study.description
    ds.SeriesDescription = series.description
    ds.OperatorsName = "Jansen^Pieter"
    ds.ManufacturerModelName = (
        site["pet_model"] if series.kind in ("pet", "ct") else site["spect_model"]
    )
    ds.PatientName = person.dicom_name
    ds.PatientID = person.mrn
    ds.IssuerOfPatientID = ISSUER_OF_PATIENT_ID
    ds.PatientBirthDate = person.birth_date.strftime("%Y%m%d")
    ds.PatientSex = person.sex
    ds.PatientAge = _age(patient, study.started_at)
    ds.PatientSize = _ds(patient.height_cm / 100.0)
    if not (series.kind == "pet" and "missing-weight" in faults):
        ds.PatientWeight = _ds(patient.weight_kg)
    ds.PatientAddress = f"{person.street}, {person.postal_code} {person.city}, {person.country}"
    ds.PatientTelephoneNumbers = person.phone
    ds.DeviceSerialNumber = str(10000 + derive_int(site["institution"], "serial", modulo=90000))
    ds.SoftwareVersions = "VG80B" if vendor == "SIEMENS" else "pet_coreload.46.00"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study.uid
    ds.SeriesInstanceUID = series.uid
    ds.StudyID = study.id
    ds.SeriesNumber = series.number
    ds.InstanceNumber = number
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    return ds


def _set_instance(ds: Dataset, uid: str, number: int) -> None:
    """Give a per-series template dataset the identity of one instance (reused between files)."""
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPInstanceUID = uid
    ds.InstanceNumber = number


def _image_pixel(ds: Dataset, frames: np.ndarray, *, slope: float, intercept: float = 0.0) -> None:
    """Attach uint16 pixel data (``frames`` is rows x cols, or frames x rows x cols)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = GRID
    ds.Columns = GRID
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = _ds(intercept)
    ds.RescaleSlope = _ds(slope)
    ds.PixelData = np.ascontiguousarray(frames, dtype="<u2").tobytes()


def _to_stored(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale real values (>= 0) to uint16 with a per-instance slope (as scanners do)."""
    peak = float(values.max())
    slope = float(_ds(peak / 32000.0)) if peak > 0 else 1.0
    return np.clip(np.rint(values / slope), 0, 65535).astype(np.uint16), slope


def _geometry(ds: Dataset, z_mm: float) -> None:
    origin = -GRID * PIXEL_MM / 2.0
    ds.ImagePositionPatient = [_ds(origin), _ds(origin), _ds(z_mm)]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = [_ds(PIXEL_MM), _ds(PIXEL_MM)]
    ds.SliceThickness = _ds(PIXEL_MM)


def _voxel_block(volume: np.ndarray, voi: Voi, value: float) -> None:
    """Paint a VOI as a 2x2 in-plane block in its slice of ``volume`` (z, rows, cols)."""
    row, col, frac = voi.voxel
    z = min(int(frac * volume.shape[0]), volume.shape[0] - 1)
    volume[z, row : row + 2, col : col + 2] = np.maximum(
        volume[z, row : row + 2, col : col + 2], value
    )


def voi_slice(voi: Voi, n_slices: int) -> int:
    """Return the slice (or frame) index where a VOI is painted and contoured."""
    return min(int(voi.voxel[2] * n_slices), n_slices - 1)


def _radiopharmaceutical(
    *,
    agent: str,
    agent_code: dict[str, str] | None,
    nuclide_code: dict[str, str],
    injected_at: datetime,
    total_dose_bq: float,
    half_life_s: float,
    positron_fraction: float | None,
    faults: frozenset[str],
) -> Sequence:
    item = Dataset()
    item.Radiopharmaceutical = agent
    item.RadiopharmaceuticalStartTime = _tm(injected_at)
    if not faults & {"missing-injection-date", "injection-after-midnight"}:
        item.RadiopharmaceuticalStartDateTime = _dt(injected_at)
    dose = total_dose_bq / 1e6 if "dose-in-mbq" in faults else total_dose_bq
    item.RadionuclideTotalDose = _ds(round(dose, 1))
    item.RadionuclideHalfLife = _ds(half_life_s)
    if positron_fraction is not None:
        item.RadionuclidePositronFraction = _ds(positron_fraction)
    item.RadionuclideCodeSequence = Sequence(
        [_code_item(nuclide_code["scheme"], nuclide_code["code"], nuclide_code["meaning"])]
    )
    if agent_code is not None:
        item.RadiopharmaceuticalCodeSequence = Sequence(
            [_code_item(agent_code["scheme"], agent_code["code"], agent_code["meaning"])]
        )
    return Sequence([item])


def _average_count_time_s(lambda_per_s: float, duration_s: float) -> float:
    """Decay-weighted average-count time within a frame (Siemens FrameReferenceTime offset)."""
    x = lambda_per_s * duration_s
    return math.log(x / (1.0 - math.exp(-x))) / lambda_per_s


def _save(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _series_dir(
    root: Path, patient: SyntheticPatient, study: StudyPlan, series: SeriesPlan
) -> Path:
    return (
        root
        / patient.person.mrn
        / f"{_da(study.started_at)}_{study.accession}"
        / f"{series.number:03d}_{series.modality}"
    )


def write_pet_ct(
    patient: SyntheticPatient, root: Path, *, faults: frozenset[str] = frozenset()
) -> list[WrittenSeries]:
    """Write the diagnostic PET/CT study (CT slices and a two-bed PET series)."""
    pet = patient.pet
    study = pet.study
    ct_plan, pet_plan = study.series
    rng = patient_rng(patient.seed, patient.index, STREAM_PIXELS)
    n_slices = PET_BEDS * PET_SLICES_PER_BED
    lam = math.log(2.0) / pet.half_life_s
    injected_at, started_at = pet.injected_at, pet.started_at
    if "injection-after-midnight" in faults:
        # Late-evening injection, scan after midnight; only the injection *time* is recorded.
        started_at = started_at.replace(hour=0, minute=35, second=0)
        injected_at = started_at - (pet.started_at - pet.injected_at)
    decayed_bq = (
        pet.activity_mbq * 1e6 * math.exp(-lam * (started_at - injected_at).total_seconds())
    )
    bq_per_suv = decayed_bq / (patient.weight_kg * 1000.0)
    volume = np.full((n_slices, GRID, GRID), 0.6 * bq_per_suv) * rng.uniform(
        0.8, 1.2, (n_slices, GRID, GRID)
    )
    for voi in patient.vois:
        _voxel_block(volume, voi, voi.suv_mean * bq_per_suv)
    out: list[WrittenSeries] = []

    # CT: soft tissue in an ellipse, air around it (HU stored with intercept -1024).
    yy, xx = np.mgrid[0:GRID, 0:GRID]
    body = ((yy - 7.5) / 6.5) ** 2 + ((xx - 7.5) / 7.5) ** 2 <= 1.0
    ct_files, ct_uids = [], []
    ds = _base_dataset(
        patient,
        study,
        ct_plan,
        sop_class=CT_SOP_CLASS,
        sop_uid=instance_uid(ct_plan.uid, 1),
        number=1,
        faults=faults,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.AcquisitionDate = ds.SeriesDate
    ds.AcquisitionTime = _tm(ct_plan.started_at)
    ds.KVP = "120"
    ds.ConvolutionKernel = "Br38f" if patient.site["vendor"] == "SIEMENS" else "STANDARD"
    for k in range(n_slices):
        uid = instance_uid(ct_plan.uid, k + 1)
        _set_instance(ds, uid, k + 1)
        _geometry(ds, -k * PIXEL_MM)
        ds.SliceLocation = _ds(-k * PIXEL_MM)
        hu = np.where(body, 40 + rng.normal(0, 5, (GRID, GRID)), -1000.0)
        _image_pixel(ds, np.rint(hu + 1024).clip(0, 4095), slope=1.0, intercept=-1024.0)
        ct_files.append(_save(ds, _series_dir(root, patient, study, ct_plan) / f"{k + 1:04d}.dcm"))
        ct_uids.append(uid)
    out.append(WrittenSeries(ct_plan, study, tuple(ct_files), tuple(ct_uids), CT_SOP_CLASS))

    vendor = patient.site["vendor"]
    params = load_parameters()
    nuclide = params["radionuclides"][pet.radionuclide]
    series_time = (
        started_at + timedelta(minutes=47) if "series-time-rewritten" in faults else started_at
    )
    files, uids = [], []
    ds = _base_dataset(
        patient,
        study,
        pet_plan,
        sop_class=PET_SOP_CLASS,
        sop_uid=instance_uid(pet_plan.uid, 1),
        number=1,
        faults=faults,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.StudyDate = _da(started_at)
    ds.StudyTime = _tm(started_at - timedelta(minutes=2))
    ds.SeriesDate = _da(series_time)
    ds.SeriesTime = _tm(series_time)
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.SeriesType = ["WHOLE BODY", "IMAGE"]
    ds.CorrectedImage = ["NORM", "DTIM", "ATTN", "SCAT", "DECY", "RAN"]
    ds.DecayCorrection = "START"
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "measured,CT"
    ds.ReconstructionMethod = "OSEM3D 4i5s" if vendor == "SIEMENS" else "VPFXS"
    ds.NumberOfSlices = n_slices
    ds.ActualFrameDuration = int(pet.bed_duration_s * 1000)
    ds.SliceSensitivityFactor = "1"
    ds.RadiopharmaceuticalInformationSequence = _radiopharmaceutical(
        agent=pet.agent,
        agent_code=pet.code,
        nuclide_code=nuclide["dicom_code"],
        injected_at=injected_at,
        total_dose_bq=pet.activity_mbq * 1e6,
        half_life_s=pet.half_life_s,
        positron_fraction=pet.positron_fraction,
        faults=faults,
    )
    if vendor == "GE":
        block = ds.private_block(0x0009, GE_PRIVATE_CREATOR, create=True)
        block.add_new(0x0D, "DT", _dt(started_at))  # scan datetime (QIBA GE branch)
    t_ave = _average_count_time_s(lam, pet.bed_duration_s)
    for k in range(n_slices):
        bed = k // PET_SLICES_PER_BED
        offset_s = bed * pet.bed_duration_s
        acquired = started_at + timedelta(seconds=offset_s)
        frame_reference_s = offset_s + t_ave if vendor == "SIEMENS" else offset_s
        uid = instance_uid(pet_plan.uid, k + 1)
        _set_instance(ds, uid, k + 1)
        ds.AcquisitionDate = _da(acquired)
        ds.AcquisitionTime = _tm(acquired)
        ds.ContentDate = _da(acquired)
        ds.ContentTime = _tm(acquired)
        ds.ImageIndex = k + 1
        ds.FrameReferenceTime = _ds(round(frame_reference_s * 1000.0, 3))
        ds.DecayFactor = _ds(math.exp(lam * (offset_s + t_ave)))
        _geometry(ds, -k * PIXEL_MM)
        ds.SliceLocation = _ds(-k * PIXEL_MM)
        stored, slope = _to_stored(volume[k])
        _image_pixel(ds, stored, slope=slope)
        files.append(_save(ds, _series_dir(root, patient, study, pet_plan) / f"{k + 1:04d}.dcm"))
        uids.append(uid)
    out.append(WrittenSeries(pet_plan, study, tuple(files), tuple(uids), PET_SOP_CLASS))
    return out


def _spect_volume(
    patient: SyntheticPatient, cycle: Cycle, hours: float, rng: np.random.Generator
) -> np.ndarray:
    """Return the activity concentration (Bq/mL) volume at ``hours`` after administration."""
    volume = rng.uniform(0.5, 1.5, (SPECT_FRAMES, GRID, GRID)) * 200.0  # blood pool background
    for voi in patient.vois:
        curve = voi_curve(cycle, voi)
        _voxel_block(volume, voi, curve.activity_mbq(hours) * 1e6 / voi.volume_ml)
    return volume


def write_spect(
    patient: SyntheticPatient, cycle: Cycle, root: Path, *, faults: frozenset[str] = frozenset()
) -> list[WrittenSeries]:
    """Write the post-therapy quantitative SPECT series of one cycle (one per time point)."""
    rng = patient_rng(patient.seed, patient.index, STREAM_PIXELS + 10 * cycle.number)
    params = load_parameters()
    lu = params["radionuclides"]["Lu-177"]
    therapy = params["settings"][patient.setting]["therapy"]
    lu_code = lu["dicom_code"]
    agent_code = (
        {"scheme": "SCT", "code": "781259000", "meaning": "Lutetium^177^ DOTATATE"}
        if patient.setting == "net"
        else None
    )
    out: list[WrittenSeries] = []
    for study, tp in zip(cycle.studies, cycle.time_points, strict=True):
        plan = study.series[0]
        volume = _spect_volume(patient, cycle, tp.hours, rng)
        rp = _radiopharmaceutical(
            agent=therapy["dicom_name"],
            agent_code=agent_code,
            nuclide_code=lu_code,
            injected_at=cycle.administered_at,
            total_dose_bq=cycle.activity_gbq * 1e9,
            half_life_s=lu["half_life_s"],
            positron_fraction=None,
            faults=frozenset(),
        )
        if plan.modality == "NM":
            uid = instance_uid(plan.uid, 1)
            ds = _base_dataset(
                patient, study, plan, sop_class=NM_SOP_CLASS, sop_uid=uid, number=1, faults=faults
            )
            ds.ImageType = ["ORIGINAL", "PRIMARY", "RECON TOMO", "EMISSION"]
            ds.AcquisitionDate = _da(tp.acquired_at)
            ds.AcquisitionTime = _tm(tp.acquired_at)
            ds.ContentDate = ds.AcquisitionDate
            ds.ContentTime = ds.AcquisitionTime
            ds.NumberOfFrames = SPECT_FRAMES
            ds.FrameIncrementPointer = [0x00540080]  # SliceVector
            ds.SliceVector = list(range(1, SPECT_FRAMES + 1))
            ds.NumberOfSlices = SPECT_FRAMES
            ds.SpacingBetweenSlices = _ds(PIXEL_MM)
            _geometry(ds, 0.0)
            window = Dataset()
            window.EnergyWindowName = "Lu177_EM208"
            limits = Dataset()
            limits.EnergyWindowLowerLimit = "187.2"
            limits.EnergyWindowUpperLimit = "228.8"
            window.EnergyWindowRangeSequence = Sequence([limits])
            ds.EnergyWindowInformationSequence = Sequence([window])
            ds.NumberOfEnergyWindows = 1
            detector = Dataset()
            detector.ImagePositionPatient = ds.ImagePositionPatient
            detector.ImageOrientationPatient = ds.ImageOrientationPatient
            ds.DetectorInformationSequence = Sequence([detector])
            ds.NumberOfDetectors = 1
            ds.RadiopharmaceuticalInformationSequence = rp
            ds.Units = "BQML"
            ds.CorrectedImage = ["ATTN", "SCAT", "DECY"]
            ds.DecayCorrection = "START"
            ds.ActualFrameDuration = 15000
            stored, slope = _to_stored(volume)
            _image_pixel(ds, stored, slope=slope)
            path = _save(ds, _series_dir(root, patient, study, plan) / "0001.dcm")
            out.append(WrittenSeries(plan, study, (path,), (uid,), NM_SOP_CLASS))
            continue
        files, uids = [], []
        ds = _base_dataset(
            patient,
            study,
            plan,
            sop_class=PET_SOP_CLASS,
            sop_uid=instance_uid(plan.uid, 1),
            number=1,
            faults=faults,
        )
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.AcquisitionDate = _da(tp.acquired_at)
        ds.AcquisitionTime = _tm(tp.acquired_at)
        ds.Units = "BQML"
        ds.CountsSource = "EMISSION"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.CorrectedImage = ["ATTN", "SCAT", "DECY"]
        ds.DecayCorrection = "START"
        ds.ReconstructionMethod = "OSEM-RR 4i10s (quantitative SPECT)"
        ds.NumberOfSlices = SPECT_FRAMES
        ds.FrameReferenceTime = "0"
        ds.ActualFrameDuration = 900000
        ds.DecayFactor = "1"
        ds.RadiopharmaceuticalInformationSequence = rp
        for k in range(SPECT_FRAMES):
            uid = instance_uid(plan.uid, k + 1)
            _set_instance(ds, uid, k + 1)
            ds.ImageIndex = k + 1
            _geometry(ds, -k * PIXEL_MM)
            ds.SliceLocation = _ds(-k * PIXEL_MM)
            stored, slope = _to_stored(volume[k])
            _image_pixel(ds, stored, slope=slope)
            files.append(_save(ds, _series_dir(root, patient, study, plan) / f"{k + 1:04d}.dcm"))
            uids.append(uid)
        out.append(WrittenSeries(plan, study, tuple(files), tuple(uids), PET_SOP_CLASS))
    return out


def roi_numbers(patient: SyntheticPatient) -> dict[str, int]:
    """Return the RTSTRUCT ROINumber of each VOI (1-based, in VOI order)."""
    return {voi.id: n for n, voi in enumerate(patient.vois, start=1)}


def _contour_image(series: WrittenSeries, frame: int) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = series.sop_class_uid
    if len(series.sop_instance_uids) == 1:  # multi-frame NM: one instance, frame number
        item.ReferencedSOPInstanceUID = series.sop_instance_uids[0]
        item.ReferencedFrameNumber = frame + 1
    else:
        item.ReferencedSOPInstanceUID = series.sop_instance_uids[frame]
    return item


def _series_images(series: WrittenSeries) -> list[Dataset]:
    """Return the ContourImageSequence items naming every image of a referenced series.

    A multi-frame NM instance is referenced once, without ReferencedFrameNumber, which means
    all of its frames (PS3.3 C.8.8.5 / C.12.2 Image SOP Instance Reference).
    """
    items = []
    for uid in series.sop_instance_uids:
        item = Dataset()
        item.ReferencedSOPClassUID = series.sop_class_uid
        item.ReferencedSOPInstanceUID = uid
        items.append(item)
    return items


def write_rtstruct(
    patient: SyntheticPatient,
    cycle: Cycle,
    spect: Iterable[WrittenSeries],
    root: Path,
    *,
    faults: frozenset[str] = frozenset(),
) -> WrittenSeries:
    """Write the cycle's RTSTRUCT: one ROI per organ and lesion VOI, drawn on the first SPECT.

    All SPECT series of a cycle share one (registered) frame of reference; the structure set
    references every one of them and contours the first time point's images.
    """
    spect = list(spect)
    plan = cycle.rtstruct
    study = cycle.studies[0]
    uid = instance_uid(plan.uid, 1)
    ds = _base_dataset(
        patient, study, plan, sop_class=RTSTRUCT_SOP_CLASS, sop_uid=uid, number=1, faults=faults
    )
    for keyword in ("FrameOfReferenceUID", "PositionReferenceIndicator", "PatientPosition"):
        delattr(ds, keyword)
    ds.Manufacturer = "Theragraph Synthetic Dosimetry"
    ds.ManufacturerModelName = "synth-dosimetry"
    ds.StructureSetLabel = f"DOSI_C{cycle.number}"
    ds.StructureSetName = f"Dosimetry VOIs cycle {cycle.number}"
    ds.StructureSetDate = _da(plan.started_at)
    ds.StructureSetTime = _tm(plan.started_at)

    referenced_studies = []
    for series in spect:
        ref_series = Dataset()
        ref_series.SeriesInstanceUID = series.plan.uid
        ref_series.ContourImageSequence = Sequence(_series_images(series))
        ref_study = Dataset()
        ref_study.ReferencedSOPClassUID = STUDY_COMPONENT_SOP_CLASS
        ref_study.ReferencedSOPInstanceUID = series.study.uid
        ref_study.RTReferencedSeriesSequence = Sequence([ref_series])
        referenced_studies.append(ref_study)
    frame = Dataset()
    frame.FrameOfReferenceUID = plan.frame_of_reference_uid
    frame.RTReferencedStudySequence = Sequence(referenced_studies)
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])

    first = spect[0]
    rois, contours, observations = [], [], []
    origin = -GRID * PIXEL_MM / 2.0
    for voi, number in zip(patient.vois, roi_numbers(patient).values(), strict=True):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = plan.frame_of_reference_uid
        roi.ROIName = voi.id
        roi.ROIDescription = voi.label
        roi.ROIGenerationAlgorithm = "SEMIAUTOMATIC"
        rois.append(roi)
        z_index = voi_slice(voi, SPECT_FRAMES)
        z_mm = -z_index * PIXEL_MM
        row, col, _ = voi.voxel
        x0, y0 = origin + col * PIXEL_MM, origin + row * PIXEL_MM
        x1, y1 = x0 + 2 * PIXEL_MM, y0 + 2 * PIXEL_MM
        contour = Dataset()
        contour.ContourImageSequence = Sequence([_contour_image(first, z_index)])
        contour.ContourGeometricType = "CLOSED_PLANAR"
        contour.NumberOfContourPoints = 4
        contour.ContourData = [
            _ds(v) for v in (x0, y0, z_mm, x1, y0, z_mm, x1, y1, z_mm, x0, y1, z_mm)
        ]
        roi_contour = Dataset()
        roi_contour.ReferencedROINumber = number
        roi_contour.ROIDisplayColor = [255, 0, 0] if voi.type == "lesion" else [0, 160, 255]
        roi_contour.ContourSequence = Sequence([contour])
        contours.append(roi_contour)
        obs = Dataset()
        obs.ObservationNumber = number
        obs.ReferencedROINumber = number
        obs.RTROIInterpretedType = voi.interpreted_type
        obs.ROIInterpreter = ""
        anatomy = voi.anatomy
        obs.RTROIIdentificationCodeSequence = Sequence(
            [_code_item("SCT", anatomy["code"], anatomy["display"][:64])]
        )
        observations.append(obs)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    ds.RTROIObservationsSequence = Sequence(observations)
    ds.ApprovalStatus = "APPROVED"
    path = _save(ds, _series_dir(root, patient, study, plan) / "0001.dcm")
    return WrittenSeries(plan, study, (path,), (uid,), RTSTRUCT_SOP_CLASS)


def write_patient_dicom(
    patient: SyntheticPatient, root: Path, *, faults: frozenset[str] = frozenset()
) -> list[WrittenSeries]:
    """Write every DICOM series of one patient under ``root`` (the ``dicom/`` folder)."""
    written = write_pet_ct(patient, root, faults=faults)
    for cycle in patient.cycles:
        spect = write_spect(patient, cycle, root, faults=faults)
        written.extend(spect)
        written.append(write_rtstruct(patient, cycle, spect, root, faults=faults))
    return written
