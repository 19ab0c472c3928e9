"""One parse per Python file: PEP 263, CPython's `ast`, and character positions.

The reading path uses only the standard library: `ast` is CPython's own parser, so a
file is rejected (DC101) exactly when Python rejects it, at Python's line and column,
and names arrive NFKC-normalised as Python binds them. libcst is `fix`'s business.
"""

from __future__ import annotations

import ast
import bisect
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import cached_property

from driftcheck import rules
from driftcheck.model import Finding, Span
from driftcheck.sources import SourceFile

# PEP 263: the cookie may sit on line 1, or on line 2 when line 1 is only a comment (or blank).
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer ends a line on


def declared_encoding(data: bytes) -> str | None:
    """The coding cookie's text (PEP 263), or None."""
    first, _, rest = data.partition(b"\n")
    match = _COOKIE.match(first)
    if match is None and _BLANK_OR_COMMENT.match(first):
        match = _COOKIE.match(rest.partition(b"\n")[0])
    return match.group(1).decode("ascii") if match else None


def _is_utf8(name: str) -> bool:
    # Python's own normalisation: `utf8`, `UTF-8`, `utf_8`, `utf-8-unix`... all mean UTF-8.
    norm = name.lower().replace("_", "-")
    return norm in ("utf-8", "utf8") or norm.startswith(("utf-8-", "utf8-"))


@dataclass
class Module:
    """A parsed module and what every symbol of it shares."""

    source: SourceFile
    tree: ast.Module
    text: str
    lines: list[str]  # without line ends; Python's notion of lines (\r\n, \r, \n)
    # Top-level statements with their first line (decorators included) and last line, in order.
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    _cache: dict[object, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for stmt in self.tree.body:
            decorators = getattr(stmt, "decorator_list", None)
            first = min([stmt.lineno, *(d.lineno for d in decorators)]) if decorators else stmt.lineno
            self.starts.append(first)
            self.ends.append(stmt.end_lineno or stmt.lineno)

    # -- positions

    def column(self, line: int, byte_col: int) -> int:
        """1-based character column of an ast (line, UTF-8 byte offset)."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_col + 1
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1

    def start(self, node: ast.AST) -> tuple[int, int]:
        return node.lineno, self.column(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> tuple[int, int]:
        line = node.end_lineno  # type: ignore[attr-defined]
        return line, self.column(line, node.end_col_offset)  # type: ignore[attr-defined]

    @cached_property
    def _line_bytes(self) -> list[int]:
        """Byte offset of each line start in the file's data (BOM excluded, as `SourceFile.data`)."""
        offsets = [0]
        for match in _NEWLINE.finditer(self.text):
            offsets.append(match.end())
        if self.text.isascii():
            return offsets
        out, previous, nbytes = [0], 0, 0
        for start in offsets[1:]:
            nbytes += len(self.text[previous:start].encode("utf-8"))
            previous = start
            out.append(nbytes)
        return out

    def byte_offset(self, line: int, column: int) -> int:
        return self._line_bytes[line - 1] + len(self.lines[line - 1][:column - 1].encode("utf-8"))

    def span(self, node: ast.AST) -> Span:
        """The node's extent, widened to the parentheses that wrap it (`( ("A",) )`)."""
        (sl, sc), (el, ec) = self.start(node), self.end(node)
        while True:
            before = self._previous_char(sl, sc)
            after = self._next_char(el, ec)
            if before is None or after is None or self.lines[before[0] - 1][before[1] - 1] != "(" or \
                    self.lines[after[0] - 1][after[1] - 1] != ")":
                break
            (sl, sc), (el, ec) = before, (after[0], after[1] + 1)
        return Span(self.byte_offset(sl, sc), self.byte_offset(el, ec), sl, sc, el, ec)

    def _previous_char(self, line: int, column: int) -> tuple[int, int] | None:
        """The last non-blank character before (line, column), skipping whitespace only."""
        while line >= 1:
            text = self.lines[line - 1][:column - 1].rstrip(" \t\f\\")
            if text:
                return line, len(text)
            line, column = line - 1, len(self.lines[line - 2]) + 1 if line > 1 else 0
        return None

    def _next_char(self, line: int, column: int) -> tuple[int, int] | None:
        while line <= len(self.lines):
            text = self.lines[line - 1]
            rest = text[column - 1:]
            stripped = rest.lstrip(" \t\f\\")
            if stripped and not stripped.startswith("#"):
                return line, column + len(rest) - len(stripped)
            line, column = line + 1, 1
        return None

    # -- finding lines

    def statement_at(self, line: int) -> int | None:
        """Index of the top-level statement whose lines hold `line`, or None between statements."""
        i = bisect.bisect_right(self.starts, line) - 1
        return i if i >= 0 and self.ends[i] >= line else None

    def lines_spelling(self, words: frozenset[str]) -> set[int]:
        """Lines where any of `words` may be spelled as an identifier (over-approximate, never under).

        ASCII text is searched as written; a line holding other characters is NFKC-folded
        first, as Python folds identifiers (`ＬIST` is `LIST`).
        """
        key = ("lines", words)
        cached = self._cache.get(key)
        if cached is None:
            found: set[int] = set()
            text, starts = self.text, self._char_line_starts
            for word in words:  # str.find runs in C; a regex alternation over the whole file is slower
                at = text.find(word)
                while at != -1:
                    before = text[at - 1] if at else " "
                    after = text[at + len(word):at + len(word) + 1] or " "
                    if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                        found.add(bisect.bisect_right(starts, at))
                    at = text.find(word, at + 1)
            if self._non_ascii_lines:
                pattern = re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, sorted(words))) + r")(?![\w])")
                for number in self._non_ascii_lines:
                    if pattern.search(unicodedata.normalize("NFKC", self.lines[number - 1])):
                        found.add(number)
            self._cache[key] = cached = found
        return cached  # type: ignore[return-value]

    @cached_property
    def _char_line_starts(self) -> list[int]:
        return [0, *(m.end() for m in _NEWLINE.finditer(self.text))]

    @cached_property
    def _non_ascii_lines(self) -> list[int]:
        if self.text.isascii():
            return []
        starts = self._char_line_starts
        return sorted({bisect.bisect_right(starts, m.start()) for m in re.finditer(r"[^\x00-\x7f]+", self.text)})

    def statements_spelling(self, words: frozenset[str]) -> list[ast.stmt]:
        """The top-level statements in which any of `words` may occur, in order."""
        indexes = {self.statement_at(line) for line in self.lines_spelling(words)}
        return [self.tree.body[i] for i in sorted(i for i in indexes if i is not None)]


def parse(source: SourceFile) -> Module | Finding:
    """The module, or the finding that stops every list of the file (cached per file)."""
    return source.analysis("python-ast", lambda: _parse(source))  # type: ignore[return-value]


def _parse(source: SourceFile) -> Module | Finding:
    display = source.display
    declared = declared_encoding(source.data)
    if declared is not None and not _is_utf8(declared):
        if source.bom:  # Python itself rejects a BOM with another cookie
            return rules.finding("DC101", display, 1, 1, detail=f"python syntax error: the file starts with a UTF-8 "
                                 f"byte order mark but declares `coding: {declared}`; remove the cookie")
        return rules.finding("DC105", display, 1, 1, detail=(
            f"{display} declares `coding: {declared}`; Python would decode it as {declared}, not as the UTF-8 "
            "driftcheck reads (a classic way to hide code) — re-save the file as UTF-8 and drop the cookie"))
    text = source.text
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes warn; Python still accepts them
            tree = ast.parse(text, filename=display)
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").splitlines()[0]
        return rules.finding("DC101", display, max(exc.lineno or 1, 1), max(exc.offset or 1, 1),
                             detail=f"python syntax error: {message}; fix the file so it parses")
    except (RecursionError, MemoryError):
        return rules.finding("DC102", display, 1, 1, detail="the module nests expressions too deeply for Python "
                             "itself to parse; flatten them")
    except ValueError as exc:  # e.g. null bytes
        return rules.finding("DC101", display, 1, 1, detail=f"python syntax error: {exc}")
    return Module(source, tree, text, _NEWLINE.split(text))
