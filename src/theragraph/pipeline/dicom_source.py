"""The DICOM source handler: find DICOM by content, read headers (in parallel), group by series,
de-identify, compute SUV, map, and yield one ingest unit per batch of series.

Each series becomes one named graph ``graph_iri("dicom-series", pseudo(SeriesInstanceUID))``.
Broken files become outcomes with stable codes; the rest of the batch lands.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from theragraph.ingest.dicom import ReaderContext, is_dicom_head, read_instance, to_series_record
from theragraph.mapping.base import MappedGraph
from theragraph.mapping.dicom import DicomSeriesMapper
from theragraph.pipeline import dicom_suv
from theragraph.pipeline.sources import IngestContext, IngestUnit, SeriesFiles
from theragraph.records.dicom import InstanceRecord, ReadFailure, RecordIssue, SeriesRecord
from theragraph.report import FileOutcome, Issue

log = logging.getLogger(__name__)

#: A unit (one store transaction) gathers series until it holds this many instances.
BATCH_INSTANCES = 2000
#: ... or this many series.
BATCH_SERIES = 32
#: Files handed to a worker process at once.
CHUNK_SIZE = 64
#: Codes of read failures that mean "not ours" rather than "broken".
_SKIPPED = {"read.not-dicom"}
#: Issues of one series listed per code before they are folded into a count.
_RT_MODALITIES = {"RTSTRUCT", "SEG"}

_WORKER: dict[str, Any] = {}


def _init_worker(ctx: ReaderContext) -> None:
    _WORKER["ctx"] = ctx
    _WORKER["suv"] = dicom_suv.suv_reader()


def _read_in_worker(path: str) -> InstanceRecord | ReadFailure:
    try:
        return read_instance(path, _WORKER["ctx"], suv_reader=_WORKER["suv"])
    except Exception as exc:  # noqa: BLE001 - never let one file kill the pool
        log.debug("reader bug on %s:\n%s", path, traceback.format_exc())
        return ReadFailure(path, "internal.bug", f"reader failed: {exc!r}")


class DicomHandler:
    """SourceHandler for DICOM files (kind ``dicom``)."""

    kind = "dicom"
    #: Units never read the store, so unit N+1 may be mapped while unit N is written.
    overlaps_writes = True

    def sniff(self, path: Path, head: bytes) -> bool:
        """Return True when the first bytes look like DICOM (extension is ignored)."""
        return is_dicom_head(head)

    # -- reading ---------------------------------------------------------------------------------

    def read_all(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[InstanceRecord | ReadFailure]:
        """Read every file, in ``ctx.workers`` processes when more than one."""
        reader_ctx = ReaderContext(ctx.pseudonymizer, dict(ctx.issuer_map), ctx.default_issuer)
        paths = [str(f) for f in files]
        workers = max(1, min(ctx.workers, len(paths) // CHUNK_SIZE + 1))
        if workers == 1:
            _init_worker(reader_ctx)
            for path in paths:
                yield _read_in_worker(path)
                progress(1)
            return
        method = "fork" if os.name == "posix" else "spawn"
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(method),
            initializer=_init_worker, initargs=(reader_ctx,),
        ) as pool:
            for result in pool.map(_read_in_worker, paths, chunksize=CHUNK_SIZE):
                yield result
                progress(1)

    # -- the handler protocol --------------------------------------------------------------------

    def ingest(
        self, files: list[Path], ctx: IngestContext, progress: Callable[[int], None]
    ) -> Iterator[IngestUnit]:
        """Read, de-identify and map ``files``; yield one unit per batch of series.

        A series is mapped and written as soon as every folder it has files in has been read,
        so the main process maps and writes while the workers go on reading. In the rare layout
        where a series has files in a folder read later, the whole series is mapped again at the
        end and its graph replaced (the report then lists it twice).
        """
        left = Counter(os.path.dirname(f) for f in files)  # files still to read, per folder
        open_series: dict[str, list[InstanceRecord]] = {}
        folders: dict[str, set[str]] = {}
        series_in: dict[str, set[str]] = {}
        done: dict[str, list[InstanceRecord]] = {}
        reopened: set[str] = set()
        failures: list[FileOutcome] = []
        batch = _Batch(DicomSeriesMapper())
        for result in self.read_all(files, ctx, progress):
            folder = os.path.dirname(result.path)
            left[folder] -= 1
            if isinstance(result, ReadFailure):
                failures.append(FileOutcome(
                    path=ctx.relative(Path(result.path)),
                    status="skipped" if result.code in _SKIPPED else "failed",
                    kind=self.kind,
                    issues=[Issue(code=result.code, message=result.message)],
                ))
            else:
                uid = result.source_series_uid
                if uid in done:
                    done[uid].append(result)
                    reopened.add(uid)
                else:
                    open_series.setdefault(uid, []).append(result)
                    folders.setdefault(uid, set()).add(folder)
                    series_in.setdefault(folder, set()).add(uid)
            if left[folder]:
                continue
            closed = sorted(uid for uid in series_in.pop(folder, ())
                            if uid in open_series and not any(left[f] for f in folders[uid]))
            for uid in closed:
                records = open_series.pop(uid)
                done[uid] = records
                yield from batch.add(records, ctx)
        for uid in sorted(open_series):  # only when a file vanished from the listing
            done[uid] = open_series.pop(uid)
            yield from batch.add(done[uid], ctx)
        for uid in sorted(reopened):
            log.debug("dicom: series %s has files in later folders; mapping it again", uid)
            yield from batch.add(done[uid], ctx)
        yield from batch.flush(final=True, extra=failures)
        ctx.count("dicom.instances", sum(len(v) for v in done.values()))
        ctx.count("dicom.series", len(done))
        rtdose = [batch.files[uid] for uid in sorted(batch.files) if batch.files[uid].modality == "RTDOSE"]
        structures = [batch.files[uid] for uid in sorted(batch.files)
                      if batch.files[uid].modality in _RT_MODALITIES]
        yield from self._dvh_units(rtdose, structures, ctx)

    @staticmethod
    def _dvh_units(
        rtdose: list[SeriesFiles], structures: list[SeriesFiles], ctx: IngestContext
    ) -> Iterator[IngestUnit]:
        if not rtdose:
            return
        try:
            from theragraph.pipeline.rt_dvh import dvh_units  # noqa: PLC0415 (optional seam)
        except ImportError:
            return
        yield from dvh_units(rtdose, structures, ctx)


def _map_series(
    records: list[InstanceRecord], ctx: IngestContext, mapper: DicomSeriesMapper
) -> tuple[MappedGraph, FileOutcome]:
    """Fold, compute SUV for and map one series; return its graph and its outcome."""
    series: SeriesRecord = to_series_record(records)
    series.suv = dicom_suv.compute_series_suv(series.suv_inputs)
    checksum = ctx.pseudonymizer.checksum(series.checksum)
    graph = mapper.map_series(series, source_checksum=checksum)
    outcome = FileOutcome(
        path=_series_path(records, ctx), status="ingested", kind=DicomHandler.kind,
        graphs=[graph.graph], issues=_fold_issues(records, ctx),
    )
    return graph, outcome


def _series_path(records: list[InstanceRecord], ctx: IngestContext) -> str:
    """Return the folder holding a series' files (or its first file when they are spread)."""
    parents = {os.path.dirname(r.path) for r in records}
    if len(parents) == 1 and len(records) > 1:
        return ctx.relative(Path(parents.pop()))
    return ctx.relative(Path(sorted(r.path for r in records)[0]))


class _Batch:
    """Mapped series waiting to be written together as one unit (one store transaction)."""

    def __init__(self, mapper: DicomSeriesMapper) -> None:
        self.mapper = mapper
        self.graphs: list[MappedGraph] = []
        self.outcomes: list[FileOutcome] = []
        self.pending = 0
        self.files: dict[str, SeriesFiles] = {}  # RT dose and structure series, for the DVH step

    def add(self, records: list[InstanceRecord], ctx: IngestContext) -> Iterator[IngestUnit]:
        """Map one series; yield a unit when the batch is full."""
        uid = records[0].source_series_uid
        if records[0].modality == "RTDOSE" or records[0].modality in _RT_MODALITIES:
            self.files[uid] = SeriesFiles(
                modality=records[0].modality, series_uid=uid,
                sop_class_uid=records[0].sop_class_uid, files=[Path(r.path) for r in records],
            )
        try:
            graph, outcome = _map_series(records, ctx, self.mapper)
        except Exception as exc:  # a mapping bug loses this series only
            if ctx.fail_fast:
                raise
            log.debug("mapping failed:\n%s", traceback.format_exc())
            self.outcomes.append(FileOutcome(
                path=_series_path(records, ctx), status="failed", kind=DicomHandler.kind,
                issues=[Issue(code=getattr(exc, "code", "internal.bug"), message=f"cannot map series: {exc}")],
            ))
            return
        for i, queued in enumerate(self.graphs):
            if queued.graph == graph.graph:  # mapped again with more files before it was written
                del self.graphs[i]
                self.outcomes = [o for o in self.outcomes if graph.graph not in o.graphs]
                break
        self.graphs.append(graph)
        self.outcomes.append(outcome)
        self.pending += len(records)
        yield from self.flush()

    def flush(self, *, final: bool = False, extra: list[FileOutcome] | None = None) -> Iterator[IngestUnit]:
        """Yield the batch as a unit when full (or when ``final``), then start a new one."""
        if extra:
            self.outcomes.extend(extra)
        if not (final or self.pending >= BATCH_INSTANCES or len(self.graphs) >= BATCH_SERIES):
            return
        if self.graphs or self.outcomes:
            log.debug("dicom: writing batch of %d series", len(self.graphs))
            yield IngestUnit(graphs=self.graphs, outcomes=self.outcomes)
        self.graphs, self.outcomes, self.pending = [], [], 0


def _fold_issues(records: list[InstanceRecord], ctx: IngestContext) -> list[Issue]:
    """Fold the reading issues of a series' files into one issue per code (with a count)."""
    first: dict[str, tuple[RecordIssue, str]] = {}
    counts: dict[str, int] = {}
    for record in records:
        for issue in record.issues:
            counts[issue.code] = counts.get(issue.code, 0) + 1
            first.setdefault(issue.code, (issue, record.path))
    folded = []
    for code, (issue, path) in first.items():
        where = ctx.relative(Path(path)) + (f" {issue.location}" if issue.location else "")
        extra = f" ({counts[code]} occurrence(s) in the series)" if counts[code] > 1 else ""
        folded.append(Issue(
            code=code, severity=issue.severity,  # type: ignore[arg-type]
            message=issue.message + extra, location=where,
        ))
    return folded
