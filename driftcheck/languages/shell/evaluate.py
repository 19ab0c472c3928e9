"""The list's value: the definition and its appends decoded and split as bash gives them to the harness.

`Evaluator.resolve` is what the lexer calls for `$VAR`: VAR's one unconditional top-level
definition (plus appends) before the use, decoded the same way, or DC102.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcheck.languages.common import node_span
from driftcheck.languages.shell.lexer import Ch, Lexer, Stop, Value, split_ifs
from driftcheck.languages.shell.script import continued_message
from driftcheck.languages.shell.syntax import misparse_why
from driftcheck.model import Key, Span

if TYPE_CHECKING:
    from driftcheck.languages.shell.script import Event, Script

_MAX_EXPANSION_DEPTH = 40  # variables expanding variables; far beyond any real harness, well within the stack
_WORD_END = frozenset(b" \t\n;&|)<>")  # after a value bash ends the word only at these
_HARMLESS_DECL_FLAGS = set("rxgtp")
# Flags a definition may carry, per builtin; everything else changes how the value is stored.
_DEF_FLAGS = {"declare": set("rxgat"), "typeset": set("rxgat"), "local": set("rxgat"), "export": set(),
              "readonly": set("a")}


_FLAG_WHY = {
    "A": "an associative array (`-A`) has no defined key order; use an indexed array `NAME=(...)` or a string",
    "i": "the integer attribute (`-i`) evaluates the value arithmetically; drop the flag",
    "n": "a name reference (`-n`) points at another variable; define the list itself",
    "l": "the lowercase attribute (`-l`) rewrites the value; write the keys as they are and drop the flag",
    "u": "the uppercase attribute (`-u`) rewrites the value; write the keys as they are and drop the flag",
    "c": "the capitalize attribute (`-c`) rewrites the value; drop the flag",
}


class Evaluator:
    """Decodes values of one script; caches what `$VAR` expands to."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.data = script.data
        self._cache: dict[tuple[str, int], list[Ch]] = {}
        self._resolving: set[str] = set()

    def list_value(self, name: str, definition: Event, events: list[Event]) -> Value:
        attributes = set()
        for event in events:
            if event.kind == "decl" and event.context is None and event.start < definition.start:
                attributes |= set(event.flags)
        self._check_boundaries(name, definition)
        self._check_def_flags(name, definition)
        attributes |= set(definition.flags)
        value = self._definition_value(name, definition)
        if value.kind == "string" and "a" in attributes:
            raise Stop("DC102", f"{name} is declared an indexed array (-a) but assigned a string, which bash "
                        f"stores as one element; write {name}=(KEY1 KEY2 ...) or drop -a", self._value_start(definition))
        readonly = "r" in attributes or definition.builtin == "readonly"
        for event in events:
            if (event.kind == "decl" and event.context is None and event.start > definition.start
                    and ("r" in event.flags or event.builtin == "readonly")):
                readonly = True  # `readonly NAME` after the definition: later appends fail
            if event.kind != "append":
                continue
            if readonly:
                raise Stop("DC104", f"{name} is readonly, so this append fails at run time and changes nothing; put "
                            "every key in the definition", event.start)
            if event.builtin is not None:
                self._check_boundaries(name, event)
                self._check_def_flags(name, event)
            more = self._definition_value(name, event)
            if more.kind != value.kind:
                raise Stop("DC102", f"appending {'an array' if more.kind == 'array' else 'a string'} to the "
                            f"{value.kind} {name} mixes string and array values (bash keeps both under element 0); "
                            "put every key in the definition", self._value_start(event))
            value.chars += more.chars
            value.elements += more.elements
        return value

    def _check_def_flags(self, name: str, event: Event) -> None:
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
                raise Stop("DC102", f"{name}: {why}", event.start)
        if event.plus_flags:
            raise Stop("DC102", f"{name}: `{builtin} +{event.plus_flags}` is not supported for a list; drop the "
                        "flag", event.start)

    def _value_start(self, event: Event) -> int:
        return int(event.value.start_byte) if event.value is not None else event.op_end

    def value_span(self, event: Event) -> Span:
        if event.value is not None:
            return node_span(self.script.source, event.value)
        line, column = self.script.source.position(event.op_end)
        return Span(event.op_end, event.op_end, line, column, line, column)

    # ------------------------------------------------------------------ values

    def _definition_value(self, name: str, event: Event) -> Value:
        """Decode the value of one `NAME=`/`NAME+=` (string or array)."""
        value = event.value
        end = value.end_byte if value is not None else event.op_end
        self._check_boundaries(name, event)
        if value is None:
            return Value("string")
        lexer = Lexer(self, defining=name)
        if value.type == "array":
            return Value("array", elements=lexer.array(value.start_byte, end))
        return Value("string", chars=lexer.scalar(value.start_byte, end))

    def _check_boundaries(self, name: str, event: Event) -> None:
        """The value must start right after `=` and end where bash ends the word."""
        data = self.script.data
        value = event.value
        start = value.start_byte if value is not None else event.op_end
        gap = data[event.op_end:start]
        if gap and gap.replace(b"\\\n", b""):
            raise Stop("DC102", f"driftcheck cannot decode the value of {name} exactly (text between `=` and the "
                        "value); put the value directly after `=`", event.op_end)
        end = value.end_byte if value is not None else event.op_end
        if end < len(data) and data[end] not in _WORD_END:
            char = chr(data[end])
            if self.script.continues(end):
                raise Stop("DC102", continued_message(name), end)
            if char == "\r":
                why = "a carriage return follows the value (CRLF line endings?), which bash keeps in the value; " \
                      "save the file with LF line endings (`*.sh text eol=lf` in .gitattributes keeps them)"
            else:
                why = f"the value is followed by {char!r}, which bash would read as part of it; quote the whole value"
            raise Stop("DC102", f"{name}: {why}", end)

    def resolve(self, var: str, at: int, defining: str) -> list[Ch]:
        """The characters `$var` expands to at byte `at` (see the module docstring)."""
        if var == defining or var in self._resolving:
            raise Stop("DC102", f"${var} refers to itself here, so its value depends on the environment; write the "
                        "keys literally", at)
        events = self.script.events_of(var)  # collects var's statements, and with them any misparse that touches it
        for misparse in self.script.misparsed:
            if var in misparse.names and misparse.offset < at:
                raise Stop("DC102", f"${var} cannot be resolved statically: {misparse_why(var, misparse)}",
                           misparse.offset)
        definition: Event | None = None
        appends: list[Event] = []
        for event in events:
            if event.kind == "prefix" or event.local_scope or event.start >= at:
                continue  # scoped to one command or a function's local, or after the use
            if event.kind == "decl" and not (set(event.flags) - _HARMLESS_DECL_FLAGS) and not event.plus_flags:
                if definition is not None or not ("r" in event.flags or event.builtin == "readonly"):
                    continue  # `export VAR`, `readonly VAR` after its definition: value unchanged
            line = self.script.line(event.start)
            if event.in_function:
                raise Stop("DC102", f"${var} cannot be resolved statically: {var} is also assigned {event.context} "
                            f"(line {line}), so its value here depends on when that runs; use a literal or a "
                            "variable assigned only at the top level", at)
            if event.context is not None:
                raise Stop("DC102", f"${var} cannot be resolved statically: {var} is assigned {event.context} "
                            f"(line {line}) before this use; use a literal or an unconditional top-level "
                            "variable", at)
            if event.kind == "def" and definition is None and event.builtin != "local":
                definition = event
            elif event.kind == "append" and definition is not None:
                appends.append(event)
            else:
                raise Stop("DC102", f"${var} cannot be resolved statically: {var} is changed on line {line} "
                            f"({event.detail or event.kind}) before this use; use a literal or a variable with "
                            "exactly one top-level definition", at)
        if definition is None:
            later = [e for e in events if e.kind == "def" and e.start >= at]
            why = (f"{var} is only defined later (line {self.script.line(later[0].start)})" if later
                   else f"{var} is not defined in this file (an environment variable?)")
            raise Stop("DC102", f"${var} cannot be resolved statically: {why}; write the keys literally or define "
                        f"{var} at the top level above this line", at)
        cache_key = (var, len(appends))
        if cache_key in self._cache:
            return self._cache[cache_key]
        if len(self._resolving) >= _MAX_EXPANSION_DEPTH:
            raise Stop("DC102", f"${var} is the end of a chain of more than {_MAX_EXPANSION_DEPTH} variables "
                        "expanding each other; write the keys literally", at)
        self._resolving.add(var)
        try:
            for event in [definition] + appends:
                if event.builtin is not None:
                    bad = (set(event.flags) - {"r", "x", "g", "t"}) or set(event.plus_flags)
                    if bad:
                        raise Stop("DC102", f"${var} cannot be resolved statically: {var} is declared with "
                                    f"-{''.join(sorted(bad))}; use a plain string variable", at)
                if event.value is not None and event.value.type == "array":
                    raise Stop("DC102", f"${var} is an array; `$NAME` would give only its first element — expand "
                                "a string variable or write the keys literally", at)
            chars: list[Ch] = []
            for event in [definition] + appends:
                chars += self._definition_value(var, event).chars
        finally:
            self._resolving.discard(var)
        self._cache[cache_key] = chars
        return chars

    # ------------------------------------------------------------------ keys

    def keys(self, name: str, value: Value) -> list[Key]:
        if value.kind == "array":
            words = value.elements
            for word in words:
                text = "".join(c.text for c in word)
                if not text:
                    raise Stop("DC102", f"{name} has an empty element; remove it", word[0].origin if word else 0)
        else:
            words = split_ifs(value.chars)
        keys: list[Key] = []
        for word in words:
            text = "".join(c.text for c in word)
            # An element starts where its word does (an opening quote included); a key of a string
            # starts at its first character inside the string.
            origin = word[0].origin if value.kind == "array" else next(c.origin for c in word if c.text)
            self._check_key(name, text, origin, value.kind)
            line, column = self.script.source.position(origin)
            keys.append(Key(text, line, column))
        return keys

    def _check_key(self, name: str, text: str, origin: int, kind: str) -> None:
        if kind == "string" and any(c in text for c in "*?["):
            raise Stop("DC102", f"key {text!r} of {name} contains a glob character; the harness's unquoted "
                        f"${name} would expand it as a file pattern — remove it", origin, text)
        if "\\" in text:
            raise Stop("DC102", f"key {text!r} of {name} contains a backslash (inside single quotes a backslash "
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
                raise Stop("DC102", f"key {text!r} of {name} contains {why}", origin, text)
