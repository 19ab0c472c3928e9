"""Rewriting a YAML sequence of keys in place: block (`- KEY` lines) or flow (`[A, B]`), quotes kept."""

from __future__ import annotations

from typing import Any

from driftcheck.fix.json import _node_at
from driftcheck.fix.layout import Layout, Refused, Unit, apply, check_key, same_keys
from driftcheck.languages.common import ts_tree
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFile


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    """The new bytes of the value span, or Refused."""
    node = _node_at(ts_tree(source, "yaml").root_node, extracted)
    if node.type in ("block_mapping", "flow_mapping"):
        raise Refused("it is a mapping: fix cannot invent the value of a missing key; add or remove the keys by "
                      "hand", node.start_byte)
    if node.type not in ("block_sequence", "flow_sequence"):
        raise Refused(f"its value is a {node.type.replace('_', ' ')}, not a sequence", node.start_byte)
    data = source.data
    flow = node.type == "flow_sequence"
    if flow:
        elements = [c for c in node.children if c.type in ("flow_node", "flow_pair")]
        start, end = node.children[0].end_byte, node.children[-1].start_byte
    else:
        elements = [c for c in node.children if c.type == "block_sequence_item"]
        start, end = node.start_byte, node.end_byte
    keys = list(extracted.key_names)
    if len(keys) != len(elements) or not same_keys(keys, extracted.key_names):
        raise Refused("its elements could not be matched with its keys", node.start_byte)
    units = [Unit(key, data[c.start_byte:c.end_byte].decode("utf-8"), _style(data, c)) for key, c in zip(keys, elements)]
    if any(u.style == "other" for u in units):
        raise Refused("an element is written in a style fix does not rewrite (a block scalar or folded lines)",
                      node.start_byte)
    if not units:
        layout = Layout(data[start:end].decode("utf-8"), [], [], "", ", ", ",")
    else:
        gaps = [data[elements[i].end_byte:elements[i + 1].start_byte].decode("utf-8") for i in range(len(elements) - 1)]
        layout = Layout(data[start:elements[0].start_byte].decode("utf-8"), units, gaps,
                        data[elements[-1].end_byte:end].decode("utf-8"), ", " if flow else "\n",
                        "," if flow else "")
    apply(layout, desired, _maker(flow))
    return data[node.start_byte:start] + layout.render().encode("utf-8") + data[end:node.end_byte]


def _style(data: bytes, node: Any) -> str:
    text = data[node.start_byte:node.end_byte].decode("utf-8")
    body = text[1:].lstrip(" ") if node.type == "block_sequence_item" else text
    if "\n" in body:
        return "other"
    if body.startswith('"'):
        return "double"
    if body.startswith("'"):
        return "single"
    if body[:1] in "|>&*!":
        return "other"
    return "plain"


def _maker(flow: bool) -> Any:
    from driftcheck.languages.yaml.scalars import plain_type

    def make(key: str, neighbour: Unit | None) -> Unit:
        check_key(key, "a YAML sequence")
        style = neighbour.style if neighbour is not None else "plain"
        if style == "plain" and plain_type(key) is not None:
            style = "double"  # `true`, `1`, `null` written plain would not be strings
        text = {"double": f'"{key}"', "single": f"'{key}'"}.get(str(style), key)
        return Unit(key, text if flow else f"- {text}", style)

    return make
