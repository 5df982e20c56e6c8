from theragraph.auth import Principal
from theragraph.query.dataset import QueryDataset, resolve_dataset

GRAPHS = ["http://x/a/1", "http://x/a/2", "http://x/b/1"]
READER = Principal("r", frozenset({"read"}), ("http://x/a/",))
ALL = Principal("all", frozenset({"read"}))


def test_unrestricted_keeps_store_default_or_requested():
    assert resolve_dataset(ALL, all_graphs=lambda: GRAPHS) == QueryDataset(None, None)
    assert resolve_dataset(ALL, from_graphs=["http://x/b/1"], all_graphs=lambda: GRAPHS) == \
        QueryDataset(["http://x/b/1"], [])


def test_protocol_dataset_overrides_from():
    got = resolve_dataset(ALL, protocol_default=["http://x/a/1"], from_graphs=["http://x/b/1"],
                          all_graphs=lambda: GRAPHS)
    assert got == QueryDataset(["http://x/a/1"], [])


def test_restricted_reader_is_always_explicit_and_intersected():
    assert resolve_dataset(READER, all_graphs=lambda: GRAPHS) == QueryDataset(
        ["http://x/a/1", "http://x/a/2"], ["http://x/a/1", "http://x/a/2"])
    got = resolve_dataset(READER, from_graphs=["http://x/b/1", "http://x/a/2"],
                          from_named=["http://x/b/1"], all_graphs=lambda: GRAPHS)
    assert got == QueryDataset(["http://x/a/2"], [])
    got = resolve_dataset(READER, protocol_named=["http://x/b/1"], all_graphs=lambda: GRAPHS)
    assert got == QueryDataset([], [])
