"""dotenv files (`.env`, `.env.*`, `*.env`): `.` is the list of the file's variable names.

The statements are read with python-dotenv's grammar, re-implemented here (no grammar
package exists): `KEY=value` and `export KEY=value`, whitespace around `=`, values
unquoted (to the end of the line, ` #` starts a comment), single-quoted or double-
quoted (both may span lines, with `\\'` / `\\"` escapes), `#` comment lines, blank lines.
Only names are compared, so values are read only to find where they end: a
`KEY=...` inside a multi-line quoted value is part of the value, not a name.

Refused, because python-dotenv and a shell sourcing the file would disagree about
which names the file sets: a line python-dotenv cannot parse (DC101: python-dotenv
skips it with a warning), a name without `=` (DC102: python-dotenv reads an unset
variable, a shell runs a command), a quoted name `'KEY'=...` and a name that is not a
shell identifier (DC102). A name set twice is DC103 (the later value silently wins).
`#` comments carry pragmas: those directly above the first variable, or at the end of
its line, attach to the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftcheck import rules
from driftcheck.languages.base import Candidate, Comment, Occurrence, Reading
from driftcheck.languages.datatree import attach_comments
from driftcheck.model import Finding, Key, ListRef, Span
from driftcheck.sources import SourceFile, SourceFiles

# python-dotenv's lexical grammar (dotenv/parser.py), the same regular expressions.
_MULTILINE_WHITESPACE = re.compile(r"\s*", re.MULTILINE)
_WHITESPACE = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_SINGLE_QUOTED_KEY = re.compile(r"'([^']+)'")
_UNQUOTED_KEY = re.compile(r"([^=\#\s]+)")
_EQUAL_SIGN = re.compile(r"(=[^\S\r\n]*)")
_SINGLE_QUOTED_VALUE = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_DOUBLE_QUOTED_VALUE = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"([^\r\n]*)")
_INLINE_COMMENT = re.compile(r"\s+#")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_END_OF_LINE = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_REST_OF_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NEWLINE = re.compile(r"\r\n|\n|\r")


class _NoMatch(Exception):
    pass


@dataclass
class Binding:
    key: str | None
    offset: int  # where the key starts (or the statement, for errors)
    quoted_key: bool = False
    has_value: bool = True
    error: bool = False


@dataclass
class Parsed:
    bindings: list[Binding]
    comments: list[tuple[int, int]]  # (offset of '#', end)


def parse(text: str) -> Parsed:
    """Statements and comments of a dotenv text, as python-dotenv's parser splits them."""
    text = text.removeprefix("\ufeff")
    bindings: list[Binding] = []
    comments: list[tuple[int, int]] = []
    pos = 0

    def match(regex: re.Pattern[str]) -> re.Match[str]:
        nonlocal pos
        found = regex.match(text, pos)
        if found is None:
            raise _NoMatch
        pos = found.end()
        return found

    while pos < len(text):
        start = pos
        try:
            match(_MULTILINE_WHITESPACE)
            if pos >= len(text):
                break
            statement = pos
            match(_EXPORT)
            key_at = pos
            quoted = False
            if text.startswith("#", pos):
                key = None
            elif text.startswith("'", pos):
                key = match(_SINGLE_QUOTED_KEY).group(1)
                quoted = True
            else:
                key = match(_UNQUOTED_KEY).group(1)
            match(_WHITESPACE)
            has_value = False
            if text.startswith("=", pos):
                equal = match(_EQUAL_SIGN).group(1)
                has_value = True
                if not (len(equal) > 1 and text.startswith("#", pos)):
                    char = text[pos:pos + 1]
                    if char == "'":
                        match(_SINGLE_QUOTED_VALUE)
                    elif char == '"':
                        match(_DOUBLE_QUOTED_VALUE)
                    elif char not in ("", "\n", "\r"):
                        value_start = pos
                        part = match(_UNQUOTED_VALUE).group(1)
                        inline = _INLINE_COMMENT.search(part)
                        if inline is not None:
                            hash_at = value_start + inline.end() - 1
                            comments.append((hash_at, value_start + len(part)))
            comment = match(_COMMENT)
            if "#" in comment.group():
                comments.append((comment.start() + comment.group().index("#"), comment.end()))
            match(_END_OF_LINE)
            if key is not None:
                bindings.append(Binding(key, key_at, quoted, has_value))
            del statement
        except _NoMatch:
            pos = start
            match(_REST_OF_LINE)
            bindings.append(Binding(None, start + len(text[start:]) - len(text[start:].lstrip()), error=True))
    return Parsed(bindings, comments)


class DotenvBackend:
    name = "dotenv"

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
        path = source.display
        if ref.symbol not in (".", ""):
            return Reading(path, not_found_hint="a dotenv file holds one list, its variable names: write "
                           f"{path}:. (a dot) as the reference")
        text = source.text
        parsed = source.analysis("dotenv", lambda: parse(text))
        problems: list[Finding] = []
        keys: list[Key] = []
        seen: dict[str, Key] = {}
        for binding in parsed.bindings:
            line, column = source.position(len(text[:binding.offset].encode("utf-8")))
            if binding.error:
                problems.append(rules.finding("DC101", path, line, column, detail=(
                    "python-dotenv cannot parse the statement starting here (it would skip it with a warning); "
                    "fix the line")))
                continue
            assert binding.key is not None
            if binding.quoted_key:
                problems.append(rules.finding("DC102", path, line, column, detail=(
                    f"the quoted name '{binding.key}' is read by python-dotenv but not by a shell; "
                    "write the name without quotes")))
                continue
            if not binding.has_value:
                problems.append(rules.finding("DC102", path, line, column, detail=(
                    f"{binding.key!r} has no '=': python-dotenv reads a variable without a value, a shell runs "
                    f"a command; write {binding.key}= to declare it")))
                continue
            if not _SHELL_NAME.match(binding.key):
                problems.append(rules.finding("DC102", path, line, column, detail=(
                    f"{binding.key!r} is not a shell variable name (letters, digits and _, not starting with a "
                    "digit); python-dotenv and a shell would disagree about it")))
                continue
            key = Key(binding.key, line, column)
            first = seen.setdefault(binding.key, key)
            if first is not key:
                problems.append(rules.finding("DC103", path, line, column, detail=(
                    f"{binding.key} is set twice in this file (first at line {first.line}); the later value "
                    "silently wins, so keep one")))
                continue
            keys.append(key)
        comments, own_line = _comments(source, text, parsed)
        first_key = keys[0] if keys else None
        if first_key is None and not problems:
            return Reading(path, not_found_hint="the file sets no variables")
        anchor = first_key or Key(".", 1, 1)
        definition = Key(".", anchor.line, anchor.column)
        attached, others = attach_comments(comments, own_line, anchor.line, anchor.column)
        end_line, end_column = source.position(len(source.data.rstrip()))
        return Reading(
            path,
            definition=definition,
            keys=tuple(keys),
            value_span=Span(0, len(source.data.rstrip()), 1, 1, end_line, end_column),
            occurrences=(Occurrence(path, definition.line, definition.column, "definition"),),
            problems=tuple(problems),
            attached_comments=attached,
            other_comments=others,
        )

    def candidates(self, source: SourceFile) -> list[Candidate]:
        from driftcheck.languages.base import Candidate as _Candidate
        from driftcheck.model import ListRef as _ListRef

        reading = self.read(_ListRef(f"{source.display}:.", source.display, ".", "dotenv"), source,
                            None)  # type: ignore[arg-type]
        if reading.keys is None or any(p.code.startswith("DC1") for p in reading.problems):
            return []
        return [_Candidate(".", reading.keys)] if reading.keys else []


def _comments(source: SourceFile, text: str, parsed: Parsed) -> tuple[list[Comment], set[int]]:
    comments: list[Comment] = []
    own_line: set[int] = set()
    for start, end in parsed.comments:
        line, column = source.position(len(text[:start].encode("utf-8")))
        comments.append(Comment(text[start + 1:end], source.display, line, column + 1))
        line_start = text.rfind("\n", 0, start) + 1
        if not text[line_start:start].strip():
            own_line.add(line)
    return comments, own_line


BACKEND = DotenvBackend()
