"""Go extractor: a package-level `var` holding a map/slice/array literal of string keys.

The list is evaluated exactly as the Go compiler would, or not at all: string
literals are decoded with Go's escape rules, `+` concatenations and parentheses
are folded, and identifiers resolve only to string constants declared at package
level in the non-test files of the same directory (the Go package). Everything
else is a DC1xx finding and no keys (fail closed). A file the Go parser rejects is DC101 even
where tree-sitter-go is more lenient (a newline Go ends with an automatic ';' inside brackets,
e.g. a missing trailing comma; statements at the top level): see "Syntax" below.

Because a Go package spans files, the other non-test `.go` files of the
directory are consulted too: a second declaration of the symbol (e.g. behind
build tags) is DC103 and an assignment to it (`m[k] = v`, `delete(m, k)`,
`s = append(s, ...)`) is DC104, with lexical scoping so that a local variable or
parameter shadowing the name is not mistaken for the package variable. Sibling
files are only parsed when their bytes mention a name that matters (the symbol,
or a constant being resolved): a file that never spells the name can neither
declare nor change it, and skipping it keeps a large package fast. The per-file work (parse, syntax
check, declaration index, directory listing) is done once per run and shared by every list read from
the file or its package, so many lists in one file cost one analysis plus a lookup each.
"""

from __future__ import annotations

import os
from functools import lru_cache
from itertools import accumulate
from operator import add
from pathlib import Path
from typing import Any, Iterator

from driftcheck.languages.common import (
    collect_pragmas,
    first_error_node,
    node_finding,
    node_key,
    node_span,
    symbol_not_found,
    syntax_error,
    ts_parser,
    ts_tree,
)
from driftcheck.model import ExtractedList, Finding, Key, ListRef
from driftcheck.sources import SourceFile, SourceFiles

Node = Any  # tree_sitter.Node

_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = "0123456789abcdefABCDEF"
_NUMBERS = {"int_literal", "float_literal", "imaginary_literal"}
_SCOPE_FUNCS = {"function_declaration", "method_declaration", "func_literal"}
_MUTATING_BUILTINS = {b"delete", b"clear", b"copy"}  # each changes its first argument


def _q(text: str) -> str:
    """A key or string quoted for a message (escapes control characters).

    Byte-identical to json.dumps(text, ensure_ascii=False), without importing json (~1 ms of every
    check) for a helper that only error messages use.
    """
    return '"' + text.translate(_quote_table()) + '"'


@lru_cache(maxsize=None)
def _quote_table() -> dict[int, str]:
    # json's ESCAPE_DCT: the short escapes, then \u00XX (lowercase hex) for the other C0 controls.
    table = {ord(c): e for c, e in (("\\", "\\\\"), ('"', '\\"'), ("\b", "\\b"), ("\f", "\\f"),
                                     ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))}
    for code in range(0x20):
        table.setdefault(code, f"\\u{code:04x}")
    return table


def _snippet(node: Node, limit: int = 80) -> str:
    text = node.text.decode("utf-8", "replace").replace("\r", "")
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit and "\n" not in text else first[:limit].rstrip() + " ..."


class _Problem(Exception):
    """Why an element cannot be evaluated; reported at the element of the list."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# String literals, decoded exactly as the Go scanner does.


class _EscapeProblem(_Problem):
    """A syntax error inside a string literal, already located (DC101 at the backslash)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__("DC101", finding.message)
        self.finding = finding


def _decode_interpreted(source: SourceFile, node: Node) -> bytes:
    """Bytes of a "..." literal; an invalid escape is DC101 at its backslash (Go rejects the file).

    Bytes, not text: Go strings are byte strings, so `"\\xc3" + "\\xa9"` is the valid "é" although
    neither literal alone is UTF-8. The caller decodes the whole concatenation once.
    """
    raw = node.text.decode("utf-8")[1:-1]
    out = bytearray()
    i = 0
    n = len(raw)
    row, col = node.start_point

    def bad(at: int, length: int, why: str) -> _EscapeProblem:
        column = source.point_column(row, col) + 1 + at  # an interpreted string is on one line
        return _EscapeProblem(Finding(
            "DC101", f"invalid escape sequence {raw[at:at + length]} in a Go string ({why}); Go rejects this file "
            "— fix the escape", source.display, row + 1, column))

    while i < n:
        ch = raw[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        esc = raw[i + 1] if i + 1 < n else ""
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc and esc in "01234567":
            digits = raw[i + 1:i + 4]
            if len(digits) < 3 or any(d not in "01234567" for d in digits):
                raise bad(i, 4, "an octal escape needs exactly three octal digits")
            value = int(digits, 8)
            if value > 255:
                raise bad(i, 4, "an octal escape must be at most \\377")
            out.append(value)
            i += 4
        elif esc and esc in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[esc]
            digits = raw[i + 2:i + 2 + width]
            if len(digits) < width or any(d not in _HEX for d in digits):
                raise bad(i, 2 + width, f"\\{esc} needs exactly {width} hexadecimal digits")
            value = int(digits, 16)
            if esc == "x":
                out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    raise bad(i, 2 + width, "not a valid Unicode code point")
                out += chr(value).encode("utf-8")
            i += 2 + width
        else:
            raise bad(i, 2, "\\' is only valid in rune literals" if esc == "'" else "unknown escape")
    return bytes(out)


def _decode_raw(node: Node) -> bytes:
    # Go discards carriage returns inside raw string literals (spec: "Raw string literals").
    return node.text[1:-1].replace(b"\r", b"")


# ---------------------------------------------------------------------------------------------
# Per-file index of package-level declarations.
#
# Plain classes with __slots__ rather than dataclasses: creating a dataclass costs 0.15-0.3 ms at
# import, paid by every pre-commit run, and nothing here needs the generated eq/repr.


class _Const:
    __slots__ = ("name_node", "expr", "type_node")

    def __init__(self, name_node: Node, expr: Node | None, type_node: Node | None) -> None:
        self.name_node = name_node
        self.expr = expr  # None: more names than values (Go rejects it)
        self.type_node = type_node


class _Decl:
    __slots__ = ("kind", "name_node", "spec", "decl")

    def __init__(self, kind: str, name_node: Node, spec: Node, decl: Node) -> None:
        self.kind = kind  # var | const | func | type
        self.name_node = name_node
        self.spec = spec  # var_spec / const_spec / function_declaration / type_spec
        self.decl = decl  # the var_declaration / const_declaration / ... holding it


class _Index:
    """A file's package clause and package-level declarations: built once per run, then read-only.

    Holds tree nodes only, never the SourceFile it is cached on: a reference back would be a cycle
    that keeps the file and its tree alive after the run's SourceFiles is dropped, until the cyclic
    GC happens to run (a server or `fix` builds many SourceFiles in one process).
    """

    __slots__ = ("root", "decls", "consts", "package")

    def __init__(self, root: Node) -> None:
        self.root = root
        self.decls: dict[str, list[_Decl]] = {}
        self.consts: dict[str, list[_Const]] = {}
        self.package: str | None = None

    @classmethod
    def build(cls, root: Node) -> _Index:
        index = cls(root)
        for top in root.named_children:
            if top.type == "package_clause":
                for child in top.named_children:
                    if child.type == "package_identifier":
                        index.package = child.text.decode("utf-8")
            elif top.type == "var_declaration":
                for spec in _var_specs(top):
                    for name in _names(spec):
                        index._add(name, _Decl("var", name, spec, top))
            elif top.type == "const_declaration":
                index._index_consts(top)
            elif top.type == "function_declaration":
                name = top.child_by_field_name("name")
                if name is not None and name.text != b"init":  # several init funcs are allowed
                    index._add(name, _Decl("func", name, top, top))
            elif top.type == "type_declaration":
                for spec in top.named_children:
                    name = spec.child_by_field_name("name") if spec.type in ("type_spec", "type_alias") else None
                    if name is not None:
                        index._add(name, _Decl("type", name, spec, top))
        return index

    def _add(self, name: Node, decl: _Decl) -> None:
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
                last_values = _exprs(value)
                last_type = spec.child_by_field_name("type")
            for index, name in enumerate(_names(spec)):
                self._add(name, _Decl("const", name, spec, declaration))
                expr = last_values[index] if index < len(last_values) else None
                text = name.text.decode("utf-8")
                self.consts.setdefault(text, []).append(_Const(name, expr, last_type))


class _GoFile:
    """A Go file as an extraction sees it: the SourceFile and its shared index."""

    __slots__ = ("source", "root", "decls", "consts", "package")

    def __init__(self, source: SourceFile, index: _Index) -> None:
        self.source = source
        self.root = index.root
        self.decls = index.decls
        self.consts = index.consts
        self.package = index.package

    @classmethod
    def of(cls, source: SourceFile) -> _GoFile:
        """The file with its index, built once per run: every list in the file or its package shares it."""
        return cls(source, source.analysis("go-index", lambda: _Index.build(ts_tree(source, "go").root_node)))

    def where(self, node: Node) -> str:
        return f"{self.source.display}:{node.start_point[0] + 1}"


def _var_specs(declaration: Node) -> Iterator[Node]:
    for child in declaration.named_children:
        if child.type == "var_spec":
            yield child
        elif child.type == "var_spec_list":
            yield from (spec for spec in child.named_children if spec.type == "var_spec")


def _names(spec: Node) -> list[Node]:
    return [n for n in spec.children_by_field_name("name") if n.type == "identifier"]


def _exprs(expression_list: Node) -> list[Node]:
    if expression_list.type != "expression_list":
        return [expression_list]
    return [c for c in expression_list.named_children if c.type != "comment"]


def _unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            break
        node = inner[0]
    return node


# ---------------------------------------------------------------------------------------------
# The Go package: the source file plus the other non-test files of its directory, loaded lazily.


class _Package:
    """One extraction's view of the package: which siblings it needed, and the problems they raised.

    The expensive parts (directory listing, parse, index, syntax check) are per-file analyses shared
    across extractions; the findings stay per extraction, since they name the list being read.
    """

    def __init__(self, main: _GoFile, files: SourceFiles, symbol: str) -> None:
        self.main = main
        self.files = files
        self.symbol = symbol
        self.problems: list[Finding] = []  # unreadable or unparsable siblings that may matter
        self._reported: set[str] = set()
        self._siblings, listing_problem = main.source.analysis("go-siblings", lambda: _list_siblings(main.source))
        if listing_problem is not None:
            self.problems.append(listing_problem)

    def files_mentioning(self, name: str) -> Iterator[_GoFile]:
        """The source file, then each sibling whose text spells `name` (parsed on first need)."""
        yield self.main
        needle = name.encode("utf-8")
        for path in self._siblings:
            loaded = self.files.load(path)
            if not isinstance(loaded, SourceFile):
                self._report(loaded.path, Finding(
                    loaded.code, f"{loaded.message} (it is in the Go package of {self.main.source.display}, so it "
                    f"could redeclare or change {self.symbol})", loaded.path, loaded.line, loaded.column))
                continue
            if needle not in loaded.data:
                continue
            gofile = self._member(loaded)
            if gofile is not None:
                yield gofile

    def _member(self, source: SourceFile) -> _GoFile | None:
        """The sibling's index if it is built with this package and parses (else None, DC101 reported)."""
        gofile = _GoFile.of(source)
        main_package = self.main.package
        if main_package and gofile.package and gofile.package != main_package:
            return None  # another package (e.g. a `//go:build ignore` generator): not built with this one
        base = _file_syntax_error(source)
        if base is not None:
            self._report(source.display, Finding(
                "DC101", f"{base.message} (it is in the Go package of {self.main.source.display} and mentions "
                "a name the list depends on)", base.path, base.line, base.column))
            return None
        return gofile

    def _report(self, path: str, finding: Finding) -> None:
        if path not in self._reported:
            self._reported.add(path)
            self.problems.append(finding)

    def decls(self, name: str) -> list[tuple[_GoFile, _Decl]]:
        return [(f, d) for f in self.files_mentioning(name) for d in f.decls.get(name, ())]

    def consts(self, name: str) -> list[tuple[_GoFile, _Const]]:
        return [(f, c) for f in self.files_mentioning(name) for c in f.consts.get(name, ())]


def _list_siblings(main: SourceFile) -> tuple[list[Path], Finding | None]:
    """The other files of `main`'s directory that the go tool builds into its package, sorted.

    Listed once per run per file (a snapshot, like the file's bytes); a directory that cannot be
    listed gives no siblings and the DC105 every extraction from `main` reports.
    """
    directory = main.path.parent
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        return [], Finding(
            "DC105", f"cannot list {directory.as_posix()} to find the other files of the Go package of "
            f"{main.display}: {os.strerror(exc.errno or 0)}", main.display, 1, 1)
    names = []
    for entry in entries:
        name = entry.name
        # Not part of the package build: _test.go files, and names the go tool ignores (_x.go, .x.go).
        if not name.endswith(".go") or name.endswith("_test.go") or name[0] in "_.":
            continue
        if name == main.path.name:
            continue
        try:
            if entry.is_dir():
                continue  # go/build skips directories
            if entry.stat().st_size == 0:
                continue  # an empty file declares nothing
        except OSError:
            pass  # a broken link: load() below reports it
        names.append(name)
    return [directory / name for name in sorted(names)], None


# ---------------------------------------------------------------------------------------------
# Evaluating elements.


class _Evaluator:
    def __init__(self, package: _Package) -> None:
        self.package = package
        self._values: dict[str, bytes | _Problem] = {}
        self._visiting: list[str] = []

    def string(self, source: SourceFile, node: Node, subject: str) -> str:
        """The text of a string expression; its bytes, joined across `+`, must be UTF-8."""
        try:
            return self.value_bytes(source, node, subject).decode("utf-8")
        except UnicodeDecodeError:
            raise _Problem("DC102", f"{subject} {_snippet(node)} decodes to bytes that are not UTF-8, which "
                           "cannot be an environment variable name; write the key as plain text") from None

    def value_bytes(self, source: SourceFile, node: Node, subject: str) -> bytes:
        # `+` chains nest to the left; walk them with a stack so a long chain cannot exhaust recursion.
        parts: list[bytes] = []
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "interpreted_string_literal":
                parts.append(_decode_interpreted(source, current))
            elif kind == "raw_string_literal":
                parts.append(_decode_raw(current))
            elif kind == "identifier":
                parts.append(self.constant(current.text.decode("utf-8"), subject))
            elif kind == "parenthesized_expression" and _unparen(current) is not current:
                stack.append(_unparen(current))
            elif kind == "binary_expression" and _operator_type(current) == "+":
                stack.append(current.child_by_field_name("right"))
                stack.append(current.child_by_field_name("left"))
            else:
                raise _Problem("DC102", f"{subject} is {_describe(current)}, which driftcheck cannot evaluate "
                               "statically; write the key as a string literal or a string const of this package")
        return b"".join(parts)

    def constant(self, name: str, subject: str) -> bytes:
        if name not in self._values:
            if name in self._visiting:
                cycle = " -> ".join(self._visiting[self._visiting.index(name):] + [name])
                raise _Problem("DC102", f"{subject} depends on a constant cycle ({cycle}); Go rejects this — "
                               "break the cycle")
            self._visiting.append(name)
            try:
                self._values[name] = self._constant(name, subject)
            except _Problem as problem:
                self._values[name] = problem
            finally:
                self._visiting.pop()
        value = self._values[name]
        if isinstance(value, _Problem):
            raise value
        return value

    def _constant(self, name: str, subject: str) -> bytes:
        package = self.package

        def what(where: str = "") -> str:
            # "element NAME (file:line)" or, inside a constant, "constant C (file:line) refers to NAME, which"
            named = f"{name} ({where})" if where else name
            return f"{subject} {named}" if subject == "element" else f"{subject} refers to {named}, which"

        defs = package.consts(name)
        if not defs:
            others = [(f, d) for f, d in package.decls(name) if d.kind != "const"]
            if others:
                f, d = others[0]
                if d.kind == "var":
                    raise _Problem("DC102", f"{what(f.where(d.name_node))} is a variable, whose value can change at "
                                   "run time; declare it with const or write the key as a string literal")
                raise _Problem("DC102", f"{what(f.where(d.name_node))} is a {d.kind}, not a string constant; "
                               "write the key as a string literal or a string const")
            raise _Problem("DC102", f"{what()} is not a constant declared in the non-test files of this Go package "
                           "(dot-imports and _test.go files are not evaluated); write the key as a string literal "
                           "or declare it with const")
        if len(defs) > 1:
            places = ", ".join(f.where(c.name_node) for f, c in defs)
            raise _Problem("DC103", f"{what()} is declared more than once in the package ({places}; build tags?), "
                           "so its value depends on the build; keep exactly one declaration")
        gofile, const = defs[0]
        here = gofile.where(const.name_node)
        if const.expr is None:
            raise _Problem("DC102", f"{what(here)} has no matching value (more names than values); Go rejects "
                           "this — give every constant a value")
        if const.type_node is not None and const.type_node.text != b"string":
            raise _Problem("DC102", f"{what(here)} has type {const.type_node.text.decode('utf-8')}, not string; "
                           "declare it as an untyped or string constant")
        if _mentions_iota(const.expr):
            raise _Problem("DC102", f"{what(here)} is an iota constant, not a string; write the key as a string "
                           "literal or a string const")
        return self.value_bytes(gofile.source, const.expr, f"constant {name} ({here})")


def _operator_type(node: Node) -> str | None:
    operator = node.child_by_field_name("operator")
    return operator.type if operator is not None else None


def _mentions_iota(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "iota":
            return True
        if current.type != "func_literal":
            stack.extend(current.named_children)
    return False


def _describe(node: Node) -> str:
    node_type = node.type
    text = _snippet(node)
    if node_type == "call_expression":
        function = node.child_by_field_name("function")
        return f"a call to {_snippet(function) if function is not None else text}"
    if node_type == "selector_expression":
        return f"{text}, a name from another package (or a field of a variable)"
    if node_type == "rune_literal":
        return f"the rune literal {text}, not a string (write it in double quotes)"
    if node_type in _NUMBERS:
        return f"the number {text}, not a string"
    if node_type in ("true", "false", "nil"):
        return f"{text}, not a string"
    if node_type == "iota":
        return "iota, a number, not a string"
    if node_type == "binary_expression":
        return f"`{text}`, which uses the operator {_operator_type(node)} (only + of strings is folded)"
    if node_type == "index_expression":
        return f"`{text}`, an index into a variable"
    if node_type == "composite_literal":
        return f"a composite literal `{text}`"
    if node_type == "literal_value":
        return f"a nested literal `{text}`"
    return f"`{text}` ({node_type.replace('_', ' ')})"


# ---------------------------------------------------------------------------------------------
# Mutations (DC104), with Go's lexical scoping.


def _operator(node: Node) -> bytes | None:
    for child in node.children:
        if not child.is_named and child.type in ("=", ":="):
            return child.type.encode()
    return None


def _ident_names(node: Node | None) -> set[bytes]:
    if node is None:
        return set()
    if node.type == "identifier":
        return {node.text}
    return {c.text for c in node.named_children if c.type == "identifier"}


def _statement_declares(statement: Node, name: bytes) -> bool:
    while statement.type == "labeled_statement":
        inner = [c for c in statement.named_children if c.type not in ("label_name", "comment")]
        if not inner:
            return False
        statement = inner[-1]
    kind = statement.type
    if kind == "short_var_declaration":
        return name in _ident_names(statement.child_by_field_name("left"))
    if kind == "var_declaration":
        return any(n.text == name for spec in _var_specs(statement) for n in _names(spec))
    if kind == "const_declaration":
        return any(n.text == name for spec in statement.named_children if spec.type == "const_spec"
                   for n in _names(spec))
    if kind == "type_declaration":
        return any(spec.child_by_field_name("name") is not None and spec.child_by_field_name("name").text == name
                   for spec in statement.named_children if spec.type in ("type_spec", "type_alias"))
    return False


def _shadowed(ident: Node, name: bytes) -> bool:
    """Whether `ident` refers to a local declaration rather than the package-level name."""
    at = ident.start_byte
    child, node = ident, ident.parent
    while node is not None and node.type != "source_file":
        kind = node.type
        if kind == "statement_list":  # a block or a case clause: earlier declarations are in scope
            for statement in node.named_children:
                if statement.start_byte >= child.start_byte:
                    break
                if _statement_declares(statement, name):
                    return True
        elif kind in ("if_statement", "expression_switch_statement", "type_switch_statement"):
            init = node.child_by_field_name("initializer")
            if init is not None and at >= init.end_byte and _statement_declares(init, name):
                return True
            if kind == "type_switch_statement":
                value = node.child_by_field_name("value")
                if value is not None and at >= value.end_byte and name in _ident_names(
                        node.child_by_field_name("alias")):
                    return True
        elif kind == "for_statement":
            for clause in node.named_children:
                if clause.type == "for_clause":
                    init = clause.child_by_field_name("initializer")
                    if init is not None and at >= init.end_byte and _statement_declares(init, name):
                        return True
                elif clause.type == "range_clause":
                    if at >= clause.end_byte and _operator(clause) == b":=" and name in _ident_names(
                            clause.child_by_field_name("left")):
                        return True
        elif kind == "communication_case":
            comm = node.child_by_field_name("communication")
            if (comm is not None and comm.type == "receive_statement" and at >= comm.end_byte
                    and _operator(comm) == b":=" and name in _ident_names(comm.child_by_field_name("left"))):
                return True
        elif kind in _SCOPE_FUNCS:
            for field_name in ("receiver", "type_parameters", "parameters", "result"):
                params = node.child_by_field_name(field_name)
                if params is None or params.type not in ("parameter_list", "type_parameter_list"):
                    continue
                for param in params.named_children:
                    if any(n.text == name for n in param.children_by_field_name("name")):
                        return True
        child, node = node, node.parent
    return False


def _mutation_site(ident: Node) -> Node | None:
    """The statement or call that changes the variable named by `ident`, if any."""
    expr = ident
    while True:
        parent = expr.parent
        if parent is None:
            return None
        if parent.type == "parenthesized_expression" or (
                parent.type in ("index_expression", "slice_expression")
                and parent.child_by_field_name("operand") == expr):
            expr = parent
            continue
        break
    if parent.type == "expression_list":
        owner = parent.parent
        if owner is None or owner.child_by_field_name("left") != parent:
            return None
        if owner.type == "assignment_statement":
            return owner
        if owner.type in ("range_clause", "receive_statement") and _operator(owner) == b"=":
            return owner
        return None
    if parent.type in ("inc_statement", "dec_statement"):
        return parent
    if parent.type == "argument_list":
        call = parent.parent
        function = call.child_by_field_name("function") if call is not None else None
        args = [c for c in parent.named_children if c.type != "comment"]
        if (function is not None and function.type == "identifier" and function.text in _MUTATING_BUILTINS
                and args and args[0] == expr):
            return call
    return None


def _enclosing_function(node: Node) -> str:
    while node is not None:
        if node.type in ("function_declaration", "method_declaration"):
            name = node.child_by_field_name("name")
            return f" in func {name.text.decode('utf-8')}" if name is not None else ""
        node = node.parent
    return ""


def _identifier_uses(gofile: _GoFile, name: str) -> Iterator[Node]:
    """Identifier nodes spelling `name` (found by a byte search, confirmed by the tree)."""
    data = gofile.source.data
    needle = name.encode("utf-8")
    root = gofile.root
    pos = data.find(needle)
    while pos != -1:
        end = pos + len(needle)
        node = root.named_descendant_for_byte_range(pos, end)
        if node is not None and node.type == "identifier" and node.start_byte == pos and node.end_byte == end:
            yield node
        pos = data.find(needle, end)


def _mutations(gofile: _GoFile, symbol: str) -> list[Finding]:
    findings = []
    name = symbol.encode("utf-8")
    for ident in _identifier_uses(gofile, symbol):
        site = _mutation_site(ident)
        if site is None or _shadowed(ident, name):
            continue
        findings.append(node_finding(
            "DC104", f"{symbol} is changed after its declaration by `{_snippet(site)}`{_enclosing_function(site)}; "
            "put every key in the declaration itself", gofile.source, site))
    return findings


def _local_declaration(gofile: _GoFile, symbol: str) -> Node | None:
    """A function-local declaration of `symbol`, to explain a DC100."""
    for ident in _identifier_uses(gofile, symbol):
        parent = ident.parent
        if parent is None:
            continue
        if parent.type == "var_spec" or (
                parent.type == "expression_list" and parent.parent is not None
                and parent.parent.type == "short_var_declaration"
                and parent.parent.child_by_field_name("left") == parent):
            return ident
    return None


# ---------------------------------------------------------------------------------------------
# Pragmas next to the definition.


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


def _pragma_comments(source: SourceFile, root: Node, decl: _Decl) -> list[tuple[str, int, int]]:
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
    return comments


# ---------------------------------------------------------------------------------------------
# The list value.


class _Value:
    __slots__ = ("keys", "findings", "literal")

    def __init__(self, keys: list[Key], findings: list[Finding], literal: Node | None) -> None:
        self.keys = keys
        self.findings = findings
        self.literal = literal


def _array_length(node: Node) -> int | None:
    text = node.text.decode("utf-8").replace("_", "")
    try:
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            return int(text, 8)  # legacy octal, 0755
        return int(text, 0)
    except ValueError:
        return None


def _evaluate_value(ref: ListRef, main: _GoFile, decl: _Decl, evaluator: _Evaluator) -> _Value:
    source = main.source
    symbol = ref.symbol
    names = _names(decl.spec)
    index = next(i for i, n in enumerate(names) if n == decl.name_node)
    value = decl.spec.child_by_field_name("value")
    values = _exprs(value) if value is not None else []
    if not values:
        return _Value([], [node_finding(
            "DC102", f"{symbol} is declared without a value, so its keys are set elsewhere at run time; give it a "
            "literal value: map[string]struct{}{...} or []string{...}", source, decl.name_node)], None)
    if len(values) != len(names):
        if len(values) == 1 and values[0].type == "call_expression":
            return _Value([], [node_finding(
                "DC102", f"{symbol} is set from {_describe(values[0])}, which driftcheck cannot evaluate statically; "
                "write the keys in a literal", source, values[0])], None)
        return _Value([], [node_finding(
            "DC101", f"assignment mismatch: {len(names)} names but {len(values)} values; Go rejects this — give "
            "each name one value", source, decl.spec)], None)
    literal = _unparen(values[index])
    if literal.type != "composite_literal":
        return _Value([], [node_finding(
            "DC102", f"{symbol} is set to {_describe(literal)}, which driftcheck cannot evaluate statically; write "
            "the keys in a map[string]T{...} or []string{...} literal", source, literal)], None)
    literal_type = literal.child_by_field_name("type")
    body = literal.child_by_field_name("body")
    problem = _check_type(literal_type)
    if problem or body is None:
        return _Value([], [node_finding(
            "DC102", f"{symbol} is a literal of type {_snippet(literal_type) if literal_type else '?'}{problem}; "
            "driftcheck reads map[string]T, []string, [N]string and [...]string literals", source, literal)], literal)
    is_map = literal_type.type == "map_type"
    bool_values = is_map and literal_type.child_by_field_name("value").text == b"bool"
    keys: list[Key] = []
    findings: list[Finding] = []
    elements = [e for e in body.named_children if e.type != "comment"]
    for element in elements:
        if is_map:
            if element.type != "keyed_element":
                findings.append(node_finding("DC102", f"map element `{_snippet(element)}` has no key; write it as "
                                             "\"KEY\": value", source, element))
                continue
            expr = _element_expr(element.child_by_field_name("key"))
        elif element.type == "keyed_element":
            findings.append(node_finding(
                "DC102", f"indexed array element `{_snippet(element)}`: driftcheck does not evaluate element "
                "indices (gaps would be empty strings); list the elements in order without indices",
                source, element))
            continue
        else:
            expr = _element_expr(element)
        try:
            text = evaluator.string(source, expr, "element")
        except _EscapeProblem as escape:
            findings.append(escape.finding)
            continue
        except _Problem as problem:
            findings.append(node_finding(problem.code, problem.message, source, expr))
            continue
        except RecursionError:
            findings.append(node_finding("DC102", "element is a chain of constants too deep to evaluate; write the "
                                         "key as a string literal", source, expr))
            continue
        if is_map:
            value_node = _element_expr(element.child_by_field_name("value"))
            if value_node is not None and value_node.type == "false":
                findings.append(node_finding(
                    "DC102", f"{_q(text)} maps to false, so the server would not block it; remove the entry or set "
                    "it to true", source, value_node, text))
                continue
            if bool_values and (value_node is None or value_node.type != "true"):
                findings.append(node_finding(
                    "DC102", f"the value of {_q(text)} is `{_snippet(value_node) if value_node else '?'}`, not the "
                    "literal true, so driftcheck cannot tell whether it is blocked; write true", source,
                    value_node if value_node is not None else element, text))
                continue
        keys.append(node_key(source, expr, text))
    if literal_type.type == "array_type" and not findings:
        length_node = literal_type.child_by_field_name("length")
        length = _array_length(length_node) if length_node is not None else None
        if length != len(elements):
            if length is None:
                why = "is not a plain integer literal"
            elif length > len(elements):
                why = f"is {length} but {len(elements)} elements are listed (the rest would be empty strings)"
            else:
                why = f"is {length} but {len(elements)} elements are listed (Go rejects this)"
            findings.append(node_finding(
                "DC102", f"the array length of {symbol} {why}; write [...]string{{...}} or []string{{...}}",
                source, literal_type))
    return _Value(keys, findings, literal)


def _check_type(node: Node | None) -> str:
    """'' when the literal type is one driftcheck reads, else why not."""
    if node is None:
        return " (unknown)"
    if node.type == "map_type":
        key = node.child_by_field_name("key")
        return "" if key is not None and key.text == b"string" else ", whose keys are not of type string"
    if node.type in ("slice_type", "array_type", "implicit_length_array_type"):
        element = node.child_by_field_name("element")
        return "" if element is not None and element.text == b"string" else ", whose elements are not strings"
    return f" ({node.type.replace('_', ' ')})"


def _element_expr(node: Node | None) -> Node | None:
    if node is not None and node.type == "literal_element":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) == 1:
            return inner[0]
    return node


# ---------------------------------------------------------------------------------------------
# Syntax: tree-sitter errors, plus the newlines tree-sitter-go accepts and the Go parser does not.
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


def _file_syntax_error(source: SourceFile) -> Finding | None:
    """`_go_syntax_error` of the file, checked once per run (the main file and siblings alike)."""
    return source.analysis("go-syntax", lambda: _go_syntax_error(source, ts_tree(source, "go").root_node))


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
    return Finding("DC101", message, source.display, row + 1, column)


def _comma_list(node: Node | None) -> str | None:
    """Go's name for the comma-separated list the newline ends an element of (only for the message)."""
    while node is not None and node.type not in _SEMICOLON_LISTS and node.type != "func_literal":
        if node.type in _COMMA_LISTS:
            return _COMMA_LISTS[node.type]
        if node.type in _OTHER_BRACKETS:
            return None
        node = node.parent
    return None


# ---------------------------------------------------------------------------------------------


def extract(ref: ListRef, source: SourceFile, files: SourceFiles) -> ExtractedList:
    """Extract `ref.symbol` from a Go file: keys with locations, or DC1xx findings and no keys."""
    error = _file_syntax_error(source)
    if error is not None:
        return ExtractedList(ref=ref, keys=None, findings=(error,))
    symbol = ref.symbol
    main = _GoFile.of(source)
    root = main.root
    package = _Package(main, files, symbol)
    own = main.decls.get(symbol, [])
    variables = [d for d in own if d.kind == "var"]
    if not variables:
        finding = _not_found(ref, main, package, own)
        return ExtractedList(ref=ref, keys=None, findings=(finding, *package.problems))

    decl = variables[0]
    findings: list[Finding] = []
    for other in own:
        if other is not decl:
            findings.append(node_finding(
                "DC103", f"{symbol} is declared again here ({other.kind}); it is already declared at line "
                f"{decl.name_node.start_point[0] + 1}; keep exactly one declaration", source, other.name_node))

    allowances, pragma_findings = collect_pragmas(_pragma_comments(source, root, decl), source.display)
    evaluator = _Evaluator(package)
    value = _evaluate_value(ref, main, decl, evaluator)
    findings += value.findings

    # The rest of the package: other declarations (build tags) and mutations.
    for gofile in package.files_mentioning(symbol):
        if gofile is not main:
            for other in gofile.decls.get(symbol, ()):
                findings.append(node_finding(
                    "DC103", f"{symbol} is declared again here ({other.kind}), besides {main.where(decl.name_node)}; "
                    "with build tags each build sees a different list — keep exactly one declaration",
                    gofile.source, other.name_node))
        findings += _mutations(gofile, symbol)
    findings += package.problems

    fatal = any(f.code.startswith("DC1") and f.code != "DC106" for f in findings)
    keys: tuple[Key, ...] | None = None if fatal else tuple(value.keys)
    if keys is not None:
        findings += _duplicates(symbol, keys, source, is_map=value.literal is not None and
                                value.literal.child_by_field_name("type").type == "map_type")
    findings += pragma_findings
    return ExtractedList(
        ref=ref,
        keys=keys,
        findings=tuple(_ordered(findings, source.display)),
        definition=node_key(source, decl.name_node, symbol),
        value_span=node_span(source, value.literal) if value.literal is not None else None,
        allowances=tuple(allowances),
    )


def _duplicates(symbol: str, keys: tuple[Key, ...], source: SourceFile, is_map: bool) -> list[Finding]:
    seen: dict[str, Key] = {}
    out = []
    for key in keys:
        first = seen.setdefault(key.key, key)
        if first is not key:
            note = " (Go also rejects duplicate constant map keys at compile time)" if is_map else ""
            out.append(Finding("DC003", f"{_q(key.key)} is listed more than once in {symbol} (first at line "
                               f"{first.line}){note}; delete the repeated entry", source.display, key.line,
                               key.column, key.key))
    return out


def _ordered(findings: list[Finding], main: str) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path != main, f.path, f.line, f.column))


def _not_found(ref: ListRef, main: _GoFile, package: _Package, own: list[_Decl]) -> Finding:
    symbol = ref.symbol
    source = main.source
    if own:
        other = own[0]
        return node_finding("DC100", f"{symbol} in {source.display} is a {other.kind}, not a package-level var; "
                            f"driftcheck reads `var {symbol} = map[string]struct{{}}{{...}}` or a []string literal",
                            source, other.name_node)
    for gofile, decl in package.decls(symbol):
        if decl.kind == "var":
            return Finding("DC100", f"{symbol} is not declared in {source.display} but in {gofile.where(decl.name_node)}; "
                           "point the list reference at that file", source.display, 1, 1)
    local = _local_declaration(main, symbol)
    if local is not None:
        return node_finding("DC100", f"{symbol} is only declared inside a function{_enclosing_function(local)} here "
                            "(a local variable); driftcheck reads package-level vars — move it to package level",
                            source, local)
    candidates = [name for name, decls in main.decls.items() if any(d.kind in ("var", "const") for d in decls)]
    return symbol_not_found(ref, source, candidates, "package-level vars and consts")
