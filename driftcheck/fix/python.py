"""`driftcheck fix` for Python mirrors: libcst finds the parts of the value, edits stay inside it.

The value's text (the extractor's `value_span`) is parsed on its own with
libcst; the positions of its container and elements cut it into units and gaps
(`driftcheck.fix.layout`), which are edited and spliced back. Everything outside
the value, and every byte of the value that is not an added or removed element
with its separator, stays as it was.

Supported: list, tuple (parenthesised or not), set and dict displays (dict: the
keys; a new key gets the value every other key has), `frozenset(...)`/`set(...)`/
`tuple(...)`/`list(...)` of those, and `"A B".split()` / `"A,B".split(",")`, with
plain string literals as elements. Anything built from other names, `+`/`|`,
implicit concatenation, `*` unpacking or `NAME += ...` appends is refused.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from driftcheck.fix.layout import Layout, MakeUnit, Refused, Unit, apply, check_key, same_keys
from driftcheck.model import ExtractedList, Finding
from driftcheck.sources import SourceFile

_CONSTRUCTORS = ("frozenset", "set", "tuple", "list")
_STRING_START = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")")


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    """The new bytes of the value span, or Refused."""
    span = extracted.value_span
    if span is None:
        raise Refused("the extractor did not report where its value is")
    _refuse_appends(source, extracted.ref.symbol)
    raw = source.data[span.start_byte:span.end_byte]
    return _ValueRewriter(raw, span.start_byte).rewrite(extracted.key_names, desired)


def _refuse_appends(source: SourceFile, symbol: str) -> None:
    """A list built with `+=`/`|=` appends is not rewritten: the keys live in several places."""
    from driftcheck.languages.python.parse import parse  # the reader's parse (CPython's ast), shared per file

    module = parse(source)
    if isinstance(module, Finding):
        raise Refused("the file does not parse")
    for statement in module.tree.body:
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name) \
                and statement.target.id == symbol:
            op = "+=" if isinstance(statement.op, ast.Add) else "|="
            raise Refused(f"it is built with {op} appends (line {statement.lineno})")


class _ValueRewriter:
    def __init__(self, raw: bytes, base: int) -> None:
        self.raw = raw
        self.base = base  # byte offset of the value in the file, for locating refusals
        try:
            self.module = cst.parse_module(raw.decode("utf-8"))
        except cst.ParserSyntaxError:
            raise Refused("its value could not be parsed on its own") from None
        body = self.module.body
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine) or len(body[0].body) != 1 \
                or not isinstance(body[0].body[0], cst.Expr):
            raise Refused("its value could not be parsed on its own")
        self.value = body[0].body[0].value
        self.spans = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)

    # -- positions (byte offsets into the value) --------------------------------------------------

    def start(self, node: cst.CSTNode) -> int:
        return self.spans[node].start

    def end(self, node: cst.CSTNode) -> int:
        s = self.spans[node]
        return s.start + s.length

    def outer(self, node: cst.CSTNode) -> tuple[int, int]:
        """The node's extent including its own parentheses."""
        lpar, rpar = getattr(node, "lpar", ()), getattr(node, "rpar", ())
        return (self.start(lpar[0]) if lpar else self.start(node)), (self.end(rpar[-1]) if rpar else self.end(node))

    def text(self, start: int, end: int) -> str:
        return self.raw[start:end].decode("utf-8")

    def refuse(self, reason: str, node: cst.CSTNode) -> Refused:
        return Refused(reason, self.base + self.outer(node)[0])

    # -- the value --------------------------------------------------------------------------------

    def rewrite(self, current: tuple[str, ...], desired: list[str]) -> bytes:
        region, layout, finish = self.container(self.value)
        if not same_keys(layout.keys, current):
            raise Refused("its value does not spell out its keys literally", self.base)
        apply(layout, desired, finish)
        if isinstance(self.container_node, cst.Tuple) and len(layout.units) == 1 \
                and "," not in layout.trail:
            layout.trail = "," + layout.trail  # ("A") is a string; ("A",) the one-element tuple
        start, end = region
        return self.raw[:start] + layout.render().encode("utf-8") + self.raw[end:]

    def container(self, node: cst.BaseExpression) -> tuple[tuple[int, int], Layout, MakeUnit]:
        self.container_node = node
        if isinstance(node, (cst.List, cst.Set)):
            opener = node.lbracket if isinstance(node, cst.List) else node.lbrace
            closer = node.rbracket if isinstance(node, cst.List) else node.rbrace
            return self.elements(node, self.start(opener) + 1, self.end(closer) - 1)
        if isinstance(node, cst.Tuple):
            if node.lpar:
                return self.elements(node, self.start(node.lpar[-1]) + 1, self.end(node.rpar[0]) - 1)
            return self.elements(node, self.start(node), self.end(node))
        if isinstance(node, cst.Dict):
            return self.dict_elements(node, self.start(node.lbrace) + 1, self.end(node.rbrace) - 1)
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Name) and func.value in _CONSTRUCTORS:
                if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
                    raise self.refuse(f"it is a {func.value}() call without exactly one display to edit", node)
                return self.container(node.args[0].value)
            if isinstance(func, cst.Attribute) and func.attr.value == "split":
                return self.split_string(node)
            raise self.refuse("it is built by a function call", node)
        if isinstance(node, cst.BinaryOperation):
            op = {cst.Add: "+", cst.BitOr: "|"}.get(type(node.operator), "an operator")
            raise self.refuse(f"it is built by combining values with {op}", node)
        if isinstance(node, cst.Name):
            raise self.refuse(f"it refers to another name ({node.value})", node)
        raise self.refuse("its value is not a list, tuple, set, dict or .split() string", node)

    def string_key(self, node: cst.BaseExpression, what: str = "an element") -> tuple[str, tuple[str, str]]:
        """The key a plain string literal spells, with its (prefix, quote) style."""
        if isinstance(node, cst.Name):
            raise self.refuse(f"{what} refers to a constant ({node.value})", node)
        if isinstance(node, cst.ConcatenatedString):
            raise self.refuse(f"{what} uses implicit string concatenation", node)
        if isinstance(node, cst.FormattedString):
            raise self.refuse(f"{what} is an f-string", node)
        if not isinstance(node, cst.SimpleString):
            raise self.refuse(f"{what} is not a plain string literal", node)
        match = _STRING_START.match(node.value)
        assert match is not None
        prefix, quote = match.group(1), match.group(2)
        if "b" in prefix.lower():
            raise self.refuse(f"{what} is a bytes literal", node)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = ast.literal_eval(node.value)
        return key, (prefix, quote)

    def elements(self, node: cst.List | cst.Set | cst.Tuple, start: int, end: int) -> Any:
        units, spans = [], []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                raise self.refuse("it unpacks another list with *", element)
            key, style = self.string_key(element.value)
            s, e = self.start(element), self.end(element)
            units.append(Unit(key, self.text(s, e), style))
            spans.append((s, e))
        layout = self.layout(units, spans, start, end, ", ", ",")

        def make(key: str, neighbour: Unit | None) -> Unit:
            check_key(key)
            prefix, quote = neighbour.style if neighbour is not None else ("", '"')  # type: ignore[misc]
            return Unit(key, f"{prefix}{quote[0]}{key}{quote[0]}", (prefix, quote))

        return (start, end), layout, make

    def dict_elements(self, node: cst.Dict, start: int, end: int) -> Any:
        units, spans, values = [], [], set()
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                raise self.refuse("it unpacks another dict with **", element)
            key, (prefix, quote) = self.string_key(element.key, "a key")
            s, e = self.start(element), self.end(element)
            key_end = self.outer(element.key)[1]
            value_start, value_end = self.outer(element.value)
            colon = self.text(key_end, value_start)
            value = self.text(value_start, value_end)
            values.add(value)
            units.append(Unit(key, self.text(s, e), (prefix, quote, colon, value)))
            spans.append((s, e))
        layout = self.layout(units, spans, start, end, ", ", ",")

        def make(key: str, neighbour: Unit | None) -> Unit:
            check_key(key)
            if len(values) != 1:
                raise Refused(f"its values differ, so fix cannot tell which value {key} should get")
            value = next(iter(values))
            style = neighbour.style if neighbour is not None else ("", '"', ": ", value)
            prefix, quote, colon, _ = style  # type: ignore[misc]
            return Unit(key, f"{prefix}{quote[0]}{key}{quote[0]}{colon}{value}", (prefix, quote, colon, value))

        return (start, end), layout, make

    def split_string(self, node: cst.Call) -> Any:
        func = node.func
        assert isinstance(func, cst.Attribute)
        string = func.value
        if not isinstance(string, cst.SimpleString):
            if isinstance(string, cst.ConcatenatedString):
                raise self.refuse("its .split() string uses implicit string concatenation", string)
            raise self.refuse("it splits something other than a plain string literal", string)
        sep: str | None = None
        if node.args:
            if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
                raise self.refuse("its .split() call has arguments fix does not rewrite", node)
            sep, _ = self.string_key(node.args[0].value, "the separator")
            if not sep:
                raise self.refuse("its .split() separator is empty", node)
        match = _STRING_START.match(string.value)
        assert match is not None
        prefix, quote = match.group(1), match.group(2)
        if "b" in prefix.lower():
            raise self.refuse("it splits a bytes literal", string)
        begin = self.start(string) + len(prefix) + len(quote)
        finish = self.end(string) - len(quote)
        content = self.text(begin, finish)
        if "\\" in content:
            raise self.refuse("its string uses backslash escapes", string)
        lead, units, gaps, trail = _split_words(content, sep)
        layout = Layout(lead, units, gaps, trail, inline_sep=sep if sep is not None else " ",
                        line_sep=None if sep is None else "")

        def make(key: str, neighbour: Unit | None) -> Unit:
            check_key(key, "a .split() string")
            if quote[0] in key or (sep is not None and sep in key):
                raise Refused(f"key {key!r} cannot be written safely into a .split() string")
            return Unit(key, key)

        return (begin, finish), layout, make

    def layout(self, units: list[Unit], spans: list[tuple[int, int]], start: int, end: int,
               inline_sep: str, line_sep: str) -> Layout:
        if not units:
            return Layout(self.text(start, end), [], [], "", inline_sep, line_sep)
        gaps = [self.text(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)]
        return Layout(self.text(start, spans[0][0]), units, gaps, self.text(spans[-1][1], end), inline_sep,
                      line_sep)


def _split_words(content: str, sep: str | None) -> tuple[str, list[Unit], list[str], str]:
    """Cut a string's content into words and separators exactly as `str.split(sep)` sees them."""
    if sep is not None:
        pieces = content.split(sep)
        if any(not p for p in pieces):
            raise Refused("its .split() string has an empty word")
        return "", [Unit(p, p) for p in pieces], [sep] * (len(pieces) - 1), ""
    units: list[Unit] = []
    gaps: list[str] = []
    i, n = 0, len(content)
    while i < n and content[i].isspace():
        i += 1
    lead = content[:i]
    while i < n:
        j = i
        while j < n and not content[j].isspace():
            j += 1
        units.append(Unit(content[i:j], content[i:j]))
        k = j
        while k < n and content[k].isspace():
            k += 1
        if k < n:
            gaps.append(content[j:k])
        else:
            return lead, units, gaps, content[j:]
        i = k
    return lead, units, gaps, ""
