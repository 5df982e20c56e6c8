"""The FHIR source handler: FHIR R4 JSON / Bundles / NDJSON files -> one named graph per resource.

Two passes over the handler's files: the first indexes every resource key and each Patient's
pseudonym (so a reference to a Patient resolves to the identifier-based patient node, whatever
the file order); the second reads, de-identifies and maps, and yields units of up to
``batch_size`` graphs (one store transaction each). References to records of earlier runs are
looked up in the store.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph as ox

from theragraph.ids import graph_iri
from theragraph.ingest.fhir import FhirReader, is_ndjson
from theragraph.mapping.base import MappedGraph
from theragraph.mapping.fhir import FhirMapper
from theragraph.pipeline.fhir_parallel import MapFailure, ParallelNdjson, index_in_parallel, warm_up
from theragraph.pipeline.sources import IngestContext, IngestUnit
from theragraph.records.fhir import FailedResource, FhirRecord
from theragraph.report import FileOutcome, Issue
from theragraph.store.base import Store
from theragraph.vocab import TG

log = logging.getLogger(__name__)
_BOM = b"\xef\xbb\xbf"


def make_store_lookup(store: Store | None) -> Callable[[str, str], tuple[bool, str | None]] | None:
    """Return a look-up of FHIR resources ingested in earlier runs (None without a store)."""
    if store is None:
        return None
    key_prop = ox.NamedNode(str(TG.fhirResourceKey))
    pseudo_prop = ox.NamedNode(str(TG.pseudonym))

    def lookup(resource_type: str, token: str) -> tuple[bool, str | None]:
        if resource_type == "Patient":
            # terms inlined: pyoxigraph rejects substitutions of variables outside the projection
            rows = list(store.query(
                f"SELECT ?pseudonym WHERE {{ ?patient {key_prop} {ox.Literal(token)} ; "
                f"{pseudo_prop} ?pseudonym }} LIMIT 1"
            ))
            if rows:
                return True, rows[0]["pseudonym"].value
        return store.graph_exists(str(graph_iri("fhir", token))), None

    return lookup


#: NDJSON below this size is read in this process: forking workers would cost more than they gain
PARALLEL_MIN_BYTES = 2_000_000


def _ndjson_at_least(files: list[Path], size: int) -> bool:
    """Return True when the NDJSON files among ``files`` hold at least ``size`` bytes."""
    total = 0
    for path in files:
        if total >= size:
            break
        try:
            length = path.stat().st_size
            if length >= min(size, 65_536) and is_ndjson(path):  # small files are not looked into
                total += length
        except OSError:
            continue  # reported when the file is read
    return total >= size


def _mapping_failed(rel: str, location: str, error: str) -> FileOutcome:
    return FileOutcome(
        path=rel, status="failed", kind="fhir",
        issues=[Issue(code="internal.bug", location=location,
                      message=f"mapping failed: {error}; see the debug log")],
    )


class FhirHandler:
    """Source handler for FHIR R4 JSON: single resources, Bundles and NDJSON bulk exports."""

    kind = "fhir"
    # a unit never needs the previous unit in the store (references within the run resolve through
    # the first pass's index), so the pipeline may write unit N while this reads unit N+1
    overlaps_writes = True

    def __init__(
        self, *, batch_size: int = 20_000, first_batch_size: int = 2_500, validate: bool = True,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
    ) -> None:
        """Create the handler.

        Args:
            batch_size: graphs per store write. Large, because each bulk load adds files that
                RocksDB then compacts with all that came before (pyoxigraph compacts every two
                loads): compaction CPU grows with the number of loads. At 100,000 resources
                2,500 -> 10,000 halved the compaction CPU and cut the total by 17 %; 10,000 ->
                20,000 halved it again (7.7 -> 4.2 s, 2 s less in all, 0.5 s less wall time in
                alternating runs) for 0.43 GB more peak memory (1.08 GB), most of it the bulk
                loader's; ~1.25 GB since two units are written side by side.
            first_batch_size: graphs in the first unit: small, so that validation and the store
                write start while the workers read on (instead of waiting for a whole unit).
            validate: validate each resource with the R4B models (off only for benchmarks).
            parallel_min_bytes: NDJSON needed before ``ctx.workers`` processes are started.
        """
        self.parallel_min_bytes = parallel_min_bytes
        self.batch_size = batch_size
        self.first_batch_size = first_batch_size
        self.validate = validate

    def sniff(self, path: Path, head: bytes) -> bool:
        """Accept JSON or NDJSON whose first object names a ``resourceType``."""
        text = head[3:] if head.startswith(_BOM) else head
        text = text.lstrip()
        return text.startswith(b"{") and b'"resourceType"' in text

    @staticmethod
    def _read(
        reader: FhirReader, path: Path, ctx: IngestContext, pool: ParallelNdjson | None = None
    ) -> Iterator[FhirRecord | MappedGraph | FailedResource | MapFailure]:
        """Yield the file's records (or graphs mapped by ``pool``'s workers, for NDJSON files).

        An unreadable file or a reader bug becomes one failure.
        """
        try:
            if pool is not None and is_ndjson(path):
                yield from pool.read(path, ctx.count)
                return
            yield from reader.read_file(path)
        except OSError as exc:
            yield FailedResource("file", "read.unreadable", f"cannot read file: {exc.strerror}")
        except Exception as exc:
            if ctx.fail_fast:
                raise
            log.debug("reading %s failed:\n%s", path, traceback.format_exc())
            yield FailedResource("file", "internal.bug", f"FHIR reader failed: {type(exc).__name__}; see the debug log")

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Read, de-identify and map ``files``; yield units of at most ``batch_size`` graphs."""
        reader = FhirReader(
            ctx.pseudonymizer,
            preferred_systems=set(ctx.issuer_map.values()),
            default_system=ctx.default_issuer,
            lookup=make_store_lookup(ctx.store),
            validate=self.validate,
        )
        parallel = ctx.workers > 1 and _ndjson_at_least(files, self.parallel_min_bytes)
        if parallel:
            index_in_parallel(reader, files, ctx.workers)
        else:
            for path in files:
                try:
                    reader.index_file(path)
                except OSError:
                    continue  # reported by the second pass, which reads the file again
        reader.finish_index()
        mapper = FhirMapper(count=ctx.count)
        with ExitStack() as stack:
            pool = None
            if parallel:
                if self.validate:
                    warm_up(reader, files)
                pool = stack.enter_context(ParallelNdjson(reader, mapper, ctx.workers, fail_fast=ctx.fail_fast))
            yield from self._map_files(files, ctx, reader, mapper, pool, progress)

    def _map_files(
        self,
        files: list[Path],
        ctx: IngestContext,
        reader: FhirReader,
        mapper: FhirMapper,
        pool: ParallelNdjson | None,
        progress: Callable[[int], None],
    ) -> Iterator[IngestUnit]:
        """The second pass: read and map every file, yield units of ``batch_size`` graphs."""
        graphs: dict[str, MappedGraph] = {}
        outcomes: list[FileOutcome] = []
        limit = min(self.first_batch_size, self.batch_size)  # the writer starts early
        for path in files:
            rel = ctx.relative(path)
            current = FileOutcome(path=rel, status="ingested", kind=self.kind)
            for item in self._read(reader, path, ctx, pool):
                if isinstance(item, FailedResource):
                    ctx.count(f"fhir.failed.{item.code}")
                    outcomes.append(FileOutcome(
                        path=rel, status="failed", kind=self.kind,
                        issues=[Issue(code=item.code, message=item.message, location=item.location)],
                    ))
                    continue
                if isinstance(item, MapFailure):  # a worker's mapping raised
                    outcomes.append(_mapping_failed(rel, item.location, item.error))
                    continue
                if isinstance(item, MappedGraph):
                    graph = item
                else:
                    try:
                        graph = mapper.map_record(item)
                    except Exception as exc:  # one odd resource must not stop the batch (style A4)
                        if ctx.fail_fast:
                            raise
                        log.debug("mapping %s failed:\n%s", item.location, traceback.format_exc())
                        outcomes.append(_mapping_failed(rel, item.location, type(exc).__name__))
                        continue
                ctx.count("fhir.resources")
                if graph.graph in graphs:
                    graph.issues.append(Issue(
                        code="link.duplicate-source", severity="warning", location=rel,
                        message="the same FHIR resource was read twice in this batch (also in "
                        "another file or entry); the last one read lands: remove the duplicate"))
                graphs[graph.graph] = graph  # the same resource twice in one unit lands once
                current.graphs.append(graph.graph)
                if len(graphs) >= limit:
                    limit = self.batch_size
                    outcomes.append(current)
                    yield IngestUnit(list(graphs.values()), outcomes)
                    graphs, outcomes = {}, []
                    current = FileOutcome(path=rel, status="ingested", kind=self.kind)
            if current.graphs:
                outcomes.append(current)
            progress(1)
        if graphs or outcomes:
            yield IngestUnit(list(graphs.values()), outcomes)
