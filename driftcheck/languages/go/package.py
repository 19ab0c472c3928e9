"""The Go package: the list's file plus the other files of its directory that `go build` compiles.

Each file is indexed once per run (package clause, package-level declarations) and shared by
every list read from it or its package. A sibling is parsed only when its bytes spell a name
that matters (the list, a constant it uses, a predeclared identifier it might redeclare): a file
that never spells a name can neither declare nor change it, and skipping it keeps a large
package fast. Files `go build` never compiles (`_test.go`, `_x.go`, `.x.go`, another package
clause, build constraints that never hold, or do not hold for the contract's `go_target`) are
not part of the package; files built only for some targets, tags or toolchains are members
whose `status` is None ("depends"), and what they hold about the list is DC103.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from driftcheck import rules
from driftcheck.languages.common import ts_tree
from driftcheck.languages.go.constraints import Constraint, file_constraint
from driftcheck.languages.go.syntax import file_syntax
from driftcheck.model import Finding
from driftcheck.sources import SourceFile, SourceFiles

Node = Any  # tree_sitter.Node

# Plain classes with __slots__ rather than dataclasses: creating a dataclass costs 0.15-0.3 ms at
# import, paid by every pre-commit run, and nothing here needs the generated eq/repr.

class Const:
    __slots__ = ("name_node", "expr", "type_node")

    def __init__(self, name_node: Node, expr: Node | None, type_node: Node | None) -> None:
        self.name_node = name_node
        self.expr = expr  # None: more names than values (Go rejects it)
        self.type_node = type_node


class Decl:
    __slots__ = ("kind", "name_node", "spec", "decl")

    def __init__(self, kind: str, name_node: Node, spec: Node, decl: Node) -> None:
        self.kind = kind  # var | const | func | type
        self.name_node = name_node
        self.spec = spec  # var_spec / const_spec / function_declaration / type_spec
        self.decl = decl  # the var_declaration / const_declaration / ... holding it


class Index:
    """A file's package clause and package-level declarations: built once per run, then read-only.

    Holds tree nodes only, never the SourceFile it is cached on: a reference back would be a cycle
    that keeps the file and its tree alive after the run's SourceFiles is dropped, until the cyclic
    GC happens to run (a server or `fix` builds many SourceFiles in one process).
    """

    __slots__ = ("root", "decls", "consts", "package")

    def __init__(self, root: Node) -> None:
        self.root = root
        self.decls: dict[str, list[Decl]] = {}
        self.consts: dict[str, list[Const]] = {}
        self.package: str | None = None

    @classmethod
    def build(cls, root: Node) -> Index:
        index = cls(root)
        for top in root.named_children:
            if top.type == "package_clause":
                for child in top.named_children:
                    if child.type == "package_identifier":
                        index.package = child.text.decode("utf-8")
            elif top.type == "var_declaration":
                for spec in var_specs(top):
                    for name in names(spec):
                        index._add(name, Decl("var", name, spec, top))
            elif top.type == "const_declaration":
                index._index_consts(top)
            elif top.type == "function_declaration":
                name = top.child_by_field_name("name")
                if name is not None and name.text != b"init":  # several init funcs are allowed
                    index._add(name, Decl("func", name, top, top))
            elif top.type == "type_declaration":
                for spec in top.named_children:
                    name = spec.child_by_field_name("name") if spec.type in ("type_spec", "type_alias") else None
                    if name is not None:
                        index._add(name, Decl("type", name, spec, top))
        return index

    def _add(self, name: Node, decl: Decl) -> None:
        text = name.text.decode("utf-8")
        if text != "_":
            self.decls.setdefault(text, []).append(decl)

    def _index_consts(self, declaration: Node) -> None:
        # Inside a group, a spec without values repeats the previous spec's values and type.
        last_values: list[Node] = []
        last_type: Node | None = None
        for spec in declaration.named_children:
            if spec.type != "const_spec":
                continue
            value = spec.child_by_field_name("value")
            if value is not None:
                last_values = exprs(value)
                last_type = spec.child_by_field_name("type")
            for index, name in enumerate(names(spec)):
                self._add(name, Decl("const", name, spec, declaration))
                expr = last_values[index] if index < len(last_values) else None
                text = name.text.decode("utf-8")
                self.consts.setdefault(text, []).append(Const(name, expr, last_type))


class GoFile:
    """A Go file as an extraction sees it: the SourceFile and its shared index."""

    __slots__ = ("source", "root", "decls", "consts", "package", "constraint", "misparsed")

    def __init__(self, source: SourceFile, index: Index) -> None:
        self.source = source
        self.root = index.root
        self.decls = index.decls
        self.consts = index.consts
        self.package = index.package
        self.constraint: Constraint = source.analysis(
            "go-constraint", lambda: file_constraint(source.path.name, source.data))
        self.misparsed: tuple[int, int] | None = file_syntax(source).misparsed

    @classmethod
    def of(cls, source: SourceFile) -> GoFile:
        """The file with its index, built once per run: every list in the file or its package shares it."""
        return cls(source, source.analysis("go-index", lambda: Index.build(ts_tree(source, "go").root_node)))

    def where(self, node: Node) -> str:
        return f"{self.source.display}:{node.start_point[0] + 1}"


def var_specs(declaration: Node) -> Iterator[Node]:
    for child in declaration.named_children:
        if child.type == "var_spec":
            yield child
        elif child.type == "var_spec_list":
            yield from (spec for spec in child.named_children if spec.type == "var_spec")


def names(spec: Node) -> list[Node]:
    return [n for n in spec.children_by_field_name("name") if n.type == "identifier"]


def exprs(expression_list: Node) -> list[Node]:
    if expression_list.type != "expression_list":
        return [expression_list]
    return [c for c in expression_list.named_children if c.type != "comment"]


def unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            break
        node = inner[0]
    return node



class Package:
    """One extraction's view of the package: which files it needed, and the problems they raised.

    The expensive parts (directory listing, parse, index, syntax check) are per-file analyses shared
    across extractions; the findings stay per extraction, since they name the list being read.
    """

    def __init__(self, main: GoFile, files: SourceFiles, symbol: str, target: tuple[str, str] | None) -> None:
        self.main = main
        self.files = files
        self.symbol = symbol
        self.target = target
        self.problems: list[Finding] = []  # unreadable or unparsable siblings that may matter
        self.misparsed: list[tuple[GoFile, tuple[int, int]]] = []  # regions gofmt accepts, tree-sitter not
        self._reported: set[str] = set()
        self._siblings, self.assembly, listing_problem = main.source.analysis(
            "go-siblings", lambda: _list_siblings(main.source))
        if listing_problem is not None:
            self.problems.append(listing_problem)
        if main.misparsed is not None:
            self.misparsed.append((main, main.misparsed))

    def status(self, gofile: GoFile) -> bool | None:
        """True: always built; None: built only for some targets, tags or toolchains."""
        return gofile.constraint.status(self.target)

    def depends_on(self, gofile: GoFile) -> str:
        """The constraint text when `gofile` is built only for some targets, tags or toolchains, else ''."""
        if gofile.constraint.status(self.target) is None:
            return gofile.constraint.text
        return ""

    def files_mentioning(self, name: str) -> Iterator[GoFile]:
        """The source file, then each member whose text spells `name` (parsed on first need)."""
        yield self.main
        yield from self.siblings_mentioning((name.encode("utf-8"),))

    def siblings_mentioning(self, needles: tuple[bytes, ...]) -> Iterator[GoFile]:
        for path in self._siblings:
            loaded = self.files.load(path)
            if not isinstance(loaded, SourceFile):
                self._report(loaded.path, rules.finding(
                    loaded.code, loaded.path, loaded.line, loaded.column,
                    detail=f"{loaded.message} (it is in the Go package of {self.main.source.display}, so it could "
                    f"redeclare or change {self.symbol})"))
                continue
            if not any(needle in loaded.data for needle in needles):
                continue
            gofile = self._member(loaded)
            if gofile is not None:
                yield gofile

    def members_declaring(self, pattern: Callable[[], re.Pattern[bytes]]) -> Iterator[GoFile]:
        """The source file, then each member whose bytes match `pattern()` (a sound pre-filter for a declaration,
        built only when the package has other files)."""
        yield self.main
        for path in self._siblings:
            loaded = self.files.load(path)
            if not isinstance(loaded, SourceFile) or not pattern().search(loaded.data):
                continue  # unreadable: reported by siblings_mentioning when it could matter
            constraint = loaded.analysis("go-constraint", lambda: file_constraint(loaded.path.name, loaded.data))
            if constraint.status(self.target) is False:
                continue
            gofile = GoFile.of(loaded)
            if not (self.main.package and gofile.package and gofile.package != self.main.package):
                yield gofile

    def _member(self, source: SourceFile) -> GoFile | None:
        """The sibling's index if `go build` may compile it with this package (else None)."""
        constraint = source.analysis("go-constraint", lambda: file_constraint(source.path.name, source.data))
        if constraint.status(self.target) is False:
            return None  # never built (`//go:build ignore`, a constraint that cannot hold, another target)
        verdict = file_syntax(source)
        gofile = GoFile.of(source)
        main_package = self.main.package
        if main_package and gofile.package and gofile.package != main_package:
            return None  # another package (e.g. a `package main` generator): not built with this one
        if verdict.error is not None:
            base = verdict.error
            self._report(source.display, rules.finding(
                "DC101", base.path, base.line, base.column,
                detail=f"{base.message} (it is in the Go package of {self.main.source.display} and mentions a "
                "name the list depends on)"))
            return None
        if verdict.misparsed is not None and source.display not in self._reported:
            self._reported.add(source.display)
            self.misparsed.append((gofile, verdict.misparsed))
        return gofile

    def _report(self, path: str, finding: Finding) -> None:
        if path not in self._reported:
            self._reported.add(path)
            self.problems.append(finding)

    def decls(self, name: str) -> list[tuple[GoFile, Decl]]:
        return [(f, d) for f in self.files_mentioning(name) for d in f.decls.get(name, ())]

    def consts(self, name: str) -> list[tuple[GoFile, Const]]:
        return [(f, c) for f in self.files_mentioning(name) for c in f.consts.get(name, ())]


def _list_siblings(main: SourceFile) -> tuple[list[Path], list[Path], Finding | None]:
    """The other .go files of `main`'s directory the go tool may build into its package, sorted, and its
    assembly files (which can write the package's variables).

    Listed once per run per file (a snapshot, like the file's bytes); a directory that cannot be
    listed gives no siblings and the DC105 every extraction from `main` reports.
    """
    directory = main.path.parent
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        return [], [], rules.finding(
            "DC105", main.display, 1, 1,
            detail=f"cannot list {directory.as_posix()} to find the other files of the Go package of "
            f"{main.display}: {os.strerror(exc.errno or 0)}")
    names = []
    assembly = []
    for entry in entries:
        name = entry.name
        if name[0] in "_." or name == main.path.name:
            continue  # names the go tool ignores (_x.go, .x.go)
        if name.endswith(".s") or name.endswith(".S"):
            assembly.append(directory / name)
            continue
        # Not part of the package build: _test.go files.
        if not name.endswith(".go") or name.endswith("_test.go"):
            continue
        try:
            if entry.is_dir():
                continue  # go/build skips directories
            if entry.stat().st_size == 0:
                continue  # an empty file declares nothing
        except OSError:
            pass  # a broken link: load() below reports it
        names.append(name)
    return [directory / name for name in sorted(names)], sorted(assembly), None
