"""Constructs that could change a list without spelling its name, found once per file.

A name written out is found by `occurrences`; these are the ways bash can reach a
variable whose name is computed, or change what the definition itself means:

* code run from text: `eval` and `trap` of text that is not static (static text is
  parsed and checked the same way, recursively), `source`/`.` of another file, a
  command whose name is computed (`"$@"`, `$cmd`: it may be `eval` or `declare`);
* names computed at run time: `declare "$v=..."`, `printf -v "$v"`, `read "$v"`,
  `unset "$v"`, `let "$v=1"`, `(( $v = 1 ))`, a name reference (`declare -n`) to a
  computed name, `${!v:=...}`;
* what the definition means: `alias` when aliases can be expanded, `enable`, a
  function named like a builtin or keyword (`function declare { :; }`), a DEBUG or
  RETURN trap (it runs around every command and can skip one under `extdebug`).

Each refuses every list of the file (fail closed): driftcheck cannot tell which name
they reach. The README lists them. A `local`/`declare` of a computed name inside a
function (without -g or -n) only creates a local, so it is allowed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from driftcheck.languages.base import Occurrence
from driftcheck.languages.common import ts_parser
from driftcheck.languages.shell.lexer import IDENT_TEXT

if TYPE_CHECKING:
    from driftcheck.languages.shell.script import Script

# `compgen -b` of bash 5.2, with `[`; and the reserved words (`compgen -k`).
BUILTINS = frozenset(
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo "
    "enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd "
    "printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type "
    "typeset ulimit umask unalias unset wait".split())
KEYWORDS = frozenset("if then else elif fi case esac for select while until do done in function time { } ! [[ ]] "
                     "coproc".split())
_DECLARE = frozenset({"declare", "typeset", "local", "export", "readonly"})
_PLAIN_WORD = re.compile(rb"[A-Za-z0-9_.:/+@%,=\[\]^-]+")  # a word with nothing to decode
_MAX_DEPTH = 4  # eval of eval of ...: deeper static text is refused
# The node kinds the scan reads, by the name it files them under. One walk of the tree finds them
# all: a tree-sitter Query finds the same nodes, but compiling one reads the whole bash grammar's
# parse table first, which costs a check more than the walk.
_KINDS = {"command_name": "command", "function_definition": "function", "declaration_command": "declaration",
          "unset_command": "unset", "binary_expression": "arithmetic", "postfix_expression": "step",
          "unary_expression": "step"}
# Commands that may assign a variable they do not spell, or change what statements mean.
_RISKY = frozenset({"builtin", "command", "eval", "trap", "source", ".", "enable", "alias", "declare", "typeset",
                    "local", "export", "readonly", "read", "mapfile", "readarray", "printf", "unset", "let",
                    "getopts", "wait"})
_ARITH_ASSIGN = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="})

Decode = Callable[[int, int], "str | None"]


class Hazard:
    """One construct that could change any variable: where, and why (a DC104 clause)."""

    __slots__ = ("offset", "why", "code")

    def __init__(self, offset: int, why: str, code: str | None = None) -> None:
        self.offset, self.why = offset, why
        self.code = code  # static text it runs (eval/trap), checked per name


def occurrences(script: Script, name: str) -> list[Occurrence]:
    """The file's hazards as unproven occurrences of `name` (the first of each kind, with a count)."""
    found = script.analysis_cache("hazards", lambda: scan(script.tree.root_node, script.data, script.static_text,
                                                          captures=captures(script)))
    out: list[Occurrence] = []
    seen: dict[str, int] = {}
    for hazard in found:
        if any(start <= hazard.offset < end for start, end in script.unparsed):
            continue  # tree-sitter-bash misread it; `occurrences` judges that region from its text
        why = hazard.why
        if hazard.code is not None:  # static code: refuses only the names it spells
            from driftcheck.languages.shell.script import spelled

            if not spelled(name).search(hazard.code.encode()):
                continue
            why = why.format(name=name)
        seen[why.split(";")[0]] = seen.get(why.split(";")[0], 0) + 1
        if seen[why.split(";")[0]] > 1:
            continue
        line, column = script.source.position(hazard.offset)
        out.append(Occurrence(script.source.display, line, column, "unproven", why))
    return out


def captures(script: Script) -> dict[str, list[Any]]:
    """The file's commands, functions, declarations and arithmetic: one walk, shared per file."""
    return script.analysis_cache("captures", lambda: nodes_of_interest(script.tree.root_node))  # type: ignore[no-any-return]


def nodes_of_interest(root: Any) -> dict[str, list[Any]]:
    """Every node under `root` (itself included) of a kind in `_KINDS`, filed by its name there, in
    document order (a parent before the nodes it contains): what a query of those kinds captures."""
    filed: dict[int, list[Any]] = {}
    found: dict[str, list[Any]] = {}
    for kind_id, name in _kind_ids().items():
        filed[kind_id] = found.setdefault(name, [])
    cursor = root.walk()
    down, right, up = cursor.goto_first_child, cursor.goto_next_sibling, cursor.goto_parent
    while True:
        node = cursor.node
        bucket = filed.get(node.kind_id)
        if bucket is not None:
            bucket.append(node)
        if down():
            continue
        while not right():  # the cursor never leaves `root`: it cannot go up from where it started
            if not up():
                return {name: nodes for name, nodes in found.items() if nodes}


@lru_cache(maxsize=None)
def _kind_ids() -> dict[int, str]:
    """Every symbol id the grammar shows under a name in `_KINDS` (an alias shares the name, not the id)."""
    language = ts_parser("bash").language
    return {kind_id: _KINDS[language.node_kind_for_id(kind_id)] for kind_id in range(language.node_kind_count)
            if language.node_kind_is_named(kind_id) and language.node_kind_for_id(kind_id) in _KINDS}


def function_names(script: Script, text: _Text | None = None) -> list[tuple[Any, str | None]]:
    """(name node, decoded name) of every function the tree defines."""
    text = text or _Text(script.data, script.static_text)
    out = []
    for node in captures(script).get("function", []):
        name = node.child_by_field_name("name")
        if name is not None:
            out.append((name, text.static(name)))
    return out


def scan(root: Any, data: bytes, decode: Decode, depth: int = 0,
         captures: dict[str, list[Any]] | None = None) -> list[Hazard]:
    """Every hazard under `root` (see the module docstring), in file order."""
    text = _Text(data, decode)
    found: list[Hazard] = []
    if captures is None:
        captures = nodes_of_interest(root)
    functions = [n.child_by_field_name("name") for n in captures.get("function", [])]
    for node in functions:
        if node is None:
            continue
        fname = text.static(node)
        if fname is None or fname in BUILTINS or fname in KEYWORDS:
            found.append(Hazard(node.start_byte, f"a function named `{text.raw(node)}` replaces the bash "
                                "builtin or keyword, so no statement of the file means what it says; rename it"))
    aliases_expand = _aliases_can_expand(data)
    for node in captures.get("command", []):
        name = text.static(node)
        if name is not None and name not in _RISKY:
            continue  # most commands: nothing to decode
        command = node.parent
        if command is None or command.type != "command" or command.child_by_field_name("name") != node:
            continue
        found += _command(command, node, name, text, aliases_expand, depth)
    for node in captures.get("declaration", []):
        found += _declaration(node, text)
    for node in captures.get("unset", []):
        words = [c for c in node.children[1:] if c.type != "comment"]
        found += _dynamic_names(node, "unset", words, text)
    for node in captures.get("arithmetic", []):
        left = node.child_by_field_name("left")
        if left is None or left.type not in ("simple_expansion", "expansion"):
            continue
        op = node.child_by_field_name("operator")
        if op is not None and op.type in _ARITH_ASSIGN and _in_arithmetic(node):
            found.append(Hazard(node.start_byte, "an arithmetic assignment to a computed name (`(( $v = ... ))`) "
                                "can assign any variable; assign a named variable"))
    for node in captures.get("step", []):
        if not any(c.type in ("simple_expansion", "expansion") for c in node.children):
            continue
        if any(c.type in ("++", "--") for c in node.children) and _in_arithmetic(node):
            found.append(Hazard(node.start_byte, "an arithmetic increment of a computed name (`(( $v++ ))`) can "
                                "assign any variable; increment a named variable"))
    at = data.find(b"${!")
    while at != -1:
        node = root.descendant_for_byte_range(at, at + 3)
        while node is not None and node.type != "expansion":
            node = node.parent
        if node is not None and any(c.type in ("=", ":=") for c in node.children):
            found.append(Hazard(at, "`${!v:=...}` assigns the variable whose name is in v, which may be any "
                                "variable; assign a named variable"))
        at = data.find(b"${!", at + 3)
    found.sort(key=lambda h: h.offset)
    return found


class _Text:
    def __init__(self, data: bytes, decode: Decode) -> None:
        self.data, self.decode = data, decode

    def raw(self, node: Any) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def static(self, node: Any, end: Any = None) -> str | None:
        """The word after quote removal, or None when bash computes it at run time."""
        stop = (end or node).end_byte
        raw = self.data[node.start_byte:stop]
        if _PLAIN_WORD.fullmatch(raw):
            return raw.decode()  # the common case: nothing to decode (`[` is a command, not a glob here)
        return self.decode(node.start_byte, stop)


def _words(node: Any, text: _Text) -> list[list[Any]]:
    """Arguments grouped as bash reads words (touching nodes are one word)."""
    words: list[list[Any]] = []
    for child in node.children_by_field_name("argument"):
        if words and not text.data[words[-1][-1].end_byte:child.start_byte].replace(b"\\\n", b""):
            words[-1].append(child)
        else:
            words.append([child])
    return words


def _command(command: Any, name_node: Any, name: str | None, text: _Text, aliases_expand: bool,
             depth: int) -> list[Hazard]:
    """`name`: the command's name after quote removal, None when computed at run time."""
    at = command.start_byte
    words = _words(command, text)
    statics = [text.static(w[0], w[-1]) for w in words]
    while name in ("builtin", "command") and statics:
        if name == "command" and statics[0] and statics[0].startswith("-") and set(statics[0][1:]) & {"v", "V"}:
            return []  # `command -v X` only describes X
        if statics[0] in ("--", "-p"):
            words, statics = words[1:], statics[1:]
            continue
        name, words, statics = statics[0], words[1:], statics[1:]
    if name is None:
        raw = text.raw(name_node)
        if "/" in raw.split("$", 1)[0] or re.search(r"[^\\]/", raw.replace("${", "").split("}", 1)[-1]):
            return []  # a path: never a builtin or function of this shell
        prefix = raw.split("$", 1)[0].replace('"', "").replace("'", "").replace("\\", "")
        if prefix and not any(word.startswith(prefix) for word in BUILTINS | KEYWORDS):
            return []  # `helper_"$x"`: a function of this file (its body is checked) or a program, never a builtin
        return [Hazard(at, f"the command name `{raw[:40]}` is computed at run time, so it may be `eval`, "
                       "`declare` or `read` and assign any variable; call the command by name")]
    if name in ("eval", "trap"):
        return _code(command, name, words, statics, text, depth)
    if name in ("source", "."):
        return [Hazard(at, f"`{name}` runs another file, which may change any variable; define the list in a file "
                       "that sources nothing")]
    if name == "enable":
        return [Hazard(at, "`enable` turns bash builtins on or off, which changes what the definition means; "
                       "remove it")]
    if name == "alias" and aliases_expand and any(s is None or "=" in s for s in statics) | (not statics):
        return [Hazard(at, "an alias (with expand_aliases) can rewrite any later command, the definition "
                       "included; use a function instead")]
    if name in _DECLARE:
        return _dynamic_declare(command, name, words, statics, text)
    if name in ("read", "mapfile", "readarray"):
        return _reader(command, name, words, statics)
    if name == "printf":
        for i, s in enumerate(statics):
            if s == "-v" and (i + 1 >= len(statics) or statics[i + 1] is None):
                return [Hazard(at, "`printf -v` into a computed name can assign any variable; name the variable")]
            if s is None and i == 0 and not _never_an_option(text.raw(words[0][0]) if len(words[0]) == 1 else
                                                              text.data[words[0][0].start_byte:words[0][-1].end_byte]
                                                              .decode("utf-8", "replace")):
                return [Hazard(at, "`printf` with computed options may assign any variable (`-v`); write them "
                               "out")]
            if s is not None and s.startswith("-v") and len(s) > 2:
                break
            if s is None or not s.startswith("-"):
                break
        return []
    if name in ("unset", "let"):
        return _dynamic_names(command, name, [w for w in words], text)
    if name in ("getopts", "wait") and any(s is None for s in statics[1:]):
        return [Hazard(at, f"`{name}` into a computed name can assign any variable; name the variable")]
    return []


def _code(command: Any, name: str, words: list[list[Any]], statics: list[str | None], text: _Text,
          depth: int) -> list[Hazard]:
    """`eval TEXT` / `trap TEXT SIGNALS`: static text is parsed and checked like the file."""
    at = command.start_byte
    if name == "trap":
        while statics and statics[0] in ("--",):
            statics = statics[1:]
        if not statics or statics[0] in ("-p", "-l", "-") or (statics[0] or "").startswith("-"):
            return []
        handler, signals = statics[0], statics[1:]
        if handler == "":
            return []  # ignore the signals
        if any(s is None or s.upper().removeprefix("SIG") in ("DEBUG", "RETURN") for s in signals):
            return [Hazard(at, "a DEBUG or RETURN trap runs around every command (and can skip one); remove it")]
        parts = [handler]
    else:
        parts = statics
    if any(p is None for p in parts):
        return [Hazard(at, f"`{name}` runs text computed at run time, which may assign any variable; run the "
                       "commands directly")]
    code = " ".join(p for p in parts if p is not None)
    if depth >= _MAX_DEPTH:
        return [Hazard(at, f"`{name}` runs text nested too deeply to check; run the commands directly")]
    out = [Hazard(at, f"`{name}` runs text that spells {{name}}; change the list only in its definition", code)]
    data = code.encode()
    tree = ts_parser("bash").parse(data)
    if tree.root_node.has_error:
        return out + [Hazard(at, f"driftcheck cannot parse the text `{name}` runs; run the commands directly")]
    inner = scan(tree.root_node, data, _static_decoder(data), depth + 1)
    return out + [Hazard(at, f"`{name}` runs text in which: {h.why}") for h in inner if h.code is None] + [
        Hazard(at, h.why, h.code) for h in inner if h.code is not None]


def _dynamic_declare(command: Any, name: str, words: list[list[Any]], statics: list[str | None],
                     text: _Text) -> list[Hazard]:
    """`declare` run as a command (after `builtin`/`command`): every word must be static."""
    if any(s is None for s in statics):
        return [Hazard(command.start_byte, f"`{name}` of a computed name may assign any variable; name the "
                       "variable")]
    flags = "".join(s[1:] for s in statics if s and s.startswith("-"))
    if "n" in flags:
        for s in statics:
            if s and not s.startswith(("-", "+")) and ("=" not in s or not IDENT_TEXT.match(s.split("=", 1)[1])):
                return [Hazard(command.start_byte, "a name reference (`-n`) to a computed or unset target may "
                               "reach any variable; refer to a named variable")]
    return []


def _declaration(node: Any, text: _Text) -> list[Hazard]:
    """`declare`/`local`/... parsed as a declaration: a computed name or flag, or a nameref to one."""
    builtin = node.children[0].type
    nameref = builtin in ("declare", "typeset", "local")  # `export -n` only un-exports
    flags = ""
    hazards: list[Hazard] = []
    for child in node.children[1:]:
        if child.type == "comment":
            continue
        if child.type == "variable_name":
            continue
        if child.type == "variable_assignment":
            value = child.child_by_field_name("value")
            target = child.child_by_field_name("name")
            if target is not None and target.type != "variable_name" and target.type != "subscript":
                hazards.append(Hazard(child.start_byte, f"`{builtin}` of a computed name may assign any variable; "
                                      "name the variable"))
            if nameref and "n" in flags:
                referenced = text.static(value) if value is not None else None
                if referenced is None or not IDENT_TEXT.match(referenced):
                    hazards.append(Hazard(child.start_byte, "a name reference (`-n`) to a computed target may "
                                          "reach any variable; refer to a named variable"))
            continue
        word = text.static(child)
        if word is None:
            local = builtin in ("local", "declare", "typeset") and "g" not in flags and "n" not in flags \
                and _in_function(node)
            if not local:
                hazards.append(Hazard(child.start_byte, f"`{builtin}` of a computed name or option may assign any "
                                      "variable; name the variable"))
            continue
        if word.startswith(("-", "+")) and not flags.endswith("--"):
            flags += word[1:]
        elif nameref and "n" in flags and "=" not in word:
            hazards.append(Hazard(child.start_byte, "a name reference (`-n`) without a target is set by its next "
                                  "assignment, which may reach any variable; give it a named target"))
    if nameref and "n" in flags and not hazards:
        for child in node.children[1:]:
            if child.type == "variable_name":
                hazards.append(Hazard(child.start_byte, "a name reference (`-n`) without a target is set by its "
                                      "next assignment, which may reach any variable; give it a named target"))
    return hazards


def _reader(command: Any, name: str, words: list[list[Any]], statics: list[str | None]) -> list[Hazard]:
    """`read`/`mapfile`: a computed target (or option that takes one), or a `mapfile -C` callback."""
    with_argument = "adinNptu" if name == "read" else "dnOsuCc"
    i = 0
    while i < len(statics):
        s = statics[i]
        if s is None:
            return [Hazard(command.start_byte, f"`{name}` into a computed name can assign any variable; name the "
                           "variable")]
        if s == "--":
            i += 1
            break
        if not s.startswith("-") or s == "-":
            break
        letters = s[1:]
        for k, letter in enumerate(letters):
            if letter == "C" and name != "read":
                return [Hazard(command.start_byte, "`mapfile -C` runs a callback, which may assign any variable; "
                               "remove it")]
            if letter in with_argument:
                if k == len(letters) - 1:
                    i += 1  # the argument is the next word (a computed prompt or delimiter is harmless)
                    if letter == "a" and (i >= len(statics) or statics[i] is None):
                        return [Hazard(command.start_byte, f"`{name} -a` into a computed name can assign any "
                                       "variable; name the variable")]
                break
        i += 1
    if any(s is None for s in statics[i:]):
        return [Hazard(command.start_byte, f"`{name}` into a computed name can assign any variable; name the "
                       "variable")]
    return []


def _dynamic_names(command: Any, name: str, words: list[Any], text: _Text) -> list[Hazard]:
    for word in words:
        group = word if isinstance(word, list) else [word]
        if text.static(group[0], group[-1]) is None:
            return [Hazard(command.start_byte, f"`{name}` of a computed name can change any variable; name the "
                           "variable")]
    return []


def _never_an_option(raw: str) -> bool:
    """A computed word whose literal part cannot occur in `-v` or `-vNAME` (`"$fmt\\n"`, `"%s: $x"`)."""
    literal = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]|[\"']", "", raw)
    return bool(re.search(r"[^A-Za-z0-9_-]", literal))


def _aliases_can_expand(data: bytes) -> bool:
    """Aliases expand in a script only after `shopt -s expand_aliases` or in POSIX mode (spelled any way)."""
    from driftcheck.languages.shell.script import SPELLING_NOISE

    # `spelled(word)` matches the word with SPELLING_NOISE between its letters: exactly the words left once
    # those bytes are deleted (one pass instead of a pattern per word).
    letters = data.translate(None, SPELLING_NOISE)
    return any(word in letters for word in (b"expand_aliases", b"posix", b"POSIXLY_CORRECT", b"shopt", b"BASHOPTS",
                                            b"SHELLOPTS"))


def _in_function(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return True
        parent = parent.parent
    return False


def _in_arithmetic(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("arithmetic_expansion", "c_style_for_statement", "subscript"):
            return True
        if parent.type == "compound_statement":
            return bool(parent.children) and parent.children[0].type == "(("
        if parent.type in ("test_command", "program"):
            return False  # `[[ $x = y ]]` compares strings
        parent = parent.parent
    return False


def _static_decoder(data: bytes) -> Decode:
    from driftcheck.languages.shell.lexer import Lexer, Stop

    class _Bytes:
        def __init__(self) -> None:
            self.data = data

        def resolve(self, var: str, at: int, defining: str) -> list[Any]:  # pragma: no cover - static mode
            raise Stop("DC102", "", at)

    def decode(start: int, end: int) -> str | None:
        try:
            chars, stop = Lexer(_Bytes(), defining="a word", static=True)._word(start, end, array=True)
        except Stop:
            return None
        return "".join(c.text for c in chars) if stop == end else None

    return decode
