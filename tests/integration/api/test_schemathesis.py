"""Property-based checks against the OpenAPI spec: no request makes the service answer 5xx
(except the documented 503/504 limits), with a bounded number of examples per operation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.settings import ApiSettings
from theragraph.auth import TokenFile
from tests.support.servers import RunningApi, start_api

from .conftest import load_test_data

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    base = tmp_path_factory.mktemp("fuzz")
    running = start_api(ApiSettings(store=str(base / "store"), query_timeout_s=5,
                                    max_concurrent_queries=8, queue_wait_s=5))
    load_test_data(running.service.store)
    running.tokens = {"admin": TokenFile(base / "store" / "theragraph-tokens.json").add(
        "fuzzer", scopes="admin")}
    yield running
    running.stop()


def test_no_server_errors(fuzz_server: RunningApi) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # noqa: ANN001 - schemathesis Case
            case.call_and_validate(base_url=fuzz_server.url,
                                   headers=fuzz_server.headers("admin"),
                                   checks=[not_a_server_error])

        check()
