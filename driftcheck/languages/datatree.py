"""Data documents (YAML, JSON) as a neutral tree, and the selector walk over it.

A backend turns its parse tree into `Value`s once per file; this module then
follows a root path (`jobs.e2e.env`, `.`, `services.api.environment`, `[]`)
and reads the keys of the value reached: a mapping gives its keys, a sequence
its string elements. Anything the backend could not prove it reads exactly as
the language's own loader does is carried as a `problem` on the value or entry
and refuses the list when the walk or the read touches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal

from driftcheck import rules
from driftcheck.languages.base import Candidate, Comment
from driftcheck.languages.selectors import Selector, Step, format_selector
from driftcheck.model import Finding, Key, Span

Kind = Literal["map", "seq", "str", "other"]


@dataclass
class Entry:
    """One mapping pair or sequence element.

    For a mapping, `key` is the decoded key text (None when the key is not a string:
    `key_problem` says why) and `line`/`column` locate the key; for a sequence, `key`
    is None and `line`/`column` locate the element.
    """

    key: str | None
    line: int
    column: int
    value: Value
    key_problem: Finding | None = None


@dataclass
class Value:
    """One node of the document."""

    kind: Kind
    line: int
    column: int
    span: Span
    entries: list[Entry] = field(default_factory=list)
    text: str | None = None  # kind "str": the decoded string
    what: str = ""  # kind "other": what it is ("a number", "null", ...)
    problem: Finding | None = None  # refuses any read that reaches or passes through this value
    identity: object = None  # kind "other" scalars: what a loader compares for key uniqueness


@dataclass
class Document:
    """A parsed file: its root value (None: empty or not one document) and its comments."""

    root: Value | None
    problems: list[Finding] = field(default_factory=list)  # refuse every read of the file
    comments: list[Comment] = field(default_factory=list)
    own_line: set[int] = field(default_factory=set)  # lines holding nothing but a comment


@dataclass
class Reached:
    """The outcome of walking a selector: the value's keys and where it is, or problems."""

    definition: Key | None = None
    keys: tuple[Key, ...] | None = None
    span: Span | None = None
    problems: list[Finding] = field(default_factory=list)
    defined: tuple[str, ...] = ()  # keys available where the walk stopped (for DC100's suggestion)
    not_found: str = ""  # why the path does not exist, as a DC100 hint


def walk(doc: Document, selector: Selector, path: str, symbol: str) -> Reached:
    """Follow a rooted selector through the document and read the keys of what it reaches."""
    if doc.problems:
        return Reached(problems=list(doc.problems))
    if doc.root is None:
        return Reached(not_found="the file holds no document")
    values: list[tuple[Value, Key]] = [(doc.root, Key(symbol, doc.root.line, doc.root.column))]
    done: list[Step] = []
    for step in selector.steps:
        following: list[tuple[Value, Key]] = []
        for value, _ in values:
            if value.problem is not None:
                return Reached(problems=[value.problem])
            if step.field is None:
                if value.kind != "seq":
                    return _wrong_kind(value, step, done)
                following += [(e.value, Key(symbol, e.line, e.column)) for e in value.entries]
                continue
            if value.kind != "map":
                return _wrong_kind(value, step, done)
            hit = next((e for e in value.entries if e.key == step.field), None)
            if hit is None:
                unreadable = [e.key_problem for e in value.entries if e.key_problem is not None]
                if unreadable:  # one of the keys driftcheck cannot read may be this one
                    return Reached(problems=unreadable)
                names = tuple(e.key for e in value.entries if e.key is not None)
                return Reached(defined=names, not_found=_missing_hint(step.field, _where(done), names))
            # duplicate keys refuse the whole document (the loader rejects them), so the first hit is the one
            following.append((hit.value, Key(symbol, hit.line, hit.column)))
        values = following
        done.append(step)
    if any(step.field is None for step in selector.steps):
        return _projection(values, symbol, path)
    value, definition = values[0]
    keys, problems = read_keys(value, symbol, path)
    return Reached(definition=definition, keys=keys, span=value.span, problems=problems)


def _where(done: list[Step]) -> str:
    return format_selector(Selector(None, tuple(done))) if done else "the document root"


def _projection(values: list[tuple[Value, Key]], symbol: str, path: str) -> Reached:
    """`HOSTS[]` or `HOSTS[].name`: one string per element."""
    keys: list[Key] = []
    problems: list[Finding] = []
    for value, _ in values:
        if value.problem is not None:
            problems.append(value.problem)
        elif value.kind == "str" and value.text is not None:
            keys.append(Key(value.text, value.line, value.column))
        else:
            problems.append(_finding("DC102", path, value.line, value.column,
                                     f"an element of {symbol} is {_describe(value)}, not a string"))
    definition = values[0][1] if values else Key(symbol, 1, 1)
    if problems:
        return Reached(problems=problems)
    return Reached(definition=definition, keys=tuple(keys))


def read_keys(value: Value, symbol: str, path: str) -> tuple[tuple[Key, ...] | None, list[Finding]]:
    """A mapping's keys or a sequence's string elements, refusing anything not read exactly."""
    # Only what can change the keys counts: the value itself, its keys, its elements. A refused
    # value deeper inside (an alias under an env key) does not change which keys there are.
    problems: list[Finding] = [value.problem] if value.problem is not None else []
    if value.kind == "seq":
        problems += [e.value.problem for e in value.entries if e.value.problem is not None]
    if value.kind == "map":
        keys = []
        for entry in value.entries:
            if entry.key_problem is not None:
                problems.append(entry.key_problem)
            elif entry.key is not None:
                keys.append(Key(entry.key, entry.line, entry.column))
        return (None if problems else tuple(keys)), problems
    if value.kind == "seq":
        keys = []
        for entry in value.entries:
            element = entry.value
            if element.kind == "str" and element.text is not None:
                keys.append(Key(element.text, entry.line, entry.column))
            elif element.problem is None:
                problems.append(_finding("DC102", path, entry.line, entry.column,
                                         f"element of {symbol} is {_describe(element)}, not a string; "
                                         "a list of keys holds strings only (quote it if it is meant as one)"))
        return (None if problems else tuple(keys)), problems
    return None, problems + [_finding("DC102", path, value.line, value.column,
                                      f"{symbol} is {_describe(value)}, not a mapping or a sequence; "
                                      "point the selector at a mapping (its keys) or a sequence (its strings)")]


def _descend(value: Value) -> Iterator[Value]:
    yield value
    for entry in value.entries:
        yield from _descend(entry.value)


def _describe(value: Value) -> str:
    if value.kind == "map":
        return "a mapping"
    if value.kind == "seq":
        return "a sequence"
    if value.kind == "str":
        return "a string"
    return value.what or "not a string"


def _wrong_kind(value: Value, step: Step, done: list[Step]) -> Reached:
    want = "a sequence (for [])" if step.field is None else f"a mapping (for .{step.field})"
    at = _where(done)
    return Reached(not_found=f"{at} is {_describe(value)}, not {want} (line {value.line})")


def _missing_hint(field_name: str, where: str, names: tuple[str, ...]) -> str:
    import difflib  # error path only

    close = difflib.get_close_matches(field_name, names, n=1, cutoff=0.6)
    if close:
        return f"{where} has no key {field_name!r}; did you mean {close[0]!r}?"
    shown = ", ".join(repr(n) for n in names[:6]) + (", ..." if len(names) > 6 else "")
    return f"{where} has no key {field_name!r}" + (f"; its keys: {shown}" if names else "; it is empty")


def _finding(code: str, path: str, line: int, column: int, detail: str) -> Finding:
    return rules.finding(code, path, line, column, detail=detail)


def attach_comments(comments: list[Comment], own_line: set[int], line: int,
                    column: int) -> tuple[tuple[Comment, ...], tuple[Comment, ...]]:
    """Split comments into those attached to a definition at (line, column) and the other pragmas.

    Attached: the unbroken run of comment-only lines (`own_line`) directly above the
    definition, and a comment at the end of its first line (docs/rules.md).
    """
    by_line = {c.line: c for c in comments}
    attached: list[Comment] = []
    above = line - 1
    while above in by_line and above in own_line:
        attached.append(by_line[above])
        above -= 1
    attached += [c for c in comments if c.line == line and c.column > column]
    others = tuple(c for c in comments if c not in attached and "driftcheck:" in c.text)
    return tuple(sorted(attached, key=lambda c: (c.line, c.column))), others


def candidates(doc: Document) -> list[Candidate]:
    """Every mapping and every sequence of strings in the document, as rooted selectors."""
    if doc.problems or doc.root is None:
        return []
    out: list[Candidate] = []
    _collect(doc.root, [], out, clean=True)
    return out


def _selector(steps: list[Step] | tuple[Step, ...]) -> str:
    """A rooted selector as people write it: `jobs.e2e.env`, `.` for the root."""
    text = format_selector(Selector(None, tuple(steps)))
    return text[1:] if len(text) > 1 and text.startswith(".") else text


def _collect(value: Value, steps: list[Step], out: list[Candidate], clean: bool) -> None:
    if value.problem is not None:
        return
    if value.kind == "map":
        if clean and all(e.key_problem is None for e in value.entries) and value.entries:
            out.append(Candidate(_selector(steps),
                                 tuple(Key(e.key, e.line, e.column) for e in value.entries if e.key is not None)))
        for entry in value.entries:
            if entry.key is not None:
                _collect(entry.value, [*steps, Step(entry.key)], out, clean)
    elif value.kind == "seq":
        if value.entries and all(e.value.kind == "str" and e.value.problem is None for e in value.entries):
            out.append(Candidate(_selector(steps),
                                 tuple(Key(e.value.text or "", e.line, e.column) for e in value.entries)))
            return
        # a sequence of mappings: `[].field` projections when every element has the field as a string
        if value.entries and all(e.value.kind == "map" for e in value.entries):
            fields: dict[str, int] = {}
            for entry in value.entries:
                for inner in entry.value.entries:
                    if inner.key is not None and inner.value.kind == "str":
                        fields[inner.key] = fields.get(inner.key, 0) + 1
            for name, count in fields.items():
                if count != len(value.entries):
                    continue
                keys = []
                for entry in value.entries:
                    hit = next(e for e in entry.value.entries if e.key == name)
                    keys.append(Key(hit.value.text or "", hit.value.line, hit.value.column))
                out.append(Candidate(_selector((*steps, Step(None), Step(name))), tuple(keys)))


def span_of(node: Any, point_column: Any) -> Span:
    (sr, sc), (er, ec) = node.start_point, node.end_point
    return Span(node.start_byte, node.end_byte, sr + 1, point_column(sr, sc), er + 1, point_column(er, ec))


def reading(doc: Document, ref: Any, source: Any) -> Any:
    """The backend's `Reading` for `ref` (a rooted selector) in a parsed document."""
    from driftcheck.languages.base import Occurrence, Reading
    from driftcheck.languages.selectors import SelectorError, parse_selector

    path = source.display
    try:
        selector = parse_selector(ref.symbol, rooted=True)
    except SelectorError as exc:
        return Reading(path, problems=(Finding("DC106", str(exc), path, 1, 1),))
    reached = walk(doc, selector, path, ref.symbol)
    if reached.definition is None:
        return Reading(path, problems=tuple(reached.problems), defined_names=reached.defined,
                       not_found_hint=reached.not_found)
    definition = reached.definition
    attached, others = attach_comments(doc.comments, doc.own_line, definition.line, definition.column)
    return Reading(
        path,
        definition=definition,
        keys=reached.keys,
        value_span=reached.span,
        occurrences=(Occurrence(path, definition.line, definition.column, "definition"),),
        problems=tuple(reached.problems),
        attached_comments=attached,
        other_comments=others,
    )


class DocumentBackend:
    """A backend whose file is one document tree (YAML, JSON): reading and discovery both walk the tree."""

    def __init__(self, name: str, document: Callable[[Any], Document]) -> None:
        self.name = name
        self._document = document  # builds the file's Document once per run

    def read(self, ref: Any, source: Any, files: Any) -> Any:
        return reading(self._document(source), ref, source)

    def candidates(self, source: Any) -> list[Candidate]:
        return candidates(self._document(source))
