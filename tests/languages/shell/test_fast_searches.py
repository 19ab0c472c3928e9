"""`spelled_spans` and `unsafe_for_parser`: fast searches held to the regular expressions they replace.

For `spelled_spans` the reference is `spelled(name)` searched from one byte after each match start
(overlapping matches, as the occurrence scan needs them); for `unsafe_for_parser`, the character class
it replaced.
"""

from __future__ import annotations

import re

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


_BYTES = st.binary(max_size=40) | st.lists(st.sampled_from([b"a", b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4",
                                                           b"\xf5", b"\x80"]), max_size=12).map(b"".join)


@settings(max_examples=2000, deadline=None)
@given(_BYTES)
def test_unsafe_for_parser_finds_the_first_lead_byte_of_a_code_point_above_u3ffff(data: bytes) -> None:
    from driftcheck.languages.shell.syntax import unsafe_for_parser

    match = re.search(rb"[\xf1-\xf4]", data)
    assert unsafe_for_parser(data) == (match.start() if match else None)
