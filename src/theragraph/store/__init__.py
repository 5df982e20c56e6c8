"""Stores: one :class:`Store` protocol, an embedded pyoxigraph store and remote SPARQL endpoints."""

from theragraph.store.base import GraphWrite, Store
from theragraph.store.open import open_store

__all__ = ["GraphWrite", "Store", "open_store"]
