"""Whole-cohort writing: byte-identical reruns, layout, faults recorded, truth written."""

from __future__ import annotations

import csv
import hashlib
import json

import pydicom
import pytest
from fhir.resources.R4B import get_fhir_model_class

from theragraph.synth.faults import FAULT_KINDS, plan_faults
from theragraph.synth.generate import generate_cohort, write_patient

from .conftest import find_patient, iter_files, read_strict


def _hashes(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in iter_files(root)
    }


def test_same_seed_writes_byte_identical_files(tmp_path):
    kwargs = dict(patients=3, seed=3, fault_rate=0.5, truth=True, ndjson_share=0.5)
    generate_cohort(tmp_path / "a", **kwargs)
    generate_cohort(tmp_path / "b", **kwargs, workers=2)  # parallel writing changes nothing
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a == b
    assert any(k.startswith("fhir-bulk/") for k in a) and any(k.startswith("fhir/") for k in a)
    generate_cohort(tmp_path / "c", **{**kwargs, "seed": 4})
    assert _hashes(tmp_path / "c") != a


def test_layout_issuer_map_and_truth(tmp_path):
    summary = generate_cohort(tmp_path, patients=3, seed=5, truth=True, ndjson_share=0.0)
    assert summary.patients == 3 and summary.files == len(list(iter_files(tmp_path)))
    assert json.loads((tmp_path / "issuer-map.json").read_text()) == {
        "THERAGRAPH-SYNTH-HOSP": "urn:oid:1.2.826.0.1.3680043.10.1234.1"
    }
    with (tmp_path / "truth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    for row in rows:
        assert 0.0 < float(row["response_probability"]) < 1.0
        assert (tmp_path / "fhir" / f"{row['patient_id']}.json").is_file()
        assert list((tmp_path / "dicom" / row["patient_id"]).rglob("*.dcm"))
        assert len(list((tmp_path / "dosimetry").glob(f"DOS-{row['patient_id']}-C*.json"))) == int(
            row["n_cycles"]
        )
    assert not (tmp_path / "faults.json").exists()


def test_refuses_to_mix_with_an_earlier_cohort(tmp_path):
    generate_cohort(tmp_path, patients=1, seed=5)
    with pytest.raises(FileExistsError):
        generate_cohort(tmp_path, patients=1, seed=5)
    generate_cohort(tmp_path, patients=1, seed=6, overwrite=True)


def test_ndjson_resources_validate(tmp_path):
    generate_cohort(tmp_path, patients=2, seed=8, ndjson_share=1.0)
    assert not (tmp_path / "fhir").exists()
    for path in (tmp_path / "fhir-bulk").glob("*.ndjson"):
        for line in path.read_text().splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] == path.stem
            get_fhir_model_class(path.stem).model_validate(resource)


def test_fault_rate_is_respected():
    hits = sum(bool(plan_faults(1, i, 0.2)) for i in range(2000))
    assert 300 < hits < 500
    assert not any(plan_faults(1, i, 0.0) for i in range(100))


def _is_usable_image(path):
    """True when pydicom reads the file as DICOM with complete pixel data."""
    try:
        ds = pydicom.dcmread(path)
        _ = ds.pixel_array
    except Exception:  # noqa: BLE001 - any read failure counts as caught
        return False
    return True


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_each_fault_is_applied_and_recorded(kind, tmp_path):
    from theragraph.synth.generate import CohortSummary

    patient = find_patient(
        lambda p: (
            p.site["vendor"] == "GE"
            and len(p.cycles) <= 2
            and p.cycles[0].studies[0].series[0].modality == "NM"
        )
    )
    summary = CohortSummary(out=tmp_path)
    records = write_patient(
        patient,
        tmp_path,
        faults=frozenset({kind}),
        summary=summary,
        as_ndjson=False,
        write_ndjson=lambda r: None,
    )
    assert [r.kind for r in records] == [kind]
    record = records[0]
    assert record.patient_id == patient.person.mrn
    paths = [tmp_path / p for p in record.paths]
    assert all(p.exists() for p in paths)
    if kind in ("truncated-file", "non-dicom-junk"):
        assert not _is_usable_image(paths[0])
    elif kind == "missing-weight":
        assert all("PatientWeight" not in read_strict(p) for p in paths)
    elif kind == "dose-in-mbq":
        rp = read_strict(paths[0]).RadiopharmaceuticalInformationSequence[0]
        assert float(rp.RadionuclideTotalDose) < 1e5
    elif kind == "fhir-unknown-code-system":
        bundle = json.loads(paths[0].read_text())
        systems = {
            c["system"]
            for e in bundle["entry"]
            for c in e["resource"].get("code", {}).get("coding", [])
        }
        assert "http://lab.synthetic-hospital.example/codes" in systems
    elif kind == "duplicate-resource":
        standalone = json.loads(paths[1].read_text())
        bundle = json.loads(paths[0].read_text())
        assert standalone in [e["resource"] for e in bundle["entry"]]
    elif kind == "dosimetry-missing-series":
        report = json.loads(paths[0].read_text())
        existing = {read_strict(p).SeriesInstanceUID for p in (tmp_path / "dicom").rglob("*.dcm")}
        assert not {tp["series_instance_uid"] for tp in report["time_points"]} <= existing
