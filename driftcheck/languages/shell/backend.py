"""The bash backend: read one list from a script, accounting for every place that could change it.

Stages, each in its own module:
  syntax       bash's own verdict (`bash -n`) and where tree-sitter-bash reads the bytes unlike bash
  script       the statements that define, append to or change a name (precise messages)
  lexer        the definition's value decoded as bash expands it
  occurrences  every spelling of the name, each classified (allowlist, docs/languages.md)
  hazards      constructs that could change any variable without spelling its name
The shared driver turns the `Reading` into findings (DC100, DC104 for unproven occurrences,
pragmas, DC003, the fatal rule).
"""

from __future__ import annotations

from driftcheck import rules
from driftcheck.languages.base import Occurrence, Reading
from driftcheck.languages.shell import hazards, occurrences
from driftcheck.languages.shell.lexer import Stop
from driftcheck.languages.shell.script import Script
from driftcheck.languages.shell.syntax import misparse_why, unsafe_for_parser
from driftcheck.model import Finding, Key, ListRef
from driftcheck.sources import SourceFile, SourceFiles


class ShellBackend:
    name = "shell"

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
        unsafe = unsafe_for_parser(source.data)
        if unsafe is not None:
            line, column = source.position(unsafe)
            char = source.data[unsafe:unsafe + 4].decode("utf-8", "replace")[:1]
            return Reading(path=source.display, problems=(rules.finding(
                "DC105", source.display, line, column,
                detail=f"cannot read {source.display}: it contains U+{ord(char):X}, a character from a plane the "
                "bash parser cannot handle safely; remove it"),))
        # One analysis per file, shared by every list read from it (contracts often name one harness many times).
        script: Script = source.analysis("bash", lambda: Script(source))
        return _read(script, ref.symbol)


def _read(script: Script, name: str) -> Reading:
    path = script.source.display
    syntax = script.check_file()
    if syntax is not None:
        return Reading(path=path, problems=(syntax,))
    events = script.events_of(name)
    misparsed = [m for m in script.misparsed if name in m.names]
    top = [e for e in events if e.kind == "def" and e.context is None]
    if misparsed and not top:  # tree-sitter-bash may have misread the very definition
        line, column = script.source.position(misparsed[0].offset)
        return Reading(path=path, problems=(rules.finding("DC104", path, line, column, name=name,
                                                          why=misparse_why(name, misparsed[0])),))
    if not any(e.kind in ("def", "append", "element", "opaque", "continued") for e in events):
        unparsed = occurrences.unparsed_spelling(script, name)
        if unparsed is not None:  # the definition may sit where tree-sitter-bash could not read
            return Reading(path=path, problems=(rules.finding("DC104", path, *script.source.position(unparsed[0]),
                                                              name=name, why=unparsed[1]),))
        return Reading(path=path, defined_names=tuple(script.defined_names()), not_found_hint=script.prefix_hint(name))
    problems, changes = script.check_definitions(name, events)
    if not top:
        return Reading(path=path, problems=tuple(problems) or (_not_defined(script, name),))
    definition = top[0]
    row, col = definition.node.start_point
    defined = Key(name, row + 1, script.source.point_column(row, col))
    precise: list[Occurrence] = [_unproven(script, offset, why) for offset, why in changes]
    precise += [_unproven(script, m.offset, misparse_why(name, m)) for m in misparsed]
    found = occurrences.classify(script, name, definition, events) + hazards.occurrences(script, name)
    keys: tuple[Key, ...] | None = None
    if not problems:
        try:
            evaluator = script.evaluator()
            keys = tuple(evaluator.keys(name, evaluator.list_value(name, definition, events)))
        except Stop as stop:
            if stop.code == "DC104":  # a change found while evaluating (an append to a readonly list)
                found.append(_unproven(script, stop.offset, stop.message))
            else:
                problems.append(script.finding(stop.code, stop.message, stop.offset, stop.key))
    found = precise + _one_per_line(found, [*problems, *precise])
    attached = script.attached_comments(definition)
    return Reading(
        path=path, definition=defined, keys=keys, value_span=script.evaluator().value_span(definition),
        occurrences=tuple(found), problems=tuple(problems),
        attached_comments=tuple(attached), other_comments=tuple(script.other_comments(attached)),
    )


def _unproven(script: Script, offset: int, why: str) -> Occurrence:
    line, column = script.source.position(offset)
    return Occurrence(script.source.display, line, column, "unproven", why)


def _not_defined(script: Script, name: str) -> Finding:
    return rules.finding("DC100", script.source.display, 1, 1, name=name, path=script.source.display,
                         hint="; it is only assigned inside functions or conditionals")


def _one_per_line(found: list[Occurrence], reported: list[Finding | Occurrence]) -> list[Occurrence]:
    """One refusal per line: a second one there (a hazard, the spelled name) would say the same thing again."""
    refused = {f.line for f in reported if not isinstance(f, Occurrence) or f.role == "unproven"}
    kept: list[Occurrence] = []
    for occurrence in found:
        if occurrence.role == "unproven":
            if occurrence.line in refused:
                continue
            refused.add(occurrence.line)
        kept.append(occurrence)
    return kept
