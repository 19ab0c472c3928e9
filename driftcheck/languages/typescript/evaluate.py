"""The static value of a top-level binding, and what a selector reads from it.

Only literals are evaluated: strings and substitution-free templates, arrays, object literals,
`Object.freeze(...)` and `new Set([...])` of those, and identifiers naming a top-level `const` string
declared earlier in the file. Type-only syntax (`as const`, `satisfies T`, `<T>x`, `x!`, parentheses) is
transparent. Anything else evaluates to `Other`: harmless where the selector does not look, DC102 where it
does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from driftcheck.languages.typescript.syntax import NotStatic, identifier, literal_string, text, unwrap

# Object.prototype methods: an object on the selector's path that redefines one of them could run code
# when driftcheck's allowlisted reads (`${X}`, `X.hasOwnProperty(k)`) touch it.
PROTOTYPE_METHODS = frozenset({"toString", "valueOf", "toLocaleString", "hasOwnProperty", "isPrototypeOf",
                               "propertyIsEnumerable", "constructor", "__defineGetter__", "__defineSetter__",
                               "__lookupGetter__", "__lookupSetter__", "__proto__", "toJSON"})
_MAX_INDEX = 2**32 - 2


class Refusal(Exception):
    """The selected value is not static: why, and the node to point at."""

    def __init__(self, why: str, node: Any) -> None:
        super().__init__(why)
        self.why = why
        self.node = node


@dataclass
class Str:
    value: str
    node: Any


@dataclass
class Arr:
    items: list["Value"]
    node: Any
    kind: str = "array"  # "array" or "set"
    frozen: bool = False


@dataclass
class Prop:
    key: str
    key_node: Any
    value: "Value | None"  # None: a method or accessor (a function, not data)
    accessor: bool = False


@dataclass
class Obj:
    props: list[Prop]
    node: Any
    frozen: bool = False


@dataclass
class Other:
    node: Any
    why: str


Value = Union[Str, Arr, Obj, Other]


@dataclass
class Declaration:
    """One top-level binding: `const`/`let`/`var` (or `function`, `class`, `import`, a destructured name)."""

    name: str
    kind: str  # const | let | var | function | class | import | pattern
    name_node: Any
    value: Any | None  # the initialiser node of a simple `NAME = value` declarator
    statement: Any  # the top-level statement holding it
    exported: bool = False


class Rebound:
    """The names a file declares anywhere (params, locals, imports): a global like `Object` or `Set` that the
    file rebinds no longer means the built-in. Computed on first question, with subtrees that do not spell
    the name skipped."""

    def __init__(self, data: bytes, root: Any) -> None:
        self._data = data
        self._root = root
        self._known: dict[str, bool] = {}

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._known:
            self._known[name] = self._declares(name)
        return self._known[name]

    def __and__(self, names: set[str]) -> set[str]:
        return {n for n in names if n in self}

    def _declares(self, name: str) -> bool:
        data = self._data
        needle = name.encode("utf-8")
        if needle not in data and b"\\u" not in data:
            return False
        prune = b"\\u" not in data
        stack = [self._root]
        while stack:
            node = stack.pop()
            if prune and data.find(needle, node.start_byte, node.end_byte) == -1:
                continue
            if node.type in ("identifier", "shorthand_property_identifier_pattern") and node.parent is not None \
                    and identifier(data, node) == name and _binds(node):
                return True
            stack.extend(node.children)
        return False


@dataclass
class Module:
    """The per-file analysis: top-level declarations in order, and the globals the file rebinds."""

    data: bytes
    root: Any
    declarations: list[Declaration] = field(default_factory=list)
    rebound: Rebound = field(init=False)

    def __post_init__(self) -> None:
        self.rebound = Rebound(self.data, self.root)

    def top(self, name: str) -> list[Declaration]:
        return [d for d in self.declarations if d.name == name]


def analyse(data: bytes, root: Any) -> Module:
    module = Module(data, root)
    for statement in root.named_children:
        _top_statement(module, statement, statement, exported=False)
    return module


def _binds(node: Any) -> bool:
    parent = node.parent
    kind = parent.type
    if kind in ("variable_declarator", "function_declaration", "generator_function_declaration",
                "class_declaration", "function_expression", "class", "abstract_class_declaration",
                "enum_declaration", "internal_module", "function_signature", "catch_clause"):
        return True
    if kind in ("formal_parameters", "required_parameter", "optional_parameter", "rest_pattern",
                "assignment_pattern", "array_pattern", "object_pattern", "pair_pattern",
                "object_assignment_pattern", "import_specifier", "namespace_import", "import_clause"):
        return True
    return kind == "arrow_function" and parent.child_by_field_name("parameter") == node


def _top_statement(module: Module, statement: Any, node: Any, exported: bool) -> None:
    data = module.data
    kind = node.type
    if kind == "export_statement":
        inner = node.child_by_field_name("declaration")
        if inner is not None:
            _top_statement(module, statement, inner, exported=True)
        return
    if kind in ("lexical_declaration", "variable_declaration"):
        keyword = node.children[0].type  # const | let | var
        for declarator in node.named_children:
            if declarator.type != "variable_declarator":
                continue
            name = declarator.child_by_field_name("name")
            if name is None:
                continue
            if name.type == "identifier":
                module.declarations.append(Declaration(identifier(data, name), keyword, name,
                                                       declarator.child_by_field_name("value"), statement,
                                                       exported))
            else:  # a destructuring pattern: record every name it binds
                for ident in _pattern_names(name):
                    module.declarations.append(Declaration(identifier(data, ident), "pattern", ident, None, statement,
                                                           exported))
        return
    if kind in ("function_declaration", "generator_function_declaration", "class_declaration",
                "abstract_class_declaration", "enum_declaration"):
        name = node.child_by_field_name("name")
        if name is not None:
            module.declarations.append(Declaration(identifier(data, name), kind.split("_")[0], name, None, statement,
                                                   exported))
        return
    if kind == "import_statement":
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "identifier" and current.parent.type in ("import_specifier", "namespace_import",
                                                                        "import_clause"):
                alias = current.parent.child_by_field_name("alias")
                if current.parent.type != "import_specifier" or alias is None or alias == current:
                    module.declarations.append(Declaration(identifier(data, current), "import", current, None,
                                                           statement))
            stack.extend(current.named_children)


def _pattern_names(pattern: Any) -> list[Any]:
    out = []
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            out.append(node)
        elif node.type == "pair_pattern":
            value = node.child_by_field_name("value")
            if value is not None:
                stack.append(value)
            continue
        stack.extend(node.named_children)
    return out


class Evaluator:
    """Evaluates the initialiser of one declaration (`before`: the byte where it starts)."""

    def __init__(self, module: Module, before: int) -> None:
        self.module = module
        self.before = before
        self._resolving: set[str] = set()

    def value(self, node: Any) -> Value:
        data = self.module.data
        inner = unwrap(node)
        if inner is None:
            return Other(node, "a parenthesised sequence is not a literal")
        node = inner
        kind = node.type
        try:
            literal = literal_string(data, node)
        except NotStatic as exc:
            return Other(node, exc.why)
        if literal is not None:
            return Str(literal, node)
        if kind == "array":
            return self._array(node)
        if kind == "object":
            return self._object(node)
        if kind == "call_expression":
            return self._call(node)
        if kind == "new_expression":
            return self._new(node)
        if kind == "identifier":
            return self._identifier(node)
        shown = text(data, node).split("\n", 1)[0]
        shown = shown if len(shown) <= 30 else shown[:27] + "..."
        return Other(node, f"{shown} ({kind.replace('_', ' ')}) is not a literal")

    def _array(self, node: Any) -> Value:
        items: list[Value] = []
        pending_element = False
        for child in node.children[1:-1]:
            if child.type == "comment":
                continue
            if child.type == ",":
                if not pending_element:
                    return Other(child, "an array hole (`,,`) is undefined, not a string")
                pending_element = False
                continue
            if child.type == "spread_element":
                return Other(child, "a spread element (...) is computed at run time; write the elements out")
            items.append(self.value(child))
            pending_element = True
        return Arr(items, node)

    def _object(self, node: Any) -> Value:
        data = self.module.data
        props: list[Prop] = []
        for child in node.named_children:
            kind = child.type
            if kind == "comment":
                continue
            if kind == "spread_element":
                return Other(child, "a spread (...) in an object literal is computed at run time")
            if kind == "shorthand_property_identifier":
                props.append(Prop(text(data, child), child, self._identifier(child)))
                continue
            if kind == "pair":
                key_node = child.child_by_field_name("key")
                key = self._key(key_node)
                if isinstance(key, Other):
                    return key
                if key == "__proto__" and key_node.type != "computed_property_name":
                    return Other(key_node, "`__proto__:` sets the prototype, it is not a key")
                props.append(Prop(key, key_node, self.value(child.child_by_field_name("value"))))
                continue
            if kind == "method_definition":
                key_node = child.child_by_field_name("name")
                key = self._key(key_node)
                if isinstance(key, Other):
                    return key
                accessor = any(c.type in ("get", "set") for c in child.children[:2])
                props.append(Prop(key, key_node, None, accessor))
                continue
            return Other(child, f"{kind.replace('_', ' ')} in an object literal is not a key")
        return Obj(props, node)

    def _key(self, key_node: Any) -> str | Other:
        data = self.module.data
        kind = key_node.type
        if kind == "property_identifier":
            return text(data, key_node)
        if kind in ("string", "template_string"):
            try:
                return literal_string(data, key_node) or ""
            except NotStatic as exc:
                return Other(key_node, exc.why)
        if kind == "number":
            return _numeric_key(text(data, key_node), key_node)
        if kind == "computed_property_name":
            inner = unwrap(key_node.named_children[0]) if key_node.named_children else None
            if inner is not None:
                if inner.type in ("string", "template_string"):
                    return self._key(inner)
                if inner.type == "number":
                    return _numeric_key(text(data, inner), inner)
            return Other(key_node, "a computed key [...] other than a literal string is computed at run time")
        return Other(key_node, f"a {kind.replace('_', ' ')} key is not a literal")

    def _call(self, node: Any) -> Value:
        data = self.module.data
        function = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if function is not None and text(data, function) == "Object.freeze" and "Object" not in self.module.rebound \
                and args is not None and args.type == "arguments":
            real = [a for a in args.named_children if a.type != "comment"]
            if len(real) == 1 and real[0].type != "spread_element":
                inner = self.value(real[0])
                if isinstance(inner, Obj) or (isinstance(inner, Arr) and inner.kind == "array"):
                    inner.frozen = True  # a frozen Set still has working add/delete/clear: never frozen
                return inner
        shown = text(data, function) if function is not None else "a call"
        return Other(node, f"{shown}(...) is a call, computed at run time")

    def _new(self, node: Any) -> Value:
        data = self.module.data
        constructor = node.child_by_field_name("constructor")
        args = node.child_by_field_name("arguments")
        if constructor is not None and text(data, constructor) == "Set" and "Set" not in self.module.rebound \
                and args is not None:
            real = [a for a in args.named_children if a.type != "comment"]
            if len(real) == 1 and real[0].type != "spread_element":
                inner = self.value(real[0])
                if isinstance(inner, Arr) and inner.kind == "array":
                    return Arr(inner.items, node, "set")
            if not real:
                return Arr([], node, "set")
        shown = text(data, constructor) if constructor is not None else "?"
        return Other(node, f"new {shown}(...) is not a literal (only new Set([...]) of literals is read)")

    def _identifier(self, node: Any) -> Value:
        """A top-level `const` string declared (once) before the list."""
        name = text(self.module.data, node)
        declarations = self.module.top(name)
        if len(declarations) == 1 and name not in self._resolving:
            declaration = declarations[0]
            if declaration.kind == "const" and declaration.value is not None and \
                    declaration.statement.end_byte <= self.before:
                self._resolving.add(name)
                try:
                    value = Evaluator(self.module, declaration.statement.start_byte).value(declaration.value)
                finally:
                    self._resolving.discard(name)
                if isinstance(value, Str):
                    return Str(value.value, node)
        return Other(node, f"{name} is not a string constant declared earlier in this file with `const`")


def _numeric_key(literal: str, node: Any) -> str | Other:
    # JavaScript stringifies numeric keys (0x10 → "16", 1.50 → "1.5"); only plain integers are read.
    if literal == "0" or (literal[:1] in "123456789" and literal.isascii() and literal.isdigit()):
        if int(literal) <= 2**53:
            return str(int(literal))
    return Other(node, f"the numeric key {literal} is stringified at run time; write it as a string")


def object_keys(obj: Obj) -> list[Prop]:
    """The properties in `Object.keys` order: integer indices ascending, then the rest as first written."""
    first: dict[str, Prop] = {}
    for prop in obj.props:
        first.setdefault(prop.key, prop)
    indices = sorted((p for k, p in first.items() if _is_index(k)), key=lambda p: int(p.key))
    return indices + [p for k, p in first.items() if not _is_index(k)]


def _is_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and int(key) <= _MAX_INDEX


def last_prop(obj: Obj, key: str) -> Prop | None:
    """The property a read of `key` finds (the last one written wins)."""
    found = None
    for prop in obj.props:
        if prop.key == key:
            found = prop
    return found
