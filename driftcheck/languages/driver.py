"""The shared extraction driver: (file, symbol) → an ExtractedList, the same rules for every language.

A backend reads (parses, finds and classifies occurrences, evaluates); this module
decides. It owns: unreadable files (DC105), "not found" with its suggestion (DC100),
the refusal of any occurrence the backend could not prove harmless (DC104), pragmas
(allowances, DC106), duplicates (DC003), and the single fatal-finding rule: a list
with any exit-2 finding has no keys to compare.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any

from driftcheck import rules
from driftcheck.languages import backend
from driftcheck.languages.base import Comment, Reading
from driftcheck.model import Allowance, ExtractedList, Finding, Key, ListRef
from driftcheck.sources import SourceFile, SourceFiles


def extract_list(ref: ListRef, files: SourceFiles) -> ExtractedList:
    """Extract one list; every problem a user can cause becomes a finding with `keys=None`."""
    loaded = files.load(ref.path)
    if not isinstance(loaded, SourceFile):
        return ExtractedList(ref=ref, keys=None, findings=(loaded,))
    read = backend(ref.language).read(ref, loaded, files)
    extracted = read if isinstance(read, ExtractedList) else decide(ref, loaded, read)
    if extracted.keys is not None and any(f.exit_code == 2 for f in extracted.findings):
        extracted = replace(extracted, keys=None)
    return extracted


def decide(ref: ListRef, source: SourceFile, reading: Reading) -> ExtractedList:
    """Apply the rules every language obeys to what a backend read."""
    findings: list[Finding] = list(reading.problems)
    if reading.definition is None:
        if not any(f.exit_code == 2 for f in findings):
            findings.append(_not_found(ref, source, reading))
        return ExtractedList(ref=ref, keys=None, findings=tuple(findings))
    for occurrence in reading.occurrences:
        if occurrence.role == "unproven":
            findings.append(rules.finding("DC104", occurrence.path, occurrence.line, occurrence.column,
                                          name=ref.symbol, why=occurrence.why))
    allowances, pragma_findings = collect_pragmas(reading.attached_comments)
    findings += pragma_findings
    keys = reading.keys
    if keys is not None and not any(f.exit_code == 2 for f in findings):
        findings += _duplicates(ref.symbol, keys, reading.path, reading.duplicates_are_errors)
    fatal = any(f.exit_code == 2 for f in findings)
    return ExtractedList(
        ref=ref,
        keys=None if fatal or keys is None else keys,
        findings=tuple(sorted(findings, key=lambda f: (f.path != reading.path, f.path, f.line, f.column))),
        definition=reading.definition,
        value_span=reading.value_span,
        allowances=tuple(allowances),
    )


def collect_pragmas(comments: tuple[Comment, ...] | list[Comment]) -> tuple[list[Allowance], list[Finding]]:
    """Allowances declared by the comments attached to a definition, and DC106 for malformed ones."""
    allowances: list[Allowance] = []
    findings: list[Finding] = []
    for comment in comments:
        if "driftcheck:" not in comment.text:
            continue  # most runs never import the pragma regexes
        from driftcheck.languages.pragmas import parse_pragma

        parsed = parse_pragma(comment.text, comment.path, comment.line, comment.column)
        if isinstance(parsed, Finding):
            findings.append(parsed)
        elif parsed:
            allowances.extend(parsed)
    return allowances, findings


def _not_found(ref: ListRef, source: SourceFile, reading: Reading) -> Finding:
    if reading.not_found_hint:
        return rules.finding("DC100", source.display, 1, 1, name=ref.symbol, path=source.display,
                             hint="; " + reading.not_found_hint)
    import difflib  # only on this error path

    names = sorted(set(reading.defined_names))
    close = difflib.get_close_matches(ref.symbol, names, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif names:
        hint = "; defined here: " + ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    else:
        hint = "; nothing that could hold a list is defined in this file"
    return rules.finding("DC100", source.display, 1, 1, name=ref.symbol, path=source.display, hint=hint)


def _duplicates(symbol: str, keys: tuple[Key, ...], path: str, compiler_rejects: bool) -> list[Finding]:
    seen: dict[str, Key] = {}
    out: list[Finding] = []
    for key in keys:
        first = seen.setdefault(key.key, key)
        if first is not key:
            out.append(rules.finding("DC003", path, key.line, key.column, key=key.key, name=symbol,
                                     first_line=first.line,
                                     note=" (the compiler rejects this too)" if compiler_rejects else ""))
    return out


class LegacyBackend:
    """Transitional: a backend whose module still exposes `extract(ref, source, files) -> ExtractedList`.

    Remove once every language implements `read` returning a `Reading`.
    """

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self._module = module

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Any:
        extracted: ExtractedList = importlib.import_module(self._module).extract(ref, source, files)
        return extracted
