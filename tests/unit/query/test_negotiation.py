import pytest

from theragraph.query.negotiation import choose, parse_accept


def test_parse_accept_orders_by_q_then_position():
    assert parse_accept("text/csv;q=0.5, application/xml, */*;q=0.1") == [
        ("application/xml", 1.0), ("text/csv", 0.5), ("*/*", 0.1)]
    assert parse_accept(None) == [("*/*", 1.0)]


@pytest.mark.parametrize(("accept", "graph", "expected"), [
    (None, False, "application/sparql-results+json"),
    (None, True, "text/turtle"),
    ("", True, "text/turtle"),
    ("application/sparql-results+xml", False, "application/sparql-results+xml"),
    ("text/*", False, "text/csv"),
    ("application/rdf+xml;q=0.9, application/ld+json", True, "application/ld+json"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", True, "text/turtle"),
    ("application/n-triples", True, "application/n-triples"),
])
def test_choose(accept, graph, expected):
    choice = choose(accept, graph=graph)
    assert choice is not None and choice.media_type == expected


def test_nothing_acceptable():
    assert choose("image/png", graph=False) is None
    assert choose("application/sparql-results+json", graph=True) is None
    assert choose("text/turtle;q=0", graph=True) is None
