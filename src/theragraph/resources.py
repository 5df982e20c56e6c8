"""Locate the declarative files (ontology/, mappings/, shapes/, queries/) and package data.

From a wheel they are bundled under ``theragraph/_bundled``; from an editable install or a plain
checkout they are read from the repository root, found through the installation's
``direct_url.json`` or by walking up from the working directory to this project's pyproject.toml.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import unquote, urlparse

_KINDS = ("ontology", "mappings", "shapes", "queries")


def _is_project_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    return pyproject.is_file() and 'name = "theragraph"' in pyproject.read_text(errors="ignore")


@lru_cache
def project_root() -> Path | None:
    """Return the checkout's root directory, or None when running from a wheel."""
    env = os.environ.get("THERAGRAPH_RESOURCES_DIR")
    if env:
        return Path(env)
    # A checkout we are working in wins over the one the package was installed from.
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if _is_project_root(candidate):
            return candidate
    try:
        direct = metadata.distribution("theragraph").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        direct = None
    if direct:
        url = json.loads(direct).get("url", "")
        if url.startswith("file://"):
            candidate = Path(unquote(urlparse(url).path))
            if _is_project_root(candidate):
                return candidate
    return None


def resource_dir(kind: str) -> Traversable:
    """Return the directory of one kind of declarative file.

    Args:
        kind: one of ``ontology``, ``mappings``, ``shapes``, ``queries``.

    Raises:
        ValueError: for an unknown kind.
        FileNotFoundError: when neither a bundle nor a checkout holds it.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {_KINDS}")
    bundled = resources.files("theragraph") / "_bundled" / kind
    if bundled.is_dir():
        return bundled
    root = project_root()
    if root is not None and (root / kind).is_dir():
        return root / kind
    raise FileNotFoundError(
        f"cannot find the {kind}/ directory: install the theragraph wheel, run from the "
        "checkout, or set THERAGRAPH_RESOURCES_DIR to the repository root"
    )


def resource_path(kind: str, name: str) -> Path:
    """Return a real filesystem path to one declarative file (e.g. ``mappings``, ``dicom.yaml``)."""
    path = Path(str(resource_dir(kind) / name))
    if not path.exists():
        raise FileNotFoundError(f"{kind}/{name} not found (looked in {path.parent})")
    return path


def list_resources(kind: str, suffix: str) -> list[Path]:
    """Return the sorted paths of one kind's files that end with ``suffix`` (recursive)."""
    base = Path(str(resource_dir(kind)))
    return sorted(p for p in base.rglob(f"*{suffix}") if p.is_file())


def data_path(name: str) -> Path:
    """Return the path of a runtime table in ``theragraph/data`` (half-lives, private tags...)."""
    return Path(str(resources.files("theragraph") / "data" / name))
