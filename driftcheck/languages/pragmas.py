"""Inline exceptions: `driftcheck: allow-missing=K1,K2 -- reason` in a comment.

Extractors find the comments next to a mirror's definition (on the lines
directly above it, or at the end of its first line) and hand their text here.
"""

from __future__ import annotations

import re

from driftcheck.model import Allowance, Finding

_MARKER = re.compile(r"\bdriftcheck:\s*")
_DIRECTIVE = re.compile(r"allow-(missing|extra)\s*=\s*([^\s]+)")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


def parse_pragma(comment: str, path: str, line: int, column: int) -> list[Allowance] | Finding | None:
    """Allowances declared by one comment, a DC106 finding if malformed, or None.

    `comment` is the comment's text without its `#`/`//` opener; `column` is
    where the comment starts.
    """
    marker = _MARKER.search(comment)
    if marker is None:
        return None
    body = comment[marker.end():]
    at_column = column + marker.start()
    directives_text, sep, reason = body.partition("--")
    reason = reason.strip()
    found = list(_DIRECTIVE.finditer(directives_text))
    leftover = _DIRECTIVE.sub("", directives_text).strip(" \t,")
    if not found or leftover:
        return Finding("DC106", f"malformed driftcheck pragma {body.strip()!r}; write "
                       "`driftcheck: allow-missing=KEY[,KEY] -- reason` (or allow-extra=)", path, line, at_column)
    if not sep or not reason:
        return Finding("DC106", "driftcheck pragma has no reason; add ` -- why this difference is intended` "
                       "after the keys", path, line, at_column)
    allowances: list[Allowance] = []
    for match in found:
        kind = match.group(1)
        for key in match.group(2).split(","):
            key = key.strip()
            if not key or not _KEY.match(key):
                return Finding("DC106", f"driftcheck pragma names an invalid key {key!r} in allow-{kind}=",
                               path, line, at_column)
            allowances.append(Allowance(key, kind, reason, "pragma", path, line, at_column))  # type: ignore[arg-type]
    return allowances
