"""JSON (tree-sitter-json for positions), read exactly as Python's `json` reads it.

Python's `json` is the arbiter: a file it rejects is DC101 with its message, and
every string is decoded by it (every escape, surrogate pairs). tree-sitter-json
only supplies where things are; it accepts more than JSON (comments, several top-
level values), which `json` has already rejected, and rejects a little that `json`
accepts (NaN, Infinity): those files are refused as unreadable by driftcheck, not
as syntax errors. Duplicate keys (which `json` silently collapses, last one
winning) are DC103. JSON has no comments, so a JSON list has no pragmas: its
exceptions live in the configuration.
"""

from __future__ import annotations

import json
from typing import Any

from driftcheck import rules
from driftcheck.languages import datatree
from driftcheck.languages.common import first_error_node, ts_tree
from driftcheck.languages.datatree import Document, Entry, Value
from driftcheck.model import Finding
from driftcheck.sources import SourceFile

_OTHER = {"number": "a number", "true": "a boolean", "false": "a boolean", "null": "null"}


def document(source: SourceFile) -> Document:
    return source.analysis("json-document", lambda: _Builder(source).build())


class _Builder:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.path = source.display
        self.data = source.data
        self.problems: list[Finding] = []

    def build(self) -> Document:
        try:
            json.loads(self.source.text)
        except json.JSONDecodeError as exc:
            line, column = exc.lineno, self.source.position(len(exc.doc[:exc.pos].encode("utf-8")))[1]
            return Document(None, [rules.finding("DC101", self.path, line, column,
                                                 detail=f"JSON syntax error (Python's json says: {exc.msg}); "
                                                 "fix the file so it parses")])
        except RecursionError:
            return Document(None, [rules.finding("DC102", self.path, 1, 1,
                                                 detail="the JSON document is nested too deeply to read")])
        root = ts_tree(self.source, "json").root_node
        if root.has_error:
            node = first_error_node(root)
            row, col = node.start_point if node is not None else (0, 0)
            return Document(None, [rules.finding(
                "DC102", self.path, row + 1, self.source.point_column(row, col),
                detail="tree-sitter-json cannot parse this, though Python's json accepts it (NaN or Infinity?); "
                "driftcheck cannot read the file exactly, so it refuses it")])
        values = [c for c in root.named_children if c.type != "comment"]
        value = self.value(values[0]) if values else None
        return Document(value, self.problems)

    def value(self, node: Any) -> Value:
        row, col = node.start_point
        line, column = row + 1, self.source.point_column(row, col)
        span = datatree.span_of(node, self.source.point_column)
        if node.type == "object":
            value = Value("map", line, column, span)
            seen: dict[str, Entry] = {}
            for pair in node.named_children:
                if pair.type != "pair":
                    continue
                key = self.value(pair.child_by_field_name("key"))
                inner = pair.child_by_field_name("value")
                child = self.value(inner) if inner is not None else Value("other", line, column, span, what="null")
                entry = Entry(key.text, key.line, key.column, child, key.problem)
                if key.text is not None:
                    first = seen.setdefault(key.text, entry)
                    if first is not entry:
                        self.problems.append(rules.finding(
                            "DC103", self.path, key.line, key.column,
                            detail=f"the key {key.text!r} appears twice in one object (first at line {first.line}); "
                            "Python's json keeps the last one silently, so driftcheck refuses to guess"))
                value.entries.append(entry)
            return value
        if node.type == "array":
            value = Value("seq", line, column, span)
            for element in node.named_children:
                if element.type == "comment":
                    continue
                child = self.value(element)
                value.entries.append(Entry(None, child.line, child.column, child))
            return value
        if node.type == "string":
            text = json.loads(self.data[node.start_byte:node.end_byte])
            if any("\ud800" <= ch <= "\udfff" for ch in text):
                return Value("other", line, column, span, what="a string with a lone surrogate",
                             problem=rules.finding("DC102", self.path, line, column,
                                                   detail="a lone UTF-16 surrogate escape is not a character; "
                                                   "driftcheck cannot compare or print it"))
            return Value("str", line, column, span, text=text)
        return Value("other", line, column, span, what=_OTHER.get(node.type, node.type))


BACKEND = datatree.DocumentBackend("json", document)
