"""The embedded default: a pyoxigraph (RocksDB) store on disk, or in memory for tests.

A crash leaves each named graph as it was or complete:

- graphs that exist are replaced by one SPARQL update (one transaction);
- graphs new to the store (the usual first ingest) go in through pyoxigraph's bulk loader, which
  writes sorted index files instead of a transaction: 2.4x less CPU and 3.7x less time per quad
  here (bench/RESULTS.md). The bulk loader is not atomic, so the new graphs' IRIs are first written
  to an fsynced journal in the store folder, and the journal is removed once the load returned.
  Opening a store whose journal survived a crash drops those graphs: they are absent again, as
  before the write, and the next ingest writes them whole. A read-only open does this first too,
  unless a writer holds the store (then the journal is its load in progress).

Writes of disjoint graph sets may run side by side (``concurrent_writes``, the ingest's writer
threads): each bulk load has a journal of its own, as oxigraph's own ``load`` runs a bulk loader
per file. A bulk load is one thread parsing and then one building its index files, so two of them
keep both cores busy where one leaves the second idle (the end of an ingest, once the workers are
done: bench/RESULTS.md). Callers must not write the same graph from two threads at once (the
pipeline waits for the earlier write of a graph before it submits the next).

In-memory stores (tests) use one transactional load.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from theragraph.errors import QueryError, StoreError
from theragraph.store.base import GraphWrite

log = logging.getLogger(__name__)

#: lists the graphs of a bulk load in progress (removed when it returned; see the module doc);
#: a load beside another one uses ``theragraph-bulk-load-<n>.journal``
JOURNAL_NAME = "theragraph-bulk-load.journal"
_JOURNAL_GLOB = "theragraph-bulk-load*.journal"
#: graphs remembered by a store opened empty before it asks the store instead (bounded memory)
KNOWN_GRAPHS_MAX = 1_000_000

_DUMP_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}


def _replace_update(writes: Sequence[GraphWrite]) -> str:
    """Return one SPARQL update that drops and re-fills the given graphs."""
    drops = [f"DROP SILENT GRAPH {ox.NamedNode(w.graph)}" for w in writes]
    body: list[str] = []
    for write in writes:
        if write.triples or write.ntriples:
            # N-Triples lines are valid SPARQL triple syntax inside INSERT DATA.
            data = _ntriples(write)
            body.append(f"GRAPH {ox.NamedNode(write.graph)} {{\n{data.decode()}}}")
    update = " ;\n".join(drops)
    if body:
        update += " ;\nINSERT DATA {\n" + "\n".join(body) + "\n}"
    return update


def _trig(writes: Sequence[GraphWrite]) -> bytes:
    """Return ``writes`` as TriG (one N-Triples block per graph), for one transactional ``load``.

    Serialising in Rust is ~20x cheaper than building a ``Quad`` per triple in Python, and
    ``Store.load`` parses and writes with the GIL released, so the caller's other threads run.
    """
    parts: list[bytes] = []
    for write in writes:
        if write.triples or write.ntriples:
            parts.append(f"{ox.NamedNode(write.graph)} {{\n".encode())
            parts.append(_ntriples(write))
            parts.append(b"}\n")
    return b"".join(parts)


def _ntriples(write: GraphWrite) -> bytes:
    """Return a write's content as N-Triples (its serialised part as it is)."""
    if not write.triples:
        return write.ntriples
    return ox.serialize(write.triples, format=ox.RdfFormat.N_TRIPLES) + write.ntriples


def _fsync_dir(path: Path | None) -> None:
    """Make a file's creation or removal in ``path`` durable."""
    if path is None or os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _journals(path: Path) -> list[Path]:
    """Return the bulk-load journals in the store folder ``path``."""
    return sorted(path.glob(_JOURNAL_GLOB))


def _journal_path(path: Path, slot: int) -> Path:
    return path / (JOURNAL_NAME if slot == 0 else f"theragraph-bulk-load-{slot}.journal")


def _roll_back(store: ox.Store, path: Path, journals: list[Path] | None = None) -> None:
    """Drop the graphs the journals in ``path`` name (all, or ``journals``); remove the journals."""
    for journal in _journals(path) if journals is None else journals:
        if not journal.exists():
            continue
        graphs = [line for line in journal.read_text().splitlines() if line]
        log.warning("the store at %s was closed during a write: removing its %d incomplete new "
                    "graphs (ingest their files again)", path, len(graphs))
        if graphs:
            store.update(" ;\n".join(f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in graphs))
            store.flush()
        journal.unlink()
        _fsync_dir(path)


def _roll_back_if_unlocked(path: Path) -> None:
    """Before a read-only open: roll back an interrupted bulk load unless a writer holds the store.

    A writer that holds it is loading those graphs right now (a reader may see part of them, as
    it may see any write in progress); otherwise the journal is a crash's, and is undone here.
    """
    try:
        writable = ox.Store(str(path))
    except (OSError, RuntimeError):
        log.warning("the store at %s is being written by another process", path)
        return
    try:
        _roll_back(writable, path)
    finally:
        del writable  # RocksDB closes with the last reference: the read-only open follows


class OxigraphStore:
    """A :class:`~theragraph.store.base.Store` backed by ``pyoxigraph.Store``."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        """Open (or create) the store.

        Args:
            path: directory of the on-disk store; None for an in-memory store.
            read_only: open an existing on-disk store without taking the write lock.

        Raises:
            StoreError: when the directory is locked by another process or unreadable.
        """
        self.path = Path(path) if path is not None else None
        self._read_only = read_only
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                if _journals(self.path):
                    _roll_back_if_unlocked(self.path)
                self._store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except (OSError, RuntimeError) as exc:
            raise StoreError(
                f"cannot open the store at {self.path}: {exc}. If another theragraph process "
                "is using it, stop that process or open this one read-only.",
                code="store.locked",
            ) from exc
        if self.path is not None and not read_only:
            _roll_back(self._store, self.path)
        # journal slots of the bulk loads in progress (one each; see the module doc)
        self._slots: set[int] = set()
        self._slots_lock = threading.Lock()
        # The graphs of a store opened empty and written only through this object (a writable
        # store holds RocksDB's lock: no other process writes), so existing_graphs need not ask
        # the store (a key lookup per graph, ~10 us, twice per graph written). None: ask it.
        self._known: set[str] | None = None
        if not read_only and next(iter(self._store.named_graphs()), None) is None:
            self._known = set()

    @property
    def concurrent_writes(self) -> int:
        """How many :meth:`replace_graphs` calls on disjoint graphs may usefully run at once.

        Two on disk (bulk loads side by side, see the module doc); one in memory, where a load
        is one transaction.
        """
        return 1 if self.path is None else 2

    def _bulk_load(self, trig: bytes, graphs: list[str]) -> None:
        """Load new graphs with the bulk loader, made crash-safe by a journal of its own."""
        assert self.path is not None
        with self._slots_lock:
            slot = next(i for i in range(len(self._slots) + 1) if i not in self._slots)
            self._slots.add(slot)
        journal = _journal_path(self.path, slot)
        try:
            with journal.open("w") as fh:
                fh.write("\n".join(graphs) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(self.path)
            try:
                # lenient: the TriG is ours, built from terms checked when they were made (-8 % CPU)
                self._store.bulk_load(trig, format=ox.RdfFormat.TRIG, lenient=True)
            except BaseException:
                # what was loaded goes: the graphs stay absent
                _roll_back(self._store, self.path, [journal])
                raise
            journal.unlink()
        finally:
            with self._slots_lock:
                self._slots.discard(slot)

    def __repr__(self) -> str:
        return f"OxigraphStore({str(self.path) if self.path else ':memory:'})"

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store (for the store layer and its peers only)."""
        self._known = None  # its writes would not be seen
        return self._store

    def _note_graphs(self, writes: Sequence[GraphWrite]) -> None:
        """Remember which graphs ``writes`` left in the store (see ``_known``)."""
        known = self._known
        if known is None:
            return
        for write in writes:
            if write.triples or write.ntriples:
                known.add(write.graph)
            else:  # replaced by nothing: dropped
                known.discard(write.graph)
        if len(known) > KNOWN_GRAPHS_MAX:
            self._known = None

    def replace_graphs(self, writes: Sequence[GraphWrite]) -> int:
        """Replace named graphs; each graph is replaced atomically.

        Graphs not in the store yet (the usual first ingest) are added by the journalled bulk
        loader (module doc); graphs that exist are dropped and re-inserted by one SPARQL update
        (one transaction), so a crash never leaves a graph half-written. Calls from several
        threads must write disjoint graphs (module doc).
        """
        if not writes:
            return 0
        fresh: list[GraphWrite] = []
        existing: list[GraphWrite] = []
        stored = self.existing_graphs(w.graph for w in writes)
        for write in writes:
            (existing if write.graph in stored else fresh).append(write)
        total = sum(w.size() for w in writes)
        try:
            if fresh and self.path is not None:
                self._bulk_load(_trig(fresh), [w.graph for w in fresh])
            elif fresh:
                self._store.load(_trig(fresh), format=ox.RdfFormat.TRIG, lenient=True)
            if existing:
                self._store.update(_replace_update(existing))
        except BaseException as exc:
            self._known = None  # what landed is the store's to say
            if isinstance(exc, (OSError, SyntaxError)):
                raise StoreError(f"write failed: {exc}", code="store.write-failed") from exc
            raise
        self._note_graphs(writes)
        return total

    def delete_graphs(self, graphs: Iterable[str]) -> None:
        """Delete named graphs in one transaction."""
        graphs = list(graphs)
        ops = [f"DROP SILENT GRAPH <{ox.NamedNode(g).value}>" for g in graphs]
        if ops:
            try:
                self._store.update(" ;\n".join(ops))
            except BaseException:
                self._known = None
                raise
            self._note_graphs([GraphWrite(g) for g in graphs])

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        substitutions: dict[str, Any] | None = None,
        union_default_graph: bool = True,
    ) -> Any:
        """Run a SPARQL query (see :meth:`Store.query`).

        Raises:
            QueryError: on a syntax error (message has line and column) or evaluation error.
        """
        kwargs: dict[str, Any] = {}
        if default_graph is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = union_default_graph
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if substitutions:
            kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}", code="query.syntax") from exc
        except OSError as exc:
            raise QueryError(f"query failed: {exc}", code="query.failed") from exc

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update in one transaction."""
        self._known = None  # an update may add or drop any graph
        try:
            self._store.update(sparql)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}", code="query.syntax") from exc
        except OSError as exc:
            raise StoreError(f"update failed: {exc}", code="store.write-failed") from exc

    def named_graphs(self) -> list[str]:
        """Return all named graph IRIs."""
        return [g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def graph_exists(self, graph: str) -> bool:
        """Return True when the graph holds at least one quad."""
        node = ox.NamedNode(graph)
        return next(iter(self._store.quads_for_pattern(None, None, None, node)), None) is not None

    def existing_graphs(self, graphs: Iterable[str]) -> set[str]:
        """Return those of ``graphs`` the store knows (one key lookup each; an empty graph made by
        ``CREATE GRAPH`` counts too, which the protocol allows)."""
        known = self._known
        if known is not None:
            return {g for g in graphs if g in known}
        contains = self._store.contains_named_graph
        return {g for g in graphs if contains(ox.NamedNode(g))}

    def count_quads(self) -> int:
        """Return the number of quads."""
        return len(self._store)

    def dump(self, output: IO[bytes], *, format: str = "nq") -> None:
        """Write all quads as N-Quads or TriG."""
        try:
            rdf_format = _DUMP_FORMATS[format]
        except KeyError as exc:
            raise ValueError(f"unknown dump format {format!r}; use one of {list(_DUMP_FORMATS)}") from exc
        self._store.dump(output, format=rdf_format)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Iterate over quads, optionally of one graph."""
        node = ox.NamedNode(graph) if graph is not None else None
        return iter(self._store.quads_for_pattern(None, None, None, node))

    def close(self) -> None:
        """Flush pending writes and release the store (its lock) for other openers.

        RocksDB closes when the last reference to the pyoxigraph store goes, so this drops ours;
        the object must not be used afterwards.
        """
        store = self.__dict__.pop("_store", None)
        if store is not None and self.path is not None and not self._read_only:
            try:
                store.flush()
            except OSError:
                pass
        del store
