"""Every use of a list's binding must be a read known not to change the selected keys (docs/languages.md).

An allowlist. A value is followed up the tree from each reference with a *depth*: depth `d` is the
object or array the selector reaches after `d` steps (0: the binding itself); `None` means a value the
keys cannot depend on (a string, a number, an element of the final list, a property off the selector's
path). Reads that yield another on-path value carry on (`X[i]`, `X.field`, `X.find(...)`, `const p = X`,
a callback's element parameter, a `for...of` variable), and every reference to such a name is followed the
same way. Anything not on the allowlist is `unproven`, with a clause saying what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from driftcheck.languages.typescript.syntax import TRANSPARENT, identifier, text

FUNCTIONS = frozenset({"arrow_function", "function_expression", "function_declaration", "function",
                       "generator_function", "generator_function_declaration", "method_definition"})
_SCOPES = frozenset({"statement_block", "program", "class_body", "switch_body"})

# Methods that never change the array/Set/object they are called on. Values: what the result holds.
#   "prim": nothing the keys depend on; "elem": an element (on path when elements are);
#   "copy": a new array holding the same elements (refused when elements are on path).
_ARRAY_METHODS = {
    "includes": "prim", "indexOf": "prim", "lastIndexOf": "prim", "join": "prim", "toString": "prim",
    "toLocaleString": "prim", "some": "prim", "every": "prim", "findIndex": "prim", "findLastIndex": "prim",
    "forEach": "prim", "keys": "prim", "map": "prim", "flatMap": "prim", "at": "elem", "find": "elem",
    "findLast": "elem", "filter": "copy", "slice": "copy", "concat": "copy", "toSorted": "copy",
    "toReversed": "copy", "values": "copy", "entries": "copy", "flat": "copy",
}
_SET_METHODS = {"has": "prim", "forEach": "prim", "keys": "copy", "values": "copy", "entries": "copy"}
_OBJECT_METHODS = {"hasOwnProperty": "prim", "propertyIsEnumerable": "prim", "isPrototypeOf": "prim"}
# Callback parameters: (element, index, the array itself); toSorted's comparator gets two elements.
_CALLBACKS = {"some", "every", "find", "findIndex", "findLast", "findLastIndex", "filter", "forEach", "map",
              "flatMap", "toSorted"}
# Built-in functions that only read their argument.
_READERS = {"Object.keys": "prim", "Object.getOwnPropertyNames": "prim", "Object.isFrozen": "prim",
            "Object.isSealed": "prim", "Object.isExtensible": "prim", "Object.hasOwn": "prim",
            "Array.isArray": "prim", "String": "prim", "Boolean": "prim", "JSON.stringify": "prim",
            "Object.values": "copy", "Object.entries": "copy", "Array.from": "copy", "Object.freeze": "self"}
_GLOBALS_USED = ("Object", "Array", "JSON", "String", "Boolean", "Set", "Map")
_COMPARISONS = frozenset({"===", "!==", "==", "!=", "<", ">", "<=", ">=", "instanceof", "+", "-", "*", "/"})
_ASSIGNMENTS = frozenset({"assignment_expression", "augmented_assignment_expression"})
# Properties that lead from a value to its prototype: writing there changes what `.includes` etc. do.
_PROTOTYPE_LINKS = frozenset({"__proto__", "constructor", "prototype"})


@dataclass(frozen=True)
class Path:
    """What the selector walks through: the container type at each depth and the step taken from it."""

    types: tuple[str, ...]  # array | set | object | string, for depth 0..n
    steps: tuple[str | None, ...]  # the step from depth d (a field name, None for []), for depth 0..n-1

    def element(self, depth: int | None) -> int | None:
        """The depth of an element / indexed member of the container at `depth`."""
        if depth is None or depth >= len(self.steps):
            return None
        return depth + 1

    def member(self, depth: int | None, name: str | None) -> int | None:
        """The depth of property `name` (None: unknown, computed) of the object at `depth`."""
        if depth is None or depth >= len(self.steps) or self.types[depth] != "object":
            return None
        step = self.steps[depth]
        if name is None or name == step:
            return depth + 1
        return None


@dataclass
class Verdict:
    """The first unproven use found from one reference (None: every use is a read)."""

    node: Any | None = None
    why: str = ""
    exported: bool = False


@dataclass
class Classifier:
    data: bytes
    name: str  # the list's name, for messages
    path: Path
    rebound: Any  # names the file rebinds (evaluate.Rebound: `in` only)
    # Every container on the selector's path is Object.freeze'd: no use can change it (only rebinding the
    # name can, which the callers check), so every use is a read.
    frozen: bool = False
    exports: list[Any] = field(default_factory=list)  # reference nodes that export the binding
    export_names: set[str] = field(default_factory=set)  # `export { X as Y }`: Y
    _seen: set[tuple[int, int]] = field(default_factory=set)

    def reference(self, node: Any, depth: int | None = 0) -> Verdict:
        """Classify one reference to an on-path value; the verdict points at the first unproven use."""
        verdict = Verdict()
        self._use(node, depth, verdict)
        return verdict

    # ----------------------------------------------------------------------------------------- uses
    def _use(self, node: Any, depth: int | None, verdict: Verdict) -> None:
        if verdict.node is not None or depth is None or self.path.types[depth] == "string" or self.frozen:
            return
        parent = node.parent
        kind = parent.type
        shown = self._shown(node)
        fail = self._fail_at(verdict, node)
        if kind in TRANSPARENT:
            return self._use(parent, depth, verdict)
        if kind == "member_expression" and parent.child_by_field_name("object") == node:
            prop = parent.child_by_field_name("property")
            name = text(self.data, prop)
            if prop.type == "private_property_identifier":
                return fail(f"{shown}.{name} is not a known read")
            if name in _PROTOTYPE_LINKS:
                return fail(f"`{shown}.{name}` reaches the prototype, whose methods every read relies on")
            if _written(parent):
                return fail(f"`{shown}.{name}` is assigned or deleted here; put the value in the declaration")
            grand = parent.parent
            if grand.type == "call_expression" and grand.child_by_field_name("function") == parent:
                return self._method(grand, name, depth, verdict, shown)
            return self._use(parent, self._property(depth, name), verdict)
        if kind == "subscript_expression" and parent.child_by_field_name("object") == node:
            if _written(parent):
                return fail(f"`{shown}[...]` is assigned or deleted here; put the value in the declaration")
            grand = parent.parent
            if grand.type == "call_expression" and grand.child_by_field_name("function") == parent:
                return fail(f"`{shown}[...](...)` calls a method chosen at run time")
            index = parent.child_by_field_name("index")
            if index is not None and index.type == "string" and text(self.data, index)[1:-1] in _PROTOTYPE_LINKS:
                return fail(f"`{shown}[...]` reaches the prototype, whose methods every read relies on")
            if index is not None and index.type not in ("string", "number") and _written_through(parent):
                return fail(f"`{shown}[...]` with a computed key may be the prototype (`__proto__`), and it is "
                            "written through here")
            return self._use(parent, self._index(depth, index), verdict)
        if kind == "arguments":
            return self._argument(parent.parent, node, depth, verdict, shown)
        if kind == "binary_expression":
            operator = parent.child_by_field_name("operator").type
            if operator in ("&&", "||", "??"):
                return self._use(parent, depth, verdict)  # the result may be this very value
            if operator == "in" and parent.child_by_field_name("right") == node:
                return None
            if operator in _COMPARISONS:
                return None
            return fail(f"`{operator}` with {shown} is not a known read")
        if kind == "unary_expression":
            operator = parent.child_by_field_name("operator").type
            if operator in ("!", "typeof", "void"):
                return None
            return fail(f"`{operator}{shown}` is not a known read")
        if kind == "ternary_expression":
            if parent.child_by_field_name("condition") == node:
                return None
            return self._use(parent, depth, verdict)
        if kind in ("if_statement", "while_statement", "do_statement", "expression_statement", "type_query",
                    "template_substitution"):
            return None  # a condition, a discarded value, a type, or `${X}` (an array's toString is join)
        if kind == "for_in_statement" and parent.child_by_field_name("right") == node:
            operator = parent.child_by_field_name("operator")
            if operator is not None and operator.type == "in":
                return None
            element = self.path.element(depth)
            declared = parent.child_by_field_name("kind")
            if element is not None and (declared is None or declared.type not in ("const", "let")):
                return fail(f"`for (... of {shown})` without const/let leaves an element in an outer name")
            return self._bind_pattern(parent.child_by_field_name("left"), element, parent, verdict, shown,
                                      f"for (... of {shown})")
        if kind == "spread_element":
            if self.path.element(depth) is None and self.path.types[depth] in ("array", "set"):
                return None  # copies strings out
            return fail(f"`...{shown}` copies values that stay shared with the list")
        if kind == "variable_declarator" and parent.child_by_field_name("value") == node:
            declaration = parent.parent
            keyword = declaration.children[0].type if declaration.children else ""
            target = parent.child_by_field_name("name")
            if keyword != "const":
                return fail(f"`{keyword} ... = {shown}` makes a second name for it that can be reassigned; "
                            "use const, or read it directly")
            return self._bind_pattern(target, depth, _scope_of(declaration), verdict, shown,
                                      f"const ... = {shown}")
        if kind == "export_statement" or kind == "export_specifier":
            alias = parent.child_by_field_name("alias") if kind == "export_specifier" else None
            if text(self.data, node) != self.name:
                return fail(f"`{text(self.data, parent)}` exports a second name for it, which driftcheck does not "
                            f"follow into importers; export {self.name} itself, or wrap it in Object.freeze(...)")
            if alias is not None:
                self.export_names.add(text(self.data, alias))
            if kind == "export_statement" and any(c.type == "=" for c in parent.children):
                return fail("`export =` hands it to importers driftcheck does not follow; use a named export")
            self.exports.append(node)
            return None
        return fail(f"{_describe(kind)} is not a known read of {self.name}; driftcheck cannot prove it leaves the "
                    "list unchanged")

    def _property(self, depth: int | None, name: str) -> int | None:
        if depth is None:
            return None
        kind = self.path.types[depth]
        if kind in ("array", "set") and name in ("length", "size"):
            return None
        return self.path.member(depth, name)

    def _index(self, depth: int | None, index: Any) -> int | None:
        if depth is None:
            return None
        kind = self.path.types[depth]
        if kind == "array":
            return self.path.element(depth)
        if kind == "set":
            return None  # a Set has no indexed members
        if index is not None and index.type == "string":
            return self.path.member(depth, text(self.data, index)[1:-1])
        if index is not None and index.type == "number":
            return self.path.member(depth, text(self.data, index))
        return self.path.member(depth, None)

    def _method(self, call: Any, method: str, depth: int, verdict: Verdict, shown: str) -> None:
        kind = self.path.types[depth]
        table = _ARRAY_METHODS if kind == "array" else _SET_METHODS if kind == "set" else _OBJECT_METHODS
        result = table.get(method)
        if result is None:
            return self._fail_at(verdict, call)(
                f"`{shown}.{method}(...)` is not a method known to leave it unchanged; "
                "put every key in the declaration")
        element = self.path.element(depth) if kind != "object" else None
        if method == "toSorted" and element is None:
            pass  # the comparator sees two strings, never the list
        elif method in _CALLBACKS or (kind == "set" and method == "forEach"):
            args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
            if args:
                callback = args[0]
                if callback.type not in ("arrow_function", "function_expression", "function"):
                    return self._fail_at(verdict, callback)(
                        f"`{shown}.{method}(...)` passes the list to a function driftcheck cannot see; "
                        "write the callback inline")
                else:
                    self._callback(callback, method, depth, element, verdict, shown)
                    if verdict.node is not None:
                        return None
        if result == "prim":
            return None
        if result == "elem":
            return self._use(call, element, verdict)
        if element is not None:
            return self._fail_at(verdict, call)(
                f"`{shown}.{method}(...)` copies elements that stay shared with the list")
        return None

    def _callback(self, function: Any, method: str, depth: int, element: int | None, verdict: Verdict,
                  shown: str) -> None:
        params = _parameters(function)
        roles: list[int | None] = [element, element] if method == "toSorted" else [element, None, depth]
        for index, param in enumerate(params):
            role = roles[index] if index < len(roles) else None
            if param.type in ("rest_pattern",) or (param.type == "assignment_pattern"):
                if role is not None or index == 2:
                    return self._fail_at(verdict, param)(
                        f"a callback parameter of {shown}.{method} is not a plain name")
                continue
            self._bind_pattern(param, role, function, verdict, shown, f"{shown}.{method}(callback)")
            if verdict.node is not None:
                return None
        if function.type in ("function_expression", "function") and _uses_this_or_arguments(function):
            return self._fail_at(verdict, function)(
                f"the callback of {shown}.{method} uses `this` or `arguments`; use an arrow function")

    def _argument(self, call: Any, node: Any, depth: int, verdict: Verdict, shown: str) -> None:
        fail = self._fail_at(verdict, node)
        if call.type == "new_expression":
            constructor = text(self.data, call.child_by_field_name("constructor"))
            if constructor in ("Set", "Map") and constructor not in self.rebound and \
                    self.path.element(depth) is None:
                return None
            return fail(f"`new {constructor}({shown})` is not a known read")
        if call.type != "call_expression":
            return fail(f"{shown} is passed to something driftcheck cannot see")
        function = call.child_by_field_name("function")
        callee = text(self.data, function)
        args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        reader = _READERS.get(callee)
        if reader is None or callee.split(".")[0] in self.rebound:
            return fail(f"`{callee}({shown})` passes it to a function that may change it; "
                        "only reads like .includes(k), Object.keys(X), k in X are allowed")
        if args and args[0] != node:
            return fail(f"{shown} is not the first argument of {callee}(...)")
        if callee == "JSON.stringify" and len(args) > 1 and args[1].type not in ("null", "undefined"):
            return fail("JSON.stringify with a replacer runs code on the list")
        if reader == "prim":
            return None
        if reader == "self":
            return self._use(call, depth, verdict)
        if self.path.types[depth] == "object":
            element = self.path.member(depth, None)
        else:
            element = self.path.element(depth)
        if element is not None:
            return fail(f"`{callee}({shown})` copies values that stay shared with the list")
        return None

    # ------------------------------------------------------------------------------------ new names
    def _bind_pattern(self, target: Any, depth: int | None, scope: Any, verdict: Verdict, shown: str,
                      how: str) -> None:
        """A name now holding an on-path value: every reference to it is followed too."""
        if depth is None or self.path.types[depth] == "string" or target is None:
            return None
        if target.type == "identifier":
            name = text(self.data, target)
            for ref in references(self.data, scope, name, target):
                key = (ref.start_byte, depth)
                if key in self._seen:
                    continue
                self._seen.add(key)
                if _written_name(ref):
                    return self._fail_at(verdict, ref)(f"{name} (from {how}) is reassigned or redeclared here")
                self._use(ref, depth, verdict)
                if verdict.node is not None:
                    return None
            return None
        if target.type == "object_pattern" and self.path.types[depth] == "object":
            for child in target.named_children:
                if child.type == "shorthand_property_identifier_pattern":
                    field_name: str | None = text(self.data, child)
                    sub = child
                elif child.type == "pair_pattern":
                    key = child.child_by_field_name("key")
                    field_name = text(self.data, key) if key.type == "property_identifier" else None
                    sub = child.child_by_field_name("value")
                else:
                    return self._fail_at(verdict, child)(f"`{how}` destructures with a form driftcheck "
                                                         "does not follow")
                if self.path.member(depth, field_name) is not None:
                    return self._fail_at(verdict, sub)(f"`{how}` takes an on-path value into a new name")
            return None
        return self._fail_at(verdict, target)(f"`{how}` destructures it into names driftcheck does not follow")

    # ------------------------------------------------------------------------------------ helpers
    def _fail_at(self, verdict: Verdict, node: Any) -> Callable[[str], None]:
        def fail(why: str) -> None:
            if verdict.node is None:
                verdict.node = node
                verdict.why = why
        return fail

    def _shown(self, node: Any) -> str:
        shown = text(self.data, node).split("\n", 1)[0]
        return shown if len(shown) <= 40 else shown[:37] + "..."


def _written_through(node: Any) -> bool:
    """Is a property of this value assigned or deleted right here (`v.x = 1`, `delete v.x`)?"""
    parent = node.parent
    while parent is not None and parent.type in TRANSPARENT:
        node, parent = parent, parent.parent
    if parent is None or parent.type not in ("member_expression", "subscript_expression") or \
            parent.child_by_field_name("object") != node:
        return False
    return _written(parent)


def _written(node: Any) -> bool:
    """Is this member/subscript expression assigned to, updated, deleted or destructured into?"""
    parent = node.parent
    kind = parent.type
    if kind in _ASSIGNMENTS and parent.child_by_field_name("left") == node:
        return True
    if kind == "update_expression":
        return True
    if kind == "unary_expression" and parent.child_by_field_name("operator").type == "delete":
        return True
    if kind == "for_in_statement" and parent.child_by_field_name("left") == node:
        return True
    if kind in ("array_pattern", "object_pattern", "pair_pattern", "rest_pattern", "assignment_pattern",
                "object_assignment_pattern"):
        return True
    if kind in TRANSPARENT:
        return _written(parent)
    return False


def _written_name(ref: Any) -> bool:
    """A plain reference that is itself assigned to or redeclared."""
    parent = ref.parent
    if parent.type in _ASSIGNMENTS and parent.child_by_field_name("left") == ref:
        return True
    if parent.type == "update_expression":
        return True
    if parent.type == "variable_declarator" and parent.child_by_field_name("name") == ref:
        return True
    return parent.type in ("array_pattern", "object_pattern", "rest_pattern", "assignment_pattern",
                           "shorthand_property_identifier_pattern", "pair_pattern", "formal_parameters",
                           "required_parameter", "optional_parameter", "function_declaration", "class_declaration",
                           "catch_clause", "import_specifier", "namespace_import", "import_clause")


def _parameters(function: Any) -> list[Any]:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [single]
    params = function.child_by_field_name("parameters")
    if params is None:
        return []
    out = []
    for param in params.named_children:
        if param.type in ("required_parameter", "optional_parameter"):
            pattern = param.child_by_field_name("pattern")
            out.append(pattern if pattern is not None else param)
        elif param.type != "comment":
            out.append(param)
    return out


def _uses_this_or_arguments(function: Any) -> bool:
    stack = list(function.children)
    while stack:
        node = stack.pop()
        if node.type == "this" or (node.type == "identifier" and node.text == b"arguments"):
            return True
        if node.type in FUNCTIONS and node.type != "arrow_function":
            continue
        stack.extend(node.children)
    return False


def _scope_of(declaration: Any) -> Any:
    node = declaration.parent
    while node is not None and node.type not in _SCOPES and node.type not in FUNCTIONS and \
            node.type not in ("for_statement", "for_in_statement"):
        node = node.parent
    return node if node is not None else declaration


def _describe(kind: str) -> str:
    return {"assignment_expression": "an assignment", "augmented_assignment_expression": "an assignment",
            "return_statement": "returning it", "arrow_function": "returning it from a function",
            "pair": "storing it in an object", "array": "storing it in an array",
            "shorthand_property_identifier": "storing it in an object",
            "jsx_expression": "passing it as a JSX attribute", "await_expression": "`await`",
            "update_expression": "`++`/`--`", "variable_declarator": "a declaration"}.get(
        kind, f"a {kind.replace('_', ' ')}")


# ------------------------------------------------------------------------------------- references
def references(data: bytes, scope: Any, name: str, declared_at: Any | None) -> Iterator[Any]:
    """Every identifier spelled `name` under `scope` that refers to the binding declared at `declared_at`.

    Subtrees that declare their own `name` (a function's parameter, a block's `const`/`let`/`class`/
    `function`, a `catch (name)`, a `for (const name ...)`) are skipped: they shadow it. Anything else spelled
    `name` (including a `var` redeclaration) is returned, so the caller must classify it: when unsure,
    a shadow is treated as a reference, which can only refuse more.
    """
    encoded = name.encode("utf-8")
    prune = b"\\u" not in data  # with no \\u escape anywhere, a subtree that does not spell the name has no reference
    stack = [scope]
    while stack:
        node = stack.pop()
        if prune and data.find(encoded, node.start_byte, node.end_byte) == -1:
            continue
        if node is not scope and _shadows(data, node, encoded, declared_at):
            continue
        kind = node.type
        if kind in ("identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern") and \
                (data[node.start_byte:node.end_byte] == encoded or identifier(data, node) == name):
            if node != declared_at:
                yield node
            continue
        stack.extend(reversed(node.children))


def _shadows(data: bytes, node: Any, name: bytes, declared_at: Any | None) -> bool:
    kind = node.type
    if kind in FUNCTIONS:
        if kind in ("function_expression", "function", "generator_function"):
            own = node.child_by_field_name("name")
            if own is not None and data[own.start_byte:own.end_byte] == name:
                return True
        return any(data[n.start_byte:n.end_byte] == name for n in _param_names(node))
    if kind in _SCOPES:
        for child in node.named_children:
            if _declares(data, child, name, declared_at):
                return True
        return False
    if kind == "catch_clause":
        param = node.child_by_field_name("parameter")
        return param is not None and any(data[n.start_byte:n.end_byte] == name for n in _pattern_idents(param))
    if kind in ("for_statement", "for_in_statement"):
        init = node.child_by_field_name("initializer") or node.child_by_field_name("left")
        kw = node.child_by_field_name("kind")
        if kind == "for_statement" and init is not None and init.type == "lexical_declaration":
            return _declares(data, init, name, declared_at)
        if kind == "for_in_statement" and kw is not None and kw.type in ("const", "let") and init is not None:
            return any(data[n.start_byte:n.end_byte] == name for n in _pattern_idents(init))
    return False


def _declares(data: bytes, statement: Any, name: bytes, declared_at: Any | None) -> bool:
    """Does this statement declare `name` block-scoped (const/let/class/function), other than our binding?"""
    if statement.type == "export_statement":
        inner = statement.child_by_field_name("declaration")
        return inner is not None and _declares(data, inner, name, declared_at)
    if statement.type == "lexical_declaration":
        for declarator in statement.named_children:
            target = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if target is not None:
                for ident in _pattern_idents(target):
                    if data[ident.start_byte:ident.end_byte] == name and ident != declared_at:
                        return True
        return False
    if statement.type in ("function_declaration", "generator_function_declaration", "class_declaration"):
        own = statement.child_by_field_name("name")
        return own is not None and data[own.start_byte:own.end_byte] == name and own != declared_at
    return False


def _param_names(function: Any) -> list[Any]:
    out: list[Any] = []
    for param in _parameters(function):
        out += _pattern_idents(param)
    return out


def _pattern_idents(pattern: Any) -> list[Any]:
    out = []
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            out.append(node)
            continue
        if node.type == "pair_pattern":
            value = node.child_by_field_name("value")
            if value is not None:
                stack.append(value)
            continue
        if node.type in ("assignment_pattern", "object_assignment_pattern"):
            left = node.child_by_field_name("left")
            if left is not None:
                stack.append(left)
            continue
        if node.type in ("type_annotation",):
            continue
        stack.extend(node.named_children)
    return out
