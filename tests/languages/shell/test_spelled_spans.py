"""`spelled_spans`: every match of `spelled(name)`, found without the pattern when no match has noise inside.

The reference is the pattern itself, searched from one byte after each match start (overlapping
matches, as the occurrence scan needs them).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from driftcheck.languages.shell.script import SPELLING_NOISE, spelled, spelled_spans


def reference(data: bytes, name: str) -> list[tuple[int, int]]:
    pattern, spans = spelled(name), []
    match = pattern.search(data)
    while match is not None:
        spans.append(match.span())
        match = pattern.search(data, match.start() + 1)
    return spans


_NOISE = [bytes([b]) for b in SPELLING_NOISE]
_PIECES = [b"A", b"B", b"AB", b"ABA", b"BA", b"_", b"x", b" ", b"=", b"(", b")", *_NOISE, b"\\\n", b"$'", b'""']


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20).map(b"".join), st.sampled_from(["AB", "ABA", "A", "B_A"]))
def test_the_same_spans_as_the_pattern(data: bytes, name: str) -> None:
    assert spelled_spans(data, name) == reference(data, name)


def test_plain_and_split_occurrences() -> None:
    assert spelled_spans(b"ABABA", "ABA") == [(0, 3), (2, 5)]
    assert spelled_spans(b'x=AB; A"B"; A\\\nB', "AB") == [(2, 4), (6, 9), (12, 16)]
    assert spelled_spans(b"A$'B'", "AB") == [(0, 4)]
    assert spelled_spans(b"nothing here", "AB") == []
