"""`fix` on YAML/JSON sequences keeps their style; mappings and dotenv files are refused with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_driftcheck

GO = 'package lists\n\nvar L = []string{"A_KEY", "B_KEY", "C_KEY"}\n'


def fix(tmp_path: Path, name: str, text: str, selector: str) -> tuple[int, str, str]:
    (tmp_path / "s.go").write_text(GO)
    (tmp_path / name).write_text(text)
    run = run_driftcheck("fix", "--root", str(tmp_path), "--source", "s.go:L", "--mirror", f"{name}:{selector}")
    return run.code, (tmp_path / name).read_text(), run.out + run.err


@pytest.mark.parametrize(("text", "expected"), [
    ("x: 1\nL:\n  - A_KEY\n  - OLD_KEY  # gone\n  - C_KEY\nafter: 2\n", "x: 1\nL:\n  - A_KEY\n  - C_KEY\n  - B_KEY\nafter: 2\n"),
    ("L:\n- 'A_KEY'\n- 'C_KEY'\n", "L:\n- 'A_KEY'\n- 'B_KEY'\n- 'C_KEY'\n"),
    ("L: [A_KEY, \"C_KEY\", X_KEY]\n", "L: [A_KEY, B_KEY, \"C_KEY\"]\n"),
    ("jobs:\n  e2e:\n    L: [\"A_KEY\"]  # keys\n", "jobs:\n  e2e:\n    L: [\"A_KEY\", \"B_KEY\", \"C_KEY\"]  # keys\n"),
])
def test_yaml_sequences_are_rewritten_in_their_style(tmp_path: Path, text: str, expected: str) -> None:
    selector = "jobs.e2e.L" if text.startswith("jobs") else "L"
    code, after, out = fix(tmp_path, "m.yaml", text, selector)
    assert (code, after) == (0, expected), out


def test_json_arrays_keep_one_per_line(tmp_path: Path) -> None:
    text = '{\n  "L": [\n    "A_KEY",\n    "OLD_KEY"\n  ],\n  "x": 1\n}\n'
    code, after, out = fix(tmp_path, "m.json", text, "L")
    assert code == 0, out
    assert after == '{\n  "L": [\n    "A_KEY",\n    "B_KEY",\n    "C_KEY"\n  ],\n  "x": 1\n}\n'
    assert json.loads(after)["L"] == ["A_KEY", "B_KEY", "C_KEY"]


@pytest.mark.parametrize(("name", "text", "selector", "words"), [
    ("m.yaml", "L:\n  A_KEY: 1\n", "L", "mapping: fix cannot invent the value"),
    ("m.json", '{"L": {"A_KEY": 1}}', "L", "object: fix cannot invent the value"),
    (".env", "A_KEY=\n", ".", "dotenv file: fix cannot invent"),
])
def test_mappings_objects_and_dotenv_are_refused_with_a_reason(tmp_path: Path, name: str, text: str, selector: str,
                                                               words: str) -> None:
    code, after, out = fix(tmp_path, name, text, selector)
    assert code == 1 and after == text
    assert words in out
