"""Evaluating the list's value exactly as the Go compiler would, or not at all.

String literals are decoded with Go's escape rules, `+` concatenations and parentheses are
folded, and identifiers resolve only to string constants declared at package level in the
package's built files. Element types may be `string` or a named type whose underlying type is
string (`type Source string`). Everything else is a DC1xx problem and no keys (fail closed).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from driftcheck.languages.common import node_finding, node_key
from driftcheck.languages.go.package import Decl, GoFile, Package, exprs, names, unparen
from driftcheck import rules
from driftcheck.languages.go.syntax import snippet as _snippet
from driftcheck.model import Finding, Key
from driftcheck.sources import SourceFile

Node = Any  # tree_sitter.Node

_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = "0123456789abcdefABCDEF"
_NUMBERS = {"int_literal", "float_literal", "imaginary_literal"}

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
        return _EscapeProblem(rules.finding(
            "DC101", source.display, row + 1, column, detail=f"invalid escape sequence {raw[at:at + length]} in a Go "
            f"string ({why}); Go rejects this file — fix the escape"))

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
# Evaluating elements.


class Evaluator:
    def __init__(self, package: Package) -> None:
        self.package = package
        self._values: dict[str, bytes | _Problem] = {}
        self._visiting: list[str] = []
        self.used_names: list[str] = []  # every constant the value refers to, directly or not

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
            elif kind == "parenthesized_expression" and unparen(current) is not current:
                stack.append(unparen(current))
            elif kind == "call_expression" and self.conversion_argument(current) is not None:
                stack.append(self.conversion_argument(current))  # Source("A"), string("A"): the same bytes
            elif kind == "binary_expression" and _operator_type(current) == "+":
                stack.append(current.child_by_field_name("right"))
                stack.append(current.child_by_field_name("left"))
            else:
                raise _Problem("DC102", f"{subject} is {_describe(current)}, which driftcheck cannot evaluate "
                               "statically; write the key as a string literal or a string const of this package")
        return b"".join(parts)

    def constant(self, name: str, subject: str) -> bytes:
        if name not in self._values:
            self.used_names.append(name)
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
            raise _Problem("DC102", f"{what()} is not a constant declared in the built non-test files of this Go "
                           "package (dot-imports and _test.go files are not evaluated); write the key as a string "
                           "literal or declare it with const")
        if len(defs) > 1:
            places = ", ".join(f.where(c.name_node) for f, c in defs)
            raise _Problem("DC103", f"{what()} is declared more than once in the package ({places}; build tags?), "
                           "so its value depends on the build; keep exactly one declaration")
        gofile, const = defs[0]
        here = gofile.where(const.name_node)
        depends = self.package.depends_on(gofile)
        if depends:
            raise _Problem("DC103", f"{what(here)} is declared in a file built only when {depends}; move it to a "
                           "file every build compiles, or set go_target on the contract")
        if const.expr is None:
            raise _Problem("DC102", f"{what(here)} has no matching value (more names than values); Go rejects "
                           "this — give every constant a value")
        if const.type_node is not None and self.string_type(const.type_node) is not True:
            raise _Problem("DC102", f"{what(here)} has type {const.type_node.text.decode('utf-8')}, not string; "
                           "declare it as an untyped or string constant")
        if _mentions_iota(const.expr):
            raise _Problem("DC102", f"{what(here)} is an iota constant, not a string; write the key as a string "
                           "literal or a string const")
        return self.value_bytes(gofile.source, const.expr, f"constant {name} ({here})")

    def string_type(self, node: Node | None) -> bool | str:
        """True when `node` names `string` or a package type whose underlying type is string, else why not."""
        return self._underlying_is(node, b"string", ())

    def bool_type(self, node: Node | None) -> bool:
        return self._underlying_is(node, b"bool", ()) is True

    def conversion_argument(self, node: Node) -> Node | None:
        """The argument of `T(x)` when T is a string type (`Source("A")`, `string("A")`), else None."""
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or function.type != "identifier":
            return None
        args = [c for c in arguments.named_children if c.type != "comment"]
        if len(args) != 1 or args[0].type == "variadic_argument":
            return None
        return args[0] if self._named_is(function.text, b"string", ()) is True else None

    def _underlying_is(self, node: Node | None, basic: bytes, seen: tuple[bytes, ...]) -> bool | str:
        while node is not None and node.type == "parenthesized_type":
            inner = [c for c in node.named_children if c.type != "comment"]
            node = inner[0] if len(inner) == 1 else None
        if node is None or node.type != "type_identifier":
            return f"{node.type.replace('_', ' ') if node is not None else '?'}"
        return self._named_is(node.text, basic, seen)

    def _named_is(self, name: bytes, basic: bytes, seen: tuple[bytes, ...]) -> bool | str:
        if name == basic:
            return True  # a package-level type named like a predeclared one refuses the whole list
        if name in seen:
            return "a type cycle"
        text = name.decode("utf-8")
        types = [(f, d) for f, d in self.package.decls(text) if d.kind == "type"]
        if len(types) != 1:
            return f"{text} is not one type declared in this package"
        gofile, decl = types[0]
        depends = self.package.depends_on(gofile)
        if depends:
            return f"{text} is declared in a file built only when {depends}"
        spec = decl.spec
        if spec.child_by_field_name("type_parameters") is not None:
            return f"{text} is a generic type"
        return self._underlying_is(spec.child_by_field_name("type"), basic, (*seen, name))

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
# The list value.




class Value:
    """The evaluated definition: keys in Go's order, problems, the literal node (for `fix`) and its kind."""

    __slots__ = ("keys", "findings", "literal", "kind")

    def __init__(self, keys: list[Key], findings: list[Finding], literal: Node | None, kind: str = "") -> None:
        self.keys = keys
        self.findings = findings
        self.literal = literal
        self.kind = kind  # "map", "slice" or "array" once the literal's type is known


def _int_literal(node: Node | None) -> int | None:
    if node is None or node.type != "int_literal":
        return None
    text = node.text.decode("utf-8").replace("_", "")
    try:
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            return int(text, 8)  # legacy octal, 0755
        return int(text, 0)
    except ValueError:
        return None


def evaluate_value(symbol: str, main: GoFile, decl: Decl, evaluator: Evaluator) -> Value:
    source = main.source
    spec_names = names(decl.spec)
    index = next(i for i, n in enumerate(spec_names) if n == decl.name_node)
    value = decl.spec.child_by_field_name("value")
    values = exprs(value) if value is not None else []
    if not values:
        return Value([], [node_finding(
            "DC102", f"{symbol} is declared without a value, so its keys are set elsewhere at run time; give it a "
            "literal value: map[string]struct{}{...} or []string{...}", source, decl.name_node)], None)
    if len(values) != len(spec_names):
        if len(values) == 1 and values[0].type == "call_expression":
            return Value([], [node_finding(
                "DC102", f"{symbol} is set from {_describe(values[0])}, which driftcheck cannot evaluate statically; "
                "write the keys in a literal", source, values[0])], None)
        return Value([], [node_finding(
            "DC101", f"assignment mismatch: {len(spec_names)} names but {len(values)} values; Go rejects this — give "
            "each name one value", source, decl.spec)], None)
    literal = unparen(values[index])
    if literal.type != "composite_literal":
        return Value([], [node_finding(
            "DC102", f"{symbol} is set to {_describe(literal)}, which driftcheck cannot evaluate statically; write "
            "the keys in a map[string]T{...} or []string{...} literal", source, literal)], None)
    literal_type = literal.child_by_field_name("type")
    body = literal.child_by_field_name("body")
    problem = _check_type(literal_type, evaluator)
    if problem or body is None:
        return Value([], [node_finding(
            "DC102", f"{symbol} is a literal of type {_snippet(literal_type) if literal_type else '?'}{problem}; "
            "driftcheck reads map[string]T, []string, [N]string and [...]string literals (or a named type whose "
            "underlying type is string)", source, literal)], literal)
    is_map = literal_type.type == "map_type"
    kind = "map" if is_map else "slice" if literal_type.type == "slice_type" else "array"
    bool_values = is_map and evaluator.bool_type(literal_type.child_by_field_name("value"))
    findings: list[Finding] = []
    elements = [e for e in body.named_children if e.type != "comment"]
    placed: dict[int, tuple[Node, Key]] = {}  # array/slice index -> element (Go's positions)
    keys: list[Key] = []
    position = 0
    for element in elements:
        if is_map:
            if element.type != "keyed_element":
                findings.append(node_finding("DC102", f"map element `{_snippet(element)}` has no key; write it as "
                                             "\"KEY\": value", source, element))
                continue
            expr = _element_expr(element.child_by_field_name("key"))
        elif element.type == "keyed_element":
            index_node = unparen(_element_expr(element.child_by_field_name("key")))
            at = _int_literal(index_node)
            if at is None:
                findings.append(node_finding(
                    "DC102", f"the index of `{_snippet(element)}` is not an integer literal, so driftcheck cannot "
                    "tell where Go puts it; write the elements in order without indices", source, element))
                continue
            position = at
            expr = _element_expr(element.child_by_field_name("value"))
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
        key = node_key(source, expr, text)
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
            keys.append(key)
            continue
        if position in placed:
            findings.append(node_finding(
                "DC102", f"index {position} of {symbol} is given twice; Go rejects this — give each element once",
                source, element))
            continue
        placed[position] = (element, key)
        position += 1
    if not is_map and not findings:
        length: int | None = len(placed) and max(placed) + 1
        gap = next((i for i in range(length or 0) if i not in placed), None)
        if gap is not None:
            findings.append(node_finding(
                "DC102", f"{symbol} gives no element at index {gap}, so Go fills it with an empty string, which is "
                "not a key name; list the elements in order without gaps", source, body))
        elif literal_type.type == "array_type":
            length_node = literal_type.child_by_field_name("length")
            declared = _int_literal(length_node)
            if declared != length:
                if declared is None:
                    why = "is not a plain integer literal"
                elif declared > (length or 0):
                    why = f"is {declared} but {length} elements are listed (the rest would be empty strings)"
                else:
                    why = f"is {declared} but {length} elements are listed (Go rejects this)"
                findings.append(node_finding(
                    "DC102", f"the array length of {symbol} {why}; write [...]string{{...}} or []string{{...}}",
                    source, literal_type))
        keys = [placed[i][1] for i in sorted(placed)]
    return Value(keys, findings, literal, kind)


def _check_type(node: Node | None, evaluator: Evaluator) -> str:
    """'' when the literal type is one driftcheck reads, else why not."""
    if node is None:
        return " (unknown)"
    if node.type == "map_type":
        why = evaluator.string_type(node.child_by_field_name("key"))
        return "" if why is True else f", whose keys are not of type string ({why})"
    if node.type in ("slice_type", "array_type", "implicit_length_array_type"):
        why = evaluator.string_type(node.child_by_field_name("element"))
        return "" if why is True else f", whose elements are not strings ({why})"
    return f" ({node.type.replace('_', ' ')})"


def _element_expr(node: Node | None) -> Node | None:
    if node is not None and node.type == "literal_element":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) == 1:
            return inner[0]
    return node
