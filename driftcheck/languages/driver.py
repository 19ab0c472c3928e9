"""The shared extraction driver: (file, symbol) → an ExtractedList, the same rules for every language.

A backend reads (parses, finds and classifies occurrences, evaluates); this module
decides. It owns: unreadable files (DC105), "not found" with its suggestion (DC100),
the refusal of any occurrence the backend could not prove harmless (DC104), pragmas
(allowances, DC106), duplicates (DC003), and the single fatal-finding rule: a list
with any exit-2 finding has no keys to compare.
"""

from __future__ import annotations

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
    return decide(ref, loaded, backend(ref.language).read(ref, loaded, files))


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
    findings += unattached_pragmas(reading.other_comments, ref.symbol, reading.definition.line, source)
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


_DIRECTIVE = ("allow-missing", "allow-extra")


def unattached_pragmas(comments: tuple[Comment, ...] | list[Comment], symbol: str, definition_line: int,
                       source: SourceFile) -> list[Finding]:
    """DC006 for each comment that reads as an exception pragma but is not attached to `symbol`'s definition.

    Which of them sit next to *another* list's definition that a contract reads is settled for the
    whole run (`driftcheck.check`), so a file holding two mirrors does not report each one's pragma
    against the other.
    """
    out: list[Finding] = []
    for comment in comments:
        if "driftcheck:" not in comment.text or not any(d in comment.text for d in _DIRECTIVE):
            continue  # a comment that merely mentions driftcheck is no exception
        why = comment.why or _why_unattached(comment, symbol, definition_line, source)
        out.append(rules.finding(
            "DC006", comment.path, comment.line, comment.column, why=why,
            fix=f"move it to the line directly above {symbol} (line {definition_line} of {source.display}) "
                "or to the end of that line"))
    return out


def _why_unattached(comment: Comment, symbol: str, definition_line: int, source: SourceFile) -> str:
    lines = source.text.split("\n")
    own = lines[comment.line - 1] if comment.line <= len(lines) else ""
    # What precedes the comment on its line (a backend's column may point past the `#` or `//`).
    before = own[:max(comment.column - 1, 0)].rstrip()
    before = before[:-2] if before.endswith(("//", "/*")) else before[:-1] if before.endswith("#") else before
    if before.strip():
        return f"it ends line {comment.line}, which is not where {symbol} is defined (line {definition_line})"
    if comment.line < definition_line:
        between = lines[comment.line:definition_line - 1]
        if all(not line.strip() or line.lstrip().startswith(("#", "//", "/*", "*")) for line in between):
            return f"a blank line separates it from the definition of {symbol} on line {definition_line}"
    for number in range(comment.line + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith(("#", "//")):
            shown = text if len(text) <= 40 else text[:37] + "..."
            return f"it is above line {number} ({shown!r}), not above the definition of {symbol} on line " \
                   f"{definition_line}"
    return f"nothing follows it; {symbol} is defined on line {definition_line}"


def _not_found(ref: ListRef, source: SourceFile, reading: Reading) -> Finding:
    if reading.not_found_hint:
        return rules.finding("DC100", source.display, *reading.not_found_at, name=ref.symbol, path=source.display,
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
