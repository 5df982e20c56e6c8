"""Load the published parameter ranges of the synthetic cohort (``parameters.yaml``).

The numbers and their citations live in the YAML file next to this module, so a domain expert can
review or change them without reading Python. This module only reads and caches them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

PARAMETERS_FILE = "parameters.yaml"


@lru_cache(maxsize=1)
def load_parameters() -> dict[str, Any]:
    """Return the cohort parameters (parsed once per process; treat the result as read-only)."""
    text = (resources.files("theragraph.synth") / PARAMETERS_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def parameters_version() -> str:
    """Return the version string of the parameter file (recorded in truth files)."""
    return str(load_parameters()["version"])
