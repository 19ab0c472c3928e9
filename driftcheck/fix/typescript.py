"""`driftcheck fix` for TypeScript/JavaScript mirrors: rewrite an array literal's elements, keeping its style.

The value is the array the extractor reported (`value_span`: inside `Object.freeze(...)`, `new Set(...)`,
`as const`). Elements must be plain string literals whose text is their key (no escapes); a new element
copies its neighbour's quotes; a one-per-line array stays one per line, a trailing comma stays. Refused:
objects (driftcheck cannot invent a key's value), `[].field` projections (same), elements that are not
literal strings, and arrays with comments between their elements.
"""

from __future__ import annotations

from typing import Any

from driftcheck.fix.layout import SAFE_KEY, Layout, Refused, Unit, apply, check_key, same_keys
from driftcheck.languages.typescript import syntax
from driftcheck.languages.typescript.syntax import NotStatic
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFile


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    """The new bytes of the value span, or Refused."""
    span = extracted.value_span
    if span is None:
        raise Refused("the extractor did not report where its value is")
    if "[" in extracted.ref.symbol or "." in extracted.ref.symbol:
        raise Refused("it is read through a selector (a field of objects or a nested value); fix rewrites only "
                      "a top-level array: edit it by hand, driftcheck cannot invent the other fields",
                      span.start_byte)
    grammar = syntax.grammar_for(source.path, extracted.ref.language)
    root = syntax.tree(source, grammar).root_node
    node = root.descendant_for_byte_range(span.start_byte, span.end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (span.start_byte, span.end_byte):
        node = node.parent
    if node is None:
        raise Refused("could not find its value in the file", span.start_byte)
    if node.type == "object":
        raise Refused("it is an object: fix cannot invent the value of a missing key; add or remove the keys "
                      "by hand", node.start_byte)
    if node.type != "array":
        raise Refused(f"its value is a {node.type.replace('_', ' ')}, not an array literal", node.start_byte)
    data = source.data
    layout = _array_layout(node, data)
    if not same_keys(layout.keys, extracted.key_names):
        raise Refused("its value does not spell out its keys literally", node.start_byte)
    apply(layout, desired, _make_element)
    start, end = node.children[0].end_byte, node.children[-1].start_byte
    value = data[node.start_byte:node.end_byte]
    return value[:start - node.start_byte] + layout.render().encode("utf-8") + value[end - node.start_byte:]


def _array_layout(node: Any, data: bytes) -> Layout:
    children = node.children
    start, end = children[0].end_byte, children[-1].start_byte
    units: list[Unit] = []
    spans: list[tuple[int, int]] = []
    for child in children[1:-1]:
        if child.type == "comment":
            raise Refused("its array has comments between the elements, which fix does not move",
                          child.start_byte)
        if child.type == ",":
            continue
        units.append(Unit(_element_key(child, data), syntax.text(data, child), syntax.text(data, child)[0]))
        spans.append((child.start_byte, child.end_byte))
    text = data[start:end].decode("utf-8")
    if not units:
        return Layout(text, [], [], "", ", ", ",")
    gaps = [data[spans[i][1]:spans[i + 1][0]].decode("utf-8") for i in range(len(spans) - 1)]
    return Layout(data[start:spans[0][0]].decode("utf-8"), units, gaps, data[spans[-1][1]:end].decode("utf-8"),
                  ", ", ",")


def _element_key(node: Any, data: bytes) -> str:
    if node.type not in ("string", "template_string"):
        raise Refused(f"its element {syntax.text(data, node)[:30]!r} is not a string literal", node.start_byte)
    raw = syntax.text(data, node)[1:-1]
    try:
        value = syntax.literal_string(data, node)
    except NotStatic as exc:
        raise Refused(exc.why, node.start_byte) from None
    if value != raw or not SAFE_KEY.match(raw):
        raise Refused(f"its element {raw[:30]!r} is not a plain key fix can rewrite safely", node.start_byte)
    return raw


def _make_element(key: str, neighbour: Unit | None) -> Unit:
    check_key(key)
    quote = str(neighbour.style) if neighbour is not None else '"'
    return Unit(key, f"{quote}{key}{quote}", quote)
