"""Lists `discover` may propose in a Go file: package-level `var`s holding string composite literals.

A quick scan of the tree the extractor shares (parsed once): it only proposes; every
proposal is then read by the real extractor before it is printed.
"""

from __future__ import annotations

from typing import Any

from driftcheck.languages.base import Candidate
from driftcheck.languages.common import ts_tree
from driftcheck.model import Key
from driftcheck.sources import SourceFile

_STRINGS = ("interpreted_string_literal", "raw_string_literal")


def candidates(source: SourceFile) -> list[Candidate]:
    root = ts_tree(source, "go").root_node
    if root.has_error:
        return []
    out: list[Candidate] = []
    for decl in root.children:
        if decl.type != "var_declaration":
            continue
        specs = [c for c in decl.named_children if c.type == "var_spec"]
        for spec_list in (c for c in decl.named_children if c.type == "var_spec_list"):
            specs += [c for c in spec_list.named_children if c.type == "var_spec"]
        for spec in specs:
            names = spec.children_by_field_name("name")
            value = spec.child_by_field_name("value")
            if value is None:
                continue
            for name, expr in zip(names, value.named_children):
                keys = _literal_keys(source, expr)
                if keys:
                    out.append(Candidate(source.data[name.start_byte:name.end_byte].decode(), tuple(keys)))
    return out


def _literal_keys(source: SourceFile, expr: Any) -> list[Key]:
    if expr.type != "composite_literal":
        return []
    kind = expr.child_by_field_name("type")
    body = expr.child_by_field_name("body")
    if kind is None or body is None or kind.type not in ("map_type", "slice_type", "array_type",
                                                          "implicit_length_array_type"):
        return []
    keys: list[Key] = []
    for element in body.named_children:
        target = element.child_by_field_name("key") if element.type == "keyed_element" else element
        if element.type == "keyed_element" and target is None:
            target = element.named_children[0] if element.named_children else None
        if target is not None and target.type == "literal_element" and target.named_children:
            target = target.named_children[0]
        if target is None or target.type not in _STRINGS:
            continue
        raw = source.data[target.start_byte:target.end_byte].decode()
        if "\\" in raw:
            continue  # escapes: left to the extractor, which decodes them exactly
        row, col = target.start_point
        keys.append(Key(raw[1:-1], row + 1, source.point_column(row, col)))
    return keys
