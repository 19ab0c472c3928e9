"""Python extractor: a module-level list/tuple/set/dict constant, read with libcst.

This is the only module that imports libcst; the driver imports it
lazily, so Go/bash contracts never pay for libcst.

What is read (DESIGN.md section 5): exactly one unconditional module-level
`NAME = value` / `NAME: T = value` (or `NAME, OTHER = value, other`), optionally
followed by unconditional module-level `NAME += ...` / `NAME |= ...`. Values are
evaluated with Python's own semantics, but only for these forms: list, tuple, set
and dict displays (dict: its keys), `list()/tuple()/set()/frozenset()` of static
values (when the builtin is not rebound in the module), `str.split()` /
`str.split(sep)`, implicit string concatenation, `+` (str, list, tuple), `|`
(set, frozenset, dict) and names of string constants defined once, earlier, at
module level. Everything else is a DC102 finding at the element; a conditional
or repeated definition is DC103; a mutation anywhere in the module is DC104.

Decisions worth knowing:
- `A = B = [...]` is DC103: both names share one object, and a mutation through
  `B` would go unseen.
- Set and dict results hold each key once, in order of first occurrence (the
  runtime iteration order of a set depends on string hashing); list and tuple
  results keep every occurrence. A key written twice is DC003 in every case.
- An empty key (e.g. from `"A,,B".split(",")`) is DC102; a string (rather than a
  list) as the value is DC102 (`.split()` it explicitly).
- `list("ABC")`, `set("ABC")` and `list_value += "ABC"` iterate characters:
  DC102, as that is never a key list.
- A function that binds NAME locally (a parameter, an assignment without
  `global NAME`) works on its own variable and is ignored; `global NAME` plus a
  binding in a function is DC104; a definition only inside a function/class
  (none at module level) is DC103.
- Aliasing (`OTHER = NAME; OTHER.append(...)`), `globals()` and other modules
  mutating the list are not tracked.
- Positions: a key is located at the start of its element (inside any
  parentheses); a word of a `.split()` string at the word itself, mapped through
  escapes, line continuations and triple-quoted newlines. If that mapping ever
  disagrees with Python's decoding, every word falls back to the literal's start.
  Lines follow libcst (`\\r\\n`, `\\r` and `\\n` all end a line).
- DC101: CPython's own parser judges the file before libcst (`parse_module`): its
  positions are precise where libcst's are often a token or a line off, and it
  rejects pathological nesting that crashes libcst's native parser. libcst's
  "error at L:C" is used only when Python accepts the file and libcst does not.

The parsed tree is cached as `source.tree("libcst", parse_module)`: a
`libcst.Module`, the `libcst.ParserSyntaxError` when libcst rejects the file, or
a `Rejected` when CPython already did.
"""

from __future__ import annotations

import ast
import builtins
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Union

import libcst as cst
from libcst.metadata import (
    ClassScope,
    ExpressionContext,
    ExpressionContextProvider,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)

from driftcheck.languages.common import collect_pragmas, symbol_not_found
from driftcheck.model import Allowance, ExtractedList, Finding, Key, ListRef, Span
from driftcheck.sources import SourceFile, SourceFiles

# Methods that change a list/set/dict in place (and dunders that do the same).
MUTATORS = frozenset({
    "add", "append", "extend", "update", "remove", "discard", "pop", "clear", "insert", "setdefault",
    "popitem", "difference_update", "intersection_update", "symmetric_difference_update", "sort", "reverse",
    "__setitem__", "__delitem__", "__iadd__", "__ior__", "__isub__", "__iand__", "__ixor__", "__imul__",
    "__init__",
})
CONSTRUCTORS = ("list", "tuple", "set", "frozenset")
_SET_KINDS = ("set", "frozenset")
_COMPOUND = {cst.If: "if", cst.Try: "try", cst.TryStar: "try", cst.For: "for", cst.While: "while",
             cst.With: "with", cst.Match: "match"}
_SCOPES_BODY = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LIBCST_AT = re.compile(r"error at (\d+):(\d+)")

Pos = tuple[int, int]  # 1-based line, 1-based character column


# --------------------------------------------------------------------------- parsing and indexing


@dataclass(frozen=True)
class Rejected:
    """A module refused before or by libcst, with where and why (see `_parse`)."""

    code: str
    message: str
    line: int
    column: int


def parse_module(data: bytes) -> cst.Module | cst.ParserSyntaxError | Rejected:
    """The libcst tree, cached per file under the key "libcst" (shared with `fix`).

    CPython's own parser judges the file first: it rejects pathological nesting
    with a clean error where libcst's native parser can crash or hang, and a file
    Python rejects is a syntax error whatever libcst thinks.
    """
    text = data.decode("utf-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as exc:
        message = exc.msg.splitlines()[0] if exc.msg else "invalid syntax"
        return Rejected("DC101", f"python syntax error: {message}; fix the file so it parses",
                        max(exc.lineno or 1, 1), max(exc.offset or 1, 1))
    except (RecursionError, MemoryError):
        return Rejected("DC102", "the module nests expressions too deeply for Python itself to parse; flatten them",
                        1, 1)
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        return Rejected("DC101", f"python syntax error: {exc}", 1, 1)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return exc
    except (cst.CSTValidationError, RecursionError, MemoryError) as exc:
        return Rejected("DC101", f"libcst cannot represent this module ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'invalid'}); simplify the code near the list",
                        1, 1)


class _Index:
    """Per-file metadata, resolved once and shared by every symbol of the file."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # the tree is immutable: no copy needed
        # ScopeProvider needs ExpressionContextProvider anyway; parents come from our own walk below
        meta = wrapper.resolve_many([PositionProvider, ScopeProvider, ExpressionContextProvider])
        self.pos = meta[PositionProvider]
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.scopes = meta[ScopeProvider]
        self.contexts = meta[ExpressionContextProvider]
        scope = self.scopes[module]
        assert isinstance(scope, GlobalScope)
        self.global_scope: GlobalScope = scope
        self.all_scopes = list({id(s): s for s in self.scopes.values() if s is not None}.values())
        collector = _Collector(self)
        module.visit(collector)
        self.whole_line_comments = collector.whole_line_comments
        self.other_comments = collector.other_comments
        self.star_imports = collector.star_imports
        self.declared_global = collector.declared_global
        self.declared_nonlocal = collector.declared_nonlocal
        self.deleted_names = collector.deleted_names
        self.deleted_in: dict[int, set[str]] = {}  # id(scope) -> names a `del` there makes local
        for name in self.deleted_names:
            self.deleted_in.setdefault(id(self.scopes.get(name)), set()).add(name.value)
        self._line_starts: list[int] | None = None
        self._byte_starts: list[int] | None = None

    def start(self, node: cst.CSTNode) -> Pos:
        p = self.pos[node].start
        return p.line, p.column + 1

    def end(self, node: cst.CSTNode) -> Pos:
        p = self.pos[node].end
        return p.line, p.column + 1

    def byte_offset(self, line: int, column: int) -> int:
        """Byte offset of a 1-based (line, character column), with libcst's notion of lines."""
        if self._line_starts is None:
            starts, byte_starts = [0], [0]
            text, previous, nbytes = self.text, 0, 0
            for match in re.finditer(r"\r\n|\r|\n", text):  # line breaks only, as libcst counts them
                nbytes += len(text[previous:match.end()].encode("utf-8"))
                previous = match.end()
                starts.append(previous)
                byte_starts.append(nbytes)
            self._line_starts, self._byte_starts = starts, byte_starts
        assert self._byte_starts is not None
        start = self._line_starts[line - 1]
        return self._byte_starts[line - 1] + len(self.text[start:start + column - 1].encode("utf-8"))

    def span(self, node: cst.CSTNode) -> Span:
        """The node's extent including its own parentheses."""
        lpar = getattr(node, "lpar", ())
        rpar = getattr(node, "rpar", ())
        (sl, sc) = self.start(lpar[0]) if lpar else self.start(node)
        (el, ec) = self.end(rpar[-1]) if rpar else self.end(node)
        return Span(self.byte_offset(sl, sc), self.byte_offset(el, ec), sl, sc, el, ec)

    def ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        chain = []
        while node in self.parents:
            node = self.parents[node]
            chain.append(node)
        return chain

    def snippet(self, node: cst.CSTNode) -> str:
        code = self.module.code_for_node(node).strip().split("\n", 1)[0]
        return code if len(code) <= 50 else code[:47] + "..."


class _Collector(cst.CSTVisitor):
    def __init__(self, index: _Index) -> None:
        super().__init__()
        self.index = index
        self.whole_line_comments: dict[int, tuple[str, int]] = {}  # line -> (text, 1-based column)
        self.other_comments: dict[int, list[tuple[str, int]]] = {}
        self.star_imports: list[tuple[cst.ImportFrom, Pos]] = []
        self.declared_global: dict[int, set[str]] = {}  # id(scope) -> names
        self.declared_nonlocal: dict[int, set[str]] = {}
        self.deleted_names: list[cst.Name] = []
        self._whole: set[int] = set()
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.index.parents[node] = self._stack[-1]
        self._stack.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self._stack.pop()

    def visit_EmptyLine(self, node: cst.EmptyLine) -> None:
        if node.comment is not None:
            self._whole.add(id(node.comment))
            line, col = self.index.start(node.comment)
            self.whole_line_comments[line] = (node.comment.value, col)

    def visit_Comment(self, node: cst.Comment) -> None:
        if id(node) not in self._whole:
            line, col = self.index.start(node)
            self.other_comments.setdefault(line, []).append((node.value, col))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.append((node, self.index.start(node)))

    def visit_Global(self, node: cst.Global) -> None:
        scope = self.index.scopes.get(node)
        self.declared_global.setdefault(id(scope), set()).update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        scope = self.index.scopes.get(node)
        self.declared_nonlocal.setdefault(id(scope), set()).update(item.name.value for item in node.names)

    def visit_Name(self, node: cst.Name) -> None:
        if self.index.contexts.get(node) is ExpressionContext.DEL:
            self.deleted_names.append(node)


# --------------------------------------------------------------------------- bindings


@dataclass
class _Binding:
    """One binding of a module-global name, classified."""

    kind: str  # define | augment | chained | unpack | conditional | function | other
    node: cst.CSTNode  # the binding node (a Name, or an Import/def/class node)
    at: Pos
    statement: cst.CSTNode | None = None  # the small statement (module-level, unconditional)
    value: cst.BaseExpression | None = None  # for define/unpack: the value expression of this name
    where: str = ""  # for messages


def _classify(index: _Index, node: cst.CSTNode, name: str) -> _Binding | None:
    """Classify a global binding; None for a bare annotation (`NAME: T`), which binds nothing."""
    parent = index.parents.get(node)
    if isinstance(parent, cst.AnnAssign) and parent.target is node and parent.value is None:
        return None  # `NAME: T` alone binds nothing, even under `if TYPE_CHECKING:`
    at = index.start(node.name if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node)
    chain = index.ancestors(node)
    for anc in chain:
        if isinstance(anc, _SCOPES_BODY):
            what = "lambda" if isinstance(anc, cst.Lambda) else (
                f"function `{anc.name.value}`" if isinstance(anc, cst.FunctionDef) else f"class `{anc.name.value}`")
            return _Binding("function", node, at, where=what)
    for anc in chain:
        for typ, word in _COMPOUND.items():
            if isinstance(anc, typ) and isinstance(index.parents.get(anc), cst.Module):
                return _Binding("conditional", node, at, where=f"the `{word}` block at line {index.start(anc)[0]}")
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return _Binding("other", node, at, where="`def`" if isinstance(node, cst.FunctionDef) else "`class`")
    small = next((a for a in [node, *chain] if isinstance(index.parents.get(a), cst.SimpleStatementLine)), None)
    if isinstance(small, cst.AnnAssign) and small.target is node:
        return _Binding("define", node, at, small, small.value)
    if isinstance(small, cst.AugAssign) and small.target is node:
        return _Binding("augment", node, at, small)
    if isinstance(small, cst.Assign):
        if len(small.targets) > 1:
            return _Binding("chained", node, at, small)
        target = small.targets[0].target
        if target is node:
            return _Binding("define", node, at, small, small.value)
        parent = index.parents.get(node)
        if isinstance(parent, cst.Element) and index.parents.get(parent) is target:
            return _Binding("unpack", node, at, small, _unpacked_value(target, parent, small.value))
        return _Binding("other", node, at, small, where="an unpacking assignment")
    if isinstance(small, (cst.Import, cst.ImportFrom)):
        return _Binding("other", node, at, small, where="an import")
    return _Binding("other", node, at, small, where=f"`{index.snippet(small)}`" if small is not None else "")


def _unpacked_value(target: cst.BaseExpression, element: cst.Element,
                    value: cst.BaseExpression) -> cst.BaseExpression | None:
    """For `A, B = x, y`: the expression bound to the element, or None when not a plain display."""
    if not isinstance(target, (cst.Tuple, cst.List)) or not isinstance(value, (cst.Tuple, cst.List)):
        return None
    if any(isinstance(e, cst.StarredElement) for e in [*target.elements, *value.elements]):
        return None
    if len(target.elements) != len(value.elements):
        return None
    return value.elements[list(target.elements).index(element)].value


def _global_bindings(index: _Index, name: str) -> list[_Binding]:
    found = (_classify(index, a.node, name) for a in index.global_scope.assignments[name])
    return sorted((b for b in found if b is not None), key=lambda b: b.at)


# --------------------------------------------------------------------------- values


@dataclass
class _Str:
    text: str
    chars: list[Pos]  # source position of each character, plus one past the end
    at: Pos  # start of the expression


@dataclass
class _Coll:
    kind: str  # list | tuple | set | frozenset | dict
    keys: list[Key]


_Value = Union[_Str, _Coll]

_ARTICLE = {"list": "a list", "tuple": "a tuple", "set": "a set", "frozenset": "a frozenset", "dict": "a dict"}


def _literal_value(raw: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes warn; Python still accepts them
        return ast.literal_eval(raw)


def _escape_length(raw: str, j: int) -> int:
    """Source length of the escape sequence starting at the backslash raw[j]."""
    nxt = raw[j + 1]
    if nxt in "01234567":
        k = j + 1
        while k < j + 4 and k < len(raw) and raw[k] in "01234567":
            k += 1
        return k - j
    if nxt == "N" and raw.startswith("{", j + 2):
        close = raw.find("}", j + 3)
        return close - j + 1 if close != -1 else 2
    return {"x": 4, "u": 6, "U": 10}.get(nxt, 2)


def _decode_literal(raw: str, line: int, col: int) -> tuple[str, list[Pos]]:
    """A str literal's value and the source position of each of its characters (+ the closing quote).

    `line`/`col` are the literal's 1-based start. Python's own decoding
    (ast.literal_eval on the one token) is the reference; the walk only maps
    characters to positions, and falls back to the literal's start if it ever
    disagrees with Python.
    """
    value = _literal_value(raw)
    i = 0
    while raw[i] not in "'\"":
        i += 1
    is_raw = "r" in raw[:i].lower()
    quote = raw[i:i + 3] if raw[i:i + 3] in ('"""', "'''") else raw[i]
    j, end = i + len(quote), len(raw) - len(quote)
    ln, cl = line, col + j
    chars: list[str] = []
    positions: list[Pos] = []
    while j < end:
        c = raw[j]
        if c in "\r\n":  # Python reads sources with universal newlines
            chars.append("\n")
            positions.append((ln, cl))
            j += 2 if raw.startswith("\r\n", j) else 1
            ln, cl = ln + 1, 1
        elif c == "\\" and not is_raw:
            if raw[j + 1] in "\r\n":  # backslash-newline: a line continuation, no character
                j += 3 if raw.startswith("\r\n", j + 1) else 2
                ln, cl = ln + 1, 1
                continue
            n = _escape_length(raw, j)
            segment = raw[j:j + n]
            decoded = _literal_value('"' + segment + '"')
            if len(decoded) == n:  # an unknown escape like `\d` is kept verbatim
                positions.extend((ln, cl + k) for k in range(n))
            else:
                positions.extend((ln, cl) for _ in decoded)
            chars.append(decoded)
            j += n
            cl += n
        else:
            chars.append(c)
            positions.append((ln, cl))
            j += 1
            cl += 1
    positions.append((ln, cl))  # the closing quote
    if "".join(chars) != value:  # pragma: no cover - defensive; documented fallback
        positions = [(line, col)] * (len(value) + 1)
    return value, positions


class _Evaluator:
    """Evaluates one definition (and its `+=`/`|=`) of one symbol, collecting findings."""

    def __init__(self, index: _Index, source: SourceFile, symbol: str) -> None:
        self.index = index
        self.source = source
        self.symbol = symbol
        self.findings: list[Finding] = []
        self.occurrences: list[Key] = []
        self._constants: dict[str, _Str | None] = {}

    # -- findings

    def fail(self, code: str, message: str, at: Pos, key: str | None = None) -> None:
        finding = Finding(code, message, self.source.display, at[0], at[1], key)
        if finding not in self.findings:
            self.findings.append(finding)

    def not_static(self, node: cst.CSTNode, why: str) -> None:
        self.fail("DC102", f"{why} in {self.symbol} cannot be evaluated statically; write the keys as string "
                  "literals (or string constants defined earlier in this module)", self.index.start(node))

    def key(self, text: str, at: Pos) -> Key:
        if text == "":
            self.fail("DC102", f"empty key in {self.symbol} (e.g. from a doubled or trailing separator in "
                      "`.split(sep)`); remove it", at)
        k = Key(text, at[0], at[1])
        self.occurrences.append(k)
        return k

    # -- expressions

    def eval(self, node: cst.BaseExpression) -> _Value | None:
        if isinstance(node, cst.SimpleString):
            return self.simple_string(node)
        if isinstance(node, cst.ConcatenatedString):
            return self.concatenated(node)
        if isinstance(node, cst.FormattedString):
            self.not_static(node, "an f-string")
            return None
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return self.display(node)
        if isinstance(node, cst.Dict):
            return self.dict_display(node)
        if isinstance(node, cst.Name):
            return self.constant(node)
        if isinstance(node, cst.BinaryOperation):
            return self.binary(node)
        if isinstance(node, cst.Call):
            return self.call(node)
        self.not_static(node, self.describe(node))
        return None

    def describe(self, node: cst.CSTNode) -> str:
        snippet = self.index.snippet(node)
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            return f"the comprehension `{snippet}`"
        if isinstance(node, cst.Attribute):
            return f"the attribute access `{snippet}`"
        if isinstance(node, cst.Subscript):
            return f"the subscript `{snippet}`"
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return f"the number `{snippet}` (not a string)"
        return f"`{snippet}`"

    def simple_string(self, node: cst.SimpleString) -> _Str | None:
        if "b" in node.prefix.lower():
            self.not_static(node, f"the bytes literal `{self.index.snippet(node)}` (keys must be str)")
            return None
        at = self.index.start(node)
        try:
            text, chars = _decode_literal(node.value, *at)
        except (SyntaxError, ValueError) as exc:
            self.fail("DC101", f"string literal {self.index.snippet(node)} does not decode: "
                      f"{str(exc).splitlines()[0]}; fix the literal", at)
            return None
        return _Str(text, chars, at)

    def concatenated(self, node: cst.ConcatenatedString) -> _Str | None:
        parts: list[cst.CSTNode] = []
        todo: list[cst.CSTNode] = [node]
        while todo:
            part = todo.pop()
            if isinstance(part, cst.ConcatenatedString):
                todo.extend([part.right, part.left])
            else:
                parts.append(part)
        values = [self.eval(p) for p in parts]  # type: ignore[arg-type]
        if any(v is None for v in values):
            return None
        return self.join(values, self.index.start(node))  # type: ignore[arg-type]

    @staticmethod
    def join(values: list[_Str], at: Pos) -> _Str:
        chars: list[Pos] = []
        for v in values:
            chars.extend(v.chars[:-1])
        return _Str("".join(v.text for v in values), chars + [values[-1].chars[-1]], at)

    def element(self, node: cst.CSTNode, value: _Value | None, at: Pos) -> Key | None:
        """A display element or dict key: must be a string."""
        if value is None:
            return None
        if isinstance(value, _Coll):
            self.not_static(node, f"an element that is {_ARTICLE[value.kind]}, not a string,")
            return None
        return self.key(value.text, at)

    def display(self, node: cst.List | cst.Tuple | cst.Set) -> _Coll | None:
        kind = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(node)]
        keys: list[Key] = []
        ok = True
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                self.not_static(el, f"the starred element `{self.index.snippet(el)}`")
                ok = False
                continue
            k = self.element(el.value, self.eval(el.value), self.index.start(el.value))
            if k is None:
                ok = False
            else:
                keys.append(k)
        return _Coll(kind, _dedup(keys) if kind == "set" else keys) if ok else None

    def dict_display(self, node: cst.Dict) -> _Coll | None:
        keys: list[Key] = []
        ok = True
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                self.not_static(el, f"the dict unpacking `{self.index.snippet(el)}`")
                ok = False
                continue
            k = self.element(el.key, self.eval(el.key), self.index.start(el.key))
            if k is None:
                ok = False
            else:
                keys.append(k)
        return _Coll("dict", _dedup(keys)) if ok else None

    def constant(self, node: cst.Name) -> _Str | None:
        """A name: only a string constant bound once, unconditionally, earlier at module level."""
        name = node.value
        if name in self._constants:
            value = self._constants[name]
            if value is None:
                self.not_static(node, f"the name `{name}` (see the finding at its definition)")
            return value
        value = self._resolve_constant(node)
        self._constants[name] = value
        return value

    def _resolve_constant(self, node: cst.Name) -> _Str | None:
        name = node.value
        if name in ("True", "False", "None"):
            self.not_static(node, f"`{name}` (not a string)")
            return None
        bindings = _global_bindings(self.index, name)
        if not bindings:
            what = "a builtin" if hasattr(builtins, name) else "not defined at module level in this file"
            self.not_static(node, f"the name `{name}` ({what}; only string constants defined earlier are read)")
            return None
        if len(bindings) > 1:
            lines = ", ".join(str(b.at[0]) for b in bindings)
            self.not_static(node, f"the name `{name}` (bound more than once, lines {lines})")
            return None
        (b,) = bindings
        if b.kind != "define" or b.statement is None or b.value is None:
            where = f" in {b.where}" if b.where else ""
            self.not_static(node, f"the name `{name}` (bound{where} at line {b.at[0]}, not by one plain "
                            "module-level assignment)")
            return None
        use = self.index.start(node)
        if self.index.end(b.statement) > use:
            self.not_static(node, f"the name `{name}` (defined at line {b.at[0]}, after this use)")
            return None
        for _star, star_at in self.index.star_imports:
            if self.index.end(b.statement) <= star_at < use:
                self.not_static(node, f"the name `{name}` (`from ... import *` at line {star_at[0]} may rebind it)")
                return None
        saved, self.occurrences = self.occurrences, []  # a constant's own elements are not keys of this list
        try:
            value = self.eval(b.value)
        finally:
            self.occurrences = saved
        if isinstance(value, _Coll):
            self.not_static(node, f"the name `{name}` (it is {_ARTICLE[value.kind]}; only string constants "
                            "can be referenced)")
            return None
        if value is None:
            self.not_static(node, f"the name `{name}` (its value at line {b.at[0]} is not static)")
            return None
        return _Str(value.text, value.chars, use)

    def binary(self, node: cst.BinaryOperation) -> _Value | None:
        if not isinstance(node.operator, (cst.Add, cst.BitOr)):
            self.not_static(node, f"the operation `{self.index.snippet(node)}`")
            return None
        left, right = self.eval(node.left), self.eval(node.right)
        if left is None or right is None:
            return None
        at = self.index.start(node)
        if isinstance(node.operator, cst.Add):
            if isinstance(left, _Str) and isinstance(right, _Str):
                return self.join([left, right], at)
            if isinstance(left, _Coll) and isinstance(right, _Coll) and left.kind == right.kind \
                    and left.kind in ("list", "tuple"):
                return _Coll(left.kind, left.keys + right.keys)
        elif isinstance(left, _Coll) and isinstance(right, _Coll):
            if left.kind in _SET_KINDS and right.kind in _SET_KINDS:
                return _Coll(left.kind, _dedup(left.keys + right.keys))  # set | frozenset keeps the left type
            if left.kind == right.kind == "dict":
                return _Coll("dict", _dedup(left.keys + right.keys))
        op = "+" if isinstance(node.operator, cst.Add) else "|"
        self.not_static(node, f"`{op}` between {_type_name(left)} and {_type_name(right)} (Python raises "
                        "TypeError or it is not a supported form)")
        return None

    def call(self, node: cst.Call) -> _Value | None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in CONSTRUCTORS:
            return self.constructor(node, func.value)
        if isinstance(func, cst.Attribute) and func.attr.value == "split":
            return self.split(node, func.value)
        self.not_static(node, f"the call `{self.index.snippet(node)}`")
        return None

    def constructor(self, node: cst.Call, kind: str) -> _Coll | None:
        rebound = _global_bindings(self.index, kind)
        if rebound:
            self.not_static(node, f"`{kind}(...)` (`{kind}` is rebound in this module at line {rebound[0].at[0]})")
            return None
        if self.index.star_imports:
            line = self.index.star_imports[0][1][0]
            self.not_static(node, f"`{kind}(...)` (`from ... import *` at line {line} may rebind `{kind}`)")
            return None
        if not node.args:
            return _Coll(kind, [])
        if len(node.args) > 1 or node.args[0].keyword is not None or node.args[0].star:
            self.not_static(node, f"the call `{self.index.snippet(node)}` (takes exactly one positional argument)")
            return None
        arg = node.args[0].value
        value = self.eval(arg)
        if value is None:
            return None
        if isinstance(value, _Str):
            self.not_static(arg, f"`{kind}()` of a string (iterates its characters; use .split())")
            return None
        return _Coll(kind, _dedup(value.keys) if kind in _SET_KINDS else list(value.keys))

    def split(self, node: cst.Call, receiver: cst.BaseExpression) -> _Coll | None:
        args = node.args
        if len(args) > 1 or (args and (args[0].star or (args[0].keyword is not None
                                                          and args[0].keyword.value != "sep"))):
            self.not_static(node, f"`{self.index.snippet(node)}` (only `.split()` and `.split(sep)` are read, "
                            "without maxsplit)")
            return None
        sep_node = args[0].value if args else None
        text = self.eval(receiver)
        sep: str | None = None
        if sep_node is not None and not (isinstance(sep_node, cst.Name) and sep_node.value == "None"):
            sep_value = self.eval(sep_node)
            if sep_value is None:
                return None
            if not isinstance(sep_value, _Str):
                self.not_static(sep_node, "a separator that is not a string")
                return None
            if sep_value.text == "":
                self.not_static(sep_node, "an empty separator (Python raises ValueError)")
                return None
            sep = sep_value.text
        if text is None:
            return None
        if not isinstance(text, _Str):
            self.not_static(receiver, f"`.split()` of {_ARTICLE[text.kind]} (only strings can be split)")
            return None
        return _Coll("list", [self.key(piece, text.chars[offset]) for piece, offset in _split(text.text, sep)])

    # -- `NAME += ...` / `NAME |= ...`

    def augment(self, current: _Coll, stmt: cst.AugAssign) -> _Coll | None:
        op = stmt.operator
        value = self.eval(stmt.value)
        if value is None:
            return None
        if isinstance(op, cst.AddAssign):
            if current.kind == "list" and isinstance(value, _Coll):
                return _Coll("list", current.keys + value.keys)  # list.extend takes any iterable
            if current.kind == "tuple" and isinstance(value, _Coll) and value.kind == "tuple":
                return _Coll("tuple", current.keys + value.keys)
            if current.kind == "list" and isinstance(value, _Str):
                self.not_static(stmt.value, f"`{self.symbol} += <string>` (extends the list with single "
                                "characters; write a list)")
                return None
        elif isinstance(op, cst.BitOrAssign) and isinstance(value, _Coll):
            if current.kind in _SET_KINDS and value.kind in _SET_KINDS:
                return _Coll(current.kind, _dedup(current.keys + value.keys))
            if current.kind == value.kind == "dict":
                return _Coll("dict", _dedup(current.keys + value.keys))
        word = "+=" if isinstance(op, cst.AddAssign) else "|="
        self.not_static(stmt, f"`{self.symbol} {word}` with {_type_name(value)} on {_ARTICLE[current.kind]} "
                        "(Python raises TypeError or it is not a supported form)")
        return None


def _type_name(value: _Value) -> str:
    return "a string" if isinstance(value, _Str) else _ARTICLE[value.kind]


def _dedup(keys: Iterable[Key]) -> list[Key]:
    seen: set[str] = set()
    out = []
    for k in keys:
        if k.key not in seen:
            seen.add(k.key)
            out.append(k)
    return out


def _split(text: str, sep: str | None) -> list[tuple[str, int]]:
    """`text.split(sep)` (Python's own result) with each piece's offset in `text`."""
    pieces = text.split(sep)
    out: list[tuple[str, int]] = []
    pos = 0
    for piece in pieces:
        if sep is None:
            while text[pos].isspace():  # str.split() and str.isspace() share one notion of whitespace
                pos += 1
            out.append((piece, pos))
            pos += len(piece)
        else:
            out.append((piece, pos))
            pos += len(piece) + len(sep)
    assert all(text.startswith(p, o) for p, o in out)
    return out


# --------------------------------------------------------------------------- the extractor


def extract(ref: ListRef, source: SourceFile, files: SourceFiles) -> ExtractedList:
    """Extract `ref.symbol` from a Python module (see the module docstring for the rules)."""
    parsed = source.tree("libcst", parse_module)
    if isinstance(parsed, Rejected):
        return ExtractedList(ref=ref, keys=None, findings=(
            Finding(parsed.code, parsed.message, source.display, parsed.line, parsed.column),))
    if isinstance(parsed, cst.ParserSyntaxError):
        return ExtractedList(ref=ref, keys=None, findings=(_syntax_error(parsed, source),))
    try:
        index: _Index = source.tree("libcst-index", lambda _data: _Index(parsed, source.text))
        return _Extraction(ref, source, index).run()
    except RecursionError:
        return ExtractedList(ref=ref, keys=None, findings=(Finding(
            "DC102", f"{ref.symbol}: the module nests expressions too deeply to analyse; flatten them",
            source.display, 1, 1),))


def _nfkc_alias(module: cst.Module, name: str) -> cst.Name | None:
    """The first identifier spelled unlike `name` that Python nonetheless treats as `name`."""
    if module.code.isascii():
        return None
    target = unicodedata.normalize("NFKC", name)

    class _Finder(cst.CSTVisitor):
        found: cst.Name | None = None

        def visit_Name(self, node: cst.Name) -> None:
            if self.found is None and node.value != name and not node.value.isascii() and \
                    unicodedata.normalize("NFKC", node.value) == target:
                self.found = node

    finder = _Finder()
    module.visit(finder)
    return finder.found


def _syntax_error(exc: cst.ParserSyntaxError, source: SourceFile) -> Finding:
    """DC101 where libcst rejects a module that CPython accepted (`parse_module` asked CPython first)."""
    match = _LIBCST_AT.search(exc.message)
    line, column = (int(match.group(1)), int(match.group(2))) if match else (exc.raw_line, exc.raw_column + 1)
    message = re.sub(r"^.*?error at \d+:\d+: ", "", exc.message.splitlines()[0] if exc.message else "")
    return Finding("DC101", f"python syntax error (libcst): {message or 'invalid syntax'}; fix the file so it "
                   "parses", source.display, max(line, 1), max(column, 1))


class _Extraction:
    def __init__(self, ref: ListRef, source: SourceFile, index: _Index) -> None:
        self.ref = ref
        self.source = source
        self.index = index
        self.name = ref.symbol
        self.ev = _Evaluator(index, source, ref.symbol)

    def fail(self, code: str, message: str, at: Pos) -> None:
        self.ev.fail(code, message, at)

    def run(self) -> ExtractedList:
        name = self.name
        alias = _nfkc_alias(self.index.module, name)
        if alias is not None:
            # Python folds identifiers with NFKC (`Ｎ` is `N`); scope analysis here matches names as written,
            # so a differently spelled alias could rebind or mutate the list unseen: fail closed.
            return ExtractedList(ref=self.ref, keys=None, findings=(Finding(
                "DC103", f"{alias.value!r} is the same Python name as {name!r} (identifiers are NFKC-normalised); "
                f"driftcheck cannot follow such aliases — spell every use of the name as {name!r}",
                self.source.display, *self.index.start(alias)),))
        bindings = _global_bindings(self.index, name)
        if not bindings:
            return ExtractedList(ref=self.ref, keys=None, findings=(self.not_found(),))
        defines = [b for b in bindings if b.kind in ("define", "unpack")]
        definition = defines[0] if defines else None
        self.check_bindings(bindings, definition)
        self.check_mutations(definition)
        definition_key = allowances = value_span = None
        keys: tuple[Key, ...] | None = None
        if definition is not None and definition.statement is not None:
            definition_key = Key(name, *definition.at)
            allowances = self.allowances(definition.statement)
            if definition.value is None:
                self.fail("DC102", f"{name} is unpacked from a value driftcheck cannot pair up; write "
                          f"`{name}, OTHER = [...], [...]` with displays of the same length, or a separate "
                          "assignment", definition.at)
            else:
                value_span = self.index.span(definition.value)
                result = self.ev.eval(definition.value)
                if isinstance(result, _Str):
                    self.fail("DC102", f"{name} is a string, not a list; driftcheck reads lists, tuples, sets "
                              "and dict keys (write `\"A B\".split()` or a list)", self.index.start(definition.value))
                    result = None
                for b in bindings:  # `+=`/`|=` after the definition; other operators are DC104 above
                    if b.kind == "augment" and b.at > definition.at and result is not None and \
                            isinstance(b.statement, cst.AugAssign) and \
                            isinstance(b.statement.operator, (cst.AddAssign, cst.BitOrAssign)):
                        result = self.ev.augment(result, b.statement)
                if result is not None:
                    keys = tuple(result.keys)
        errors = [f for f in self.ev.findings if f.exit_code == 2]
        findings = list(self.ev.findings)
        if errors:
            keys = None
        else:
            findings.extend(self.duplicates())
        findings.sort(key=lambda f: (f.line, f.column, f.code))
        return ExtractedList(ref=self.ref, keys=keys, findings=tuple(findings), definition=definition_key,
                             value_span=value_span, allowances=tuple(allowances or ()))

    def not_found(self) -> Finding:
        name = self.name
        # Defined only inside a function or class? Say so rather than "not found".
        local = []
        for scope in self.index.all_scopes:
            if scope is self.index.global_scope:
                continue
            for a in scope.assignments[name]:
                parent = self.index.parents.get(a.node)
                if isinstance(parent, cst.AssignTarget) or (isinstance(parent, cst.AnnAssign) and parent.value):
                    local.append(a.node)
        if local:
            node = min(local, key=self.index.start)
            owner = next(a for a in self.index.ancestors(node) if isinstance(a, _SCOPES_BODY))
            what = f"`{owner.name.value}`" if isinstance(owner, (cst.FunctionDef, cst.ClassDef)) else "a lambda"
            line, col = self.index.start(node)
            return Finding("DC103", f"{name} is only defined inside {what} (line {line}); driftcheck reads one "
                           "module-level definition — move it to module level", self.source.display, line, col)
        annotated = [a.node for a in self.index.global_scope.assignments[name]]
        if annotated:
            line, col = self.index.start(annotated[0])
            return Finding("DC100", f"{name} is only annotated (`{name}: T`) in {self.source.display}, never "
                           "assigned a value", self.source.display, line, col)
        candidates = {a.name for a in self.index.global_scope.assignments}
        return symbol_not_found(self.ref, self.source, candidates, "module-level names")

    def check_bindings(self, bindings: list[_Binding], definition: _Binding | None) -> None:
        name = self.name
        for b in bindings:
            if b.kind == "conditional":
                self.fail("DC103", f"{name} is bound inside {b.where}; driftcheck reads exactly one "
                          "unconditional module-level definition — move it out of the block", b.at)
            elif b.kind == "chained":
                self.fail("DC103", f"chained assignment binds {name} and another name to one object (a change "
                          f"through the other name would go unseen); assign {name} on its own", b.at)
            elif b.kind == "function":
                if definition is not None:
                    self.fail("DC104", f"{b.where} rebinds the module-level {name} (declared `global {name}`) "
                              f"at line {b.at[0]}; put every key in the declaration", b.at)
                else:
                    self.fail("DC103", f"{name} is only assigned inside {b.where} (via `global {name}`); define "
                              "it once at module level", b.at)
            elif b.kind == "other":
                how = f" by {b.where}" if b.where else ""
                self.fail("DC103", f"{name} is also bound{how} at line {b.at[0]}; keep exactly one module-level "
                          "definition", b.at)
            elif b.kind in ("define", "unpack") and b is not definition:
                assert definition is not None
                self.fail("DC103", f"{name} is defined more than once at module level (lines {definition.at[0]} "
                          f"and {b.at[0]}); keep exactly one definition", b.at)
            elif b.kind == "augment":
                assert isinstance(b.statement, cst.AugAssign)
                if not isinstance(b.statement.operator, (cst.AddAssign, cst.BitOrAssign)):
                    op = self.index.snippet(b.statement.operator).strip()
                    self.fail("DC104", f"`{name} {op}` changes the list after its declaration; put every key "
                              "in the declaration", b.at)
                elif definition is None or b.at < definition.at:
                    self.fail("DC103", f"`{name}` is augmented at line {b.at[0]} before any module-level "
                              "definition", b.at)
        if definition is not None:
            for _star, at in self.index.star_imports:
                if at > definition.at:
                    self.fail("DC103", f"`from ... import *` at line {at[0]} may rebind {name} after its "
                              "definition; import names explicitly", at)

    def refers_to_global(self, node: cst.CSTNode, scope: Any) -> bool:
        """Python's scoping: does a read of NAME in `scope` see the module-level variable?"""
        name, start = self.name, scope
        while scope is not None and not isinstance(scope, GlobalScope):
            if name in self.index.declared_global.get(id(scope), ()):
                return True
            if name in self.index.declared_nonlocal.get(id(scope), ()):
                return False
            local = list(scope.assignments[name])
            if isinstance(scope, ClassScope):
                # A class body reads its own binding only once it exists, else falls back to the
                # module; functions nested in a class skip the class scope entirely.
                if scope is start and any(self.index.start(a.node) < self.index.start(node) for a in local):
                    return False
            elif local or name in self.index.deleted_in.get(id(scope), ()):
                return False  # a function-local (parameter, or bound anywhere in the body) shadows NAME
            scope = scope.parent
        return True

    def check_mutations(self, definition: _Binding | None) -> None:
        name, index = self.name, self.index
        for scope in index.all_scopes:
            for access in scope.accesses[name]:
                node = access.node
                if not isinstance(node, cst.Name) or not self.refers_to_global(node, scope):
                    continue
                parent = index.parents.get(node)
                if isinstance(parent, cst.Attribute) and parent.value is node:
                    if parent.attr.value in MUTATORS:
                        call = index.parents.get(parent)
                        shown = f"{name}.{parent.attr.value}(...)" if isinstance(call, cst.Call) else \
                            f"{name}.{parent.attr.value}"
                        self.fail("DC104", f"`{shown}` changes {name} after its declaration; put every key in "
                                  "the declaration", index.start(node))
                    elif index.contexts.get(parent) in (ExpressionContext.STORE, ExpressionContext.DEL):
                        self.fail("DC104", f"`{index.snippet(parent)}` is assigned or deleted; {name} must not "
                                  "change after its declaration", index.start(node))
                elif isinstance(parent, cst.Subscript) and parent.value is node and \
                        index.contexts.get(parent) in (ExpressionContext.STORE, ExpressionContext.DEL):
                    verb = "deletes from" if index.contexts.get(parent) is ExpressionContext.DEL else "assigns into"
                    self.fail("DC104", f"`{index.snippet(parent)}` {verb} {name} after its declaration; put "
                              "every key in the declaration", index.start(node))
        for node in index.deleted_names:
            if node.value == name and self.refers_to_global(node, index.scopes.get(node)):
                self.fail("DC104", f"`del {name}` removes the list after its declaration", index.start(node))

    def duplicates(self) -> list[Finding]:
        first: dict[str, Key] = {}
        out = []
        for k in self.ev.occurrences:
            if k.key in first:
                f = first[k.key]
                out.append(Finding("DC003", f"{k.key} is listed more than once in {self.name} (first at line "
                                   f"{f.line}, column {f.column}); delete the repeated entry",
                                   self.source.display, k.line, k.column, k.key))
            else:
                first[k.key] = k
        return out

    def allowances(self, statement: cst.CSTNode) -> list[Allowance]:
        """Pragmas on the comment lines directly above the definition's line, or at the end of that line."""
        line = self.index.start(statement)[0]
        comments: list[tuple[str, int, int]] = []
        above = line - 1
        while above in self.index.whole_line_comments:
            text, col = self.index.whole_line_comments[above]
            comments.insert(0, (text[1:], above, col + 1))  # text after `#`, and its column
            above -= 1
        for text, col in self.index.other_comments.get(line, []):
            comments.append((text[1:], line, col + 1))
        allowances, problems = collect_pragmas(comments, self.source.display)
        for problem in problems:
            if problem not in self.ev.findings:
                self.ev.findings.append(problem)
        return allowances
