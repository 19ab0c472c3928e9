"""Regular expressions compiled on first use.

Python compiles a pattern with code written in Python (0.05-0.2 ms each), at every start of the
process; most of the patterns a check imports serve rare paths (a misparse, an unparsed region, a
build constraint, a configured key), so they are compiled only when one is used.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")


class _LazyPattern:
    __slots__ = ("_source", "_flags", *_METHODS)

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source, self._flags = source, flags

    def __getattr__(self, name: str) -> Any:
        # Only reached while a method slot is still empty (or for a name it has not copied).
        if name in ("_source", "_flags"):
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def lazy(source: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """`re.compile(source, flags)`, compiled when first used."""
    return cast("re.Pattern[AnyStr]", _LazyPattern(source, flags))
