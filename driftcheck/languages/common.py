"""Helpers every extractor shares: parsers, positions, DC100 wording, pragmas."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from driftcheck import rules
from driftcheck.model import Allowance, Finding, Key, ListRef, Span
from driftcheck.sources import SourceFile


# grammar name -> (module, function giving its language); imported on first use, so a check never
# imports a grammar no file in it needs.
_GRAMMARS = {
    "go": ("tree_sitter_go", "language"),
    "bash": ("tree_sitter_bash", "language"),
    "json": ("tree_sitter_json", "language"),
    "yaml": ("tree_sitter_yaml", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
}


@lru_cache(maxsize=None)
def ts_parser(grammar: str) -> Any:
    """A tree-sitter parser for one of `_GRAMMARS` (its module imported on first use)."""
    from tree_sitter import Language, Parser

    package, function = _GRAMMARS[grammar]
    return Parser(Language(getattr(_compiled_grammar(package), function)()))


def _compiled_grammar(package: str) -> Any:
    """The grammar package's compiled module (`_binding`), loaded without the package's `__init__`.

    That `__init__` imports importlib.resources (and with it tempfile, shutil, bz2, lzma) only to
    offer the package's highlight queries, which driftcheck never reads: ~5 ms of every check's
    start-up. A package laid out otherwise is imported the ordinary way.
    """
    import importlib
    import sys
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec

    name = f"{package}._binding"
    if name in sys.modules:
        return sys.modules[name]
    found = PathFinder.find_spec(package)
    locations = found.submodule_search_locations if found is not None else None
    spec = PathFinder.find_spec(name, locations) if locations else None
    if spec is None or spec.loader is None:
        return importlib.import_module(package)
    module = module_from_spec(spec)
    sys.modules[name] = module  # a later `import package` finds it, as its `from ._binding import ...` expects
    spec.loader.exec_module(module)
    return module


def ts_tree(source: SourceFile, language: str) -> Any:
    """The file's tree-sitter tree, parsed once per run."""
    return source.tree(language, ts_parser(language).parse)


def node_key(source: SourceFile, node: Any, text: str) -> Key:
    """A Key located at a tree-sitter node's start."""
    row, col = node.start_point
    return Key(text, row + 1, source.point_column(row, col))


def node_span(source: SourceFile, node: Any) -> Span:
    (sr, sc), (er, ec) = node.start_point, node.end_point
    return Span(node.start_byte, node.end_byte, sr + 1, source.point_column(sr, sc), er + 1,
                source.point_column(er, ec))


def node_finding(code: str, message: str, source: SourceFile, node: Any, key: str | None = None) -> Finding:
    """A finding of rule `code` at `node`, its message a sentence built through the rule catalogue."""
    row, col = node.start_point
    return rules.finding(code, source.display, row + 1, source.point_column(row, col), key, detail=message)


def first_error_node(root: Any) -> Any | None:
    """The first ERROR or MISSING node in document order, or None."""
    if not root.has_error:
        return None
    cursor = [root]
    while cursor:
        node = cursor.pop()
        if node.is_error or node.is_missing:
            return node
        if node.has_error:
            cursor.extend(reversed(node.children))
    return root


def syntax_error(source: SourceFile, node: Any, language: str) -> Finding:
    what = f"missing {node.type!r}" if node.is_missing else "unexpected syntax"
    snippet = source.data[node.start_byte:node.end_byte].decode("utf-8", "replace").split("\n", 1)[0][:40]
    near = f" near {snippet!r}" if snippet.strip() else ""
    return node_finding("DC101", f"{language} syntax error: {what}{near}; fix the file so it parses", source, node)


def symbol_not_found(ref: ListRef, source: SourceFile, candidates: Iterable[str], what: str) -> Finding:
    """DC100 naming the closest candidate, as ruff/shellcheck suggest fixes."""
    import difflib  # only on this error path: keeps ~0.5 ms (difflib, heapq) off every check

    names = sorted(set(candidates))
    close = difflib.get_close_matches(ref.symbol, names, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        hint = f"; {what} found: {shown}"
    else:
        hint = f"; no {what} at all in this file"
    return Finding("DC100", f"{ref.symbol!r} is not defined in {source.display}{hint}", source.display, 1, 1)


def collect_pragmas(comments: Iterable[tuple[str, int, int]], path: str) -> tuple[list[Allowance], list[Finding]]:
    """Parse (comment text without opener, line, column) triples into allowances and DC106s."""
    allowances: list[Allowance] = []
    findings: list[Finding] = []
    for text, line, column in comments:
        if "driftcheck:" not in text:
            continue  # no marker, so parse_pragma would return None: most runs never import its regexes (~0.25 ms)
        from driftcheck.languages.pragmas import parse_pragma

        parsed = parse_pragma(text, path, line, column)
        if isinstance(parsed, Finding):
            findings.append(parsed)
        elif parsed:
            allowances.extend(parsed)
    return allowances, findings
