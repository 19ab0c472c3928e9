"""Reporters: a CheckResult in, text out. Each format lives in its own module."""

from __future__ import annotations

import importlib

from driftcheck.model import CheckResult

FORMATS = ("text", "json", "github", "sarif")


def render(result: CheckResult, fmt: str, *, color: bool = False, root: str = ".") -> str:
    """The whole report for `fmt`, ending with a newline (empty when there is nothing to say)."""
    module = importlib.import_module(f"driftcheck.report.{fmt}_format")
    return module.render(result, color=color, root=root)
