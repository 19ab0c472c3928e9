"""YAML 1.2 scalars decoded as a loader does (the `yaml` npm package, core schema).

Each function returns the string value, or raises `ScalarError` with a reason
when the text is not something driftcheck reads exactly (the caller refuses it).
"""

from __future__ import annotations

import re

# The core schema's non-string plain scalars (YAML 1.2.2, section 10.3.2).
_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)\Z")

_SIMPLE_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class ScalarError(ValueError):
    """A scalar driftcheck does not read (the reason says why and what to write instead)."""


def plain_type(text: str) -> str | None:
    """What a plain scalar resolves to when it is not a string ("null", "a boolean", ...), else None."""
    if _NULL.match(text):
        return "null"
    if _BOOL.match(text):
        return "a boolean"
    if _INT.match(text):
        return "an integer"
    if _FLOAT.match(text):
        return "a number"
    return None


def plain(raw: str) -> str:
    """A plain scalar: lines folded, surrounding white space of each line dropped."""
    raw = raw.replace("\r\n", "\n")
    if "\n" not in raw:
        return raw
    return _fold(raw.split("\n"), strip_first=False)


def _fold(lines: list[str], strip_first: bool) -> str:
    """Flow folding: one line break is a space, n+1 breaks are n newlines."""
    out = [lines[0].lstrip(" \t") if strip_first else lines[0]]
    out[0] = out[0].rstrip(" \t")
    empties = 0
    for line in lines[1:]:
        stripped = line.strip(" \t")
        if not stripped:
            empties += 1
            continue
        out.append("\n" * empties if empties else " ")
        out.append(stripped)
        empties = 0
    return "".join(out)


def single_quoted(raw: str) -> str:
    """'...': `''` is a quote; lines fold as in plain scalars (a trailing blank line still counts)."""
    body = raw[1:-1].replace("\r\n", "\n")
    return _flow_quoted(body, escapes=False)


def double_quoted(raw: str) -> str:
    """"...": every YAML escape, escaped line breaks, line folding; `\\u` pairs combine as in UTF-16."""
    body = raw[1:-1].replace("\r\n", "\n")
    text = _flow_quoted(body, escapes=True)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        try:
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise ScalarError("a lone UTF-16 surrogate escape (\\uD800-\\uDFFF) is not a character") from None
    return text


def _flow_quoted(body: str, escapes: bool) -> str:
    out: list[str] = []
    keep = 0  # out[:keep] is never trimmed: escaped characters and folded breaks
    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if escapes and char == "\\":
            if i + 1 >= n:
                raise ScalarError("a backslash at the end of a double-quoted scalar")
            nxt = body[i + 1]
            i += 2
            if nxt == "\n":  # an escaped line break joins the lines without a space (later breaks fold)
                i = _skip_blank(body, i)
                keep = len(out)
                continue
            if nxt in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[nxt])
            elif nxt in _HEX_ESCAPES:
                width = _HEX_ESCAPES[nxt]
                digits = body[i:i + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise ScalarError(f"\\{nxt} must be followed by {width} hexadecimal digits")
                code = int(digits, 16)
                if code > 0x10FFFF:
                    raise ScalarError(f"\\{nxt}{digits} is beyond Unicode")
                out.append(chr(code))
                i += width
            else:
                raise ScalarError(f"\\{nxt} is not a YAML escape")
            keep = len(out)
        elif char == "'" and not escapes and i + 1 < n and body[i + 1] == "'":
            out.append("'")
            i += 2
            keep = len(out)
        elif char == "\n":
            while len(out) > keep and out[-1] in " \t":
                out.pop()
            i = _skip_blank(body, i + 1)
            breaks = 0
            while i < n and body[i] == "\n":
                breaks += 1
                i = _skip_blank(body, i + 1)
            out.append("\n" * breaks if breaks else " ")
            keep = len(out)
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _skip_blank(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def block(raw_after_header: str, header: str, parent_indent: int) -> str:
    """A literal (|) or folded (>) block scalar.

    `header` is the indicator text (`|`, `>-`, `|2+` ...); `raw_after_header` the
    lines after the header line, up to the end of the scalar (its trailing empty
    lines included); `parent_indent` the indentation of the node that holds it.
    """
    style = header[0]
    chomp = "clip"
    explicit: int | None = None
    for char in header[1:]:
        if char == "-":
            chomp = "strip"
        elif char == "+":
            chomp = "keep"
        elif char.isdigit() and char != "0" and explicit is None:
            explicit = int(char)
        else:
            raise ScalarError(f"block scalar header {header!r} is not one YAML accepts")
    lines = raw_after_header.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with the last line's break
    if explicit is not None:
        indent = parent_indent + explicit
    else:
        indent = 0
        leading_blank = 0
        for line in lines:
            if line.strip(" "):
                indent = len(line) - len(line.lstrip(" "))
                break
            leading_blank = max(leading_blank, len(line))
        else:
            indent = max(leading_blank, parent_indent + 1)
        if leading_blank > indent:
            raise ScalarError("a block scalar whose leading blank lines are indented more than its text; "
                              "the loader rejects it (give an indentation indicator)")
    content: list[str | None] = []  # None: an empty line
    for line in lines:
        if len(line) - len(line.lstrip(" ")) >= indent and line[indent:] != "":
            content.append(line[indent:])
        elif line.strip(" ") == "":
            content.append(None)
        elif line.lstrip(" ").startswith("#"):
            break  # a comment after the scalar (less indented) ends it
        else:
            raise ScalarError("a block scalar line is indented less than the text above it")
    last = max((k for k, line in enumerate(content) if line is not None), default=-1)
    body_lines = content[:last + 1]
    trailing = len(content) - last - 1
    if style == "|":
        body = "\n".join(line or "" for line in body_lines)
    else:
        body = _fold_block(body_lines)
    if last < 0:
        return "\n" * trailing if chomp == "keep" else ""
    if chomp == "strip":
        return body
    if chomp == "clip":
        return body + "\n"
    return body + "\n" + "\n" * trailing


def _fold_block(lines: list[str | None]) -> str:
    out: list[str] = []
    previous: str | None = None
    empties = 0
    for line in lines:
        if line is None:
            empties += 1
            continue
        if previous is None:
            out.append("\n" * empties)
        elif previous[:1] not in (" ", "\t") and line[:1] not in (" ", "\t"):
            out.append("\n" * empties if empties else " ")
        else:
            out.append("\n" * (empties + 1))
        out.append(line)
        previous = line
        empties = 0
    return "".join(out)


def plain_identity(text: str, kind: str) -> object:
    """The value a non-string plain scalar resolves to, for comparing keys as a loader does."""
    if kind == "null":
        return ("null",)
    if kind == "a boolean":
        return ("bool", text.lower() == "true")
    try:
        if kind == "an integer":
            if text.startswith("0o"):
                return ("num", int(text[2:], 8))
            if text.startswith("0x"):
                return ("num", int(text[2:], 16))
            return ("num", int(text))
        lowered = text.lower()
        if lowered.endswith(".nan"):
            return ("nan",)
        if lowered.endswith(".inf"):
            return ("num", float("-inf") if text.startswith("-") else float("inf"))
        number = float(text)
        return ("num", int(number) if number.is_integer() else number)
    except ValueError:
        return ("text", text)
