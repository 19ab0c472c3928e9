"""Decodes a bash word from its exact source bytes, as bash expands an assignment value.

tree-sitter-bash keeps escapes raw and splits some words unlike bash (it is a structure
parser, not an evaluator), so a value is decoded here byte by byte: quote removal,
`$'...'` escapes, `\\<newline>` continuations and `$VAR` of static variables. Anything
bash would compute at run time (command substitution, arithmetic, globbing, tilde and
brace expansion) stops the evaluation with DC102 (fail closed).
"""

from __future__ import annotations

from typing import Iterator, Protocol

from driftcheck.patterns import lazy

_IFS_WS = " \t\n"
# A shell variable name: at the start of bytes (IDENT), and as the whole of a decoded word (IDENT_TEXT).
IDENT = lazy(rb"[A-Za-z_][A-Za-z0-9_]*")
IDENT_TEXT = lazy(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Resolver(Protocol):
    """What the lexer needs from the script: its bytes and the value of a `$VAR` at an offset."""

    data: bytes

    def resolve(self, var: str, at: int, defining: str) -> list[Ch]: ...


class Stop(Exception):
    """A DC1xx finding that ends the evaluation (fail closed)."""

    def __init__(self, code: str, message: str, offset: int, key: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.offset, self.key = code, message, offset, key


# The classes below are private records, made by hand with __slots__: a @dataclass costs ~0.15 ms to
# create at import, paid by every check.

class Ch:
    """One decoded character and the byte offset of the source text that produced it."""

    __slots__ = ("text", "origin", "split")

    def __init__(self, text: str, origin: int, split: bool = False) -> None:
        self.text = text  # "" marks a quoted empty string (it still makes an array element)
        self.origin = origin
        self.split = split  # comes from an unquoted expansion: subject to word splitting


class Value:
    __slots__ = ("kind", "chars", "elements")

    def __init__(self, kind: str, chars: list[Ch] | None = None, elements: list[list[Ch]] | None = None) -> None:
        self.kind = kind  # "string" | "array"
        self.chars = chars if chars is not None else []  # string
        self.elements = elements if elements is not None else []  # array



class Lexer:
    """Decodes one value's bytes exactly as bash expands an assignment value or array element."""

    def __init__(self, script: Resolver, defining: str, static: bool = False) -> None:
        self.script = script
        self.data = script.data
        self.defining = defining
        self.static = static  # no variable expansion: decoding a name, not a value

    # -- entry points

    def scalar(self, start: int, end: int) -> list[Ch]:
        """`NAME=<word>`: quote removal and static expansion, no splitting, no globbing."""
        chars, stop = self._word(start, end, array=False)
        if stop != end:
            raise Stop("DC102", f"driftcheck cannot decode the value of {self.defining} exactly at this point; "
                        "quote the whole value", stop)
        return chars

    def array(self, start: int, end: int) -> list[list[Ch]]:
        """`NAME=( ... )`: each element expanded like a command argument."""
        data = self.data
        i = start + 1
        elements: list[list[Ch]] = []
        while True:
            while i < end:
                if data[i] in b" \t\n":
                    i += 1
                elif data[i:i + 2] == b"\\\n":
                    i += 2
                else:
                    break
            if i >= end:
                raise Stop("DC102", f"driftcheck cannot find the end of the array {self.defining}", start)
            byte = data[i]
            if byte == 0x23:  # '#': a comment up to the end of the line
                newline = data.find(b"\n", i, end)
                i = end if newline == -1 else newline
                continue
            if byte == 0x29:  # ')'
                if i != end - 1:
                    raise Stop("DC102", f"driftcheck cannot decode the array {self.defining} exactly at this point; "
                                "simplify its quoting", i)
                return elements
            if data[i:i + 1] == b"[":
                raise Stop("DC102", f"indexed element `[...]=` in {self.defining}; list the keys in order without "
                            "indices", i)
            chars, i = self._word(i, end - 1, array=True)
            elements.extend(split_fields(chars))

    # -- words

    def _word(self, i: int, end: int, array: bool) -> tuple[list[Ch], int]:
        data = self.data
        out: list[Ch] = []
        word_start = i
        previous = b""  # last unquoted literal byte (tilde after ':' or '=')
        while i < end:
            byte = data[i]
            if byte == 0x5C:  # backslash
                if data[i + 1:i + 2] == b"\n":
                    i += 2
                    continue
                if i + 1 >= end:
                    raise Stop("DC102", f"a trailing backslash in the value of {self.defining}; remove it", i)
                text, nxt = char_at(data, i + 1)
                out.append(Ch(text, i))
                i, previous = nxt, b""
                continue
            if byte == 0x27:  # single quote
                close = data.find(b"'", i + 1, end)
                if close == -1:
                    raise Stop("DC102", f"driftcheck cannot find the closing quote in {self.defining}", i)
                out.append(Ch("", i))
                out.extend(self._literal(i + 1, close))
                i, previous = close + 1, b""
                continue
            if byte == 0x22:  # double quote
                i = self._double(i, end, out)
                previous = b""
                continue
            if byte == 0x24:  # dollar
                i = self._dollar(i, end, out, quoted=False, array=array)
                previous = b""
                continue
            if byte == 0x60:
                raise Stop("DC102", f"command substitution `...` in {self.defining} cannot be evaluated statically; "
                            "write the keys literally", i)
            if byte in b" \t\n)":
                if array:
                    return out, i
                raise Stop("DC102", f"driftcheck cannot decode the value of {self.defining} exactly at this point; "
                            "quote the whole value", i)
            if byte in b";&|<>(":
                raise Stop("DC102", f"unexpected {chr(byte)!r} in the value of {self.defining}; quote the value", i)
            if byte == 0x7E and (i == word_start or previous in (b":", b"=")):
                raise Stop("DC102", f"unquoted `~` in {self.defining} is tilde expansion (a home directory); quote "
                            "it or remove it", i)
            if byte == 0x7B:
                raise Stop("DC102", f"unquoted `{{` in {self.defining} starts brace expansion; quote it or write the "
                            "keys out", i)
            if array and byte in b"*?[":
                raise Stop("DC102", f"unquoted glob character {chr(byte)!r} in {self.defining} is expanded against "
                            "file names; quote it or remove it", i)
            text, nxt = char_at(data, i)
            out.append(Ch(text, i))
            previous = data[i:i + 1]
            i = nxt
        return out, i

    def _literal(self, start: int, end: int) -> Iterator[Ch]:
        i = start
        while i < end:
            text, nxt = char_at(self.data, i)
            yield Ch(text, i)
            i = nxt

    def _double(self, i: int, end: int, out: list[Ch]) -> int:
        """A "..." string starting at byte i; returns the offset after the closing quote."""
        data = self.data
        out.append(Ch("", i))
        j = i + 1
        while j < end:
            byte = data[j]
            if byte == 0x22:
                return j + 1
            if byte == 0x5C and j + 1 < end:
                nxt = data[j + 1]
                if nxt in b'$`"\\':
                    out.append(Ch(chr(nxt), j))
                    j += 2
                elif nxt == 0x0A:
                    j += 2  # line continuation: both removed
                else:
                    out.append(Ch("\\", j))
                    j += 1
                continue
            if byte == 0x24:
                j = self._dollar(j, end, out, quoted=True, array=False)
                continue
            if byte == 0x60:
                raise Stop("DC102", f"command substitution `...` in {self.defining} cannot be evaluated statically; "
                            "write the keys literally", j)
            text, nxt_j = char_at(data, j)
            out.append(Ch(text, j))
            j = nxt_j
        raise Stop("DC102", f"driftcheck cannot find the closing double quote in {self.defining}", i)

    def _dollar(self, i: int, end: int, out: list[Ch], quoted: bool, array: bool) -> int:
        data = self.data
        nxt = data[i + 1:i + 2] if i + 1 < end else b""
        if nxt == b"'" and not quoted:
            return self._ansi_c(i, end, out)
        if nxt == b'"' and not quoted:
            return self._double(i + 1, end, out)  # $"..." locale string: like "..." without a catalog
        if nxt == b"(":
            what = "arithmetic expansion $((...))" if data[i + 2:i + 3] == b"(" else "command substitution $(...)"
            raise Stop("DC102", f"{what} in {self.defining} cannot be evaluated statically; write the keys "
                        "literally", i)
        if nxt == b"[":
            raise Stop("DC102", f"arithmetic expansion $[...] in {self.defining} cannot be evaluated statically", i)
        if nxt == b"{":
            match = IDENT.match(data, i + 2, end)
            if match and data[match.end():match.end() + 1] == b"}":
                return self._expand(match.group(0).decode(), i, match.end() + 1, out, quoted, array)
            inner = data[i + 2:i + 3]
            if inner == b"#":
                what = "a length expansion ${#...}"
            elif inner == b"!":
                what = "an indirect expansion ${!...}"
            elif match and data[match.end():match.end() + 1] == b"[":
                what = "an array expansion ${NAME[...]}"
            elif match:
                what = "a parameter expansion with an operator (default value, substitution, ...)"
            else:
                what = "a positional or special parameter expansion"
            raise Stop("DC102", f"{what} in {self.defining} cannot be evaluated statically; use a plain ${{NAME}} "
                        "of a top-level variable or write the keys literally", i)
        if self._continuation(i + 1):
            raise Stop("DC102", f"a backslash-newline right after `$` in {self.defining} joins the next line onto "
                        "the expansion; join the lines", i)
        match = IDENT.match(data, i + 1, end)
        if match:
            if self._continuation(match.end()) and IDENT.match(data, match.end() + 2):
                raise Stop("DC102", f"a backslash-newline inside the variable name after `$` in {self.defining} "
                            "joins the lines into one name; join them", i)
            return self._expand(match.group(0).decode(), i, match.end(), out, quoted, array)
        if nxt and (nxt.isdigit() or nxt in b"@*#?-$!"):
            raise Stop("DC102", f"the special parameter ${nxt.decode()} in {self.defining} cannot be evaluated "
                        "statically; write the keys literally", i)
        out.append(Ch("$", i))  # a lone `$` is literal
        return i + 1

    def _continuation(self, i: int) -> bool:
        return self.data[i:i + 2] == b"\\\n"

    def _expand(self, var: str, i: int, after: int, out: list[Ch], quoted: bool, array: bool) -> int:
        if self.static:
            raise Stop("DC102", f"${var} in {self.defining} is expanded at run time", i)
        chars = self.script.resolve(var, i, self.defining)
        if array and not quoted:
            for ch in chars:
                if ch.text in ("*", "?", "["):
                    raise Stop("DC102", f"unquoted ${var} in {self.defining} expands to text with the glob "
                                f"character {ch.text!r}; quote it", i)
            # markers of quotes inside VAR's own definition mean nothing here: `$EMPTY` makes no element
            out.extend(Ch(c.text, c.origin, split=True) for c in chars if c.text)
        else:
            out.append(Ch("", i))
            out.extend(Ch(c.text, c.origin) for c in chars)
        return after

    def _ansi_c(self, i: int, end: int, out: list[Ch]) -> int:
        """$'...' with bash's escapes; rare or locale-dependent ones are DC102."""
        data = self.data
        out.append(Ch("", i))
        j = i + 2
        while j < end:
            byte = data[j]
            if byte == 0x27:
                return j + 1
            if byte != 0x5C or j + 1 >= end:
                text, nxt = char_at(data, j)
                out.append(Ch(text, j))
                j = nxt
                continue
            esc = chr(data[j + 1])
            if esc in _ANSI_SIMPLE:
                out.append(Ch(_ANSI_SIMPLE[esc], j))
                j += 2
                continue
            if esc in "01234567":
                allowed, limit, k = "01234567", 3, j + 1
            elif esc == "x":
                allowed, limit, k = _HEX, 2, j + 2
            elif esc in "uU":
                allowed, limit, k = _HEX, 4 if esc == "u" else 8, j + 2
            elif esc == "c":
                raise Stop("DC102", f"the control-character escape \\c in {self.defining} is not supported; "
                            "write the keys literally", j)
            else:
                out.append(Ch("\\", j))  # unknown escape: bash keeps the backslash
                text, nxt = char_at(data, j + 1)
                out.append(Ch(text, j + 1))
                j = nxt
                continue
            digits = ""
            while len(digits) < limit and k < end and chr(data[k]) in allowed:
                digits += chr(data[k])
                k += 1
            if not digits:  # `\x`/`\u` without digits stay as written
                out.append(Ch("\\", j))
                out.append(Ch(esc, j + 1))
                j += 2
                continue
            code = int(digits, 8 if allowed == "01234567" else 16)
            if code == 0:
                raise Stop("DC102", f"a NUL escape in {self.defining} truncates the string in bash; remove it", j)
            if code >= 0x80:
                raise Stop("DC102", f"the escape {data[j:k].decode()} in {self.defining} produces a non-ASCII byte "
                            "or locale-dependent character; write the character itself", j)
            out.append(Ch(chr(code), j))
            j = k
        raise Stop("DC102", f"driftcheck cannot find the end of the $'...' string in {self.defining}", i)


_HEX = "0123456789abcdefABCDEF"
_ANSI_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def char_at(data: bytes, i: int) -> tuple[str, int]:
    """The UTF-8 character starting at byte i and the offset after it (the file is valid UTF-8)."""
    byte = data[i]
    if byte < 0x80:
        return chr(byte), i + 1
    size = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
    return data[i:i + size].decode("utf-8", "replace"), i + size


def split_ifs(chars: list[Ch]) -> list[list[Ch]]:
    """A string value split on IFS whitespace, as an unquoted `$NAME` is."""
    words: list[list[Ch]] = []
    current: list[Ch] = []
    for ch in chars:
        if not ch.text:
            continue
        if ch.text in _IFS_WS:
            if current:
                words.append(current)
                current = []
        else:
            current.append(ch)
    if current:
        words.append(current)
    return words


def split_fields(chars: list[Ch]) -> list[list[Ch]]:
    """Field splitting of one array element word: only unquoted expansion results split."""
    fields: list[list[Ch]] = []
    current: list[Ch] = []
    started = False
    for ch in chars:
        if ch.split and ch.text and ch.text in _IFS_WS:
            if started:
                fields.append(current)
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        fields.append(current)
    return fields
