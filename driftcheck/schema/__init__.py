"""JSON Schemas shipped with driftcheck (package data, located with importlib.resources).

`check-result.schema.json` (draft 2020-12) describes `driftcheck check --format json`;
scripts and CI can validate reports against it.
"""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

CHECK_RESULT_SCHEMA = "check-result.schema.json"


def schema_file(name: str = CHECK_RESULT_SCHEMA) -> Traversable:
    """The shipped schema file (works from a wheel, a zip or a source checkout)."""
    return files(__name__) / name


def load_schema(name: str = CHECK_RESULT_SCHEMA) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return schema
