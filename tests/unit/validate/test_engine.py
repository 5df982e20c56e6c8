"""The fast engine equals pyshacl on seeded random data covering every SHACL Core feature."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from theragraph.validate.run import validate_files
from theragraph.validate.shapes import SH

from .builders import SHAPES_TTL, random_data

EVERY_COMPONENT = {
    SH.ClassConstraintComponent,
    SH.DatatypeConstraintComponent,
    SH.NodeKindConstraintComponent,
    SH.MinCountConstraintComponent,
    SH.MaxCountConstraintComponent,
    SH.MinExclusiveConstraintComponent,
    SH.MinInclusiveConstraintComponent,
    SH.MaxExclusiveConstraintComponent,
    SH.MaxInclusiveConstraintComponent,
    SH.MinLengthConstraintComponent,
    SH.MaxLengthConstraintComponent,
    SH.PatternConstraintComponent,
    SH.LanguageInConstraintComponent,
    SH.UniqueLangConstraintComponent,
    SH.EqualsConstraintComponent,
    SH.DisjointConstraintComponent,
    SH.LessThanConstraintComponent,
    SH.LessThanOrEqualsConstraintComponent,
    SH.NotConstraintComponent,
    SH.XoneConstraintComponent,
    SH.NodeConstraintComponent,
    SH.QualifiedMinCountConstraintComponent,
    SH.QualifiedMaxCountConstraintComponent,
    SH.ClosedConstraintComponent,
    SH.HasValueConstraintComponent,
    SH.InConstraintComponent,
    SH.SPARQLConstraintComponent,
}


@pytest.fixture(autouse=True)
def _quiet_rdflib() -> None:
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES_TTL)
    data = tmp_path / "data.ttl"
    data.write_text(random_data(seed=7, patients=40))
    return data, shapes


def test_fast_engine_equals_pyshacl_on_generated_data(files: tuple[Path, Path]) -> None:
    data, shapes = files
    fast = validate_files([data], [shapes], engine="fast")
    ref = validate_files([data], [shapes], engine="pyshacl")
    assert not fast.conforms
    assert fast.keys() == ref.keys()
    assert fast.notes == []  # nothing delegated to pyshacl


def test_generated_data_violates_every_core_component(files: tuple[Path, Path]) -> None:
    data, shapes = files
    fast = validate_files([data], [shapes], engine="fast")
    seen = {r.component for r in fast.results}
    assert EVERY_COMPONENT - seen == set()


def test_severities_and_messages_are_reported(files: tuple[Path, Path]) -> None:
    data, shapes = files
    fast = validate_files([data], [shapes], engine="fast")
    severities = Counter(r.severity for r in fast.results)
    assert severities[SH.Warning] > 0 and severities[SH.Info] > 0 and severities[SH.Violation] > 0
    weight = [r for r in fast.results if r.severity == SH.Warning]
    assert all(str(m) == "weight must be 2-400 kg" for r in weight for m in r.messages)
    sparql = [r for r in fast.results if r.component == SH.SPARQLConstraintComponent]
    assert sparql and all(str(r.messages[0]).startswith("dose -") for r in sparql)


def test_deactivated_shape_reports_nothing(files: tuple[Path, Path]) -> None:
    data, shapes = files
    fast = validate_files([data], [shapes], engine="fast")
    assert not [r for r in fast.results if str(r.source_shape).endswith("OffShape")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_equals_pyshacl_for_other_seeds(tmp_path: Path, seed: int) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES_TTL)
    data = tmp_path / "data.ttl"
    data.write_text(random_data(seed=seed, patients=15))
    fast = validate_files([data], [shapes], engine="fast")
    ref = validate_files([data], [shapes], engine="pyshacl")
    assert fast.keys() == ref.keys()
