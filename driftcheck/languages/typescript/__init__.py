"""The TypeScript/JavaScript backend: one backend for the registry's `typescript` and `javascript`.

tree-sitter-typescript (TypeScript and TSX) and tree-sitter-javascript are imported only when a list in
such a file is read (`reader`), so a Go/bash check never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftcheck.languages.base import Candidate, Reading
    from driftcheck.model import ListRef
    from driftcheck.sources import SourceFile, SourceFiles


class TypeScriptBackend:
    name = "typescript"

    def read(self, ref: ListRef, source: SourceFile, files: SourceFiles) -> Reading:
        from driftcheck.languages.typescript.reader import read

        return read(ref, source, files)

    def candidates(self, source: SourceFile, language: str = "typescript") -> list[Candidate]:
        from driftcheck.languages.typescript.reader import candidates

        return candidates(source, language)


BACKEND = TypeScriptBackend()
