"""What one bash file says about its variables: the statements that define, append to or change a name.

tree-sitter-bash finds the statements (definitions, appends, `unset`, `read`, ...) and
their context (top level, function, `if`, loop, subshell, `&&` list, pipeline). Only the
statements that spell a name are read — bash removes quotes and backslashes from names
too, so `unset LIST_'KEYS'` and `unset $'\\x4cIST_KEYS'` count; words tree-sitter
splits in two inside `declare`/`unset` are joined as bash joins them. The value of the one
top-level definition (plus top-level appends) is decoded by `lexer.Lexer`.

These events give precise messages for the forms driftcheck knows (DC103 for a
conditional or repeated definition, DC104 for `unset`, `read`, ...). They are not what
makes a reading sound: `occurrences.classify` accounts for every place the name is
spelled, and `hazards` for every construct that could change it without spelling it.

Semantics, as bash 5 evaluates them:

* `NAME="..."` (string): quote removal and the static expansions below, no word
  splitting at assignment; the list is the string split on IFS whitespace (space, tab,
  newline), as the harness's unquoted `$NAME` does. A split word holding a glob
  character (`* ? [`), a backslash or a control character is DC102.
* `NAME=(...)` (indexed array): each element word is expanded like a command argument
  (unquoted expansions split, unquoted glob/brace/tilde is DC102); `[i]=x` elements are DC102.
* `NAME+=...` at the top level after the definition: string + string concatenates text
  (split afterwards), array + array adds elements; mixing them is DC102.
* `$VAR`/`${VAR}` is replaced by VAR's value when VAR has exactly one unconditional
  top-level definition (plus top-level appends) before the use and is not assigned in
  any function or conditional before it; anything else is DC102.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from driftcheck import rules
from driftcheck.languages.common import first_error_node, syntax_error, ts_parser, ts_tree
from driftcheck.languages.shell.lexer import IDENT_TEXT, Ch, Lexer, Stop
from driftcheck.languages.shell.syntax import (BashVerdict, Misparse, check_gaps, check_tokens,
                                              error_regions, reserved_word_command)
from driftcheck.languages.base import Comment
from driftcheck.model import Finding
from driftcheck.patterns import lazy
from driftcheck.sources import SourceFile

_ASSIGNED_NAME = lazy(r"([A-Za-z_][A-Za-z0-9_]*)(\[|\+?=)")
_DECL_BUILTINS = frozenset({"declare", "typeset", "export", "readonly", "local"})
# Flags of a value-less declaration (`export NAME`, `readonly NAME`) that leave the value alone.
_HARMLESS_DECL_FLAGS = set("rxgtp")
# Parents that do not change whether a statement runs (an assignment's own wrappers).
_TRANSPARENT = frozenset({
    "variable_assignments", "variable_assignment", "declaration_command", "unset_command", "command", "command_name",
    "string", "concatenation", "expansion", "simple_expansion", "subscript", "arithmetic_expansion",
    "binary_expression", "postfix_expression", "unary_expression", "parenthesized_expression",
})
# A reserved word where a command name should be is a bash syntax error tree-sitter-bash lets through.
_RESERVED_AS_COMMAND = frozenset({"then", "fi", "do", "done", "else", "elif", "esac", "}"})
# Statements that can define or change a variable, in the order their events are recorded.
_HANDLERS = {"variable_assignment": 0, "declaration_command": 1, "unset_command": 2, "command": 3,
             "variable_name": 4, "expansion": 5, "binary_expression": 6, "postfix_expression": 7,
             "unary_expression": 7}
_MUTATING_COMMANDS = frozenset({"read", "mapfile", "readarray", "printf", "getopts", "let", "eval", "unset", "wait",
                                "trap"})
_PREFIX_COMMANDS = frozenset({"builtin", "command", "time"})
_ARITH_ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})
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



class Event:
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



class Script:
    """What one bash file says about its variables, gathered name by name as lists ask for them.

    Only statements that mention a name can define or change it, so the events of a name are
    collected from the places its letters occur (quotes, backslashes and `$` may sit between them)
    instead of from every statement of the file: a 110 KB harness has thousands of commands and
    a list touches a few hundred of them.
    """

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.data: bytes = source.data
        self._bash = BashVerdict(source.path, source.data, source.bom)  # bash parses while tree-sitter-bash does
        self.tree = ts_tree(source, "bash")
        self.events: dict[str, list[Event]] = {}
        self.misparsed: list[Misparse] = []
        self._collected: set[str] = set()  # names whose events are complete
        self._handled: set[Any] = set()  # statements already turned into events (for any name)
        self._visited: set[Any] = set()  # nodes whose ancestors were already walked
        self._everything = False
        self._ansi_c: list[Any] | None = None
        self._file_checked = False
        self._syntax_error: Finding | None = None
        self._cache: dict[tuple[str, int], list[Ch]] = {}
        self._resolving: set[str] = set()
        # (start, end) byte spans tree-sitter-bash could not parse although `bash -n` accepts the file.
        self.unparsed: list[tuple[int, int]] = []
        self._memo: dict[str, Any] = {}

    # ------------------------------------------------------------------ the file

    def check_file(self) -> Finding | None:
        """DC101 when bash itself rejects the file; otherwise record what tree-sitter-bash misread."""
        if not self._file_checked:
            self._file_checked = True
            root = self.tree.root_node
            verdict = self._bash.result()
            if verdict is not None:
                self._syntax_error = self._bash_error(*verdict)
                return self._syntax_error
            suspect = first_error_node(root) if root.has_error else None
            if not self._bash.available:
                # Nobody to ask: tree-sitter-bash's verdict, said to be its own.
                suspect = suspect if suspect is not None else reserved_word_command(self, root)
                if suspect is not None:
                    base = syntax_error(self.source, suspect, "bash")
                    self._syntax_error = rules.finding(
                        "DC101", base.path, base.line, base.column,
                        detail=base.message.replace("bash syntax error", "tree-sitter-bash cannot parse this")
                        + " (bash is not installed to confirm)")
                    return self._syntax_error
            elif suspect is not None:
                self.unparsed = error_regions(root)
            check_tokens(self, root)
        return self._syntax_error

    def _bash_error(self, line: int, message: str) -> Finding:
        return rules.finding("DC101", self.source.display, line, 1, detail=f"bash syntax error: {message} (line "
                             f"{line}, as `bash -n` reports it); fix the file so it parses")

    def static_text(self, start: int, end: int) -> str | None:
        """The word's text after quote removal, or None when bash computes any of it at run time."""
        try:
            chars, stop = Lexer(self, defining="a word", static=True)._word(start, end, array=True)
        except Stop:
            return None
        return "".join(c.text for c in chars) if stop == end else None

    def analysis_cache(self, key: str, compute: Any) -> Any:
        """A per-file result computed once (hazards, function names), whatever list asks."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def line(self, offset: int) -> int:
        return self.source.position(offset)[0]

    def finding(self, code: str, message: str, offset: int, key: str | None = None) -> Finding:
        line, column = self.source.position(offset)
        return rules.finding(code, self.source.display, line, column, key, detail=message)

    # ------------------------------------------------------------------ collection

    def events_of(self, name: str) -> list[Event]:
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

        for start, end in self.spelled_spans(name):
            walk_up(root.descendant_for_byte_range(start, end))
        for node in self.escaped_ansi_c_strings():  # `$'\x4cIST'` spells LIST without its letters
            walk_up(node)
        return found

    def spelled_spans(self, name: str) -> list[tuple[int, int]]:
        """Every match of `spelled(name)` in the file, once per file and name (see `spelled_spans`)."""
        return self.analysis_cache(f"spelled {name}", lambda: spelled_spans(self.data, name))  # type: ignore[no-any-return]

    def escaped_ansi_c_strings(self) -> list[Any]:
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

    def defined_names(self) -> list[str]:
        """Every variable with an unconditional top-level definition or append (for the DC100 suggestion)."""
        self.collect_everything()  # only on this error path: the suggestion needs every variable
        return sorted(n for n, evs in self.events.items()
                      if any(e.kind in ("def", "append") and e.context is None for e in evs))

    def prefix_hint(self, name: str) -> str:
        """DC100 advice when `name` is only ever a prefix assignment (`NAME=... command`)."""
        prefixes = [e for e in self.events_of(name) if e.kind == "prefix"]
        if not prefixes:
            return ""
        return (f"line {self.line(prefixes[0].start)} only sets it for the one command that follows "
                f"(`{name}=... command`), which is not a definition; define it on its own line, quoting a value "
                f'with spaces: {name}="KEY1 KEY2"')

    def collect_everything(self) -> None:
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
                check_gaps(self, node)
            elif kind == "unset_command":
                self._on_unset(node, node.children[1:])
                check_gaps(self, node)
            elif kind == "command":
                self._on_command(node)
                check_gaps(self, node)
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
        self._add(node, "mutate", detail=f"`{keyword} {self.text(node)} in ...` loop variable")


    def continues(self, end: int) -> bool:
        """A backslash right after a value tree-sitter ended: in bash the word goes on (`\\<newline>`, `\\<tab>`)."""
        return self.data[end:end + 1] == b"\\"

    def text(self, node: Any) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def _add(self, node: Any, kind: str, name: str | None = None, **kw: Any) -> Event:
        name = name if name is not None else self.text(node)
        event = Event(name=name, kind=kind, node=node, locate=self._context, **kw)
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
        return _describe(outermost, self.text), in_function, stmt

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
                self._add(base, "element", detail=f"`{self.text(node).splitlines()[0][:60]}`")
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
            text = self.text(child).strip("'\"")
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
                                  detail=f"`{self.text(decl)[:60]}`")
                event.maybe_local = _declares_local(builtin, flags)
            elif first.type == "variable_assignment":  # read by _on_assignment; here only `-n` matters
                value = first.child_by_field_name("value")
                target = first.child_by_field_name("name")
                if "n" in flags and value is not None and target is not None:
                    # `declare -n REF=NAME`: REF is an alias through which NAME can change.
                    referenced = self.word_text(value.start_byte, value.end_byte)
                    if IDENT_TEXT.match(referenced):
                        self._add(value, "mutate", name=referenced,
                                  detail=f"name reference `{self.text(target)}` (declare -n)")
            elif len(word) > 1 or first.type != "word" or not self.text(first).startswith(("-", "+")):
                self._declared_word(word, builtin, flags, plus)

    def _declared_word(self, word: list[Any], builtin: str, flags: str, plus: str) -> None:
        """A declaration argument tree-sitter did not read as one name or assignment (quoted, escaped, split)."""
        first = word[0]
        text = self._group_text(word)
        match = _ASSIGNED_NAME.match(text)
        if match:
            self._add(first, "opaque", name=match.group(1), builtin=builtin,
                      detail=f"`{builtin} {self._group_raw(word)[:60]}`")
        elif IDENT_TEXT.match(text):  # `export LIST_"KEYS"`: the name bash sees, declared like any other
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

    def word_text(self, start: int, end: int) -> str:
        """The word's text after bash's quote removal, or, when it expands something at run time, its
        text with quotes and backslashes dropped (what a name written in it would look like)."""
        try:
            chars, stop = Lexer(self, defining="an argument", static=True)._word(start, end, array=True)
            if stop == end:
                return "".join(c.text for c in chars)
        except Stop:
            pass
        return self._loose_text(start, end)

    def _readings(self, word: list[Any]) -> set[str]:
        """An argument as bash passes it (quotes removed, $'...' decoded) and with only its quotes dropped:
        `let`/`eval` evaluate it again, so a name in either reading may be assigned (`let N=$x` too)."""
        start, end = word[0].start_byte, word[-1].end_byte
        return {self.word_text(start, end), self._loose_text(start, end)}

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
        if self.text(name_node) in _RESERVED_AS_COMMAND:
            return  # a syntax error bash reports; _check_file finds it for the whole file
        # Words as bash reads them (tree-sitter splits `$"NAME"` in two), and the command name after quote
        # removal: `'unset' X` and `\unset X` run unset.
        words = self._words(list(node.children_by_field_name("argument")))
        command = self.word_text(name_node.start_byte, name_node.end_byte)
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
                if IDENT_TEXT.match(text):
                    self._add(arg, "mutate", name=text, detail=f"`{command} {text}`")
        elif command in ("printf", "wait"):  # `printf -v NAME`, `wait -p NAME`
            option = "-v" if command == "printf" else "-p"
            for i, (arg, text) in enumerate(zip(args, texts)):
                target = None
                if text == option and i + 1 < len(texts):
                    arg, target = args[i + 1], texts[i + 1]
                elif text.startswith(option) and len(text) > 2:
                    target = text[2:]
                if target and IDENT_TEXT.match(target):
                    self._add(arg, "mutate", name=target, detail=f"`{command} {option} {target}`")
        elif command == "getopts":
            if len(texts) >= 2 and IDENT_TEXT.match(texts[1]):
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
        return self.word_text(word[0].start_byte, word[-1].end_byte)

    def _group_raw(self, word: list[Any]) -> str:
        return self.data[word[0].start_byte:word[-1].end_byte].decode("utf-8", "replace")

    def _on_expansion(self, node: Any) -> None:
        operator = node.child_by_field_name("operator")
        if operator is None or operator.type not in ("=", ":="):
            return
        target = next((c for c in node.children if c.type == "variable_name"), None)
        if target is not None:
            self._add(target, "mutate", detail=f"`{self.text(node)[:60]}` (assigns when unset or empty)")

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
        if IDENT_TEXT.match(target):
            self._add(left, "mutate", name=target, detail="an arithmetic assignment")

    def _on_step(self, node: Any) -> None:
        if not any(c.type in ("++", "--") for c in node.children) or not self._in_arithmetic(node):
            return
        for child in node.children:
            if child.type not in ("++", "--"):
                target = self.text(child).split("[", 1)[0].strip()
                if IDENT_TEXT.match(target):
                    self._add(child, "mutate", name=target, detail="an arithmetic increment/decrement")


    # ------------------------------------------------------------------ the list's definition

    def check_definitions(self, name: str, events: list[Event]) -> tuple[list[Finding], list[tuple[int, str]]]:
        """Problems of the name's known statements (DC102/DC103), and the changes known to it as
        (offset, why) pairs, which the driver reports as DC104 like any unproven occurrence."""
        findings: list[Finding] = []
        changes: list[tuple[int, str]] = []
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
                findings.append(self.finding(
                    "DC103", f"{name} is {verb} {how}; keep exactly one unconditional top-level definition of the "
                    "list (no if/case/loop/function/subshell/&&/|| around it)", where))
            elif event.kind == "def" and event.builtin == "local":
                findings.append(self.finding(
                    "DC103", f"`local {name}=...` outside a function fails in bash and defines nothing; write "
                    f"{name}=... (or declare/readonly) instead", where))
            elif event.kind == "def" and event is not first:
                assert first is not None
                line, column = self.source.position(first.start)
                findings.append(self.finding(
                    "DC103", f"{name} is defined again here (first definition at line {line}, column {column}); "
                    "keep exactly one definition and put every key in it", where))
            elif event.kind == "append" and (first is None or event.start < first.start):
                findings.append(self.finding(
                    "DC103", f"{name} is appended to before its definition; the definition would discard it — "
                    "keep exactly one definition and put every key in it", where))
            elif event.kind == "continued":
                findings.append(self.finding("DC102", continued_message(name), event.value.end_byte))
            elif event.kind == "opaque":
                findings.append(self.finding(
                    "DC103", f"{event.detail} assigns {name} in a form driftcheck cannot read statically; write "
                    f"exactly one plain top-level {name}=... definition", where))
            elif event.kind == "element":
                changes.append((where, f"{event.detail} changes one element of it; put every key in the "
                                "definition instead"))
            elif event.kind == "mutate":
                changes.append((where, f"it is changed by {event.detail}; put every key in the definition and do "
                                "not modify the list anywhere else"))
            elif event.kind == "decl":
                finding = self._check_decl(name, event, first)
                if isinstance(finding, str):
                    changes.append((where, finding))
                elif finding is not None:
                    findings.append(finding)
        return findings, changes

    def _check_decl(self, name: str, event: Event, first: Event | None) -> Finding | str | None:
        """A value-less declaration of the list: None when harmless, a finding, or why it may change it."""
        if event.local_scope or "f" in event.flags or "F" in event.flags:
            return None  # `local NAME` in a function is another variable; -f/-F name functions
        extra = set(event.flags) - _HARMLESS_DECL_FLAGS - ({"n"} if event.builtin == "export" else set())
        before = first is not None and event.start < first.start and event.context is None
        shown = f"{event.builtin} {'-' + event.flags + ' ' if event.flags else ''}{name}"
        readonly = "r" in event.flags or event.builtin == "readonly"
        if event.context is not None and readonly:
            # When it runs decides whether the definition or an append fails: not provable.
            return f"`{shown}` {event.context} makes it readonly at a time driftcheck cannot tell; drop it"
        if before:
            if readonly:
                return self.finding("DC103", f"`{shown}` makes {name} readonly before its definition, so the "
                                     "definition fails; declare it readonly in the definition itself", event.start)
            if extra - {"a"} or event.plus_flags:
                return self.finding("DC102", f"`{shown}` gives {name} an attribute that changes its value "
                                     f"({', '.join(sorted(extra))}); drop the declaration", event.start)
            return None
        if extra or event.plus_flags:
            what = "declared" if event.context is None else f"declared {event.context}"
            return f"it is {what} again with `{shown}`, which changes how its value is stored; remove that declaration"
        return None


    def resolve(self, var: str, at: int, defining: str) -> list[Ch]:
        """`$var` at byte `at` (the lexer's Resolver; static decoding never calls it)."""
        return self.evaluator().resolve(var, at, defining)  # type: ignore[no-any-return]

    def evaluator(self) -> Any:
        """The value decoder of this file (created on first use)."""
        if "evaluator" not in self._memo:
            from driftcheck.languages.shell.evaluate import Evaluator

            self._memo["evaluator"] = Evaluator(self)
        return self._memo["evaluator"]

    # ------------------------------------------------------------------ comments

    def attached_comments(self, definition: Event) -> list[Comment]:
        """The comments on the lines directly above the definition or at the end of its first line."""
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
        return [self._comment(c) for c in comments]

    def other_comments(self, attached: list[Comment]) -> list[Comment]:
        """Every other comment carrying `driftcheck:` (the driver reports them as unattached, DC006)."""
        root = self.tree.root_node
        seen = {(c.line, c.column - 1) for c in attached}
        found: list[Comment] = []
        at = self.data.find(b"driftcheck:")
        while at != -1:
            node = root.descendant_for_byte_range(at, at + 11)
            if node is not None and node.type == "comment":
                row, col = node.start_point  # DC006 points at the `#` itself
                comment = Comment(self.text(node)[1:], self.source.display, row + 1,
                                  self.source.point_column(row, col))
                if (comment.line, comment.column) not in seen:
                    seen.add((comment.line, comment.column))
                    found.append(comment)
            at = self.data.find(b"driftcheck:", at + 11)
        return found

    def _comment_at(self, root: Any, at: int) -> Any | None:
        """The comment starting at byte `at`, if one does (not a `#` inside a word, string or heredoc)."""
        if self.data[at:at + 1] != b"#":
            return None
        node = root.descendant_for_byte_range(at, at + 1)
        return node if node is not None and node.type == "comment" and node.start_byte == at else None

    def _comment(self, comment: Any) -> Comment:
        row, col = comment.start_point  # the text starts after `#`, one column later
        return Comment(self.text(comment)[1:], self.source.display, row + 1, self.source.point_column(row, col) + 1)



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
    if kind == "ERROR":
        return "in code tree-sitter-bash (driftcheck's parser) cannot parse, although bash accepts it"
    if kind in ("command_substitution", "process_substitution"):
        return f"inside a {kind.replace('_', ' ')} (a subshell)"
    return f"inside a {kind.replace('_', ' ')}"


def continued_message(name: str) -> str:
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


# What may stand between the letters of a name as bash source spells it: quotes, backslashes (with
# `\\<newline>`), `$` (`LIST_$'KEYS'`, `LIST$""_KEYS`); a bare newline too: a superset costs little.
SPELLING_NOISE = b"$\"'\\\n"


@lru_cache(maxsize=None)
def spelled(name: str) -> re.Pattern[bytes]:
    """`name` as it can be written in bash source: any `SPELLING_NOISE` between its letters."""
    between = b"[" + re.escape(SPELLING_NOISE) + b"]*"  # a class compiles 3x faster than an alternation
    return re.compile(between.join(re.escape(char.encode()) for char in name))


def spelled_spans(data: bytes, name: str) -> list[tuple[int, int]]:
    """(start, end) of every match of `spelled(name)` in `data`, overlapping ones included (`ABA` in `ABABA`).

    Usually no occurrence has noise inside it, and then they are the plain occurrences, found without
    compiling the pattern (~0.5 ms). The proof: a match is the name's letters with only noise between
    them, and no letter of a name is noise, so deleting the noise from `data` turns every match into one
    occurrence of the name there and makes no other; plain occurrences are matches. Equal counts
    (overlapping, before and after deleting) leave no room for a match with noise inside it.
    """
    word = name.encode()
    plain = _starts(data, word)
    if len(plain) == len(_starts(data.translate(None, SPELLING_NOISE), word)):
        return [(start, start + len(word)) for start in plain]
    pattern = spelled(name)
    spans = []
    match = pattern.search(data)
    while match is not None:
        spans.append(match.span())
        match = pattern.search(data, match.start() + 1)
    return spans


def _starts(data: bytes, word: bytes) -> list[int]:
    found = []
    at = data.find(word)
    while at != -1:
        found.append(at)
        at = data.find(word, at + 1)
    return found


@lru_cache(maxsize=None)
def _query() -> Any:
    from tree_sitter import Query

    return Query(ts_parser("bash").language, _QUERY)
