"""`driftcheck fix` for bash mirrors: tree-sitter-bash finds the parts of the value, edits stay inside it.

The value node is the one the extractor reported (`value_span`: the value of
the first definition). Supported: a quoted string ("...", '...' or $'...') whose
words are the keys, separated by blanks, newlines or `\\`-newline continuations
(`\\n`/`\\t` escapes in $'...'); an array `(A "B" 'C')` of plain words, with
comments between elements; a single bare word. Anything that bash would expand
(`$OTHER`, `$(...)`), concatenated parts, escapes inside the words, and lists
grown with `NAME+=` appends are refused.
"""

from __future__ import annotations

import re
from typing import Any

from driftcheck.languages.common import ts_tree
from driftcheck.fix.layout import SAFE_KEY, Layout, MakeUnit, Refused, Unit, apply, check_key, same_keys
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFile

# Separators between the words of each kind of string (an isolated string token, not source code).
_SEPARATORS = {
    "string": re.compile(r"((?:[ \t\r\n]|\\\r?\n)+)"),
    "raw_string": re.compile(r"([ \t\r\n]+)"),
    "ansi_c_string": re.compile(r"((?:[ \t\r\n]|\\[nt])+)"),
}
_DELIMITERS = {"string": ('"', '"'), "raw_string": ("'", "'"), "ansi_c_string": ("$'", "'")}
_EXPANSIONS = {
    "simple_expansion": "it is built from {text} (a variable expansion)",
    "expansion": "it is built from {text} (a variable expansion)",
    "command_substitution": "it runs a command substitution ({text})",
    "arithmetic_expansion": "it uses arithmetic expansion ({text})",
    "process_substitution": "it uses a process substitution ({text})",
}


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    """The new bytes of the value span, or Refused."""
    span = extracted.value_span
    if span is None:
        raise Refused("the extractor did not report where its value is")
    tree = ts_tree(source, "bash")
    _refuse_appends(tree.root_node, source.data, extracted.ref.symbol)
    if span.start_byte == span.end_byte:  # `NAME=` with nothing after it: write a quoted string
        if extracted.key_names:
            raise Refused("its value does not spell out its keys literally", span.start_byte)
        for key in desired:
            check_key(key)
        return ('"' + " ".join(desired) + '"').encode("utf-8")
    node = tree.root_node.descendant_for_byte_range(span.start_byte, span.end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (span.start_byte, span.end_byte):
        node = node.parent
    if node is None or node.parent is None or node.parent.type != "variable_assignment":
        raise Refused("could not find its value in the file", span.start_byte)
    return _rewrite_value(node, source.data, extracted.key_names, desired)


def _refuse_appends(root: Any, data: bytes, symbol: str) -> None:
    """`NAME+=...` at top level (anywhere else the extractor already refuses to read the list)."""
    for statement in root.children:
        candidates = [statement] if statement.type == "variable_assignment" else \
            [c for c in statement.children if c.type == "variable_assignment"] \
            if statement.type in ("declaration_command", "variable_assignments") else []
        for node in candidates:
            name = node.child_by_field_name("name")
            if name is not None and _text(data, name) == symbol and any(c.type == "+=" for c in node.children):
                raise Refused(f"it is built with += appends (line {node.start_point[0] + 1})", node.start_byte)


def _text(data: bytes, node: Any) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8")


def _refuse_node(node: Any, data: bytes) -> Refused:
    text = _text(data, node)
    shown = text if len(text) <= 30 else text[:27] + "..."
    for child_type, template in _EXPANSIONS.items():
        if node.type == child_type:
            return Refused(template.format(text=shown), node.start_byte)
    if node.type == "concatenation":
        return Refused(f"its value {shown} is a concatenation of several parts", node.start_byte)
    return Refused(f"its value contains {shown} ({node.type}), which fix does not rewrite", node.start_byte)


def _rewrite_value(node: Any, data: bytes, current: tuple[str, ...], desired: list[str]) -> bytes:
    kind = node.type
    if kind in _DELIMITERS:
        layout, region = _string_layout(node, data)
        make: MakeUnit = _make_word
    elif kind == "array":
        layout, region = _array_layout(node, data)
        make = _make_element
    elif kind == "word":
        word = _text(data, node)
        if [word] != list(current):
            raise Refused("its value does not spell out its keys literally", node.start_byte)
        for key in desired:
            check_key(key)
        text = desired[0] if len(desired) == 1 else '"' + " ".join(desired) + '"'
        return text.encode("utf-8")
    else:
        raise _refuse_node(_first_dynamic(node) or node, data)
    if not same_keys(layout.keys, current):
        raise Refused("its value does not spell out its keys literally", node.start_byte)
    apply(layout, desired, make)
    start, end = region
    value = data[node.start_byte:node.end_byte]
    return value[:start - node.start_byte] + layout.render().encode("utf-8") + value[end - node.start_byte:]


def _first_dynamic(node: Any) -> Any | None:
    """The first part of a value that bash would expand, to name it in the refusal."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _EXPANSIONS:
            return current
        stack.extend(reversed(current.children))
    return None


def _string_layout(node: Any, data: bytes) -> tuple[Layout, tuple[int, int]]:
    kind = node.type
    for child in node.named_children:
        if child.type != "string_content":
            raise _refuse_node(child, data)
    opener, closer = _DELIMITERS[kind]
    start, end = node.start_byte + len(opener), node.end_byte - len(closer)
    content = data[start:end].decode("utf-8")
    parts = _SEPARATORS[kind].split(content)
    # parts alternate word, separator, word, ...; the first and last may be empty (no lead/trail).
    words, seps = parts[0::2], parts[1::2]
    lead = trail = ""
    if words and words[0] == "":
        words.pop(0)
        lead = seps.pop(0) if seps else ""
    if words and words[-1] == "":
        words.pop()
        trail = seps.pop() if seps else ""
    units = []
    for word in words:
        if not SAFE_KEY.match(word):
            shown = word if len(word) <= 30 else word[:27] + "..."
            raise Refused(f"its string contains {shown!r}, which fix cannot rewrite safely", node.start_byte)
        units.append(Unit(word, word))
    if not units:
        return Layout(content, [], [], "", " ", None), (start, end)
    return Layout(lead, units, seps, trail, " ", None), (start, end)


def _make_word(key: str, neighbour: Unit | None) -> Unit:
    check_key(key)
    return Unit(key, key)


_STYLE_QUOTES = {"word": "", "string": '"', "raw_string": "'"}


def _array_layout(node: Any, data: bytes) -> tuple[Layout, tuple[int, int]]:
    children = node.children
    if not children or children[0].type != "(" or children[-1].type != ")":
        raise Refused("its array could not be read", node.start_byte)
    start, end = children[0].end_byte, children[-1].start_byte
    units: list[Unit] = []
    spans: list[tuple[int, int]] = []
    for child in children[1:-1]:
        if child.type == "comment" or not child.is_named:
            continue
        key = _element_key(child, data)
        units.append(Unit(key, _text(data, child), child.type))
        spans.append((child.start_byte, child.end_byte))
    if not units:
        return Layout(data[start:end].decode("utf-8"), [], [], "", " ", None), (start, end)
    gaps = [data[spans[i][1]:spans[i + 1][0]].decode("utf-8") for i in range(len(spans) - 1)]
    lead = data[start:spans[0][0]].decode("utf-8")
    trail = data[spans[-1][1]:end].decode("utf-8")
    return Layout(lead, units, gaps, trail, " ", None), (start, end)


def _element_key(node: Any, data: bytes) -> str:
    kind = node.type
    if kind == "word":
        text = _text(data, node)
    elif kind == "string":
        if any(c.type != "string_content" for c in node.named_children):
            raise _refuse_node(_first_dynamic(node) or node, data)
        text = _text(data, node)[1:-1]
    elif kind == "raw_string":
        text = _text(data, node)[1:-1]
    else:
        raise _refuse_node(_first_dynamic(node) or node, data)
    if not SAFE_KEY.match(text):
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise Refused(f"its element {shown!r} is not a plain key fix can rewrite safely", node.start_byte)
    return text


def _make_element(key: str, neighbour: Unit | None) -> Unit:
    check_key(key)
    style = neighbour.style if neighbour is not None else "word"
    quote = _STYLE_QUOTES.get(str(style), "")
    return Unit(key, f"{quote}{key}{quote}", style)
