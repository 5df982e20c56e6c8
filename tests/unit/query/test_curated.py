import pyoxigraph as ox
import pytest

from theragraph.errors import QueryError
from theragraph.query.curated import bind_params, load_curated, parse_header

QUERY = """# title: PET SUV factors per series
# description: One row per PET series
# description: with its SUVbw factor.
# param: radionuclide (iri, optional) restrict to this radionuclide
# param: min_weight (decimal) lowest weight in kg
SELECT ?series ?radionuclide ?min_weight WHERE { ?series ?p ?radionuclide }
"""


def test_header_is_parsed():
    title, description, params = parse_header(QUERY)
    assert title == "PET SUV factors per series"
    assert description == "One row per PET series with its SUVbw factor."
    assert [(p.name, p.type, p.optional) for p in params] == [
        ("radionuclide", "iri", True), ("min_weight", "decimal", False)]
    assert params[0].description == "restrict to this radionuclide"


def test_load_picks_up_every_rq_file(tmp_path):
    (tmp_path / "list-things.rq").write_text(QUERY)
    (tmp_path / "count-things.rq").write_text("# title: Count\nASK {}")
    (tmp_path / "notes.txt").write_text("ignored")
    queries = load_curated(tmp_path)
    assert list(queries) == ["count-things", "list-things"]
    assert queries["count-things"].form == "ASK"
    assert queries["list-things"].form == "SELECT"


def test_project_queries_directory_loads():
    queries = load_curated()
    assert "list-types" in queries and all(q.title for q in queries.values())


def test_bind_params_types_and_errors(tmp_path):
    (tmp_path / "q.rq").write_text(QUERY)
    query = load_curated(tmp_path)["q"]
    bound = bind_params(query, {"min_weight": "70.5", "radionuclide": "http://snomed.info/id/1"})
    assert bound["radionuclide"] == ox.NamedNode("http://snomed.info/id/1")
    assert bound["min_weight"] == ox.Literal("70.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))
    for values in ({}, {"min_weight": "heavy"}, {"min_weight": "1", "other": "x"},
                   {"min_weight": "1", "radionuclide": "not an iri> }"}):
        with pytest.raises(QueryError) as info:
            bind_params(query, values)
        assert info.value.code == "query.bad-parameter"


def test_unknown_param_type_is_refused():
    with pytest.raises(QueryError) as info:
        parse_header("# param: x (colour) a colour\nASK {}")
    assert info.value.code == "query.bad-header"
