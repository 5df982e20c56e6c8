"""The reader decodes byte-identical elements once per series: results must not change.

De-identification and the SUV reader memoise their decisions by (tag, VR, raw bytes, ...).
These tests read the same files with the memos warm and cold and compare everything, including
values that depend on the data set's character set and the parser's warning count.
"""

from __future__ import annotations

import pydicom
from pydicom.uid import generate_uid

from tests.dicom_builders import ct_dataset, pet_dataset, write
from theragraph.ingest import dicom as dicom_reader
from theragraph.ingest import suv_inputs
from theragraph.ingest.deid import Deidentifier
from theragraph.ingest.dicom import ReaderContext, read_instance
from theragraph.records.dicom import InstanceRecord


def _cold() -> None:
    dicom_reader._DEIDENTIFIERS.clear()  # noqa: SLF001 - the memos under test
    suv_inputs._VALUES.clear()  # noqa: SLF001


def _pet_series(tmp_path, n=5, **overrides):
    study, series = generate_uid(), generate_uid()
    return [write(pet_dataset(study_uid=study, series_uid=series, index=i, **overrides), tmp_path / f"p{i}")
            for i in range(n)]


def test_warm_and_cold_reads_give_identical_records(tmp_path, pseudonymizer):
    paths = _pet_series(tmp_path)
    ctx = ReaderContext(pseudonymizer)
    suv = suv_inputs.read_suv_inputs
    cold = []
    for path in paths:
        _cold()
        cold.append(read_instance(path, ctx, suv_reader=suv))
    _cold()
    warm = [read_instance(path, ctx, suv_reader=suv) for path in paths]
    assert all(isinstance(r, InstanceRecord) for r in warm)
    assert [r.attributes for r in warm] == [r.attributes for r in cold]
    assert [r.suv_inputs for r in warm] == [r.suv_inputs for r in cold]
    # per-instance values really differ, so a memo that leaked them across files would fail
    assert len({r.attributes["InstanceNumber"] for r in warm}) == len(paths)
    assert len({r.suv_inputs.RescaleSlope for r in warm}) == len(paths)


def _latin_and_cyrillic(tmp_path, **overrides):
    """Write two files whose Manufacturer bytes are equal but whose character sets differ."""
    ds = ct_dataset(study_uid=generate_uid(), series_uid=generate_uid(), **overrides)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.Manufacturer = "Siemêns"  # Latin-1 bytes on write
    a = write(ds, tmp_path / "latin")
    b = tmp_path / "cyrillic"
    data = a.read_bytes()
    assert data.count(b"ISO_IR 100") == 1
    b.write_bytes(data.replace(b"ISO_IR 100", b"ISO_IR 144"))  # same length, same other bytes
    expected = pydicom.dcmread(b).Manufacturer
    assert expected != "Siemêns"
    return a, b, expected


def test_memo_respects_the_character_set(tmp_path, pseudonymizer):
    """The same bytes mean different text under different Specific Character Sets."""
    a, b, expected = _latin_and_cyrillic(tmp_path)
    ctx = ReaderContext(pseudonymizer)
    suv = suv_inputs.read_suv_inputs
    _cold()
    first = read_instance(a, ctx, suv_reader=suv)
    second = read_instance(b, ctx, suv_reader=suv)  # memos warm with the Latin-1 reading
    assert first.attributes["Manufacturer"] == "Siemêns"
    assert second.attributes["Manufacturer"] == expected


def test_suv_memo_respects_the_character_set(tmp_path):
    a, b, expected = _latin_and_cyrillic(tmp_path)
    _cold()
    assert suv_inputs.read_suv_inputs(pydicom.dcmread(a)).Manufacturer == "Siemêns"
    assert suv_inputs.read_suv_inputs(pydicom.dcmread(b)).Manufacturer == expected


def test_parser_warnings_are_counted_for_every_file(tmp_path, pseudonymizer):
    """A value pydicom warns about warns (and is reported) in each file, not only the first."""
    paths = _pet_series(tmp_path, n=3)
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 100"
        # non-ASCII (pydicom decodes it) and longer than LO allows (pydicom warns on decoding)
        ds.Manufacturer = "Siemêns" + "x" * 70
        ds.save_as(path)
    ctx = ReaderContext(pseudonymizer)
    cold = []
    for path in paths:
        _cold()
        cold.append(sorted((i.code, i.message) for i in read_instance(path, ctx).issues))
    _cold()
    warm = [sorted((i.code, i.message) for i in read_instance(path, ctx).issues) for path in paths]
    assert all("read.nonconforming" in {code for code, _ in issues} for issues in cold)
    assert warm == cold


def test_a_deidentifier_memo_never_crosses_patients(tmp_path, pseudonymizer):
    """Dates shift per patient: the memo lives in one patient's de-identifier."""
    study = generate_uid()
    one = write(ct_dataset(study_uid=study, series_uid=generate_uid(), PatientID="A1"), tmp_path / "a")
    two = write(ct_dataset(study_uid=study, series_uid=generate_uid(), PatientID="B2"), tmp_path / "b")
    ctx = ReaderContext(pseudonymizer)
    _cold()
    a, b = read_instance(one, ctx), read_instance(two, ctx)
    shift_a = Deidentifier(pseudonymizer, a.patient).shift
    shift_b = Deidentifier(pseudonymizer, b.patient).shift
    assert shift_a != shift_b
    assert b.attributes["StudyDate"] - a.attributes["StudyDate"] == shift_b - shift_a
