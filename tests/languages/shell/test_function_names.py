"""`spelled_definitions`: every name the text writes like a function definition, found fast.

The reference is the plain pattern it replaced (tried at every identifier, ten times slower on a
large script): the fast search must find every name the pattern finds. It may find more where two
definitions overlap (`function x=f()`), which only refuses more.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from driftcheck.languages.shell.occurrences import spelled_definitions

_REFERENCE = re.compile(rb"\bfunction\s+([^\s(){};&|]+)|([A-Za-z_][\w:.@+-]*)\s*\(\s*\)")


def reference(data: bytes) -> set[str]:
    return {m.group(1 if m.group(1) else 2).decode("utf-8", "replace").strip("'\"")
            for m in _REFERENCE.finditer(data)}


_PIECES = [b"function", b"functionx", b"xfunction", b" ", b"\t", b"\n", b"(", b")", b"()", b"a", b"b", b"_", b"1",
           b".", b"-", b":", b"@", b"+", b"x=", b"'", b'"', b";", b"{", b"}", b"f", b"\xc3\xa9", b"|", b"&", b"\\"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map(b"".join))
def test_finds_every_name_the_reference_pattern_finds(data: bytes) -> None:
    assert reference(data) <= spelled_definitions(data)


def test_the_forms_bash_defines() -> None:
    script = (b"f1() { :; }\nfunction f2 { :; }\nfunction 'f3' () { :; }\nf4 ( ) { :; }\n"
              b"a.b:c@d+e-f() { :; }\n1g() { :; }\nx=h()\n# i() in a comment\neval 'j() { :; }'\n")
    assert spelled_definitions(script) == {"f1", "f2", "f3", "f4", "a.b:c@d+e-f", "g", "h", "i", "j"}


def test_words_that_only_contain_function_are_not_the_keyword() -> None:
    assert spelled_definitions(b"myfunction x\nfunctions y\nfunction\n") == set()
    assert spelled_definitions(b"xfunction function z\n") == {"z"}  # the keyword later in the same line


def test_overlapping_definitions_all_count() -> None:
    assert reference(b"function x=f()") == {"x=f"}
    assert spelled_definitions(b"function x=f()") == {"x=f", "f"}
