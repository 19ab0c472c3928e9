"""YAML (tree-sitter-yaml), read as a YAML 1.2 loader with the core schema reads it.

What is read exactly: plain, single- and double-quoted scalars (every escape, line
folding), literal and folded block scalars (chomping and indentation indicators),
block and flow collections, explicit `?` keys, and `!!str`. `on:` is the string
"on" (YAML 1.2; YAML 1.1 loaders would make it a boolean).

What is refused, because its meaning depends on more than the text at hand:
anchors and aliases (DC102), merge keys `<<` (DC102), every tag but `!!str` (DC102),
mapping keys that are not strings in the core schema (`true:`, `1:`, `~:`: a loader
makes them booleans, numbers or null, and JavaScript then stringifies them
differently from Python), duplicate keys anywhere in the document (DC103: the loader
rejects the file), `%YAML` directives other than 1.2, `%TAG` directives, and a
stream of more than one document (DC103: a path from the root would be ambiguous).
A refusal inside one value refuses only the lists that reach or pass through it.
"""

from __future__ import annotations

from typing import Any

from driftcheck import rules
from driftcheck.languages import datatree
from driftcheck.languages.base import Comment
from driftcheck.languages.common import node_finding, ts_tree
from driftcheck.languages.datatree import Document, Entry, Value
from driftcheck.languages.yaml import scalars
from driftcheck.model import Finding
from driftcheck.sources import SourceFile

_SCALARS = frozenset({"plain_scalar", "single_quote_scalar", "double_quote_scalar", "block_scalar"})


def document(source: SourceFile) -> Document:
    """The file as a neutral tree, built once per run."""
    return source.analysis("yaml-document", lambda: _Builder(source).build())


class _Builder:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.path = source.display
        self.data = source.data
        self.problems: list[Finding] = []
        self._key_identity: dict[int, object] = {}  # non-string keys: their resolved value (uniqueness)
        self._anchors: set[str] = set()  # anchors defined so far, in document order

    def finding(self, code: str, node: Any, detail: str) -> Finding:
        return node_finding(code, detail, self.source, node)

    def build(self) -> Document:
        tree = ts_tree(self.source, "yaml")
        root = tree.root_node
        comments, own_line = self._comments(root)
        if root.has_error:
            from driftcheck.languages.yaml.loader import confirm_error

            return Document(None, [confirm_error(self.source, root)], comments, own_line)
        documents = []
        for doc in root.children:
            if doc.type != "document":
                continue
            for child in doc.children:
                if child.type == "yaml_directive":
                    version = self.text(child).split()[-1]
                    if version != "1.2":
                        self.problems.append(self.finding(
                            "DC102", child, f"%YAML {version} asks for YAML {version} rules, which driftcheck does "
                            "not read (booleans such as `on` differ); remove the directive or write %YAML 1.2"))
                elif child.type in ("tag_directive", "reserved_directive"):
                    self.problems.append(self.finding(
                        "DC102", child, f"the directive {self.text(child).split()[0]} is not read by driftcheck; "
                        "remove it"))
                elif child.type in ("block_node", "flow_node"):
                    documents.append(child)
        if len(documents) > 1:
            second = documents[1]
            self.problems.append(self.finding(
                "DC103", second, f"this file is a stream of {len(documents)} YAML documents; a path from the root "
                "would be ambiguous, so driftcheck reads single-document files only"))
        value = self.value(documents[0], 0) if documents else None
        return Document(value, self.problems, comments, own_line)

    def _comments(self, root: Any) -> tuple[list[Comment], set[int]]:
        comments: list[Comment] = []
        own_line: set[int] = set()
        stack = [root]
        starts = self.source.line_starts()
        while stack:
            node = stack.pop()
            if node.type == "comment":
                row, col = node.start_point
                text = self.text(node)[1:]
                comments.append(Comment(text, self.path, row + 1, self.source.point_column(row, col) + 1))
                if not self.data[starts[row]:node.start_byte].strip():
                    own_line.add(row + 1)
            elif node.child_count:
                stack.extend(node.children)
        comments.sort(key=lambda c: (c.line, c.column))
        return comments, own_line

    def text(self, node: Any) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8")

    def span(self, node: Any) -> Any:
        return datatree.span_of(node, self.source.point_column)

    def value(self, node: Any, parent_indent: int) -> Value:
        """A block_node/flow_node (or a bare scalar/collection node) as a Value."""
        problem: Finding | None = None
        tag: str | None = None
        content = None
        for child in node.children if node.type in ("block_node", "flow_node") else (node,):
            if child.type == "anchor":
                self._anchors.add(self.text(child)[1:])
                problem = problem or self.finding(
                    "DC102", child, f"the anchor {self.text(child)} is refused: a value another part of the file "
                    "can alias is read only without anchors and aliases; write the keys out")
            elif child.type == "tag":
                tag = self.text(child)
            elif child.type == "comment":
                continue
            else:
                content = child
        at = content if content is not None else node
        row, col = at.start_point
        line, column = row + 1, self.source.point_column(row, col)
        span = self.span(at)
        if content is None:
            value = Value("other", line, column, span, what="null")
        elif content.type == "alias":
            if self.text(content)[1:] not in self._anchors:
                self.problems.append(self.finding(
                    "DC101", content, f"YAML error: the alias {self.text(content)} names no anchor defined before "
                    "it, so YAML loaders reject the file; fix the file so it parses"))
            value = Value("other", line, column, span, what="an alias", problem=self.finding(
                "DC102", content, f"the alias {self.text(content)} is refused: its value is defined elsewhere; "
                "write the keys out here"))
        elif content.type in _SCALARS:
            value = self.scalar(content, tag, parent_indent, line, column, span)
        elif content.type in ("block_mapping", "flow_mapping"):
            value = self.mapping(content, line, column, span)
        elif content.type in ("block_sequence", "flow_sequence"):
            value = self.sequence(content, line, column, span)
        else:
            value = Value("other", line, column, span, what=content.type, problem=self.finding(
                "DC102", content, f"driftcheck does not read this YAML construct ({content.type})"))
        if tag is not None and not (tag == "!!str" and value.kind == "str") and value.problem is None:
            value.problem = self.finding(
                "DC102", node, f"the tag {tag} is refused: driftcheck reads untagged values (and !!str scalars) "
                "only, since a tag can change what a loader makes of the value")
        if problem is not None and value.problem is None:
            value.problem = problem
        return value

    def scalar(self, node: Any, tag: str | None, parent_indent: int, line: int, column: int, span: Any) -> Value:
        raw = self.text(node)
        try:
            if node.type == "plain_scalar":
                text = scalars.plain(raw)
                kind = None if tag == "!!str" else scalars.plain_type(text)
                if kind is not None:
                    return Value("other", line, column, span, what=f"{kind} ({raw!r} in YAML 1.2)",
                                 identity=scalars.plain_identity(text, kind))
            elif node.type == "single_quote_scalar":
                text = scalars.single_quoted(raw)
            elif node.type == "double_quote_scalar":
                text = scalars.double_quoted(raw)
            else:
                header_end = self.data.find(b"\n", node.start_byte)
                header_line = raw.split("\n", 1)[0]
                header = header_line.split("#", 1)[0].strip()
                if header_end < 0:
                    after = ""
                else:
                    after = self.data[header_end + 1:self._block_end(node)].decode("utf-8")
                text = scalars.block(after, header, parent_indent)
        except scalars.ScalarError as exc:
            return Value("other", line, column, span, what="a scalar", problem=self.finding("DC102", node, str(exc)))
        return Value("str", line, column, span, text=text)

    def _block_end(self, node: Any) -> int:
        """The end of a block scalar including its trailing empty lines (kept by `+` chomping)."""
        end = node.end_byte
        newline = self.data.find(b"\n", end)
        if newline < 0:
            return len(self.data)
        end = newline + 1
        while end < len(self.data):
            nxt = self.data.find(b"\n", end)
            line = self.data[end:nxt if nxt >= 0 else len(self.data)]
            if line.strip(b" \r"):
                break
            end = nxt + 1 if nxt >= 0 else len(self.data)
        return end

    def mapping(self, node: Any, line: int, column: int, span: Any) -> Value:
        value = Value("map", line, column, span)
        seen: dict[str, Entry] = {}
        indent = node.start_point[1]
        for child in node.children:
            if child.type in ("block_mapping_pair", "flow_pair"):
                key_node = child.child_by_field_name("key")
                value_node = child.child_by_field_name("value")
            elif child.type == "flow_node":  # `{a, b}`: a key with a null value
                key_node, value_node = child, None
            else:
                continue
            if child.type == "block_mapping_pair" and value_node is not None and _compact_mapping(child, value_node):
                self.problems.append(self.finding(
                    "DC101", value_node, "YAML syntax error: a block mapping or sequence cannot start on the line "
                    "of its key's `:` (YAML 1.2 loaders reject it); fix the file so it parses"))
            entry = self.entry(child, key_node, value_node, indent)
            if entry.key == "<<" and key_node is not None and _plain(key_node):
                value.problem = value.problem or self.finding(
                    "DC102", key_node, "the merge key << is refused: it copies keys from elsewhere; write the keys "
                    "out in this mapping")
            identity = entry.key if entry.key is not None else self._key_identity.pop(id(entry), None)
            if identity is not None:
                first = seen.setdefault(identity, entry)  # type: ignore[arg-type]
                if first is not entry:
                    shown = entry.key if entry.key is not None else \
                        (self.text(key_node).strip() if key_node is not None else "")
                    self.problems.append(rules.finding(
                        "DC103", self.path, entry.line, entry.column,
                        detail=f"the key {shown!r} appears twice in one mapping (first at line {first.line}); "
                        "YAML requires unique keys and the YAML 1.2 loader rejects the file"))
            value.entries.append(entry)
        return value

    def entry(self, pair: Any, key_node: Any, value_node: Any, indent: int) -> Entry:
        key = self.value(key_node, indent) if key_node is not None else None  # the key first: anchors in order
        if value_node is not None:
            child = self.value(value_node, indent)
        else:
            row, col = pair.end_point
            child = Value("other", row + 1, self.source.point_column(row, col), self.span(pair), what="null")
        if key is None:
            row, col = pair.start_point
            entry = Entry(None, row + 1, self.source.point_column(row, col), child,
                          self.finding("DC102", pair, "a mapping entry with an empty (null) key"))
            self._key_identity[id(entry)] = ("null",)
            return entry
        if key.problem is not None:
            return Entry(None, key.line, key.column, child, key.problem)
        if key.kind != "str":
            what = key.what if key.kind == "other" else f"a {'mapping' if key.kind == 'map' else 'sequence'}"
            entry = Entry(None, key.line, key.column, child, rules.finding(
                "DC102", self.path, key.line, key.column,
                detail=f"this mapping key is {what}, not a string; a YAML loader does not give the text as "
                "written, so driftcheck refuses it (quote the key to make it a string)"))
            if key.identity is not None:
                self._key_identity[id(entry)] = key.identity
            return entry
        return Entry(key.text, key.line, key.column, child)

    def sequence(self, node: Any, line: int, column: int, span: Any) -> Value:
        value = Value("seq", line, column, span)
        indent = node.start_point[1]
        for child in node.children:
            if child.type == "block_sequence_item":
                inner = next((c for c in child.children if c.type in ("block_node", "flow_node")), None)
                if inner is None:
                    row, col = child.end_point
                    element = Value("other", row + 1, self.source.point_column(row, col), self.span(child),
                                    what="null")
                else:
                    element = self.value(inner, indent)
            elif child.type == "flow_node":
                element = self.value(child, indent)
            elif child.type == "flow_pair":  # `[a: b]` is a one-pair mapping
                row, col = child.start_point
                element = Value("map", row + 1, self.source.point_column(row, col), self.span(child))
                element.entries.append(self.entry(child, child.child_by_field_name("key"),
                                                  child.child_by_field_name("value"), indent))
            else:
                continue
            value.entries.append(Entry(None, element.line, element.column, element))
        return value


def _compact_mapping(pair: Any, value: Any) -> bool:
    """`key: a: b` / `: - a`: a block collection on the line of an implicit key's `:` (tree-sitter accepts it)."""
    if any(c.type == "?" for c in pair.children):
        return False  # after an explicit `? key`, `: a: b` is a compact mapping YAML allows
    colon = next((c for c in pair.children if c.type == ":"), None)
    inner = value.named_children[-1] if value.type == "block_node" and value.named_children else None
    return colon is not None and inner is not None and inner.type in ("block_mapping", "block_sequence") and \
        inner.start_point[0] == colon.start_point[0]


def _plain(node: Any) -> bool:
    return any(c.type == "plain_scalar" for c in node.children) if node.type == "flow_node" else \
        node.type == "plain_scalar"


BACKEND = datatree.DocumentBackend("yaml", document)
