"""Lists `discover` may propose in a Python module: module-level names bound to string collections.

Read with CPython's `ast` (cheap, exact for literals): list/tuple/set displays of
strings, dict displays (their string keys), and `frozenset(...)`/`set(...)`/
`tuple(...)`/`list(...)` of those. Only proposes: every proposal is then read by the
real extractor before it is printed.
"""

from __future__ import annotations

import ast

from driftcheck.languages.base import Candidate
from driftcheck.model import Key
from driftcheck.sources import SourceFile

_WRAPPERS = frozenset({"frozenset", "set", "tuple", "list"})


def candidates(source: SourceFile) -> list[Candidate]:
    try:
        module = ast.parse(source.data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = source.data.split(b"\n")
    out: list[Candidate] = []
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        keys = _keys(value, lines)
        if keys:
            out.append(Candidate(target.id, tuple(keys)))
    return out


def _keys(value: ast.expr, lines: list[bytes]) -> list[Key]:
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _WRAPPERS \
            and len(value.args) == 1 and not value.keywords:
        value = value.args[0]
    if isinstance(value, ast.Dict):
        elements = [k for k in value.keys if k is not None]
        if len(elements) != len(value.keys):
            return []
    elif isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        elements = list(value.elts)
    else:
        return []
    keys = []
    for element in elements:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return []
        # ast columns are UTF-8 byte offsets; findings count characters
        column = len(lines[element.lineno - 1][:element.col_offset].decode("utf-8", "replace")) + 1
        keys.append(Key(element.value, element.lineno, column))
    return keys
