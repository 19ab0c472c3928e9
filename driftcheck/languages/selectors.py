"""Selectors: the SYMBOL part of `PATH:SYMBOL`, extended with steps (docs/selectors.md).

`NAME` then steps: `.field`, `."quoted.key"` (a key with dots or spaces; `\\"` and
`\\\\` escape inside the quotes) and `[]` (each element of an array). For YAML and JSON
the selector is a path from the document root and may start with a step; `.` alone
is the root (and, for dotenv, the file's variable names).
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

import re
from typing import NamedTuple

from driftcheck.patterns import lazy

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_FIELD = lazy(r"[^.\[\]\"\s]+")


class Step(NamedTuple):
    """`field` names a property/key; `field is None` means `[]`, each element of an array."""

    field: str | None


class Selector(NamedTuple):
    """A parsed selector: an optional leading name and the steps after it."""

    name: str | None  # None for a root path (`.`, `.jobs.e2e.env`, or `jobs.e2e.env` in YAML/JSON)
    steps: tuple[Step, ...]

    @property
    def is_plain_name(self) -> bool:
        return self.name is not None and not self.steps


class SelectorError(ValueError):
    """The selector text does not follow the grammar; the message says where."""


def parse_selector(text: str, rooted: bool = False) -> Selector:
    """Parse a selector. `rooted`: a path from the document root (YAML/JSON/dotenv).

    In rooted mode the first component is a step too: `jobs.e2e.env` is the same as
    `.jobs.e2e.env`, and `.` is the root itself.
    """
    if text == ".":
        return Selector(None, ())
    i = 0
    name: str | None = None
    steps: list[Step] = []
    if rooted:
        if not text.startswith((".", "[")):
            text = "." + text
    else:
        match = _IDENT.match(text)
        if match is None:
            raise SelectorError(f"{text!r} must start with a name (letters, digits, _ or $)")
        name = match.group()
        i = match.end()
    while i < len(text):
        if text.startswith("[]", i):
            steps.append(Step(None))
            i += 2
        elif text[i] == "." and i + 1 < len(text) and text[i + 1] == '"':
            value, i = _quoted(text, i + 2)
            steps.append(Step(value))
        elif text[i] == ".":
            match = _FIELD.match(text, i + 1)
            if match is None:
                raise SelectorError(f"{text!r}: expected a field name after '.' at character {i + 1}; "
                                    'quote keys with dots or spaces: ."my.key"')
            steps.append(Step(match.group()))
            i = match.end()
        else:
            raise SelectorError(f"{text!r}: unexpected {text[i]!r} at character {i + 1}; "
                                "steps are .field, .\"quoted key\" and []")
    return Selector(name, tuple(steps))


def _quoted(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise SelectorError(f"{text!r}: unterminated quoted key")


def format_selector(selector: Selector) -> str:
    """The canonical text of a selector (what `discover` prints and `parse_selector` reads back)."""
    parts = [selector.name or ""]
    for step in selector.steps:
        if step.field is None:
            parts.append("[]")
        elif _FIELD.fullmatch(step.field) and step.field == step.field.strip():
            parts.append("." + step.field)
        else:
            parts.append('."' + step.field.replace("\\", "\\\\").replace('"', '\\"') + '"')
    text = "".join(parts)
    return text or "."
