"""`driftcheck fix` on TypeScript/JavaScript mirrors: arrays keep their style; objects and projections are refused.

The source is a Go map; the fixed file must still parse and evaluate (node, TypeScript's type stripping) to
exactly the planned keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftcheck.cli import cli
from .node_oracle import NodeCase

GO_PATH = "server/secrets.go"
GO_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY"]


def make_repo(root: Path, mirror: str, text: str) -> Path:
    (root / "server").mkdir(parents=True)
    entries = "".join(f'\t"{k}": {{}},\n' for k in GO_KEYS)
    (root / GO_PATH).write_text(f"package handlers\n\nvar keys = map[string]struct{{}}{{\n{entries}}}\n")
    (root / mirror).parent.mkdir(parents=True, exist_ok=True)
    (root / mirror).write_text(text)
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


CASES = {
    "one-per-line, trailing comma, single quotes": (
        "export const KEYS: readonly string[] = [\n  'ANTHROPIC_API_KEY',\n  'OLD_KEY',\n  'OPENAI_API_KEY',\n"
        "  'GEMINI_API_KEY',\n] as const;\n",
        "export const KEYS: readonly string[] = [\n  'ANTHROPIC_API_KEY',\n  'OPENAI_API_KEY',\n"
        "  'GEMINI_API_KEY',\n  'XAI_API_KEY',\n] as const;\n"),
    "inline, double quotes, frozen": (
        'export const KEYS = Object.freeze(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"]);\n',
        'export const KEYS = Object.freeze(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "XAI_API_KEY"]);\n'),
    "a Set": (
        'const KEYS = new Set([`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `GEMINI_API_KEY`, `XAI_API_KEY`, `X`]);\n',
        'const KEYS = new Set([`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `GEMINI_API_KEY`, `XAI_API_KEY`]);\n'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_arrays_are_rewritten_in_their_own_style(tmp_path: Path, node_ts: Any, name: str) -> None:
    before, after = CASES[name]
    root = make_repo(tmp_path, "ui/lists.ts", before)
    code, _, err = run("fix", "--root", str(root), "--source", f"{GO_PATH}:keys", "--mirror", "ui/lists.ts:KEYS")
    assert code == 0, err
    assert (root / "ui/lists.ts").read_text() == after
    [verdict] = node_ts.evaluate([NodeCase("lists.ts", after, "KEYS")])
    assert sorted(verdict["keys"]) == sorted(GO_KEYS)
    code, _, err = run("check", "--root", str(root), "--source", f"{GO_PATH}:keys", "--mirror", "ui/lists.ts:KEYS")
    assert code == 0, err


@pytest.mark.parametrize(("text", "selector", "reason"), [
    ('export const KEYS: Record<string, string> = { ANTHROPIC_API_KEY: "a" };\n', "KEYS", "cannot invent"),
    ('export const P = [{ envVar: "ANTHROPIC_API_KEY" }];\n', "P[].envVar", "cannot invent"),
    ('const O = "OPENAI_API_KEY";\nexport const KEYS = ["ANTHROPIC_API_KEY", O];\n', "KEYS", "not a string literal"),
    ('export const KEYS = [\n  "ANTHROPIC_API_KEY", // first\n  "OPENAI_API_KEY",\n];\n', "KEYS", "comments"),
])
def test_refused_forms_are_left_untouched(tmp_path: Path, text: str, selector: str, reason: str) -> None:
    root = make_repo(tmp_path, "ui/lists.ts", text)
    code, out, err = run("fix", "--root", str(root), "--source", f"{GO_PATH}:keys", "--mirror",
                         f"ui/lists.ts:{selector}")
    assert code == 1 and reason in err, err
    assert (root / "ui/lists.ts").read_text() == text
