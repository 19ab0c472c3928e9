"""Passing the list to a function: a read when the callee provably only reads that parameter.

A map or slice passed to a function shares its storage with the callee's parameter, so the call
is a read only when every occurrence of the parameter in the callee's body is itself a read (by
the same allowlist, recursively through further calls). Callees resolved: functions declared in
the package (every built variant), and `pkg.F` of an imported package found in the module (via
go.mod), its vendor directory or the Go toolchain's standard library. Anything else — methods,
function values, dot-imports, generics instantiated explicitly, variadic parameters, packages not
on disk, a callee package that redeclares a predeclared identifier — stays unproven.

The standard library is analysed as installed (`go` on PATH): a program built with another Go
version gets that version's library, whose functions are assumed to read their parameters alike.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from driftcheck.languages.go.package import GoFile, Package
from driftcheck.sources import SourceFile, SourceFiles

Node = Any  # tree_sitter.Node

# fmt's printing functions take `...any` and only read their arguments (through reflection).
_FMT_READERS = frozenset("Sprint Sprintf Sprintln Print Printf Println Fprint Fprintf Fprintln Errorf".split())
_MAX_DEPTH = 8


class Calls:
    """Callee analysis shared by every occurrence of one extraction (memoised per function and parameter)."""

    def __init__(self, package: Package, files: SourceFiles) -> None:
        self.package = package
        self.files = files
        self.target = package.target
        self._memo: dict[tuple[str, int, int], bool] = {}  # final verdicts
        self._pending: dict[tuple[str, int, int], bool] = {}  # verdicts of the query under way
        self._packages: dict[Path, Package | None] = {package.main.source.path.parent: package}
        self._depth = 0

    def bound(self, gofile: GoFile) -> Bound:
        return Bound(self, gofile)

    # -- resolving the callee

    def callees(self, gofile: GoFile, call: Node) -> list[tuple[GoFile, Node]] | str | None:
        """The function declarations `call` may run, "reads" for a known reader, or None when unknown."""
        from driftcheck.languages.go.occurrences import down_parens, shadowed

        function = call.child_by_field_name("function")
        if function is None:
            return None
        function = down_parens(function)
        if function.type == "identifier":
            if shadowed(function, function.text):
                return None  # a local function value
            package = self._package_of(gofile)
            return self._functions(package, function.text.decode("utf-8")) if package is not None else None
        if function.type != "selector_expression":
            return None
        operand = function.child_by_field_name("operand")
        field = function.child_by_field_name("field")
        if operand is None or field is None or operand.type != "identifier" or shadowed(operand, operand.text):
            return None
        path = _import_path(gofile, operand.text.decode("utf-8"), self)
        if path is None:
            return None
        name = field.text.decode("utf-8")
        if path == "fmt" and name in _FMT_READERS:
            return "reads"
        directory = self._resolve(gofile.source.path.parent, path)
        package = self._package_at(directory) if directory is not None else None
        return self._functions(package, name) if package is not None else None

    def _functions(self, package: Package | None, name: str) -> list[tuple[GoFile, Node]] | None:
        if package is None or _declares_predeclared(package):
            return None
        found = [(f, d.spec) for f, d in package.decls(name)]
        if not found or any(d.type != "function_declaration" for _, d in found):
            return None
        return found

    def _package_of(self, gofile: GoFile) -> Package | None:
        return self._package_at(gofile.source.path.parent)

    def _package_at(self, directory: Path) -> Package | None:
        if directory not in self._packages:
            self._packages[directory] = _directory_package(directory, self.files, self.target)
        return self._packages[directory]

    def _resolve(self, directory: Path, path: str) -> Path | None:
        first = path.split("/", 1)[0]
        if "." not in first:
            root = _goroot_src()
            candidate = root / path if root is not None else None
            return candidate if candidate is not None and candidate.is_dir() else None
        module = _module_of(directory)
        if module is None:
            return None
        module_root, module_path = module
        if path == module_path or path.startswith(module_path + "/"):
            candidate = module_root / path[len(module_path):].lstrip("/")
        else:
            candidate = module_root / "vendor" / path
        return candidate if candidate.is_dir() else None

    # -- the parameter's occurrences

    def param_read_only(self, gofile: GoFile, function: Node, position: int, kind: str) -> bool:
        key = (str(gofile.source.path), function.start_byte, position)
        if key in self._memo:
            return self._memo[key]
        if key in self._pending:
            return self._pending[key]  # in progress (recursion) or provisional: assume it reads (coinduction)
        if self._depth >= _MAX_DEPTH:
            return False
        self._pending[key] = True
        self._depth += 1
        try:
            verdict = self._param_read_only(gofile, function, position, kind)
        finally:
            self._depth -= 1
        self._pending[key] = verdict
        if self._depth == 0:
            # A True may rest on an assumption that a function still in progress reads; every such
            # function is an ancestor, so a True at the top means every assumption held. A False
            # never rests on an assumption.
            for done, result in self._pending.items():
                if verdict or not result:
                    self._memo[done] = result
            self._pending.clear()
        return verdict

    def _param_read_only(self, gofile: GoFile, function: Node, position: int, kind: str) -> bool:
        from driftcheck.languages.go.occurrences import classify, declares_local, shadowed

        params = _parameters(function)
        if position >= len(params):
            return False
        name, variadic = params[position]
        if variadic:
            return False  # the list becomes an element of the callee's slice
        if name is None or name == b"_":
            return True  # the callee cannot refer to it
        body = function.child_by_field_name("body")
        if body is None:
            return False  # implemented elsewhere (assembly, linkname)
        if gofile.misparsed is not None and gofile.misparsed[0] < function.end_byte \
                and function.start_byte < gofile.misparsed[1]:
            return False  # tree-sitter misparsed the function: its occurrences cannot be trusted
        data = gofile.source.data
        root = gofile.root
        bound = self.bound(gofile)
        pos = data.find(name, body.start_byte, body.end_byte)
        while pos != -1:
            end = pos + len(name)
            node = root.named_descendant_for_byte_range(pos, end)
            if node is not None and node.type == "identifier" and node.start_byte == pos and node.end_byte == end:
                if not declares_local(node) and not shadowed(node, name, stop=function):
                    if classify(node, kind, name.decode("utf-8"), bound, literal=False) is not None:
                        return False
            pos = data.find(name, end, body.end_byte)
        return True


class Bound:
    """`Calls` for occurrences in one file (imports are per file)."""

    __slots__ = ("calls", "gofile")

    def __init__(self, calls: Calls, gofile: GoFile) -> None:
        self.calls = calls
        self.gofile = gofile

    def reads(self, call: Node, position: int, kind: str) -> bool:
        targets = self.calls.callees(self.gofile, call)
        if targets == "reads":
            return True
        if not targets:
            return False
        return all(self.calls.param_read_only(f, fn, position, kind) for f, fn in targets)  # type: ignore[union-attr]


def _parameters(function: Node) -> list[tuple[bytes | None, bool]]:
    params = function.child_by_field_name("parameters")
    out: list[tuple[bytes | None, bool]] = []
    if params is None:
        return out
    for decl in params.named_children:
        if decl.type not in ("parameter_declaration", "variadic_parameter_declaration"):
            continue
        names = [n.text for n in decl.children_by_field_name("name")]
        variadic = decl.type == "variadic_parameter_declaration"
        if not names:
            out.append((None, variadic))
        out += [(n, variadic) for n in names]
    return out


def _import_path(gofile: GoFile, name: str, calls: Calls) -> str | None:
    """The import path `name` refers to in `gofile`, or None."""
    unnamed = []
    for top in gofile.root.named_children:
        if top.type != "import_declaration":
            continue
        specs = [s for c in top.named_children for s in ([c] if c.type == "import_spec" else c.named_children)
                 if s.type == "import_spec"]
        for spec in specs:
            path_node = spec.child_by_field_name("path")
            if path_node is None:
                continue
            path = path_node.text.decode("utf-8", "replace").strip('"`')
            alias = spec.child_by_field_name("name")
            if alias is not None:
                if alias.text.decode("utf-8") == name:
                    return path
            else:
                unnamed.append(path)
    for path in unnamed:
        directory = calls._resolve(gofile.source.path.parent, path)
        if directory is not None and _package_name(directory) == name:
            return path
    return None


_PACKAGE_CLAUSE = re.compile(rb"(?m)^package[ \t]+([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=256)
def _package_name(directory: Path) -> str | None:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".go") and not n.endswith("_test.go"))
    except OSError:
        return None
    for name in names:
        try:
            match = _PACKAGE_CLAUSE.search((directory / name).read_bytes()[:65536])
        except OSError:
            continue
        if match is not None and match.group(1) != b"main":
            return match.group(1).decode()
    return None


def _directory_package(directory: Path, files: SourceFiles, target: tuple[str, str] | None) -> Package | None:
    from driftcheck.languages.go.constraints import file_constraint

    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".go") and not n.endswith("_test.go")
                       and n[0] not in "_.")
    except OSError:
        return None
    for name in names:
        loaded = files.load(directory / name)
        if not isinstance(loaded, SourceFile):
            continue
        if file_constraint(name, loaded.data).status(target) is False:
            continue
        main = GoFile.of(loaded)
        if main.package is None or main.package.endswith("_test"):
            continue
        return Package(main, files, "", target)
    return None


def _declares_predeclared(package: Package) -> bool:
    """A package redeclaring a predeclared identifier cannot be analysed with the builtins' meaning."""
    cached = package.main.source.analysis("go-declares-predeclared", lambda: [None])
    if cached[0] is None:
        from driftcheck.languages.go.occurrences import PREDECLARED
        from driftcheck.languages.go.read import may_declare_predeclared

        cached[0] = any(PREDECLARED.intersection(f.decls) for f in package.members_declaring(may_declare_predeclared))
    return bool(cached[0])


@lru_cache(maxsize=1)
def _goroot_src() -> Path | None:
    go = shutil.which("go")
    if go is None:
        return None
    src = Path(os.path.realpath(go)).parent.parent / "src"
    return src if src.is_dir() else None


@lru_cache(maxsize=256)
def _module_of(directory: Path) -> tuple[Path, str] | None:
    """(module root, module path) from the nearest go.mod, or None."""
    for parent in (directory, *directory.parents):
        mod = parent / "go.mod"
        try:
            text = mod.read_text("utf-8", "replace")
        except OSError:
            continue
        match = re.search(r"(?m)^\s*module\s+\"?([^\s\"/][^\s\"]*)\"?", text)
        return (parent, match.group(1)) if match else None
    return None
