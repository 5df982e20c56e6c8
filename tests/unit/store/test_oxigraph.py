import io

import pyoxigraph as ox
import pytest

from theragraph.errors import QueryError
from theragraph.store.base import GraphWrite
from theragraph.store.oxigraph import JOURNAL_NAME, OxigraphStore

EX = "http://example.org/"


def _triples(n, tag="a"):
    return [ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(f"{tag}{i}")) for i in range(n)]


def test_replace_graphs_replaces_and_does_not_duplicate(disk_store):
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3))])
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3))])
    assert disk_store.count_quads() == 3
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(2, "b"))])
    values = sorted(q.object.value for q in disk_store.quads(EX + "g1"))
    assert values == ["b0", "b1"]


def test_replace_leaves_other_graphs_alone(disk_store):
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(3)), GraphWrite(EX + "g2", _triples(4))])
    disk_store.replace_graphs([GraphWrite(EX + "g1", _triples(1))])
    assert disk_store.count_quads() == 5
    assert set(disk_store.named_graphs()) == {EX + "g1", EX + "g2"}


def test_query_uses_union_default_graph(memory_store):
    memory_store.replace_graphs([GraphWrite(EX + "g1", _triples(2)), GraphWrite(EX + "g2", _triples(1, "z"))])
    rows = list(memory_store.query("SELECT ?o WHERE { ?s ?p ?o }"))
    assert len(rows) == 3
    only = list(memory_store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[EX + "g2"]))
    assert [r["o"].value for r in only] == ["z0"]


def test_syntax_error_is_query_error(memory_store):
    with pytest.raises(QueryError) as info:
        memory_store.query("SELEC ?x WHERE {}")
    assert info.value.code == "query.syntax"


def test_literals_with_quotes_and_newlines_survive(memory_store):
    tricky = ox.Literal('a "quoted"\nline\\ and }')
    memory_store.replace_graphs([GraphWrite(EX + "g", [ox.Triple(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), tricky)])])
    assert next(memory_store.quads()).object == tricky


def test_dump_nquads(memory_store):
    memory_store.replace_graphs([GraphWrite(EX + "g", _triples(2))])
    out = io.BytesIO()
    memory_store.dump(out, format="nq")
    assert out.getvalue().count(b"\n") == 2



def _about(subject: str, n: int) -> list[ox.Triple]:
    s = ox.NamedNode(subject)
    return [ox.Triple(s, ox.NamedNode(f"https://example.org/p{i}"), ox.Literal(str(i))) for i in range(n)]


def test_new_graphs_on_disk_go_through_the_journalled_bulk_loader(tmp_path, monkeypatch):  # noqa: ANN001
    store = OxigraphStore(tmp_path / "s")
    seen: list[list[str]] = []

    class Spy:  # the raw store, with bulk_load recording what the journal says meanwhile
        def __init__(self, raw: ox.Store) -> None:
            self.raw = raw

        def bulk_load(self, *args, **kwargs) -> None:
            seen.append((tmp_path / "s" / JOURNAL_NAME).read_text().split())
            self.raw.bulk_load(*args, **kwargs)

        def __getattr__(self, name: str):
            return getattr(self.raw, name)

    monkeypatch.setattr(store, "_store", Spy(store.raw))
    assert store.replace_graphs([GraphWrite("https://example.org/g1", _about("https://example.org/a", 3)),
                                 GraphWrite("https://example.org/g2", _about("https://example.org/b", 2))]) == 5
    assert seen == [["https://example.org/g1", "https://example.org/g2"]]
    assert not (tmp_path / "s" / JOURNAL_NAME).exists()
    assert len(store.raw.raw) == 5
    # an existing graph is replaced in a transaction, not bulk loaded (which would add to it)
    store.replace_graphs([GraphWrite("https://example.org/g1", _about("https://example.org/a", 1))])
    assert len(seen) == 1
    assert len(store.raw.raw) == 3


@pytest.mark.parametrize("read_only", [False, True])  # True: e.g. `theragraph query` after a crash
def test_a_journal_left_by_a_crash_drops_its_graphs_on_open(tmp_path, read_only):
    store = OxigraphStore(tmp_path / "s")
    store.replace_graphs([GraphWrite("https://example.org/old", _about("https://example.org/o", 2))])
    # as if killed during a bulk load: part of the new graph landed, the journal names it
    store.raw.bulk_load(b"<https://example.org/new> { <https://example.org/n> <https://example.org/p> 1 . }",
                        format=ox.RdfFormat.TRIG)
    (tmp_path / "s" / JOURNAL_NAME).write_text("https://example.org/new\n")
    store.close()
    reopened = OxigraphStore(tmp_path / "s", read_only=read_only)
    assert reopened.named_graphs() == ["https://example.org/old"]
    assert reopened.count_quads() == 2
    assert not (tmp_path / "s" / JOURNAL_NAME).exists()
    reopened.close()


def test_bulk_loads_side_by_side_have_a_journal_each(tmp_path, monkeypatch):  # noqa: ANN001
    """Two writer threads (the ingest's, on disk) load disjoint new graphs at the same time."""
    import threading

    store = OxigraphStore(tmp_path / "s")
    assert store.concurrent_writes == 2
    both_inside = threading.Barrier(2, timeout=30)
    journals: list[list[str]] = []

    class Spy:  # bulk_load waits until both loads are inside it, then records the journals
        def __init__(self, raw: ox.Store) -> None:
            self.raw = raw

        def bulk_load(self, *args, **kwargs) -> None:
            both_inside.wait()
            journals.append(sorted(p.name for p in (tmp_path / "s").glob("*.journal")))
            self.raw.bulk_load(*args, **kwargs)

        def __getattr__(self, name: str):
            return getattr(self.raw, name)

    monkeypatch.setattr(store, "_store", Spy(store.raw))
    writes = [[GraphWrite(f"https://example.org/g{k}", _about(f"https://example.org/s{k}", 3))]
              for k in range(2)]
    threads = [threading.Thread(target=store.replace_graphs, args=(w,)) for w in writes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert journals == [sorted([JOURNAL_NAME, "theragraph-bulk-load-1.journal"])] * 2
    assert not list((tmp_path / "s").glob("*.journal"))
    assert sorted(store.named_graphs()) == ["https://example.org/g0", "https://example.org/g1"]
    assert len(store.raw.raw) == 6
    assert OxigraphStore(None).concurrent_writes == 1  # in memory: one transaction per load


def test_every_journal_left_by_a_crash_is_rolled_back(tmp_path):  # noqa: ANN001
    """Two loads side by side, both killed: both journals' graphs are dropped on the next open."""
    store = OxigraphStore(tmp_path / "s")
    n, p = "<https://example.org/n>", "<https://example.org/p>"
    trig = f"<https://example.org/a> {{ {n} {p} 1 . }}\n<https://example.org/b> {{ {n} {p} 2 . }}"
    store.raw.bulk_load(trig.encode(), format=ox.RdfFormat.TRIG)
    (tmp_path / "s" / JOURNAL_NAME).write_text("https://example.org/a\n")
    (tmp_path / "s" / "theragraph-bulk-load-1.journal").write_text("https://example.org/b\n")
    store.close()
    reopened = OxigraphStore(tmp_path / "s")
    assert reopened.count_quads() == 0
    assert not list((tmp_path / "s").glob("*.journal"))
    reopened.close()


def test_a_failing_bulk_load_leaves_no_part_of_its_graphs(tmp_path):
    store = OxigraphStore(tmp_path / "s")
    good = b"<https://example.org/g> { <https://example.org/s> <https://example.org/p> 1 . }\n"
    with pytest.raises(SyntaxError):
        store._bulk_load(good + b"<https://example.org/g> { this is not TriG }", ["https://example.org/g"])
    assert store.count_quads() == 0
    assert not (tmp_path / "s" / JOURNAL_NAME).exists()


def test_a_read_only_open_beside_a_writer_leaves_its_journal(tmp_path):
    writer = OxigraphStore(tmp_path / "s")  # holds the lock, as a running ingest does
    writer.replace_graphs([GraphWrite("https://example.org/old", _about("https://example.org/o", 1))])
    (tmp_path / "s" / JOURNAL_NAME).write_text("https://example.org/loading\n")
    reader = OxigraphStore(tmp_path / "s", read_only=True)
    assert (tmp_path / "s" / JOURNAL_NAME).exists()  # the writer's load in progress is not undone
    reader.close()
    (tmp_path / "s" / JOURNAL_NAME).unlink()
    writer.close()


def _nt(s: str) -> bytes:
    return f"<http://e/{s}> <http://e/p> \"{s}\" .\n".encode()


def _asked(store: OxigraphStore, graphs: list[str]) -> set[str]:
    """What the store itself says exists (one lookup per graph, no remembered set)."""
    return {g for g in graphs if store.raw.contains_named_graph(ox.NamedNode(g))}


@pytest.mark.parametrize("on_disk", [True, False])
def test_a_store_opened_empty_remembers_the_graphs_it_wrote(tmp_path, on_disk):  # noqa: ANN001
    store = OxigraphStore(tmp_path / "s" if on_disk else None)
    g = ["http://e/g1", "http://e/g2", "http://e/g3"]
    store.replace_graphs([GraphWrite(g[0], ntriples=_nt("a")), GraphWrite(g[1], ntriples=_nt("b"))])
    assert store._known == {g[0], g[1]}  # answered without asking the store
    assert store.existing_graphs(g) == {g[0], g[1]}
    store.replace_graphs([GraphWrite(g[1]), GraphWrite(g[2], ntriples=_nt("c"))])  # g2 replaced by nothing
    assert store.existing_graphs(g) == {g[0], g[2]}
    store.delete_graphs([g[0]])
    assert store.existing_graphs(g) == {g[2]}
    assert store._known is not None
    assert store.existing_graphs(g) == _asked(store, g) == {g[2]}  # raw: the set is dropped
    assert store._known is None


def test_an_update_or_a_non_empty_store_makes_it_ask_the_store(tmp_path):  # noqa: ANN001
    store = OxigraphStore(tmp_path / "s")
    store.update("INSERT DATA { GRAPH <http://e/u> { <http://e/s> <http://e/p> 1 } }")
    assert store._known is None
    assert store.existing_graphs(["http://e/u", "http://e/v"]) == {"http://e/u"}
    store.close()
    reopened = OxigraphStore(tmp_path / "s")
    assert reopened._known is None  # not empty when opened: another run's graphs are there
    reopened.replace_graphs([GraphWrite("http://e/v", ntriples=_nt("v"))])
    assert reopened.existing_graphs(["http://e/u", "http://e/v", "http://e/w"]) == {"http://e/u", "http://e/v"}


def test_a_failed_write_makes_it_ask_the_store(tmp_path, monkeypatch):  # noqa: ANN001
    store = OxigraphStore(tmp_path / "s")
    store.replace_graphs([GraphWrite("http://e/a", ntriples=_nt("a"))])

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "_bulk_load", boom)
    with pytest.raises(Exception, match="disk full"):
        store.replace_graphs([GraphWrite("http://e/b", ntriples=_nt("b"))])
    assert store._known is None
    assert store.existing_graphs(["http://e/a", "http://e/b"]) == {"http://e/a"}
