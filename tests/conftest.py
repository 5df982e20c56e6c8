"""Shared pytest fixtures: a secret, a pseudonymizer, stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from theragraph.ids import Pseudonymizer
from theragraph.store.oxigraph import OxigraphStore

TEST_SECRET = b"theragraph-test-secret-0123456789abcdef"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer(TEST_SECRET)


@pytest.fixture
def disk_store(tmp_path: Path) -> OxigraphStore:
    return OxigraphStore(tmp_path / "store")


@pytest.fixture
def memory_store() -> OxigraphStore:
    return OxigraphStore(None)


@pytest.fixture
def shared_reference() -> Path:
    """The team's reference data (../shared/reference); skip where a user's clone lacks it."""
    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.skip(f"reference data not found at {ref} (present in CI, absent in a user's clone)")
    return ref
