"""Reading source files once, safely, and turning failures into DC105 findings.

Every extractor reads through `SourceFiles`, which caches both the text and the
parse tree per path, so a file named by several contracts is read and parsed once.
"""

from __future__ import annotations

import bisect
import errno
import os
import stat
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, TypeVar

from driftcheck.model import Finding

T = TypeVar("T")

# Real files are ~100 KB; anything past this is not a hand-kept list file.
MAX_FILE_BYTES = 8 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"


class SourceFile:
    """A readable, UTF-8 decodable file: its bytes, its text, and a lazily parsed tree."""

    __slots__ = ("path", "display", "data", "bom", "_trees", "_analyses", "_line_starts")

    def __init__(self, path: Path, display: str, data: bytes, bom: bool = False) -> None:
        self.path = path  # filesystem path
        self.display = display  # how findings name it (relative to the root when possible)
        self.data = data  # without a leading UTF-8 BOM
        self.bom = bom
        self._trees: dict[str, Any] = {}
        self._analyses: dict[str, Any] = {}
        self._line_starts: list[int] | None = None

    def __repr__(self) -> str:
        return f"SourceFile({self.display!r}, {len(self.data)} bytes)"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def tree(self, kind: str, parse: Callable[[bytes], Any]) -> Any:
        """Parse once per (file, parser kind); later callers share the tree."""
        if kind not in self._trees:
            self._trees[kind] = parse(self.data)
        return self._trees[kind]

    def analysis(self, kind: str, build: Callable[[], T]) -> T:
        """An extractor's per-file analysis, built once per run and shared by every list read from the file."""
        if kind not in self._analyses:
            self._analyses[kind] = build()
        return self._analyses[kind]  # type: ignore[no-any-return]

    def line_starts(self) -> list[int]:
        """Byte offset of the start of every line, computed on first use."""
        if self._line_starts is None:
            # Running sums of line lengths: one split in C instead of a find per line (~3x faster on 110 KB).
            self._line_starts = [0, *accumulate(len(line) + 1 for line in self.data.split(b"\n")[:-1])]
        return self._line_starts

    def position(self, byte_offset: int) -> tuple[int, int]:
        """1-based (line, character column) of a byte offset."""
        starts = self.line_starts()
        line_index = bisect.bisect_right(starts, byte_offset) - 1
        start = starts[line_index]
        column = len(self.data[start:byte_offset].decode("utf-8", errors="replace")) + 1
        return line_index + 1, column

    def point_column(self, row: int, byte_column: int) -> int:
        """Character column (1-based) of a tree-sitter (row, byte column) point."""
        starts = self.line_starts()
        start = starts[row] if row < len(starts) else len(self.data)
        return len(self.data[start:start + byte_column].decode("utf-8", errors="replace")) + 1


class SourceFiles:
    """A per-run cache of source files under one root."""

    def __init__(self, root: Path) -> None:
        # Absolute, so paths derived from a loaded file (Go package siblings) resolve the same way.
        self.root = root.absolute()
        self._cache: dict[Path, SourceFile | Finding] = {}

    def resolve(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def load(self, path: str | Path, display: str | None = None) -> SourceFile | Finding:
        """The file, or a DC105 finding saying why it cannot be used."""
        full = self.resolve(path)
        if full not in self._cache:
            self._cache[full] = read_source(full, display or self.display(full))
        return self._cache[full]


def read_source(path: Path, display: str) -> SourceFile | Finding:
    def unreadable(why: str) -> Finding:
        return Finding("DC105", f"cannot read {display}: {why}", display, 1, 1)

    try:
        info = path.stat()  # follows symlinks; a loop raises ELOOP
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return unreadable("symbolic link loop; point the reference at a real file")
        if exc.errno == errno.ENOENT:
            return unreadable("no such file; check the path in the list reference")
        if exc.errno == errno.ENAMETOOLONG:
            return unreadable("file name too long")
        return unreadable(f"{os.strerror(exc.errno or 0) or exc.__class__.__name__}")
    if stat.S_ISDIR(info.st_mode):
        return unreadable("is a directory; the reference must name a file")
    if not stat.S_ISREG(info.st_mode):
        return unreadable("not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        return unreadable(f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit for a list file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return unreadable(os.strerror(exc.errno or 0) or str(exc))
    if len(data) > MAX_FILE_BYTES:
        return unreadable(f"file is over the {MAX_FILE_BYTES}-byte limit for a list file")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return Finding("DC105", f"cannot read {display}: binary file (NUL byte on line {line})", display, line, 1)
    bom = data.startswith(UTF8_BOM)
    if bom:
        data = data[len(UTF8_BOM):]  # offsets are into the text after the BOM; `fix` puts it back
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Finding("DC105", f"cannot read {display}: not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
                       "save the file as UTF-8", display, line, 1)
    if not data.strip():
        return unreadable("file is empty")
    return SourceFile(path=path, display=display, data=data, bom=bom)
