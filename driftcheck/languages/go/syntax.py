"""Syntax: what the Go parser rejects, as tree-sitter-go sees it, confirmed by gofmt when installed.

tree-sitter-go is both more lenient than Go (a newline Go ends with an automatic ';' inside
brackets, e.g. a missing trailing comma; statements at the top level) and, rarely, stricter
(constructs newer than the grammar). So a problem found here is only a candidate: when `gofmt`
(Go's own parser) is installed, it decides. It rejects the file: DC101 at gofmt's position. It
accepts it: tree-sitter misparsed the file, and the caller reads the list only if the misparsed
region cannot touch it.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate
from operator import add
from typing import Any

from driftcheck import rules
from driftcheck.languages.common import first_error_node, node_finding, syntax_error, ts_parser, ts_tree
from driftcheck.model import Finding
from driftcheck.sources import SourceFile

Node = Any  # tree_sitter.Node


def snippet(node: Node, limit: int = 80) -> str:
    text = node.text.decode("utf-8", "replace").replace("\r", "")
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit and "\n" not in text else first[:limit].rstrip() + " ..."


_snippet = snippet


class SyntaxVerdict:
    """The file's syntax as far as the list is concerned.

    `error`: DC101 (Go rejects the file, or gofmt is not installed to tell otherwise).
    `misparsed`: byte range tree-sitter got wrong although gofmt accepts the file (else None).
    """

    __slots__ = ("error", "misparsed")

    def __init__(self, error: Finding | None, misparsed: tuple[int, int] | None) -> None:
        self.error = error
        self.misparsed = misparsed


def file_syntax(source: SourceFile) -> SyntaxVerdict:
    """The verdict on the file, decided once per run (the main file and siblings alike)."""
    return source.analysis("go-syntax", lambda: _verdict(source))


def _verdict(source: SourceFile) -> SyntaxVerdict:
    root = ts_tree(source, "go").root_node
    candidate = _go_syntax_error(source, root)
    if candidate is None:
        return SyntaxVerdict(None, None)
    gofmt = _gofmt()
    first = next((c for c in root.named_children if c.type != "comment"), None)
    if gofmt is None or first is None or first.type != "package_clause":
        # Without a package clause gofmt parses the text as a fragment (declarations or statements),
        # which go build never does: the file is rejected, as tree-sitter says.
        return SyntaxVerdict(candidate, None)
    accepted, rejected = _gofmt_check(gofmt, source)
    if not accepted:
        if rejected is not None and rejected.line != candidate.line:
            return SyntaxVerdict(rejected, None)  # gofmt's position; its message names the token
        return SyntaxVerdict(candidate, None)  # the same line: keep the message that says how to fix it
    error = _deepest_error(root) if root.has_error else None
    if error is not None:
        region = (error.start_byte, error.end_byte)
        if error.parent is not None and error.is_missing:
            region = (error.parent.start_byte, error.parent.end_byte)
    else:  # a newline/top-level complaint with no ERROR node: the line it names
        starts = source.line_starts()
        line = candidate.line
        region = (starts[line - 1], starts[line] if line < len(starts) else len(source.data))
    return SyntaxVerdict(None, region)


def _deepest_error(node: Node) -> Node:
    """The first ERROR/MISSING node, else the smallest node whose subtree holds the error."""
    while True:
        if node.is_error or node.is_missing:
            return node
        inner = next((c for c in node.children if c.has_error or c.is_missing or c.is_error), None)
        if inner is None:
            return node
        node = inner


@lru_cache(maxsize=1)
def _gofmt() -> str | None:
    import shutil  # only on the error path

    return shutil.which("gofmt")


def _gofmt_check(gofmt: str, source: SourceFile) -> tuple[bool, Finding | None]:
    """(True, None) when gofmt accepts the file, else (False, its first complaint as DC101 or None)."""
    import os
    import subprocess

    try:
        run = subprocess.run([gofmt, "-e"], input=source.data, capture_output=True, timeout=30,
                             env={**os.environ, "GOFLAGS": ""})
    except (OSError, subprocess.SubprocessError):
        return False, None
    if run.returncode == 0:
        return True, None
    for line in run.stderr.decode("utf-8", "replace").splitlines():
        # "<standard input>:3:15: expected ';', found 'EOF'"
        head, _, rest = line.partition(">:")
        parts = rest.split(":", 2)
        if not head.startswith("<standard input") or len(parts) < 3 or not parts[0].isdigit():
            continue
        row, byte_column = int(parts[0]) - 1, int(parts[1]) - 1 if parts[1].isdigit() else 0
        column = source.point_column(row, byte_column) if 0 <= row < len(source.line_starts()) else 1
        return False, rules.finding("DC101", source.display, row + 1, column,
                                    detail=f"go syntax error: {parts[2].strip()}; fix the file so it compiles")
    return False, None  # gofmt failed for another reason (killed, out of memory): trust tree-sitter

# ---------------------------------------------------------------------------------------------
# Candidates: tree-sitter errors, plus the newlines tree-sitter-go accepts and the Go parser does not.
#
# Go ends a line with an automatic ';' when its last token is an identifier, a basic literal,
# break/continue/fallthrough/return, ++, -- or a closing ) ] } (spec: "Semicolons"). tree-sitter-go
# treats such a newline as plain whitespace inside brackets, so `[]string{\n"A",\n"B"\n}` (no comma
# after "B") parses there although the compiler rejects the file. A newline after such a token is
# only allowed where a ';' is: between statements, declarations, specs, fields and interface
# elements. Each line end is checked once: the smallest node spanning it tells which of the two.

_SEMICOLON_AFTER = (
    "identifier", "field_identifier", "type_identifier", "package_identifier", "label_name", "blank_identifier",
    "true", "false", "nil", "iota", "int_literal", "float_literal", "imaginary_literal", "rune_literal",
    "interpreted_string_literal", "raw_string_literal", '"', "`",
    "break", "continue", "fallthrough", "return", "++", "--", ")", "]", "}",
)
# Nodes whose children may be separated by ';' (so by a newline after any token).
_SEMICOLON_LISTS = (
    "source_file", "block", "statement_list", "expression_switch_statement", "type_switch_statement",
    "select_statement", "expression_case", "default_case", "type_case", "communication_case",
    "var_declaration", "var_spec_list", "const_declaration", "type_declaration", "import_declaration",
    "import_spec_list", "field_declaration_list", "interface_type",
)
# Brackets where the Go parser says "missing ',' before newline in ..." (go/parser's wording).
_COMMA_LISTS = {
    "literal_value": "composite literal", "argument_list": "argument list", "parameter_list": "parameter list",
    "type_parameter_list": "parameter list", "type_arguments": "type argument list",
    "type_conversion_expression": "argument list",  # []byte("a"\n): a call to Go's parser
}
# Brackets where Go says "expected ']'" / "expected ')'" instead: no comma list around them counts.
_OTHER_BRACKETS = frozenset({"index_expression", "slice_expression", "parenthesized_expression",
                             "type_assertion_expression", "array_type", "map_type", "composite_literal"})


class _Kinds:
    """tree-sitter-go symbol ids (a kind name can have several), for integer tests in the line loop."""

    __slots__ = ("semicolon_after", "semicolon_lists", "line_end_ok", "comment", "raw_string", "rune")

    def __init__(self, semicolon_after: frozenset[int], semicolon_lists: frozenset[int], line_end_ok: frozenset[int],
                 comment: frozenset[int], raw_string: frozenset[int], rune: frozenset[int]) -> None:
        self.semicolon_after = semicolon_after
        self.semicolon_lists = semicolon_lists
        self.line_end_ok = line_end_ok  # a newline whose smallest enclosing node is one of these is fine
        self.comment = comment
        self.raw_string = raw_string
        self.rune = rune


@lru_cache(maxsize=None)
def _kinds() -> _Kinds:
    language = ts_parser("go").language
    ids: dict[str, set[int]] = {}
    for kind_id in range(language.node_kind_count):
        name = language.node_kind_for_id(kind_id)
        if name is not None:
            ids.setdefault(name, set()).add(kind_id)

    def of(*names: str) -> frozenset[int]:
        return frozenset(i for name in names for i in ids.get(name, ()))

    raw_string = of("raw_string_literal", "raw_string_literal_content")  # a newline inside one is text
    return _Kinds(of(*_SEMICOLON_AFTER), of(*_SEMICOLON_LISTS), of(*_SEMICOLON_LISTS) | raw_string, of("comment"),
                  raw_string, of("rune_literal"))


# What may stand at the top level of a Go file (tree-sitter-go also accepts statements there).
_TOP_LEVEL = frozenset({"package_clause", "import_declaration", "const_declaration", "var_declaration",
                        "type_declaration", "function_declaration", "method_declaration", "comment"})


def _go_syntax_error(source: SourceFile, root: Node) -> Finding | None:
    """The first syntax error of the file as the Go parser sees it (DC101), or None."""
    error = first_error_node(root)
    first: tuple[int, Finding] | None = None
    if error is not None:
        first = (error.start_byte, syntax_error(source, error, "go"))
    top = _top_level_error(source, root)
    if top is not None and (first is None or top[0] < first[0]):
        first = top
    data = source.data
    limit = comma_only_from = len(data)
    if first is not None:
        # Up to the end of the line where tree-sitter's error starts: a missing comma makes tree-sitter
        # fail at the next element, while Go reports it at the end of this line (as users see it). In the
        # broken region only a missing comma is trusted (tree-sitter's partial tree misleads otherwise).
        end_of_line = data.find(b"\n", first[0])
        limit = len(data) if end_of_line == -1 else end_of_line + 1
        comma_only_from = first[0]
    newline = _newline_error(source, root, limit, comma_only_from)
    return newline if newline is not None else (first[1] if first is not None else None)


def _top_level_error(source: SourceFile, root: Node) -> tuple[int, Finding] | None:
    """No package clause first, a statement outside any function, or an import after other declarations."""
    seen_package = declared = False
    for child in root.named_children:
        kind = child.type
        if kind == "comment":
            continue
        if kind == "ERROR":
            return None  # reported as a tree-sitter error
        if not seen_package:
            if kind != "package_clause":
                return child.start_byte, node_finding(
                    "DC101", "go syntax error: a Go file must start with `package NAME`; add the package clause",
                    source, child)
            seen_package = True
        elif kind not in _TOP_LEVEL or kind == "package_clause":
            before = child.prev_named_sibling
            if kind == "block" and before is not None and before.type in ("function_declaration",
                                                                          "method_declaration"):
                return child.start_byte, node_finding(
                    "DC101", "go syntax error: unexpected newline before { (Go ends the func line with an "
                    "automatic ';'); put the { on the line of the func", source, child)
            what = f"`{_snippet(child, 40)}`"
            return child.start_byte, node_finding(
                "DC101", f"go syntax error: non-declaration statement outside function body ({what}); Go only "
                "allows import, const, var, type and func after the package clause — fix the file so it "
                "compiles", source, child)
        elif kind == "import_declaration" and declared:
            return child.start_byte, node_finding(
                "DC101", "go syntax error: imports must appear before other declarations; move it up",
                source, child)
        elif kind != "import_declaration":
            declared = True
    return None


def _newline_error(source: SourceFile, root: Node, limit: int, comma_only_from: int) -> Finding | None:
    """DC101 for the first newline before byte `limit` where Go inserts a ';' its grammar does not allow.

    From byte `comma_only_from` on, only a newline ending an element of a comma-separated list counts.
    """
    kinds = _kinds()
    fine = kinds.line_end_ok
    descendant = root.descendant_for_byte_range
    lines = source.data.split(b"\n")
    # Newline offsets computed in C (a Python find() loop costs as much as the tree lookups); one
    # lookup per line is ~0.3 ms on the real 40 KB file. Pre-filtering lines by their last byte was
    # measured and saves nothing.
    for pos in map(add, accumulate(map(len, lines)), range(len(lines) - 1)):
        if pos >= limit:
            break
        node = descendant(pos, pos + 1)
        kind = node.kind_id
        if kind not in fine:
            if kind in kinds.rune:  # tree-sitter-go lets a rune literal span lines
                return node_finding("DC101", "go syntax error: rune literal not terminated (it contains a "
                                    "newline); write '\\n'", source, node)
            finding = _check_line_end(source, root, node, pos, kinds, pos >= comma_only_from)
            if finding is not None:
                return finding
    return None


def _check_line_end(source: SourceFile, root: Node, spanning: Node, pos: int, kinds: _Kinds,
                    comma_only: bool) -> Finding | None:
    """The newline at `pos` lies inside `spanning`, which is no ';'-separated list: is Go's ';' there?"""
    data = source.data
    is_comment = spanning.kind_id in kinds.comment  # a /* */ comment holding a newline acts as one
    end = spanning.start_byte if is_comment else pos
    while True:  # the last token before the newline, on its line, skipping comments
        while end > 0 and data[end - 1] in b" \t\r":
            end -= 1
        if end == 0 or data[end - 1] == 0x0A:
            return None  # nothing but comments on this line: its line break was decided before
        token = root.descendant_for_byte_range(end - 1, end)
        if token.kind_id not in kinds.comment:
            break
        end = token.start_byte
    if token.kind_id not in kinds.semicolon_after:
        return None
    if data.find(b"\n", token.end_byte, spanning.start_byte if is_comment else pos) != -1:
        return None  # a comment spanning lines came first; the ';' was inserted there
    if is_comment:
        spanning = root.descendant_for_byte_range(token.start_byte, spanning.end_byte)
        if spanning.kind_id in kinds.semicolon_lists:
            return None
    # Go places the ';' at the first comment after the token, else at the newline (go/scanner).
    at = token.end_byte
    while data[at] in b" \t\r":
        at += 1
    if data[at] != ord("/"):
        at = pos
    row = token.end_point[0]
    line_start = data.rfind(b"\n", 0, at) + 1
    column = source.point_column(row, at - line_start)
    what = _comma_list(spanning)
    if what is None and comma_only:
        return None
    if what is not None:
        message = f"go syntax error: missing ',' before newline in {what}; add a trailing comma"
    else:
        if token.parent is not None and token.parent.kind_id in kinds.semicolon_after:
            token = token.parent  # the closing quote: show the whole string literal
        message = (f"go syntax error: unexpected newline after `{_snippet(token, 40)}` in "
                   f"{spanning.type.replace('_', ' ')}: Go ends the line there with an automatic ';'; join the "
                   "lines, or break the line after an operator, a comma or an opening bracket")
    return rules.finding("DC101", source.display, row + 1, column, detail=message)


def _comma_list(node: Node | None) -> str | None:
    """Go's name for the comma-separated list the newline ends an element of (only for the message)."""
    while node is not None and node.type not in _SEMICOLON_LISTS and node.type != "func_literal":
        if node.type in _COMMA_LISTS:
            return _COMMA_LISTS[node.type]
        if node.type in _OTHER_BRACKETS:
            return None
        node = node.parent
    return None

