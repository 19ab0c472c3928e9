"""The allowlist: reads of a list that provably leave it unchanged (docs/languages.md).

An immutable value (a tuple or frozenset of strings) cannot change, so any read of it is
harmless. A mutable one (list, set, dict) is safe only where the object never reaches
code that could change it: membership tests, iteration, `len()` and the other trusted
builtins that only iterate, subscripts as values, truth tests, formatting, and the
methods of list/set/dict that do not mutate. Everything else — a method looked up
without being called, an argument to an arbitrary function, an alias, a `return` — is
"cannot prove", with a short reason and how to rewrite.
"""

from __future__ import annotations

import ast
from typing import Callable

from driftcheck.languages.python.scopes import Use

# Builtins that only iterate or measure their positional arguments and never keep them.
ITERATING_BUILTINS = frozenset({"len", "sorted", "set", "frozenset", "list", "tuple", "any", "all", "min", "max",
                                "enumerate", "zip", "reversed", "sum", "print", "repr", "str", "bool", "dict",
                                "type", "id", "map", "filter", "iter"})
# These return an iterator whose `__reduce__` hands out the object: safe only when a loop consumes it.
_LAZY = frozenset({"enumerate", "zip", "reversed", "map", "filter", "iter"})
_NOT_CALLABLE_FIRST = frozenset({"map", "filter"})  # their first argument is called
# Methods of the built-in types that do not change the object (the value's type is known).
SAFE_METHODS = {
    "list": frozenset({"copy", "count", "index"}),
    "tuple": frozenset({"count", "index"}),
    "set": frozenset({"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
                      "symmetric_difference", "union"}),
    "dict": frozenset({"copy", "get", "items", "keys", "values"}),
}
SAFE_METHODS["frozenset"] = SAFE_METHODS["set"]
_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant, ast.JoinedStr, ast.ListComp, ast.SetComp,
             ast.DictComp)
_TESTS = (ast.If, ast.While, ast.Assert, ast.IfExp)


def _truth_context(path: tuple[tuple[ast.AST, str], ...], depth: int) -> bool:
    """Is the expression at path[:depth] only tested for truth?"""
    parent, field = path[depth - 1]
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return True
    if isinstance(parent, _TESTS) and field == "test":
        return True
    if isinstance(parent, ast.comprehension) and field == "ifs":
        return True
    if isinstance(parent, ast.BoolOp) and depth > 1:
        return _truth_context(path, depth - 1)  # `a and b` yields an operand: safe only if tested
    return False


def _builtin_types(node: ast.expr) -> list[str]:
    """The builtin class names `node` spells (`list`, `(list, tuple)`); ["?"] for anything else."""
    names = node.elts if isinstance(node, ast.Tuple) else [node]
    out = [n.id if isinstance(n, ast.Name) and n.id in _TYPES else "?" for n in names]
    return out or ["?"]


_TYPES = frozenset({"list", "tuple", "set", "frozenset", "dict", "str", "bytes", "int", "float", "bool", "object"})


def _bound_locally(name: str, use: Use) -> bool:
    """Is `name` a variable of a function or class around the use (then not the builtin)?

    The walk that found the use skipped statements not spelling the list's name, so the
    scopes' own records are incomplete for other names: look at the scope's whole node.
    """
    scope = use.scope
    while scope is not None and scope.kind != "module":
        if name in scope.globals or name in scope.nonlocals or _binds(scope.node, name):
            return True
        scope = scope.parent
    return False


def _binds(node: ast.AST | None, name: str) -> bool:
    """Does anything inside `node` bind `name` (over-approximate: nested scopes count too)?"""
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Name) and sub.id == name and not isinstance(sub.ctx, ast.Load):
            return True
        if isinstance(sub, ast.arg) and sub.arg == name:
            return True
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub.name == name:
            return True
        if isinstance(sub, ast.alias) and (sub.asname or sub.name.split(".")[0]) == name:
            return True
        if isinstance(sub, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and sub.name == name:
            return True
        if isinstance(sub, ast.MatchMapping) and sub.rest == name:
            return True
        if isinstance(sub, (ast.Global, ast.Nonlocal)) and name in sub.names:
            return True
    return False


def _consumed(path: tuple[tuple[ast.AST, str], ...]) -> bool:
    """Is the call holding the use (path[-1]) iterated by a loop right away?"""
    if len(path) < 2:
        return False
    holder, field = path[-2]
    return isinstance(holder, (ast.For, ast.AsyncFor, ast.comprehension)) and field == "iter"


def why_unsafe(use: Use, kind: str, deep: bool, trusted: Callable[[str], bool]) -> str | None:  # noqa: C901
    """None when this load is a known-harmless read of a `kind` value; else what it is and how to rewrite.

    `deep`: the keys live in nested containers (a selector with steps), so even handing
    out an element could change them; only reads that hand out nothing are allowed.
    """
    node, path = use.node, use.path
    parent, field = path[-1]
    name = use.name
    if isinstance(parent, ast.Expr) or _truth_context(path, len(path)):
        return None
    if isinstance(parent, ast.Compare):
        if field == "comparators":
            index = next(i for i, c in enumerate(parent.comparators) if c is node)
            op = parent.ops[index]
            if isinstance(op, (ast.Is, ast.IsNot)):
                return None
            if isinstance(op, (ast.In, ast.NotIn)) and (not deep or isinstance(parent.left, ast.Constant)):
                return None
        elif isinstance(parent.ops[0], (ast.Is, ast.IsNot)):
            return None
        return f"a comparison hands {name} to the other operand; compare with `in`, or compare a copy"
    if isinstance(parent, ast.FormattedValue) and field == "value":
        return None
    if isinstance(parent, ast.Call) and field == "args" and isinstance(parent.func, ast.Name):
        func = parent.func.id
        if func == "isinstance" and len(parent.args) == 2 and parent.args[0] is node and \
                all(trusted(t) and not _bound_locally(t, use) for t in _builtin_types(parent.args[1])) and \
                trusted(func) and not _bound_locally(func, use):
            return None  # builtin classes have no custom __instancecheck__
        if func in ITERATING_BUILTINS and trusted(func) and not _bound_locally(func, use) and \
                not (func in _NOT_CALLABLE_FIRST and parent.args[0] is node) and \
                (func not in _LAZY or _consumed(path)) and \
                (not deep or func in ("len", "print", "repr", "str", "bool", "type", "id")):
            return None
        if deep:
            return f"`{func}()` receives {name}; read it only with `len`, `in` or formatting"
        if func not in ITERATING_BUILTINS:
            return f"`{func}()` receives {name} itself and may change it; pass a copy (`{func}(list({name}), ...)`) " \
                   "or make it a tuple/frozenset"
        if not trusted(func) or _bound_locally(func, use):
            return f"`{func}` is rebound in this module, so `{func}({name})` may change it"
        return f"`{func}({name})` makes an iterator that can hand out {name}; loop over it directly"
    if deep:
        return f"this use hands out part of {name}, which could then be changed; read it only with `len`, `in` " \
               "or formatting"
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and field == "iter":
        return None
    if isinstance(parent, ast.Subscript) and field == "value" and isinstance(parent.ctx, ast.Load):
        return None
    if isinstance(parent, ast.Starred) and isinstance(parent.ctx, ast.Load) and len(path) > 1 and \
            isinstance(path[-2][0], (ast.Call, ast.List, ast.Tuple, ast.Set)):
        return None  # `f(*NAME)`, `[*NAME]`: only the elements are handed out
    if isinstance(parent, ast.keyword) and parent.arg is None:
        return None  # `f(**NAME)` copies the mapping
    if isinstance(parent, ast.Dict) and field == "values" and \
            any(k is None and v is node for k, v in zip(parent.keys, parent.values)):
        return None  # `{**NAME}`
    if isinstance(parent, ast.Call) and field == "args" and isinstance(parent.func, ast.Attribute) and \
            parent.func.attr == "join" and isinstance(parent.func.value, ast.Constant) and \
            isinstance(parent.func.value.value, str):
        return None  # `", ".join(NAME)`
    if isinstance(parent, ast.Attribute) and field == "value":
        attr = parent.attr
        grand = path[-2][0] if len(path) > 1 else None
        if attr in SAFE_METHODS.get(kind, ()) and isinstance(grand, ast.Call) and grand.func is parent:
            return None
        if isinstance(grand, ast.Call) and grand.func is parent:
            return f"`{name}.{attr}(...)` may change it; put every key in the definition"
        return f"`{name}.{attr}` hands out {name} (a bound method or attribute); call a non-mutating method " \
               "directly or use a copy"
    if isinstance(parent, ast.BinOp):
        other = parent.right if field == "left" else parent.left
        if isinstance(other, _DISPLAYS) or (isinstance(parent.op, ast.Mod) and field == "right"
                                            and isinstance(parent.left, ast.Constant)):
            return None
        return f"`{_op(parent.op)}` hands {name} to the other operand; combine it with a literal or a copy"
    if isinstance(parent, ast.Call):
        return f"the call receives {name} itself and may change it; pass a copy (`list({name})`, `tuple({name})`)"
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.AugAssign)):
        return f"this makes a second name for the same object, which could change it; assign a copy " \
               f"(`list({name})`) or make {name} a tuple/frozenset"
    if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda)):
        return f"this hands {name} to the caller, which could change it; return a copy or make {name} a " \
               "tuple/frozenset"
    if isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return f"{name} is stored inside another container, which makes a second way to reach it; store a copy"
    return f"driftcheck cannot tell what this use does with {name}; read it with `in`, iteration or `len`, or " \
           "make it a tuple/frozenset"


def _op(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Mult: "*",
            ast.Mod: "%"}.get(type(op), type(op).__name__)
