"""The Python backend: read one module-level list, accounting for every occurrence of its name.

What is read (docs/languages.md and docs/selectors.md): exactly one unconditional module-level
`NAME = value` / `NAME: T = value` (or `NAME, OTHER = value, other`), optionally followed
by unconditional module-level `NAME += ...` / `NAME |= ...`; the value is evaluated by
`values.Evaluator`; selector steps (`NAME.field`, `NAME."key"`, `NAME[]`) walk dict and
list displays. Every other spelling of the name that means the module's variable must be
a read known not to change it (`reads.why_unsafe`); dynamic access to the module's
variables by string (`dynamic`) and non-UTF-8 source encodings (`parse`) refuse.
"""

from __future__ import annotations

import ast
import unicodedata
from dataclasses import dataclass

from driftcheck import rules
from driftcheck.languages import selectors
from driftcheck.languages.base import Occurrence, Reading
from driftcheck.languages.python import comments, dynamic, reads
from driftcheck.languages.python.parse import Module, parse
from driftcheck.languages.python.scopes import Use, find
from driftcheck.languages.python.values import Coll, Evaluator, Pos, Str, Value
from driftcheck.model import Finding, Key, ListRef
from driftcheck.sources import SourceFile

_COMPOUND = {ast.If: "if", ast.Try: "try", ast.For: "for", ast.AsyncFor: "for", ast.While: "while",
             ast.With: "with", ast.AsyncWith: "with", ast.Match: "match"}
if hasattr(ast, "TryStar"):
    _COMPOUND[ast.TryStar] = "try"  # type: ignore[attr-defined]
_STORE_WHAT = {"alias": "an `import`", "def": "a `def`", "class": "a `class`", "except": "`except ... as`",
               "match": "a `case` pattern", "arg": "a parameter"}


@dataclass
class _Binding:
    kind: str  # define | unpack | augment | chained | conditional | other
    use: Use
    at: Pos
    statement: ast.stmt | None = None
    value: ast.expr | None = None
    where: str = ""


def read(ref: ListRef, source: SourceFile) -> Reading:
    parsed = parse(source)
    if isinstance(parsed, Finding):
        return Reading(path=source.display, problems=(parsed,))
    try:
        return _Reader(ref, parsed).run()
    except RecursionError:
        return Reading(path=source.display, problems=(rules.finding(
            "DC102", source.display, 1, 1, detail=f"{ref.symbol}: the module nests expressions too deeply to "
            "analyse; flatten them"),))


class _Reader:
    def __init__(self, ref: ListRef, module: Module) -> None:
        self.ref = ref
        self.module = module
        self.path = module.source.display
        self.problems: list[Finding] = []
        try:
            self.selector = _selector(ref.symbol)
        except selectors.SelectorError as exc:
            self.selector = None
            self.problems.append(rules.finding("DC106", self.path, 1, 1, detail=str(exc)))
        name = self.selector.name if self.selector else ref.symbol
        self.name = unicodedata.normalize("NFKC", name or "")  # Python binds the NFKC form of an identifier

    # -- helpers

    def pos(self, line: int, byte_col: int) -> Pos:
        return line, self.module.column(line, byte_col)

    def use_pos(self, use: Use) -> Pos:
        node = use.node
        if use.kind in ("def", "class"):
            # point at the name after `def`/`class`, not at the keyword
            text = self.module.lines[node.lineno - 1]  # type: ignore[attr-defined]
            start = self.module.column(node.lineno, node.col_offset) - 1  # type: ignore[attr-defined]
            word = "class" if use.kind == "class" else "def"
            found = text.find(word, start)
            if found != -1:
                rest = text[found + len(word):]
                return node.lineno, found + len(word) + len(rest) - len(rest.lstrip()) + 1  # type: ignore[attr-defined]
        return self.pos(*use.at)

    def fail(self, code: str, message: str, at: Pos) -> None:
        finding = rules.finding(code, self.path, at[0], at[1], detail=message)
        if finding not in self.problems:
            self.problems.append(finding)

    # -- bindings

    def classify(self, use: Use) -> _Binding:
        at = self.use_pos(use)
        path = use.path
        if not use.top_level():
            return _Binding("other", use, at, where=f"{use.scope.describe()} (declaring `global {use.name}`)")
        # the module-level statement holding the use, and whether it sits inside a block
        block = next((p for p, _ in path[1:] if type(p) in _COMPOUND), None)
        statement = next((p for p, _ in reversed(path) if isinstance(p, ast.stmt)), None)
        if use.kind == "name" and isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and \
                _target_of(statement, use.node):
            if block is not None:
                line = block.lineno
                return _Binding("conditional", use, at, where=f"the `{_COMPOUND[type(block)]}` block at line {line}")
            if isinstance(statement, ast.AugAssign):
                return _Binding("augment", use, at, statement)
            if isinstance(statement, ast.AnnAssign):
                return _Binding("define", use, at, statement, statement.value)
            if len(statement.targets) > 1:
                return _Binding("chained", use, at, statement)
            if statement.targets[0] is use.node:
                return _Binding("define", use, at, statement, statement.value)
            return _Binding("unpack", use, at, statement, _unpacked(statement, use.node))
        if block is not None and use.kind == "name" and isinstance(block, (ast.For, ast.AsyncFor)) and \
                any(p is block and f == "target" for p, f in path):
            return _Binding("other", use, at, where="a `for` loop")
        return _Binding("other", use, at, statement, where=_STORE_WHAT.get(use.kind, _store_what(use)))

    def bindings(self, name: str) -> tuple[list[_Binding], list[Use]]:
        """The global bindings of `name` (sorted) and every use of it."""
        uses = find(self.module, frozenset({name}))
        out = []
        for use in uses:
            if use.store and use.is_global:
                if isinstance(use.parent, ast.AnnAssign) and use.parent.value is None and use.field == "target":
                    continue  # `NAME: T` alone binds nothing at module level
                out.append(self.classify(use))
        out.sort(key=lambda b: b.at)
        return out, uses

    # -- the run

    def run(self) -> Reading:
        if self.selector is None:
            return Reading(path=self.path, problems=tuple(self.problems))
        name = self.name
        bindings, uses = self.bindings(name)
        defines = [b for b in bindings if b.kind in ("define", "unpack")]
        definition = defines[0] if defines else None
        if definition is None:
            return self.not_defined(bindings, uses)
        assert definition.statement is not None
        self.check_bindings(bindings, definition)
        ev = Evaluator(self.module, self.ref.symbol, self.constant, self.rebound)
        keys: tuple[Key, ...] | None = None
        kind = ""
        value_span = None
        deep = bool(self.selector.steps)
        if definition.value is None:
            self.fail("DC102", f"{name} is unpacked from a value driftcheck cannot pair up; write `{name}, OTHER = "
                      "[...], [...]` with displays of the same length, or a separate assignment", definition.at)
        else:
            value_span = self.module.span(definition.value)
            result = self.evaluate(ev, definition.value)
            for b in bindings:
                if b.kind == "augment" and b.at > definition.at and result is not None:
                    assert isinstance(b.statement, ast.AugAssign)
                    if deep:
                        self.fail("DC102", f"`{name} {_aug(b.statement)}` changes {name} after its definition; "
                                  "selectors read the definition alone — put every entry in it", b.at)
                        result = None
                    elif isinstance(b.statement.op, (ast.Add, ast.BitOr)):
                        result = ev.augment(result, b.statement)
            if result is not None:
                keys = tuple(result.keys)
                kind = result.kind
        self.problems.extend(ev.findings)
        occurrences = self.occurrences(uses, definition, kind, deep)
        line = definition.statement.lineno
        attached = tuple(comments.attached(self.module, line))
        seen = {(c.line, c.column) for c in attached}
        others = tuple(c for c in comments.pragma_comments(self.module) if (c.line, c.column) not in seen)
        if any(f.exit_code == 2 for f in self.problems):
            keys = None
        elif keys is not None:
            self.problems.extend(self.dropped_duplicates(ev.occurrences, keys))
        return Reading(path=self.path, definition=Key(name, *definition.at), keys=keys, value_span=value_span,
                       occurrences=tuple(occurrences), problems=tuple(self.problems),
                       attached_comments=attached, other_comments=others)

    def dropped_duplicates(self, written: list[Key], keys: tuple[Key, ...]) -> list[Finding]:
        """DC003 for repeated entries a set or dict display swallowed (the driver sees the rest in `keys`)."""
        kept = {(k.key, k.line, k.column) for k in keys}
        first: dict[str, Key] = {}
        out = []
        for k in written:
            seen = first.setdefault(k.key, k)
            if seen is not k and (k.key, k.line, k.column) not in kept:
                out.append(rules.finding("DC003", self.path, k.line, k.column, key=k.key, name=self.ref.symbol,
                                         first_line=seen.line, note=""))
        return out

    def evaluate(self, ev: Evaluator, node: ast.expr) -> Coll | None:
        """The value the selector reaches, as a collection of keys."""
        assert self.selector is not None
        reached: list[ast.expr] = [node]
        fanned = False
        for step in self.selector.steps:
            nxt: list[ast.expr] = []
            for expr in reached:
                got = self.step(ev, expr, step.field)
                if got is None:
                    return None
                nxt.extend(got)
            reached, fanned = nxt, fanned or step.field is None
        if not fanned:
            result = ev.eval(reached[0])
            if isinstance(result, Str):
                self.fail("DC102", f"{self.ref.symbol} is a string, not a list; driftcheck reads lists, tuples, sets "
                          "and dict keys (write `\"A B\".split()` or a list)", self.module.start(reached[0]))
                return None
            return result
        keys: list[Key] = []
        ok = True
        for expr in reached:
            value: Value | None = ev.eval(expr)
            if value is None:
                ok = False
            elif isinstance(value, Str):
                keys.append(ev.key(value.text, self.module.start(expr)))
            else:
                keys.extend(value.keys)
        return Coll("list", keys) if ok else None

    def step(self, ev: Evaluator, expr: ast.expr, field: str | None) -> list[ast.expr] | None:
        if field is None:
            if isinstance(expr, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in expr.elts):
                return list(expr.elts)
            ev.not_static(expr, f"`[]` steps into a list or tuple display; `{ev.snippet(expr)}`")
            return None
        if not isinstance(expr, ast.Dict) or any(k is None for k in expr.keys):
            ev.not_static(expr, f"`.{field}` steps into a dict display; `{ev.snippet(expr)}`")
            return None
        found: ast.expr | None = None
        for key, value in zip(expr.keys, expr.values):
            if isinstance(key, ast.Constant) and key.value == field:
                found = value  # the last one wins, as in Python
            elif not (isinstance(key, ast.Constant) and isinstance(key.value, (str, int, float, bytes, bool))
                      or key is None):
                ev.not_static(key, f"a computed dict key `{ev.snippet(key)}` (cannot tell which key `.{field}` is)")
                return None
        if found is None:
            ev.fail("DC102", f"the dict has no key {field!r} for `.{field}` in {self.ref.symbol}",
                    self.module.start(expr))
            return None
        return [found]

    def check_bindings(self, bindings: list[_Binding], definition: _Binding | None) -> None:
        name = self.name
        for b in bindings:
            if b is definition:
                continue
            if b.kind == "conditional":
                self.fail("DC103", f"{name} is bound inside {b.where}; driftcheck reads exactly one unconditional "
                          "module-level definition — move it out of the block", b.at)
            elif b.kind == "chained":
                self.fail("DC103", f"chained assignment binds {name} and another name to one object (a change "
                          f"through the other name would go unseen); assign {name} on its own", b.at)
            elif b.kind in ("define", "unpack") and definition is not None:
                self.fail("DC103", f"{name} is defined more than once at module level (lines {definition.at[0]} "
                          f"and {b.at[0]}); keep exactly one definition", b.at)
            elif b.kind == "augment":
                assert isinstance(b.statement, ast.AugAssign)
                if definition is None or b.at < definition.at:
                    self.fail("DC103", f"`{name}` is augmented at line {b.at[0]} before any module-level "
                              "definition", b.at)
        if definition is None:
            return
        for stmt in self.star_imports():
            if self.pos(stmt.lineno, stmt.col_offset) > definition.at:
                self.fail("DC103", f"`from ... import *` at line {stmt.lineno} may rebind {name} after its "
                          "definition; import names explicitly", self.pos(stmt.lineno, stmt.col_offset))

    def occurrences(self, uses: list[Use], definition: _Binding, kind: str, deep: bool) -> list[Occurrence]:
        name, path = self.name, self.path
        out: list[Occurrence] = []
        immutable = kind in ("tuple", "frozenset") and not deep
        for use in uses:
            if not use.is_global:
                continue
            at = self.use_pos(use)
            if use is definition.use:
                out.append(Occurrence(path, *at, "definition"))
                continue
            if use.store:
                b = self.classify(use)
                if isinstance(use.parent, ast.AnnAssign) and use.parent.value is None and use.field == "target":
                    if use.top_level():
                        out.append(Occurrence(path, *at, "read"))  # `NAME: T` alone binds nothing
                        continue
                if b.kind == "augment" and b.at > definition.at:
                    assert isinstance(b.statement, ast.AugAssign)
                    if isinstance(b.statement.op, (ast.Add, ast.BitOr)):
                        out.append(Occurrence(path, *at, "append"))
                    else:
                        out.append(Occurrence(path, *at, "unproven",
                                              f"`{name} {_aug(b.statement)}` changes it after its definition; put "
                                              "every key in the definition"))
                elif b.kind in ("define", "unpack", "chained", "conditional", "augment"):
                    out.append(Occurrence(path, *at, "read"))  # reported as DC103 by check_bindings
                else:
                    if isinstance(use.node, ast.Name) and isinstance(use.node.ctx, ast.Del):
                        why = f"`del {name}` removes it; keep the list defined"
                    else:
                        why = f"{b.where or 'this statement'} rebinds it; keep exactly one definition and never " \
                              "rebind it"
                    out.append(Occurrence(path, *at, "unproven", why))
                continue
            if use.kind == "global":
                if name in use.scope.binds:
                    continue  # the binding it allows is reported itself
                out.append(Occurrence(path, *at, "unproven", f"`global {name}` lets {use.scope.describe()} rebind "
                                      "it; drop the declaration (reading needs none)"))
                continue
            if use.kind == "nonlocal":  # pragma: no cover - Python rejects `nonlocal` of a module name
                continue
            if immutable or not kind:
                parent = use.parent
                if immutable and isinstance(parent, ast.Attribute) and use.field == "value" and \
                        parent.attr not in reads.SAFE_METHODS[kind] and not parent.attr.startswith("__"):
                    out.append(Occurrence(path, *at, "unproven", f"{kind} has no `.{parent.attr}` (Python raises "
                                          "AttributeError here, or the code is not what it seems); remove it"))
                else:
                    out.append(Occurrence(path, *at, "read"))
                continue
            why = reads.why_unsafe(use, kind, deep, self.trusted)
            out.append(Occurrence(path, *at, "read") if why is None else Occurrence(path, *at, "unproven", why))
        for access in dynamic.accesses(self.module):
            if access.concerns(name):
                out.append(Occurrence(path, *self.pos(access.line, access.col), "unproven", access.why))
        return out

    def not_defined(self, bindings: list[_Binding], uses: list[Use]) -> Reading:
        name = self.name
        if bindings:
            self.check_bindings(bindings, None)
            if not self.problems:
                b = bindings[0]
                if not b.use.top_level():
                    self.fail("DC103", f"{name} is only assigned inside {b.where}; define it once at module level",
                              b.at)
                else:
                    self.fail("DC103", f"{name} is bound by {b.where or 'a statement'} at line {b.at[0]}, not by a "
                              "plain module-level assignment; define it once at module level", b.at)
            return Reading(path=self.path, problems=tuple(self.problems))
        local = [u for u in uses if u.store and not u.is_global and u.kind == "name"
                 and isinstance(u.parent, (ast.Assign, ast.AnnAssign))]
        if local:
            use = local[0]
            at = self.use_pos(use)
            scope = use.scope
            while scope.kind == "comprehension" and scope.parent is not None:
                scope = scope.parent
            self.fail("DC103", f"{name} is only defined inside {scope.describe()} (line {at[0]}); driftcheck reads "
                      "one module-level definition — move it to module level", at)
            return Reading(path=self.path, problems=tuple(self.problems))
        annotated = [u for u in uses if u.store and u.is_global and isinstance(u.parent, ast.AnnAssign)]
        if annotated:
            at = self.use_pos(annotated[0])
            self.problems.append(rules.finding("DC100", self.path, *at, name=self.ref.symbol, path=self.path,
                                               hint=f": it is only annotated (`{name}: T`), never assigned a value"))
            return Reading(path=self.path, problems=tuple(self.problems))
        return Reading(path=self.path, problems=tuple(self.problems), defined_names=tuple(self.defined_names()))

    def defined_names(self) -> list[str]:
        names: list[str] = []
        for stmt in self.module.tree.body:
            targets: list[ast.AST] = []
            if isinstance(stmt, ast.Assign):
                targets = list(stmt.targets)
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
                targets = [stmt.target]
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(stmt.name)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                names.extend((a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*")
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        names.append(node.id)
        return names

    # -- what the evaluator asks

    def constant(self, name: str, use: Pos) -> ast.expr | str:
        """The value of a string constant proven unchanged, or why it is not one."""
        bindings, _uses = self.bindings(name)
        if not bindings:
            import builtins

            return "a builtin; only string constants defined earlier are read" if hasattr(builtins, name) else \
                "not defined at module level in this file; only string constants defined earlier are read"
        if len(bindings) > 1:
            return f"bound more than once, lines {', '.join(str(b.at[0]) for b in bindings)}"
        (b,) = bindings
        if b.kind == "conditional":
            return f"bound in {b.where}"
        if b.kind == "other" and isinstance(b.use.node, ast.alias):
            return f"bound in an import at line {b.at[0]}"
        if b.kind != "define" or b.value is None or b.statement is None:
            where = f" by {b.where}" if b.where else ""
            return f"bound{where} at line {b.at[0]}, not by one plain module-level assignment"
        end = self.module.end(b.statement)
        if end > use:
            return f"defined at line {b.at[0]}, after this use"
        for stmt in self.star_imports():
            at = self.pos(stmt.lineno, stmt.col_offset)
            if end <= at < use:
                return f"`from ... import *` at line {at[0]} may rebind it"
        for access in dynamic.accesses(self.module):
            if access.concerns(name):
                return f"{access.why} (line {access.line})"
        return b.value

    def rebound(self, builtin: str) -> str:
        """Where the module rebinds a builtin ("" when it never does)."""
        key = ("rebound", builtin)
        cached = self.module._cache.get(key)
        if cached is None:
            cached = ""
            bindings, _ = self.bindings(builtin)
            if bindings:
                cached = f"is rebound in this module at line {bindings[0].at[0]}"
            else:
                for stmt in self.star_imports():
                    cached = f"may be rebound by `from ... import *` at line {stmt.lineno}"
                    break
            self.module._cache[key] = cached
        return cached  # type: ignore[return-value]

    def star_imports(self) -> list[ast.ImportFrom]:
        """Every `from ... import *` of the module, also inside `if`/`try`/`with` blocks (cached per module)."""
        cached = self.module._cache.get("star-imports")
        if cached is None:
            cached = [node for stmt in self.module.statements_spelling(frozenset({"import"}))
                      for node in ast.walk(stmt)
                      if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)]
            self.module._cache["star-imports"] = cached
        return cached  # type: ignore[return-value]

    def trusted(self, builtin: str) -> bool:
        return builtin != "?" and not self.rebound(builtin)


def _target_of(statement: ast.Assign | ast.AnnAssign | ast.AugAssign, node: ast.AST) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    for target in targets:
        if target is node:
            return True
        if isinstance(target, (ast.Tuple, ast.List)) and any(e is node for e in target.elts):
            return True
    return False


def _unpacked(statement: ast.Assign, node: ast.AST) -> ast.expr | None:
    """For `A, B = x, y`: the expression bound to `node`, or None when not a plain pairing of displays."""
    target, value = statement.targets[0], statement.value
    if not isinstance(target, (ast.Tuple, ast.List)) or not isinstance(value, (ast.Tuple, ast.List)):
        return None
    if any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts]) or len(target.elts) != len(value.elts):
        return None
    return value.elts[[i for i, e in enumerate(target.elts) if e is node][0]]


def _aug(stmt: ast.AugAssign) -> str:
    return {ast.Add: "+=", ast.Sub: "-=", ast.BitOr: "|=", ast.BitAnd: "&=", ast.BitXor: "^=", ast.Mult: "*=",
            ast.Mod: "%=", ast.FloorDiv: "//=", ast.Div: "/=", ast.Pow: "**=", ast.LShift: "<<=",
            ast.RShift: ">>=", ast.MatMult: "@="}.get(type(stmt.op), "op=")


def _store_what(use: Use) -> str:
    for parent, field in reversed(use.path):
        if isinstance(parent, (ast.With, ast.AsyncWith, ast.withitem)):
            return "`with ... as`"
        if isinstance(parent, (ast.For, ast.AsyncFor)) and field == "target":
            return "a `for` loop"
        if isinstance(parent, ast.comprehension) and field == "target":
            return "a comprehension target"
        if isinstance(parent, ast.NamedExpr):
            return "`:=`"
        if isinstance(parent, ast.Delete):
            return "`del`"
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            return "an assignment"
        if isinstance(parent, ast.stmt):
            break
    return "this statement"


def _selector(text: str) -> selectors.Selector:
    """`NAME` then steps, where NAME is any Python identifier (`ключи`, `ＬIST`), not only an ASCII one."""
    name = text.split(".", 1)[0].split("[", 1)[0]
    if not name.isidentifier():
        raise selectors.SelectorError(f"{text!r} must start with a Python identifier")
    return selectors.Selector(name, selectors.parse_selector("x" + text[len(name):]).steps)
