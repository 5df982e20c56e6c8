"""Fixtures for the synthetic-cohort tests: patients with chosen properties, written to tmp."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest

from theragraph.synth.cohort import SyntheticPatient, draw_patient

SEED = 11


def find_patient(
    predicate: Callable[[SyntheticPatient], bool], *, seed: int = SEED
) -> SyntheticPatient:
    """Return the first patient of the cohort ``seed`` that satisfies ``predicate``."""
    for index in range(500):
        patient = draw_patient(seed, index)
        if predicate(patient):
            return patient
    raise AssertionError("no synthetic patient matches the predicate in 500 draws")


@pytest.fixture
def siemens_patient() -> SyntheticPatient:
    return find_patient(lambda p: p.site["vendor"] == "SIEMENS" and p.setting == "mcrpc")


@pytest.fixture
def ge_patient() -> SyntheticPatient:
    """A GE patient whose SPECT is exported with the PET SOP class."""
    return find_patient(
        lambda p: p.site["vendor"] == "GE" and p.cycles[0].studies[0].series[0].modality == "PT"
    )


@pytest.fixture
def net_patient() -> SyntheticPatient:
    return find_patient(lambda p: p.setting == "net" and len(p.cycles) >= 2)


@pytest.fixture(scope="session")
def written(tmp_path_factory):
    """Write a patient's clean DICOM once per session; return its WrittenSeries list."""
    from theragraph.synth.dicom_writer import write_patient_dicom

    cache: dict[tuple[int, int], list] = {}

    def write(patient: SyntheticPatient) -> list:
        key = (patient.seed, patient.index)
        if key not in cache:
            cache[key] = write_patient_dicom(patient, tmp_path_factory.mktemp("dicom"))
        return cache[key]

    return write


def read_strict(path: Path) -> pydicom.Dataset:
    """Read a DICOM file with every pydicom warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = pydicom.dcmread(path)
        for element in ds.iterall():  # force lazy value conversion (and its validation)
            _ = element.value
        if "PixelData" in ds:
            _ = ds.pixel_array
    return ds


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every regular file under ``root`` in a stable order."""
    yield from sorted(p for p in root.rglob("*") if p.is_file())
