"""Where tree-sitter-bash and bash read the same bytes differently, and bash's own verdict.

DC101 is reserved for files bash itself rejects: `bash -n` (parse only, never runs) reads
every file, in a process that runs while driftcheck parses the file with tree-sitter-bash. Other differences are recorded as
`Misparse`s: places tree-sitter-bash splits words or commands unlike bash (a stray
carriage return, a name split by a backslash-newline, a command run on past an
unescaped newline, `declare$x` read as the builtin). They are not syntax errors, so they
refuse only the names they could touch, with a message that says bash accepts the text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from driftcheck.languages.shell.lexer import IDENT, IDENT_TEXT
from driftcheck.patterns import lazy

if TYPE_CHECKING:
    from driftcheck.languages.shell.script import Script

_NAME_OR_PLUS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+")
_WORD_BEFORE = lazy(rb"\+?[A-Za-z0-9_]+")  # `[A-Za-z0-9_]+\+?` at the end, reversed
# A reserved word after a blank or an operator: where a command can start. The tree says which of
# these tree-sitter-bash took for a command name (`X=1 fi` too, which bash would run as a command).
_RESERVED_WORD = rb"(then|fi|do|done|else|elif|esac|\})(?=[ \t\r\n;&|)<>]|\Z)"
_RESERVED_AFTER_BREAK = lazy(rb"[\s;&|(!{`]" + _RESERVED_WORD)
_RESERVED_AT_START = lazy(_RESERVED_WORD)
# Text bash does not split into words here (the value lexer or nobody reads it).
_OPAQUE_TEXT = frozenset({"string", "raw_string", "ansi_c_string", "translated_string", "comment", "heredoc_body",
                          "heredoc_content", "heredoc_redirect"})


class _Word:
    """Stands in for the match object of the word before a continuation (`group(0)` only)."""

    def __init__(self, text: bytes) -> None:
        self.text = text

    def group(self, index: int) -> bytes:
        return self.text


class Misparse:
    """A place where tree-sitter-bash's reading differs from bash's; fatal for the names it touches."""

    __slots__ = ("offset", "names", "why", "fix")

    def __init__(self, offset: int, names: set[str], why: str, fix: str) -> None:
        self.offset, self.names, self.why, self.fix = offset, names, why, fix


# UTF-8 lead bytes of code points U+40000 and above (unassigned planes, tags, private use). tree-sitter-bash's
# scanner reads out of bounds on some of them and can crash the process, so such files are never parsed.
_UNSAFE_LEADS = (b"\xf1", b"\xf2", b"\xf3", b"\xf4")


def unsafe_for_parser(data: bytes) -> int | None:
    """Where the first such code point starts, or None (four byte searches: 30x faster than a regex class)."""
    found = [at for lead in _UNSAFE_LEADS if (at := data.find(lead)) != -1]
    return min(found) if found else None


class BashVerdict:
    """`bash -n` on the file (parse only, never runs), started before driftcheck parses the file
    itself so the two run side by side; `result()` is the first error bash reports, or None.

    os.posix_spawn, not subprocess: importing subprocess costs more than the whole bash run. bash
    reads the file itself when its bytes on disk are the ones being checked, else a pipe.
    """

    def __init__(self, path: Any, data: bytes, bom: bool) -> None:
        import os

        self._pid = 0
        self._stderr = -1
        bash = _which("bash")
        self.available = bash is not None and hasattr(os, "posix_spawn")
        if not self.available:
            return
        target = str(path)
        try:  # bytes not read from this path (a rewrite being checked, --base) go through the pipe
            with open(target, "rb") as handle:
                same = not bom and handle.read(len(data) + 1) == data
        except OSError:
            same = False
        read_end, write_end = os.pipe()
        source_end = feed_end = -1
        if not same:  # rare: a file with a BOM, or bytes not read from disk: bash reads them from a pipe
            source_end, feed_end = os.pipe()
        try:
            stdin = (os.POSIX_SPAWN_DUP2, source_end, 0) if not same else (
                os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)
            argv = [bash, "-n"] + ([target] if same else [])
            actions = [stdin, (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                       (os.POSIX_SPAWN_DUP2, write_end, 2), (os.POSIX_SPAWN_CLOSE, read_end)]
            if not same:
                actions.append((os.POSIX_SPAWN_CLOSE, feed_end))
            self._pid = os.posix_spawn(bash, argv, {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, file_actions=actions)
            self._stderr = read_end
        except OSError:
            self.available = False
            os.close(read_end)
        finally:
            os.close(write_end)
            if not same:
                os.close(source_end)
        if not same:
            try:
                if self._pid:
                    _write_all(feed_end, data)
            except OSError:  # bash stopped reading (a syntax error): its verdict is on stderr
                pass
            finally:
                os.close(feed_end)

    def result(self) -> tuple[int, str] | None:
        import os

        if not self._pid:
            return None
        chunks = []
        while True:
            chunk = os.read(self._stderr, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self._stderr)
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return None
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 2:
            self.available = False  # killed, or a bash that cannot run: no verdict
            return None
        return _first_error(b"".join(chunks))


def _write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _which(program: str) -> str | None:
    """shutil.which without importing shutil."""
    import os

    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _first_error(stderr: bytes) -> tuple[int, str] | None:
    match = re.search(rb"line (\d+): (.+)", stderr)
    if match is None:
        return None
    message = match.group(2).decode("utf-8", "replace").strip()
    return int(match.group(1)), message.removeprefix("syntax error: ")


def reserved_word_command(script: Script, root: Any) -> Any | None:
    """The first reserved word (`fi`, `done`, `}` ...) tree-sitter-bash took for a command name.

    bash rejects the file there; tree-sitter-bash accepts it as a command. A regex finds the
    reserved words where a command can start; the tree says which are command names.
    """
    data = script.data
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


def check_gaps(script: Script, node: Any) -> None:
    """Record commands tree-sitter-bash ran on past an unescaped newline (a known misparse)."""
    children = node.children
    if node.type in ("declaration_command", "unset_command") and children:
        after = script.data[children[0].end_byte:children[0].end_byte + 1]
        if after and after not in (b" ", b"\t", b"\n", b";", b"&", b"|", b"\\"):
            keyword = script.text(children[0])
            script.misparsed.append(Misparse(
                node.start_byte, {m.group(0).decode() for m in IDENT.finditer(script.text(node).encode())},
                f"tree-sitter-bash reads `{keyword}` here as the builtin, but bash reads "
                f"`{keyword}{after.decode('utf-8', 'replace')}...` as one word (a command name)",
                f"put a blank after {keyword}"))
            return
    if node.start_point[0] == node.end_point[0]:
        return  # on one line: no newline (nor a comment followed by more) between its children
    for left, right in zip(children, children[1:]):
        if left.type == "comment":  # a comment ends the command in bash; nothing can follow it
            run_on(script, node, left.end_byte)
            return
        # The gap runs into the next child while that child starts with blanks
        # (tree-sitter-bash sometimes starts a word with the newline it swallowed).
        end = right.start_byte
        while end < right.end_byte and script.data[end:end + 1] in (b" ", b"\t", b"\n", b"\r"):
            end += 1
        gap = script.data[left.end_byte:end]
        at = gap.find(b"\n")
        while at != -1:
            if gap[at - 1:at] != b"\\":
                run_on(script, node, left.end_byte + at)
                return
            at = gap.find(b"\n", at + 1)

def run_on(script: Script, node: Any, newline: int) -> None:
    text = script.data[node.start_byte:node.end_byte]
    first, last, at = script.line(node.start_byte), script.line(node.end_byte), script.line(newline)
    script.misparsed.append(Misparse(
        node.start_byte, {m.group(0).decode() for m in IDENT.finditer(text)},
        f"tree-sitter-bash reads lines {first}-{last} as one command (it continues past the end of line {at})",
        f"end line {at} differently (write VAR='' instead of a trailing VAR=, and do not follow an assignment by "
        "a comment or redirection on the same line)"))

def continuations(script: Script) -> Iterator[int]:
    """Offsets of the backslashes that continue a line right after a name character (or `+`).

    bytes.find, not a regex: a regex scan of a 110 KB harness costs ~1 ms, the finds ~0.1 ms.
    """
    data = script.data
    at = data.find(b"\\\n")
    while at != -1:
        # A name character right before: one backslash, which continues the line (`\\\\` would not).
        if at > 0 and data[at - 1] in _NAME_OR_PLUS:
            yield at
        at = data.find(b"\\\n", at + 2)

def check_tokens(script: Script, root: Any) -> None:
    """Where bash and tree-sitter-bash split words differently: a stray CR, a name split by `\\<newline>`."""
    data = script.data
    at = data.find(b"\r")
    while at != -1:
        if quoted_or_comment(script, root, at):
            at = data.find(b"\r", at + 1)
            continue
        line_start = data.rfind(b"\n", 0, at) + 1
        line_end = data.find(b"\n", at)
        text = data[line_start:len(data) if line_end == -1 else line_end]
        line = script.line(at)
        if data[at + 1:at + 2] == b"\n":
            why = (f"line {line} ends with CRLF; bash keeps the carriage return as part of the last word (and "
                   "tree-sitter-bash, driftcheck's parser, reads it as a blank)")
            fix = "save the file with LF line endings (`*.sh text eol=lf` in .gitattributes keeps them)"
        else:
            why = (f"line {line} has a carriage return outside quotes, which bash keeps as part of a word but "
                   "tree-sitter-bash (driftcheck's parser) reads as a blank")
            fix = "remove it"
        script.misparsed.append(Misparse(at, {m.group(0).decode() for m in IDENT.finditer(text)}, why, fix))
        at = data.find(b"\r", at + 1)
    for at in continuations(script):
        after = at + 2
        # The word ending at the backslash, matched on the reversed bytes: searching for
        # `[A-Za-z0-9_]+\+?\Z` backtracks from every start (~15 us per continuation line).
        before = _WORD_BEFORE.match(data[max(0, at - 200):at][::-1])
        left = None if before is None else _Word(before.group(0)[::-1])
        right = re.match(rb"[A-Za-z0-9_]+|\+?=|\[", data[after:after + 200])
        if left is None or right is None or quoted_or_comment(script, root, at):
            continue
        if left.group(0).endswith(b"+") and right.group(0) != b"=":
            continue
        joined = left.group(0).rstrip(b"+")
        if not left.group(0).endswith(b"+") and (right.group(0)[:1].isalnum() or right.group(0)[:1] == b"_"):
            joined += right.group(0)
        parts = {left.group(0).rstrip(b"+").decode(), right.group(0).decode()}  # what tree-sitter sees
        script.misparsed.append(Misparse(
            at, {joined.decode(), *(p for p in parts if IDENT_TEXT.match(p))},
            f"the backslash-newline on line {script.line(at)} splits the word {joined.decode()!r}, which bash "
            "joins but tree-sitter-bash (driftcheck's parser) does not",
            "join the two lines"))

def quoted_or_comment(script: Script, root: Any, at: int) -> bool:
    node = root.descendant_for_byte_range(at, at + 1)
    while node is not None:
        if node.type in _OPAQUE_TEXT:
            return True
        node = node.parent
    return False


def misparse_why(name: str, misparse: Misparse) -> str:
    """Why a misparse keeps driftcheck from proving anything about `name` (bash itself accepts the text)."""
    return f"{misparse.why}, so driftcheck cannot tell how {name} is set there; {misparse.fix}"


def error_regions(root: Any) -> list[tuple[int, int]]:
    """The spans tree-sitter-bash may have misread around each ERROR/MISSING node.

    Its error recovery can also change how the statement just before an error is read (an
    unclosed quote it saw there), so a region runs from the start of the top-level statement
    before the error's statement to the end of the error's statement.
    """
    regions: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            top = node
            while top.parent is not None and top.parent.type != "program":
                top = top.parent
            before = top.prev_sibling
            while before is not None and before.type in (";", "&", "\n", "comment"):
                before = before.prev_sibling
            start = before.start_byte if before is not None else top.start_byte
            regions.append((min(start, node.start_byte), max(top.end_byte, node.end_byte)))
        elif node.has_error:
            stack.extend(node.children)
    return sorted(set(regions))
