"""Go build constraints: which files of a directory `go build` compiles, as go/build decides it.

A file is built when its name's GOOS/GOARCH suffixes and its `//go:build` line (else its
`// +build` lines) hold. Without a target, GOOS and GOARCH range over every port the Go
toolchain knows, build tags set with `-tags` may be on or off (except `ignore`, which by
convention nobody sets), and `cgo`, `go1.N` and `goexperiment.*` depend on the toolchain:
a file whose answer varies over those is "depends". With a target (`go_target =
"linux/amd64"`), GOOS/GOARCH are fixed and unknown tags are false, as in `go build` with no
`-tags`; `cgo`, `go1.N` and `goexperiment.*` still depend on the toolchain.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product
from typing import Union

from driftcheck.patterns import lazy

# go/build/syslist.go (Go 1.21).
KNOWN_OS = frozenset(
    "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 "
    "windows zos".split())
KNOWN_ARCH = frozenset(
    "386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc "
    "ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm".split())
UNIX_OS = frozenset("aix android darwin dragonfly freebsd hurd illumos ios linux netbsd openbsd solaris".split())
# `go tool dist list` (Go 1.21): the ports a file may be built for when no target is given.
PORTS = tuple(tuple(p.split("/")) for p in (
    "aix/ppc64 android/386 android/amd64 android/arm android/arm64 darwin/amd64 darwin/arm64 dragonfly/amd64 "
    "freebsd/386 freebsd/amd64 freebsd/arm freebsd/arm64 freebsd/riscv64 illumos/amd64 ios/amd64 ios/arm64 "
    "js/wasm linux/386 linux/amd64 linux/arm linux/arm64 linux/loong64 linux/mips linux/mips64 linux/mips64le "
    "linux/mipsle linux/ppc64 linux/ppc64le linux/riscv64 linux/s390x netbsd/386 netbsd/amd64 netbsd/arm "
    "netbsd/arm64 openbsd/386 openbsd/amd64 openbsd/arm openbsd/arm64 openbsd/ppc64 plan9/386 plan9/amd64 "
    "plan9/arm solaris/amd64 wasip1/wasm windows/386 windows/amd64 windows/arm windows/arm64").split())
_MAX_FREE_TAGS = 8  # 2**8 assignments x 49 ports: beyond that, say "depends" rather than enumerate

# An expression: a tag name, ("!", x), ("&&", a, b) or ("||", a, b).
Expr = Union[str, tuple]


class Constraint:
    """A file's build condition: the name suffixes plus the comment lines, as written."""

    __slots__ = ("expr", "text")

    def __init__(self, expr: Expr | None, text: str) -> None:
        self.expr = expr  # None: always built
        self.text = text  # for messages, e.g. "//go:build linux && !cgo" or "file name suffix _windows"

    def status(self, target: tuple[str, str] | None) -> bool | None:
        """True: built; False: never built; None: depends on the target, tags or toolchain."""
        return _status(self.expr, target) if self.expr is not None else True


def parse_target(text: str) -> tuple[str, str] | None:
    """("linux", "amd64") for "linux/amd64", or None when it is not a known GOOS/GOARCH pair."""
    goos, sep, goarch = text.partition("/")
    return (goos, goarch) if sep and goos in KNOWN_OS and goarch in KNOWN_ARCH else None


def file_constraint(name: str, data: bytes) -> Constraint:
    """The build condition of a .go file named `name` with contents `data`."""
    parts: list[Expr] = []
    texts: list[str] = []
    suffix = _name_condition(name)
    if suffix is not None:
        parts.append(suffix[0])
        texts.append(f"file name suffix {suffix[1]}")
    header = _header(data)
    if header is not None:
        parts.append(header[0])
        texts.append(header[1])
    if not parts:
        return Constraint(None, "")
    expr = parts[0] if len(parts) == 1 else ("&&", parts[0], parts[1])
    return Constraint(expr, " and ".join(texts))


def _name_condition(name: str) -> tuple[Expr, str] | None:
    # go/build goodOSArchFile: everything before the first "_" is ignored; a trailing _test is dropped.
    stem = name.split(".", 1)[0]
    cut = stem.find("_")
    if cut < 0:
        return None
    words = stem[cut:].split("_")
    if words and words[-1] == "test":
        words = words[:-1]
    n = len(words)
    if n >= 2 and words[n - 2] in KNOWN_OS and words[n - 1] in KNOWN_ARCH:
        return ("&&", words[n - 2], words[n - 1]), f"_{words[n - 2]}_{words[n - 1]}"
    if n >= 1 and (words[n - 1] in KNOWN_OS or words[n - 1] in KNOWN_ARCH):
        return words[n - 1], f"_{words[n - 1]}"
    return None


_GO_BUILD = lazy(rb"//go:build(?:[ \t]|$)")


def _header(data: bytes) -> tuple[Expr, str] | None:
    """The //go:build expression, else the AND of the // +build lines, of the file's leading comments.

    go/build parseFileHeader: the header is the run of blank lines and comments before the first
    other text; `//go:build` counts anywhere in it (outside /* */), `// +build` only up to the last
    blank line before the package clause.
    """
    if b"build" not in data[:65536]:
        return None
    go_build: bytes | None = None
    plus: list[bytes] = []
    pending: list[bytes] = []  # +build lines not yet followed by a blank line
    in_block = False
    for raw in data.split(b"\n"):
        line = raw.strip()
        if in_block:
            end = line.find(b"*/")
            if end < 0:
                continue
            in_block = False
            line = line[end + 2:].strip()
            if not line:
                continue
            if not line.startswith(b"//") and not line.startswith(b"/*"):
                break
        if not line:
            plus += pending
            pending = []
            continue
        if line.startswith(b"//"):
            if _GO_BUILD.match(line):
                if go_build is not None:
                    return "\x00multiple", "two //go:build lines (go build rejects the file)"
                go_build = line
            elif line[2:].strip().startswith(b"+build"):
                pending.append(line)
            continue
        if line.startswith(b"/*"):
            rest = line[2:]
            end = rest.find(b"*/")
            if end < 0:
                in_block = True
                continue
            if rest[end + 2:].strip():
                break
            continue
        break
    if go_build is not None:
        text = go_build.decode("utf-8", "replace")
        expr = _parse_go_build(text[len("//go:build"):])
        return (expr if expr is not None else "\x00invalid"), text
    if not plus:
        return None
    exprs: list[Expr] = []
    for line in plus:
        fields = line[2:].decode("utf-8", "replace").split()[1:]
        if fields:
            exprs.append(_parse_plus_build(fields))
    if not exprs:
        return None
    expr = exprs[0]
    for more in exprs[1:]:
        expr = ("&&", expr, more)
    return expr, " and ".join(b.decode("utf-8", "replace") for b in plus)


def _parse_plus_build(fields: list[str]) -> Expr:
    # One line: OR of space-separated options; an option is an AND of comma-separated terms, each
    # `tag` or `!tag` (a malformed term is false, as go/build's matchTag says).
    options: list[Expr] = []
    for option in fields:
        terms: list[Expr] = []
        for term in option.split(","):
            negated = term.startswith("!")
            tag = term[1:] if negated else term
            if not tag or not _TAG.fullmatch(tag):
                terms.append("\x00false")
            else:
                terms.append(("!", tag) if negated else tag)
        expr = terms[0]
        for more in terms[1:]:
            expr = ("&&", expr, more)
        options.append(expr)
    out = options[0]
    for more in options[1:]:
        out = ("||", out, more)
    return out


_TAG = lazy(r"[A-Za-z0-9_.]+")
_TOKEN = lazy(r"\s*(\|\||&&|!|\(|\)|[A-Za-z0-9_.]+)")


def _parse_go_build(text: str) -> Expr | None:
    """Parse a //go:build expression (go/build/constraint); None when malformed."""
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip() == "":
                break
            return None
        tokens.append(match.group(1))
        pos = match.end()
    at = 0

    def peek() -> str | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> str:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def or_expr() -> Expr:
        left = and_expr()
        while peek() == "||":
            take()
            left = ("||", left, and_expr())
        return left

    def and_expr() -> Expr:
        left = not_expr()
        while peek() == "&&":
            take()
            left = ("&&", left, not_expr())
        return left

    def not_expr() -> Expr:
        token = peek()
        if token == "!":
            take()
            return ("!", not_expr())
        if token == "(":
            take()
            inner = or_expr()
            if peek() != ")":
                raise ValueError
            take()
            return inner
        if token is None or not _TAG.fullmatch(token):
            raise ValueError
        return take()

    try:
        expr = or_expr()
    except ValueError:
        return None
    return expr if at == len(tokens) and tokens else None


def _atoms(expr: Expr, out: set[str]) -> set[str]:
    if isinstance(expr, str):
        out.add(expr)
    else:
        for part in expr[1:]:
            _atoms(part, out)
    return out


def _toolchain_tag(tag: str) -> bool:
    """Tags whose value depends on the toolchain and environment, not on GOOS/GOARCH or -tags."""
    return tag == "cgo" or tag.startswith("goexperiment.") or (
        tag.startswith("go1.") and tag[4:].isdigit())


def _port_tag(tag: str, goos: str, goarch: str) -> bool | None:
    """The value go/build's matchTag gives `tag` for a port, or None when it is not a port tag."""
    if tag in KNOWN_OS or tag in KNOWN_ARCH or tag == "unix":
        return (tag == goos or tag == goarch or (tag == "unix" and goos in UNIX_OS)
                or (tag == "linux" and goos == "android") or (tag == "solaris" and goos == "illumos")
                or (tag == "darwin" and goos == "ios"))
    return None


def _eval(expr: Expr, values: dict[str, bool]) -> bool:
    if isinstance(expr, str):
        return values[expr]
    if expr[0] == "!":
        return not _eval(expr[1], values)
    if expr[0] == "&&":
        return _eval(expr[1], values) and _eval(expr[2], values)
    return _eval(expr[1], values) or _eval(expr[2], values)


@lru_cache(maxsize=1024)
def _status(expr: Expr, target: tuple[str, str] | None) -> bool | None:
    if expr in ("\x00multiple", "\x00invalid"):
        return None  # go build reports an error for such a file: the package's meaning is unclear
    atoms = _atoms(expr, set())
    fixed = {"\x00false": False, "ignore": False, "gc": True, "gccgo": False}
    free = sorted(a for a in atoms if a not in fixed and _port_tag(a, "linux", "amd64") is None
                  and (target is None or _toolchain_tag(a)))
    if len(free) > _MAX_FREE_TAGS:
        return None
    seen: set[bool] = set()
    for goos, goarch in (target,) if target is not None else PORTS:
        values = dict(fixed)
        for atom in atoms:
            port = _port_tag(atom, goos, goarch)
            if port is not None:
                values[atom] = port
            elif atom not in fixed:
                values[atom] = False  # an unknown tag with a target: off, as `go build` without -tags
        for bits in product((False, True), repeat=len(free)):
            values.update(zip(free, bits))
            seen.add(_eval(expr, values))
            if len(seen) == 2:
                return None
    return seen.pop()
