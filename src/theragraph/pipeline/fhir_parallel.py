"""Read and map the lines of FHIR NDJSON files in worker processes (``ingest --workers N``).

The FHIR handler's first pass (the index of every resource key) runs in a first pool, each worker
taking byte ranges of the NDJSON files (:func:`index_in_parallel`); then the parent forks the
reading workers, so each has the complete index and the pseudonymiser. A worker reads (R4B
validation, reference resolution, de-identification) and maps a chunk of lines and sends the
graphs back as N-Triples (the mapper writes text; pickling pyoxigraph terms costs ~50 us each).
They stay N-Triples in the parent (:class:`SerializedGraph`): SHACL validation and the store
write read the bytes as they are.
Workers have no store: a line with a reference that only the store can resolve (a record of an
earlier run) comes back unread and the parent reads it. Results come back in file order, with at
most ``AHEAD_CHUNKS`` chunks in flight (bounded memory).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from theragraph.ingest.fhir import FhirReader, IndexedEntry, is_ndjson, ndjson_line_entries
from theragraph.mapping.base import MappedGraph, SerializedGraph
from theragraph.mapping.fhir import FhirMapper
from theragraph.records.fhir import FailedResource, FhirRecord
from theragraph.report import Issue

CHUNK_LINES = 200
#: bytes of NDJSON per first-pass task
INDEX_CHUNK_BYTES = 4_000_000
#: chunks submitted ahead of the one being consumed: enough for the workers to read on while the
#: parent validates a unit and waits for its write (~30,000 lines, ~60 MB of results; one unit's
#: worth, 50, left them idle during writes: 2.19x vs 2.13x parse-alone in alternating runs)
AHEAD_CHUNKS = 150


@dataclass(slots=True)
class MapFailure:
    """A resource whose mapping raised (reported as ``internal.bug``)."""

    location: str
    error: str


@dataclass(slots=True)
class _Line:
    """An NDJSON line that needs the store; the parent reads it."""

    number: int
    line: bytes


#: a mapped graph in transit from a worker: (graph, kind, patient, source checksum, mapping
#: version, issues, N-Triples); a plain tuple pickles ~10x cheaper than a dataclass
_Shipped = tuple[str, str, str | None, str | None, str | None, list[Issue], bytes]


def _ship(graph: MappedGraph) -> _Shipped:
    return (graph.graph, graph.kind, graph.patient, graph.source_checksum, graph.mapping_version,
            graph.issues, graph.serialized())


def _unpack(shipped: _Shipped) -> MappedGraph:
    # kept as N-Triples: validation and the store read the bytes, nothing parses them here
    graph, kind, patient, checksum, version, issues, ntriples = shipped
    return SerializedGraph(graph=graph, triples=[], kind=kind, patient=patient,
                           source_checksum=checksum, mapping_version=version, issues=issues,
                           ntriples=ntriples)


class _NeedsStore(Exception):
    """Raised in a worker by a reference that only the store can resolve."""


def _no_store(resource_type: str, token: str) -> tuple[bool, str | None]:
    raise _NeedsStore


# The reader and mapper the workers inherit (set in the parent just before the fork).
_STATE: tuple[FhirReader, FhirMapper, bool] | None = None
_line_counts: dict[str, int] = {}


def _count(key: str) -> None:
    _line_counts[key] = _line_counts.get(key, 0) + 1


def _map_lines(lines: list[tuple[int, bytes]]) -> list[tuple[list[object], dict[str, int]]]:
    """In a worker: read and map NDJSON lines; return each line's results and mapper counters."""
    assert _STATE is not None
    reader, mapper, fail_fast = _STATE
    reader.index.lookup = _no_store
    mapper.count = _count
    out: list[tuple[list[object], dict[str, int]]] = []
    for number, line in lines:
        _line_counts.clear()
        items: list[object] = []
        try:
            for entry in ndjson_line_entries(number, line):
                record = entry if isinstance(entry, FailedResource) else reader.read_entry(entry)
                if isinstance(record, FailedResource):
                    items.append(record)
                    continue
                try:
                    graph = mapper.map_record(record)
                except Exception as exc:  # as in the sequential handler: one odd resource
                    if fail_fast:
                        raise
                    items.append(MapFailure(record.location, type(exc).__name__))
                    continue
                items.append(_ship(graph))
        except _NeedsStore:  # read again by the parent; this attempt's counters are dropped
            out.append(([_Line(number, line)], {}))
            continue
        out.append((items, dict(_line_counts)))
    return out


#: the generation-2 threshold while workers run (Python's default is 10): full collections put off
FULL_COLLECTION_THRESHOLD = 1_000


@contextmanager
def collector_set_for_workers() -> Iterator[None]:
    """Freeze the objects that exist now and put off full collections while workers run.

    Both are undone after. Freezing is the pattern of the ``gc.freeze`` documentation for fork
    without exec: the workers' and this process's collections no longer walk the long-lived
    objects (modules, models, shapes), and the workers do not copy the pages those objects live
    on by touching their GC headers.
    Measured: a worker's CPU for 18,000 lines -3 % (4.23 s against 4.37 s, mean of five pairs).
    Objects frozen by someone else stay as they were.

    Full (generation-2) collections are put off meanwhile (young ones still run): they walked
    the units in flight and freed nothing (measured: 8 per 100,000 resources, ~0.08 s each, 0
    objects collected; reading and mapping a resource make no reference cycles, a test says
    so). The parent's collections took 0.37 s instead of 1.06 s. The thresholds are restored
    after.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], FULL_COLLECTION_THRESHOLD))
    try:
        if gc.get_freeze_count():
            yield
            return
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
    finally:
        gc.set_threshold(*thresholds)


def warm_up(reader: FhirReader, files: list[Path]) -> None:
    """Validate the first resource of each NDJSON file here, before the workers fork.

    The R4B model classes (and the validator's adapters) they need are then loaded once, in the
    parent, and shared by every worker (each worker loading them itself cost ~0.15 s of CPU;
    this costs ~0.12 s once).
    """
    for path in files:
        try:
            if not is_ndjson(path):
                continue
            with path.open("rb") as fh:
                line = next((line for line in fh if line.strip()), b"")
        except OSError:
            continue  # reported by the second pass
        for entry in ndjson_line_entries(0, line):
            if not isinstance(entry, FailedResource):
                reader.warm_up(entry)


class ParallelNdjson:
    """A pool of reader processes for NDJSON files; use as a context manager."""

    def __init__(self, reader: FhirReader, mapper: FhirMapper, workers: int, *, fail_fast: bool) -> None:
        global _STATE
        _STATE = (reader, mapper, fail_fast)
        self.reader = reader
        self.mapper = mapper
        self.workers = workers
        method = "fork" if os.name == "posix" else "spawn"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
        self._collector = collector_set_for_workers()

    def __enter__(self) -> ParallelNdjson:
        self._collector.__enter__()  # the workers fork at the first submit
        return self

    def __exit__(self, *exc: object) -> None:
        global _STATE
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            _STATE = None
            self._collector.__exit__(None, None, None)

    def read(self, path: Path, count: object) -> Iterator[FhirRecord | MappedGraph | FailedResource | MapFailure]:
        """Yield ``path``'s results in order: graphs mapped by workers, records read here, failures.

        ``count(key, n)`` receives the mapper's counters from the workers.
        """
        pending: deque[Future[list[tuple[list[object], dict[str, int]]]]] = deque()
        chunk: list[tuple[int, bytes]] = []
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                chunk.append((number, line))
                if len(chunk) >= CHUNK_LINES:
                    pending.append(self._pool.submit(_map_lines, chunk))
                    chunk = []
                    while len(pending) > max(AHEAD_CHUNKS, 2 * self.workers):
                        yield from self._collect(pending.popleft(), count)
        if chunk:
            pending.append(self._pool.submit(_map_lines, chunk))
        while pending:
            yield from self._collect(pending.popleft(), count)

    def _collect(self, future: Future, count: object) -> Iterator[FhirRecord | MappedGraph | FailedResource | MapFailure]:
        for items, counts in future.result():
            for key, n in counts.items():  # counted as the line's graphs come out, as in one process
                count(key, n)  # type: ignore[operator]
            for item in items:
                if type(item) is tuple:
                    yield _unpack(item)
                elif isinstance(item, _Line):
                    for entry in ndjson_line_entries(item.number, item.line):
                        yield entry if isinstance(entry, FailedResource) else self.reader.read_entry(entry)
                else:
                    yield item  # type: ignore[misc]


def _index_range(path: str, start: int, end: int) -> list[IndexedEntry]:
    """In a worker: the first pass over the lines in bytes ``[start, end)`` of an NDJSON file."""
    assert _STATE is not None
    reader = _STATE[0]
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    out: list[IndexedEntry] = []
    for line in data.split(b"\n"):  # as iterating the file splits it
        if line.strip():
            out.extend(reader.index_entry(e) for e in ndjson_line_entries(0, line)
                       if not isinstance(e, FailedResource))
    return out


def _line_ranges(path: Path, size: int) -> list[tuple[int, int]]:
    """Split ``path`` into byte ranges of about ``size`` that start and end at line breaks."""
    ranges: list[tuple[int, int]] = []
    with path.open("rb") as fh:
        total = fh.seek(0, os.SEEK_END)
        start = 0
        while start < total:
            fh.seek(min(start + size, total))
            fh.readline()
            end = min(fh.tell(), total)
            ranges.append((start, end))
            start = end
    return ranges


def index_in_parallel(reader: FhirReader, files: list[Path], workers: int) -> None:
    """The first pass over ``files``, NDJSON files split between ``workers`` processes.

    Registers the same keys, tokens and patients, in the same order, as ``reader.index_file``
    on each file; other files (and unreadable ones: the second pass reports them) are indexed
    here, in order, while the workers run.
    """
    global _STATE
    _STATE = (reader, None, False)  # type: ignore[assignment]  # the workers read only the reader
    method = "fork" if os.name == "posix" else "spawn"
    try:
        with collector_set_for_workers(), ProcessPoolExecutor(max_workers=workers,
                                                    mp_context=multiprocessing.get_context(method)) as pool:
            tasks: list[Path | list[Future[list[IndexedEntry]]]] = []
            for path in files:
                try:
                    parts = _line_ranges(path, INDEX_CHUNK_BYTES) if is_ndjson(path) else None
                except OSError:
                    parts = None
                if parts is None:
                    tasks.append(path)
                else:
                    tasks.append([pool.submit(_index_range, str(path), a, b) for a, b in parts])
            for task in tasks:
                if isinstance(task, Path):
                    try:
                        reader.index_file(task)
                    except OSError:
                        continue
                else:
                    for future in task:
                        for item in future.result():
                            reader.add_indexed(item)
    finally:
        _STATE = None
