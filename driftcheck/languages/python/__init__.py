"""The python backend: CPython's `ast` for reading (libcst only in `driftcheck.fix.python`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftcheck.languages.base import Reading
    from driftcheck.model import ListRef
    from driftcheck.sources import SourceFile, SourceFiles


class PythonBackend:
    name = "python"

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
        from driftcheck.languages.python.reader import read

        return read(ref, source)


BACKEND = PythonBackend()
