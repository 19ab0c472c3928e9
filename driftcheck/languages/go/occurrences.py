"""Every occurrence of the list's name in the package, positively classified (docs/languages.md).

An allowlist: an identifier spelling the name that resolves to the package-level var (Go's
lexical scoping: locals, parameters, results, receivers and type parameters shadow it) is the
definition or a read in a form known not to change the list; anything else is `unproven` and
refuses the list (DC104) with what it is and how to rewrite it. Reads:

- `NAME[k]` anywhere but as an assignment/`++`/`--` target or under `&` (an rvalue: `v, ok :=
  NAME[k]`, `if _, ok := NAME[k]; ok`);
- `len(NAME)`, `cap(NAME)`, `print(NAME)`, `NAME == nil`, `range NAME` (writes in the loop body
  are occurrences of their own), `append(x, NAME...)` and `copy(x, NAME)` (they copy the
  elements out), the same for `NAME[a:b]` in those places;
- for an ARRAY (a value: Go copies it), any other use as a value: passing it, assigning it;
- `_ = NAME` (nothing keeps the reference) and a struct literal's field key `T{NAME: v}`.

A map or slice passed to any other function, stored in another variable, returned, converted,
sliced, or under `&` can be changed through the copy of the reference: unproven.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from driftcheck.languages.go.package import GoFile, names, var_specs

if TYPE_CHECKING:
    from driftcheck.languages.go.calls import Bound

Node = Any  # tree_sitter.Node

_SCOPE_FUNCS = {"function_declaration", "method_declaration", "func_literal"}
# Go's universe scope. A package-level declaration of one of these changes what the list's
# definition (`true`, `string`, ...) or a read driftcheck allows (`len`, `append`, `nil`, ...) means.
# min, max and clear are left out: predeclared only since Go 1.21, and a call passing the list to
# any function (theirs included) is refused anyway.
PREDECLARED = frozenset(
    "bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string uint uint8 "
    "uint16 uint32 uint64 uintptr any comparable true false iota nil append cap close complex copy delete imag "
    "len make new panic print println real recover".split())
_READ_BUILTINS = frozenset({"len", "cap", "print", "println"})  # take the list and only read it


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
        return any(n.text == name for spec in var_specs(statement) for n in names(spec))
    if kind == "const_declaration":
        return any(n.text == name for spec in statement.named_children if spec.type == "const_spec"
                   for n in names(spec))
    if kind == "type_declaration":
        return any(spec.child_by_field_name("name") is not None and spec.child_by_field_name("name").text == name
                   for spec in statement.named_children if spec.type in ("type_spec", "type_alias"))
    return False


def shadowed(ident: Node, name: bytes, stop: Node | None = None,
             blocks: dict[int, list[int]] | None = None) -> bool:
    """Whether `ident` refers to a local declaration rather than the package-level name.

    With `stop` (a function), only declarations inside it count: False means `ident` is that
    function's parameter (or a name from outside it). `blocks`, shared by the calls for one
    name in one tree, keeps where each block declares the name (uses share their blocks).
    """
    at = ident.start_byte
    child, node = ident, ident.parent
    while node is not None and node.type != "source_file" and node != stop:
        kind = node.type
        if kind == "statement_list":  # a block or a case clause: earlier declarations are in scope
            declaring = blocks.get(node.id) if blocks is not None else None
            if declaring is None:
                declaring = [statement.start_byte for statement in node.named_children
                             if _statement_declares(statement, name)]
                if blocks is not None:
                    blocks[node.id] = declaring
            if declaring and declaring[0] < child.start_byte:
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


def identifier_uses(gofile: GoFile, name: str) -> Iterator[Node]:
    """Leaf nodes spelling exactly `name` (found by a byte search, confirmed by the tree)."""
    data = gofile.source.data
    needle = name.encode("utf-8")
    root = gofile.root
    pos = data.find(needle)
    while pos != -1:
        end = pos + len(needle)
        node = root.named_descendant_for_byte_range(pos, end)
        if node is not None and node.start_byte == pos and node.end_byte == end:
            yield node
        pos = data.find(needle, end)


def declares_local(ident: Node) -> bool:
    """Whether `ident` is the name in a function-local declaration (a new variable, not the package's)."""
    parent = ident.parent
    if parent is None:
        return False
    kind = parent.type
    if kind in ("var_spec", "const_spec", "parameter_declaration", "variadic_parameter_declaration",
                "type_parameter_declaration"):
        return any(n == ident for n in parent.children_by_field_name("name"))
    if kind == "expression_list":
        owner = parent.parent
        if owner is None:
            return False
        if owner.type == "short_var_declaration":
            return owner.child_by_field_name("left") == parent  # := in a function always declares
        if owner.type in ("range_clause", "receive_statement"):
            return owner.child_by_field_name("left") == parent and _operator(owner) == b":="
        if owner.type == "type_switch_statement":
            return owner.child_by_field_name("alias") == parent
    return False


def is_package_level_name(ident: Node) -> bool:
    """The name of a package-level declaration (var, const, func): indexed, not an occurrence."""
    parent = ident.parent
    while parent is not None and parent.type in ("var_spec", "var_spec_list", "const_spec", "var_declaration",
                                                 "const_declaration"):
        parent = parent.parent
    if parent is not None and parent.type == "source_file":
        return ident.parent.type in ("var_spec", "const_spec") and any(
            n == ident for n in ident.parent.children_by_field_name("name"))
    if ident.parent is not None and ident.parent.type == "function_declaration":
        return ident.parent.child_by_field_name("name") == ident
    return False


def classify(ident: Node, kind: str, symbol: str, calls: Bound | None = None, literal: bool = True) -> str | None:
    """None when `ident` (the list, of kind map/slice/array) is only read here, else why not.

    `calls` analyses callees: passing the list to a function that only reads it is a read.
    `literal`: `ident` names the list itself (a literal: capacity = length), not a callee's parameter.
    """
    expr = _up_parens(ident)
    parent = expr.parent
    if parent is None:
        return "driftcheck cannot classify this use"
    ptype = parent.type
    if ptype == "index_expression" and parent.child_by_field_name("operand") == expr:
        return _element_use(parent, symbol)
    if ptype == "range_clause" and parent.child_by_field_name("right") == expr:
        return None
    if ptype == "binary_expression" and _operator_type(parent) in ("==", "!="):
        return None
    if ptype == "literal_element" and parent.parent is not None and parent.parent.type == "keyed_element" \
            and parent.parent.child_by_field_name("key") == parent:
        return None  # a struct field name `T{NAME: v}`, or an array used as a map key (a copy)
    if ptype == "argument_list":
        return _argument_use(parent, expr, kind, symbol, calls, literal)
    if ptype == "variadic_argument":
        call = _call_of(parent.parent)
        if call is not None and _builtin(call) == "append":
            return None
        return (f"`...` passes {symbol}'s backing array to the function, which can change it; pass a copy: "
                f"append([]string(nil), {symbol}...)...")
    if ptype == "slice_expression" and parent.child_by_field_name("operand") == expr:
        return _slice_use(parent, symbol, calls)
    if _is_lvalue(expr):
        return f"it is assigned here; put every key in the declaration of {symbol} instead"
    if ptype == "unary_expression" and _operator_type(parent) == "&":
        return f"&{symbol} lets the list be changed through the pointer; read {symbol} directly"
    if ptype == "selector_expression":
        return f"driftcheck cannot tell what `{_text(parent)}` does to {symbol}"
    if kind == "array":
        return None  # an array is a value: assigning, passing, returning or converting it copies it
    if _assigned_to_blank(expr):
        return None
    if ptype == "type_conversion_expression":
        return (f"the conversion gives the same {_what(kind)}, which can be changed through it; convert a copy "
                "or read the elements")
    return (f"`{_text(parent)}` copies the reference to {symbol} (a {_what(kind)}), so the list can be changed "
            f"through the copy; use {symbol} only in reads (index, len, range), or copy it first")


def _what(kind: str) -> str:
    return "map" if kind == "map" else "slice"


def _text(node: Node, limit: int = 60) -> str:
    text = " ".join(node.text.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[:limit].rstrip() + " ..."


def _up_parens(node: Node) -> Node:
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    return node


def _operator_type(node: Node) -> str | None:
    operator = node.child_by_field_name("operator")
    return operator.type if operator is not None else None


def _call_of(argument_list: Node | None) -> Node | None:
    call = argument_list.parent if argument_list is not None and argument_list.type == "argument_list" else None
    return call if call is not None and call.type == "call_expression" else None


def _builtin(call: Node) -> str | None:
    """The name of the predeclared function `call` calls, or None (a local of that name shadows it)."""
    function = call.child_by_field_name("function")
    if function is None:
        return None
    function = down_parens(function)
    if function.type != "identifier":
        return None
    name = function.text.decode("utf-8")
    if name not in PREDECLARED or shadowed(function, function.text):
        return None
    return name  # a package-level declaration of the name refuses the whole list (see PREDECLARED)


def down_parens(node: Node) -> Node:
    while node.type == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            break
        node = inner[0]
    return node


def _arguments(argument_list: Node) -> list[Node]:
    return [c for c in argument_list.named_children if c.type != "comment"]


def _argument_use(arguments: Node, expr: Node, kind: str, symbol: str, calls: Bound | None,
                  literal: bool) -> str | None:
    call = _call_of(arguments)
    if call is None:
        return f"driftcheck cannot tell what `{_text(arguments.parent or arguments)}` does to {symbol}"
    builtin = _builtin(call)
    position = next((i for i, a in enumerate(_arguments(arguments)) if a == expr), 0)
    if builtin in _READ_BUILTINS or (builtin == "copy" and position >= 1):
        return None
    if builtin == "append" and position == 0 and literal and kind == "slice" and _appends_elements(arguments):
        # A slice literal's capacity is its length, so appending at least one element allocates a new
        # array: neither the list nor its backing array is written, and the result does not alias it.
        # (Any write that could give the list spare capacity is an occurrence of its own.)
        return None
    if builtin == "append" and position == 0:
        return (f"append({symbol}, ...) can write into {symbol}'s backing array; append to a copy: "
                f"append(append([]string(nil), {symbol}...), ...)")
    if builtin in ("copy", "delete", "clear"):
        return f"{builtin}({symbol}, ...) changes it; put every key in the declaration instead"
    if kind == "array" and builtin != "panic":
        return None  # passed by value: the callee gets a copy
    if builtin is None and calls is not None and calls.reads(call, position, "slice" if kind == "array" else kind):
        return None  # the callee only reads that parameter
    function = call.child_by_field_name("function")
    callee = _text(function) if function is not None else "the function"
    return (f"{symbol} (a {_what(kind)}) is passed to {callee}, which can change it through the reference; pass "
            f"a copy ({'maps.Clone' if kind == 'map' else 'slices.Clone'}({symbol})) or read it before the call")


def _appends_elements(arguments: Node) -> bool:
    """`append(NAME, x, ...)` with at least one element that is not a `...` spread."""
    rest = _arguments(arguments)[1:]
    return bool(rest) and not any(a.type == "variadic_argument" for a in rest) and b"..." not in arguments.text


def _slice_use(slice_expr: Node, symbol: str, calls: Bound | None = None) -> str | None:
    """`NAME[a:b]` is a read only where the slice itself is only read."""
    expr = _up_parens(slice_expr)
    parent = expr.parent
    if parent is not None:
        if parent.type == "variadic_argument":
            call = _call_of(parent.parent)
            if call is not None and _builtin(call) == "append":
                return None
        elif parent.type == "argument_list":
            call = _call_of(parent)
            builtin = _builtin(call) if call is not None else None
            position = next((i for i, a in enumerate(_arguments(parent)) if a == expr), 0)
            if builtin in _READ_BUILTINS or (builtin == "copy" and position >= 1):
                return None
            if builtin is None and call is not None and calls is not None and calls.reads(call, position, "slice"):
                return None
        elif parent.type == "range_clause" and parent.child_by_field_name("right") == expr:
            return None
    return (f"`{_text(slice_expr)}` shares {symbol}'s backing array, so writes through it change {symbol}; slice a "
            f"copy: append([]string(nil), {symbol}...)")


def _element_use(index_expr: Node, symbol: str) -> str | None:
    """`NAME[k]`: a read unless it is written (assigned, ++/--) or its address is taken."""
    node = _up_parens(index_expr)
    while node.parent is not None and node.parent.type in ("index_expression", "selector_expression",
                                                           "slice_expression") \
            and node.parent.child_by_field_name("operand") == node:
        node = _up_parens(node.parent)
    if _is_lvalue(node):
        return f"`{_text(node.parent if node.parent is not None else node)}` writes to {symbol}; put every key " \
            "in the declaration instead"
    parent = node.parent
    if parent is not None and parent.type == "unary_expression" and _operator_type(parent) == "&":
        return f"`{_text(parent)}` takes the address of an element of {symbol}, which can be written through it"
    return None


def _is_lvalue(expr: Node) -> bool:
    parent = expr.parent
    if parent is None:
        return False
    if parent.type in ("inc_statement", "dec_statement"):
        return True
    if parent.type == "expression_list":
        owner = parent.parent
        if owner is None or owner.child_by_field_name("left") != parent:
            return False
        if owner.type == "assignment_statement":
            return True
        if owner.type in ("range_clause", "receive_statement"):
            return _operator(owner) != b":="
    return False


def _assigned_to_blank(expr: Node) -> bool:
    """`_ = NAME` or `var _ = NAME`: evaluated and dropped, nothing keeps the reference."""
    parent = expr.parent
    if parent is None or parent.type != "expression_list":
        return False
    owner = parent.parent
    if owner is None:
        return False
    values = [c for c in parent.named_children if c.type != "comment"]
    if owner.type == "assignment_statement" and owner.child_by_field_name("right") == parent \
            and _operator(owner) == b"=":
        targets = [c for c in owner.child_by_field_name("left").named_children if c.type != "comment"]
    elif owner.type == "var_spec" and owner.child_by_field_name("value") == parent:
        targets = list(owner.children_by_field_name("name"))
    else:
        return False
    if len(targets) != len(values):
        return False
    at = next(i for i, v in enumerate(values) if v == expr)
    return targets[at].text == b"_"


def enclosing_function(node: Node) -> str:
    while node is not None:
        if node.type in ("function_declaration", "method_declaration"):
            name = node.child_by_field_name("name")
            return f" in func {name.text.decode('utf-8')}" if name is not None else ""
        node = node.parent
    return ""


def linkname_lines(data: bytes, name: str) -> list[int]:
    """Lines of `//go:linkname NAME ...` directives (they bind the variable to another symbol)."""
    if b"go:linkname" not in data:
        return []
    pattern = re.compile(rb"//go:linkname[ \t]+" + re.escape(name.encode("utf-8")) + rb"(?![\w.])")
    return [data.count(b"\n", 0, m.start()) + 1 for m in pattern.finditer(data)]


def assembly_lines(data: bytes, name: str) -> list[int]:
    """Lines of an assembly file that name the package's NAME (`·NAME(SB)`): assembly can write it."""
    pattern = re.compile("\u00b7".encode() + re.escape(name.encode("utf-8")) + rb"(?![\w\x80-\xff])")
    return [data.count(b"\n", 0, m.start()) + 1 for m in pattern.finditer(data)]
