"""Run SPARQL queries under limits: a deadline, a result-size cap and a bounded number of slots.

Each query runs in its own worker thread (pyoxigraph releases the GIL while it evaluates), and
its results are serialised there, by pyoxigraph, into a bounded queue of byte chunks that the
caller drains (the HTTP layer streams them). The writer checks the deadline, the size cap and a
cancel flag on every chunk, so a query that keeps producing results stops at the deadline or
when the client goes away. A query that computes for long without producing anything (a big
aggregate) cannot be interrupted inside the engine: the caller stops waiting at the deadline,
and the thread keeps its slot until the engine returns, so runaway queries can fill the slots
(further queries then get ``query.overloaded``) but never block other requests.

Fast repeated queries run inline. A query text (with its dataset and result format: the *key*)
whose last threaded run, engine and serialisation together, took at most
:data:`INLINE_ADMIT_S` of CPU time (and :data:`INLINE_ADMIT_WALL_S` of wall-clock time) and
produced at most :data:`INLINE_MAX_BYTES` is remembered; the next time the same key arrives
:meth:`QueryRunner.run_inline` evaluates it directly on the caller's thread, without the hand-off
to a worker thread (which costs more than such a query itself). CPU time is the measure because
it is the query's own work: on a loaded machine the wall-clock time of the same 0.1 ms query
varies by tens of times. The memo is cleared by :meth:`QueryRunner.invalidate`, which the
service calls on every write to the store, so a query that became slow because the data changed
goes back to a worker thread and its deadline; an inline run that takes more than
:data:`INLINE_EVICT_S` (wall-clock) is forgotten as well. An inline run still takes a query
slot (without waiting), so the slot limit and its 503 hold.

This module knows nothing of HTTP; it raises :class:`~theragraph.errors.QueryError` subclasses
with stable codes that the API maps to status codes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from theragraph.errors import QueryError, TheragraphError

log = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024
_QUEUE_CHUNKS = 64
_END = object()
#: A threaded run using at most this much CPU (engine + serialisation) admits its key to
#: inline runs, if it also took at most :data:`INLINE_ADMIT_WALL_S`. 2 ms matches how long the
#: HTTP layer already lets the event loop wait for any query's first result
#: (``api.protocol.INLINE_WAIT_S``): either way one request holds the loop ~2 ms at most.
INLINE_ADMIT_S = 0.002
INLINE_ADMIT_WALL_S = 0.02
#: An inline run longer than this (wall-clock) drops its key: it goes back to worker threads
#: until a threaded run admits it again (on a loaded machine a preempted fast query can take
#: this long; it then costs one threaded run).
INLINE_EVICT_S = 0.01
#: Results larger than this never run inline.
INLINE_MAX_BYTES = 64 * 1024
#: Keys remembered for inline runs (least recently admitted dropped first).
INLINE_MEMO_SIZE = 1024


class QueryTimeoutError(QueryError):
    """The query ran past its deadline."""

    code = "query.timeout"


class QueryOverloadedError(QueryError):
    """Every query slot is busy."""

    code = "query.overloaded"


class ResultTooLargeError(QueryError):
    """The serialised result exceeds the configured cap."""

    code = "query.result-too-large"


class NotAcceptableError(QueryError):
    """No acceptable media type for this kind of result."""

    code = "query.not-acceptable"


class _AbortError(Exception):
    """Raised inside the serializer to stop it."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Limits for one query.

    Attributes:
        timeout_s: wall-clock seconds from start to the last byte.
        max_result_bytes: cap on the serialised result.
        max_concurrent: queries that may run at once (slots).
        queue_wait_s: how long a query waits for a free slot before ``query.overloaded``.
    """

    timeout_s: float = 30.0
    max_result_bytes: int = 256 * 1024 * 1024
    max_concurrent: int = 4
    queue_wait_s: float = 2.0


def result_kind(results: Any) -> str:
    """Return ``boolean``, ``graph`` or ``solutions`` for a pyoxigraph query result."""
    if isinstance(results, ox.QueryBoolean):
        return "boolean"
    if isinstance(results, ox.QueryTriples):
        return "graph"
    return "solutions"


class _ChunkWriter:
    """A file-like sink that coalesces bytes into chunks and enforces the limits."""

    def __init__(self, run: QueryRun) -> None:
        self._run = run
        self._buffer = bytearray()

    def announce(self, media_type: str) -> None:
        """Record the media type before the first byte (the HTTP layer needs it early)."""
        self._run.media_type = media_type

    def write(self, data: bytes) -> int:
        self._run.check()
        self._run.size_bytes += len(data)
        if self._run.size_bytes > self._run.limits.max_result_bytes:
            raise ResultTooLargeError(
                f"the result exceeds {self._run.limits.max_result_bytes} bytes; add LIMIT or "
                "narrow the query",
            )
        self._buffer += data
        if len(self._buffer) >= CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._run.emit(bytes(self._buffer))
            self._buffer.clear()


class QueryRun:
    """One query running in a worker thread; iterate :meth:`chunks` to get the result bytes."""

    def __init__(
        self,
        execute: Callable[[], Any],
        serialize: Callable[[Any, Any], str],
        *,
        limits: QueryLimits,
        release: Callable[[], None],
        notify: Callable[[], None] | None = None,
        executor: Executor | None = None,
        on_complete: Callable[[float, float, int], None] | None = None,
    ) -> None:
        """Start the worker.

        Args:
            execute: runs the query and returns pyoxigraph results (called in the worker).
            serialize: writes results to a file-like object and returns the media type used
                (called in the worker; may raise :class:`NotAcceptableError`).
            limits: the limits that apply.
            release: frees the slot; called once, when the worker ends.
            notify: called (from the worker) after each item is queued, e.g. to wake an
                event loop; it must not block.
            executor: the thread pool to run in (a new thread when None).
            on_complete: called (from the worker) with the CPU and the wall-clock seconds that
                evaluation and serialisation took and the result size, after a run that
                completed.
        """
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.timeout_s
        self.size_bytes = 0
        self.media_type: str | None = None
        self._cancelled = threading.Event()
        self._chunks: queue.Queue[Any] = queue.Queue()
        self._space = threading.Semaphore(_QUEUE_CHUNKS)
        self._execute, self._serialize, self._release = execute, serialize, release
        self._notify = notify
        self._on_complete = on_complete
        self._consumer_waiting = False
        if executor is not None:
            executor.submit(self._work)
        else:
            threading.Thread(target=self._work, name="sparql-query", daemon=True).start()

    def check(self) -> None:
        """Raise inside the worker when cancelled or past the deadline."""
        if self._cancelled.is_set():
            raise _AbortError()
        if time.monotonic() > self.deadline:
            raise QueryTimeoutError(
                f"the query ran past its {self.limits.timeout_s:g} s limit; narrow it or add LIMIT"
            )

    def emit(self, chunk: bytes) -> None:
        """Hand one chunk to the consumer, waiting while the queue is full."""
        while not self._space.acquire(timeout=0.1):
            self.check()
        self._put(chunk)

    def _put(self, item: Any) -> None:
        self._chunks.put(item)
        # A consumer blocked in poll(wait_s=...) takes the item itself: no wake-up needed. It
        # polls again after it stops waiting, so an item put just then is not lost.
        if self._notify is not None and not self._consumer_waiting:
            self._notify()

    def _evaluate(self) -> bytes:
        """Run and serialise; return the last (unsent) bytes of the result."""
        started, cpu_started = time.perf_counter(), time.thread_time()
        results = self._execute()
        self.check()
        writer = _ChunkWriter(self)
        media_type = self._serialize(results, writer)
        self.media_type = self.media_type or media_type
        tail = bytes(writer._buffer)  # noqa: SLF001 - the writer is private to this class
        writer._buffer.clear()  # noqa: SLF001
        if self._on_complete is not None:
            self._on_complete(
                time.thread_time() - cpu_started, time.perf_counter() - started, self.size_bytes
            )
        return tail

    def _work(self) -> None:
        item: Any = _END
        try:
            tail = self._evaluate()
            if tail:
                # The last chunk and the end go out with one wake-up of the consumer: a small
                # result costs a single hand-off back (queue space is not needed for the end).
                while not self._space.acquire(timeout=0.1):
                    self.check()
                self._chunks.put(tail)
        except _AbortError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            if not isinstance(exc, TheragraphError):
                log.error("query worker failed", exc_info=exc)
            # Drop the traceback here: its frames hold pyoxigraph results, which must be
            # freed on the thread that made them.
            item = exc.with_traceback(None)
        finally:
            self._release()
        self._put(item)

    def cancel(self) -> None:
        """Ask the worker to stop at its next chunk (the client went away)."""
        self._cancelled.set()

    def next_chunk(self, timeout: float | None = None) -> bytes | None:
        """Return the next chunk, None at the end.

        Raises:
            QueryTimeoutError: when nothing arrives before the deadline.
            TheragraphError: whatever the worker raised.
        """
        wait = max(0.0, self.deadline - time.monotonic()) if timeout is None else timeout
        try:
            item = self._chunks.get(timeout=wait)
        except queue.Empty:
            self.cancel()
            raise QueryTimeoutError(
                f"the query ran past its {self.limits.timeout_s:g} s limit; narrow it or add LIMIT"
            ) from None
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        self._space.release()
        return item

    def poll(self, wait_s: float = 0.0) -> bytes | None | bool:
        """Return the next chunk: bytes, None at the end, False when none came.

        Args:
            wait_s: block (without the GIL) this long at most for an item; 0 never blocks.
                An event loop uses a short wait to take a fast query's result directly,
                saving the wake-up round trip through the loop.

        Raises:
            TheragraphError: whatever the worker raised.
        """
        try:
            if wait_s > 0:
                self._consumer_waiting = True
                try:
                    item = self._chunks.get(timeout=wait_s)
                finally:
                    self._consumer_waiting = False
            else:
                item = self._chunks.get_nowait()
        except queue.Empty:
            return False
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        self._space.release()
        return item

    def remaining_s(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    def timeout_error(self) -> QueryTimeoutError:
        """Cancel the worker and return the timeout error to raise."""
        self.cancel()
        return QueryTimeoutError(
            f"the query ran past its {self.limits.timeout_s:g} s limit; narrow it or add LIMIT"
        )

    def chunks(self) -> Iterator[bytes]:
        """Iterate over all result chunks (blocking), cancelling the worker if abandoned."""
        try:
            while (chunk := self.next_chunk()) is not None:
                yield chunk
        finally:
            self.cancel()


class QueryRunner:
    """Hands out query slots and starts :class:`QueryRun` workers."""

    def __init__(
        self,
        limits: QueryLimits,
        *,
        inline_admit_s: float = INLINE_ADMIT_S,
        inline_evict_s: float = INLINE_EVICT_S,
    ) -> None:
        """Create the runner with ``limits.max_concurrent`` slots.

        Args:
            limits: the limits that apply to every query.
            inline_admit_s: a keyed threaded run using at most this much CPU admits its key
                to :meth:`run_inline`; 0 turns inline runs off.
            inline_evict_s: an inline run longer than this (wall-clock) drops its key.
        """
        self.limits = limits
        self.inline_admit_s = inline_admit_s
        self.inline_evict_s = inline_evict_s
        self._slots = threading.BoundedSemaphore(limits.max_concurrent)
        # One pooled thread per slot: no thread start per query (it costs milliseconds under
        # load); a slot is held until its thread is done, so a task never waits for a thread.
        self._pool = ThreadPoolExecutor(
            max_workers=limits.max_concurrent, thread_name_prefix="sparql-query"
        )
        self._inline: dict[Hashable, None] = {}
        self._generation = 0
        self._memo_lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget every inline-eligible query (call on each write to the store)."""
        with self._memo_lock:
            self._generation += 1
            self._inline.clear()

    def _admit(
        self, key: Hashable, generation: int, cpu_s: float, wall_s: float, size: int
    ) -> None:
        with self._memo_lock:
            if generation != self._generation:
                return  # the store changed while the query ran
            fast = cpu_s <= self.inline_admit_s and wall_s <= INLINE_ADMIT_WALL_S
            if fast and size <= INLINE_MAX_BYTES:
                if len(self._inline) >= INLINE_MEMO_SIZE:
                    self._inline.pop(next(iter(self._inline)), None)
                self._inline[key] = None
            else:
                self._inline.pop(key, None)

    def run_inline(
        self,
        key: Hashable,
        execute: Callable[[], Any],
        serialize: Callable[[Any], tuple[str, bytes]],
    ) -> tuple[str, bytes] | None:
        """Run a query known to be fast on this thread; None when it must go to a worker.

        Args:
            key: what identifies the query's work (text, dataset, result format).
            execute: runs the query and returns pyoxigraph results.
            serialize: returns the media type and the whole serialised result.

        Returns:
            ``(media type, body)``, or None when the key is not known to be fast or no slot is
            free right now (the caller then uses :meth:`start`, which waits for a slot).

        Raises:
            QueryError: whatever the query raises; ``query.result-too-large`` over the cap.
        """
        if key not in self._inline or not self.try_acquire():
            return None
        # Wall-clock only here: the CPU clock of a thread is a system call, which costs more
        # than a small query on a loaded machine; CPU time <= wall-clock time anyway.
        started = time.perf_counter()
        try:
            media_type, body = serialize(execute())
        finally:
            self._slots.release()
        if time.perf_counter() - started > self.inline_evict_s or len(body) > INLINE_MAX_BYTES:
            self._inline.pop(key, None)
        if len(body) > self.limits.max_result_bytes:
            raise ResultTooLargeError(
                f"the result exceeds {self.limits.max_result_bytes} bytes; add LIMIT or "
                "narrow the query",
            )
        return media_type, body

    def try_acquire(self) -> bool:
        """Take a slot without waiting; True on success."""
        return self._slots.acquire(blocking=False)

    def acquire(self, *, wait_s: float | None = None) -> None:
        """Take a slot, waiting at most ``wait_s`` (default ``limits.queue_wait_s``).

        Raises:
            QueryOverloadedError: when no slot frees up in time.
        """
        wait = self.limits.queue_wait_s if wait_s is None else wait_s
        if not self._slots.acquire(timeout=wait):
            raise QueryOverloadedError(
                f"all {self.limits.max_concurrent} query slots are busy; retry shortly"
            )

    def start(
        self,
        execute: Callable[[], Any],
        serialize: Callable[[Any, Any], str],
        *,
        acquired: bool = False,
        notify: Callable[[], None] | None = None,
        key: Hashable | None = None,
    ) -> QueryRun:
        """Start a query (taking a slot unless ``acquired``) and return its run.

        With a ``key``, a run that turns out fast and small makes the key eligible for
        :meth:`run_inline`.
        """
        if not acquired:
            self.acquire()
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._slots.release()

        on_complete = None
        if key is not None:
            generation = self._generation

            def on_complete(cpu_s: float, wall_s: float, size: int) -> None:
                self._admit(key, generation, cpu_s, wall_s, size)

        try:
            return QueryRun(
                execute, serialize, limits=self.limits, release=release, notify=notify,
                executor=self._pool, on_complete=on_complete,
            )
        except BaseException:
            release()
            raise

