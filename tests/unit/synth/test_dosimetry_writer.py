"""Dosimetry reports: contract format, references to real series and ROIs, consistent doses."""

from __future__ import annotations

import json

import pytest

from theragraph.synth.dosimetry_writer import build_report

from .conftest import read_strict


def _reports(patient, series):
    out = []
    for cycle in patient.cycles:
        spect = [s for s in series if s.plan.kind == "spect" and s.study.cycle == cycle.number]
        rt = next(s for s in series if s.plan.kind == "rtstruct" and s.study.cycle == cycle.number)
        out.append((build_report(patient, cycle, spect, rt), rt))
    return out


@pytest.mark.parametrize("fixture", ["siemens_patient", "net_patient"])
def test_reports_reference_real_series_and_roi_numbers(fixture, request, written):
    patient = request.getfixturevalue(fixture)
    series = written(patient)
    spect_uids = {s.plan.uid for s in series if s.plan.kind == "spect"}
    for report, rt in _reports(patient, series):
        assert report["format"] == "theragraph-dosimetry-report"
        assert report["patient"]["identifier_value"] == patient.person.mrn
        assert {tp["series_instance_uid"] for tp in report["time_points"]} <= spect_uids
        rois = {r.ROINumber: r.ROIName for r in read_strict(rt.files[0]).StructureSetROISequence}
        for voi in report["vois"]:
            seg = voi["segmentation"]
            assert seg["series_instance_uid"] == rt.plan.uid
            assert rois[seg["roi_number"]] == voi["id"]
        json.dumps(report, allow_nan=False)


def test_reported_doses_track_the_truth(siemens_patient, written):
    series = written(siemens_patient)
    report, _ = _reports(siemens_patient, series)[0]
    cycle = siemens_patient.cycles[0]
    for voi in report["vois"]:
        true = cycle.dose_gy(voi["id"])
        assert voi["absorbed_dose"]["value"] == pytest.approx(true, rel=0.35)
        per_gbq = voi["absorbed_dose_per_activity"]["value"]
        assert per_gbq == pytest.approx(
            voi["absorbed_dose"]["value"] / cycle.activity_gbq, rel=1e-3
        )
        assert {"organ", "lesion"} >= {voi["type"]}


def test_reports_follow_the_contract_schema(siemens_patient, written):
    """Validate against mappings/dosimetry/report.schema.json once the dosimetry area ships it."""
    jsonschema = pytest.importorskip("jsonschema")
    from theragraph.resources import resource_path

    try:
        schema_path = resource_path("mappings", "dosimetry/report.schema.json")
    except FileNotFoundError:
        pytest.skip("the dosimetry report schema is not in this checkout yet")
    schema = json.loads(schema_path.read_text())
    for report, _ in _reports(siemens_patient, written(siemens_patient)):
        jsonschema.validate(report, schema)
