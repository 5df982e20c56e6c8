"""The RT Dose / DVH seam: after the series units, DicomHandler hands RTDOSE and RTSTRUCT/SEG
series to ``theragraph.pipeline.rt_dvh.dvh_units`` when that module exists.

The dosimetry engineer's module does not exist on this branch; a stand-in module registered for
this test only records the call and yields one real graph, which must land in the store.
"""

from __future__ import annotations

import sys
import types

import pyoxigraph as ox
import pytest

from tests.integration.dicom_cohort import write_cohort
from theragraph.ids import Pseudonymizer
from theragraph.mapping.base import MappedGraph
from theragraph.pipeline.ingest import IngestPipeline
from theragraph.pipeline.sources import IngestContext, IngestUnit
from theragraph.report import FileOutcome
from theragraph.store.oxigraph import OxigraphStore

pytestmark = pytest.mark.integration


def test_dvh_units_get_rtdose_and_structure_series_with_original_uids(tmp_path, monkeypatch):
    cohort = write_cohort(tmp_path / "c", junk=False)
    calls = []

    def dvh_units(rtdose, structures, ctx):
        calls.append((rtdose, structures))
        g = MappedGraph(graph="https://w3id.org/theragraph/graph/dvh/test", kind="dicom")
        g.add(ox.NamedNode("https://w3id.org/theragraph/id/dvh/test"), ox.NamedNode("urn:p"), ox.Literal("x"))
        yield IngestUnit([g], [FileOutcome(path="rt/rtdose", status="ingested", graphs=[g.graph])])

    stand_in = types.ModuleType("theragraph.pipeline.rt_dvh")
    stand_in.dvh_units = dvh_units
    monkeypatch.setitem(sys.modules, "theragraph.pipeline.rt_dvh", stand_in)
    store = OxigraphStore(None)
    ctx = IngestContext(pseudonymizer=Pseudonymizer(b"d" * 32), root=cohort.root)
    IngestPipeline(store, ctx).run([cohort.root])
    assert len(calls) == 1
    rtdose, structures = calls[0]
    assert [(s.modality, s.series_uid) for s in rtdose] == [("RTDOSE", cohort.uids["rtdose"])]
    assert sorted((s.modality, s.series_uid) for s in structures) == sorted(
        [("RTSTRUCT", cohort.uids["rtstruct"]), ("SEG", cohort.uids["seg"]), ("SEG", cohort.uids["labelmap"])]
    )
    assert all(f.exists() for s in rtdose + structures for f in s.files)
    assert store.graph_exists("https://w3id.org/theragraph/graph/dvh/test")
