"""The Python backend (CPython's ast): every supported form, every trap, exact positions.

Modules are written into tmp_path and read through the public entry point
`driftcheck.languages.driver.extract_list`. Several cases are cross-checked against the
real interpreter (one subprocess imports them all) to prove the semantics agree.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles
from repogen import CANONICAL_KEYS

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "fixtures"
KEYS = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py


def extract(tmp_path: Path, code: str | bytes, symbol: str = "NAME", name: str = "m.py",
            files: SourceFiles | None = None) -> ExtractedList:
    path = tmp_path / name
    if isinstance(code, bytes):
        path.write_bytes(code)
    else:
        path.write_text(code, encoding="utf-8", newline="")
    return extract_list(ListRef(f"{name}:{symbol}", name, symbol, "python"), files or SourceFiles(tmp_path))


def keys(result: ExtractedList) -> list[tuple[str, int, int]]:
    assert result.keys is not None, [(f.code, f.message) for f in result.findings]
    return [(k.key, k.line, k.column) for k in result.keys]


def codes(result: ExtractedList) -> list[tuple[str, int, int]]:
    return [(f.code, f.line, f.column) for f in result.findings]


def fails(result: ExtractedList, *expected: tuple[str, int, int]) -> list[str]:
    """Assert keys=None and exactly these findings; return their messages."""
    assert result.keys is None
    assert codes(result) == list(expected), [(f.code, f.line, f.column, f.message) for f in result.findings]
    assert all(f.path == result.ref.path for f in result.findings)
    return [f.message for f in result.findings]


# --------------------------------------------------------------------------- supported forms


def test_list_display_keys_lines_columns_definition_and_span(tmp_path: Path) -> None:
    code = 'import os\n\nNAME = [\n    "A",\n    "B",  # trailing\n]\n'
    r = extract(tmp_path, code)
    assert keys(r) == [("A", 4, 5), ("B", 5, 5)]
    assert r.findings == ()
    assert (r.definition.key, r.definition.line, r.definition.column) == ("NAME", 3, 1)
    span = r.value_span
    assert (span.start_line, span.start_column, span.end_line, span.end_column) == (3, 8, 6, 2)
    assert code.encode()[span.start_byte:span.end_byte] == b'[\n    "A",\n    "B",  # trailing\n]'


def test_value_span_is_in_bytes_and_includes_parentheses(tmp_path: Path) -> None:
    code = 'X = "é"; NAME = ( ("ü", "B") )  # é\n'
    r = extract(tmp_path, code)
    assert keys(r) == [("ü", 1, 20), ("B", 1, 25)]
    span = r.value_span
    assert code.encode()[span.start_byte:span.end_byte] == '( ("ü", "B") )'.encode()
    assert (span.start_line, span.start_column, span.end_column) == (1, 17, 31)


def test_columns_count_characters_and_tabs_as_one(tmp_path: Path) -> None:
    r = extract(tmp_path, 'NAME = ["é€𝄞", "B",\t"C"]\n')
    assert keys(r) == [("é€𝄞", 1, 9), ("B", 1, 16), ("C", 1, 21)]


@pytest.mark.parametrize("code, expected", [
    ('NAME = ("A", "B")\n', [("A", 1, 9), ("B", 1, 14)]),
    ('NAME = "A", "B"\n', [("A", 1, 8), ("B", 1, 13)]),
    ('NAME = ("A",)\n', [("A", 1, 9)]),
    ('NAME = ("A")  ,\n', [("A", 1, 9)]),
    ('NAME = {"A", "B"}\n', [("A", 1, 9), ("B", 1, 14)]),
    ('NAME = {"A": 1, "B": [x for x in y]}\n', [("A", 1, 9), ("B", 1, 17)]),
    ('NAME = {}\n', []),
    ('NAME = []\n', []),
    ('NAME = ()\n', []),
    ('NAME: list[str] = ["A"]\n', [("A", 1, 20)]),
    ('from typing import Final\nNAME: Final = frozenset({"A"})\n', [("A", 2, 26)]),
    ('NAME = frozenset()\n', []),
    ('NAME = set()\n', []),
    ('NAME = tuple()\n', []),
    ('NAME = list()\n', []),
    ('NAME = frozenset(["A", "B"])\n', [("A", 1, 19), ("B", 1, 24)]),
    ('NAME = set(("A", "B"))\n', [("A", 1, 13), ("B", 1, 18)]),
    ('NAME = tuple({"A": 0, "B": 1})\n', [("A", 1, 15), ("B", 1, 23)]),
    ('NAME = list(frozenset(tuple(["A"])))\n', [("A", 1, 30)]),
    ('NAME = (["A"])\n', [("A", 1, 10)]),
    ('NAME = [("A"), (("B"))]\n', [("A", 1, 10), ("B", 1, 18)]),
    ('NAME = ["A" "B", "C"\n  "D"]\n', [("AB", 1, 9), ("CD", 1, 18)]),
    ('NAME = ["A"] + ["B"] + ["C"]\n', [("A", 1, 9), ("B", 1, 17), ("C", 1, 25)]),
    ('NAME = ("A",) + ("B",)\n', [("A", 1, 9), ("B", 1, 18)]),
    ('NAME = {"A", "B"} | frozenset({"C"}) | {"D"}\n', [("A", 1, 9), ("B", 1, 14), ("C", 1, 32), ("D", 1, 41)]),
    ('NAME = frozenset({"B"}) | {"A"}\n', [("B", 1, 19), ("A", 1, 28)]),
    ('NAME = {"A": 1} | {"B": 2}\n', [("A", 1, 9), ("B", 1, 20)]),
    ('NAME = ["A" + "_KEY"]\n', [("A_KEY", 1, 9)]),
    ('NAME = [u"A", R"B\\d"]\n', [("A", 1, 9), ("B\\d", 1, 15)]),
])
def test_static_forms(tmp_path: Path, code: str, expected: list[tuple[str, int, int]]) -> None:
    r = extract(tmp_path, code)
    assert keys(r) == expected
    assert [f.code for f in r.findings] == ([] if len({k for k, *_ in expected}) == len(expected) else ["DC003"])


@pytest.mark.parametrize("code, expected", [
    ('NAME = "A B  C".split()\n', [("A", 1, 9), ("B", 1, 11), ("C", 1, 14)]),
    ('NAME = "  A\\tB\\n C ".split(None)\n', [("A", 1, 11), ("B", 1, 14), ("C", 1, 18)]),
    ('NAME = "A,B".split(",")\n', [("A", 1, 9), ("B", 1, 11)]),
    ('NAME = "A, B".split(sep=",")\n', [("A", 1, 9), (" B", 1, 11)]),
    ('NAME = "A::B".split("::")\n', [("A", 1, 9), ("B", 1, 12)]),
    ('NAME = "".split()\n', []),
    ('NAME = ("A B "\n        "C").split()\n', [("A", 1, 10), ("B", 1, 12), ("C", 2, 10)]),
    ("NAME = 'A\\x20B\\u0020C'.split()\n", [("A", 1, 9), ("B", 1, 14), ("C", 1, 21)]),
    ('NAME = "A \\\nB".split()\n', [("A", 1, 9), ("B", 2, 1)]),
    ('NAME = r"A\\n B".split()\n', [("A\\n", 1, 10), ("B", 1, 14)]),
    ('NAME = """\n    A B\n\tC\n""".split()\n', [("A", 2, 5), ("B", 2, 7), ("C", 3, 2)]),
    ('NAME = "\\N{LATIN SMALL LETTER E WITH ACUTE}X Y".split()\n', [("éX", 1, 9), ("Y", 1, 46)]),
    ('NAME = "A\\qB C".split()\n', [("A\\qB", 1, 9), ("C", 1, 14)]),
    ('NAME = "\\101\\102 C".split()\n', [("AB", 1, 9), ("C", 1, 18)]),
    ('NAME = "A\\u00a0B\\x85C\\x1fD".split()\n', [("A", 1, 9), ("B", 1, 16), ("C", 1, 21), ("D", 1, 26)]),
    ('NAME = frozenset("A B".split())\n', [("A", 1, 19), ("B", 1, 21)]),
    ('NAME = "A B".split() + ["C"]\n', [("A", 1, 9), ("B", 1, 11), ("C", 1, 25)]),
])
def test_split_forms_locate_each_word(tmp_path: Path, code: str, expected: list[tuple[str, int, int]]) -> None:
    r = extract(tmp_path, code)
    assert keys(r) == expected
    assert r.findings == ()


def test_crlf_file_with_triple_quoted_split(tmp_path: Path) -> None:
    code = 'X = 1\r\nNAME = """A\r\n  B""".split("\\n")\r\nY = 2\r\n'
    r = extract(tmp_path, code.encode())
    assert keys(r) == [("A", 2, 11), ("  B", 3, 1)]  # Python reads \r\n inside the literal as \n
    span = r.value_span
    assert code.encode()[span.start_byte:span.end_byte] == b'"""A\r\n  B""".split("\\n")'


def test_string_constants_defined_earlier(tmp_path: Path) -> None:
    code = ('OPENAI = "OPENAI_API_KEY"\n'
            'PREFIX: str = "GOOGLE"\n'
            'WORDS = ("X Y "\n'
            '         "Z")\n'
            'ALIAS = OPENAI\n'
            'NAME = [OPENAI, PREFIX + "_API_KEY", (ALIAS)] + WORDS.split()\n')
    r = extract(tmp_path, code)
    # an element is located where the list names it; split words inside the constant's literal
    assert keys(r) == [("OPENAI_API_KEY", 6, 9), ("GOOGLE_API_KEY", 6, 17), ("OPENAI_API_KEY", 6, 39),
                       ("X", 3, 11), ("Y", 3, 13), ("Z", 4, 11)]
    assert codes(r) == [("DC003", 6, 39)]


def test_augmented_assignments_accumulate(tmp_path: Path) -> None:
    code = ('NAME = ["A"]\n'
            'NAME += ["B"]\n'
            'NAME += ("C",)\n'
            'NAME += {"D": 1}\n'
            'S = {"A"}\n'
            'S |= {"B"}\n'
            'S |= frozenset(["A", "C"])\n'
            'T = ("A",)\n'
            'T += ("B",)\n'
            'F = frozenset()\n'
            'F |= {"X"}\n'
            'D = {"A": 1}\n'
            'D |= {"B": 2}\n')
    assert keys(extract(tmp_path, code)) == [("A", 1, 9), ("B", 2, 10), ("C", 3, 10), ("D", 4, 10)]
    s = extract(tmp_path, code, "S")
    assert keys(s) == [("A", 5, 6), ("B", 6, 7)] + [("C", 7, 22)]
    assert codes(s) == [("DC003", 7, 17)]
    assert keys(extract(tmp_path, code, "T")) == [("A", 8, 6), ("B", 9, 7)]
    assert keys(extract(tmp_path, code, "F")) == [("X", 11, 7)]
    assert keys(extract(tmp_path, code, "D")) == [("A", 12, 6), ("B", 13, 7)]


def test_tuple_unpacking_definition(tmp_path: Path) -> None:
    code = 'NAME, OTHER = ["A", "B"], ("C",)\n'
    r = extract(tmp_path, code)
    assert keys(r) == [("A", 1, 16), ("B", 1, 21)]
    assert (r.definition.line, r.definition.column) == (1, 1)
    assert code.encode()[r.value_span.start_byte:r.value_span.end_byte] == b'["A", "B"]'
    assert keys(extract(tmp_path, code, "OTHER")) == [("C", 1, 28)]
    r = extract(tmp_path, 'NAME, OTHER = make()\n')
    fails(r, ("DC102", 1, 1))


# --------------------------------------------------------------------------- DC003


@pytest.mark.parametrize("code, expected_keys, dupes", [
    ('NAME = ["A", "B", "A"]\n', [("A", 1, 9), ("B", 1, 14), ("A", 1, 19)], [("DC003", 1, 19)]),
    # Python deduplicates a set display silently; the repeated source entry is still reported
    ('NAME = {"A", "B", "A"}\n', [("A", 1, 9), ("B", 1, 14)], [("DC003", 1, 19)]),
    ('NAME = {"A": 1, "A": 2}\n', [("A", 1, 9)], [("DC003", 1, 17)]),
    ('NAME = "A B A".split()\n', [("A", 1, 9), ("B", 1, 11), ("A", 1, 13)], [("DC003", 1, 13)]),
    ('NAME = ["A"]\nNAME += ["A"]\n', [("A", 1, 9), ("A", 2, 10)], [("DC003", 2, 10)]),
    ('NAME = {"A"} | {"A"}\n', [("A", 1, 9)], [("DC003", 1, 17)]),
    ('NAME = frozenset(["A", "A", "A"])\n', [("A", 1, 19)], [("DC003", 1, 24), ("DC003", 1, 29)]),
])
def test_duplicate_keys_are_dc003_and_keys_are_still_returned(tmp_path: Path, code: str, expected_keys: list,
                                                              dupes: list) -> None:
    r = extract(tmp_path, code)
    assert keys(r) == expected_keys
    assert codes(r) == dupes
    assert all(f.key == "A" and "first at line 1" in f.message for f in r.findings)


# --------------------------------------------------------------------------- DC102


@pytest.mark.parametrize("code, at, words", [
    ('NAME = [f"A{x}"]\n', (1, 9), "f-string"),
    ('NAME = [f"A"]\n', (1, 9), "f-string"),
    ('NAME = ["A" f"B"]\n', (1, 13), "f-string"),
    ('NAME = [b"A"]\n', (1, 9), "bytes"),
    ('NAME = ["A", b"B"]\n', (1, 14), "bytes"),
    ('NAME = ["A", get_key()]\n', (1, 14), "call `get_key()`"),
    ('NAME = ["A", os.environ["K"]]\n', (1, 14), "subscript"),
    ('NAME = ["A", config.KEY]\n', (1, 14), "attribute access `config.KEY`"),
    ('NAME = [k for k in ("A", "B")]\n', (1, 8), "comprehension"),
    ('NAME = {k for k in "A"}\n', (1, 8), "comprehension"),
    ('NAME = ["A", *OTHER]\n', (1, 14), "starred element"),
    ('NAME = ["A", *["B"]]\n', (1, 14), "starred element"),
    ('NAME = {"A": 1, **OTHER}\n', (1, 17), "dict unpacking"),
    ('NAME = ["A", 1]\n', (1, 14), "number `1`"),
    ('NAME = ["A", None]\n', (1, 14), "`None` (not a string)"),
    ('NAME = ["A", ["B"]]\n', (1, 14), "a list, not a string"),
    ('NAME = ["A"] + ("B",)\n', (1, 8), "`+` between a list and a tuple"),
    ('NAME = {"A"} | ["B"]\n', (1, 8), "`|` between a set and a list"),
    ('NAME = {"A"} - {"B"}\n', (1, 8), "operation"),
    ('NAME = ["A"] * 2\n', (1, 8), "operation"),
    ('NAME = ["A", "B"][:1]\n', (1, 8), "subscript"),
    ('NAME = sorted(["A"])\n', (1, 8), "call `sorted"),
    ('NAME = list("AB")\n', (1, 13), "iterates its characters"),
    ('NAME = frozenset("AB")\n', (1, 18), "iterates its characters"),
    ('NAME = set(["A"], ["B"])\n', (1, 8), "exactly one positional"),
    ('NAME = set(iterable=["A"])\n', (1, 8), "exactly one positional"),
    ('NAME = "A B".split(maxsplit=1)\n', (1, 8), "without maxsplit"),
    ('NAME = "A B".split(" ", 1)\n', (1, 8), "without maxsplit"),
    ('NAME = "A B".split("")\n', (1, 20), "empty separator"),
    ('NAME = ["A"].split()\n', (1, 8), "only strings can be split"),
    ('NAME = "A B".rsplit()\n', (1, 8), "call"),
    ('NAME = "A,,B".split(",")\n', (1, 11), "empty key"),
    ('NAME = "A,B,".split(",")\n', (1, 13), "empty key"),
    ('NAME = ["A", ""]\n', (1, 14), "empty key"),
    ('NAME = "A B C"\n', (1, 8), "is a string, not a list"),
    ('NAME = ["A"]\nNAME += "BC"\n', (2, 9), "single characters"),
    ('NAME = ("A",)\nNAME += ["B"]\n', (2, 1), "`NAME +=` with a list on a tuple"),
    ('NAME = {"A"}\nNAME += {"B"}\n', (2, 1), "`NAME +=` with a set on a set"),
    ('NAME = ["A"]\nNAME |= ["B"]\n', (2, 1), "`NAME |=` with a list on a list"),
    ('NAME = ["A"]\nNAME += more()\n', (2, 9), "call `more()`"),
    ('NAME = ["A", UNKNOWN]\n', (1, 14), "`UNKNOWN` (not defined at module level"),
    ('NAME = ["A", len]\n', (1, 14), "`len` (a builtin"),
    ('NAME = ["A", LATER]\nLATER = "B"\n', (1, 14), "defined at line 2, after this use"),
    ('NAME = ["A", NAME2]\nNAME2 = "B"\n', (1, 14), "after this use"),
    ('K = "A"\nK = "B"\nNAME = [K]\n', (3, 9), "bound more than once, lines 1, 2"),
    ('K = "A"\nK += "B"\nNAME = [K]\n', (3, 9), "bound more than once"),
    ('if x:\n    K = "A"\nNAME = [K]\n', (3, 9), "bound in the `if` block at line 1"),
    ('K = "A"\ndef f():\n    global K\n    K = "B"\nNAME = [K]\n', (5, 9), "bound more than once"),
    ('import K\nNAME = [K]\n', (2, 9), "bound in an import"),
    ('K = ["A"]\nNAME = [K]\n', (2, 9), "it is a list; only string constants"),
    ('K, J = "A", "B"\nNAME = [K]\n', (2, 9), "not by one plain module-level assignment"),
])
def test_not_static_is_dc102_at_the_element(tmp_path: Path, code: str, at: tuple[int, int], words: str) -> None:
    r = extract(tmp_path, code)
    (message,) = fails(r, ("DC102", *at))
    assert words in message


def test_every_non_static_element_is_reported(tmp_path: Path) -> None:
    r = extract(tmp_path, 'NAME = [\n    f"A",\n    "B",\n    get(),\n    b"C",\n]\n')
    fails(r, ("DC102", 2, 5), ("DC102", 4, 5), ("DC102", 5, 5))


def test_constant_with_non_static_value_points_at_both(tmp_path: Path) -> None:
    r = extract(tmp_path, 'K = f"{X}"\nNAME = [K, K]\n')
    messages = fails(r, ("DC102", 1, 5), ("DC102", 2, 9), ("DC102", 2, 12))
    assert "f-string" in messages[0] and "`K`" in messages[1]


@pytest.mark.parametrize("rebinding, line", [
    ("set = frozenset\n", 1),
    ("from sets import set\n", 1),
    ("import set\n", 1),
    ("def set(x):\n    return x\n", 1),
    ("def f():\n    global set\n    set = list\n", 3),
    ("if True:\n    set = list\n", 2),
    ("for set in []:\n    pass\n", 1),
    ("NAME0 = 1\nset: type = list\n", 2),
])
def test_rebound_builtin_is_dc102(tmp_path: Path, rebinding: str, line: int) -> None:
    code = rebinding + 'NAME = set(["A"])\n'
    (message,) = fails(extract(tmp_path, code), ("DC102", rebinding.count("\n") + 1, 8))
    assert f"`set` is rebound in this module at line {line}" in message


def test_star_import_may_rebind_builtins(tmp_path: Path) -> None:
    (message,) = fails(extract(tmp_path, 'from helpers import *\nNAME = frozenset(["A"])\n'), ("DC102", 2, 8))
    assert "import *" in message
    # a builtin rebound only in a function's own scope, or a class attribute, is not the module's
    code = 'def f():\n    set = list\nclass C:\n    frozenset = 1\nNAME = frozenset(set(["A"]))\n'
    assert keys(extract(tmp_path, code)) == [("A", 5, 23)]


def test_invalid_escape_name_is_dc101(tmp_path: Path) -> None:
    # CPython judges the file first (it is the gate in front of libcst) and reports where its tokenizer stopped.
    r = extract(tmp_path, 'NAME = ["\\N{NO SUCH NAME}"]\n')
    (message,) = fails(r, ("DC101", 1, 27))
    assert "can't decode" in message and "unknown Unicode character name" in message


# --------------------------------------------------------------------------- DC103


@pytest.mark.parametrize("code, expected, words", [
    ('if X:\n    NAME = ["A"]\n', [(2, 5)], "inside the `if` block at line 1"),
    ('if X:\n    pass\nelse:\n    NAME = ["A"]\n', [(4, 5)], "`if` block"),
    ('try:\n    NAME = ["A"]\nexcept ImportError:\n    pass\n', [(2, 5)], "`try` block"),
    ('try:\n    pass\nfinally:\n    NAME = ["A"]\n', [(4, 5)], "`try` block"),
    ('for x in y:\n    NAME = ["A"]\n', [(2, 5)], "`for` block"),
    ('while x:\n    NAME = ["A"]\n', [(2, 5)], "`while` block"),
    ('with x:\n    NAME = ["A"]\n', [(2, 5)], "`with` block"),
    ('match x:\n    case 1:\n        NAME = ["A"]\n', [(3, 9)], "`match` block"),
    ('NAME = ["A"]\nif X:\n    NAME += ["B"]\n', [(3, 5)], "`if` block"),
    ('NAME = ["A"]\nif X:\n    NAME = ["B"]\n', [(3, 5)], "`if` block"),
    ('NAME = ["A"]\nNAME = ["B"]\n', [(2, 1)], "more than once at module level (lines 1 and 2)"),
    ('NAME = ["A"]\nNAME: list = ["B"]\n', [(2, 1)], "more than once"),
    ('NAME = OTHER = ["A"]\n', [(1, 1)], "chained assignment"),
    ('OTHER = NAME = ["A"]\n', [(1, 9)], "chained assignment"),
    ('NAME += ["B"]\nNAME = ["A"]\n', [(1, 1)], "augmented at line 1 before any module-level definition"),
    ('NAME = ["A"]\nfrom helpers import *\n', [(2, 1)], "may rebind NAME"),
    ('def f():\n    NAME = ["A"]\n', [(2, 5)], "only defined inside function `f`"),
    ('class C:\n    NAME = ["A"]\n', [(2, 5)], "only defined inside class `C`"),
    ('def f():\n    global NAME\n    NAME = ["A"]\n', [(3, 5)], "only assigned inside function `f`"),
])
def test_ambiguous_definitions_are_dc103(tmp_path: Path, code: str, expected: list, words: str) -> None:
    messages = fails(extract(tmp_path, code), *[("DC103", *at) for at in expected])
    assert words in messages[0]


@pytest.mark.parametrize("code, at, words", [
    ('NAME = ["A"]\nimport NAME\n', (2, 8), "an `import` rebinds it"),
    ('NAME = ["A"]\nfrom x import y as NAME\n', (2, 15), "an `import` rebinds it"),
    ('NAME = ["A"]\ndef NAME():\n    pass\n', (2, 5), "a `def` rebinds it"),
    ('NAME = ["A"]\nclass NAME:\n    pass\n', (2, 7), "a `class` rebinds it"),
    ('NAME = ["A"]\nprint(NAME := ["B"])\n', (2, 7), "`:=` rebinds it"),
    ('NAME = ["A"]\nfor NAME in []:\n    pass\n', (2, 5), "a `for` loop rebinds it"),
    ('NAME = ["A"]\nwith open("f") as NAME:\n    pass\n', (2, 19), "`with ... as` rebinds it"),
    ('NAME = ["A"]\ntry:\n    pass\nexcept E as NAME:\n    pass\n', (4, 1), "`except ... as` rebinds it"),
    ('NAME = ["A"]\nmatch 1:\n    case NAME:\n        pass\n', (3, 10), "a `case` pattern rebinds it"),
    ('NAME = ["A"]\ndel NAME\n', (2, 5), "`del NAME` removes it"),
    ('NAME = ["A"]\n[x := NAME, x.append("X")]\n', (2, 7), "second name for the same object"),
    ('NAME = ["A"]\ngetattr(NAME, "append")("X")\n', (2, 9), "`getattr()` receives NAME itself"),
    ('NAME = ["A"]\ndef f():\n    global NAME\n    print(NAME)\n', (3, 5), "`global NAME` lets function `f`"),
])
def test_every_rebinding_or_unproven_use_is_dc104(tmp_path: Path, code: str, at: tuple[int, int],
                                                  words: str) -> None:
    (message,) = fails(extract(tmp_path, code), ("DC104", *at))
    assert message.startswith("cannot prove NAME is unchanged here: ") and words in message, message


def test_star_import_before_the_definition_is_harmless(tmp_path: Path) -> None:
    assert keys(extract(tmp_path, 'from helpers import *\nNAME = ["A"]\n')) == [("A", 2, 9)]


# --------------------------------------------------------------------------- DC104

BRIEF_MUTATORS = ["add", "append", "extend", "update", "remove", "discard", "pop", "clear", "insert",
                  "setdefault", "popitem", "difference_update", "intersection_update",
                  "symmetric_difference_update", "sort", "reverse", "__setitem__", "__ior__"]


@pytest.mark.parametrize("method", BRIEF_MUTATORS)
def test_mutating_method_in_a_function_is_dc104(tmp_path: Path, method: str) -> None:
    code = f'NAME = {{"A"}}\n\n\ndef enable():\n    NAME.{method}("B")\n'
    (message,) = fails(extract(tmp_path, code), ("DC104", 5, 5))
    assert f"`NAME.{method}(...)`" in message


@pytest.mark.parametrize("code, at", [
    ('NAME = ["A"]\nNAME.append("B")\n', (2, 1)),
    ('NAME = ["A"]\nNAME[0] = "B"\n', (2, 1)),
    ('NAME = ["A"]\nNAME[:] = ["B"]\n', (2, 1)),
    ('NAME = ["A"]\nNAME[0] += "B"\n', (2, 1)),
    ('NAME = ["A"]\ndel NAME[0]\n', (2, 5)),
    ('NAME = ["A"]\ndef f():\n    del NAME[0]\n', (3, 9)),
    ('NAME = {"A": 1}\ndef f(k):\n    NAME[k] = 2\n', (3, 5)),
    ('NAME = ["A"]\ndel NAME\n', (2, 5)),
    ('NAME = ["A"]\ndef f():\n    global NAME\n    del NAME\n', (4, 9)),
    ('NAME = ["A"]\ndef f():\n    global NAME\n    NAME = ["B"]\n', (4, 5)),
    ('NAME = ["A"]\ndef f():\n    global NAME\n    NAME += ["B"]\n', (4, 5)),
    ('NAME = ["A"]\ndef f():\n    global NAME\n    for NAME in []:\n        pass\n', (4, 9)),
    ('NAME = ["A"]\n[NAME.append(x) for x in "BC"]\n', (2, 2)),
    ('NAME = ["A"]\nclass C:\n    def m(self):\n        NAME.append("B")\n', (4, 9)),
    ('NAME = ["A"]\nclass C:\n    NAME.append("B")\n', (3, 5)),
    ('NAME = ["A"]\nclass C:\n    NAME.append("B")\n    NAME = []\n', (3, 5)),
    ('NAME = ["A"]\nadd = NAME.append\n', (2, 7)),
    ('NAME = ["A"]\ndef outer():\n    def inner():\n        NAME.clear()\n', (4, 9)),
    ('NAME = ["A"]\nf = lambda: NAME.pop()\n', (2, 13)),
    ('NAME = {"A"}\nNAME -= {"A"}\n', (2, 1)),
    ('NAME = {"A"}\nNAME &= {"A"}\n', (2, 1)),
    ('NAME = ["A"]\nNAME *= 2\n', (2, 1)),
    ('NAME = ["A"]\nNAME.x = 1\n', (2, 1)),
])
def test_mutations_are_dc104(tmp_path: Path, code: str, at: tuple[int, int]) -> None:
    fails(extract(tmp_path, code), ("DC104", *at))


@pytest.mark.parametrize("code", [
    # a parameter named NAME is a different variable
    'def f(NAME):\n    NAME.append("B")\n',
    'def f(*, NAME=None):\n    NAME.append("B")\n',
    'def f(*NAME):\n    NAME.append("B")\n',
    'g = lambda NAME: NAME.append("B")\n',
    # a function that assigns NAME without `global` has its own local, even before the assignment
    'def f():\n    NAME = []\n    NAME.append("B")\n',
    'def f():\n    NAME.append("B")\n    NAME = []\n',
    'def f():\n    for NAME in [[]]:\n        NAME.append("B")\n',
    'def f():\n    import NAME\n    NAME.append("B")\n',
    'def f():\n    NAME = []\n    def g():\n        NAME.append("B")\n',
    'def f():\n    NAME = []\n    def g():\n        nonlocal NAME\n        NAME.append("B")\n',
    'def f():\n    NAME = []\n    del NAME[0]\n',
    'def f():\n    del NAME\n',
    # comprehension variables and class attributes
    '[NAME.append("B") for NAME in [[]]]\n',
    'class C:\n    NAME = []\n    NAME.append("B")\n',
    # reading is fine
    'def f(env):\n    for k in NAME:\n        env.pop(k, None)\n    return sorted(NAME), NAME.copy(), NAME[0]\n',
    'other = NAME + ["B"]\nother.append("C")\n',
    'x = {}\nx.update(NAME=1)\n',
    'obj.NAME.append("B")\n',
])
def test_shadowing_and_reads_are_not_mutations(tmp_path: Path, code: str) -> None:
    r = extract(tmp_path, 'NAME = ["A"]\n' + code)
    assert keys(r) == [("A", 1, 9)]
    assert r.findings == ()


# --------------------------------------------------------------------------- DC100 / DC101 / DC105


def test_symbol_not_found_suggests_the_closest_module_level_name(tmp_path: Path) -> None:
    r = extract(tmp_path, 'STRIP_KEYZ = ["A"]\ndef STRIP():\n    pass\n', "STRIP_KEYS")
    (message,) = fails(r, ("DC100", 1, 1))
    assert "did you mean 'STRIP_KEYZ'" in message


def test_symbol_not_found_lists_module_level_names(tmp_path: Path) -> None:
    (message,) = fails(extract(tmp_path, 'import os\nX = 1\n', "STRIP_KEYS"), ("DC100", 1, 1))
    assert "defined here: X, os" in message
    (message,) = fails(extract(tmp_path, '"""doc only"""\n', "STRIP_KEYS"), ("DC100", 1, 1))
    assert "nothing that could hold a list" in message


def test_annotation_without_value_is_not_a_definition(tmp_path: Path) -> None:
    (message,) = fails(extract(tmp_path, 'import os\nNAME: list[str]\n'), ("DC100", 2, 1))
    assert "only annotated" in message
    code = 'NAME: list[str]\nNAME = ["A"]\nNAME: list[str]\n'
    assert keys(extract(tmp_path, code)) == [("A", 2, 9)]
    code = 'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    NAME: list[str]\nNAME = ["A"]\n'
    assert keys(extract(tmp_path, code)) == [("A", 4, 9)]


@pytest.mark.parametrize("code, at, words", [
    ('import os\nNAME = ["A",, "B"]\n', (2, 13), "invalid syntax"),
    ('NAME = [\n    "A",\n    "B"\n', (1, 8), "never closed"),
    ('def f(:\n    pass\nNAME = ["A"]\n', (1, 7), "invalid syntax"),
    ("x = 'abc\nNAME = []\n", (1, 5), "unterminated string"),
    ('NAME = ["A" "B" 3]\n', (1, 9), "forgot a comma"),
])
def test_syntax_error_is_dc101_with_precise_position(tmp_path: Path, code: str, at: tuple[int, int],
                                                      words: str) -> None:
    (message,) = fails(extract(tmp_path, code), ("DC101", *at))
    assert words in message and "\n" not in message


def test_too_deeply_nested_value_fails_closed(tmp_path: Path) -> None:
    code = "NAME = " + " + ".join(f'["K{i}"]' for i in range(1500)) + "\n"
    (message,) = fails(extract(tmp_path, code), ("DC102", 1, 1))
    assert "too deeply" in message


def test_missing_file_is_dc105(tmp_path: Path) -> None:
    r = extract_list(ListRef("nope.py:NAME", "nope.py", "NAME", "python"), SourceFiles(tmp_path))
    assert r.keys is None and [f.code for f in r.findings] == ["DC105"]


@pytest.mark.parametrize("cookie", ["latin-1", "utf-7", "iso-8859-15", "cp1252", "ascii"])
def test_non_utf8_coding_cookie_is_refused(tmp_path: Path, cookie: str) -> None:
    # Python decodes the file with the declared codec, driftcheck reads UTF-8: refuse rather than disagree
    for text in (f"# -*- coding: {cookie} -*-\nNAME = ['A']\n",
                 f"#!/usr/bin/env python3\n# vim: set fileencoding={cookie} :\nNAME = ['A']\n"):
        (message,) = fails(extract(tmp_path, text), ("DC105", 1, 1))
        assert f"coding: {cookie}" in message and "re-save the file as UTF-8" in message


def test_utf8_cookies_are_read_and_a_late_cookie_is_no_cookie(tmp_path: Path) -> None:
    for cookie in ("utf-8", "utf8", "UTF-8", "utf_8", "utf-8-unix"):
        assert keys(extract(tmp_path, f"# coding: {cookie}\nNAME = ['A']\n")) == [("A", 2, 9)]
    # PEP 263: only lines 1 and 2 count, and line 2 only after a comment-only line 1
    assert keys(extract(tmp_path, "X = 1\n# coding: latin-1\nNAME = ['A']\n")) == [("A", 3, 9)]
    assert keys(extract(tmp_path, "\n\n# coding: latin-1\nNAME = ['A']\n")) == [("A", 4, 9)]


def test_utf7_cookie_hiding_an_append_is_refused(tmp_path: Path) -> None:
    # UTF-8 readers see a comment; Python decodes UTF-7 and runs `NAME.append("X")`
    hidden = "# +AAo-NAME.append(+ACI-X+ACI-)"
    code = f"# -*- coding: utf-7 -*-\nNAME = ['A']\n{hidden}\n"
    fails(extract(tmp_path, code), ("DC105", 1, 1))


def test_bom_with_another_cookie_is_a_syntax_error(tmp_path: Path) -> None:
    (message,) = fails(extract(tmp_path, b"\xef\xbb\xbf# coding: latin-1\nNAME = ['A']\n"), ("DC101", 1, 1))
    assert "byte order mark" in message
    assert keys(extract(tmp_path, b"\xef\xbb\xbf# coding: utf-8\nNAME = ['A']\n")) == [("A", 2, 9)]


# --------------------------------------------------------------------------- pragmas


def test_pragmas_above_and_trailing(tmp_path: Path) -> None:
    code = ('# driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time as the byok signal\n'
            '# driftcheck: allow-extra=X_KEY,Y_KEY -- legacy\n'
            'NAME = [  # driftcheck: allow-missing=Z_KEY -- not blocked yet\n'
            '    "A",  # driftcheck: allow-extra=IGNORED -- not on the first line\n'
            ']\n')
    r = extract(tmp_path, code)
    got = [(a.key, a.kind, a.reason, a.origin, a.line, a.column) for a in r.allowances]
    assert got == [
        ("MINIMAX_API_KEY", "missing", "sent at create time as the byok signal", "pragma", 1, 3),
        ("X_KEY", "extra", "legacy", "pragma", 2, 3),
        ("Y_KEY", "extra", "legacy", "pragma", 2, 3),
        ("Z_KEY", "missing", "not blocked yet", "pragma", 3, 13),
    ]
    assert keys(r) == [("A", 4, 5)]


def test_pragmas_must_be_directly_above(tmp_path: Path) -> None:
    code = ('import os\n'
            '# driftcheck: allow-missing=FAR -- separated by a blank line\n'
            '\n'
            '# plain comment\n'
            '    # driftcheck: allow-missing=NEAR -- indented comment still counts\n'
            'X = 1; NAME = ["A"]  # driftcheck: allow-extra=SAME_LINE -- trailing\n'
            'S = """\n# driftcheck: allow-missing=IN_STRING -- not a comment\n"""\n'
            'OTHER = ["B"]\n')
    r = extract(tmp_path, code)
    assert [(a.key, a.line, a.column) for a in r.allowances] == [("NEAR", 5, 7), ("SAME_LINE", 6, 24)]
    assert extract(tmp_path, code, "OTHER").allowances == ()


def test_pragma_without_reason_is_dc106(tmp_path: Path) -> None:
    r = extract(tmp_path, '# driftcheck: allow-missing=MINIMAX_API_KEY\nNAME = ["A"]\n')
    assert r.keys is None  # DC106 is an error: fail closed
    assert codes(r) == [("DC106", 1, 3)]


# --------------------------------------------------------------------------- caching, laziness, real repos


def test_module_is_parsed_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ast

    from driftcheck.languages.python import parse as parse_module

    calls: list[int] = []
    real = ast.parse
    monkeypatch.setattr(parse_module.ast, "parse", lambda *a, **k: calls.append("filename" in k) or real(*a, **k))
    files = SourceFiles(tmp_path)
    code = 'A = ["X"]\nB = ("Y",)\n'
    assert keys(extract(tmp_path, code, "A", files=files)) == [("X", 1, 6)]
    assert keys(extract_list(ListRef("m.py:B", "m.py", "B", "python"), files)) == [("Y", 2, 6)]
    assert calls.count(True) == 1  # the module itself (literal_eval parses single tokens too)


def test_cross_check_against_the_interpreter(tmp_path: Path) -> None:
    """Import real modules and compare what Python computes with what driftcheck extracts."""
    modules = {
        "c_list": 'NAME = ["A", "B"] + ["C"]\nNAME += ("D",)\nNAME += {"E": 1}\n',
        "c_split": 'NAME = "  A\\tB\\u00a0C\\x1cD \\\nE".split() + "F,G".split(",")\n',
        "c_empty": 'NAME = "A,,B,".split(",")\n',  # Python gives empty strings: driftcheck refuses them
        "c_sep": 'NAME = "A, B ,C".split(",") + "X::Y".split(sep="::")\n',
        "c_triple": 'NAME = tuple("""\n    A B\n    C\\\n D\n""".split())\n',
        "c_set": 'K = "K_CONST"\nNAME = frozenset({"B": 1, "A": 2}) | {K, "A"}\nNAME |= {"Z"}\n',
        "c_escapes": 'NAME = ["\\x41\\101\\u0041", r"\\x41", "\\N{BULLET}", "a\\qb", \'q"\' "r", """x\ny"""]\n',
        "c_nested": 'P = "OPENAI"\nS = P + "_API_KEY"\nNAME = list(set(tuple([S, (P + "_BASE_URL")])))\n',
        "c_dict": 'NAME = {"A": None, "B": None, "A": 1} | {"C": 0}\n',
    }
    for name, code in modules.items():
        (tmp_path / f"{name}.py").write_text(code, encoding="utf-8")
    script = ("import json, sys\nsys.path.insert(0, sys.argv[1])\nout = {}\n"
              "for name in sys.argv[2:]:\n"
              "    value = __import__(name).NAME\n"
              "    out[name] = [type(value).__name__, list(value)]\n"
              "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path), *modules], capture_output=True,
                          text=True, check=True, timeout=60)
    real = json.loads(proc.stdout)
    files = SourceFiles(tmp_path)
    empty = extract_list(ListRef("c_empty.py:NAME", "c_empty.py", "NAME", "python"), files)
    assert real.pop("c_empty") == ["list", ["A", "", "B", ""]]
    assert empty.keys is None and codes(empty) == [("DC102", 1, 11), ("DC102", 1, 14)]
    for name in real:
        r = extract_list(ListRef(f"{name}.py:NAME", f"{name}.py", "NAME", "python"), files)
        assert r.keys is not None, (name, r.findings)
        kind, values = real[name]
        ours = list(r.key_names)
        if kind in ("set", "frozenset") or name == "c_nested":  # list(set(...)): order follows string hashing
            assert sorted(ours) == sorted(values) and len(ours) == len(values), name
        else:
            assert ours == values, name
    assert sorted(real["c_set"][1]) == ["A", "B", "K_CONST", "Z"]


_LAZY_MODULES = ["driftcheck.languages.go", "driftcheck.languages.shell", "driftcheck.cli",
                 "driftcheck.languages.python.reader"]


@pytest.mark.parametrize("module", _LAZY_MODULES)
def test_other_modules_do_not_import_libcst(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet (written by another task)")
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}\nprint('libcst' in sys.modules)"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_reading_python_never_imports_libcst(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('NAME = ["A"]\n')
    script = ("import sys\nfrom pathlib import Path\nfrom driftcheck.languages.driver import extract_list\n"
              "from driftcheck.model import ListRef\nfrom driftcheck.sources import SourceFiles\n"
              f"r = extract_list(ListRef('m.py:NAME', 'm.py', 'NAME', 'python'), SourceFiles(Path({str(tmp_path)!r})))\n"
              "print(list(r.key_names), 'libcst' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["['A']", "False"], proc.stderr


def _fixture_mirror(name: str) -> ExtractedList:
    return extract_list(ListRef("tests/e2e/helpers/byok.py:STRIP_KEYS", "tests/e2e/helpers/byok.py", "STRIP_KEYS",
                                "python"), SourceFiles(FIXTURES / name))


@pytest.mark.parametrize("name", ["py-list", "py-frozenset-split", "py-dict-union"])
def test_fixture_python_mirrors_hold_the_canonical_keys(name: str) -> None:
    r = _fixture_mirror(name)
    assert r.findings == ()
    assert sorted(r.key_names) == sorted(KEYS) and len(r.key_names) == 23
    if name != "py-dict-union":
        assert list(r.key_names) == KEYS


def test_fixture_frozenset_split_locates_words_inside_the_string() -> None:
    r = _fixture_mirror("py-frozenset-split")
    assert keys(r)[:4] == [("ANTHROPIC_API_KEY", 10, 5), ("ANTHROPIC_AUTH_TOKEN", 10, 23),
                           ("CLAUDE_CODE_OAUTH_TOKEN", 10, 44), ("OPENAI_API_KEY", 11, 5)]


@pytest.mark.parametrize("name, finding", [
    ("py-error-mutated", ("DC104", 37, 5)),
    ("py-error-conditional", ("DC103", 11, 5)),
])
def test_fixture_python_mirror_errors(name: str, finding: tuple[str, int, int]) -> None:
    r = _fixture_mirror(name)
    assert r.keys is None and codes(r) == [finding]
    assert f"line {finding[1]}, column {finding[2]}" in (FIXTURES / name / "README.md").read_text()


@pytest.mark.parametrize("name, exit_code", [
    ("py-list", 0), ("py-frozenset-split", 0), ("py-dict-union", 0),
    ("py-error-mutated", 2), ("py-error-conditional", 2),
])
def test_fixture_check_exit_codes(name: str, exit_code: int) -> None:
    missing = [m for m in ("driftcheck.cli", "driftcheck.languages.go", "driftcheck.languages.shell")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} does not exist yet (written by another task)")
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "check", "--root", str(FIXTURES / name),
                           "--format", "json"], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "NO_COLOR": "1"})
    assert proc.returncode == exit_code, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (contract,) = report["contracts"]
    assert [m["ref"] for m in contract["mirrors"]] == ["tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEYS",
                                                        "tests/e2e/helpers/byok.py:STRIP_KEYS"]
    python_mirror = contract["mirrors"][1]
    if exit_code == 0:
        assert len(python_mirror["keys"]) == 23 and report["findings"] == []
    else:
        assert python_mirror["keys"] is None
        assert [(f["code"], f["path"]) for f in report["findings"]] == [
            ("DC104" if "mutated" in name else "DC103", "tests/e2e/helpers/byok.py")]


@pytest.mark.parametrize("code, refused", [
    ("import concurrent.futures", False), ("from concurrent import futures", False), ("from . import events", False),
    ("from .futures import helper", False), ("from asyncio import events", False), ("x = obj.__dict__", False),
    ("import asyncio", True), ("import asyncio.futures as f", True), ("from . import futures", True),
    ("from .. import asyncio", True), ("from asyncio import futures", True), ("import futures", True),
])
def test_imports_that_can_reach_the_module_itself_are_dc104(tmp_path: Path, code: str, refused: bool) -> None:
    (tmp_path / "asyncio").mkdir()
    r = extract(tmp_path, f'KEYS = ["A"]\n{code}\n', "KEYS", name="asyncio/futures.py")
    if refused:
        (message,) = fails(r, ("DC104", 2, 1))
        assert "may load the module itself" in message
    else:
        assert keys(r) == [("A", 1, 9)]


@pytest.mark.parametrize("code", [
    'globals()["KEYS"].append("X")', 'g = globals', 'import sys\nsys.modules[__name__].KEYS = []',
    'exec(code)', 'exec("KEYS.append(1)")', 'exec("x = 1")', 'getattr(obj, name)', 'getattr(obj, "KEYS")',
    '(lambda: 0).__globals__', 'import inspect\ninspect.currentframe().f_globals', 'locals()["KEYS"] = []',
    '__import__(__name__)', 'import importlib\nimportlib.import_module(name)', 'import builtins',
    'setattr(obj, "KEYS", [])', 'vars()["KEYS"] = 1', 'eval(source)',
])
def test_access_to_module_variables_by_string_is_dc104(tmp_path: Path, code: str) -> None:
    r = extract(tmp_path, f'KEYS = ("A",)\n{code}\n', "KEYS")
    assert r.keys is None and {f.code for f in r.findings} == {"DC104"}, r.findings


@pytest.mark.parametrize("code", [
    'getattr(obj, "name")', 'setattr(obj, name, 1)', 'exec("print(1)")', 'eval("1 + 1")', 'def f():\n    locals()',
    'def f():\n    return vars()', 'x = vars(obj)', 'import importlib\nimportlib.import_module("json")',
])
def test_harmless_dynamic_forms_are_read(tmp_path: Path, code: str) -> None:
    assert keys(extract(tmp_path, f'KEYS = ["A"]\n{code}\n', "KEYS")) == [("A", 1, 9)]


@pytest.mark.parametrize("code", [
    'KEYS = ["A"]\ntry:\n    from _speedups import *\nexcept ImportError:\n    pass\n',
    'KEYS = ["A"]\nif True:\n    from os import *\n',
])
def test_a_star_import_inside_a_block_after_the_definition_is_dc103(tmp_path: Path, code: str) -> None:
    (message,) = fails(extract(tmp_path, code, "KEYS"), ("DC103", 3 if "try" in code else 3, 5))
    assert "import *" in message


def test_in_a_regular_package_a_same_named_top_level_module_is_another_module(tmp_path: Path) -> None:
    (tmp_path / "asyncio").mkdir()
    (tmp_path / "asyncio" / "__init__.py").write_text("")
    # `import subprocess` inside asyncio/subprocess.py loads the stdlib module, not this one
    r = extract(tmp_path, 'KEYS = ["A"]\nimport subprocess\n', "KEYS", name="asyncio/subprocess.py")
    assert keys(r) == [("A", 1, 9)]
    r = extract(tmp_path, 'KEYS = ["A"]\nimport asyncio\n', "KEYS", name="asyncio/subprocess.py")
    fails(r, ("DC104", 2, 1))


def test_a_package_init_importing_its_submodules_is_read(tmp_path: Path) -> None:
    (tmp_path / "encodings").mkdir()
    code = 'KEYS = ["A"]\nfrom . import aliases\nimport codecs\n'
    assert keys(extract(tmp_path, code, "KEYS", name="encodings/__init__.py")) == [("A", 1, 9)]
    r = extract(tmp_path, 'KEYS = ["A"]\nimport encodings\n', "KEYS", name="encodings/__init__.py")
    fails(r, ("DC104", 2, 1))
