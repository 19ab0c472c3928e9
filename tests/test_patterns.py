"""`patterns.lazy`: a pattern that compiles on first use and then answers exactly as `re.compile`'s."""

from __future__ import annotations

import re

from driftcheck.patterns import lazy


def test_nothing_is_compiled_until_the_pattern_is_used(monkeypatch) -> None:
    compiled = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *args: compiled.append(args) or real(*args))
    pattern = lazy(rb"[a-z]+(\d)", re.I)
    assert compiled == []
    assert pattern.search(b"-- Ab1 cd2").group(0) == b"Ab1"
    assert pattern.findall(b"x1 y2") == [b"1", b"2"]
    assert compiled == [(rb"[a-z]+(\d)", re.I)]  # once, however many uses


def test_every_method_answers_as_the_compiled_pattern() -> None:
    source, text = r"(?P<w>\w)(\w*)", "alpha beta, gamma"
    ours, theirs = lazy(source), re.compile(source)
    assert ours.match(text).span() == theirs.match(text).span()  # type: ignore[union-attr]
    assert ours.fullmatch("ab").groups() == theirs.fullmatch("ab").groups()  # type: ignore[union-attr]
    assert [m.span() for m in ours.finditer(text)] == [m.span() for m in theirs.finditer(text)]
    assert ours.sub("_", text) == theirs.sub("_", text)
    assert ours.split(text) == theirs.split(text)
    assert ours.search(text, 6).group("w") == theirs.search(text, 6).group("w")  # type: ignore[union-attr]
    assert (ours.pattern, ours.groups, ours.groupindex) == (theirs.pattern, theirs.groups, theirs.groupindex)
