"""The per-app state: store, token file, query runner and curated queries (built once)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.settings import ApiSettings
from theragraph.auth import Principal, TokenFile, default_token_path
from theragraph.auth.tokens import parse_scopes
from theragraph.errors import AccessError
from theragraph.query.curated import CuratedQuery, load_curated
from theragraph.query.dataset import QueryDataset, resolve_dataset
from theragraph.query.execution import QueryLimits, QueryRunner
from theragraph.store import Store, open_store
from theragraph.store.oxigraph import OxigraphStore

#: Restricted readers' datasets remembered (emptied when full and on every write).
_DATASET_MEMO_SIZE = 256


class WatchedStore:
    """The service's store: every write through it calls ``on_write`` before and after.

    The query runner's memo of fast queries (and the dataset memo) must forget what it knows
    when the data changes; every write of this process goes through the service's store.
    """

    def __init__(self, store: Store, on_write: Callable[[], None]) -> None:
        """Wrap ``store``."""
        self.inner = store
        self._on_write = on_write

    def __getattr__(self, name: str) -> Any:
        """Delegate reads (query, named_graphs, quads, ...) to the wrapped store."""
        return getattr(self.inner, name)

    def _write(self, write: Callable[..., Any], *args: Any) -> Any:
        self._on_write()
        try:
            return write(*args)
        finally:
            self._on_write()

    def replace_graphs(self, writes: Any) -> int:
        """See :meth:`Store.replace_graphs`."""
        return self._write(self.inner.replace_graphs, writes)

    def delete_graphs(self, graphs: Any) -> None:
        """See :meth:`Store.delete_graphs`."""
        self._write(self.inner.delete_graphs, graphs)

    def update(self, sparql: str) -> None:
        """See :meth:`Store.update`."""
        self._write(self.inner.update, sparql)


@dataclass
class Service:
    """Everything the routers share; lives on ``app.state.service``."""

    settings: ApiSettings
    store: Store
    tokens: TokenFile | None
    runner: QueryRunner
    anonymous: Principal | None
    curated: dict[str, CuratedQuery] = field(default_factory=dict)
    #: True when this process sees every write (embedded store): fast queries may run inline
    #: and restricted readers' datasets are memoised, both forgotten on every write.
    local_store: bool = False
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _datasets: dict[Hashable, QueryDataset] = field(default_factory=dict)
    _generation: int = 0
    _memo_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        """Route every write through :class:`WatchedStore` so the memos see it."""
        if not isinstance(self.store, WatchedStore):
            self.store = WatchedStore(self.store, self._changed)  # type: ignore[assignment]

    def _changed(self) -> None:
        """Forget what depends on the store's content (called before and after each write)."""
        with self._memo_lock:
            self._generation += 1
            self._datasets.clear()
        self.runner.invalidate()

    def dataset(
        self,
        principal: Principal,
        *,
        protocol_default: Sequence[str] = (),
        protocol_named: Sequence[str] = (),
        from_graphs: Sequence[str] = (),
        from_named: Sequence[str] = (),
    ) -> QueryDataset:
        """Return :func:`resolve_dataset` for a query, memoised for restricted readers.

        A restricted reader's dataset is its visible graphs, which means listing and filtering
        every named graph of the store; on an embedded store the result is kept (per grants and
        requested graphs) until the next write.
        """
        if not (principal.is_restricted and self.local_store):
            return resolve_dataset(
                principal, protocol_default=protocol_default, protocol_named=protocol_named,
                from_graphs=from_graphs, from_named=from_named,
                all_graphs=self.store.named_graphs,
            )
        key = (principal.graphs, tuple(protocol_default), tuple(protocol_named),
               tuple(from_graphs), tuple(from_named))
        found = self._datasets.get(key)
        if found is not None:
            return found
        generation = self._generation
        found = resolve_dataset(
            principal, protocol_default=protocol_default, protocol_named=protocol_named,
            from_graphs=from_graphs, from_named=from_named, all_graphs=self.store.named_graphs,
        )
        with self._memo_lock:
            if generation == self._generation:
                if len(self._datasets) >= _DATASET_MEMO_SIZE:
                    self._datasets.clear()
                self._datasets[key] = found
        return found

    async def run_write(self, write: Callable[..., Any], *args: Any) -> Any:
        """Run a store write in a worker thread, one write at a time."""

        def locked() -> Any:
            with self._write_lock:
                return write(*args)

        return await asyncio.to_thread(locked)

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> Service:
        """Open the store and load tokens and curated queries.

        Raises:
            StoreError: when the store cannot be opened.
            ConfigError: for a malformed token file or anonymous scopes.
        """
        store = open_store(settings.store, read_only=settings.read_only)
        token_path = settings.token_file
        if token_path is None and "://" not in settings.store and settings.store != ":memory:":
            token_path = default_token_path(settings.store)
        tokens = TokenFile(token_path) if token_path is not None else None
        anonymous = None
        if settings.anonymous_scopes.strip():
            datasets = [d.strip() for d in settings.anonymous_datasets.split(",") if d.strip()]
            anonymous = Principal(
                "anonymous",
                frozenset(parse_scopes(settings.anonymous_scopes)),
                tuple(datasets) if datasets else None,
            )
        limits = QueryLimits(
            timeout_s=settings.query_timeout_s,
            max_result_bytes=settings.max_result_bytes,
            max_concurrent=settings.max_concurrent_queries,
            queue_wait_s=settings.queue_wait_s,
        )
        return cls(
            settings=settings,
            store=store,
            tokens=tokens,
            runner=QueryRunner(limits),
            anonymous=anonymous,
            curated=load_curated(settings.queries_dir),
            local_store=isinstance(store, OxigraphStore),
        )

    def authenticate(self, token: str | None) -> Principal:
        """Return the principal of a bearer token, or the anonymous one.

        Raises:
            AccessError: ``access.no-token`` without a token when anonymous access is off;
                ``access.invalid-token`` for a bad token.
        """
        if token is None:
            if self.anonymous is None:
                raise AccessError(
                    "this service needs a bearer token (Authorization: Bearer tg_...)",
                    code="access.no-token",
                )
            return self.anonymous
        if self.tokens is None:
            raise AccessError("no token file is configured", code="access.invalid-token")
        return self.tokens.verify(token)
