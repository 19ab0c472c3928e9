"""Lists `discover` may propose in a shell script: top-level `NAME="A B C"` / `NAME=(A B C)` definitions.

Only proposes (literal words, no expansions); every proposal is then read by the
real extractor before it is printed.
"""

from __future__ import annotations

from typing import Any

from driftcheck.languages.base import Candidate
from driftcheck.languages.common import ts_tree
from driftcheck.model import Key
from driftcheck.sources import SourceFile

_DYNAMIC = ("$", "`", "*", "?", "[", "\\")


def candidates(source: SourceFile) -> list[Candidate]:
    root = ts_tree(source, "bash").root_node
    out: list[Candidate] = []
    seen: set[str] = set()
    for statement in root.named_children:
        assignments = [statement] if statement.type == "variable_assignment" else (
            [c for c in statement.named_children if c.type == "variable_assignment"]
            if statement.type == "declaration_command" else [])
        for assignment in assignments:
            name_node = assignment.child_by_field_name("name")
            value = assignment.child_by_field_name("value")
            if name_node is None or value is None:
                continue
            name = _text(source, name_node)
            keys = _keys(source, value)
            if keys and name not in seen:
                seen.add(name)
                out.append(Candidate(name, tuple(keys)))
    return out


def _keys(source: SourceFile, value: Any) -> list[Key]:
    if value.type == "array":
        words = [w for w in value.named_children if w.type != "comment"]
        keys = []
        for word in words:
            text = _text(source, word)
            if word.type in ("string", "raw_string"):
                text = text[1:-1]
            if not text or any(c in text for c in _DYNAMIC) or any(c.isspace() for c in text):
                return []
            row, col = word.start_point
            keys.append(Key(text, row + 1, source.point_column(row, col)))
        return keys
    if value.type in ("string", "raw_string", "word"):
        raw = _text(source, value)
        inner = raw[1:-1] if value.type != "word" else raw
        if any(c in inner for c in _DYNAMIC) or value.type == "word":
            return []
        keys = []
        offset = value.start_byte + 1
        for part in inner.split():
            at = source.data.index(part.encode(), offset)
            offset = at + len(part.encode())
            line, column = source.position(at)
            keys.append(Key(part, line, column))
        return keys if len(keys) > 1 else []
    return []


def _text(source: SourceFile, node: Any) -> str:
    return source.data[node.start_byte:node.end_byte].decode("utf-8")
