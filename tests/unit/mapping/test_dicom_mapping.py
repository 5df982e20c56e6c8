"""The DICOM mapper: curated terms, SUV factors, datetimes with time zones, lossless layer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pyoxigraph as ox
import pytest

from theragraph.mapping.dicom import DicomSeriesMapper, combine_datetime, series_iri
from theragraph.records.dicom import InstanceEntry, SeriesRecord, SuvFactors
from theragraph.vocab import DCMATTR, TG

RP = (
    (("RadiopharmaceuticalStartDateTime", datetime(2020, 5, 1, 9, 30)),
     ("RadionuclideTotalDose", 370.0),  # MBq by mistake
     ("RadionuclideCodeSequence", ((("CodeValue", "C-111A1"), ("CodingSchemeDesignator", "XYZ")),)),),
)


def _series(**common) -> SeriesRecord:
    base = {"Modality": "PT", "PatientSex": "F", "PatientWeight": 70.0, "SeriesDate": date(2020, 5, 1),
            "SeriesTime": time(10, 0), "TimezoneOffsetFromUTC": "+0200",
            "RadiopharmaceuticalInformationSequence": RP, "Manufacturer": "ACME"}
    base.update(common)
    return SeriesRecord(
        series_uid="2.25.1", study_uid="2.25.2", modality="PT", sop_class_uid="1.2.840.10008.5.1.4.1.1.128",
        patient="p1", common=base,
        instances=[InstanceEntry("2.25.10", {"ImagePositionPatient": (0.0, 0.0, 1.0)}),
                   InstanceEntry("2.25.11", {"ImagePositionPatient": (0.0, 0.0, 2.0)})],
        checksum="abc",
    )


def _values(graph, subject, prop):
    return [t.object for t in graph.triples if t.subject == subject and t.predicate == ox.NamedNode(str(prop))]


def test_datetime_takes_timezone_offset_when_value_has_none():
    tz = timezone(timedelta(hours=2))
    spec = {"date": "D", "time": "T", "datetime": "DT"}
    assert combine_datetime({"D": date(2020, 1, 2), "T": time(3, 4)}, spec, tz) == datetime(2020, 1, 2, 3, 4, tzinfo=tz)
    own = datetime(2020, 1, 2, 3, 4, tzinfo=timezone.utc)
    assert combine_datetime({"DT": own}, spec, tz) == own
    assert combine_datetime({"D": date(2020, 1, 2)}, spec, None) is None


def test_suv_factors_and_variants_are_stored_per_series():
    record = _series()
    record.suv = SuvFactors(0.0002, "bqml-start", variants={"suvlbm_james": 0.00015, "suvbsa": 0.004})
    graph = DicomSeriesMapper().map_series(record, source_checksum="k")
    s = series_iri("2.25.1")
    assert float(_values(graph, s, TG.suvbwFactor)[0].value) == pytest.approx(0.0002)
    assert float(_values(graph, s, TG.suvlbmJamesFactor)[0].value) == pytest.approx(0.00015)
    assert _values(graph, s, TG.suvRule)[0].value == "bqml-start"
    assert not _values(graph, s, TG.suvNotComputableReason)


def test_suv_not_computable_states_reason_in_graph_and_issue():
    record = _series()
    record.suv = SuvFactors(None, "none", reason="PatientWeight missing", code="suv.missing-weight")
    graph = DicomSeriesMapper().map_series(record, source_checksum="k")
    assert _values(graph, series_iri("2.25.1"), TG.suvNotComputableReason)[0].value == "PatientWeight missing"
    assert [i.code for i in graph.issues if i.code.startswith("suv.")] == ["suv.missing-weight"]


def test_radiopharmaceutical_node_has_activity_in_mbq_and_timezone():
    graph = DicomSeriesMapper().map_series(_series(), source_checksum="k")
    admins = _values(graph, series_iri("2.25.1"), TG.hasRadiopharmaceuticalAdministration)
    assert len(admins) == 1
    assert float(_values(graph, admins[0], TG.administeredActivity)[0].value) == 370.0
    assert _values(graph, admins[0], TG.administrationStartTime)[0].value == "2020-05-01T09:30:00+02:00"
    codes = {i.code for i in graph.issues}
    assert {"map.unit-assumed", "map.unmapped-code"} <= codes


def test_lossless_layer_splits_common_and_varying_attributes():
    graph = DicomSeriesMapper().map_series(_series(), source_checksum="k")
    s = series_iri("2.25.1")
    assert _values(graph, s, DCMATTR.PatientWeight)[0].value == "70.0"
    assert not _values(graph, s, DCMATTR.ImagePositionPatient)
    positions = [t for t in graph.triples if t.predicate == ox.NamedNode(str(DCMATTR.ImagePositionPatient))]
    assert sorted(p.object.value for p in positions) == ["0.0\\0.0\\1.0", "0.0\\0.0\\2.0"]
    # the structured sequence is not repeated in the lossless layer
    assert not _values(graph, s, DCMATTR.RadiopharmaceuticalInformationSequence)
    assert _values(graph, s, TG.instanceCount)[0].value == "2"


@pytest.mark.parametrize(
    ("start", "series_time", "expected"),
    [
        (time(23, 22), time(0, 35), "2020-04-30T23:22:00+02:00"),  # injected before midnight
        (time(9, 30), time(10, 0), "2020-05-01T09:30:00+02:00"),  # same day
    ],
)
def test_time_only_injection_is_dated_by_series_date_and_flagged(start, series_time, expected):
    rp = ((("RadiopharmaceuticalStartTime", start), ("RadionuclideTotalDose", 3.7e8)),)
    graph = DicomSeriesMapper().map_series(
        _series(RadiopharmaceuticalInformationSequence=rp, SeriesTime=series_time), source_checksum="k"
    )
    admin = _values(graph, series_iri("2.25.1"), TG.hasRadiopharmaceuticalAdministration)[0]
    assert _values(graph, admin, TG.administrationStartTime)[0].value == expected
    assert "map.injection-date-assumed" in {i.code for i in graph.issues}
