"""The JSON backend: Python's json is the arbiter; duplicates, non-strings and misparses refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFiles


def read(tmp_path: Path, text: str, selector: str) -> ExtractedList:
    (tmp_path / "f.json").write_text(text, encoding="utf-8")
    return extract_list(parse_list_ref(f"f.json:{selector}", tmp_path), SourceFiles(tmp_path))


def test_object_keys_and_array_strings_with_every_escape(tmp_path: Path) -> None:
    text = '{"a": {"K\\u0031": 1, "K\\/2": [], "\\ud83d\\ude00": null}, "b": ["x\\ty", "\\"q\\""]}\n'
    assert read(tmp_path, text, "a").key_names == ("K1", "K/2", "😀")
    assert read(tmp_path, text, "b").key_names == ("x\ty", '"q"')
    assert [(k.line, k.column) for k in read(tmp_path, text, "a").keys or ()] == [(1, 8), (1, 22), (1, 34)]


def test_quoted_selector_steps_reach_keys_with_dots(tmp_path: Path) -> None:
    text = '{"x.y": {"a b": ["K"]}}'
    assert read(tmp_path, text, '."x.y"."a b"').key_names == ("K",)


@pytest.mark.parametrize(("text", "code", "words"), [
    ('{"L": {"A": 1, "A": 2}}', "DC103", "twice"),
    ('{"L": ["A", 1]}', "DC102", "a number"),
    ('{"L": ["A", null]}', "DC102", "null"),
    ('{"L": ["A", ["B"]]}', "DC102", "a sequence"),
    ('{"L": ["A",]}', "DC101", "Python's json"),
    ('{"L": ["A"]} // c', "DC101", "Extra data"),
    ('{"L": ["A"]}\n{"L": ["B"]}', "DC101", "Extra data"),
    ('{"L": ["A"], "n": NaN}', "DC102", "tree-sitter-json"),
    ('{"L": ["\\ud800"]}', "DC102", "surrogate"),
    ('{"L": "A B"}', "DC102", "not a mapping or a sequence"),
])
def test_traps_are_refused(tmp_path: Path, text: str, code: str, words: str) -> None:
    got = read(tmp_path, text, "L")
    assert got.keys is None
    assert {f.code for f in got.findings} == {code}, got.findings
    assert words in got.findings[0].message
