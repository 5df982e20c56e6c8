"""The house layering rules (style A1), checked on the source: a module imports only its own
package and lower layers, and only export/train (and the CLI, lazily) reach torch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "theragraph"

# Top to bottom; packages in one tuple are siblings that must not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("pipeline", "train"),
    ("validate", "catalog", "federation", "export"),
    ("mapping", "store", "query"),
    ("ingest", "derive", "synth"),
    ("records", "ids", "auth"),
    ("config", "report", "resources", "vocab", "data"),
    # Deviation from style A1, on purpose: every layer raises these, so they sit below all.
    ("errors",),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
TORCH_ALLOWED = {"export", "train", "cli"}


def _package_of(module_path: Path) -> str:
    rel = module_path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Return (imported module, is_top_level) pairs."""
    tree = ast.parse(path.read_text())
    top_level_nodes = set(map(id, tree.body))
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            found.append((name, id(node) in top_level_nodes))
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if _package_of(p) in RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    own = _package_of(path)
    for name, _ in _imports(path):
        if not name.startswith("theragraph.") or name == "theragraph":
            continue
        target = name.split(".")[1]
        if target == own or target not in RANK:
            continue
        assert RANK[target] > RANK[own], f"{own} (layer {RANK[own]}) must not import {name}"
    assert not any(n == "api" or n.startswith(("api.", "fastapi")) for n, _ in _imports(path)), (
        "theragraph never imports the api package or fastapi"
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_only_export_and_train_import_torch(path: Path) -> None:
    own = _package_of(path)
    for name, top_level in _imports(path):
        if name.split(".")[0] in ("torch", "torch_geometric"):
            assert own in TORCH_ALLOWED, f"{own} must not import {name}"
            if own == "cli":
                assert not top_level, "the CLI imports torch inside the command function only"


def test_ingest_never_imports_rdf_libraries() -> None:
    for path in (SRC / "ingest").rglob("*.py"):
        for name, _ in _imports(path):
            assert name.split(".")[0] not in ("rdflib", "pyoxigraph"), f"{path.name} imports {name}"


def test_synth_does_not_import_ingest() -> None:
    for path in (SRC / "synth").rglob("*.py"):
        for name, _ in _imports(path):
            assert not name.startswith("theragraph.ingest"), f"{path.name} imports {name}"
