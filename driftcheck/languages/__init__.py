"""The language registry: which backend reads which file.

Adding a language is one folder under `driftcheck/languages/` exposing `BACKEND`,
and one line here. Backends are imported on first use, so a Go/bash check never
imports a grammar or library it does not need.
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

import importlib
import stat
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from driftcheck.languages.base import Backend


class LanguageSpec(NamedTuple):
    """How to recognise a language's files and where its backend lives."""

    name: str
    module: str  # exposes BACKEND
    extensions: tuple[str, ...] = ()  # lower-case, with the dot
    filenames: tuple[str, ...] = ()  # fnmatch patterns on the file name
    interpreters: tuple[str, ...] = ()  # shebang interpreters (prefix match)
    aliases: tuple[str, ...] = ()  # other names accepted for `language = ...`


REGISTRY: dict[str, LanguageSpec] = {spec.name: spec for spec in (
    LanguageSpec("go", "driftcheck.languages.go", (".go",)),
    LanguageSpec("shell", "driftcheck.languages.shell", (".sh", ".bash"),
                 interpreters=("bash", "sh", "dash", "ksh", "zsh"), aliases=("bash", "sh")),
    LanguageSpec("python", "driftcheck.languages.python", (".py", ".pyi"), interpreters=("python",)),
    LanguageSpec("typescript", "driftcheck.languages.typescript", (".ts", ".tsx", ".mts", ".cts"), aliases=("ts", "tsx")),
    LanguageSpec("javascript", "driftcheck.languages.typescript", (".js", ".jsx", ".mjs", ".cjs"),
                 interpreters=("node",), aliases=("js", "jsx")),
    LanguageSpec("yaml", "driftcheck.languages.yaml", (".yml", ".yaml")),
    LanguageSpec("json", "driftcheck.languages.json", (".json",)),
    LanguageSpec("dotenv", "driftcheck.languages.dotenv", filenames=(".env", ".env.*", "*.env")),
)}


def names() -> tuple[str, ...]:
    """The language names, as `language = ...` accepts them."""
    return tuple(REGISTRY)


def canonical(name: str) -> str | None:
    """The registry name for a name or alias a user wrote (case-insensitive), or None."""
    lowered = name.lower()
    for spec in REGISTRY.values():
        if lowered == spec.name or lowered in spec.aliases:
            return spec.name
    return None


def backend(name: str) -> "Backend":
    """The backend for a registry name, imported on first use."""
    return importlib.import_module(REGISTRY[name].module).BACKEND  # type: ignore[no-any-return]


def detect_language(path: Path) -> str | None:
    """Language from the extension or file name, else from a shebang."""
    suffix = path.suffix.lower()
    for spec in REGISTRY.values():
        if suffix in spec.extensions or any(fnmatch(path.name, pattern) for pattern in spec.filenames):
            return spec.name
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None  # never open a FIFO or device just to sniff a shebang: it could block forever
        with open(path, "rb") as handle:
            first = handle.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    interpreter = Path(words[0]).name if words else ""
    if interpreter == "env" and len(words) > 1:
        interpreter = words[1]
    for spec in REGISTRY.values():
        if any(interpreter == i or (i == "python" and interpreter.startswith(i)) for i in spec.interpreters):
            return spec.name
    return None
