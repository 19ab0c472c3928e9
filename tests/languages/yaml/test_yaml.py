"""The YAML backend: YAML 1.2 semantics, and every trap refused with the right code and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFiles


def read(tmp_path: Path, text: str, selector: str, name: str = "f.yaml") -> ExtractedList:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return extract_list(parse_list_ref(f"{name}:{selector}", tmp_path), SourceFiles(tmp_path))


WORKFLOW = """\
name: e2e
on:
  push:
    branches: [main]
jobs:
  e2e:
    runs-on: ubuntu-latest
    env:
      ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}
      'GEMINI_API_KEY': x   # trailing comment
      "OPENAI_\\x41PI_KEY": y
      ? MINIMAX_API_KEY
      : z
    steps:
      - run: ./tests/e2e/test_staging_full_saas.sh
"""


def test_a_job_env_gives_its_keys_with_positions(tmp_path: Path) -> None:
    got = read(tmp_path, WORKFLOW, "jobs.e2e.env")
    assert got.findings == ()
    assert [(k.key, k.line, k.column) for k in got.keys or ()] == [
        ("ANTHROPIC_API_KEY", 9, 7), ("GEMINI_API_KEY", 10, 7), ("OPENAI_API_KEY", 11, 7), ("MINIMAX_API_KEY", 12, 9)]
    assert got.definition is not None and got.definition.line == 8


def test_on_is_the_string_on_in_yaml_1_2(tmp_path: Path) -> None:
    assert read(tmp_path, WORKFLOW, ".").key_names == ("name", "on", "jobs")
    assert read(tmp_path, WORKFLOW, "on.push.branches").key_names == ("main",)


def test_projection_over_a_sequence_of_mappings(tmp_path: Path) -> None:
    assert read(tmp_path, WORKFLOW, "jobs.e2e.steps[].run").key_names == ("./tests/e2e/test_staging_full_saas.sh",)


@pytest.mark.parametrize(("text", "keys"), [
    ("L: [a, 'b''c', \"d\\te\", \"\\u00e9\\U0001F600\"]\n", ("a", "b'c", "d\te", "é😀")),
    ("L: [\"\\ud83d\\ude00\"]\n", ("😀",)),  # a UTF-16 pair, as JavaScript joins it
    ("L:\n  - plain\n    folded\n  - 'single\n\n    two'\n", ("plain folded", "single\ntwo")),
    ("L:\n  - |\n    lit\n    eral\n  - >-\n    fo\n    lded\n  - |+\n    keep\n\n", ("lit\neral\n", "fo lded", "keep\n\n")),
    ("L: {a: 1, b, \"c\": [x]}\n", ("a", "b", "c")),
    ("L:\n  !!str 1: x\n  '2': y\n", ("1", "2")),
    ("L: [!!str true, 'on', off, yes]\n", ("true", "on", "off", "yes")),
])
def test_scalars_and_collections_read_as_a_yaml_1_2_loader(tmp_path: Path, text: str, keys: tuple[str, ...]) -> None:
    got = read(tmp_path, text, "L")
    assert got.findings == ()
    assert got.key_names == keys


@pytest.mark.parametrize(("text", "code", "line", "words"), [
    ("base: &b {A: 1}\nL:\n  <<: *b\n  B: 2\n", "DC102", 3, "merge key"),
    ("L: &anchor\n  A: 1\n", "DC102", 1, "anchor"),
    ("X: &x [A]\nL:\n  - *x\n", "DC102", 3, "alias"),
    ("L:\n  - *nowhere\n", "DC101", 2, "names no anchor"),
    ("L: !foo\n  A: 1\n", "DC102", 1, "tag"),
    ("L: [!custom A, B]\n", "DC102", 1, "tag"),
    ("L:\n  A: 1\n  A: 2\n", "DC103", 3, "twice"),
    ("other:\n  x: 1\n  x: 2\nL: [A]\n", "DC103", 3, "twice"),
    ("L:\n  true: 1\n", "DC102", 2, "boolean"),
    ("L:\n  1: x\n", "DC102", 2, "integer"),
    ("L:\n  ~: x\n", "DC102", 2, "null"),
    ("L: [1, A]\n", "DC102", 1, "not a string"),
    ("L: [A, null]\n", "DC102", 1, "not a string"),
    ("L: [A]\n---\nL: [B]\n", "DC103", 3, "documents"),
    ("%YAML 1.1\n---\nL: [A]\n", "DC102", 1, "1.1"),
    ("L: [\"\\ud800\"]\n", "DC102", 1, "surrogate"),
    ("L: 5\n", "DC102", 1, "not a mapping or a sequence"),
])
def test_traps_are_refused(tmp_path: Path, text: str, code: str, line: int, words: str) -> None:
    got = read(tmp_path, text, "L")
    assert got.keys is None
    assert {f.code for f in got.findings} == {code}, got.findings
    assert got.findings[0].line == line
    assert words in got.findings[0].message


def test_a_refusal_elsewhere_in_the_file_does_not_refuse_this_list(tmp_path: Path) -> None:
    text = "x-common: &common {A: 1}\nservices:\n  api:\n    <<: *common\n  db:\n    environment: [K1, K2]\n"
    assert read(tmp_path, text, "services.db.environment").key_names == ("K1", "K2")
    assert read(tmp_path, text, "services.api").keys is None


def test_a_syntax_error_is_dc101_confirmed_by_a_loader(tmp_path: Path) -> None:
    got = read(tmp_path, "L: [A, B\nM: 1\n", "L")
    assert [f.code for f in got.findings] == ["DC101"]
    assert "loader" in got.findings[0].message


def test_not_found_names_the_closest_key(tmp_path: Path) -> None:
    got = read(tmp_path, WORKFLOW, "jobs.e2e.envs")
    assert [f.code for f in got.findings] == ["DC100"]
    assert "'env'" in got.findings[0].message


def test_pragmas_in_comments_attach_to_the_key_they_sit_above(tmp_path: Path) -> None:
    text = "jobs:\n  e2e:\n    # driftcheck: allow-missing=X_KEY -- set by the runner\n    env:\n      A: 1\n"
    got = read(tmp_path, text, "jobs.e2e.env")
    assert [(a.key, a.kind, a.line) for a in got.allowances] == [("X_KEY", "missing", 3)]
    got = read(tmp_path, text.replace("    env:\n", "    env:  # driftcheck: allow-extra=A -- why\n")
               .replace("    # driftcheck: allow-missing=X_KEY -- set by the runner\n", ""), "jobs.e2e.env")
    assert [(a.key, a.kind, a.line) for a in got.allowances] == [("A", "extra", 3)]
