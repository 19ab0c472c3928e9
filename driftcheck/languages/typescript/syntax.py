"""Parsing TypeScript/JavaScript with tree-sitter, and decoding string literals exactly as JavaScript does.

Grammar by extension: `.tsx` → TSX, `.ts .mts .cts` → TypeScript, `.js .jsx .mjs .cjs` → JavaScript (which
includes JSX). The grammar modules are imported on first use only.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from driftcheck.languages.common import ts_tree
from driftcheck.sources import SourceFile

_GRAMMAR_BY_SUFFIX = {".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
                      ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript"}

# Expression wrappers that do not change the value at run time (types are erased).
TRANSPARENT = frozenset({"parenthesized_expression", "as_expression", "satisfies_expression",
                         "non_null_expression", "type_assertion"})


def grammar_for(path: PurePath | str, language: str) -> str:
    """The grammar to parse a file with: from its extension, else from the contract's language."""
    suffix = PurePath(path).suffix.lower()
    return _GRAMMAR_BY_SUFFIX.get(suffix, "typescript" if language == "typescript" else "javascript")


def tree(source: SourceFile, grammar: str) -> Any:
    """The file's tree, parsed once per run."""
    return ts_tree(source, grammar)


def text(data: bytes, node: Any) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8")


def identifier(data: bytes, node: Any) -> str:
    """An identifier's name: `K\\u0045YS` and `K\\u{45}YS` are spellings of KEYS."""
    raw = data[node.start_byte:node.end_byte]
    if b"\\" not in raw:
        return raw.decode("utf-8")
    try:
        return decode_string(raw.decode("utf-8"), template=False)
    except NotStatic:
        return raw.decode("utf-8")


def unwrap(node: Any) -> Any:
    """The expression inside parentheses, `as T`, `satisfies T`, `x!` and `<T>x`."""
    while node is not None and node.type in TRANSPARENT:
        node = _inner(node)
    return node


def _inner(node: Any) -> Any:
    if node.type == "parenthesized_expression":
        named = [c for c in node.named_children if c.type != "comment"]
        return named[0] if len(named) == 1 else None  # `(a, b)` is a sequence_expression inside
    if node.type == "type_assertion":  # <T>expr: the expression is the last named child
        return node.named_children[-1]
    return node.named_children[0] if node.named_children else None


class NotStatic(Exception):
    """A literal driftcheck will not decode; `why` says what it is."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


_SIMPLE = {"b": 0x08, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_LINE_TERMINATORS = "\n\r\u2028\u2029"


def decode_string(raw: str, template: bool) -> str:
    """The value of a string literal's body (between the quotes) or a template's (no substitutions).

    Works in UTF-16 code units, as JavaScript does, so `\\uD83D\\uDE00` is one character. Legacy octal
    escapes (`\\1`, `\\08`) and `\\8`/`\\9` are refused: modules, TypeScript and templates reject them, and
    sloppy-mode scripts read them as octal — driftcheck does not guess which mode a file runs in. A lone
    surrogate is refused: it is not text.
    """
    units: list[int] = []
    i, n = 0, len(raw)
    while i < n:
        char = raw[i]
        if char == "\r" and template:  # templates normalise CRLF and CR to LF
            units.append(0x0A)
            i += 2 if raw.startswith("\r\n", i) else 1
            continue
        if char != "\\":
            _push(units, ord(char))
            i += 1
            continue
        if i + 1 >= n:
            raise NotStatic("a string ends with a lone backslash")
        esc = raw[i + 1]
        i += 2
        if esc in _SIMPLE:
            units.append(_SIMPLE[esc])
        elif esc in _LINE_TERMINATORS:  # line continuation
            if esc == "\r" and raw.startswith("\n", i):
                i += 1
        elif esc == "0" and not (i < n and raw[i] in "0123456789"):
            units.append(0)
        elif esc in "0123456789":
            raise NotStatic(f"the escape \\{esc} is a legacy octal escape (rejected by TypeScript, modules and "
                            "templates); write \\xHH or \\uHHHH")
        elif esc == "x":
            digits = raw[i:i + 2]
            if len(digits) != 2 or not _is_hex(digits):
                raise NotStatic("a \\x escape needs two hex digits")
            units.append(int(digits, 16))
            i += 2
        elif esc == "u":
            if raw.startswith("{", i):
                close = raw.find("}", i)
                digits = raw[i + 1:close] if close != -1 else ""
                if not digits or not _is_hex(digits) or int(digits, 16) > 0x10FFFF:
                    raise NotStatic("a \\u{...} escape needs 1 or more hex digits up to 10FFFF")
                _push(units, int(digits, 16))
                i = close + 1
            else:
                digits = raw[i:i + 4]
                if len(digits) != 4 or not _is_hex(digits):
                    raise NotStatic("a \\u escape needs four hex digits")
                units.append(int(digits, 16))
                i += 4
        else:  # identity escape: \" \' \\ \` \$ and any other character stands for itself
            _push(units, ord(esc))
    return _from_units(units)


def _is_hex(digits: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in digits)


def _push(units: list[int], code_point: int) -> None:
    if code_point > 0xFFFF:
        code_point -= 0x10000
        units += [0xD800 + (code_point >> 10), 0xDC00 + (code_point & 0x3FF)]
    else:
        units.append(code_point)


def _from_units(units: list[int]) -> str:
    out: list[str] = []
    i = 0
    while i < len(units):
        unit = units[i]
        if 0xD800 <= unit <= 0xDBFF and i + 1 < len(units) and 0xDC00 <= units[i + 1] <= 0xDFFF:
            out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00)))
            i += 2
            continue
        if 0xD800 <= unit <= 0xDFFF:
            raise NotStatic("the string holds a lone surrogate (half of a \\uD800-\\uDFFF pair), which is not text")
        out.append(chr(unit))
        i += 1
    return "".join(out)


def literal_string(data: bytes, node: Any) -> str | None:
    """The value of a `string` or substitution-free `template_string` node; None for anything else.

    Raises NotStatic for a template with substitutions or an escape driftcheck refuses.
    """
    if node.type == "string":
        return decode_string(text(data, node)[1:-1], template=False)
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            raise NotStatic("a template literal with ${...} substitutions is computed at run time")
        return decode_string(text(data, node)[1:-1], template=True)
    return None
