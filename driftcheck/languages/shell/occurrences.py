"""Every place a list's name is spelled, each positively classified (docs/languages.md).

An occurrence is harmless only in a form known not to change the list: the definition,
a recognised top-level append, `$NAME`/`${NAME...}` expansions that only read, a
comment, text inside a subshell or command substitution, or a word handed to an
external program or to a builtin that only reads its arguments (`echo`, `test`, ...).
Anything else is `unproven` and refuses the list (DC104): the driver says where and
the `why` here says what it is and how to rewrite it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from driftcheck.languages.base import Occurrence
from driftcheck.languages.shell.hazards import BUILTINS, KEYWORDS
from driftcheck.patterns import lazy

if TYPE_CHECKING:
    from driftcheck.languages.shell.script import Event, Script

_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # bytes of a name
_NAME_BYTES = frozenset(bytes([b]) for b in _WORD)  # the same, as 1-byte slices (`data[i:i + 1]`)
# Node types that make up one word (the text around a spelled name).
_WORDISH = frozenset({"word", "string", "raw_string", "ansi_c_string", "translated_string", "string_content",
                      "concatenation", "heredoc_body", "heredoc_content", "number"})
# Code here runs in a child process: it cannot change this shell's variables.
_SUBSHELL = frozenset({"command_substitution", "process_substitution", "subshell"})
# Builtins that only read their arguments (`printf` too, unless `-v`).
_INERT_BUILTINS = frozenset({"echo", "printf", "test", "[", ":", "true", "false", "type", "pwd", "cd", "pushd",
                             "popd", "dirs", "return", "exit", "shift", "kill", "umask", "ulimit", "times", "hash",
                             "help", "jobs", "disown", "logout", "break", "continue", "caller", "fg", "bg",
                             "suspend", "history", "compopt"})
_ARITH_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})


@lru_cache(maxsize=1)
def _rebinding() -> re.Pattern[bytes]:
    """In a script tree-sitter could not parse: words that may define, change or rebind a variable."""
    return re.compile(
        rb"\b(eval|source|alias|enable|trap|function|shopt|coproc)\b|\(\s*\)|(^|[\s;&|(])\.\s|"
        rb"(^|[\n;&|({])\s*[\"']?\$|\$\{!|\(\(|"
        # these assign only the names written after them: risky when a name may be computed
        rb"\b(declare|typeset|local|export|readonly|read|mapfile|readarray|printf|unset|let|getopts|wait|builtin|"
        rb"command)\b[^\n;|&]*[$`]")


def spans(script: Script, name: str) -> list[tuple[int, int]]:
    """Where `name` is spelled: its letters with quotes, backslashes, `$` or newlines between them,
    and words whose `$'...'` escapes decode to it."""
    data = script.data
    found: list[tuple[int, int]] = []
    for start, end in script.spelled_spans(name):  # overlapping ones too: `ABA` in `ABABA`
        # A letter, digit or `_` right before or after makes it part of a longer name (`N2`, `XN`),
        # except an option glued to it (`read -aN`, `printf -vN`).
        if data[end:end + 1] not in _NAME_BYTES and (start == 0 or data[start - 1:start] not in _NAME_BYTES
                                                      or _after_option(data, start)):
            found.append((start, end))
    for node in script.escaped_ansi_c_strings():
        word = node
        while word.parent is not None and word.parent.type == "concatenation":
            word = word.parent
        text = script.word_text(word.start_byte, word.end_byte)
        if name in text and not any(s <= word.start_byte < e or word.start_byte <= s < word.end_byte
                                    for s, e in found):
            found.append((word.start_byte, word.end_byte))
    return sorted(set(found))


def _after_option(data: bytes, start: int) -> bool:
    """Whether the letters before `start` are an option word glued to it (`-a`, `-ra`, `+x`)."""
    i = start
    while i > 0 and data[i - 1:i] in _NAME_BYTES:
        i -= 1
    return i > 0 and data[i - 1:i] in (b"-", b"+")


def classify(script: Script, name: str, definition: Event, events: list[Event]) -> list[Occurrence]:
    """Every occurrence of `name` with its role; `unproven` ones carry why and how to rewrite them."""
    path = script.source.display
    out: list[Occurrence] = []
    owners = [(e.node.start_byte, e.node.end_byte, e) for e in events]
    for start, end in spans(script, name):
        event = next((e for s, t, e in owners if s <= start < t or (start <= s < end)), None)
        role, why = _by_event(script, name, definition, event) if event is not None else \
            _by_context(script, name, start, end)
        if role is None:
            continue  # already reported through the event (DC103/DC104 with its own wording)
        line, column = script.source.position(start)
        out.append(Occurrence(path, line, column, role, why))
    for region in script.unparsed:
        why = _unparsed_why(script, name, region, definition.node.start_byte)
        if why:
            line, column = script.source.position(region[0])
            out.append(Occurrence(path, line, column, "unproven", why))
    return out


def unparsed_spelling(script: Script, name: str) -> tuple[int, str] | None:
    """When `name` is not found: an unparsed region that spells it (the definition may be there)."""
    from driftcheck.languages.shell.script import spelled

    for start, end in script.unparsed:
        if spelled(name).search(script.data, start, end):
            return start, _unparsed_message(script, (start, end), f"and it spells {name}")
    return None


def _unparsed_why(script: Script, name: str, region: tuple[int, int], definition: int) -> str:
    from driftcheck.languages.shell.script import spelled

    start, end = region
    text = script.data[start:end]
    if start <= definition < end:
        return _unparsed_message(script, region, "and the definition is inside it")
    if spelled(name).search(text):
        return _unparsed_message(script, region, f"and it spells {name}")
    if any(not _inside_test(text, m.start()) for m in _rebinding().finditer(text)):
        return _unparsed_message(script, region, "and it may hold a command that changes variables")
    return ""  # provably cannot touch the list: read it anyway


def _inside_test(text: bytes, at: int) -> bool:
    """Whether `at` is inside a `[[ ... ]]` opened earlier on its line (`&& $x` there is a test, not a command)."""
    line = text[text.rfind(b"\n", 0, at) + 1:at + 1]
    return line.rfind(b"[[") > line.rfind(b"]]")


def _unparsed_message(script: Script, region: tuple[int, int], reason: str) -> str:
    first, last = script.line(region[0]), script.line(max(region[0], region[1] - 1))
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    return (f"tree-sitter-bash (driftcheck's parser) cannot parse {lines} although `bash -n` accepts them, {reason}; "
            "rewrite that code in a simpler form")


def _by_event(script: Script, name: str, definition: Event, event: Event) -> tuple[str | None, str]:
    if event is definition:
        return "definition", ""
    if event.kind == "append" and event.context is None and event.start > definition.start:
        stop = _stops_between(script, definition, event)
        return ("unproven", stop) if stop else ("append", "")
    if event.kind == "decl":
        return "read", ""  # harmless, or reported by script.check_definitions
    if event.kind == "prefix":
        return _prefix(script, name, event)
    return None, ""


def _prefix(script: Script, name: str, event: Event) -> tuple[str | None, str]:
    """`NAME=value command`: scoped to one command, unless the command is a special builtin or unknown."""
    command = event.node.parent
    while command is not None and command.type != "command":
        command = command.parent
    if command is None:
        return "unproven", "driftcheck cannot tell which command this assignment is scoped to"
    role, why = _command_role(script, name, command)
    if role == "read" or _command_name(script, command) not in BUILTINS:
        return "read", ""
    return "unproven", why or f"`{name}=... {_command_name(script, command)}` may keep the assignment"


def _by_context(script: Script, name: str, start: int, end: int, holders: bool = True) -> tuple[str, str]:
    data = script.data
    node = script.tree.root_node.descendant_for_byte_range(start, end)
    if node.type == "variable_name" and node.start_byte == start and node.end_byte == end and \
            node.parent.type == "simple_expansion":
        return "read", ""  # `$NAME`, the common case: a read wherever it is
    ancestor = node
    while ancestor is not None:
        if ancestor.type == "comment":
            return "read", ""
        if ancestor.type in _SUBSHELL:
            return "read", ""  # a child process: cannot change this shell's variables
        ancestor = ancestor.parent
    if data[start - 1:start] == b"{" and data[end:end + 1] == b"}" and data[end + 1:end + 2] in (b"<", b">"):
        return "unproven", (f"`{{{name}}}>` stores a file descriptor number in it; use another variable for the "
                            "descriptor")
    if node.type == "variable_name" and node.start_byte == start and node.end_byte == end:
        return _variable(script, name, node)
    word = node
    while word.parent is not None and word.parent.type in _WORDISH:
        word = word.parent
    holder = word.parent
    if holder is None:
        return "unproven", "driftcheck cannot tell what this does"
    kind = holder.type
    if kind == "command_name":
        return "read", ""  # a command named like the list does not change the variable
    if kind == "command":
        return _command_role(script, name, holder)
    if kind in ("heredoc_redirect", "herestring_redirect", "file_redirect"):
        statement = holder.parent
        body = statement.child_by_field_name("body") if statement is not None else None
        if kind == "file_redirect" and holder.child_by_field_name("destination") == word:
            return "read", ""  # a file name
        if body is not None and body.type == "command":
            return _command_role(script, name, body)
        return "unproven", "it is fed to a compound command that may read it as code; feed it to a plain command"
    if kind in ("for_statement", "case_statement", "case_item") and holder.child_by_field_name("variable") != word:
        return "read", ""
    if kind in ("unary_expression", "binary_expression") and _in_test(holder):
        operator = holder.child_by_field_name("operator")
        op = script.text(operator) if operator is not None else ""
        if op in _ARITH_TESTS:
            return "unproven", (f"`[[ ... {op} ... ]]` evaluates its operands as arithmetic, which can assign "
                                f"{name}; compare \"${{{name}}}\" instead")
        return "read", ""
    if kind == "variable_assignment":
        holder_name = holder.child_by_field_name("name")
        if holders and holder_name is not None and holder_name.type == "variable_name" and _inert_holder(
                script, script.text(holder_name), holder):
            return "read", ""  # text in a variable that is only ever printed or passed to programs
        return "unproven", (f"a value spells {name}, and it may later run as code or arithmetic; build that text "
                            "without the list's name")
    if kind in ("parenthesized_expression", "binary_expression", "unary_expression", "postfix_expression") or \
            _arithmetic(node):
        return "unproven", (f"bash evaluates this as arithmetic (here inside {kind.replace('_', ' ')}), which can "
                            f"assign {name}; keep the list's name out of arithmetic")
    return "unproven", f"it is spelled here in a form driftcheck cannot prove harmless ({kind.replace('_', ' ')})"


def _variable(script: Script, name: str, node: Any) -> tuple[str, str]:
    """`$NAME`, `${NAME...}`: reads, except the forms that assign."""
    parent = node.parent
    if parent.type == "simple_expansion":
        return "read", ""
    expansion = None
    if parent.type == "expansion":
        expansion = parent
    elif parent.type == "subscript" and parent.child_by_field_name("name") == node \
            and parent.parent is not None and parent.parent.type == "expansion":
        expansion = parent.parent
    if expansion is not None:
        subject = next((c for c in expansion.children if c.type in ("variable_name", "subscript")), None)
        if subject is not None and subject.start_byte == node.start_byte:
            operators = {c.type for c in expansion.children}
            if operators & {"=", ":="}:
                return "unproven", (f"`${{{name}:=...}}` assigns it when it is unset or empty; use "
                                    f"`${{{name}:-...}}`, which only reads")
            return "read", ""
    if parent.type == "unset_command" and any(
            script.text(c).startswith("-") and "f" in script.text(c) for c in parent.children[1:]):
        return "read", ""  # `unset -f NAME` removes a function
    if _arithmetic(node):
        return "unproven", (f"bash evaluates {name} here as arithmetic (and its value too), which can assign "
                            f"variables; read it as \"${{{name}[i]}}\" outside arithmetic")
    return "unproven", (f"{name} is used here as {parent.type.replace('_', ' ')}, which may assign it; "
                        f"read it as \"${{{name}}}\"")


def _arithmetic(node: Any) -> bool:
    parent = node.parent
    while parent is not None and parent.type not in ("command", "program"):
        if parent.type in ("arithmetic_expansion", "c_style_for_statement") or (
                parent.type == "compound_statement" and parent.children and parent.children[0].type == "(("):
            return True
        parent = parent.parent
    return False


def _command_name(script: Script, command: Any) -> str | None:
    name_node = command.child_by_field_name("name")
    return None if name_node is None else script.static_text(name_node.start_byte, name_node.end_byte) \
        or script.text(name_node)


def _command_role(script: Script, name: str, command: Any) -> tuple[str, str]:
    """A word spelling the list handed to a command: harmless only for an external program or an inert builtin."""
    name_node = command.child_by_field_name("name")
    if name_node is None:
        return "unproven", "driftcheck cannot tell which command receives it"
    cmd = script.static_text(name_node.start_byte, name_node.end_byte)
    raw = script.text(name_node)
    if cmd is None and not re.fullmatch(r"[\[\]A-Za-z0-9_.:/+@%,-]+", raw):
        return "unproven", "it is passed to a command computed at run time, which may assign it; name the command"
    cmd = cmd if cmd is not None else raw
    arguments = [script.text(a) for a in command.children_by_field_name("argument")]
    while cmd in ("builtin", "command") and arguments:
        if cmd == "command" and arguments[0].startswith("-") and set(arguments[0][1:]) & {"v", "V"}:
            return "read", ""  # `command -v X` only describes X
        cmd, arguments = arguments[0].strip("'\""), arguments[1:]
    functions = script.analysis_cache("functions", lambda: _function_names(script))
    if cmd in functions:
        return "unproven", (f"it is passed to the function {cmd}(), which may assign it through its argument "
                            "(`declare -n`, `printf -v`, `read`, `eval`); pass another name")
    if cmd == "printf" and any(a.strip("'\"").startswith("-v") for a in arguments):
        return "unproven", f"`printf -v` may write to {name}; print into another variable"
    if cmd in ("declare", "typeset", "export", "readonly", "local") and all(
            a.startswith("-") and set(a[1:]) <= set("pfF") for a in arguments if a.startswith(("-", "+"))) and \
            any(a.startswith("-") and "p" in a for a in arguments):
        return "read", ""  # `declare -p NAME` prints it
    if cmd in _INERT_BUILTINS:
        return "read", ""
    if cmd in BUILTINS or cmd in KEYWORDS:
        return "unproven", f"`{cmd}` is a bash builtin that may assign {name}; change the list only in its definition"
    return "read", ""  # an external program runs in its own process


def _function_names(script: Script) -> frozenset[str]:
    from driftcheck.languages.shell.hazards import function_names

    found = {name or script.text(node) for node, name in function_names(script)}
    # Functions defined in text that `eval` or `trap` run are not in the tree: every word that looks like a
    # function name anywhere in the file counts too (a superset only refuses more).
    found.update(spelled_definitions(script.data))
    return frozenset(found)


_KEYWORD_REST = lazy(rb"\s+([^\s(){};&|]+)")
_EMPTY_PARENS = re.compile(rb"\(\s*\)")
_SPACE = frozenset(b" \t\n\r\f\v")
_FUNCTION_NAME = _WORD | frozenset(b":.@+-")
_FUNCTION_START = _WORD - frozenset(b"0123456789")


def spelled_definitions(data: bytes) -> set[str]:
    """Every name written like a function definition: `function NAME` or `NAME ()`, in code or not.

    Searched from the rare bytes outward (`function`, `()`), not by a pattern tried at every
    identifier: one pass over a large script costs a fraction of a millisecond instead of ten.
    Definitions that overlap (`function x=f()`) all count: a superset only refuses more.
    """
    names = set()
    at = data.find(b"function")
    while at != -1:
        rest = _KEYWORD_REST.match(data, at + 8)
        if rest is not None and (at == 0 or data[at - 1] not in _WORD):
            names.add(rest.group(1).decode("utf-8", "replace").strip("'\""))
        at = data.find(b"function", at + 1)
    for parens in _EMPTY_PARENS.finditer(data):
        end = parens.start()
        while end and data[end - 1] in _SPACE:
            end -= 1
        start = end
        while start and data[start - 1] in _FUNCTION_NAME:
            start -= 1
        while start < end and data[start] not in _FUNCTION_START:
            start += 1  # a name starts with a letter or `_`: `1f()` defines f
        if start < end:
            names.add(data[start:end].decode())
    return names


def _in_test(node: Any) -> bool:
    parent = node
    while parent is not None:
        if parent.type == "test_command":
            return True
        if parent.type in ("command", "program", "compound_statement"):
            return False
        parent = parent.parent
    return False


_STOPPING = frozenset({"exit", "return", "exec", "kill", "logout", "suspend"})


def _stops_between(script: Script, definition: Event, append: Event) -> str:
    """Why the script may stop between the definition and this append (so the append never runs), or ""."""
    errexit = script.analysis_cache("errexit", lambda: bool(re.search(
        rb"\bset\s+(-[A-Za-z]*e|-o\s+errexit)|\bshopt\b|SHELLOPTS", script.data)))
    functions = script.analysis_cache("functions", lambda: _function_names(script))
    node = definition.stmt.next_sibling
    while node is not None and node != append.stmt:
        if node.type not in ("comment", "function_definition", ";", "&", "\n") and not _plain_assignment(
                script, node) and _may_stop(script, node, functions, errexit):
            return (f"a command between the definition (line {script.line(definition.start)}) and this append may "
                    "stop the script (`exit`, `set -e`, a function that exits), so the append may never run; put "
                    "every key in the definition")
        node = node.next_sibling
    return ""


def _plain_assignment(script: Script, statement: Any) -> bool:
    """An assignment that cannot fail: no command substitution, no `${x:?}`, not to a readonly name."""
    if statement.type not in ("variable_assignment", "declaration_command"):
        return False
    text = script.text(statement)
    if "$(" in text or "`" in text or "?" in text or "-r" in text or text.startswith("readonly"):
        return False
    target = statement.child_by_field_name("name") if statement.type == "variable_assignment" else None
    if target is None:
        return statement.type == "declaration_command"
    name = script.text(target)
    return not re.search(rb"(readonly|-[A-Za-z]*r)[^\n;]*\b" + re.escape(name.encode()) + rb"\b", script.data)


def _may_stop(script: Script, statement: Any, functions: frozenset[str], errexit: bool) -> bool:
    """Whether a statement holds a command that the script's text makes end it: `exit`, a function
    (it may exit), one driftcheck cannot name, or under `set -e` a builtin that can fail (`false`,
    `test`). An external program failing is a run-time condition, like the script's inputs."""
    stack = [statement]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            continue  # defining a function runs nothing
        if node.type == "command":
            name = _command_name(script, node)
            if name is None or name in _STOPPING or name in functions or "$" in name:
                return True
            if errexit and (name in BUILTINS or name in KEYWORDS) and name not in _NEVER_FAIL:
                return True
        elif errexit and node.type in ("test_command", "negated_command") or (
                node.type == "compound_statement" and node.children and node.children[0].type == "(("):
            return True
        stack.extend(node.children)
    return False


# Builtins that succeed whatever their arguments (so `set -e` cannot stop the script there).
_NEVER_FAIL = frozenset({"echo", ":", "true"})


# Where a variable's value is evaluated as code or arithmetic, or copied on.
_EVALUATING = frozenset({"arithmetic_expansion", "c_style_for_statement", "subscript", "variable_assignment",
                         "command_name", "test_command", "declaration_command", "unset_command", "for_statement"})


def _inert_holder(script: Script, holder: str, assignment: Any) -> bool:
    """A variable whose value spells the list is harmless when its value is never run, evaluated
    arithmetically or copied: every other mention is a plain `$V` handed to a program or `echo`."""
    if script.analysis_cache("namerefs", lambda: bool(re.search(
            rb"\b(declare|typeset|local)\b[^\n;|&]*\s[-+][A-Za-z]*n", script.data))):
        return False  # through a name reference the text can land in any variable
    declaration = assignment.parent
    if declaration is not None and declaration.type == "declaration_command" and any(
            c.type == "word" and script.text(c).startswith("-") and "i" in script.text(c)
            for c in declaration.children):
        return False  # `declare -i V=...` evaluates the value at once
    for start, end in spans(script, holder):
        if assignment.start_byte <= start < assignment.end_byte:
            continue
        node = script.tree.root_node.descendant_for_byte_range(start, end)
        if node.type != "variable_name" or node.parent is None or node.parent.type not in (
                "simple_expansion", "expansion"):
            if _by_context(script, holder, start, end, holders=False)[0] != "read" or node.type == "variable_name":
                return False
            continue
        ancestor = node.parent.parent
        while ancestor is not None and ancestor.type not in ("command", "program"):
            if ancestor.type in _EVALUATING or (ancestor.type == "compound_statement" and ancestor.children
                                                and ancestor.children[0].type == "(("):
                return False
            if ancestor.type == "expansion" and any(c.type == ":" for c in ancestor.children):
                return False  # `${x:$V}`: an arithmetic offset
            ancestor = ancestor.parent
        if ancestor is None or ancestor.type != "command":
            return False
        if _command_role(script, holder, ancestor)[0] != "read" or _command_name(script, ancestor) == "let":
            return False
    return True
