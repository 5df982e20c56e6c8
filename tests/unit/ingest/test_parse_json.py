"""parse_json (orjson with a json.loads fallback) must read JSON exactly as json.loads does."""

from __future__ import annotations

import json
import random

import pytest

from theragraph.ingest.fhir import parse_json

SAME_AS_STDLIB = [
    b'{"resourceType": "Observation", "id": "o1", "valueQuantity": {"value": 64.83}}',
    b'{"a": 1, "a": 2}',  # duplicate key: the last one wins
    b'{"big": 123456789012345678901234567890}',  # orjson alone would give a float
    b'{"big": -98765432109876543210}',
    b'{"max": 18446744073709551615, "min": -9223372036854775808}',
    b'{"x": 1e400}',  # json.loads: inf
    b'{"x": NaN, "y": -Infinity}',
    b'{"s": "\\ud800"}',  # lone surrogate
    '{"s": "\u00e9"}'.encode("utf-16"),  # another encoding, detected by json.loads
    b'\xef\xbb\xbf{"bom": true}',
    b'{"a": -0.0, "b": 0.1000000000000000055511151231257827, "c": 1.0, "d": 10, "e": 1E-7}',
    b' {"padded": [null, true, false]} \r\n',
]


@pytest.mark.parametrize("data", SAME_AS_STDLIB)
def test_parse_json_equals_json_loads(data: bytes) -> None:
    expected = json.loads(data)
    got = parse_json(data)
    assert repr(got) == repr(expected)  # repr: 1 and 1.0 and True differ, nan compares unequal
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_parse_json_floats_round_trip_as_json_loads() -> None:
    rng = random.Random(3)
    values = [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [rng.random() * 10 ** rng.randint(-300, 300) for _ in range(2000)]
    data = json.dumps({"v": values}).encode()
    assert parse_json(data) == json.loads(data)


@pytest.mark.parametrize(
    "data", [b'{"a": [1, 2,]}', b'{"a": "\x01"}', b'{"a": 1', b"", b"not json"])
def test_parse_json_errors_are_json_loads_errors(data: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(data)
    with pytest.raises(json.JSONDecodeError) as got:
        parse_json(data)
    assert (got.value.msg, got.value.lineno, got.value.colno) == (
        expected.value.msg, expected.value.lineno, expected.value.colno)
