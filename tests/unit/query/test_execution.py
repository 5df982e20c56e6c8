import threading

import pyoxigraph as ox
import pytest

from theragraph.query.execution import (
    QueryLimits,
    QueryOverloadedError,
    QueryRunner,
    QueryTimeoutError,
    ResultTooLargeError,
)


@pytest.fixture
def store():
    st = ox.Store()
    st.extend([ox.Quad(ox.NamedNode(f"http://e/s{i}"), ox.NamedNode("http://e/p"), ox.Literal(str(i)))
               for i in range(300)])
    return st


def serialize(results, output):
    results.serialize(output, ox.QueryResultsFormat.JSON)
    return "application/sparql-results+json"


def collect(run):
    return b"".join(run.chunks())


def test_small_query_runs_and_frees_its_slot(store):
    runner = QueryRunner(QueryLimits(max_concurrent=1))
    body = collect(runner.start(lambda: store.query("SELECT * { ?s ?p ?o } LIMIT 2"), serialize))
    assert body.count(b'"s"') == 3
    collect(runner.start(lambda: store.query("ASK {}"), serialize))  # the slot came back


def test_result_cap(store):
    runner = QueryRunner(QueryLimits(max_result_bytes=10_000))
    with pytest.raises(ResultTooLargeError):
        collect(runner.start(lambda: store.query("SELECT * { ?a ?b ?c . ?d ?e ?f }"), serialize))


def test_deadline_while_producing(store):
    runner = QueryRunner(QueryLimits(timeout_s=0.3, max_result_bytes=10**12))
    run = runner.start(lambda: store.query("SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"), serialize)
    with pytest.raises(QueryTimeoutError):
        for _ in run.chunks():
            pass


def test_syntax_error_is_raised_to_the_consumer(store):
    from theragraph.errors import QueryError

    def execute():
        try:
            return store.query("SELEC")
        except SyntaxError as exc:
            raise QueryError(str(exc), code="query.syntax") from exc

    runner = QueryRunner(QueryLimits())
    with pytest.raises(QueryError) as info:
        collect(runner.start(execute, serialize))
    assert info.value.code == "query.syntax"


def test_no_free_slot_is_overload(store):
    runner = QueryRunner(QueryLimits(max_concurrent=1, queue_wait_s=0.05))
    gate = threading.Event()

    def blocked():
        gate.wait(10)
        return store.query("ASK {}")

    run = runner.start(blocked, serialize)
    with pytest.raises(QueryOverloadedError):
        runner.start(lambda: store.query("ASK {}"), serialize)
    gate.set()
    assert collect(run)


def whole(results):
    return "application/sparql-results+json", results.serialize(None, ox.QueryResultsFormat.JSON)


def test_a_fast_query_runs_inline_the_second_time(store):
    # generous thresholds: the test must not depend on how loaded the machine is
    runner = QueryRunner(QueryLimits(max_concurrent=1), inline_admit_s=10, inline_evict_s=10)
    calls = []

    def execute():
        calls.append(threading.current_thread().name)
        return store.query("SELECT * { ?s ?p ?o } LIMIT 2")

    assert runner.run_inline("k", execute, whole) is None  # not known yet: no run
    threaded = collect(runner.start(execute, serialize, key="k"))
    media_type, body = runner.run_inline("k", execute, whole)
    assert body == threaded and media_type == "application/sparql-results+json"
    assert calls[-1] == threading.current_thread().name and calls[0] != calls[-1]
    collect(runner.start(lambda: store.query("ASK {}"), serialize))  # the slot came back


def test_a_write_or_a_busy_slot_sends_it_back_to_a_worker(store):
    runner = QueryRunner(QueryLimits(max_concurrent=1), inline_admit_s=10, inline_evict_s=10)
    query = lambda: store.query("ASK {}")  # noqa: E731
    collect(runner.start(query, serialize, key="k"))
    runner.invalidate()
    assert runner.run_inline("k", query, whole) is None
    collect(runner.start(query, serialize, key="k"))
    gate = threading.Event()
    run = runner.start(lambda: gate.wait(10) and store.query("ASK {}"), serialize)
    assert runner.run_inline("k", query, whole) is None  # the one slot is taken
    gate.set()
    collect(run)
    assert runner.run_inline("k", query, whole) is not None


def test_a_slow_or_large_result_is_not_run_inline(store):
    runner = QueryRunner(QueryLimits(), inline_admit_s=10, inline_evict_s=10)
    slow = QueryRunner(QueryLimits(), inline_admit_s=0)
    collect(slow.start(lambda: store.query("ASK {}"), serialize, key="k"))
    assert slow.run_inline("k", lambda: store.query("ASK {}"), whole) is None
    big = lambda: store.query("SELECT * { ?a ?b ?c . ?d ?e ?f } LIMIT 3000")  # noqa: E731
    assert len(collect(runner.start(big, serialize, key="big"))) > 64 * 1024
    assert runner.run_inline("big", big, whole) is None
