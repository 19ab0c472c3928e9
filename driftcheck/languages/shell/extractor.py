"""Bash extractor: a `NAME=...` list in a shell script, with the file position of every key.

tree-sitter-bash finds the statements (definitions, appends, `unset`, `read`, ...) and
their context (top level, function, `if`, loop, subshell, `&&` list, pipeline). Only the
statements that spell a name the list depends on are read — bash removes quotes and
backslashes from names too, so `unset LIST_'KEYS'` and `unset $'\\x4cIST_KEYS'` count; words
tree-sitter splits in two inside `declare`/`unset` are joined as bash joins them. The
value of the one top-level definition is then decoded from its exact source bytes by a
small bash word lexer below, because tree-sitter-bash keeps escapes raw and splits words
in ways bash does not (it is a structure parser, not an evaluator). Where the two could
disagree driftcheck refuses to guess: a value that does not start right after `=` or is
followed by a character that continues the word in bash (DC102); a command tree-sitter
runs on past an unescaped newline, a name split by `\\<newline>`, a stray carriage return
outside quotes, `declare$x` read as the builtin (DC101 when it touches the list or a
variable it expands); a reserved word such as `fi` where a command should be (DC101).
A carriage return outside quotes (a CRLF file) is DC101: bash keeps it in the word.

Semantics, as bash 5 evaluates them:

* `NAME="..."` (string): quote removal and the static expansions below, no word
  splitting at assignment; the list is the string split on IFS whitespace (space, tab,
  newline), as the harness's unquoted `$NAME` does. A split word holding a glob
  character (`* ? [`), a backslash or a control character is DC102: the harness would
  glob it, or it is a quoting mistake (inside single quotes `\\<newline>` is a literal
  backslash, not a continuation).
* `NAME=(...)` (indexed array): each element word is expanded like a command argument
  (unquoted expansions split, unquoted glob/brace/tilde is DC102); comments between
  elements are allowed; `[i]=x` elements are DC102.
* `NAME+=...` at the top level after the definition: string + string concatenates text
  (split afterwards), array + array adds elements; mixing them is DC102.
* `$VAR`/`${VAR}` is replaced by VAR's value when VAR has exactly one unconditional
  top-level definition (plus top-level appends) before the use and is not assigned in
  any function or conditional before it; anything else is DC102.
* A top-level `{ ...; }` group is treated like any other compound command: a
  definition inside it is DC103 (fail closed; move it out of the braces).
* Position-based problems are DC103 (a definition or append that is not an unconditional
  top-level statement, a second `=` definition in any form); operations that change the
  list are DC104 (`unset`, `read`, `mapfile`, `printf -v`, `for NAME in`, arithmetic,
  `${NAME:=...}`, `NAME[i]=`, `declare -n REF=NAME`, `eval` naming it, an append to a
  readonly list, a later `declare -a`/`-i`/... of it). `export NAME`/`readonly NAME`
  without a value change nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator

from driftcheck.languages.common import (collect_pragmas, first_error_node, node_span, symbol_not_found, syntax_error,
                                       ts_parser, ts_tree)
from driftcheck.model import ExtractedList, Finding, Key, ListRef, Span
from driftcheck.sources import SourceFile, SourceFiles

_IFS_WS = " \t\n"
_MAX_EXPANSION_DEPTH = 40  # variables expanding variables; far beyond any real harness, well within the stack
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_TEXT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGNED_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[|\+?=)")
_NAME_OR_PLUS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+")
_WORD_BEFORE = re.compile(rb"\+?[A-Za-z0-9_]+")  # `[A-Za-z0-9_]+\+?` at the end, reversed


class _Word:
    """Stands in for the match object of the word before a continuation (`group(0)` only)."""

    def __init__(self, text: bytes) -> None:
        self.text = text

    def group(self, index: int) -> bytes:
        return self.text
# After a value bash ends the word only at a blank, a newline or an operator character.
_WORD_END = frozenset(b" \t\n;&|)<>")
_DECL_BUILTINS = frozenset({"declare", "typeset", "export", "readonly", "local"})
# Flags a definition may carry, per builtin; everything else changes how the value is stored.
_DEF_FLAGS = {"declare": set("rxgat"), "typeset": set("rxgat"), "local": set("rxgat"), "export": set(),
              "readonly": set("a")}
# Flags of a value-less declaration (`export NAME`, `readonly NAME`) that leave the value alone.
_HARMLESS_DECL_FLAGS = set("rxgtp")
_FLAG_WHY = {
    "A": "an associative array (`-A`) has no defined key order; use an indexed array `NAME=(...)` or a string",
    "i": "the integer attribute (`-i`) evaluates the value arithmetically; drop the flag",
    "n": "a name reference (`-n`) points at another variable; define the list itself",
    "l": "the lowercase attribute (`-l`) rewrites the value; write the keys as they are and drop the flag",
    "u": "the uppercase attribute (`-u`) rewrites the value; write the keys as they are and drop the flag",
    "c": "the capitalize attribute (`-c`) rewrites the value; drop the flag",
}
# Parents that do not change whether a statement runs (an assignment's own wrappers).
_TRANSPARENT = frozenset({
    "variable_assignments", "variable_assignment", "declaration_command", "unset_command", "command", "command_name",
    "string", "concatenation", "expansion", "simple_expansion", "subscript", "arithmetic_expansion",
    "binary_expression", "postfix_expression", "unary_expression", "parenthesized_expression",
})
# A reserved word where a command name should be is a bash syntax error tree-sitter-bash lets through.
_RESERVED_AS_COMMAND = frozenset({"then", "fi", "do", "done", "else", "elif", "esac", "}"})
# A reserved word after a blank or an operator: where a command can start. The tree says which of
# these tree-sitter-bash took for a command name (`X=1 fi` too, which bash would run as a command).
_RESERVED_WORD = rb"(then|fi|do|done|else|elif|esac|\})(?=[ \t\r\n;&|)<>]|\Z)"
_RESERVED_AFTER_BREAK = re.compile(rb"[\s;&|(!{`]" + _RESERVED_WORD)
_RESERVED_AT_START = re.compile(_RESERVED_WORD)
# Statements that can define or change a variable, in the order their events are recorded.
_HANDLERS = {"variable_assignment": 0, "declaration_command": 1, "unset_command": 2, "command": 3,
             "variable_name": 4, "expansion": 5, "binary_expression": 6, "postfix_expression": 7,
             "unary_expression": 7}
_MUTATING_COMMANDS = frozenset({"read", "mapfile", "readarray", "printf", "getopts", "let", "eval", "unset", "wait",
                                "trap"})
_PREFIX_COMMANDS = frozenset({"builtin", "command", "time"})
_ARITH_ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})
# Text bash does not split into words here (the value lexer or nobody reads it).
_OPAQUE_TEXT = frozenset({"string", "raw_string", "ansi_c_string", "translated_string", "comment", "heredoc_body",
                          "heredoc_content", "heredoc_redirect"})
_QUERY = """
(variable_assignment) @assign
(declaration_command) @decl
(unset_command) @unset
(command) @cmd
(for_statement variable: (variable_name) @forvar)
(expansion) @expansion
(binary_expression) @binary
(postfix_expression) @step
(unary_expression) @step
"""


class _Stop(Exception):
    """A DC1xx finding that ends the evaluation (fail closed)."""

    def __init__(self, code: str, message: str, offset: int, key: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.offset, self.key = code, message, offset, key


# The classes below are private records, made by hand with __slots__: a @dataclass costs ~0.15 ms to
# create at import, paid by every check.


class _Event:
    """One statement that defines, appends to, declares or changes a variable."""

    __slots__ = ("name", "kind", "node", "locate", "maybe_local", "value", "op_end", "builtin", "flags",
                 "plus_flags", "detail", "_place")

    def __init__(self, name: str, kind: str, node: Any, locate: Any, value: Any = None, op_end: int = 0,
                 builtin: str | None = None, flags: str = "", plus_flags: str = "", detail: str = "") -> None:
        self.name = name
        self.kind = kind  # def | append | decl | mutate | element | opaque | continued | prefix
        self.node = node  # what a finding points at
        self.locate = locate  # node -> (context, in_function, stmt)
        self.maybe_local = False  # `local`/`declare` without -g: a separate variable when inside a function
        self.value = value  # value node of def/append
        self.op_end = op_end  # byte offset just after `=`/`+=`
        self.builtin = builtin  # declare/typeset/export/readonly/local
        self.flags = flags  # `-` flags
        self.plus_flags = plus_flags  # `+` flags
        self.detail = detail  # what a mutation is, e.g. "unset BYOK_STRIP_KEYS"
        self._place: Any = None

    # Where a statement runs is found by walking up the tree, a few microseconds per event; most events
    # name variables the list never depends on, so it is worked out on first need.
    def _located(self) -> tuple[str | None, bool, Any]:
        if self._place is None:
            self._place = self.locate(self.node)
        return self._place  # type: ignore[no-any-return]

    @property
    def context(self) -> str | None:
        """None: runs unconditionally at the top level."""
        return self._located()[0]

    @property
    def in_function(self) -> bool:
        return self._located()[1]

    @property
    def stmt(self) -> Any:
        """The top-level statement holding it (for pragmas)."""
        return self._located()[2]

    @property
    def local_scope(self) -> bool:
        """`local`/`declare` inside a function: a separate variable."""
        return self.maybe_local and self.in_function

    @property
    def start(self) -> int:
        return int(self.node.start_byte)


class _Misparse:
    """A place where tree-sitter-bash's reading differs from bash's; fatal for the names it touches."""

    __slots__ = ("offset", "names", "why", "fix")

    def __init__(self, offset: int, names: set[str], why: str, fix: str) -> None:
        self.offset, self.names, self.why, self.fix = offset, names, why, fix


class _Ch:
    """One decoded character and the byte offset of the source text that produced it."""

    __slots__ = ("text", "origin", "split")

    def __init__(self, text: str, origin: int, split: bool = False) -> None:
        self.text = text  # "" marks a quoted empty string (it still makes an array element)
        self.origin = origin
        self.split = split  # comes from an unquoted expansion: subject to word splitting


class _Value:
    __slots__ = ("kind", "chars", "elements")

    def __init__(self, kind: str, chars: list[_Ch] | None = None, elements: list[list[_Ch]] | None = None) -> None:
        self.kind = kind  # "string" | "array"
        self.chars = chars if chars is not None else []  # string
        self.elements = elements if elements is not None else []  # array


# UTF-8 lead bytes of code points U+40000 and above (unassigned planes, tags, private use). tree-sitter-bash's
# scanner reads out of bounds on some of them and can crash the process, so such files are never parsed.
_UNSAFE_FOR_PARSER = re.compile(rb"[\xf1-\xf4]")


def _bash_n_error(data: bytes) -> tuple[int, str] | None:
    """(line, message) of the first error `bash -n` reports (parse only, never runs), or None.

    Only called on the error path, so a check of a valid file never starts a process.
    """
    import shutil
    import subprocess

    bash = shutil.which("bash")
    if bash is None:
        return None
    try:
        proc = subprocess.run([bash, "-n"], input=data, capture_output=True, timeout=10,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode == 0:
        return None
    match = re.search(rb"line (\d+): (.+)", proc.stderr)
    if match is None:
        return None
    message = match.group(2).decode("utf-8", "replace").strip()
    return int(match.group(1)), message.removeprefix("syntax error: ")


def extract(ref: ListRef, source: SourceFile, files: SourceFiles) -> ExtractedList:
    """Extract `ref.symbol` from a bash script (see the module docstring for the rules)."""
    unsafe = _UNSAFE_FOR_PARSER.search(source.data)
    if unsafe is not None:
        line, column = source.position(unsafe.start())
        char = source.data[unsafe.start():unsafe.start() + 4].decode("utf-8", "replace")[:1]
        return ExtractedList(ref=ref, keys=None, findings=(Finding(
            "DC105", f"cannot read {source.display}: it contains U+{ord(char):X}, a character from a plane the bash "
            "parser cannot handle safely; remove it", source.display, line, column),))
    # One analysis per file, shared by every list read from it (contracts often name one harness many times).
    return source.analysis("bash", lambda: _Script(source)).extract(ref)


class _Script:
    """What one bash file says about its variables, gathered name by name as lists ask for them.

    Only statements that mention a name can define or change it, so the events of a name are
    collected from the places its letters occur (quotes, backslashes and `$` may sit between them)
    instead of from every statement of the file: a 110 KB harness has thousands of commands and
    a list touches a few hundred of them.
    """

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.data: bytes = source.data
        self.tree = ts_tree(source, "bash")
        self.events: dict[str, list[_Event]] = {}
        self.misparsed: list[_Misparse] = []
        self._collected: set[str] = set()  # names whose events are complete
        self._handled: set[Any] = set()  # statements already turned into events (for any name)
        self._visited: set[Any] = set()  # nodes whose ancestors were already walked
        self._everything = False
        self._ansi_c: list[Any] | None = None
        self._file_checked = False
        self._syntax_error: Finding | None = None
        self._cache: dict[tuple[str, int], list[_Ch]] = {}
        self._resolving: set[str] = set()

    # ------------------------------------------------------------------ driver

    def extract(self, ref: ListRef) -> ExtractedList:
        problem = self._check_file()
        if problem is not None:
            return self._fail(ref, [problem])
        name = ref.symbol
        events = [e for e in self._events(name) if e.kind != "prefix"]
        misparsed = [self._misparse_finding(name, m) for m in self.misparsed if name in m.names]
        if misparsed:
            return self._fail(ref, misparsed)
        if not any(e.kind in ("def", "append", "element", "opaque", "continued") for e in events):
            return self._fail(ref, [self._not_found(ref)])
        findings = self._check_definitions(name, events)
        if findings:
            return self._fail(ref, findings)
        definition = next(e for e in events if e.kind == "def")
        allowances, pragma_findings = self._pragmas(definition)
        try:
            value = self._list_value(name, definition, events)
            keys = self._keys(name, value)
        except _Stop as stop:
            return self._fail(ref, [self._finding(stop.code, stop.message, stop.offset, stop.key)] + pragma_findings)
        if pragma_findings:  # DC106 is an exit-2 finding: like every other, it withholds the list
            return self._fail(ref, pragma_findings)
        findings = self._duplicates(name, keys)
        name_node = definition.node
        row, col = name_node.start_point
        return ExtractedList(
            ref=ref,
            keys=tuple(keys),
            findings=tuple(findings),
            definition=Key(name, row + 1, self.source.point_column(row, col)),
            value_span=self._value_span(definition),
            allowances=tuple(allowances),
        )

    def _check_file(self) -> Finding | None:
        """Problems of the whole file, whatever list is asked for: syntax errors and misparsed tokens."""
        if not self._file_checked:
            self._file_checked = True
            root = self.tree.root_node
            error = first_error_node(root)
            if error is not None:
                self._syntax_error = self._syntax_finding(error)
            else:
                reserved = self._reserved_word_command(root)
                if reserved is not None:
                    word = self._text(reserved)
                    self._syntax_error = self._finding(
                        "DC101", f"bash syntax error: unexpected `{word}` here (bash rejects the file at this line "
                        "even though tree-sitter-bash accepts it); fix the file so it parses", reserved.start_byte)
                else:
                    self._check_tokens(root)
        return self._syntax_error

    def _fail(self, ref: ListRef, findings: list[Finding]) -> ExtractedList:
        findings.sort(key=lambda f: (f.line, f.column, f.code))
        return ExtractedList(ref=ref, keys=None, findings=tuple(findings))

    def _finding(self, code: str, message: str, offset: int, key: str | None = None) -> Finding:
        line, column = self.source.position(offset)
        return Finding(code, message, self.source.display, line, column, key)

    def _line(self, offset: int) -> int:
        return self.source.position(offset)[0]

    def _syntax_finding(self, node: Any) -> Finding:
        located = _bash_n_error(self.source.data)
        if located is not None:
            # tree-sitter's error recovery can wrap most of the file in one ERROR node; bash itself names the line.
            line, message = located
            start = node.start_point[0] + 1
            context = f"; tree-sitter-bash's error starts at line {start}" if start != line else ""
            return Finding("DC101", f"bash syntax error: {message} (line {line}, as `bash -n` reports it{context}); "
                           "fix the file so it parses", self.source.display, line, 1)
        base = syntax_error(self.source, node, "bash")
        return Finding(base.code, base.message + f" (driftcheck reads the whole file with tree-sitter-bash; if "
                       f"`bash -n` accepts line {base.line}, rewrite that line in a simpler form)",
                       base.path, base.line, base.column)

    def _not_found(self, ref: ListRef) -> Finding:
        name = ref.symbol
        prefixes = [e for e in self._events(name) if e.kind == "prefix"]
        if prefixes:
            line = self._line(prefixes[0].start)
            return self._finding("DC100", f"{name!r} is not defined in {self.source.display}: line {line} only sets "
                                 f"it for the one command that follows (`{name}=... command`), which is not a "
                                 f"definition; define it on its own line, quoting a value with spaces: "
                                 f"{name}=\"KEY1 KEY2\"", prefixes[0].start)
        self._collect_everything()  # only on this error path: the suggestion needs every variable
        candidates = {n for n, evs in self.events.items()
                      if any(e.kind in ("def", "append") and e.context is None for e in evs)}
        return symbol_not_found(ref, self.source, candidates, "top-level variables")

    # ------------------------------------------------------------------ collection

    def _events(self, name: str) -> list[_Event]:
        """Every statement that defines, declares or changes `name`, in file order."""
        if name not in self._collected:
            self._collected.add(name)
            if not self._everything:
                self._dispatch(self._statements_mentioning(name))
            self.events.get(name, []).sort(key=lambda e: e.start)
        return self.events.get(name, [])

    def _statements_mentioning(self, name: str) -> list[Any]:
        """The statements whose text holds `name`, possibly split by quotes, backslashes or `$`.

        Every event for a name comes from the text of one of these statements (after quote
        removal), so handling them all gives the name's complete history. Matches may overlap
        (`ABA` in `ABABA`), so the search restarts one byte after each match start.
        """
        root = self.tree.root_node
        pattern = _spelled(name)
        visited = self._visited
        found: list[Any] = []

        def walk_up(node: Any) -> None:
            # Every statement containing a span is an ancestor of the smallest node that does;
            # an ancestor walked before had all of its own ancestors walked too.
            while node is not None and node not in visited:
                visited.add(node)
                if node.type in _HANDLERS:
                    found.append(node)
                node = node.parent

        match = pattern.search(self.data)
        while match is not None:
            walk_up(root.descendant_for_byte_range(match.start(), match.end()))
            match = pattern.search(self.data, match.start() + 1)
        for node in self._escaped_ansi_c_strings():  # `$'\x4cIST'` spells LIST without its letters
            walk_up(node)
        return found

    def _escaped_ansi_c_strings(self) -> list[Any]:
        """The $'...' strings with a backslash escape (rare in a harness), found once per file."""
        if self._ansi_c is None:
            self._ansi_c = []
            root = self.tree.root_node
            at = self.data.find(b"$'")
            while at != -1:
                node = root.descendant_for_byte_range(at, at + 2)
                while node is not None and node.type != "ansi_c_string" and node.start_byte == at:
                    node = node.parent
                if node is not None and node.type == "ansi_c_string" and b"\\" in self.data[at:node.end_byte]:
                    self._ansi_c.append(node)
                at = self.data.find(b"$'", at + 2)
        return self._ansi_c

    def _collect_everything(self) -> None:
        """Events for every name (the DC100 suggestion needs them): one query over the whole tree."""
        if self._everything:
            return
        from tree_sitter import QueryCursor

        self._everything = True
        captures = QueryCursor(_query()).captures(self.tree.root_node)
        self._dispatch([node for nodes in captures.values() for node in nodes])
        for events in self.events.values():
            events.sort(key=lambda e: e.start)

    def _dispatch(self, nodes: list[Any]) -> None:
        """Turn statements into events, each statement once, kinds in a fixed order (stable ties)."""
        handled = self._handled
        todo = [n for n in nodes if n not in handled]
        handled.update(todo)
        todo.sort(key=lambda n: (_HANDLERS[n.type], n.start_byte))
        for node in todo:
            kind = node.type
            if kind == "variable_assignment":
                self._on_assignment(node)
            elif kind == "declaration_command":
                self._on_declaration(node)
                self._check_gaps(node)
            elif kind == "unset_command":
                self._on_unset(node, node.children[1:])
                self._check_gaps(node)
            elif kind == "command":
                self._on_command(node)
                self._check_gaps(node)
            elif kind == "variable_name":
                self._on_loop_variable(node)
            elif kind == "expansion":
                self._on_expansion(node)
            elif kind == "binary_expression":
                self._on_arithmetic_assignment(node)
            else:  # postfix_expression, unary_expression
                self._on_step(node)

    def _on_loop_variable(self, node: Any) -> None:
        """`for NAME in ...`: the loop assigns NAME (any other variable_name is not a statement)."""
        loop = node.parent
        if loop is None or loop.type != "for_statement" or loop.child_by_field_name("variable") != node:
            return
        keyword = "select" if loop.children[0].type == "select" else "for"
        self._add(node, "mutate", detail=f"`{keyword} {self._text(node)} in ...` loop variable")

    def _reserved_word_command(self, root: Any) -> Any | None:
        """The first reserved word (`fi`, `done`, `}` ...) tree-sitter-bash took for a command name.

        bash rejects the file there; tree-sitter-bash accepts it as a command. A regex finds the
        reserved words where a command can start; the tree says which are command names.
        """
        data = self.data
        locate = root.descendant_for_byte_range
        first = _RESERVED_AT_START.match(data)
        for match in ([first] if first is not None else []) + list(_RESERVED_AFTER_BREAK.finditer(data)):
            start, end = match.span(1)
            node = locate(start, end)
            if node.type != "word":
                continue  # the keyword token of an if/loop/case/group: where it belongs
            while node is not None and node.start_byte == start and node.end_byte == end:
                if node.type == "command_name":
                    return node
                node = node.parent
        return None

    def continues(self, end: int) -> bool:
        """A backslash right after a value tree-sitter ended: in bash the word goes on (`\\<newline>`, `\\<tab>`)."""
        return self.data[end:end + 1] == b"\\"

    def _text(self, node: Any) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def _add(self, node: Any, kind: str, name: str | None = None, **kw: Any) -> _Event:
        name = name if name is not None else self._text(node)
        event = _Event(name=name, kind=kind, node=node, locate=self._context, **kw)
        self.events.setdefault(name, []).append(event)
        return event

    def _context(self, node: Any) -> tuple[str | None, bool, Any]:
        """Why `node` may not run exactly once at the top level (outermost reason), or None."""
        outermost: Any = None
        in_function = False
        child = node
        parent = node.parent
        while parent is not None and parent.type != "program":
            if parent.type not in _TRANSPARENT and not _is_arithmetic_command(parent):
                outermost = parent
            if parent.type == "function_definition":
                in_function = True
            child, parent = parent, parent.parent
        stmt = child
        if outermost is None:
            following = stmt.next_sibling
            if following is not None and following.type == "&":
                return "in the background (`&` runs it in a subshell)", False, stmt
            return None, False, stmt
        return _describe(outermost, self._text), in_function, stmt

    def _on_assignment(self, node: Any) -> None:
        target = node.child_by_field_name("name")
        if target is None:
            return
        value = node.child_by_field_name("value")
        operator = next((c for c in node.children if c.type in ("=", "+=")), None)
        if operator is None:
            return
        parent = node.parent
        if parent is not None and parent.type == "command":
            if target.type == "variable_name":
                if value is not None and self.continues(value.end_byte):
                    # `NAME='A'\<newline>'B'` is one word in bash; tree-sitter-bash makes the next line a command.
                    self._add(target, "continued", value=value, op_end=operator.end_byte,
                              detail="a value that goes on after a backslash")
                else:
                    self._add(target, "prefix")  # `NAME=value command ...` only scopes that one command
            return
        if target.type == "subscript":
            base = target.child_by_field_name("name")
            if base is not None:
                self._add(base, "element", detail=f"`{self._text(node).splitlines()[0][:60]}`")
            return
        kind = "def" if operator.type == "=" else "append"
        builtin, flags, plus = None, "", ""
        if parent is not None and parent.type == "declaration_command":
            builtin, flags, plus = self._declaration_flags(parent)
        event = self._add(target, kind, value=value, op_end=operator.end_byte, builtin=builtin, flags=flags,
                          plus_flags=plus)
        event.maybe_local = _declares_local(builtin, flags)

    def _declaration_flags(self, decl: Any) -> tuple[str, str, str]:
        builtin = decl.children[0].type
        flags, plus = "", ""
        for child in decl.children[1:]:
            if child.type in ("variable_name", "variable_assignment"):
                break  # options come before the first name
            if child.type == "comment":
                continue
            text = self._text(child).strip("'\"")
            if child.type not in ("word", "string", "raw_string") or "$" in text or "`" in text:
                flags += "?"  # an option computed at run time
                continue
            if text == "--":
                break
            if text.startswith("-") and len(text) > 1:
                flags += text[1:]
            elif text.startswith("+") and len(text) > 1:
                plus += text[1:]
        return builtin, flags, plus

    def _on_declaration(self, decl: Any) -> None:
        builtin, flags, plus = self._declaration_flags(decl)
        for word in self._words([c for c in decl.children[1:] if c.type != "comment"]):
            first = word[0]
            if len(word) == 1 and first.type == "variable_name":
                event = self._add(first, "decl", builtin=builtin, flags=flags, plus_flags=plus,
                                  detail=f"`{self._text(decl)[:60]}`")
                event.maybe_local = _declares_local(builtin, flags)
            elif first.type == "variable_assignment":  # read by _on_assignment; here only `-n` matters
                value = first.child_by_field_name("value")
                target = first.child_by_field_name("name")
                if "n" in flags and value is not None and target is not None:
                    # `declare -n REF=NAME`: REF is an alias through which NAME can change.
                    referenced = self._word_text(value.start_byte, value.end_byte)
                    if _IDENT_TEXT.match(referenced):
                        self._add(value, "mutate", name=referenced,
                                  detail=f"name reference `{self._text(target)}` (declare -n)")
            elif len(word) > 1 or first.type != "word" or not self._text(first).startswith(("-", "+")):
                self._declared_word(word, builtin, flags, plus)

    def _declared_word(self, word: list[Any], builtin: str, flags: str, plus: str) -> None:
        """A declaration argument tree-sitter did not read as one name or assignment (quoted, escaped, split)."""
        first = word[0]
        text = self._group_text(word)
        match = _ASSIGNED_NAME.match(text)
        if match:
            self._add(first, "opaque", name=match.group(1), builtin=builtin,
                      detail=f"`{builtin} {self._group_raw(word)[:60]}`")
        elif _IDENT_TEXT.match(text):  # `export LIST_"KEYS"`: the name bash sees, declared like any other
            event = self._add(first, "decl", name=text, builtin=builtin, flags=flags, plus_flags=plus,
                              detail=f"`{builtin} {text}`")
            event.maybe_local = _declares_local(builtin, flags)

    def _words(self, nodes: list[Any]) -> list[list[Any]]:
        """Arguments grouped as bash reads words: nodes that touch (or are joined by `\\<newline>`) are one.

        tree-sitter-bash splits some words of declaration and unset commands (`LIST_'KEYS'` is a
        variable_name and a raw_string to it); bash joins them.
        """
        words: list[list[Any]] = []
        for node in nodes:
            if words and not self.data[words[-1][-1].end_byte:node.start_byte].replace(b"\\\n", b""):
                words[-1].append(node)
            else:
                words.append([node])
        return words

    def _word_text(self, start: int, end: int) -> str:
        """The word's text after bash's quote removal, or, when it expands something at run time, its
        text with quotes and backslashes dropped (what a name written in it would look like)."""
        try:
            chars, stop = _Lexer(self, defining="an argument", static=True)._word(start, end, array=True)
            if stop == end:
                return "".join(c.text for c in chars)
        except _Stop:
            pass
        return self._loose_text(start, end)

    def _readings(self, word: list[Any]) -> set[str]:
        """An argument as bash passes it (quotes removed, $'...' decoded) and with only its quotes dropped:
        `let`/`eval` evaluate it again, so a name in either reading may be assigned (`let N=$x` too)."""
        start, end = word[0].start_byte, word[-1].end_byte
        return {self._word_text(start, end), self._loose_text(start, end)}

    def _loose_text(self, start: int, end: int) -> str:
        raw = self.data[start:end].decode("utf-8", "replace")
        return raw.replace('"', "").replace("'", "").replace("\\\n", "").replace("\\", "")

    def _on_unset(self, node: Any, args: list[Any]) -> None:
        words = self._words([a for a in args if a.type != "comment"])
        texts = [self._group_text(w) for w in words]
        if any(t.startswith("-") and "f" in t for t in texts):
            return  # `unset -f` removes functions
        for word, text in zip(words, texts):
            match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(\[.*\])?\Z", text)
            if match:
                self._add(word[0], "mutate", name=match.group(1), detail=f"`unset {text}`")

    def _on_command(self, node: Any) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        if self._text(name_node) in _RESERVED_AS_COMMAND:
            return  # a syntax error bash reports; _check_file finds it for the whole file
        # Words as bash reads them (tree-sitter splits `$"NAME"` in two), and the command name after quote
        # removal: `'unset' X` and `\unset X` run unset.
        words = self._words(list(node.children_by_field_name("argument")))
        command = self._word_text(name_node.start_byte, name_node.end_byte)
        # `builtin`, `command` and `time` run the command after them (and their options); `command -v`/`-V`
        # only describe it.
        while command in _PREFIX_COMMANDS and words:
            text = self._group_text(words[0])
            if command == "command" and text.startswith("-") and ("v" in text or "V" in text):
                return
            if text in ("--", "-p"):
                words = words[1:]
                continue
            command, words = text, words[1:]
        if command in _DECL_BUILTINS:
            self._on_declaration_words(words, command)
            return
        if command not in _MUTATING_COMMANDS:
            return
        args = [word[0] for word in words]  # where a finding points
        texts = [self._group_text(word) for word in words]
        if command == "unset":
            self._on_unset(node, [n for word in words for n in word])
        elif command in ("read", "mapfile", "readarray"):
            for arg, text in zip(args, texts):
                if _IDENT_TEXT.match(text):
                    self._add(arg, "mutate", name=text, detail=f"`{command} {text}`")
        elif command in ("printf", "wait"):  # `printf -v NAME`, `wait -p NAME`
            option = "-v" if command == "printf" else "-p"
            for i, (arg, text) in enumerate(zip(args, texts)):
                target = None
                if text == option and i + 1 < len(texts):
                    arg, target = args[i + 1], texts[i + 1]
                elif text.startswith(option) and len(text) > 2:
                    target = text[2:]
                if target and _IDENT_TEXT.match(target):
                    self._add(arg, "mutate", name=target, detail=f"`{command} {option} {target}`")
        elif command == "getopts":
            if len(texts) >= 2 and _IDENT_TEXT.match(texts[1]):
                self._add(args[1], "mutate", name=texts[1], detail=f"`getopts ... {texts[1]}`")
        elif command == "let":
            for word in words:
                for target in sorted({t for text in self._readings(word) for t in _arith_targets(text)}):
                    self._add(word[0], "mutate", name=target, detail=f"`let {self._group_raw(word)}`")
        else:  # eval, and trap, whose code runs later (a RETURN trap when the harness is sourced)
            for word in words[:1] if command == "trap" else words:
                names = {m.group(0) for text in self._readings(word)
                         for m in re.finditer(r"(?<![$\w{#!])[A-Za-z_][A-Za-z0-9_]*", text)}
                for name in sorted(names):
                    self._add(word[0], "mutate", name=name,
                              detail=f"`{command}` (the text it runs may assign it)")

    def _on_declaration_words(self, words: list[list[Any]], builtin: str) -> None:
        """`builtin declare -u NAME ...` run as a command: its options, then each name or assignment."""
        flags, plus = "", ""
        for index, word in enumerate(words):
            text = self._group_text(word)
            if text == "--":
                words = words[index + 1:]
                break
            if text.startswith("-") and len(text) > 1:
                flags += text[1:]
            elif text.startswith("+") and len(text) > 1:
                plus += text[1:]
            else:
                words = words[index:]
                break
        else:
            words = []
        for word in words:
            self._declared_word(word, builtin, flags, plus)

    def _group_text(self, word: list[Any]) -> str:
        return self._word_text(word[0].start_byte, word[-1].end_byte)

    def _group_raw(self, word: list[Any]) -> str:
        return self.data[word[0].start_byte:word[-1].end_byte].decode("utf-8", "replace")

    def _on_expansion(self, node: Any) -> None:
        operator = node.child_by_field_name("operator")
        if operator is None or operator.type not in ("=", ":="):
            return
        target = next((c for c in node.children if c.type == "variable_name"), None)
        if target is not None:
            self._add(target, "mutate", detail=f"`{self._text(node)[:60]}` (assigns when unset or empty)")

    def _in_arithmetic(self, node: Any) -> bool:
        parent = node.parent
        while parent is not None:
            if parent.type in ("arithmetic_expansion", "c_style_for_statement", "subscript"):
                return True
            if parent.type == "compound_statement":
                return bool(parent.children) and parent.children[0].type == "(("
            if parent.type in ("test_command", "program"):
                return False
            parent = parent.parent
        return False

    def _on_arithmetic_assignment(self, node: Any) -> None:
        operator = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        if operator is None or left is None or operator.type not in _ARITH_ASSIGN_OPS:
            return
        if not self._in_arithmetic(node):
            return
        target = self._loose_text(left.start_byte, left.end_byte).split("[", 1)[0].strip()  # `(( "N" = 1 ))`
        if _IDENT_TEXT.match(target):
            self._add(left, "mutate", name=target, detail="an arithmetic assignment")

    def _on_step(self, node: Any) -> None:
        if not any(c.type in ("++", "--") for c in node.children) or not self._in_arithmetic(node):
            return
        for child in node.children:
            if child.type not in ("++", "--"):
                target = self._text(child).split("[", 1)[0].strip()
                if _IDENT_TEXT.match(target):
                    self._add(child, "mutate", name=target, detail="an arithmetic increment/decrement")

    def _check_gaps(self, node: Any) -> None:
        """Record commands tree-sitter-bash ran on past an unescaped newline (a known misparse)."""
        children = node.children
        if node.type in ("declaration_command", "unset_command") and children:
            after = self.data[children[0].end_byte:children[0].end_byte + 1]
            if after and after not in (b" ", b"\t", b"\n", b";", b"&", b"|", b"\\"):
                keyword = self._text(children[0])
                self.misparsed.append(_Misparse(
                    node.start_byte, {m.group(0).decode() for m in _IDENT.finditer(self._text(node).encode())},
                    f"tree-sitter-bash reads `{keyword}` here as the builtin, but bash reads "
                    f"`{keyword}{after.decode('utf-8', 'replace')}...` as one word (a command name)",
                    f"put a blank after {keyword}"))
                return
        if node.start_point[0] == node.end_point[0]:
            return  # on one line: no newline (nor a comment followed by more) between its children
        for left, right in zip(children, children[1:]):
            if left.type == "comment":  # a comment ends the command in bash; nothing can follow it
                self._run_on(node, left.end_byte)
                return
            # The gap runs into the next child while that child starts with blanks
            # (tree-sitter-bash sometimes starts a word with the newline it swallowed).
            end = right.start_byte
            while end < right.end_byte and self.data[end:end + 1] in (b" ", b"\t", b"\n", b"\r"):
                end += 1
            gap = self.data[left.end_byte:end]
            at = gap.find(b"\n")
            while at != -1:
                if gap[at - 1:at] != b"\\":
                    self._run_on(node, left.end_byte + at)
                    return
                at = gap.find(b"\n", at + 1)

    def _run_on(self, node: Any, newline: int) -> None:
        text = self.data[node.start_byte:node.end_byte]
        first, last, at = self._line(node.start_byte), self._line(node.end_byte), self._line(newline)
        self.misparsed.append(_Misparse(
            node.start_byte, {m.group(0).decode() for m in _IDENT.finditer(text)},
            f"tree-sitter-bash reads lines {first}-{last} as one command (it continues past the end of line {at})",
            f"end line {at} differently (write VAR='' instead of a trailing VAR=, and do not follow an assignment by "
            "a comment or redirection on the same line)"))

    def _continuations(self) -> Iterator[int]:
        """Offsets of the backslashes that continue a line right after a name character (or `+`).

        bytes.find, not a regex: a regex scan of a 110 KB harness costs ~1 ms, the finds ~0.1 ms.
        """
        data = self.data
        at = data.find(b"\\\n")
        while at != -1:
            # A name character right before: one backslash, which continues the line (`\\\\` would not).
            if at > 0 and data[at - 1] in _NAME_OR_PLUS:
                yield at
            at = data.find(b"\\\n", at + 2)

    def _check_tokens(self, root: Any) -> None:
        """Where bash and tree-sitter-bash split words differently: a stray CR, a name split by `\\<newline>`."""
        data = self.data
        at = data.find(b"\r")
        while at != -1:
            if self._quoted_or_comment(root, at):
                at = data.find(b"\r", at + 1)
                continue
            line_start = data.rfind(b"\n", 0, at) + 1
            line_end = data.find(b"\n", at)
            text = data[line_start:len(data) if line_end == -1 else line_end]
            line = self._line(at)
            if data[at + 1:at + 2] == b"\n":
                why = (f"line {line} ends with CRLF; bash keeps the carriage return as part of the last word (and "
                       "tree-sitter-bash, driftcheck's parser, reads it as a blank)")
                fix = "save the file with LF line endings (`*.sh text eol=lf` in .gitattributes keeps them)"
            else:
                why = (f"line {line} has a carriage return outside quotes, which bash keeps as part of a word but "
                       "tree-sitter-bash (driftcheck's parser) reads as a blank")
                fix = "remove it"
            self.misparsed.append(_Misparse(at, {m.group(0).decode() for m in _IDENT.finditer(text)}, why, fix))
            at = data.find(b"\r", at + 1)
        for at in self._continuations():
            after = at + 2
            # The word ending at the backslash, matched on the reversed bytes: searching for
            # `[A-Za-z0-9_]+\+?\Z` backtracks from every start (~15 us per continuation line).
            before = _WORD_BEFORE.match(data[max(0, at - 200):at][::-1])
            left = None if before is None else _Word(before.group(0)[::-1])
            right = re.match(rb"[A-Za-z0-9_]+|\+?=|\[", data[after:after + 200])
            if left is None or right is None or self._quoted_or_comment(root, at):
                continue
            if left.group(0).endswith(b"+") and right.group(0) != b"=":
                continue
            joined = left.group(0).rstrip(b"+")
            if not left.group(0).endswith(b"+") and (right.group(0)[:1].isalnum() or right.group(0)[:1] == b"_"):
                joined += right.group(0)
            parts = {left.group(0).rstrip(b"+").decode(), right.group(0).decode()}  # what tree-sitter sees
            self.misparsed.append(_Misparse(
                at, {joined.decode(), *(p for p in parts if _IDENT_TEXT.match(p))},
                f"the backslash-newline on line {self._line(at)} splits the word {joined.decode()!r}, which bash "
                "joins but tree-sitter-bash (driftcheck's parser) does not",
                "join the two lines"))

    def _quoted_or_comment(self, root: Any, at: int) -> bool:
        node = root.descendant_for_byte_range(at, at + 1)
        while node is not None:
            if node.type in _OPAQUE_TEXT:
                return True
            node = node.parent
        return False

    # ------------------------------------------------------------------ the list's definition

    def _check_definitions(self, name: str, events: list[_Event]) -> list[Finding]:
        findings: list[Finding] = []
        top_defs = [e for e in events if e.kind == "def" and e.context is None]
        first = top_defs[0] if top_defs else None
        for event in events:
            where = event.start
            if event.kind in ("def", "append") and event.context is not None:
                verb = "defined" if event.kind == "def" else "appended to"
                if event.in_function and event.local_scope:
                    how = f"as a function-local variable ({event.builtin} {name}) inside {_strip_in(event.context)}"
                else:
                    how = event.context
                findings.append(self._finding(
                    "DC103", f"{name} is {verb} {how}; keep exactly one unconditional top-level definition of the "
                    "list (no if/case/loop/function/subshell/&&/|| around it)", where))
            elif event.kind == "def" and event.builtin == "local":
                findings.append(self._finding(
                    "DC103", f"`local {name}=...` outside a function fails in bash and defines nothing; write "
                    f"{name}=... (or declare/readonly) instead", where))
            elif event.kind == "def" and event is not first:
                assert first is not None
                line, column = self.source.position(first.start)
                findings.append(self._finding(
                    "DC103", f"{name} is defined again here (first definition at line {line}, column {column}); "
                    "keep exactly one definition and put every key in it", where))
            elif event.kind == "append" and (first is None or event.start < first.start):
                findings.append(self._finding(
                    "DC103", f"{name} is appended to before its definition; the definition would discard it — "
                    "keep exactly one definition and put every key in it", where))
            elif event.kind == "continued":
                findings.append(self._finding("DC102", _continued_message(name), event.value.end_byte))
            elif event.kind == "opaque":
                findings.append(self._finding(
                    "DC103", f"{event.detail} assigns {name} in a form driftcheck cannot read statically; write "
                    f"exactly one plain top-level {name}=... definition", where))
            elif event.kind == "element":
                findings.append(self._finding(
                    "DC104", f"{event.detail} changes one element of {name}; put every key in the definition "
                    "instead", where))
            elif event.kind == "mutate":
                findings.append(self._finding(
                    "DC104", f"{name} is changed by {event.detail}; put every key in the definition and do not "
                    "modify the list anywhere else", where))
            elif event.kind == "decl":
                finding = self._check_decl(name, event, first)
                if finding is not None:
                    findings.append(finding)
        if first is None and not findings:  # defensive: every definition-less case above already reports
            findings.append(self._not_found())
        return findings

    def _check_decl(self, name: str, event: _Event, first: _Event | None) -> Finding | None:
        if event.local_scope or "f" in event.flags or "F" in event.flags:
            return None  # `local NAME` in a function is another variable; -f/-F name functions
        extra = set(event.flags) - _HARMLESS_DECL_FLAGS - ({"n"} if event.builtin == "export" else set())
        before = first is not None and event.start < first.start and event.context is None
        shown = f"{event.builtin} {'-' + event.flags + ' ' if event.flags else ''}{name}"
        if before:
            readonly = "r" in event.flags or event.builtin == "readonly"
            if readonly:
                return self._finding("DC103", f"`{shown}` makes {name} readonly before its definition, so the "
                                     "definition fails; declare it readonly in the definition itself", event.start)
            if extra - {"a"} or event.plus_flags:
                return self._finding("DC102", f"`{shown}` gives {name} an attribute that changes its value "
                                     f"({', '.join(sorted(extra))}); drop the declaration", event.start)
            return None
        if extra or event.plus_flags:
            what = "declared" if event.context is None else f"declared {event.context}"
            return self._finding("DC104", f"{name} is {what} again with `{shown}`, which changes how its value is "
                                 "stored; remove that declaration", event.start)
        return None

    def _misparse_finding(self, name: str, misparse: _Misparse) -> Finding:
        return self._finding("DC101", f"{misparse.why}, so driftcheck cannot tell how {name} is set there; "
                             f"{misparse.fix}", misparse.offset)

    def _list_value(self, name: str, definition: _Event, events: list[_Event]) -> _Value:
        attributes = set()
        for event in events:
            if event.kind == "decl" and event.context is None and event.start < definition.start:
                attributes |= set(event.flags)
        self._check_boundaries(name, definition)
        self._check_def_flags(name, definition)
        attributes |= set(definition.flags)
        value = self._definition_value(name, definition)
        if value.kind == "string" and "a" in attributes:
            raise _Stop("DC102", f"{name} is declared an indexed array (-a) but assigned a string, which bash "
                        f"stores as one element; write {name}=(KEY1 KEY2 ...) or drop -a", self._value_start(definition))
        readonly = "r" in attributes or definition.builtin == "readonly"
        for event in events:
            if event.kind != "append":
                continue
            if readonly:
                raise _Stop("DC104", f"{name} is readonly, so this append fails at run time and changes nothing; put "
                            "every key in the definition", event.start)
            if event.builtin is not None:
                self._check_boundaries(name, event)
                self._check_def_flags(name, event)
            more = self._definition_value(name, event)
            if more.kind != value.kind:
                raise _Stop("DC102", f"appending {'an array' if more.kind == 'array' else 'a string'} to the "
                            f"{value.kind} {name} mixes string and array values (bash keeps both under element 0); "
                            "put every key in the definition", self._value_start(event))
            value.chars += more.chars
            value.elements += more.elements
        return value

    def _check_def_flags(self, name: str, event: _Event) -> None:
        builtin = event.builtin
        if builtin is None:
            return
        allowed = _DEF_FLAGS.get(builtin, set())
        for flag in event.flags:
            if flag not in allowed:
                why = _FLAG_WHY.get(flag, f"`{builtin} -{flag}` is not supported for a list")
                if builtin in ("export", "readonly") and flag not in _FLAG_WHY:
                    why = f"`{builtin} -{flag}` is not a valid option of {builtin}, so bash does not assign {name}"
                if flag == "?":
                    why = f"the options of this `{builtin}` are computed at run time; write them literally"
                raise _Stop("DC102", f"{name}: {why}", event.start)
        if event.plus_flags:
            raise _Stop("DC102", f"{name}: `{builtin} +{event.plus_flags}` is not supported for a list; drop the "
                        "flag", event.start)

    def _value_start(self, event: _Event) -> int:
        return int(event.value.start_byte) if event.value is not None else event.op_end

    def _value_span(self, event: _Event) -> Span:
        if event.value is not None:
            return node_span(self.source, event.value)
        line, column = self.source.position(event.op_end)
        return Span(event.op_end, event.op_end, line, column, line, column)

    # ------------------------------------------------------------------ values

    def _definition_value(self, name: str, event: _Event) -> _Value:
        """Decode the value of one `NAME=`/`NAME+=` (string or array)."""
        value = event.value
        end = value.end_byte if value is not None else event.op_end
        self._check_boundaries(name, event)
        if value is None:
            return _Value("string")
        lexer = _Lexer(self, defining=name)
        if value.type == "array":
            return _Value("array", elements=lexer.array(value.start_byte, end))
        return _Value("string", chars=lexer.scalar(value.start_byte, end))

    def _check_boundaries(self, name: str, event: _Event) -> None:
        """The value must start right after `=` and end where bash ends the word."""
        data = self.data
        value = event.value
        start = value.start_byte if value is not None else event.op_end
        gap = data[event.op_end:start]
        if gap and gap.replace(b"\\\n", b""):
            raise _Stop("DC102", f"driftcheck cannot decode the value of {name} exactly (text between `=` and the "
                        "value); put the value directly after `=`", event.op_end)
        end = value.end_byte if value is not None else event.op_end
        if end < len(data) and data[end] not in _WORD_END:
            char = chr(data[end])
            if self.continues(end):
                raise _Stop("DC102", _continued_message(name), end)
            if char == "\r":
                why = "a carriage return follows the value (CRLF line endings?), which bash keeps in the value; " \
                      "save the file with LF line endings (`*.sh text eol=lf` in .gitattributes keeps them)"
            else:
                why = f"the value is followed by {char!r}, which bash would read as part of it; quote the whole value"
            raise _Stop("DC102", f"{name}: {why}", end)

    def resolve(self, var: str, at: int, defining: str) -> list[_Ch]:
        """The characters `$var` expands to at byte `at` (see the module docstring)."""
        if var == defining or var in self._resolving:
            raise _Stop("DC102", f"${var} refers to itself here, so its value depends on the environment; write the "
                        "keys literally", at)
        events = self._events(var)  # collects var's statements, and with them any misparse that touches it
        for misparse in self.misparsed:
            if var in misparse.names and misparse.offset < at:
                raise _Stop("DC101", self._misparse_finding(var, misparse).message, misparse.offset)
        definition: _Event | None = None
        appends: list[_Event] = []
        for event in events:
            if event.kind == "prefix" or event.local_scope or event.start >= at:
                continue  # scoped to one command or a function's local, or after the use
            if event.kind == "decl" and not (set(event.flags) - _HARMLESS_DECL_FLAGS) and not event.plus_flags:
                if definition is not None or not ("r" in event.flags or event.builtin == "readonly"):
                    continue  # `export VAR`, `readonly VAR` after its definition: value unchanged
            line = self._line(event.start)
            if event.in_function:
                raise _Stop("DC102", f"${var} cannot be resolved statically: {var} is also assigned {event.context} "
                            f"(line {line}), so its value here depends on when that runs; use a literal or a "
                            "variable assigned only at the top level", at)
            if event.context is not None:
                raise _Stop("DC102", f"${var} cannot be resolved statically: {var} is assigned {event.context} "
                            f"(line {line}) before this use; use a literal or an unconditional top-level "
                            "variable", at)
            if event.kind == "def" and definition is None and event.builtin != "local":
                definition = event
            elif event.kind == "append" and definition is not None:
                appends.append(event)
            else:
                raise _Stop("DC102", f"${var} cannot be resolved statically: {var} is changed on line {line} "
                            f"({event.detail or event.kind}) before this use; use a literal or a variable with "
                            "exactly one top-level definition", at)
        if definition is None:
            later = [e for e in events if e.kind == "def" and e.start >= at]
            why = (f"{var} is only defined later (line {self._line(later[0].start)})" if later
                   else f"{var} is not defined in this file (an environment variable?)")
            raise _Stop("DC102", f"${var} cannot be resolved statically: {why}; write the keys literally or define "
                        f"{var} at the top level above this line", at)
        cache_key = (var, len(appends))
        if cache_key in self._cache:
            return self._cache[cache_key]
        if len(self._resolving) >= _MAX_EXPANSION_DEPTH:
            raise _Stop("DC102", f"${var} is the end of a chain of more than {_MAX_EXPANSION_DEPTH} variables "
                        "expanding each other; write the keys literally", at)
        self._resolving.add(var)
        try:
            for event in [definition] + appends:
                if event.builtin is not None:
                    bad = (set(event.flags) - {"r", "x", "g", "t"}) or set(event.plus_flags)
                    if bad:
                        raise _Stop("DC102", f"${var} cannot be resolved statically: {var} is declared with "
                                    f"-{''.join(sorted(bad))}; use a plain string variable", at)
                if event.value is not None and event.value.type == "array":
                    raise _Stop("DC102", f"${var} is an array; `$NAME` would give only its first element — expand "
                                "a string variable or write the keys literally", at)
            chars: list[_Ch] = []
            for event in [definition] + appends:
                chars += self._definition_value(var, event).chars
        finally:
            self._resolving.discard(var)
        self._cache[cache_key] = chars
        return chars

    # ------------------------------------------------------------------ keys

    def _keys(self, name: str, value: _Value) -> list[Key]:
        if value.kind == "array":
            words = value.elements
            for word in words:
                text = "".join(c.text for c in word)
                if not text:
                    raise _Stop("DC102", f"{name} has an empty element; remove it", word[0].origin if word else 0)
        else:
            words = _split(value.chars)
        keys: list[Key] = []
        for word in words:
            text = "".join(c.text for c in word)
            # An element starts where its word does (an opening quote included); a key of a string
            # starts at its first character inside the string.
            origin = word[0].origin if value.kind == "array" else next(c.origin for c in word if c.text)
            self._check_key(name, text, origin, value.kind)
            line, column = self.source.position(origin)
            keys.append(Key(text, line, column))
        return keys

    def _check_key(self, name: str, text: str, origin: int, kind: str) -> None:
        if kind == "string" and any(c in text for c in "*?["):
            raise _Stop("DC102", f"key {text!r} of {name} contains a glob character; the harness's unquoted "
                        f"${name} would expand it as a file pattern — remove it", origin, text)
        if "\\" in text:
            raise _Stop("DC102", f"key {text!r} of {name} contains a backslash (inside single quotes a backslash "
                        "is literal and does not continue the line); remove it — newlines inside the quotes "
                        "already separate keys", origin, text)
        for char in text:
            if ord(char) < 0x20 or ord(char) == 0x7F:
                if char == "\r":
                    why = ("a carriage return (CRLF line endings?); save the file with LF line endings (`*.sh "
                           "text eol=lf` in .gitattributes keeps them)")
                elif char in "\n\t":
                    why = (f"a {'newline' if char == chr(10) else 'tab'} inside quotes, which makes it part of "
                           "the element; write each key as its own element")
                else:
                    why = f"the control character U+{ord(char):04X}; remove it"
                raise _Stop("DC102", f"key {text!r} of {name} contains {why}", origin, text)

    def _duplicates(self, name: str, keys: list[Key]) -> list[Finding]:
        seen: dict[str, Key] = {}
        findings: list[Finding] = []
        for key in keys:
            if key.key in seen:
                first = seen[key.key]
                findings.append(Finding("DC003", f"{key.key} is listed twice in {name} (first at line {first.line}, "
                                        f"column {first.column}); delete this entry", self.source.display, key.line,
                                        key.column, key.key))
            else:
                seen[key.key] = key
        return findings

    # ------------------------------------------------------------------ pragmas

    def _pragmas(self, definition: _Event) -> tuple[list[Any], list[Finding]]:
        """Pragma comments on the lines directly above the definition or at the end of its first line."""
        stmt = definition.stmt
        root = self.tree.root_node
        data = self.data
        comments: list[Any] = []
        row_start = data.rfind(b"\n", 0, stmt.start_byte) + 1
        while row_start > 0:  # full-line top-level comments, upwards until the first other line
            above = data.rfind(b"\n", 0, row_start - 1) + 1
            line = data[above:row_start - 1]
            at = above + len(line) - len(line.lstrip())
            node = self._comment_at(root, at)
            if node is None or node.parent is None or node.parent.type != "program":
                break
            comments.append(node)
            row_start = above
        comments.reverse()
        line_end = data.find(b"\n", stmt.start_byte)
        at = data.find(b"#", stmt.start_byte + 1, len(data) if line_end == -1 else line_end)
        while at != -1:  # comments that start later on the definition's first line
            node = self._comment_at(root, at)
            if node is not None:
                comments.append(node)
            at = data.find(b"#", at + 1, len(data) if line_end == -1 else line_end)
        return collect_pragmas([self._comment_triple(c) for c in comments], self.source.display)

    def _comment_at(self, root: Any, at: int) -> Any | None:
        """The comment starting at byte `at`, if one does (not a `#` inside a word, string or heredoc)."""
        if self.data[at:at + 1] != b"#":
            return None
        node = root.descendant_for_byte_range(at, at + 1)
        return node if node is not None and node.type == "comment" and node.start_byte == at else None

    def _comment_triple(self, comment: Any) -> tuple[str, int, int]:
        row, col = comment.start_point
        return self._text(comment)[1:], row + 1, self.source.point_column(row, col) + 1


class _Lexer:
    """Decodes one value's bytes exactly as bash expands an assignment value or array element."""

    def __init__(self, script: _Script, defining: str, static: bool = False) -> None:
        self.script = script
        self.data = script.data
        self.defining = defining
        self.static = static  # no variable expansion: decoding a name, not a value

    # -- entry points

    def scalar(self, start: int, end: int) -> list[_Ch]:
        """`NAME=<word>`: quote removal and static expansion, no splitting, no globbing."""
        chars, stop = self._word(start, end, array=False)
        if stop != end:
            raise _Stop("DC102", f"driftcheck cannot decode the value of {self.defining} exactly at this point; "
                        "quote the whole value", stop)
        return chars

    def array(self, start: int, end: int) -> list[list[_Ch]]:
        """`NAME=( ... )`: each element expanded like a command argument."""
        data = self.data
        i = start + 1
        elements: list[list[_Ch]] = []
        while True:
            while i < end:
                if data[i] in b" \t\n":
                    i += 1
                elif data[i:i + 2] == b"\\\n":
                    i += 2
                else:
                    break
            if i >= end:
                raise _Stop("DC102", f"driftcheck cannot find the end of the array {self.defining}", start)
            byte = data[i]
            if byte == 0x23:  # '#': a comment up to the end of the line
                newline = data.find(b"\n", i, end)
                i = end if newline == -1 else newline
                continue
            if byte == 0x29:  # ')'
                if i != end - 1:
                    raise _Stop("DC102", f"driftcheck cannot decode the array {self.defining} exactly at this point; "
                                "simplify its quoting", i)
                return elements
            if data[i:i + 1] == b"[":
                raise _Stop("DC102", f"indexed element `[...]=` in {self.defining}; list the keys in order without "
                            "indices", i)
            chars, i = self._word(i, end - 1, array=True)
            elements.extend(_fields(chars))

    # -- words

    def _word(self, i: int, end: int, array: bool) -> tuple[list[_Ch], int]:
        data = self.data
        out: list[_Ch] = []
        word_start = i
        previous = b""  # last unquoted literal byte (tilde after ':' or '=')
        while i < end:
            byte = data[i]
            if byte == 0x5C:  # backslash
                if data[i + 1:i + 2] == b"\n":
                    i += 2
                    continue
                if i + 1 >= end:
                    raise _Stop("DC102", f"a trailing backslash in the value of {self.defining}; remove it", i)
                text, nxt = _char(data, i + 1)
                out.append(_Ch(text, i))
                i, previous = nxt, b""
                continue
            if byte == 0x27:  # single quote
                close = data.find(b"'", i + 1, end)
                if close == -1:
                    raise _Stop("DC102", f"driftcheck cannot find the closing quote in {self.defining}", i)
                out.append(_Ch("", i))
                out.extend(self._literal(i + 1, close))
                i, previous = close + 1, b""
                continue
            if byte == 0x22:  # double quote
                i = self._double(i, end, out)
                previous = b""
                continue
            if byte == 0x24:  # dollar
                i = self._dollar(i, end, out, quoted=False, array=array)
                previous = b""
                continue
            if byte == 0x60:
                raise _Stop("DC102", f"command substitution `...` in {self.defining} cannot be evaluated statically; "
                            "write the keys literally", i)
            if byte in b" \t\n)":
                if array:
                    return out, i
                raise _Stop("DC102", f"driftcheck cannot decode the value of {self.defining} exactly at this point; "
                            "quote the whole value", i)
            if byte in b";&|<>(":
                raise _Stop("DC102", f"unexpected {chr(byte)!r} in the value of {self.defining}; quote the value", i)
            if byte == 0x7E and (i == word_start or previous in (b":", b"=")):
                raise _Stop("DC102", f"unquoted `~` in {self.defining} is tilde expansion (a home directory); quote "
                            "it or remove it", i)
            if byte == 0x7B:
                raise _Stop("DC102", f"unquoted `{{` in {self.defining} starts brace expansion; quote it or write the "
                            "keys out", i)
            if array and byte in b"*?[":
                raise _Stop("DC102", f"unquoted glob character {chr(byte)!r} in {self.defining} is expanded against "
                            "file names; quote it or remove it", i)
            text, nxt = _char(data, i)
            out.append(_Ch(text, i))
            previous = data[i:i + 1]
            i = nxt
        return out, i

    def _literal(self, start: int, end: int) -> Iterator[_Ch]:
        i = start
        while i < end:
            text, nxt = _char(self.data, i)
            yield _Ch(text, i)
            i = nxt

    def _double(self, i: int, end: int, out: list[_Ch]) -> int:
        """A "..." string starting at byte i; returns the offset after the closing quote."""
        data = self.data
        out.append(_Ch("", i))
        j = i + 1
        while j < end:
            byte = data[j]
            if byte == 0x22:
                return j + 1
            if byte == 0x5C and j + 1 < end:
                nxt = data[j + 1]
                if nxt in b'$`"\\':
                    out.append(_Ch(chr(nxt), j))
                    j += 2
                elif nxt == 0x0A:
                    j += 2  # line continuation: both removed
                else:
                    out.append(_Ch("\\", j))
                    j += 1
                continue
            if byte == 0x24:
                j = self._dollar(j, end, out, quoted=True, array=False)
                continue
            if byte == 0x60:
                raise _Stop("DC102", f"command substitution `...` in {self.defining} cannot be evaluated statically; "
                            "write the keys literally", j)
            text, nxt_j = _char(data, j)
            out.append(_Ch(text, j))
            j = nxt_j
        raise _Stop("DC102", f"driftcheck cannot find the closing double quote in {self.defining}", i)

    def _dollar(self, i: int, end: int, out: list[_Ch], quoted: bool, array: bool) -> int:
        data = self.data
        nxt = data[i + 1:i + 2] if i + 1 < end else b""
        if nxt == b"'" and not quoted:
            return self._ansi_c(i, end, out)
        if nxt == b'"' and not quoted:
            return self._double(i + 1, end, out)  # $"..." locale string: like "..." without a catalog
        if nxt == b"(":
            what = "arithmetic expansion $((...))" if data[i + 2:i + 3] == b"(" else "command substitution $(...)"
            raise _Stop("DC102", f"{what} in {self.defining} cannot be evaluated statically; write the keys "
                        "literally", i)
        if nxt == b"[":
            raise _Stop("DC102", f"arithmetic expansion $[...] in {self.defining} cannot be evaluated statically", i)
        if nxt == b"{":
            match = _IDENT.match(data, i + 2, end)
            if match and data[match.end():match.end() + 1] == b"}":
                return self._expand(match.group(0).decode(), i, match.end() + 1, out, quoted, array)
            inner = data[i + 2:i + 3]
            if inner == b"#":
                what = "a length expansion ${#...}"
            elif inner == b"!":
                what = "an indirect expansion ${!...}"
            elif match and data[match.end():match.end() + 1] == b"[":
                what = "an array expansion ${NAME[...]}"
            elif match:
                what = "a parameter expansion with an operator (default value, substitution, ...)"
            else:
                what = "a positional or special parameter expansion"
            raise _Stop("DC102", f"{what} in {self.defining} cannot be evaluated statically; use a plain ${{NAME}} "
                        "of a top-level variable or write the keys literally", i)
        if self._continuation(i + 1):
            raise _Stop("DC102", f"a backslash-newline right after `$` in {self.defining} joins the next line onto "
                        "the expansion; join the lines", i)
        match = _IDENT.match(data, i + 1, end)
        if match:
            if self._continuation(match.end()) and _IDENT.match(data, match.end() + 2):
                raise _Stop("DC102", f"a backslash-newline inside the variable name after `$` in {self.defining} "
                            "joins the lines into one name; join them", i)
            return self._expand(match.group(0).decode(), i, match.end(), out, quoted, array)
        if nxt and (nxt.isdigit() or nxt in b"@*#?-$!"):
            raise _Stop("DC102", f"the special parameter ${nxt.decode()} in {self.defining} cannot be evaluated "
                        "statically; write the keys literally", i)
        out.append(_Ch("$", i))  # a lone `$` is literal
        return i + 1

    def _continuation(self, i: int) -> bool:
        return self.data[i:i + 2] == b"\\\n"

    def _expand(self, var: str, i: int, after: int, out: list[_Ch], quoted: bool, array: bool) -> int:
        if self.static:
            raise _Stop("DC102", f"${var} in {self.defining} is expanded at run time", i)
        chars = self.script.resolve(var, i, self.defining)
        if array and not quoted:
            for ch in chars:
                if ch.text in ("*", "?", "["):
                    raise _Stop("DC102", f"unquoted ${var} in {self.defining} expands to text with the glob "
                                f"character {ch.text!r}; quote it", i)
            # markers of quotes inside VAR's own definition mean nothing here: `$EMPTY` makes no element
            out.extend(_Ch(c.text, c.origin, split=True) for c in chars if c.text)
        else:
            out.append(_Ch("", i))
            out.extend(_Ch(c.text, c.origin) for c in chars)
        return after

    def _ansi_c(self, i: int, end: int, out: list[_Ch]) -> int:
        """$'...' with bash's escapes; rare or locale-dependent ones are DC102."""
        data = self.data
        out.append(_Ch("", i))
        j = i + 2
        while j < end:
            byte = data[j]
            if byte == 0x27:
                return j + 1
            if byte != 0x5C or j + 1 >= end:
                text, nxt = _char(data, j)
                out.append(_Ch(text, j))
                j = nxt
                continue
            esc = chr(data[j + 1])
            if esc in _ANSI_SIMPLE:
                out.append(_Ch(_ANSI_SIMPLE[esc], j))
                j += 2
                continue
            if esc in "01234567":
                allowed, limit, k = "01234567", 3, j + 1
            elif esc == "x":
                allowed, limit, k = _HEX, 2, j + 2
            elif esc in "uU":
                allowed, limit, k = _HEX, 4 if esc == "u" else 8, j + 2
            elif esc == "c":
                raise _Stop("DC102", f"the control-character escape \\c in {self.defining} is not supported; "
                            "write the keys literally", j)
            else:
                out.append(_Ch("\\", j))  # unknown escape: bash keeps the backslash
                text, nxt = _char(data, j + 1)
                out.append(_Ch(text, j + 1))
                j = nxt
                continue
            digits = ""
            while len(digits) < limit and k < end and chr(data[k]) in allowed:
                digits += chr(data[k])
                k += 1
            if not digits:  # `\x`/`\u` without digits stay as written
                out.append(_Ch("\\", j))
                out.append(_Ch(esc, j + 1))
                j += 2
                continue
            code = int(digits, 8 if allowed == "01234567" else 16)
            if code == 0:
                raise _Stop("DC102", f"a NUL escape in {self.defining} truncates the string in bash; remove it", j)
            if code >= 0x80:
                raise _Stop("DC102", f"the escape {data[j:k].decode()} in {self.defining} produces a non-ASCII byte "
                            "or locale-dependent character; write the character itself", j)
            out.append(_Ch(chr(code), j))
            j = k
        raise _Stop("DC102", f"driftcheck cannot find the end of the $'...' string in {self.defining}", i)


_HEX = "0123456789abcdefABCDEF"
_ANSI_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _char(data: bytes, i: int) -> tuple[str, int]:
    """The UTF-8 character starting at byte i and the offset after it (the file is valid UTF-8)."""
    byte = data[i]
    if byte < 0x80:
        return chr(byte), i + 1
    size = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
    return data[i:i + size].decode("utf-8", "replace"), i + size


def _split(chars: list[_Ch]) -> list[list[_Ch]]:
    """A string value split on IFS whitespace, as an unquoted `$NAME` is."""
    words: list[list[_Ch]] = []
    current: list[_Ch] = []
    for ch in chars:
        if not ch.text:
            continue
        if ch.text in _IFS_WS:
            if current:
                words.append(current)
                current = []
        else:
            current.append(ch)
    if current:
        words.append(current)
    return words


def _fields(chars: list[_Ch]) -> list[list[_Ch]]:
    """Field splitting of one array element word: only unquoted expansion results split."""
    fields: list[list[_Ch]] = []
    current: list[_Ch] = []
    started = False
    for ch in chars:
        if ch.split and ch.text and ch.text in _IFS_WS:
            if started:
                fields.append(current)
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        fields.append(current)
    return fields


def _arith_targets(text: str) -> list[str]:
    """Variables an arithmetic expression (a `let` argument) assigns."""
    targets = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)", text)
    targets += re.findall(r"(?:\+\+|--)\s*([A-Za-z_][A-Za-z0-9_]*)", text)
    targets += re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\+\+|--)", text)
    return targets


def _describe(node: Any, text: Any) -> str:
    kind = node.type
    if kind == "function_definition":
        name = node.child_by_field_name("name")
        return f"inside function {text(name) if name is not None else '?'}()"
    if kind in ("if_statement", "elif_clause", "else_clause"):
        return "inside an if statement"
    if kind in ("case_statement", "case_item"):
        return "inside a case statement"
    if kind == "while_statement":
        return "inside a while/until loop"
    if kind in ("for_statement", "c_style_for_statement"):
        return "inside a for loop"
    if kind == "subshell":
        return "inside a ( ... ) subshell"
    if kind == "compound_statement":
        return "inside a { ...; } group (driftcheck only reads definitions outside braces)"
    if kind == "list":
        return "in a && / || list (it runs only when the other command succeeds/fails)"
    if kind == "pipeline":
        return "in a pipeline (each part runs in a subshell)"
    if kind == "negated_command":
        return "after `!`"
    if kind == "redirected_statement":
        return "in a redirected statement"
    if kind in ("command_substitution", "process_substitution"):
        return f"inside a {kind.replace('_', ' ')} (a subshell)"
    return f"inside a {kind.replace('_', ' ')}"


def _continued_message(name: str) -> str:
    return (f"the value of {name} goes on after this backslash (a backslash-newline or an escaped blank outside "
            "quotes), where tree-sitter-bash (driftcheck's parser) ends it; quote the whole value instead, with any "
            "line breaks inside the quotes")


def _is_arithmetic_command(node: Any) -> bool:
    """`(( ... ))` runs in the current shell, like any simple command."""
    return node.type == "compound_statement" and bool(node.children) and node.children[0].type == "(("


def _declares_local(builtin: str | None, flags: str) -> bool:
    """`local`, or `declare`/`typeset` without -g: a separate variable when run inside a function."""
    return builtin in ("local", "declare", "typeset") and "g" not in flags


def _strip_in(context: str | None) -> str:
    return (context or "").removeprefix("inside ")


@lru_cache(maxsize=None)
def _spelled(name: str) -> re.Pattern[bytes]:
    """`name` as it can be written in bash source: quotes, backslashes and `\\<newline>` between its letters."""
    # `$` too: `LIST_$'KEYS'`, `LIST$""_KEYS`; a bare newline too: a superset costs little, and a class
    # compiles 3x faster than an alternation.
    between = rb"[$\"'\\\n]*"
    return re.compile(between.join(re.escape(char.encode()) for char in name))


@lru_cache(maxsize=None)
def _query() -> Any:
    from tree_sitter import Query

    return Query(ts_parser("bash").language, _QUERY)
