"""Where a name is spelled, and which variable each spelling means (Python's scoping rules).

Only the statements whose lines may spell one of the names are walked (at any depth;
`Module.lines_spelling`): a name cannot be used or bound without writing its letters,
so a statement without them neither uses it nor makes it local anywhere.

Every spelling is found, not only `ast.Name`: parameters, `import ... as`, `def`/`class`
names, `except ... as`, match captures, `global`/`nonlocal`. Each is resolved as CPython's
compiler does: a function (or lambda, or comprehension) that binds a name — anywhere in
its body — has its own variable unless it declares `global`; `nonlocal` means an
enclosing function's variable; class bodies are skipped by the functions inside them; a
class body reads the module's variable until the class binds its own; a walrus in a
comprehension binds in the enclosing function; the first iterable of a comprehension is
evaluated outside it.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from driftcheck.languages.python.parse import Module

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(eq=False)
class Scope:
    kind: str  # module | function | class | comprehension
    node: ast.AST | None
    parent: Scope | None
    binds: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    # class bodies: where each direct, unconditional statement binding a name ends
    direct: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def describe(self) -> str:
        node = self.node
        if isinstance(node, _FUNCTIONS):
            return f"function `{node.name}`"
        if isinstance(node, ast.ClassDef):
            return f"class `{node.name}`"
        if isinstance(node, ast.Lambda):
            return "a lambda"
        return "a comprehension" if self.kind == "comprehension" else "the module"


@dataclass(eq=False)
class Use:
    """One spelling of a name of interest."""

    name: str
    kind: str  # name | arg | alias | def | class | except | match | global | nonlocal | attr
    node: ast.AST  # the node carrying the spelling
    path: tuple[tuple[ast.AST, str], ...]  # (ancestor, field) from the top-level statement down to the parent
    scope: Scope
    store: bool  # binds (or deletes) the name
    at: tuple[int, int] = (0, 0)  # 1-based line, byte column (converted by the caller)
    is_global: bool = False  # means the module-level variable (resolved after the walk)

    @property
    def parent(self) -> ast.AST | None:
        return self.path[-1][0] if self.path else None

    @property
    def field(self) -> str:
        return self.path[-1][1] if self.path else ""

    def top_level(self) -> bool:
        """In the module's own body, not inside a function, class, lambda or comprehension."""
        return self.scope.kind == "module"


class _Walker:
    def __init__(self, names: frozenset[str], attrs: frozenset[str], lines: list[int]) -> None:
        self.names = names
        self.attrs = attrs
        self.lines = lines  # sorted lines that may spell a name: a statement without one is skipped
        self.uses: list[Use] = []
        self.path: list[tuple[ast.AST, str]] = []

    def spells(self, node: ast.stmt | ast.excepthandler) -> bool:
        """May the statement spell a name of interest? Only such statements can use or bind one."""
        first = node.lineno
        for decorator in getattr(node, "decorator_list", ()):
            first = min(first, decorator.lineno)
        i = bisect.bisect_left(self.lines, first)
        return i < len(self.lines) and self.lines[i] <= (node.end_lineno or node.lineno)

    def use(self, name: str, kind: str, node: ast.AST, scope: Scope, store: bool, at: tuple[int, int]) -> None:
        if name in self.names:
            self.uses.append(Use(name, kind, node, tuple(self.path), scope, store, at))

    def bind(self, name: str, kind: str, node: ast.AST, scope: Scope, at: tuple[int, int]) -> None:
        scope.binds.add(name)
        self.use(name, kind, node, scope, True, at)

    def children(self, node: ast.AST, scope: Scope, skip: tuple[str, ...] = ()) -> None:
        for name, value in ast.iter_fields(node):
            if name in skip:
                continue
            self.path.append((node, name))
            if isinstance(value, ast.AST):
                self.visit(value, scope)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item, scope)
            self.path.pop()

    def field(self, node: ast.AST, name: str, scope: Scope) -> None:
        value = getattr(node, name, None)
        self.path.append((node, name))
        if isinstance(value, ast.AST):
            self.visit(value, scope)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    self.visit(item, scope)
        self.path.pop()

    def visit(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, (ast.stmt, ast.excepthandler)) and not self.spells(node):
            return
        if isinstance(node, ast.Name):
            at = (node.lineno, node.col_offset)
            if isinstance(node.ctx, ast.Load):
                self.use(node.id, "name", node, scope, False, at)
            else:
                if isinstance(node.ctx, ast.Del):
                    scope.deleted.add(node.id)
                self.bind(node.id, "name", node, scope, at)
            return
        if isinstance(node, ast.Attribute):
            if node.attr in self.attrs:
                self.uses.append(Use(node.attr, "attr", node, tuple(self.path), scope, False,
                                     (node.end_lineno or node.lineno, node.end_col_offset or 0)))
            self.field(node, "value", scope)
            return
        if isinstance(node, _FUNCTIONS) or isinstance(node, ast.Lambda):
            self.function(node, scope)
            return
        if isinstance(node, ast.ClassDef):
            for name in ("decorator_list", "bases", "keywords"):
                self.field(node, name, scope)
            self.bind(node.name, "class", node, scope, (node.lineno, node.col_offset))
            inner = Scope("class", node, scope)
            self.body(node, inner)
            return
        if isinstance(node, _COMPREHENSIONS):
            self.comprehension(node, scope)
            return
        if isinstance(node, ast.NamedExpr):
            target_scope = scope
            while target_scope.kind == "comprehension" and target_scope.parent is not None:
                target_scope = target_scope.parent
            self.field(node, "target", target_scope)
            self.field(node, "value", scope)
            return
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            for name in node.names:
                (scope.globals if kind == "global" else scope.nonlocals).add(name)
                self.use(name, kind, node, scope, False, (node.lineno, node.col_offset))
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    continue
                bound = alias.asname or (alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name)
                self.path.append((node, "names"))
                self.bind(bound, "alias", alias, scope, (getattr(alias, "lineno", node.lineno),
                                                         getattr(alias, "col_offset", node.col_offset)))
                self.path.pop()
            return
        if isinstance(node, ast.ExceptHandler):
            self.field(node, "type", scope)
            if node.name:
                scope.deleted.add(node.name)  # Python deletes it at the end of the handler
                self.bind(node.name, "except", node, scope, (node.lineno, node.col_offset))
            self.field(node, "body", scope)
            return
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self.bind(node.name, "match", node, scope, (node.lineno, node.col_offset))
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self.bind(node.rest, "match", node, scope, (node.lineno, node.col_offset))
        self.children(node, scope)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope) -> None:
        args = node.args
        # evaluated where the function is defined
        if not isinstance(node, ast.Lambda):
            self.field(node, "decorator_list", scope)
        self.path.append((node, "args"))
        self.field(args, "defaults", scope)
        self.field(args, "kw_defaults", scope)
        if not isinstance(node, ast.Lambda):
            for arg in self._args(args):
                self.field(arg, "annotation", scope)
        self.path.pop()
        if not isinstance(node, ast.Lambda):
            self.field(node, "returns", scope)
            self.bind(node.name, "def", node, scope, (node.lineno, node.col_offset))
        inner = Scope("function", node, scope)
        self.path.append((node, "args"))
        for arg in self._args(args):
            self.bind(arg.arg, "arg", arg, inner, (arg.lineno, arg.col_offset))
        self.path.pop()
        if isinstance(node, ast.Lambda):
            self.field(node, "body", inner)
        else:
            self.body(node, inner)

    @staticmethod
    def _args(args: ast.arguments) -> Iterator[ast.arg]:
        yield from args.posonlyargs
        yield from args.args
        if args.vararg:
            yield args.vararg
        yield from args.kwonlyargs
        if args.kwarg:
            yield args.kwarg

    def body(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, inner: Scope) -> None:
        self.path.append((node, "body"))
        for stmt in node.body:
            self.visit(stmt, inner)
            if inner.kind == "class":
                for name in _direct_bindings(stmt):
                    inner.direct.setdefault(name, []).append((stmt.end_lineno or stmt.lineno,
                                                              stmt.end_col_offset or 0))
        self.path.pop()

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                      scope: Scope) -> None:
        inner = Scope("comprehension", node, scope)
        self.path.append((node, "generators"))
        for i, gen in enumerate(node.generators):
            self.path.append((gen, "iter"))
            self.visit(gen.iter, scope if i == 0 else inner)  # the first iterable is evaluated outside
            self.path.pop()
            self.field(gen, "target", inner)
            self.field(gen, "ifs", inner)
        self.path.pop()
        for name in ("elt", "key", "value"):
            if hasattr(node, name):
                self.field(node, name, inner)


def _direct_bindings(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    if isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in stmt.names if a.name != "*"]
    return []


def resolve(use: Use) -> bool:
    """Does this spelling mean the module-level variable?"""
    name, scope, innermost = use.name, use.scope, True
    while scope is not None and scope.kind != "module":
        if name in scope.globals:
            return True
        if scope.kind == "class":
            if innermost:
                if name in scope.nonlocals:
                    return False
                if use.store:
                    return False  # a class attribute
                if name not in scope.deleted and any(end <= use.at for end in scope.direct.get(name, ())):
                    return False  # the class's own binding, made before this read
        elif name in scope.nonlocals or name in scope.binds:
            return False
        innermost = False
        scope = scope.parent
    return True


def find(module: Module, names: frozenset[str], attrs: frozenset[str] = frozenset()) -> list[Use]:
    """Every spelling of `names` (and attribute accesses named `attrs`), resolved; cached per module."""
    key = ("uses", names, attrs)
    cached = module._cache.get(key)
    if cached is None:
        walker = _Walker(names, attrs, sorted(module.lines_spelling(names | attrs)))
        top = Scope("module", module.tree, None)
        for stmt in module.statements_spelling(names | attrs):
            walker.path = [(module.tree, "body")]
            walker.visit(stmt, top)
        for use in walker.uses:
            use.is_global = resolve(use)
        module._cache[key] = cached = walker.uses
    return cached  # type: ignore[return-value]
