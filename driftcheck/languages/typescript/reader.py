"""Reading a TypeScript/JavaScript list: the definition, its keys, every use of it, the comments next to it.

What a SYMBOL names (docs/selectors.md): a top-level `const`/`let`/`var` (exported or not), then selector
steps. An array or Set gives its string elements, an object its keys (in `Object.keys` order), `[].field`
the field of each object of an array. Who can change the list (section 11): every reference in the file is
classified by `soundness`; when the binding is exported, the files that import it are classified too
(`importers`), unless every container the selector walks through is `Object.freeze`d. `as const` and
`readonly` are compile-time only: they do not stop another module from pushing to an array at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftcheck.languages.base import Candidate, Comment, Occurrence, Reading
from driftcheck.languages.common import node_finding, node_key, node_span
from driftcheck.languages.selectors import Selector, SelectorError, Step, format_selector, parse_selector
from driftcheck.languages.typescript import syntax
from driftcheck.languages.typescript.evaluate import (
    PROTOTYPE_METHODS, Arr, Declaration, Evaluator, Module, Obj, Other, Refusal, Str, Value, analyse, last_prop,
    object_keys)
from driftcheck.languages.typescript.soundness import Classifier, Path, references
from driftcheck.model import Finding, Key, ListRef
from driftcheck.sources import SourceFile, SourceFiles

_LISTS = ("const", "let", "var")


@dataclass
class Selected:
    """What a selector read: the keys (with the nodes they are written at) and the path it walked."""

    keys: list[tuple[str, Any]]
    path: Path
    frozen: bool  # every container on the path is Object.freeze'd


def module_of(source: SourceFile, grammar: str) -> Module:
    tree = syntax.tree(source, grammar)
    return source.analysis("ts-module:" + grammar, lambda: analyse(source.data, tree.root_node))


def read(ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
    grammar = syntax.grammar_for(source.path, ref.language)
    root = syntax.tree(source, grammar).root_node
    try:
        selector = parse_selector(ref.symbol)
    except SelectorError as exc:
        return Reading(source.display, problems=(Finding("DC106", f"bad selector: {exc}", source.display, 1, 1),))
    name = selector.name or ""
    if root.has_error:
        from driftcheck.languages.typescript.oracle import judge_syntax

        problem = judge_syntax(source, root, name, grammar)
        if problem is not None:
            return Reading(source.display, problems=(problem,))
    module = module_of(source, grammar)
    declarations = module.top(name)
    names = tuple(d.name for d in module.declarations if d.kind in _LISTS)
    if not declarations:
        return Reading(source.display, defined_names=names)
    display = source.display
    if len(declarations) > 1:
        lines = ", ".join(str(d.name_node.start_point[0] + 1) for d in declarations)
        first = declarations[1]
        return Reading(display, definition=node_key(source, declarations[0].name_node, name), problems=(
            node_finding("DC103", f"{name} is declared {len(declarations)} times at the top level (lines {lines}); "
                         "keep exactly one declaration", source, first.name_node),))
    declaration = declarations[0]
    definition = node_key(source, declaration.name_node, name)
    attached, other = _comments(source, root, declaration)
    base = Reading(display, definition=definition, attached_comments=attached, other_comments=other)
    if declaration.kind not in _LISTS or declaration.value is None:
        what = {"pattern": "a destructured name", "import": "imported from another module",
                "function": "a function", "class": "a class"}.get(declaration.kind, "declared without a value")
        return _with(base, problems=(node_finding("DC102", f"{name} is {what}, not a literal list; driftcheck reads "
                                                  "`const NAME = [...]` or `{...}`", source, declaration.name_node),))
    evaluator = Evaluator(module, declaration.statement.start_byte)
    value = evaluator.value(declaration.value)
    try:
        selected = select(value, selector)
    except Refusal as exc:
        return _with(base, problems=(node_finding("DC102", f"cannot read {ref.symbol}: {exc.why}", source, exc.node),))
    keys = tuple(node_key(source, node, key) for key, node in selected.keys)
    literal = _literal_node(value)
    occurrences, aliases = _occurrences(source, module, declaration, selected.path, name, selected.frozen)
    exported = declaration.exported or any(o.why.startswith("export") for o in occurrences)
    from driftcheck.languages.typescript import importers

    if exported and not selected.frozen:  # importers cannot rebind an import, only change what it holds
        default = any(o.why == "export default" for o in occurrences)
        occurrences += importers.importer_occurrences(source, files, name, selected.path, default, aliases)
    elif not exported and source.path.suffix.lower() not in (".mjs", ".cjs", ".mts", ".cts") and \
            not importers.is_module(root):  # a global: other scripts can change it, or rebind a let/var
        occurrences += importers.global_occurrences(source, files, name, selected.path, selected.frozen)
    return _with(base, keys=keys, value_span=node_span(source, literal) if literal is not None else None,
                 occurrences=tuple(occurrences))


def _with(base: Reading, **changes: Any) -> Reading:
    return base._replace(**changes)


def _literal_node(value: Value) -> Any | None:
    if isinstance(value, Arr) and value.kind == "set":
        inner = value.node.child_by_field_name("arguments")
        items = [c for c in inner.named_children if c.type != "comment"] if inner is not None else []
        return syntax.unwrap(items[0]) if items else None
    return value.node if isinstance(value, (Arr, Obj)) else None


# ------------------------------------------------------------------------------------------ selection
def select(value: Value, selector: Selector) -> Selected:
    """The keys the selector reads from the value; Refusal where it meets something not static."""
    types: list[str] = []
    steps: list[str | None] = []
    frozen = [True]
    keys: list[tuple[str, Any]] = []
    _walk(value, selector.steps, 0, types, steps, frozen, keys, selector)
    return Selected(keys, Path(tuple(types), tuple(steps)), frozen[0])


def _walk(value: Value, rest: tuple[Step, ...], depth: int, types: list[str], steps: list[str | None],
          frozen: list[bool], keys: list[tuple[str, Any]], selector: Selector) -> None:
    kind = _kind(value)
    where = format_selector(Selector(selector.name, selector.steps[:depth]))
    if isinstance(value, Other):
        raise Refusal(value.why, value.node)
    if depth == len(types):
        types.append(kind)
    elif types[depth] != kind:
        raise Refusal(f"{where} holds both {types[depth]}s and {kind}s", value.node)
    if isinstance(value, (Arr, Obj)) and not value.frozen:
        frozen[0] = False
    if isinstance(value, Obj):
        for prop in value.props:
            if prop.key in PROTOTYPE_METHODS and not isinstance(prop.value, Str):
                raise Refusal(f"it redefines {prop.key}, which runs code when the object is read", prop.key_node)
            if prop.accessor:
                raise Refusal(f"the accessor {prop.key} runs code when the object is read", prop.key_node)
    if not rest:
        if isinstance(value, Str):
            if depth == 0:
                raise Refusal(f"{where} is a single string; driftcheck reads arrays, Sets and objects", value.node)
            keys.append((value.value, value.node))
        elif isinstance(value, Arr):
            seen: set[str] = set()
            for item in value.items:
                if isinstance(item, Other):
                    raise Refusal(item.why, item.node)
                if not isinstance(item, Str):
                    raise Refusal(f"an element of {where} is an {_kind(item)}, not a string", item.node)
                if value.kind == "set" and item.value in seen:
                    continue  # a Set holds each key once, as node does
                seen.add(item.value)
                keys.append((item.value, item.node))
        else:
            assert isinstance(value, Obj)
            keys.extend((prop.key, prop.key_node) for prop in object_keys(value))
        return
    step = rest[0]
    if depth == len(steps):
        steps.append(step.field)
    if step.field is None:
        if not isinstance(value, Arr):
            raise Refusal(f"{where} is an {kind}, not an array: [] does not apply", value.node)
        for item in value.items:
            _walk(item, rest[1:], depth + 1, types, steps, frozen, keys, selector)
        return
    if not isinstance(value, Obj):
        raise Refusal(f"{where} is an {kind}, not an object: .{step.field} does not apply", value.node)
    prop = last_prop(value, step.field)
    if prop is None:
        raise Refusal(f"{where} has no property {step.field!r}", value.node)
    if prop.value is None:
        raise Refusal(f"{where}.{step.field} is a method, not a value", prop.key_node)
    _walk(prop.value, rest[1:], depth + 1, types, steps, frozen, keys, selector)


def _kind(value: Value) -> str:
    if isinstance(value, Str):
        return "string"
    if isinstance(value, Arr):
        return value.kind
    if isinstance(value, Obj):
        return "object"
    return "expression"


# ------------------------------------------------------------------------------------------ occurrences
def _occurrences(source: SourceFile, module: Module, declaration: Declaration, path: Path,
                 name: str, frozen: bool) -> tuple[list[Occurrence], set[str]]:
    """Every use of the binding in its file, and the other names it is exported as."""
    data = source.data
    display = source.display
    out = [_occurrence(source, declaration.name_node, "definition")]
    classifier = Classifier(data, name, path, module.rebound, frozen)
    for ref in references(data, module.root, name, declaration.name_node):
        verdict = classifier.reference(ref) if not _rebinds(ref) else None
        if verdict is None:
            out.append(_occurrence(source, ref, "unproven",
                                   f"{name} is assigned or declared again here; keep one declaration and put every "
                                   "key in it"))
        elif verdict.node is None:
            out.append(_occurrence(source, ref, "read"))
        else:
            out.append(_occurrence(source, ref, "read"))
            out.append(_occurrence(source, verdict.node, "unproven", verdict.why))
    for ref in classifier.exports:  # `why` carries the export kind to read(); the driver ignores it for reads
        default = ref.parent.type == "export_statement"
        out.append(Occurrence(display, *_position(source, ref), "read", "export default" if default else "export"))
    for node in _evals(data, module.root):
        out.append(_occurrence(source, node, "unproven", "direct eval can change any binding in scope"))
    return out, classifier.export_names


def _rebinds(ref: Any) -> bool:
    from driftcheck.languages.typescript.soundness import _written_name

    return bool(_written_name(ref))


def _evals(data: bytes, root: Any) -> list[Any]:
    if b"eval" not in data:
        return []
    return [n for n in _walk_nodes(root) if n.type == "identifier" and n.text == b"eval"]


def _walk_nodes(root: Any) -> Any:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def _position(source: SourceFile, node: Any) -> tuple[int, int]:
    row, col = node.start_point
    return row + 1, source.point_column(row, col)


def _occurrence(source: SourceFile, node: Any, role: str, why: str = "") -> Occurrence:
    line, column = _position(source, node)
    return Occurrence(source.display, line, column, role, why)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ comments
def _comments(source: SourceFile, root: Any, declaration: Declaration) -> tuple[tuple[Comment, ...],
                                                                                tuple[Comment, ...]]:
    """Comments directly above the definition's statement or at the end of its first line; other pragmas."""
    data = source.data
    statement = declaration.statement
    first_line = statement.start_point[0]
    attached_ids: set[int] = set()
    comments = [n for n in _walk_nodes(root) if n.type == "comment"] if b"//" in data or b"/*" in data else []
    comments.sort(key=lambda n: n.start_byte)
    by_end_line = {c.end_point[0]: c for c in comments}
    line = first_line - 1
    while line in by_end_line:
        comment = by_end_line[line]
        if comment.start_point[1] != _indent(data, comment):  # code before it on that line
            break
        attached_ids.add(comment.start_byte)
        line = comment.start_point[0] - 1
    for comment in comments:
        if comment.start_point[0] == first_line and comment.start_byte >= statement.start_byte:
            end_of_line = data.find(b"\n", comment.end_byte)
            rest = data[comment.end_byte:end_of_line if end_of_line != -1 else len(data)]
            if not rest.strip():
                attached_ids.add(comment.start_byte)
    attached: list[Comment] = []
    other: list[Comment] = []
    for comment in comments:
        body = syntax.text(data, comment)
        body = body[2:-2] if body.startswith("/*") else body[2:]
        row, col = comment.start_point
        item = Comment(body, source.display, row + 1, source.point_column(row, col))
        if comment.start_byte in attached_ids:
            attached.append(item)
        elif "driftcheck:" in body:
            other.append(item)
    return tuple(attached), tuple(other)


def _indent(data: bytes, node: Any) -> int:
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    prefix = data[line_start:node.start_byte]
    return len(prefix) if not prefix.strip() else -1


# ------------------------------------------------------------------------------------------ discover
def candidates(source: SourceFile, language: str = "typescript") -> list[Candidate]:
    """Every top-level binding holding an array of strings or an object, and `[].field` projections."""
    grammar = syntax.grammar_for(source.path, language)
    root = syntax.tree(source, grammar).root_node
    if root.has_error:
        return []
    module = module_of(source, grammar)
    out: list[Candidate] = []
    counts: dict[str, int] = {}
    for declaration in module.declarations:
        counts[declaration.name] = counts.get(declaration.name, 0) + 1
    for declaration in module.declarations:
        if declaration.kind not in _LISTS or declaration.value is None or counts[declaration.name] != 1:
            continue
        value = Evaluator(module, declaration.statement.start_byte).value(declaration.value)
        for selector in _selectors(declaration.name, value):
            try:
                selected = select(value, selector)
            except Refusal:
                continue
            out.append(Candidate(format_selector(selector),
                                 tuple(node_key(source, node, key) for key, node in selected.keys)))
    return out


def _selectors(name: str, value: Value) -> list[Selector]:
    if isinstance(value, Obj) or (isinstance(value, Arr) and all(isinstance(i, Str) for i in value.items)):
        return [Selector(name, ())]
    if isinstance(value, Arr) and value.items and all(isinstance(i, Obj) for i in value.items):
        fields = [p.key for p in value.items[0].props if isinstance(p.value, Str)]  # type: ignore[union-attr]
        return [Selector(name, (Step(None), Step(f))) for f in fields]
    return []


def keys_of(keys: tuple[Key, ...]) -> list[str]:
    return [k.key for k in keys]
