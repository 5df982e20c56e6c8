"""R4BValidator: the same verdicts and messages as the model's own validation, memo or not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests import fhir_builders as fb
from theragraph.ingest.fhir import model_class
from theragraph.ingest.fhir_validate import R4BValidator


def _verdict(check: Any, resource: dict[str, Any]) -> str | None:
    try:
        check(resource)
    except ValidationError as exc:
        return str(exc)
    return None


def _resources(node: Any) -> list[dict[str, Any]]:
    """The resource and, for a Bundle, its entries' resources."""
    out = [node]
    for entry in node.get("entry", []) if node.get("resourceType") == "Bundle" else []:
        if isinstance(entry.get("resource"), dict):
            out.append(entry["resource"])
    return out


def test_verdicts_and_messages_equal_model_validate_on_the_mcode_examples() -> None:
    from tests.conftest import SHARED  # noqa: PLC0415

    folder = SHARED / "reference" / "mcode-examples"
    if not folder.is_dir():
        pytest.skip("reference data (../shared/reference/mcode-examples) not found")
    validator = R4BValidator()
    resources = [r for p in sorted(Path(folder).glob("*.json")) for r in _resources(json.loads(p.read_text()))]
    assert len(resources) > 179
    for _ in range(2):  # the second pass validates every repeated element from the memo
        for resource in resources:
            cls = model_class(resource["resourceType"])
            before = copy.deepcopy(resource)
            assert _verdict(lambda r: validator.validate(cls, r), resource) == _verdict(cls.model_validate, resource)
            assert resource == before  # never modified
    assert validator._memo  # elements were memoised


def test_a_bad_element_after_good_ones_fails_with_the_models_message() -> None:
    validator = R4BValidator()
    cls = model_class("Observation")
    good = fb.psa("o1", "p1", 1.0, "2021-01-01T08:00:00Z")
    validator.validate(cls, good)
    validator.validate(cls, fb.psa("o2", "p1", 2.0, "2021-01-02T08:00:00Z"))  # code, subject known
    bad = fb.psa("o3", "p1", 3.0, "2021-01-03T08:00:00Z")
    bad["valueQuantity"]["value"] = "three"
    bad["status"] = "no-such-status"
    with pytest.raises(ValidationError) as ours:
        validator.validate(cls, bad)
    with pytest.raises(ValidationError) as theirs:
        cls.model_validate(bad)
    assert str(ours.value) == str(theirs.value)
    # a resource-level rule still runs on a resource whose elements all come from the memo
    missing = fb.psa("o4", "p1", 1.0, "2021-01-01T08:00:00Z")
    del missing["status"]
    assert _verdict(lambda r: validator.validate(cls, r), missing) == _verdict(cls.model_validate, missing)
    assert _verdict(cls.model_validate, missing) is not None
