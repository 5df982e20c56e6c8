"""scan_cached: same facts as scan, shared for repeated texts, long texts not kept."""

from __future__ import annotations

from theragraph.query.text import _CACHE_MAX_CHARS, scan, scan_cached


def test_cached_facts_equal_scan_and_are_shared() -> None:
    text = "PREFIX ex: <http://e/> SELECT * FROM ex:g FROM NAMED <http://e/h> WHERE { ?s ?p ?o }"
    first = scan_cached(text)
    assert first == scan(text)
    assert first.from_graphs == ["http://e/g"] and first.from_named == ["http://e/h"]
    assert scan_cached(text) is first


def test_long_texts_are_scanned_each_time() -> None:
    text = "SELECT * WHERE { ?s ?p ?o }" + " " * _CACHE_MAX_CHARS
    assert scan_cached(text) is not scan_cached(text)
    assert scan_cached(text).form == "SELECT"
