"""Comments next to a definition (for pragmas), found with `tokenize` on a few lines only.

A top-level statement starts the tokenizer in a clean state, so tokenizing from the
first line after the previous statement finds exactly the comments Python sees, with
none of the `#` characters that sit inside strings.
"""

from __future__ import annotations

import tokenize
from typing import TYPE_CHECKING, Iterator

from driftcheck.languages.base import Comment

if TYPE_CHECKING:
    from driftcheck.languages.python.parse import Module


def _region_start(module: Module, line: int) -> int:
    """The first line after the last top-level statement that ends before `line`."""
    start = 1
    for first, last in zip(module.starts, module.ends):
        if last >= line or first > line:
            break
        start = last + 1
    return start


def _comments(module: Module, first: int, last: int) -> Iterator[tuple[str, int, int, bool]]:
    """(text after `#`, line, 1-based column of `#`, whole line?) for comments on lines first..last."""
    lines = module.lines[first - 1:]
    index = 0

    def readline() -> str:
        nonlocal index
        if index >= len(lines):
            return ""
        index += 1
        return lines[index - 1] + "\n"

    try:
        for tok in tokenize.generate_tokens(readline):
            line = first + tok.start[0] - 1
            if line > last:
                return
            if tok.type == tokenize.COMMENT:
                whole = not tok.line[:tok.start[1]].strip()
                yield tok.string[1:], line, tok.start[1] + 1, whole
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - ast accepted the same text
        return


def attached(module: Module, line: int) -> list[Comment]:
    """Whole-line comments directly above `line` (no blank line between) and the comments on `line`."""
    path = module.source.display
    found = list(_comments(module, _region_start(module, line), line))
    out: list[Comment] = []
    above = line - 1
    whole = {ln: (text, col) for text, ln, col, is_whole in found if is_whole and ln < line}
    while above in whole:
        text, col = whole[above]
        out.insert(0, Comment(text, path, above, col + 1))
        above -= 1
    out.extend(Comment(text, path, ln, col + 1) for text, ln, col, _ in found if ln == line)
    return out


def pragma_comments(module: Module) -> list[Comment]:
    """Every comment of the file holding `driftcheck:` (cached per module)."""
    cached = module._cache.get("pragma-comments")
    if cached is None:
        cached = []
        lines = sorted({i for i, text in enumerate(module.lines, 1) if "driftcheck:" in text}) \
            if "driftcheck:" in module.text else []
        done: set[int] = set()
        for line in lines:
            if line in done:
                continue
            index = module.statement_at(line)
            last = module.ends[index] if index is not None else line
            for text, ln, col, _ in _comments(module, _region_start(module, line), last):
                done.add(ln)
                if "driftcheck:" in text and all(c.line != ln for c in cached):
                    cached.append(Comment(text, module.source.display, ln, col + 1))
        module._cache["pragma-comments"] = cached
    return cached  # type: ignore[return-value]
