"""Reporters: a CheckResult in, text out. Each format lives in its own module."""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

from driftcheck.model import CheckResult

FORMATS = ("text", "json", "github", "sarif")


def render(result: CheckResult, fmt: str, *, color: bool = False, root: str = ".", **options: Any) -> str:
    """The whole report for `fmt`, ending with a newline (empty when there is nothing to say).

    `options` (each format uses those that apply to it): `quiet` (findings only),
    `attribution` (what `--base` found), `relative_to_cwd` and `fix_root` (text).
    """
    module = importlib.import_module(f"driftcheck.report.{fmt}_format")
    return module.render(result, color=color, root=root, **options)  # type: ignore[no-any-return]


def statistics(result: CheckResult) -> list[tuple[str, str, int]]:
    """(code, name, count) for every rule with findings, most frequent first (`--statistics`)."""
    counts = Counter(f.code for f in result.all_findings)
    from driftcheck.rules import RULES

    return [(code, RULES[code].name, n) for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render_statistics(result: CheckResult, fmt: str) -> str:
    """`--statistics`: counts per rule instead of the findings (text: `COUNT  CODE  name`; json: a list)."""
    rows = statistics(result)
    if fmt == "json":
        import json

        return json.dumps([{"code": c, "name": n, "count": k} for c, n, k in rows], indent=2) + "\n"
    width = max((len(str(k)) for _, _, k in rows), default=1)
    return "".join(f"{k:>{width}}  {c}  {n}\n" for c, n, k in rows)
