"""Evaluating a definition's value: the static forms of docs/languages.md, with Python's semantics.

List, tuple, set and dict displays (dict: its keys); `list()/tuple()/set()/frozenset()`
of static values (when the builtin is not rebound); `str.split()` / `str.split(sep)`;
implicit string concatenation; `+` (str, list, tuple) and `|` (set, frozenset, dict);
names of string constants bound once, earlier, at module level and never changed.
Anything else is DC102 at the element. Set and dict results hold each key once
(first occurrence); every repeated source entry is still recorded for DC003.
"""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Union

from driftcheck import rules
from driftcheck.model import Finding, Key

if TYPE_CHECKING:
    from driftcheck.languages.python.parse import Module

Pos = tuple[int, int]  # 1-based line, 1-based character column
CONSTRUCTORS = ("list", "tuple", "set", "frozenset")
SET_KINDS = ("set", "frozenset")
ARTICLE = {"list": "a list", "tuple": "a tuple", "set": "a set", "frozenset": "a frozenset", "dict": "a dict"}


@dataclass
class Str:
    text: str
    chars: list[Pos]  # source position of each character, plus one past the end
    at: Pos  # start of the expression


@dataclass
class Coll:
    kind: str  # list | tuple | set | frozenset | dict
    keys: list[Key]
    # For dict displays: the value expression of each key (selectors step into them).
    values: dict[str, ast.expr] | None = None
    elements: list[ast.expr] | None = None  # for list/tuple displays: the element expressions


Value = Union[Str, Coll]


def literal(raw: str) -> Any:
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


def decode_literal(raw: str, line: int, col: int) -> tuple[str, list[Pos]]:
    """One str literal token's value and the source position of each character (+ the closing quote).

    Python's decoding (`ast.literal_eval` of the token) is the reference; the walk only
    maps characters to positions and falls back to the literal's start if it disagrees.
    """
    value = literal(raw)
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
        if c in "\r\n":  # universal newlines inside the literal
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
            decoded = literal('"' + raw[j:j + n] + '"')
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
    positions.append((ln, cl))
    if "".join(chars) != value:  # pragma: no cover - defensive; documented fallback
        positions = [(line, col)] * (len(value) + 1)
    return value, positions


def split(text: str, sep: str | None) -> list[tuple[str, int]]:
    """`text.split(sep)` (Python's own result) with each piece's offset in `text`."""
    out: list[tuple[str, int]] = []
    pos = 0
    for piece in text.split(sep):
        if sep is None:
            while text[pos].isspace():  # str.split() and str.isspace() share one notion of whitespace
                pos += 1
            out.append((piece, pos))
            pos += len(piece)
        else:
            out.append((piece, pos))
            pos += len(piece) + len(sep)
    return out


def dedup(keys: Iterable[Key]) -> list[Key]:
    seen: set[str] = set()
    out = []
    for k in keys:
        if k.key not in seen:
            seen.add(k.key)
            out.append(k)
    return out


def type_name(value: Value) -> str:
    return "a string" if isinstance(value, Str) else ARTICLE[value.kind]


class Evaluator:
    """Evaluates one definition (and its `+=`/`|=`) of one symbol, collecting findings.

    `constant(name, use)` resolves a module-level string constant: it returns the value
    expression of its one proven-unchanged definition before `use`, or a reason string.
    `rebound(name)` says where a builtin is rebound in the module ("" when it is not).
    """

    def __init__(self, module: Module, symbol: str, constant: Callable[[str, Pos], ast.expr | str],
                 rebound: Callable[[str], str]) -> None:
        self.module = module
        self.symbol = symbol
        self.findings: list[Finding] = []
        self.occurrences: list[Key] = []  # every key as written, for DC003
        self._constant = constant
        self._rebound = rebound
        self._constants: dict[str, Str | None] = {}

    # -- findings

    def fail(self, code: str, message: str, at: Pos) -> None:
        finding = rules.finding(code, self.module.source.display, at[0], at[1], detail=message)
        if finding not in self.findings:
            self.findings.append(finding)

    def not_static(self, node: ast.AST, why: str) -> None:
        self.fail("DC102", f"{why} in {self.symbol} cannot be evaluated statically; write the keys as string "
                  "literals (or string constants defined earlier in this module)", self.module.start(node))

    def key(self, text: str, at: Pos) -> Key:
        if text == "":
            self.fail("DC102", f"empty key in {self.symbol} (e.g. from a doubled or trailing separator in "
                      "`.split(sep)`); remove it", at)
        k = Key(text, at[0], at[1])
        self.occurrences.append(k)
        return k

    def snippet(self, node: ast.AST) -> str:
        code = (ast.get_source_segment(self.module.text, node) or "").strip().split("\n", 1)[0]
        return code if len(code) <= 50 else code[:47] + "..."

    # -- expressions

    def eval(self, node: ast.expr) -> Value | None:
        if isinstance(node, ast.Constant):
            return self.string(node)
        if isinstance(node, ast.JoinedStr):
            self.not_static(self._fstring_part(node), "an f-string")
            return None
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self.display(node)
        if isinstance(node, ast.Dict):
            return self.dict_display(node)
        if isinstance(node, ast.Name):
            return self.constant(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.not_static(node, self.describe(node))
        return None

    def _fstring_part(self, node: ast.JoinedStr) -> ast.AST:
        """In `"A" f"B"` Python gives one JoinedStr; point at the f-string token, as a reader would."""
        parts = self._tokens(node)
        for text, line, col in parts:
            prefix = text[:text.find(text.lstrip("rRbBuUfF")[:1])] if text else ""
            if "f" in prefix.lower():
                fake = ast.Constant("")
                fake.lineno, fake.col_offset = line, len(self.module.lines[line - 1][:col - 1].encode())
                return fake
        return node

    def describe(self, node: ast.AST) -> str:
        snippet = self.snippet(node)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return f"the comprehension `{snippet}`"
        if isinstance(node, ast.Attribute):
            return f"the attribute access `{snippet}`"
        if isinstance(node, ast.Subscript):
            return f"the subscript `{snippet}`"
        return f"`{snippet}`"

    def _tokens(self, node: ast.expr) -> list[tuple[str, int, int]]:
        """The STRING tokens of a (possibly implicitly concatenated) literal: (text, line, column)."""
        (sl, sc), (el, ec) = self.module.start(node), self.module.end(node)
        lines = self.module.lines[sl - 1:el]
        lines[-1] = lines[-1][:ec - 1]
        lines[0] = lines[0][sc - 1:]
        segment = "(" + "\n".join(lines) + ")"
        out = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(segment).readline):
                if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
                    row, col = tok.start
                    line = sl + row - 1
                    out.append((tok.string, line, (sc - 1 + col) if row == 1 else col + 1))
        except (tokenize.TokenError, SyntaxError):  # pragma: no cover - ast accepted the same text
            return []
        return out

    def string(self, node: ast.Constant) -> Str | None:
        value = node.value
        if isinstance(value, bytes):
            self.not_static(node, f"the bytes literal `{self.snippet(node)}` (keys must be str)")
            return None
        if not isinstance(value, str):
            if value is None or isinstance(value, bool):
                self.not_static(node, f"`{value!r}` (not a string)")
            else:
                self.not_static(node, f"the number `{self.snippet(node)}` (not a string)")
            return None
        at = self.module.start(node)
        tokens = self._tokens(node)
        chars: list[Pos] = []
        for raw, line, col in tokens:
            _text, positions = decode_literal(raw, line, col)
            chars.extend(positions[:-1])
            last = positions[-1]
        if not tokens or len(chars) != len(value):  # pragma: no cover - defensive
            return Str(value, [at] * (len(value) + 1), at)
        return Str(value, chars + [last], at)

    def element(self, node: ast.AST, value: Value | None) -> Key | None:
        """A display element or dict key: must be a string."""
        if value is None:
            return None
        if isinstance(value, Coll):
            self.not_static(node, f"an element that is {ARTICLE[value.kind]}, not a string,")
            return None
        return self.key(value.text, self.module.start(node))

    def display(self, node: ast.List | ast.Tuple | ast.Set) -> Coll | None:
        kind = {ast.List: "list", ast.Tuple: "tuple", ast.Set: "set"}[type(node)]
        keys: list[Key] = []
        ok = True
        for el in node.elts:
            if isinstance(el, ast.Starred):
                self.not_static(el, f"the starred element `{self.snippet(el)}`")
                ok = False
                continue
            k = self.element(el, self.eval(el))
            if k is None:
                ok = False
            else:
                keys.append(k)
        return Coll(kind, dedup(keys) if kind == "set" else keys) if ok else None

    def dict_display(self, node: ast.Dict) -> Coll | None:
        keys: list[Key] = []
        values: dict[str, ast.expr] = {}
        ok = True
        for key, value in zip(node.keys, node.values):
            if key is None:
                line, col = self.module.start(value)
                before = self.module.lines[line - 1][:col - 1].rstrip()
                at = ast.Constant("")  # point at the `**`, where a reader sees the unpacking start
                at.lineno, at.col_offset = line, len(before[:-2].encode()) if before.endswith("**") else value.col_offset
                self.not_static(at, f"the dict unpacking `**{self.snippet(value)}`")
                ok = False
                continue
            k = self.element(key, self.eval(key))
            if k is None:
                ok = False
            else:
                keys.append(k)
                values[k.key] = value  # a repeated key: Python keeps the first position, the last value
        return Coll("dict", dedup(keys), values) if ok else None

    def constant(self, node: ast.Name) -> Str | None:
        """A name: only a string constant bound once, earlier, at module level, and never changed."""
        name = node.id
        if name in self._constants:
            value = self._constants[name]
            if value is None:
                self.not_static(node, f"the name `{name}` (see the finding at its definition)")
                return None
        else:
            value = self._constants[name] = self._resolve_constant(node)
            if value is None:
                return None
        return Str(value.text, value.chars, self.module.start(node))

    def _resolve_constant(self, node: ast.Name) -> Str | None:
        name = node.id
        if name in ("True", "False", "None"):
            self.not_static(node, f"`{name}` (not a string)")
            return None
        found = self._constant(name, self.module.start(node))
        if isinstance(found, str):
            self.not_static(node, f"the name `{name}` ({found})")
            return None
        saved, self.occurrences = self.occurrences, []  # a constant's own elements are not keys of this list
        try:
            value = self.eval(found)
        finally:
            self.occurrences = saved
        if isinstance(value, Coll):
            self.not_static(node, f"the name `{name}` (it is {ARTICLE[value.kind]}; only string constants "
                            "can be referenced)")
            return None
        if value is None:
            self.not_static(node, f"the name `{name}` (its value at line {found.lineno} is not static)")
            return None
        return value

    def binary(self, node: ast.BinOp) -> Value | None:
        if not isinstance(node.op, (ast.Add, ast.BitOr)):
            self.not_static(node, f"the operation `{self.snippet(node)}`")
            return None
        left, right = self.eval(node.left), self.eval(node.right)
        if left is None or right is None:
            return None
        at = self.module.start(node)
        if isinstance(node.op, ast.Add):
            if isinstance(left, Str) and isinstance(right, Str):
                return Str(left.text + right.text, left.chars[:-1] + right.chars, at)
            if isinstance(left, Coll) and isinstance(right, Coll) and left.kind == right.kind \
                    and left.kind in ("list", "tuple"):
                return Coll(left.kind, left.keys + right.keys)
        elif isinstance(left, Coll) and isinstance(right, Coll):
            if left.kind in SET_KINDS and right.kind in SET_KINDS:
                return Coll(left.kind, dedup(left.keys + right.keys))  # set | frozenset keeps the left type
            if left.kind == right.kind == "dict":
                return Coll("dict", dedup(left.keys + right.keys))
        op = "+" if isinstance(node.op, ast.Add) else "|"
        self.not_static(node, f"`{op}` between {type_name(left)} and {type_name(right)} (Python raises "
                        "TypeError or it is not a supported form)")
        return None

    def call(self, node: ast.Call) -> Value | None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in CONSTRUCTORS:
            return self.constructor(node, func.id)
        if isinstance(func, ast.Attribute) and func.attr == "split":
            return self.split(node, func.value)
        self.not_static(node, f"the call `{self.snippet(node)}`")
        return None

    def constructor(self, node: ast.Call, kind: str) -> Coll | None:
        where = self._rebound(kind)
        if where:
            self.not_static(node, f"`{kind}(...)` (`{kind}` {where})")
            return None
        if not node.args and not node.keywords:
            return Coll(kind, [])
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            self.not_static(node, f"the call `{self.snippet(node)}` (takes exactly one positional argument)")
            return None
        arg = node.args[0]
        value = self.eval(arg)
        if value is None:
            return None
        if isinstance(value, Str):
            self.not_static(arg, f"`{kind}()` of a string (iterates its characters; use .split())")
            return None
        return Coll(kind, dedup(value.keys) if kind in SET_KINDS else list(value.keys))

    def split(self, node: ast.Call, receiver: ast.expr) -> Coll | None:
        args = [*node.args, *(k.value for k in node.keywords)]
        if len(args) > 1 or any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg != "sep" for k in node.keywords):
            self.not_static(node, f"`{self.snippet(node)}` (only `.split()` and `.split(sep)` are read, "
                            "without maxsplit)")
            return None
        sep_node = args[0] if args else None
        text = self.eval(receiver)
        sep: str | None = None
        if sep_node is not None and not (isinstance(sep_node, ast.Constant) and sep_node.value is None):
            sep_value = self.eval(sep_node)
            if sep_value is None:
                return None
            if not isinstance(sep_value, Str):
                self.not_static(sep_node, "a separator that is not a string")
                return None
            if sep_value.text == "":
                self.not_static(sep_node, "an empty separator (Python raises ValueError)")
                return None
            sep = sep_value.text
        if text is None:
            return None
        if not isinstance(text, Str):
            self.not_static(receiver, f"`.split()` of {ARTICLE[text.kind]} (only strings can be split)")
            return None
        return Coll("list", [self.key(piece, text.chars[offset]) for piece, offset in split(text.text, sep)])

    # -- `NAME += ...` / `NAME |= ...`

    def augment(self, current: Coll, stmt: ast.AugAssign) -> Coll | None:
        value = self.eval(stmt.value)
        if value is None:
            return None
        if isinstance(stmt.op, ast.Add):
            if current.kind == "list" and isinstance(value, Coll):
                return Coll("list", current.keys + value.keys)  # list.extend takes any iterable
            if current.kind == "tuple" and isinstance(value, Coll) and value.kind == "tuple":
                return Coll("tuple", current.keys + value.keys)
            if current.kind == "list" and isinstance(value, Str):
                self.not_static(stmt.value, f"`{self.symbol} += <string>` (extends the list with single "
                                "characters; write a list)")
                return None
        elif isinstance(stmt.op, ast.BitOr) and isinstance(value, Coll):
            if current.kind in SET_KINDS and value.kind in SET_KINDS:
                return Coll(current.kind, dedup(current.keys + value.keys))
            if current.kind == value.kind == "dict":
                return Coll("dict", dedup(current.keys + value.keys))
        word = "+=" if isinstance(stmt.op, ast.Add) else "|="
        self.not_static(stmt, f"`{self.symbol} {word}` with {type_name(value)} on {ARTICLE[current.kind]} "
                        "(Python raises TypeError or it is not a supported form)")
        return None
