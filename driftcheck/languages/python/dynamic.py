"""Ways Python can reach a module's variables by a string rather than by name.

`globals()`, `vars()`, `locals()` at module level, `__dict__`, `sys.modules`, frames'
`f_globals`, functions' `__globals__`, `getattr` with a computed name (it reaches
`__globals__` from any function), `exec`/`eval`/`compile` of computed code, `__import__`/`importlib.import_module`
and an `import` of the module itself all let code change a list without spelling its
name. Any of them anywhere in the module refuses every list of the module; literal
arguments are read instead: `getattr(obj, "keys")` is harmless unless the literal is the
list's name, and the literal code given to `exec`/`eval`/`compile` is harmless unless it
spells the list's name or one of these features.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from driftcheck.languages.python.scopes import Use, find

if TYPE_CHECKING:
    from driftcheck.languages.python.parse import Module

_NAMESPACE_CALLS = frozenset({"globals", "vars", "locals", "__builtins__", "builtins"})
_CODE_CALLS = frozenset({"exec", "eval", "compile"})
_ATTR_CALLS = frozenset({"getattr", "setattr", "delattr"})
_IMPORT_CALLS = frozenset({"__import__", "import_module"})
NAMES = _NAMESPACE_CALLS | _CODE_CALLS | _ATTR_CALLS | _IMPORT_CALLS | {"modules", "__main__"}
# Attributes that hand out a namespace (or every object) to code that indexes it by string.
# (`obj.__dict__` and `vars(obj)` are this module's namespace only when obj is the module object, which code
# reaches only through what is refused here: sys.modules, an import of itself, frames, `__globals__`.)
_NAMESPACE_ATTRS = frozenset({"__globals__", "f_globals", "f_locals", "f_builtins", "__builtins__", "get_objects",
                              "get_referrers", "__getattribute__"})
ATTRS = _NAMESPACE_ATTRS | {"modules", "import_module", "__import__"}
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Access:
    """A dynamic access: refuses every list of the module, or only one spelled in `literal`."""

    line: int
    col: int  # byte offset (the caller converts)
    why: str
    literal: str | None = None  # the literal attribute name or code; None: refuses every list

    def concerns(self, symbol: str) -> bool:
        if self.literal is None:
            return True
        return symbol in _WORDS.findall(unicodedata.normalize("NFKC", self.literal))


def module_names(module: Module) -> frozenset[str]:
    """Names under which this file can import itself or a package holding it (its path's components)."""
    return frozenset(n for n in _own_parts(module) if n.isidentifier())


def _own_parts(module: Module) -> tuple[str, ...]:
    """The file as a dotted module path from its display path (`pkg/__init__.py` is `pkg`)."""
    path = PurePath(module.source.display)
    parts = (*path.parent.parts, path.stem) if path.stem != "__init__" else path.parent.parts
    return tuple(p for p in parts if p not in ("", ".", "..", "/"))


def accesses(module: Module) -> list[Access]:
    """Every dynamic access in the module (cached per module)."""
    cached = module._cache.get("dynamic")
    if cached is None:
        cached = module._cache["dynamic"] = _scan(module)
    return cached  # type: ignore[return-value]


def _scan(module: Module) -> list[Access]:
    own = module_names(module)
    parts = _own_parts(module)
    out: list[Access] = []
    uses = find(module, NAMES, ATTRS)
    user_bound = _module_bound(module, NAMES)
    for use in uses:
        access = _classify(use, user_bound, own)
        if access is not None:
            out.append(access)
    for stmt in module.statements_spelling(own):
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and _imports_itself(node, parts, module):
                out.append(Access(node.lineno, node.col_offset, "this `import` may load the module itself, whose "
                                  "variables it could then change; import what you need from elsewhere"))
    return out


def _module_bound(module: Module, names: frozenset[str]) -> set[str]:
    """Names bound by a statement directly in the module's body (then not the builtin of that name)."""
    bound: set[str] = set()
    for stmt in module.tree.body:
        targets: list[ast.AST] = []
        if isinstance(stmt, ast.Assign):
            targets = list(stmt.targets)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                bound.add(target.id)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name in names:
            bound.add(stmt.name)
        if isinstance(stmt, ast.ImportFrom) and stmt.module != "builtins":
            bound.update(a.asname or a.name for a in stmt.names if (a.asname or a.name) in names)
    return bound


def _imports_itself(node: ast.Import | ast.ImportFrom, own: tuple[str, ...], module: Module) -> bool:
    """Could this import bind this module, or a package that holds it (whose attributes then reach it)?

    A module is one object per dotted name. The name is the path below the import root, which
    lies somewhere above the topmost regular package (`__init__.py`) holding the file; an absolute
    import reaches this module when what it binds is a leading part of one of those names
    (`import pkg`, `import pkg.mod`, `from pkg import mod`) — `import subprocess` inside
    `asyncio/subprocess.py` is another module.
    """
    is_package = PurePath(module.source.display).stem == "__init__"
    bound: list[tuple[str, ...]] = []
    if isinstance(node, ast.Import):
        bound.extend(tuple(alias.name.split(".")) for alias in node.names)
    elif node.level == 0:
        base = tuple((node.module or "").split("."))
        bound.extend((*base, a.name) for a in node.names if a.name != "*")
    else:
        package = own if is_package else own[:-1]
        anchor = package[:len(package) - (node.level - 1)] if node.level - 1 <= len(package) else ()
        base = (*anchor, *(node.module.split(".") if node.module else ()))
        if any(a.name == "*" for a in node.names) and own[:len(base)] == base:
            return True
        return any(own[:len(base) + 1] == (*base, a.name) for a in node.names)
    names = _dotted_names(own, module)
    return any(name[:len(path)] == path[:len(name)] and path[0] == name[0] for path in bound for name in names)


def _dotted_names(own: tuple[str, ...], module: Module) -> list[tuple[str, ...]]:
    """The dotted names this file may be imported under: the suffixes of its path that start at or above
    its topmost regular package (a directory without `__init__.py` above it may be a namespace package)."""
    depth = 0  # how many directories above the file belong to regular packages
    directory = module.source.path.parent
    is_package = module.source.path.stem == "__init__"
    if is_package:
        directory = directory.parent
    while (directory / "__init__.py").exists() and depth < len(own) - 1:
        depth += 1
        directory = directory.parent
    return [own[i:] for i in range(0, max(len(own) - 1 - depth, 0) + 1) if own[i:]]


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value.decode("utf-8", errors="replace")
    return None


def _classify(use: Use, user_bound: set[str], own: frozenset[str]) -> Access | None:
    node, parent = use.node, use.parent
    line, col = use.at if use.kind != "attr" else (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    if use.kind == "attr":
        if use.name in _NAMESPACE_ATTRS:
            return Access(line, col, f"`.{use.name}` hands out a namespace that code can change by string; "
                          "drop it from this module")
        if use.name == "modules":
            return Access(line, col, "`sys.modules` can reach this module and change its variables by string; "
                          "drop it from this module")
        call = parent if isinstance(parent, ast.Call) and parent.func is node else None
        return _import_call(call, line, col, use.name, own)
    if use.kind == "alias":
        imported = use.parent
        source = getattr(imported, "module", None) or ""
        if use.name in ("builtins", "__builtins__", "__main__") or \
                getattr(node, "name", "") in ("builtins", "__main__") or source in ("builtins",) or \
                (use.name == "modules" and source == "sys"):
            return Access(line, col, f"importing `{getattr(node, 'name', use.name)}` gives code a namespace it "
                          "can change by string; drop the import")
        return None
    if use.kind != "name" or use.store or not use.is_global or use.name in user_bound:
        return None  # a local variable, or the module's own function of that name
    name = use.name
    call = parent if isinstance(parent, ast.Call) and parent.func is node else None
    if name in ("modules", "__main__"):
        return None  # a plain variable of that name; the imports are judged above
    if name in _NAMESPACE_CALLS:
        if name in ("locals", "vars") and use.scope.kind != "module" and call is not None:
            return None  # a function's or class's own namespace: writing to it never reaches the module's
        if name == "vars" and call is not None and (call.args or call.keywords):
            return None  # `vars(obj)` is obj.__dict__: this module's only when obj is the module, see below
        return Access(line, col, f"`{name}` lets code change module variables by string; drop it from this module")
    if call is None:
        return Access(line, col, f"`{name}` is used as a value (it could be called anywhere); call it directly")
    first = call.args[0] if call.args else None
    if name in _CODE_CALLS:
        code = _literal(first)
        if code is None:
            return Access(line, col, f"`{name}()` runs code built at run time, which may change any variable; "
                          "remove it or pass a string literal")
        if _binds(code):
            return Access(line, col, f"the code `{name}()` runs binds module variables; remove it")
        if any(w in NAMES or w in ATTRS for w in _WORDS.findall(unicodedata.normalize("NFKC", code))):
            return Access(line, col, f"the code `{name}()` runs reaches variables by string; remove it")
        return Access(line, col, f"`{name}()` runs code that spells this name", literal=code)
    if name in _ATTR_CALLS:
        attr = _literal(call.args[1]) if len(call.args) > 1 else None
        if attr is None and name != "getattr":
            # Setting an attribute changes a module variable only on the module object itself, which code
            # reaches only through the spellings refused here (sys.modules, __import__, frames, globals()).
            return None
        if attr is None:
            return Access(line, col, f"`{name}()` with a computed attribute name may reach this module's variables; "
                          "use a literal name")
        if attr in ATTRS:
            return Access(line, col, f"`{name}(..., {attr!r})` hands out a namespace that code can change by string")
        return Access(line, col, f"`{name}(..., {attr!r})` reaches this name by string", literal=attr)
    return _import_call(call, line, col, name, own)


def _import_call(call: ast.Call | None, line: int, col: int, name: str, own: frozenset[str]) -> Access | None:
    if name not in _IMPORT_CALLS:
        return None
    if call is None:
        return Access(line, col, f"`{name}` is used as a value (it could import this module); call it directly")
    target = _literal(call.args[0]) if call.args else None
    if target is None:
        return Access(line, col, f"`{name}()` of a computed module name may load this module and change its "
                      "variables; use a literal name")
    if any(part in own or part in ("__main__", "builtins") for part in target.split(".")):
        return Access(line, col, f"`{name}({target!r})` may load this module and change its variables by string")
    return None


def _binds(code: str) -> bool:
    """Could literal code bind a module variable when run (or does it not even parse)?"""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # refuse what we cannot read
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
                             ast.Global, ast.Nonlocal, ast.ExceptHandler, ast.MatchAs, ast.MatchStar,
                             ast.MatchMapping)):
            return True
    return False
