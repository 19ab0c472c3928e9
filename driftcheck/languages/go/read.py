"""The Go backend: read a package-level `var` holding a map/slice/array literal of string keys.

The stages: syntax (DC101 only when Go's parser rejects the file), the package's built files
(build constraints honoured), the definition, its value (evaluate.py), and every occurrence of the
name in the package accounted for (occurrences.py). The driver decides the findings from the
`Reading` (not found, unproven occurrences, pragmas, duplicates, the fatal rule).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from driftcheck import rules
from driftcheck.languages.base import Comment, Occurrence, Reading
from driftcheck.languages.common import node_finding, node_key, node_span
from driftcheck.languages.go.constraints import file_constraint, parse_target
from driftcheck.languages.go.evaluate import Evaluator, evaluate_value
from driftcheck.languages.go.occurrences import (
    PREDECLARED,
    assembly_lines,
    classify,
    declares_local,
    enclosing_function,
    identifier_uses,
    is_package_level_name,
    linkname_lines,
    shadowed,
)
from driftcheck.languages.go.package import Decl, GoFile, Package
from driftcheck.languages.go.syntax import file_syntax
from driftcheck.model import Finding, ListRef
from driftcheck.sources import SourceFile, SourceFiles

Node = Any  # tree_sitter.Node


class GoBackend:
    name = "go"

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
        return read(ref, source, files)


def read(ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
    path = source.display
    verdict = file_syntax(source)
    if verdict.error is not None:
        return Reading(path, problems=(verdict.error,))
    symbol = ref.symbol
    target_text = getattr(ref, "go_target", None)
    target = parse_target(target_text) if target_text else None
    main = GoFile.of(source)
    package = Package(main, files, symbol, target)
    own = main.decls.get(symbol, [])
    variables = [d for d in own if d.kind == "var"]
    if not variables:
        return _not_found(main, package, symbol, own)
    decl = variables[0]
    problems: list[Finding] = []
    for other in own:
        if other is not decl:
            problems.append(node_finding(
                "DC103", f"{symbol} is declared again here ({other.kind}); it is already declared at line "
                f"{decl.name_node.start_point[0] + 1}; keep exactly one declaration", source, other.name_node))
    status = main.constraint.status(target)
    declared_elsewhere = any(gofile is not main and symbol in gofile.decls for gofile in package.files_mentioning(symbol))
    if status is False:
        problems.append(node_finding(
            "DC103", f"{path} is never built{' for ' + target_text if target else ''} ({main.constraint.text}), "
            f"so {symbol} is not part of the program; point the list reference at the file go build compiles",
            source, decl.name_node))
    elif status is None and not declared_elsewhere:  # else the DC103 at the other declaration says it
        problems.append(node_finding(
            "DC103", f"{symbol} is only built when {main.constraint.text}, so the list depends on the build; move "
            "it to a file every build compiles, or set go_target = \"os/arch\" on the contract", source,
            decl.name_node))
    evaluator = Evaluator(package)
    value = evaluate_value(symbol, main, decl, evaluator)
    problems += value.findings
    occurrences = [Occurrence(path, *_position(source, decl.name_node), "definition")]
    kind = value.kind or "slice"  # not evaluable: refused anyway; classify as strictly as a slice
    calls = _LazyCalls(package, files)
    for gofile in package.files_mentioning(symbol):
        depends = package.depends_on(gofile)
        if gofile is not main:
            for other in gofile.decls.get(symbol, ()):
                where = f" (built only when {depends})" if depends else ""
                problems.append(node_finding(
                    "DC103", f"{symbol} is declared again here ({other.kind}){where}, besides "
                    f"{main.where(decl.name_node)}; with build tags each build sees a different list — keep exactly "
                    "one declaration", gofile.source, other.name_node))
        found = _occurrences(gofile, decl, symbol, kind, depends, calls.bound(gofile))
        if depends:
            # A change only some builds compile: the list depends on the build (DC103, naming the constraint).
            for occurrence in found:
                if occurrence.role == "unproven":
                    problems.append(rules.finding(
                        "DC103", occurrence.path, occurrence.line, occurrence.column,
                        detail=f"{symbol} may be changed here only in builds where {depends}: {occurrence.why}; "
                        "move the change out, or set go_target = \"os/arch\" on the contract"))
            found = [o for o in found if o.role != "unproven"]
        occurrences += found
        for line in linkname_lines(gofile.source.data, symbol):
            occurrences.append(Occurrence(gofile.source.display, line, 1, "unproven",
                                          f"//go:linkname binds {symbol} to another symbol, which can change it; "
                                          "remove the directive"))
    occurrences += _predeclared(package, symbol)
    occurrences += _assembly(package, symbol)
    occurrences += _misparsed(package, symbol, evaluator)
    problems += package.problems
    literal = value.literal
    keys = tuple(value.keys) if not value.findings else None
    return Reading(
        path,
        definition=node_key(source, decl.name_node, symbol),
        keys=keys,
        value_span=node_span(source, literal) if literal is not None else None,
        occurrences=tuple(occurrences),
        problems=tuple(problems),
        attached_comments=tuple(_pragma_comments(source, main.root, decl)),
        other_comments=tuple(_other_comments(source, main.root, decl)),
        duplicates_are_errors=value.kind == "map",
    )


def _position(source: SourceFile, node: Node) -> tuple[int, int]:
    row, col = node.start_point
    return row + 1, source.point_column(row, col)


class _LazyCalls:
    """Callee analysis (calls.py), imported and built only when the list is passed to a function."""

    def __init__(self, package: Package, files: SourceFiles) -> None:
        self.package = package
        self.files = files
        self.calls: Any = None

    def bound(self, gofile: GoFile) -> _LazyBound:
        return _LazyBound(self, gofile)


class _LazyBound:
    __slots__ = ("lazy", "gofile")

    def __init__(self, lazy: _LazyCalls, gofile: GoFile) -> None:
        self.lazy = lazy
        self.gofile = gofile

    def reads(self, call: Node, position: int, kind: str) -> bool:
        lazy = self.lazy
        if lazy.calls is None:
            from driftcheck.languages.go.calls import Calls

            lazy.calls = Calls(lazy.package, lazy.files)
        return bool(lazy.calls.bound(self.gofile).reads(call, position, kind))


def _occurrences(gofile: GoFile, decl: Decl, symbol: str, kind: str, depends: str, calls: Any) -> list[Occurrence]:
    out: list[Occurrence] = []
    name = symbol.encode("utf-8")
    display = gofile.source.display
    blocks: dict[int, list[int]] = {}  # for `shadowed`: this name's declarations per block of this tree
    for node in identifier_uses(gofile, symbol):
        if node.type in ("field_identifier", "label_name", "package_identifier", "type_identifier"):
            continue  # a field, method, label, package or type name: never the variable
        if node.type != "identifier":
            continue  # inside a string literal or a comment: Go never runs either as code
        if node == decl.name_node or is_package_level_name(node) or declares_local(node) or shadowed(node, name, blocks=blocks):
            continue
        why = classify(node, kind, symbol, calls)
        if why is None:
            out.append(Occurrence(display, *_position(gofile.source, node), "read"))
            continue
        where = enclosing_function(node)
        what, sep, fix = why.partition("; ")
        out.append(Occurrence(display, *_position(gofile.source, node), "unproven", what + where + sep + fix))
    return out


@lru_cache(maxsize=1)
def may_declare_predeclared() -> re.Pattern[bytes]:
    """Where a package-level declaration can spell its name: after const/var/type/func, a group's "(", a
    name list's ",", a ";" or at the start of a line, with blanks and comments between. Only files
    matching are parsed for the check (a sibling that cannot declare one is never parsed)."""
    words = b"|".join(name.encode() for name in sorted(PREDECLARED, key=len, reverse=True))
    # Possessive/atomic (Python 3.11): blanks and comments are skipped once, never re-split on backtracking
    # (a plain `(?:\s|//[^\n]*)*` is quadratic or worse on a file of comment lines).
    return re.compile(rb"(?:\b(?:const|var|type|func)|[(,;]|^)(?:\s++|(?>/\*[\s\S]*?\*/)|//[^\n]*+)*+\b(?:" + words
                      + rb")\b", re.M)


def _predeclared(package: Package, symbol: str) -> list[Occurrence]:
    """A package-level declaration shadowing a predeclared identifier changes what the definition means."""
    out = []
    for gofile in package.members_declaring(may_declare_predeclared):
        for name in sorted(PREDECLARED.intersection(gofile.decls)):
            for decl in gofile.decls[name]:
                out.append(Occurrence(
                    gofile.source.display, *_position(gofile.source, decl.name_node), "unproven",
                    f"the package declares `{name}`, which shadows Go's predeclared {name} and changes what "
                    f"{symbol}'s definition (or a read of it) means; rename it"))
    return out


def _assembly(package: Package, symbol: str) -> list[Occurrence]:
    out = []
    for path in package.assembly:
        loaded = package.files.load(path)
        if not isinstance(loaded, SourceFile):
            continue
        if file_constraint(path.name, loaded.data).status(package.target) is False:
            continue
        for line in assembly_lines(loaded.data, symbol):
            out.append(Occurrence(loaded.display, line, 1, "unproven",
                                  f"assembly code names {symbol} and can write it; read the list in Go only"))
    return out


@lru_cache(maxsize=1)
def _declares_predeclared() -> re.Pattern[bytes]:
    words = b"|".join(n.encode() for n in sorted(PREDECLARED))
    return re.compile(rb"\b(?:const|var|type|func)\b[\s\S]*?\b(?:" + words + rb")\b")


def _misparsed(package: Package, symbol: str, evaluator: Evaluator) -> list[Occurrence]:
    """Regions tree-sitter misparsed in files gofmt accepts: fine unless they could touch the list."""
    out = []
    needles = [symbol.encode("utf-8"), *(name.encode("utf-8") for name in evaluator.used_names)]
    for gofile, (start, end) in package.misparsed:
        region = gofile.source.data[start:end]
        if any(re.search(rb"(?<![\w])" + re.escape(n) + rb"(?![\w])", region) for n in needles) \
                or _declares_predeclared().search(region):
            row = gofile.source.data.count(b"\n", 0, start)
            out.append(Occurrence(
                gofile.source.display, row + 1, gofile.source.point_column(row, start - (
                    gofile.source.data.rfind(b"\n", 0, start) + 1)), "unproven",
                f"tree-sitter-go misparses this region (gofmt accepts the file) and it spells {symbol}, a name the "
                "list uses, or a declaration; driftcheck cannot classify it — simplify the code here"))
    return out


def _not_found(main: GoFile, package: Package, symbol: str, own: list[Decl]) -> Reading:
    source = main.source
    if own:
        other = own[0]
        return Reading(source.display, not_found_at=_position(source, other.name_node), not_found_hint=(
            f"it is a {other.kind}, not a package-level var; driftcheck reads "
            f"`var {symbol} = map[string]struct{{}}{{...}}` or a []string literal"))
    for gofile, decl in package.decls(symbol):
        if decl.kind == "var":
            return Reading(source.display, not_found_hint=(
                f"it is declared in {gofile.where(decl.name_node)}; point the list reference at that file"))
    local = _local_declaration(main, symbol)
    if local is not None:
        return Reading(source.display, not_found_at=_position(source, local), not_found_hint=(
            f"it is only declared inside a function{enclosing_function(local)} (a local variable); driftcheck "
            "reads package-level vars — move it to package level"))
    names = [name for name, decls in main.decls.items() if any(d.kind in ("var", "const") for d in decls)]
    return Reading(source.display, defined_names=tuple(names))


def _local_declaration(gofile: GoFile, symbol: str) -> Node | None:
    """A function-local declaration of `symbol`, to explain a DC100."""
    for ident in identifier_uses(gofile, symbol):
        if ident.type == "identifier" and declares_local(ident) and ident.parent.type in (
                "var_spec", "expression_list"):
            return ident
    return None


# ---------------------------------------------------------------------------------------------
# Comments: pragmas next to the definition, and every other `driftcheck:` comment (for DC006).



def _line_comment(source: SourceFile, node: Node) -> tuple[str, int, int] | None:
    text = node.text.decode("utf-8")
    if not text.startswith("//"):
        return None
    row, col = node.start_point
    return text[2:].rstrip("\r"), row + 1, source.point_column(row, col) + 2


def _comments_above(source: SourceFile, node: Node) -> list[tuple[str, int, int]]:
    out = []
    top_row = node.start_point[0]
    comment = node.prev_named_sibling
    data = source.data
    while comment is not None and comment.type == "comment" and comment.end_point[0] == top_row - 1:
        line_start = data.rfind(b"\n", 0, comment.start_byte) + 1
        if data[line_start:comment.start_byte].strip():
            break  # a trailing comment of the code on the line above, not a comment line
        parsed = _line_comment(source, comment)
        if parsed is None:
            break
        out.append(parsed)
        top_row = comment.start_point[0]
        comment = comment.prev_named_sibling
    out.reverse()
    return out


def _comment_at_line_end(source: SourceFile, root: Node, node: Node) -> tuple[str, int, int] | None:
    data = source.data
    end = data.find(b"\n", node.start_byte)
    end = len(data) if end == -1 else end
    if end <= node.start_byte:
        return None
    last = root.named_descendant_for_byte_range(end - 1, end)
    if last is None or last.type != "comment" or last.start_point[0] != node.start_point[0]:
        return None
    return _line_comment(source, last)


def _pragma_comments(source: SourceFile, root: Node, decl: Decl) -> list[Comment]:
    """The comments directly above the definition (its group's, for a one-spec group) or ending its first line."""
    spec = decl.spec
    comments: list[tuple[str, int, int]] = []
    if spec.parent is not None and spec.parent.type == "var_spec_list":
        if sum(1 for s in spec.parent.named_children if s.type == "var_spec") == 1:
            comments += _comments_above(source, decl.decl)
        comments += _comments_above(source, spec)
    else:
        comments += _comments_above(source, decl.decl)
    eol = _comment_at_line_end(source, root, spec)
    if eol is not None:
        comments.append(eol)
    return [Comment(text, source.display, line, column) for text, line, column in comments]




def _other_comments(source: SourceFile, root: Node, decl: Decl) -> list[Comment]:
    attached = {(c.line, c.column) for c in _pragma_comments(source, root, decl)}
    out = []
    data = source.data
    pos = data.find(b"driftcheck:")
    while pos != -1:
        node = root.named_descendant_for_byte_range(pos, pos + 11)
        if node is not None and node.type == "comment":
            text = node.text.decode("utf-8", "replace")
            body = text[2:-2] if text.startswith("/*") else text[2:]
            row, col = node.start_point
            comment = Comment(body.rstrip("\r"), source.display, row + 1, source.point_column(row, col) + 2)
            if (comment.line, comment.column) not in attached:
                out.append(comment)
            pos = data.find(b"driftcheck:", node.end_byte)
        else:
            pos = data.find(b"driftcheck:", pos + 11)
    return out
