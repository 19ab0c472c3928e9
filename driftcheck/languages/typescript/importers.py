"""An exported list can be changed by any module that imports it: follow it into them.

`as const` and `readonly` are erased at run time, so `import { X } from "./lists"; X.push("K")` changes
the list that every other importer sees. For an exported binding whose path is not `Object.freeze`d,
every TypeScript/JavaScript file under the root (minus `node_modules`, `.git` and build outputs) that
spells the module's file name is parsed, and every use of the imported binding is classified with the
same allowlist as in the defining file. Ways in that driftcheck does not follow — a namespace object used
as a value, `require(...)`/`import(...)` kept whole, a re-export — are `unproven`, with the fix: import the
name directly, or freeze the list.

Not covered (documented limits): a module loaded through a computed path, and code that patches
built-ins (`Array.prototype.includes = ...`) — no static reader can see those.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Iterator

from driftcheck.languages.base import Occurrence
from driftcheck.languages.typescript import syntax
from driftcheck.languages.typescript.soundness import Classifier, Path, _written_name, references
from driftcheck.sources import SourceFile, SourceFiles

_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_SKIP_DIRS = frozenset({"node_modules", ".git", "dist", "build", ".next", "out", "coverage", "vendor", ".turbo",
                        ".cache", ".venv", "__pycache__"})
_MAX_BYTES = 2 * 1024 * 1024


_WALKS: "weakref.WeakKeyDictionary[SourceFiles, tuple[str, ...]]" = weakref.WeakKeyDictionary()


def _script_files(files: SourceFiles) -> tuple[str, ...]:
    """The TS/JS files under the root, listed once per run (per SourceFiles)."""
    if files not in _WALKS:
        _WALKS[files] = _walk(str(files.root))
    return _WALKS[files]


def _walk(root: str) -> tuple[str, ...]:
    found: list[str] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found += (os.path.join(directory, n) for n in sorted(names) if n.lower().endswith(_EXTENSIONS))
    return tuple(found)


def importer_occurrences(source: SourceFile, files: SourceFiles, name: str, path: Path,
                         default: bool = False, aliases: set[str] | None = None) -> list[Occurrence]:
    stem = source.path.stem
    module_names = {stem} if stem != "index" else {"index", source.path.parent.name}
    out: list[Occurrence] = []
    for loaded in _other_scripts_spelling(source, files, [m.encode("utf-8") for m in module_names]):
        out += _one_file(loaded, name, path, module_names, default, {name, *(aliases or ())})
    return out


def global_occurrences(source: SourceFile, files: SourceFiles, name: str, path: Path,
                       frozen: bool = False) -> list[Occurrence]:
    """A top-level binding of a file that is not a module (a classic script; for TypeScript, a global script)
    is visible to every other script: classify every use of the name in every other file that spells it and
    does not declare its own, and refuse `window.NAME`/`globalThis.NAME`."""
    out: list[Occurrence] = []
    for loaded in _other_scripts_spelling(source, files, [name.encode("utf-8")]):
        out += _global_file(loaded, name, path, frozen)
    return out


def _other_scripts_spelling(source: SourceFile, files: SourceFiles, needles: list[bytes]) -> Iterator[SourceFile]:
    """Every other script file of the tree whose bytes hold a needle (or a `\\u` escape, which may spell one)."""
    own = os.path.abspath(source.path)
    for candidate in _script_files(files):
        if os.path.abspath(candidate) == own:
            continue
        try:
            if os.path.getsize(candidate) > _MAX_BYTES:
                continue
            with open(candidate, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if not any(needle in data for needle in needles) and b"\\u" not in data:
            continue
        loaded = files.load(candidate)
        if isinstance(loaded, SourceFile):
            yield loaded


_GLOBAL_OBJECTS = frozenset({"window", "globalThis", "self", "global", "this"})


def _global_file(other: SourceFile, name: str, path: Path, frozen: bool) -> list[Occurrence]:
    grammar = syntax.grammar_for(other.path, "typescript")
    root = syntax.tree(other, grammar).root_node
    data = other.data
    from driftcheck.languages.typescript.reader import module_of

    module = module_of(other, grammar)
    classifier = Classifier(data, name, path, module.rebound, frozen)
    out: list[Occurrence] = []

    def occurrence(node: Any, role: str, why: str = "") -> None:
        row, col = node.start_point
        out.append(Occurrence(other.display, row + 1, other.point_column(row, col), role, why))  # type: ignore[arg-type]

    stack = [root]
    while stack:  # window.NAME and the like reach the global binding without spelling it as a name
        node = stack.pop()
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and prop is not None and syntax.text(data, prop) == name and \
                    syntax.text(data, obj) in _GLOBAL_OBJECTS:
                occurrence(node, "unproven", f"{syntax.text(data, node)} reaches the global {name}; make the file "
                                             "a module (export the list) or wrap it in Object.freeze(...)")
        stack.extend(node.children)
    if module.top(name) and is_module(root):
        return out  # a module with its own top-level NAME: its uses are of that binding
    for ref in references(data, root, name, None):
        if _written_name(ref):
            occurrence(ref, "unproven", f"another script assigns or declares the global {name} here; make the "
                                        "file that defines it a module (export the list)")
            continue
        verdict = classifier.reference(ref)
        occurrence(ref, "read")
        if verdict.node is not None:
            occurrence(verdict.node, "unproven", f"another script can see the global {name}: {verdict.why}; "
                                                 "make the file a module (export the list) or wrap it in "
                                                 "Object.freeze(...)")
    return out


def is_module(root: Any) -> bool:
    """Does the file have its own module scope (ES import/export, or CommonJS require/module/exports)?"""
    for child in root.children:
        if child.type in ("import_statement", "export_statement"):
            return True
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and node.text in (b"require", b"module", b"exports"):
            return True
        stack.extend(node.children)
    return False


def _one_file(importer: SourceFile, name: str, path: Path, module_names: set[str],
              default: bool, exported_as: set[str]) -> list[Occurrence]:
    grammar = syntax.grammar_for(importer.path, "typescript")
    root = syntax.tree(importer, grammar).root_node
    data = importer.data
    from driftcheck.languages.typescript.reader import module_of

    module = module_of(importer, grammar)
    classifier = Classifier(data, name, path, module.rebound)
    out: list[Occurrence] = []

    def occurrence(node: Any, role: str, why: str = "") -> None:
        row, col = node.start_point
        out.append(Occurrence(importer.display, row + 1, importer.point_column(row, col), role, why))  # type: ignore[arg-type]

    def follow(local: Any, scope: Any) -> None:
        for ref in references(data, scope, syntax.text(data, local), local):
            verdict = classifier.reference(ref)
            occurrence(ref, "read")
            if verdict.node is not None:
                occurrence(verdict.node, "unproven", f"in a module that imports it: {verdict.why}; "
                                                     f"or wrap the list in Object.freeze(...) where it is declared")

    for node, specifier in _module_references(root, data):
        if not _matches(specifier, module_names):
            continue
        parent = node.parent
        if node.type == "import_statement":
            clause = next((c for c in node.named_children if c.type in ("import_clause", "import_require_clause")),
                          None)
            if clause is None:
                continue
            if clause.type == "import_require_clause":  # import x = require("./lists"): x is the namespace
                ns = next((c for c in clause.named_children if c.type == "identifier"), None)
                if ns is not None:
                    _namespace(data, root, ns, exported_as, classifier, occurrence)
                continue
            for part in clause.named_children:
                if part.type == "identifier" and default:  # import NAME_OR_ANY from "./lists"
                    follow(part, root)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        imported = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias")
                        if imported is not None and (syntax.text(data, imported) in exported_as or
                                                     (default and syntax.text(data, imported) == "default")):
                            follow(alias or imported, root)
                elif part.type == "namespace_import":
                    ns = next((c for c in part.named_children if c.type == "identifier"), None)
                    if ns is not None:
                        _namespace(data, root, ns, exported_as, classifier, occurrence)
        elif node.type == "export_statement":
            if any(n.encode() in data[node.start_byte:node.end_byte] for n in exported_as) or \
                    b"*" in data[node.start_byte:node.end_byte]:
                occurrence(node, "unproven", f"{importer.display} re-exports it, and driftcheck does not follow "
                                             "re-exports; wrap the list in Object.freeze(...) where it is declared")
        elif node.type == "call_expression":  # require(...) or import(...)
            target = parent
            while target is not None and target.type in syntax.TRANSPARENT | {"await_expression"}:
                target = target.parent
            if target is not None and target.type == "variable_declarator" and \
                    target.child_by_field_name("value") is not None and \
                    target.child_by_field_name("name").type == "object_pattern" and \
                    syntax.unwrap(target.child_by_field_name("value")) == node:
                pattern = target.child_by_field_name("name")
                for child in pattern.named_children:
                    key = child if child.type == "shorthand_property_identifier_pattern" else \
                        child.child_by_field_name("key") if child.type == "pair_pattern" else None
                    if key is None:
                        occurrence(child, "unproven", f"{importer.display} destructures the module in a form "
                                                      "driftcheck does not follow")
                    elif syntax.text(data, key) in exported_as:
                        local = child if child.type == "shorthand_property_identifier_pattern" else \
                            child.child_by_field_name("value")
                        if local is None or local.type != "identifier" and \
                                local.type != "shorthand_property_identifier_pattern":
                            occurrence(child, "unproven", "a destructured import driftcheck does not follow")
                        else:
                            follow(local, root)
            elif name.encode() in data:
                occurrence(node, "unproven", f"{importer.display} loads the module as a whole at run time, so "
                                             f"{name} can change through it; import {{ {name} }} by name, or wrap "
                                             "the list in Object.freeze(...)")
    return out


def _namespace(data: bytes, root: Any, ns: Any, exported_as: set[str], classifier: Classifier,
               occurrence: Any) -> None:
    name = sorted(exported_as)[0]
    for ref in references(data, root, syntax.text(data, ns), ns):
        parent = ref.parent
        if parent.type == "member_expression" and parent.child_by_field_name("object") == ref:
            prop = parent.child_by_field_name("property")
            if syntax.text(data, prop) not in exported_as:
                continue
            occurrence(parent, "read")
            verdict = classifier.reference(parent)
            if verdict.node is not None:
                occurrence(verdict.node, "unproven", f"in a module that imports it: {verdict.why}")
            continue
        occurrence(ref, "unproven", f"the module namespace {syntax.text(data, ns)} is used as a value, so "
                                    f"{name} can change through it; import {{ {name} }} by name, or wrap the list "
                                    "in Object.freeze(...)")


def _module_references(root: Any, data: bytes) -> Iterator[tuple[Any, str]]:
    """import/export ... from "spec", require("spec") and import("spec"), with the specifier."""
    for node in root.children:  # import and export statements are top-level only
        if node.type in ("import_statement", "export_statement"):
            source = node.child_by_field_name("source")
            if source is None:  # TypeScript's `import x = require("spec")`
                clause = next((c for c in node.named_children if c.type == "import_require_clause"), None)
                source = next((c for c in clause.named_children if c.type == "string"), None) if clause else None
            if source is not None and source.type == "string":
                yield node, syntax.text(data, source)[1:-1]
    if b"require" not in data and b"import(" not in data and b"import (" not in data:
        return
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if data.find(b"require", node.start_byte, node.end_byte) == -1 and \
                data.find(b"import", node.start_byte, node.end_byte) == -1:
            continue
        if kind == "call_expression":
            function = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if function is not None and function.type in ("identifier", "import") and \
                    syntax.text(data, function) in ("require", "import") and args is not None:
                first = next((a for a in args.named_children if a.type != "comment"), None)
                if first is not None and first.type == "string":
                    yield node, syntax.text(data, first)[1:-1]
                elif first is not None:
                    yield node, "*"  # a computed module path: could be anything
        stack.extend(node.children)


def _matches(specifier: str, module_names: set[str]) -> bool:
    if specifier == "*":
        return True
    last = specifier.rstrip("/").rsplit("/", 1)[-1]
    for extension in _EXTENSIONS:
        if last.endswith(extension):
            last = last[: -len(extension)]
            break
    return last in module_names or (last in ("", ".", "..") and bool(module_names & {"index"}))


