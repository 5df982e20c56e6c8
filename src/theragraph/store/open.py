"""Open a store from a location string (directory, ``:memory:`` or ``sparql+http(s)://``)."""

from __future__ import annotations

from pathlib import Path

from theragraph.store.base import Store
from theragraph.store.oxigraph import OxigraphStore

REMOTE_SCHEMES = ("sparql+http://", "sparql+https://")


def open_store(location: str | Path, *, read_only: bool = False) -> Store:
    """Open the store named by ``location``.

    Args:
        location: an on-disk directory (embedded pyoxigraph), ``:memory:``, or
            ``sparql+http://host:port/path`` for a remote SPARQL 1.1 endpoint.
        read_only: open without taking the write lock (embedded store only).

    Raises:
        StoreError: when the store cannot be opened.
    """
    text = str(location)
    if text.startswith(REMOTE_SCHEMES):
        from theragraph.store.remote import RemoteStore  # noqa: PLC0415 (optional backend)

        return RemoteStore.from_location(text)
    if text == ":memory:":
        return OxigraphStore(None)
    return OxigraphStore(Path(text), read_only=read_only)
