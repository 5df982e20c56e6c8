"""One throwaway Virtuoso for every test here (its first start builds a database: ~10 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import (
    VIRTUOSO_TEST_MAX_ROWS,
    RunningVirtuoso,
    start_virtuoso,
    virtuoso_binaries,
)


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVirtuoso]:
    binaries = virtuoso_binaries()
    if binaries is None:
        pytest.skip("virtuoso-t/isql-vt are missing (apt-get install virtuoso-opensource; "
                    "`make virtuoso` tries it)")
    server = start_virtuoso(binaries, tmp_path_factory.mktemp("virtuoso"),
                            max_rows=VIRTUOSO_TEST_MAX_ROWS)
    yield server
    server.stop()
