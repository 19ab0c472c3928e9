"""Rewriting a JSON array of keys in place, keeping its layout (one per line stays one per line)."""

from __future__ import annotations

import json
from typing import Any

from driftcheck.fix.layout import Layout, Refused, Unit, apply, check_key, same_keys
from driftcheck.languages.common import ts_tree
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFile


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    """The new bytes of the value span, or Refused."""
    node = _node_at(ts_tree(source, "json").root_node, extracted)
    if node.type == "object":
        raise Refused("it is an object: fix cannot invent the value of a missing key; add or remove the keys by hand",
                      node.start_byte)
    if node.type != "array":
        raise Refused(f"its value is a {node.type}, not an array", node.start_byte)
    data = source.data
    children = node.children
    start, end = children[0].end_byte, children[-1].start_byte
    elements = [c for c in children if c.is_named and c.type != "comment"]
    units = [Unit(json.loads(data[c.start_byte:c.end_byte]), data[c.start_byte:c.end_byte].decode("utf-8"))
             for c in elements if c.type == "string"]
    if len(units) != len(elements) or not same_keys([u.key for u in units], extracted.key_names):
        raise Refused("its elements are not all strings", node.start_byte)
    if not units:
        layout = Layout(data[start:end].decode("utf-8"), [], [], "", ", ", ",")
    else:
        gaps = [data[elements[i].end_byte:elements[i + 1].start_byte].decode("utf-8") for i in range(len(elements) - 1)]
        layout = Layout(data[start:elements[0].start_byte].decode("utf-8"), units, gaps,
                        data[elements[-1].end_byte:end].decode("utf-8"), ", ", ",")
    apply(layout, desired, _make_element)
    return data[node.start_byte:start] + layout.render().encode("utf-8") + data[end:node.end_byte]


def _make_element(key: str, neighbour: Unit | None) -> Unit:
    check_key(key, "a JSON array")
    return Unit(key, json.dumps(key))


def _node_at(root: Any, extracted: ExtractedList) -> Any:
    span = extracted.value_span
    if span is None or "[]" in extracted.ref.symbol:
        raise Refused("it is read through a projection ([]); edit it by hand")
    node = root.descendant_for_byte_range(span.start_byte, span.end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (span.start_byte, span.end_byte):
        node = node.parent
    if node is None:
        raise Refused("could not find its value in the file", span.start_byte)
    return node
