"""The dotenv backend: the names python-dotenv reads, refusing what a shell would read differently."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dotenv import dotenv_values

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFiles

ENV = """\
# Copy to .env and fill in.
ANTHROPIC_API_KEY=
export GEMINI_API_KEY=abc   # inline comment
OPENAI_API_KEY = "multi
NOT_A_KEY=inside the quoted value
"
MINIMAX_API_KEY='x'
EMPTY_HASH= # comment only
HASHED=#value
"""


def read(tmp_path: Path, text: str, name: str = ".env.example", selector: str = ".") -> ExtractedList:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return extract_list(parse_list_ref(f"{name}:{selector}", tmp_path), SourceFiles(tmp_path))


def test_names_equal_what_python_dotenv_reads(tmp_path: Path) -> None:
    got = read(tmp_path, ENV)
    assert got.findings == ()
    assert list(got.key_names) == list(dotenv_values(stream=io.StringIO(ENV)))
    assert [(k.key, k.line, k.column) for k in got.keys or ()][:3] == [
        ("ANTHROPIC_API_KEY", 2, 1), ("GEMINI_API_KEY", 3, 8), ("OPENAI_API_KEY", 4, 1)]


@pytest.mark.parametrize("name", [".env", ".env.example", ".env.staging", "prod.env"])
def test_the_registry_knows_dotenv_file_names(tmp_path: Path, name: str) -> None:
    assert read(tmp_path, "A=1\nB=2\n", name=name).key_names == ("A", "B")


@pytest.mark.parametrize(("text", "code", "line", "words"), [
    ("A=1\nA=2\n", "DC103", 2, "set twice"),
    ("A=1\nBARE\n", "DC102", 2, "no '='"),
    ("'A'=1\n", "DC102", 1, "quoted name"),
    ("A.B=1\n", "DC102", 1, "shell variable name"),
    ("A=1\nB=\"unterminated\n", "DC101", 2, "python-dotenv"),
])
def test_traps_are_refused(tmp_path: Path, text: str, code: str, line: int, words: str) -> None:
    got = read(tmp_path, text)
    assert got.keys is None
    assert [f.code for f in got.findings] == [code]
    assert (got.findings[0].line, words in got.findings[0].message) == (line, True)


def test_a_selector_other_than_dot_is_dc100_saying_what_to_write(tmp_path: Path) -> None:
    got = read(tmp_path, "A=1\n", selector="A")
    assert [f.code for f in got.findings] == ["DC100"]
    assert ".env.example:." in got.findings[0].message


def test_pragmas_above_the_first_variable_attach(tmp_path: Path) -> None:
    got = read(tmp_path, "# header\n\n# driftcheck: allow-missing=X_KEY -- set by CI\nA=1\n")
    assert [(a.key, a.line) for a in got.allowances] == [("X_KEY", 3)]
    got = read(tmp_path, "A=1  # driftcheck: allow-extra=A -- why\nB=2\n")
    assert [(a.key, a.kind, a.line) for a in got.allowances] == [("A", "extra", 1)]
