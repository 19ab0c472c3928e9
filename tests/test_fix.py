"""`driftcheck fix`: every supported list form round-trips (drifted → fixed → check exits 0),
only the value's bytes change, the result still parses (bash -n, py_compile) and evaluates to the
planned keys; refused forms are never touched; --diff writes nothing.
"""

from __future__ import annotations

import os
import py_compile
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.cli import cli
from repogen import CANONICAL_KEYS

GO_PATH = "workspace-server/internal/handlers/secrets.go"
SH_PATH = "tests/e2e/test_staging_full_saas.sh"
PY_PATH = "tests/e2e/helpers/byok.py"
SOURCE = f"{GO_PATH}:platformManagedDirectLLMBypassKeys"
PY_MIRROR = f"{PY_PATH}:STRIP_KEYS"
SH_MIRROR = f"{SH_PATH}:BYOK_STRIP_KEYS"
PY_ARGS = ("--source", SOURCE, "--mirror", PY_MIRROR)

CANONICAL = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py

# The source for most layout cases (Go order, not sorted). Mirrors in "unsorted" cases hold
# A O OLD G M (OLD_KEY extra, XAI missing) and become A O G M X; "sorted" cases hold A G M OLD X
# (OPENAI missing) and become A G M OPENAI X.
GO_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "XAI_API_KEY"]
UNSORTED_BEFORE = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLD_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY"]
UNSORTED_AFTER = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "XAI_API_KEY"]
SORTED_BEFORE = ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "OLD_KEY", "XAI_API_KEY"]
SORTED_AFTER = ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"]

SH_PREFIX = ("#!/usr/bin/env bash\n"
             "# Staging harness (test copy).\n"
             "set -euo pipefail\n"
             "\n"
             "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n")
SH_SUFFIX = ("\n"
             "\n"
             "log() { printf '[e2e] %s\\n' \"$*\" >&2; }\n"
             "# (BYOK_STRIP_KEYS=\"OLD_KEY\" in this comment is documentation, not a definition.)\n")
PY_PREFIX = '"""Helpers for the byok e2e tests."""\n\nimport os\n\n# Keep in sync with secrets.go.\n'
PY_SUFFIX = "\n\n\ndef strip(env):\n    return {k: v for k, v in env.items() if k not in STRIP_KEYS}\n"


def go_source(keys: list[str]) -> str:
    """secrets.go as gofmt writes it: a map[string]struct{} with aligned values."""
    width = max(len(k) for k in keys) + 3
    entries = "".join(f'\t{(chr(34) + k + chr(34) + ":").ljust(width)} {{}},\n' for k in keys)
    return ("package handlers\n\n"
            "// platformManagedDirectLLMBypassKeys are the vendor keys a platform-managed workspace may not set.\n"
            f"var platformManagedDirectLLMBypassKeys = map[string]struct{{}}{{\n{entries}}}\n")


def make_repo(root: Path, files: dict[str, str | bytes], go_keys: list[str] = GO_KEYS) -> Path:
    (root / GO_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / GO_PATH).write_text(go_source(go_keys))
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def bash_n(path: Path) -> None:
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def bash_keys(path: Path, symbol: str, array: bool) -> list[str]:
    """What bash itself makes of the list: source the definition, print each key on its own line."""
    expand = f'"${{{symbol}[@]}}"' if array else f"${symbol}"
    script = f'set -f; . "$1" >/dev/null; for k in {expand}; do printf "%s\\n" "$k"; done'
    proc = subprocess.run(["bash", "-c", script, "bash", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("\n")[:-1]


def python_keys(path: Path, symbol: str) -> list[str]:
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # test fixtures written above
    value = namespace[symbol]
    return list(value)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- bash forms

def sh_case(before: str, after: str, keys_after: list[str] = UNSORTED_AFTER, array: bool = False):
    return (before, after, keys_after, array)


SH_CASES = {
    "string-one-line": sh_case(
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY"',
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY"'),
    "string-single-quoted": sh_case(
        "BYOK_STRIP_KEYS='ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY'",
        "BYOK_STRIP_KEYS='ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY'"),
    "string-ansi-c-spaces": sh_case(
        "BYOK_STRIP_KEYS=$'ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY'",
        "BYOK_STRIP_KEYS=$'ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY'"),
    "string-ansi-c-newline-escapes": sh_case(
        "BYOK_STRIP_KEYS=$'ANTHROPIC_API_KEY\\nOPENAI_API_KEY\\nOLD_KEY\\nGEMINI_API_KEY\\nMINIMAX_API_KEY'",
        "BYOK_STRIP_KEYS=$'ANTHROPIC_API_KEY\\nOPENAI_API_KEY\\nGEMINI_API_KEY\\nMINIMAX_API_KEY\\nXAI_API_KEY'"),
    "string-continuations-as-in-the-harness": sh_case(
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY \\\nOPENAI_API_KEY \\\nOLD_KEY \\\nGEMINI_API_KEY \\\nMINIMAX_API_KEY"',
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY \\\nOPENAI_API_KEY \\\nGEMINI_API_KEY \\\nMINIMAX_API_KEY \\\n'
        'XAI_API_KEY"'),
    "string-continuations-indented-closing-quote-alone": sh_case(
        'BYOK_STRIP_KEYS="\\\n  ANTHROPIC_API_KEY \\\n  OPENAI_API_KEY \\\n  OLD_KEY \\\n  GEMINI_API_KEY \\\n'
        '  MINIMAX_API_KEY \\\n"',
        'BYOK_STRIP_KEYS="\\\n  ANTHROPIC_API_KEY \\\n  OPENAI_API_KEY \\\n  GEMINI_API_KEY \\\n'
        '  MINIMAX_API_KEY \\\n  XAI_API_KEY \\\n"'),
    "string-plain-newlines": sh_case(
        'BYOK_STRIP_KEYS="\n    ANTHROPIC_API_KEY\n    OPENAI_API_KEY\n    OLD_KEY\n    GEMINI_API_KEY\n'
        '    MINIMAX_API_KEY\n"',
        'BYOK_STRIP_KEYS="\n    ANTHROPIC_API_KEY\n    OPENAI_API_KEY\n    GEMINI_API_KEY\n    MINIMAX_API_KEY\n'
        '    XAI_API_KEY\n"'),
    "string-sorted-one-per-line": sh_case(
        'BYOK_STRIP_KEYS="\\\n  ANTHROPIC_API_KEY \\\n  GEMINI_API_KEY \\\n  MINIMAX_API_KEY \\\n  OLD_KEY \\\n'
        '  XAI_API_KEY"',
        'BYOK_STRIP_KEYS="\\\n  ANTHROPIC_API_KEY \\\n  GEMINI_API_KEY \\\n  MINIMAX_API_KEY \\\n'
        '  OPENAI_API_KEY \\\n  XAI_API_KEY"', SORTED_AFTER),
    "string-sorted-one-line": sh_case(
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY GEMINI_API_KEY MINIMAX_API_KEY OLD_KEY XAI_API_KEY"',
        'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY GEMINI_API_KEY MINIMAX_API_KEY OPENAI_API_KEY XAI_API_KEY"',
        SORTED_AFTER),
    "declare-r": sh_case(
        'declare -r BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY"',
        'declare -r BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY"'),
    "readonly": sh_case(
        'readonly BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY"',
        'readonly BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY"'),
    "export": sh_case(
        "export BYOK_STRIP_KEYS='ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY'",
        "export BYOK_STRIP_KEYS='ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY'"),
    "declare-rx-continuations": sh_case(
        'declare -rx BYOK_STRIP_KEYS="ANTHROPIC_API_KEY \\\n  OPENAI_API_KEY \\\n  OLD_KEY \\\n  GEMINI_API_KEY \\\n'
        '  MINIMAX_API_KEY"',
        'declare -rx BYOK_STRIP_KEYS="ANTHROPIC_API_KEY \\\n  OPENAI_API_KEY \\\n  GEMINI_API_KEY \\\n'
        '  MINIMAX_API_KEY \\\n  XAI_API_KEY"'),
    "array-one-line": sh_case(
        "BYOK_STRIP_KEYS=(ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY)",
        "BYOK_STRIP_KEYS=(ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY)",
        array=True),
    "array-one-line-double-quoted": sh_case(
        'BYOK_STRIP_KEYS=( "ANTHROPIC_API_KEY" "OPENAI_API_KEY" "OLD_KEY" "GEMINI_API_KEY" "MINIMAX_API_KEY" )',
        'BYOK_STRIP_KEYS=( "ANTHROPIC_API_KEY" "OPENAI_API_KEY" "GEMINI_API_KEY" "MINIMAX_API_KEY" "XAI_API_KEY" )',
        array=True),
    "array-one-per-line-with-comments": sh_case(
        "BYOK_STRIP_KEYS=(  # vendor keys the server refuses at create\n"
        "  ANTHROPIC_API_KEY   # Claude\n"
        "  OPENAI_API_KEY\n"
        "  OLD_KEY             # retired\n"
        "  # Google\n"
        "  GEMINI_API_KEY\n"
        "  MINIMAX_API_KEY\n"
        ")",
        "BYOK_STRIP_KEYS=(  # vendor keys the server refuses at create\n"
        "  ANTHROPIC_API_KEY   # Claude\n"
        "  OPENAI_API_KEY\n"
        "  # Google\n"
        "  GEMINI_API_KEY\n"
        "  MINIMAX_API_KEY\n"
        "  XAI_API_KEY\n"
        ")", array=True),
    "declare-a-array-single-quoted-sorted": sh_case(
        "declare -a BYOK_STRIP_KEYS=(\n"
        "    'ANTHROPIC_API_KEY'\n    'GEMINI_API_KEY'\n    'MINIMAX_API_KEY'\n    'OLD_KEY'\n    'XAI_API_KEY'\n)",
        "declare -a BYOK_STRIP_KEYS=(\n"
        "    'ANTHROPIC_API_KEY'\n    'GEMINI_API_KEY'\n    'MINIMAX_API_KEY'\n    'OPENAI_API_KEY'\n"
        "    'XAI_API_KEY'\n)", SORTED_AFTER, array=True),
    "array-last-element-on-closing-line": sh_case(
        "BYOK_STRIP_KEYS=(\n  ANTHROPIC_API_KEY\n  OPENAI_API_KEY\n  OLD_KEY\n  GEMINI_API_KEY\n  MINIMAX_API_KEY)",
        "BYOK_STRIP_KEYS=(\n  ANTHROPIC_API_KEY\n  OPENAI_API_KEY\n  GEMINI_API_KEY\n  MINIMAX_API_KEY\n"
        "  XAI_API_KEY)", array=True),
}


@pytest.mark.parametrize("name", list(SH_CASES))
def test_bash_forms_round_trip(tmp_path: Path, name: str) -> None:
    before, after, keys_after, array = SH_CASES[name]
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + before + SH_SUFFIX})
    assert run("check", "--root", str(root))[0] == 1
    code, out, err = run("fix", "--root", str(root))
    assert (code, err) == (0, ""), err
    added = [k for k in keys_after if k not in before]
    removed = [k for k in ("OLD_KEY",) if k not in keys_after]
    changes = " ".join(["+" + k for k in added] + ["-" + k for k in removed])
    assert out == f"fixed {SH_PATH}: BYOK_STRIP_KEYS {changes}\n"
    path = root / SH_PATH
    # Byte level: exactly the prefix and suffix around the new value.
    assert path.read_bytes() == (SH_PREFIX + after + SH_SUFFIX).encode()
    assert run("check", "--root", str(root))[0] == 0
    bash_n(path)
    assert bash_keys(path, "BYOK_STRIP_KEYS", array) == keys_after
    assert run("fix", "--root", str(root)) == (0, "nothing to fix: every contract is in sync\n", "")


def test_bash_full_canonical_harness_gets_new_go_key(tmp_path: Path) -> None:
    """The real layout: 23 keys, one per line with continuations; Go gains XAI and drops DASHSCOPE."""
    value = 'BYOK_STRIP_KEYS="' + " \\\n".join(CANONICAL) + '"'
    go_keys = [k for k in CANONICAL if k != "DASHSCOPE_API_KEY"] + ["XAI_API_KEY"]
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX}, go_keys)
    code, out, err = run("fix", "--root", str(root))
    assert (code, out, err) == (0, f"fixed {SH_PATH}: BYOK_STRIP_KEYS +XAI_API_KEY -DASHSCOPE_API_KEY\n", "")
    expected = 'BYOK_STRIP_KEYS="' + " \\\n".join(go_keys) + '"'
    assert (root / SH_PATH).read_bytes() == (SH_PREFIX + expected + SH_SUFFIX).encode()
    assert bash_keys(root / SH_PATH, "BYOK_STRIP_KEYS", False) == go_keys
    assert run("check", "--root", str(root))[0] == 0


def test_bash_single_word_becomes_a_string_only_when_needed(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + "BYOK_STRIP_KEYS=OLD_KEY" + SH_SUFFIX},
                     ["ANTHROPIC_API_KEY", "GEMINI_API_KEY"])
    assert run("fix", "--root", str(root))[0] == 0
    assert (root / SH_PATH).read_text() == SH_PREFIX + 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY GEMINI_API_KEY"' + SH_SUFFIX
    root2 = make_repo(tmp_path / "one", {SH_PATH: SH_PREFIX + "BYOK_STRIP_KEYS=OLD_KEY" + SH_SUFFIX},
                      ["ANTHROPIC_API_KEY"])
    assert run("fix", "--root", str(root2))[0] == 0
    assert (root2 / SH_PATH).read_text() == SH_PREFIX + "BYOK_STRIP_KEYS=ANTHROPIC_API_KEY" + SH_SUFFIX


@pytest.mark.parametrize("before, after", [
    ("BYOK_STRIP_KEYS=", 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY"'),
    ('BYOK_STRIP_KEYS=""', 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY"'),
    ("BYOK_STRIP_KEYS=()", "BYOK_STRIP_KEYS=(ANTHROPIC_API_KEY OPENAI_API_KEY)"),
])
def test_bash_empty_values_are_filled(tmp_path: Path, before: str, after: str) -> None:
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + before + SH_SUFFIX}, GO_KEYS[:2])
    assert run("fix", "--root", str(root)) == (
        0, f"fixed {SH_PATH}: BYOK_STRIP_KEYS +ANTHROPIC_API_KEY +OPENAI_API_KEY\n", "")
    assert (root / SH_PATH).read_text() == SH_PREFIX + after + SH_SUFFIX
    assert bash_keys(root / SH_PATH, "BYOK_STRIP_KEYS", "(" in after) == GO_KEYS[:2]


# --------------------------------------------------------------------------- Python forms

PY_CASES = {
    "list-one-line": (
        'STRIP_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLD_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY"]',
        'STRIP_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "XAI_API_KEY"]',
        UNSORTED_AFTER),
    "tuple-single-quotes": (
        "STRIP_KEYS = ('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OLD_KEY', 'GEMINI_API_KEY', 'MINIMAX_API_KEY')",
        "STRIP_KEYS = ('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'MINIMAX_API_KEY', 'XAI_API_KEY')",
        UNSORTED_AFTER),
    "tuple-without-parentheses": (
        'STRIP_KEYS = "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OLD_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY"',
        'STRIP_KEYS = "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "XAI_API_KEY"',
        UNSORTED_AFTER),
    "set-sorted": (
        'STRIP_KEYS = {"ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "OLD_KEY", "XAI_API_KEY"}',
        'STRIP_KEYS = {"ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"}',
        SORTED_AFTER),
    "frozenset-of-set-one-per-line-comments": (
        "STRIP_KEYS = frozenset({\n"
        '    "ANTHROPIC_API_KEY",  # Claude\n'
        '    "OPENAI_API_KEY",\n'
        '    "OLD_KEY",  # retired in 2024\n'
        "    # Google\n"
        '    "GEMINI_API_KEY",\n'
        '    "MINIMAX_API_KEY",\n'
        "})",
        "STRIP_KEYS = frozenset({\n"
        '    "ANTHROPIC_API_KEY",  # Claude\n'
        '    "OPENAI_API_KEY",\n'
        "    # Google\n"
        '    "GEMINI_API_KEY",\n'
        '    "MINIMAX_API_KEY",\n'
        '    "XAI_API_KEY",\n'
        "})", UNSORTED_AFTER),
    "frozenset-of-list-sorted-no-trailing-comma": (
        'STRIP_KEYS = frozenset([\n    "ANTHROPIC_API_KEY",\n    "GEMINI_API_KEY",\n    "MINIMAX_API_KEY",\n'
        '    "OLD_KEY",\n    "XAI_API_KEY"\n])',
        'STRIP_KEYS = frozenset([\n    "ANTHROPIC_API_KEY",\n    "GEMINI_API_KEY",\n    "MINIMAX_API_KEY",\n'
        '    "OPENAI_API_KEY",\n    "XAI_API_KEY"\n])', SORTED_AFTER),
    "set-call-of-tuple": (
        "STRIP_KEYS = set(('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OLD_KEY', 'GEMINI_API_KEY', 'MINIMAX_API_KEY'))",
        "STRIP_KEYS = set(('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'MINIMAX_API_KEY', 'XAI_API_KEY'))",
        UNSORTED_AFTER),
    "dict-one-per-line": (
        'STRIP_KEYS = {\n    "ANTHROPIC_API_KEY": True,\n    "OPENAI_API_KEY": True,\n    "OLD_KEY": True,\n'
        '    "GEMINI_API_KEY": True,\n    "MINIMAX_API_KEY": True,\n}',
        'STRIP_KEYS = {\n    "ANTHROPIC_API_KEY": True,\n    "OPENAI_API_KEY": True,\n    "GEMINI_API_KEY": True,\n'
        '    "MINIMAX_API_KEY": True,\n    "XAI_API_KEY": True,\n}', UNSORTED_AFTER),
    "split-one-line": (
        'STRIP_KEYS = "ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY GEMINI_API_KEY MINIMAX_API_KEY".split()',
        'STRIP_KEYS = "ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY MINIMAX_API_KEY XAI_API_KEY".split()',
        UNSORTED_AFTER),
    "split-triple-quoted-one-per-line": (
        'STRIP_KEYS = """\n    ANTHROPIC_API_KEY\n    OPENAI_API_KEY\n    OLD_KEY\n    GEMINI_API_KEY\n'
        '    MINIMAX_API_KEY\n""".split()',
        'STRIP_KEYS = """\n    ANTHROPIC_API_KEY\n    OPENAI_API_KEY\n    GEMINI_API_KEY\n    MINIMAX_API_KEY\n'
        '    XAI_API_KEY\n""".split()', UNSORTED_AFTER),
    "split-on-comma": (
        "STRIP_KEYS = 'ANTHROPIC_API_KEY,OPENAI_API_KEY,OLD_KEY,GEMINI_API_KEY,MINIMAX_API_KEY'.split(',')",
        "STRIP_KEYS = 'ANTHROPIC_API_KEY,OPENAI_API_KEY,GEMINI_API_KEY,MINIMAX_API_KEY,XAI_API_KEY'.split(',')",
        UNSORTED_AFTER),
    "annotated-tuple-one-per-line": (
        'STRIP_KEYS: tuple[str, ...] = (\n    "ANTHROPIC_API_KEY",\n    "OPENAI_API_KEY",\n    "OLD_KEY",\n'
        '    "GEMINI_API_KEY",\n    "MINIMAX_API_KEY",\n)',
        'STRIP_KEYS: tuple[str, ...] = (\n    "ANTHROPIC_API_KEY",\n    "OPENAI_API_KEY",\n    "GEMINI_API_KEY",\n'
        '    "MINIMAX_API_KEY",\n    "XAI_API_KEY",\n)', UNSORTED_AFTER),
    "list-first-key-removed-and-new-first-key-sorted": (
        'STRIP_KEYS = [\n    "AAA_OLD_KEY",\n    "ANTHROPIC_API_KEY",\n    "GEMINI_API_KEY",\n    "OPENAI_API_KEY",\n'
        '    "XAI_API_KEY",\n]',
        'STRIP_KEYS = [\n    "ANTHROPIC_API_KEY",\n    "GEMINI_API_KEY",\n    "MINIMAX_API_KEY",\n'
        '    "OPENAI_API_KEY",\n    "XAI_API_KEY",\n]',
        ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"]),
}


@pytest.mark.parametrize("name", list(PY_CASES))
def test_python_forms_round_trip(tmp_path: Path, name: str) -> None:
    before, after, keys_after = PY_CASES[name]
    root = make_repo(tmp_path, {PY_PATH: PY_PREFIX + before + PY_SUFFIX})
    assert run("check", "--root", str(root), *PY_ARGS)[0] == 1
    code, out, err = run("fix", "--root", str(root), *PY_ARGS)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"fixed {PY_PATH}: STRIP_KEYS +")
    path = root / PY_PATH
    assert path.read_bytes() == (PY_PREFIX + after + PY_SUFFIX).encode()
    assert run("check", "--root", str(root), *PY_ARGS)[0] == 0
    py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)
    got = python_keys(path, "STRIP_KEYS")
    assert (sorted(got) if "set" in name else got) == (sorted(keys_after) if "set" in name else keys_after)


def test_python_tuple_shrinking_to_one_key_keeps_its_comma(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {PY_PATH: PY_PREFIX + 'STRIP_KEYS = ("ANTHROPIC_API_KEY", "OLD_KEY")' + PY_SUFFIX},
                     ["ANTHROPIC_API_KEY"])
    assert run("fix", "--root", str(root), *PY_ARGS)[0] == 0
    assert (root / PY_PATH).read_text() == PY_PREFIX + 'STRIP_KEYS = ("ANTHROPIC_API_KEY",)' + PY_SUFFIX
    assert python_keys(root / PY_PATH, "STRIP_KEYS") == ["ANTHROPIC_API_KEY"]


def test_python_dict_with_different_values_only_refuses_additions(tmp_path: Path) -> None:
    value = '{\n    "ANTHROPIC_API_KEY": "claude",\n    "OLD_KEY": "gone",\n    "OPENAI_API_KEY": "gpt",\n}'
    root = make_repo(tmp_path, {PY_PATH: PY_PREFIX + "STRIP_KEYS = " + value + PY_SUFFIX},
                     ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"])
    assert run("fix", "--root", str(root), *PY_ARGS) == (0, f"fixed {PY_PATH}: STRIP_KEYS -OLD_KEY\n", "")
    assert "OLD_KEY" not in (root / PY_PATH).read_text()
    root2 = make_repo(tmp_path / "add", {PY_PATH: PY_PREFIX + "STRIP_KEYS = " + value + PY_SUFFIX},
                      ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"])
    original = (root2 / PY_PATH).read_bytes()
    code, out, err = run("fix", "--root", str(root2), *PY_ARGS)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (f"{PY_PATH}:6:1: cannot rewrite STRIP_KEYS automatically: its values differ, so "
                                   "fix cannot tell which value XAI_API_KEY should get; edit it by hand")
    assert (root2 / PY_PATH).read_bytes() == original


# --------------------------------------------------------------------------- refusals never touch the file

REFUSALS = {
    "bash-appends": (
        SH_PATH, 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY"\nBYOK_STRIP_KEYS+=" GEMINI_API_KEY"', (),
        f"{SH_PATH}:7:1: cannot rewrite BYOK_STRIP_KEYS automatically: it is built with += appends (line 7); "
        "edit it by hand", 1),
    "bash-expansion": (
        SH_PATH, 'BASE_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY"\nBYOK_STRIP_KEYS="$BASE_KEYS GEMINI_API_KEY"', (),
        f"{SH_PATH}:7:18: cannot rewrite BYOK_STRIP_KEYS automatically: it is built from $BASE_KEYS (a variable "
        "expansion); edit it by hand", 1),
    "bash-concatenation": (
        SH_PATH, "BYOK_STRIP_KEYS=\"ANTHROPIC_API_KEY OPENAI_API_KEY \"'GEMINI_API_KEY'", (),
        f"{SH_PATH}:6:17: cannot rewrite BYOK_STRIP_KEYS automatically: its value \"ANTHROPIC_API_KEY OPENAI_A... "
        "is a concatenation of several parts; edit it by hand", 1),
    "bash-array-element-expansion": (
        SH_PATH, 'BASE=ANTHROPIC_API_KEY\nBYOK_STRIP_KEYS=("$BASE" OPENAI_API_KEY)', (),
        f"{SH_PATH}:7:19: cannot rewrite BYOK_STRIP_KEYS automatically: it is built from $BASE (a variable "
        "expansion); edit it by hand", 1),
    "bash-comment-above-removed-key": (
        SH_PATH, "BYOK_STRIP_KEYS=(\n  ANTHROPIC_API_KEY\n  # retired, keep for old workspaces\n  OLD_KEY\n"
                 "  OPENAI_API_KEY\n  GEMINI_API_KEY\n  MINIMAX_API_KEY\n  XAI_API_KEY\n)", (),
        f"{SH_PATH}:6:1: cannot rewrite BYOK_STRIP_KEYS automatically: a comment above OLD_KEY would lose its key; "
        "edit it by hand", 1),
    "bash-syntax-error": (
        SH_PATH, 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY\nif then fi (', (), None, 2),
    "python-plus": (
        PY_PATH, 'STRIP_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"] + ["GEMINI_API_KEY"]', PY_ARGS,
        f"{PY_PATH}:6:14: cannot rewrite STRIP_KEYS automatically: it is built by combining values with +; "
        "edit it by hand", 1),
    "python-appends": (
        PY_PATH, 'STRIP_KEYS = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]\nSTRIP_KEYS += ["GEMINI_API_KEY"]', PY_ARGS,
        f"{PY_PATH}:6:1: cannot rewrite STRIP_KEYS automatically: it is built with += appends (line 7); "
        "edit it by hand", 1),
    "python-constant-element": (
        PY_PATH, 'OPENAI = "OPENAI_API_KEY"\nSTRIP_KEYS = ["ANTHROPIC_API_KEY", OPENAI]', PY_ARGS,
        f"{PY_PATH}:7:36: cannot rewrite STRIP_KEYS automatically: an element refers to a constant (OPENAI); "
        "edit it by hand", 1),
    "python-syntax-error": (
        PY_PATH, 'STRIP_KEYS = ["ANTHROPIC_API_KEY",', PY_ARGS, None, 2),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_leave_the_file_untouched(tmp_path: Path, name: str) -> None:
    rel, value, args, message, code = REFUSALS[name]
    prefix, suffix = (SH_PREFIX, SH_SUFFIX) if rel == SH_PATH else (PY_PREFIX, PY_SUFFIX)
    root = make_repo(tmp_path, {rel: prefix + value + suffix})
    original = (root / rel).read_bytes()
    before = (root / rel).stat()
    for extra in ((), ("--diff",)):
        got, out, err = run("fix", "--root", str(root), *args, *extra)
        assert got == code, err
        assert out == ""
        if message is not None:
            assert err.splitlines()[0] == message
        else:
            assert "cannot rewrite" not in err and (" DC101 " in err)
        assert (root / rel).read_bytes() == original
        assert (root / rel).stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in (root / rel).parent.iterdir() if p.name.startswith(".")) == []


def test_go_mirror_is_refused(tmp_path: Path) -> None:
    other = "workspace-server/internal/handlers/copy.go"
    root = make_repo(tmp_path, {other: go_source(GO_KEYS[:3]).replace("platformManagedDirectLLMBypassKeys",
                                                                       "copyKeys")})
    original = (root / other).read_bytes()
    code, out, err = run("fix", "--root", str(root), "--source", SOURCE, "--mirror", f"{other}:copyKeys")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (f"{other}:4:5: cannot rewrite copyKeys automatically: fix does not rewrite Go "
                                   "lists yet (Go is normally the source of record); edit it by hand")
    assert (root / other).read_bytes() == original


def test_broken_source_means_no_mirror_is_rewritten(tmp_path: Path) -> None:
    value = 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OLD_KEY"'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX})
    (root / GO_PATH).write_text("package handlers\n\nvar platformManagedDirectLLMBypassKeys = map[string]struct{}{\n")
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (2, "")
    assert " DC101 " in err and "cannot rewrite" not in err
    assert (root / SH_PATH).read_text() == SH_PREFIX + value + SH_SUFFIX


def test_unsafe_source_key_is_refused(tmp_path: Path) -> None:
    value = 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY"'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX}, ["ANTHROPIC_API_KEY", "BAD KEY$"])
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert "cannot rewrite BYOK_STRIP_KEYS automatically: key 'BAD KEY$' cannot be written safely" in err
    assert (root / SH_PATH).read_text() == SH_PREFIX + value + SH_SUFFIX


def test_fix_will_not_empty_a_list(tmp_path: Path) -> None:
    value = 'BYOK_STRIP_KEYS="OLD_KEY"'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX,
                                "driftcheck.toml": _config(mirror=SH_MIRROR, relation="subset")})
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert err.startswith(f"{SH_PATH}:6:1: cannot rewrite BYOK_STRIP_KEYS automatically: the fixed list would "
                          "be empty")


# --------------------------------------------------------------------------- exceptions, order, duplicates

def _config(mirror: str, relation: str = "equal", order: str = "any", allow: str = "", name: str = "byok",
            source: str = SOURCE) -> str:
    text = (f'[[contract]]\nname = "{name}"\nsource = "{source}"\n'
            f'mirrors = [{{ ref = "{mirror}", relation = "{relation}" }}]\norder = "{order}"\n')
    if allow:
        text += f"[contract.allow]\n{allow}\n"
    return text


def test_exceptions_are_honoured(tmp_path: Path) -> None:
    # MINIMAX may be missing (pragma), LOCAL_ONLY_KEY may be extra (configuration).
    value = ("# driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time as the byok signal\n"
             'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY LOCAL_ONLY_KEY OLD_KEY GEMINI_API_KEY"')
    config = _config(SH_MIRROR, allow='extra.LOCAL_ONLY_KEY = "only the local platform blocks it"')
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX, "driftcheck.toml": config})
    code, out, err = run("fix", "--root", str(root))
    assert (code, err) == (0, "")
    assert out == f"fixed {SH_PATH}: BYOK_STRIP_KEYS +OPENAI_API_KEY +XAI_API_KEY -OLD_KEY\n"
    fixed = value.replace(" OLD_KEY GEMINI_API_KEY", " GEMINI_API_KEY OPENAI_API_KEY XAI_API_KEY")
    assert (root / SH_PATH).read_text() == SH_PREFIX + fixed + SH_SUFFIX
    assert run("check", "--root", str(root))[0] == 0


def test_stale_exception_is_left_for_a_human(tmp_path: Path) -> None:
    value = ("# driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time\n"
             'BYOK_STRIP_KEYS="' + " ".join(GO_KEYS) + '"')
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX})
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert " DC004 " in err
    assert (root / SH_PATH).read_text() == SH_PREFIX + value + SH_SUFFIX


def test_order_same_reorders_to_the_source_order(tmp_path: Path) -> None:
    value = 'BYOK_STRIP_KEYS=(\n  XAI_API_KEY\n  ANTHROPIC_API_KEY\n  GEMINI_API_KEY\n  OPENAI_API_KEY\n)'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX,
                                "driftcheck.toml": _config(SH_MIRROR, order="same")})
    code, out, err = run("fix", "--root", str(root))
    assert (code, out, err) == (0, f"fixed {SH_PATH}: BYOK_STRIP_KEYS +MINIMAX_API_KEY (reordered)\n", "")
    expected = "BYOK_STRIP_KEYS=(\n  " + "\n  ".join(GO_KEYS) + "\n)"
    assert (root / SH_PATH).read_text() == SH_PREFIX + expected + SH_SUFFIX
    assert bash_keys(root / SH_PATH, "BYOK_STRIP_KEYS", True) == GO_KEYS
    assert run("check", "--root", str(root))[0] == 0


def test_order_same_with_comments_is_refused(tmp_path: Path) -> None:
    value = ('BYOK_STRIP_KEYS=(\n  XAI_API_KEY  # newest\n  ANTHROPIC_API_KEY\n  OPENAI_API_KEY\n  GEMINI_API_KEY\n'
             '  MINIMAX_API_KEY\n)')
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX,
                                "driftcheck.toml": _config(SH_MIRROR, order="same")})
    assert run("check", "--root", str(root))[0] == 1
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert "comments between its keys" in err.splitlines()[0]
    assert (root / SH_PATH).read_text() == SH_PREFIX + value + SH_SUFFIX


def test_duplicates_in_a_set_are_removed(tmp_path: Path) -> None:
    value = 'STRIP_KEYS = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", ' \
            '"MINIMAX_API_KEY", "XAI_API_KEY"}'
    root = make_repo(tmp_path, {PY_PATH: PY_PREFIX + value + PY_SUFFIX})
    code, out, err = run("fix", "--root", str(root), *PY_ARGS)
    assert (code, out, err) == (0, f"fixed {PY_PATH}: STRIP_KEYS -OPENAI_API_KEY (repeated)\n", "")
    assert (root / PY_PATH).read_text() == PY_PREFIX + value.replace(', "OPENAI_API_KEY", "MINIMAX', ', "MINIMAX') \
        + PY_SUFFIX


def test_duplicates_are_removed(tmp_path: Path) -> None:
    value = 'STRIP_KEYS = [\n    "ANTHROPIC_API_KEY",\n    "OPENAI_API_KEY",\n    "ANTHROPIC_API_KEY",\n' \
            '    "GEMINI_API_KEY",\n    "MINIMAX_API_KEY",\n    "XAI_API_KEY",\n]'
    root = make_repo(tmp_path, {PY_PATH: PY_PREFIX + value + PY_SUFFIX})
    assert run("check", "--root", str(root), *PY_ARGS)[0] == 1
    code, out, err = run("fix", "--root", str(root), *PY_ARGS)
    assert (code, out, err) == (0, f"fixed {PY_PATH}: STRIP_KEYS -ANTHROPIC_API_KEY (repeated)\n", "")
    assert (root / PY_PATH).read_text() == PY_PREFIX + value.replace('    "ANTHROPIC_API_KEY",\n    "GEMINI',
                                                                     '    "GEMINI') + PY_SUFFIX


# --------------------------------------------------------------------------- several contracts, several lists

def test_one_file_mirroring_two_contracts_is_edited_once(tmp_path: Path) -> None:
    """Two sources (Go, and a second Go list holding the same keys) name the same mirror."""
    other = "workspace-server/internal/handlers/other.go"
    config = (_config(SH_MIRROR, name="a") +
              _config(SH_MIRROR, name="b", source=f"{other}:otherKeys"))
    value = 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY OLD_KEY"'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX, "driftcheck.toml": config,
                                other: go_source(GO_KEYS).replace("platformManagedDirectLLMBypassKeys",
                                                                  "otherKeys")})
    code, out, err = run("fix", "--root", str(root))
    assert (code, err) == (0, "")
    assert out == f"fixed {SH_PATH}: BYOK_STRIP_KEYS +GEMINI_API_KEY +MINIMAX_API_KEY +XAI_API_KEY -OLD_KEY\n"
    assert bash_keys(root / SH_PATH, "BYOK_STRIP_KEYS", False) == GO_KEYS


def test_contracts_that_disagree_are_refused(tmp_path: Path) -> None:
    other = "workspace-server/internal/handlers/other.go"
    config = (_config(SH_MIRROR, name="a") +
              _config(SH_MIRROR, name="b", source=f"{other}:otherKeys"))
    value = 'BYOK_STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY"'
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + value + SH_SUFFIX, "driftcheck.toml": config,
                                other: go_source(["ANTHROPIC_API_KEY"]).replace(
                                    "platformManagedDirectLLMBypassKeys", "otherKeys")})
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (f"{SH_PATH}:6:1: cannot rewrite BYOK_STRIP_KEYS automatically: the contracts "
                                   "naming it (a, b) disagree about its keys; edit it by hand")
    assert (root / SH_PATH).read_text() == SH_PREFIX + value + SH_SUFFIX


def test_two_lists_in_one_file_are_both_fixed(tmp_path: Path) -> None:
    config = (_config(f"{PY_PATH}:STRIP_KEYS", name="strip") +
              _config(f"{PY_PATH}:DEFERRED", name="deferred"))
    text = (PY_PREFIX + 'STRIP_KEYS = ["OLD_KEY", "ANTHROPIC_API_KEY"]\n'
            'DEFERRED = (\n    "ANTHROPIC_API_KEY",\n    "OPENAI_API_KEY",\n    "GEMINI_API_KEY",\n)' + PY_SUFFIX)
    root = make_repo(tmp_path, {PY_PATH: text, "driftcheck.toml": config})
    code, out, err = run("fix", "--root", str(root))
    assert (code, err) == (0, "")
    assert out == (f"fixed {PY_PATH}: STRIP_KEYS +OPENAI_API_KEY +GEMINI_API_KEY +MINIMAX_API_KEY +XAI_API_KEY "
                   "-OLD_KEY; DEFERRED +MINIMAX_API_KEY +XAI_API_KEY\n")
    assert python_keys(root / PY_PATH, "STRIP_KEYS") == GO_KEYS
    assert python_keys(root / PY_PATH, "DEFERRED") == GO_KEYS
    assert run("check", "--root", str(root))[0] == 0


# --------------------------------------------------------------------------- bytes: CRLF, BOM, mode, links

def test_crlf_and_bom_are_preserved_python(tmp_path: Path) -> None:
    before, after, _ = PY_CASES["frozenset-of-set-one-per-line-comments"]
    crlf = lambda s: s.replace("\n", "\r\n").encode()  # noqa: E731
    content = b"\xef\xbb\xbf" + crlf(PY_PREFIX + before + PY_SUFFIX)
    root = make_repo(tmp_path, {PY_PATH: content})
    assert run("fix", "--root", str(root), *PY_ARGS)[0] == 0
    assert (root / PY_PATH).read_bytes() == b"\xef\xbb\xbf" + crlf(PY_PREFIX + after + PY_SUFFIX)
    assert run("check", "--root", str(root), *PY_ARGS)[0] == 0
    py_compile.compile(str(root / PY_PATH), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_crlf_and_bom_are_preserved_bash(tmp_path: Path) -> None:
    # bash keeps a carriage return that ends a word, so the extractor reads a CRLF harness only when
    # the value's line ends in a comment; fix keeps every \r\n (and the BOM) as it is.
    before, after, _, _ = SH_CASES["string-one-line"]
    before, after = before + "  # keep in sync", after + "  # keep in sync"
    crlf = lambda s: s.replace("\n", "\r\n").encode()  # noqa: E731
    # No `}` at a line end: with CRLF bash reads `}\r` as a word and rejects the file (DC101).
    suffix = "\n# (BYOK_STRIP_KEYS=\"OLD_KEY\" in this comment is documentation, not a definition.)\n"
    root = make_repo(tmp_path, {SH_PATH: b"\xef\xbb\xbf" + crlf(SH_PREFIX + before + suffix)})
    code, out, err = run("fix", "--root", str(root))
    assert (code, err) == (0, ""), err
    assert (root / SH_PATH).read_bytes() == b"\xef\xbb\xbf" + crlf(SH_PREFIX + after + suffix)


def test_a_rewrite_that_would_not_read_back_is_refused(tmp_path: Path) -> None:
    """CRLF array: a new element line would end in a carriage return, which bash keeps in the key."""
    value = ("BYOK_STRIP_KEYS=(  # keys\r\n  ANTHROPIC_API_KEY  # claude\r\n  OPENAI_API_KEY  # gpt\r\n)  # end")
    root = make_repo(tmp_path, {SH_PATH: (SH_PREFIX + value + SH_SUFFIX).encode()},
                     ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "XAI_API_KEY"])
    assert run("check", "--root", str(root))[0] == 1
    original = (root / SH_PATH).read_bytes()
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (1, "")
    assert err.startswith(f"{SH_PATH}:6:1: cannot rewrite BYOK_STRIP_KEYS automatically: the rewritten file "
                          "would not read back: DC102 ")
    assert "carriage return" in err.splitlines()[0]
    assert (root / SH_PATH).read_bytes() == original


def test_file_mode_is_kept_and_links_are_followed(tmp_path: Path) -> None:
    before, after, _, _ = SH_CASES["string-one-line"]
    root = make_repo(tmp_path, {"real/harness.sh": SH_PREFIX + before + SH_SUFFIX})
    (root / SH_PATH).parent.mkdir(parents=True)
    (root / SH_PATH).symlink_to(root / "real/harness.sh")
    os.chmod(root / "real/harness.sh", 0o754)
    assert run("fix", "--root", str(root))[0] == 0
    assert (root / SH_PATH).is_symlink()
    assert (root / "real/harness.sh").read_text() == SH_PREFIX + after + SH_SUFFIX
    assert stat.S_IMODE((root / "real/harness.sh").stat().st_mode) == 0o754


def test_interrupted_write_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from driftcheck.cli import fix as fix_cli

    before, _, _, _ = SH_CASES["string-one-line"]
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + before + SH_SUFFIX})
    original = (root / SH_PATH).read_bytes()

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fix_cli.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fix_cli.write_atomic(root / SH_PATH, b"new", original)
    assert (root / SH_PATH).read_bytes() == original
    assert [p.name for p in (root / SH_PATH).parent.iterdir()] == [Path(SH_PATH).name]


def test_a_failed_write_exits_2_and_keeps_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from driftcheck.cli import fix as fix_cli

    before, _, _, _ = SH_CASES["string-one-line"]
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + before + SH_SUFFIX})
    original = (root / SH_PATH).read_bytes()

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fix_cli.tempfile, "mkstemp", no_space)
    code, out, err = run("fix", "--root", str(root))
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == f"{SH_PATH}: not written: No space left on device"
    assert (root / SH_PATH).read_bytes() == original


def test_file_changed_since_read_is_not_overwritten(tmp_path: Path) -> None:
    from driftcheck.cli.fix import ChangedOnDisk, write_atomic

    path = tmp_path / "x.sh"
    path.write_bytes(b"X=1\n")
    with pytest.raises(ChangedOnDisk):
        write_atomic(path, b"X=2\n", b"X=0\n")
    assert path.read_bytes() == b"X=1\n"


# --------------------------------------------------------------------------- --diff

def test_diff_prints_the_hunk_and_writes_nothing(tmp_path: Path) -> None:
    before, _, _, _ = SH_CASES["string-continuations-as-in-the-harness"]
    root = make_repo(tmp_path, {SH_PATH: SH_PREFIX + before + SH_SUFFIX})
    original = (root / SH_PATH).read_bytes()
    code, out, err = run("fix", "--root", str(root), "--diff")
    assert (code, err) == (1, ""), err
    assert out == (f"--- a/{SH_PATH}\n"
                   f"+++ b/{SH_PATH}\n"
                   "@@ -5,9 +5,9 @@\n"
                   " # Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n"
                   ' BYOK_STRIP_KEYS="ANTHROPIC_API_KEY \\\n'
                   " OPENAI_API_KEY \\\n"
                   "-OLD_KEY \\\n"
                   " GEMINI_API_KEY \\\n"
                   '-MINIMAX_API_KEY"\n'
                   "+MINIMAX_API_KEY \\\n"
                   '+XAI_API_KEY"\n'
                   " \n"
                   " log() { printf '[e2e] %s\\n' \"$*\" >&2; }\n"
                   ' # (BYOK_STRIP_KEYS="OLD_KEY" in this comment is documentation, not a definition.)\n')
    assert (root / SH_PATH).read_bytes() == original
    # The diff applies cleanly with git and gives what fix writes.
    if shutil.which("git") is None:  # pragma: no cover - git is there wherever the repo is
        pytest.skip("git is not installed")
    shutil.copytree(root, tmp_path / "applied")
    proc = subprocess.run(["git", "apply", "-"], input=out, text=True, cwd=tmp_path / "applied",
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert run("fix", "--root", str(root))[0] == 0
    assert (tmp_path / "applied" / SH_PATH).read_bytes() == (root / SH_PATH).read_bytes()
    assert run("fix", "--root", str(root), "--diff") == (0, "", "")


def test_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {PY_PATH: 'STRIP_KEYS = ["ANTHROPIC_API_KEY"]'}, ["ANTHROPIC_API_KEY", "XAI_API_KEY"])
    code, out, _ = run("fix", "--root", str(root), "--diff", *PY_ARGS)
    assert code == 1
    assert out.endswith('-STRIP_KEYS = ["ANTHROPIC_API_KEY"]\n\\ No newline at end of file\n'
                        '+STRIP_KEYS = ["ANTHROPIC_API_KEY", "XAI_API_KEY"]\n\\ No newline at end of file\n')


# --------------------------------------------------------------------------- the real entry point

def test_console_entry_point_on_a_drifted_fixture_copy(tmp_path: Path, driftcheck) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "fix-harness-drift"
    root = tmp_path / "repo"
    shutil.copytree(fixture, root)
    harness = root / SH_PATH
    original = harness.read_bytes()
    assert driftcheck("check", "--root", str(root)).code == 1
    diff = driftcheck("fix", "--root", str(root), "--diff")
    assert diff.code == 1 and '+XAI_API_KEY"\n' in diff.out and "-LEGACY_LLM_KEY \\\n" in diff.out
    assert harness.read_bytes() == original
    done = driftcheck("fix", "--root", str(root))
    assert (done.code, done.out, done.err) == (
        0, f"fixed {SH_PATH}: BYOK_STRIP_KEYS +XAI_API_KEY -LEGACY_LLM_KEY\n", "")
    assert driftcheck("check", "--root", str(root)).code == 0
    bash_n(harness)
    # Only the value's bytes changed.
    start = original.index(b'BYOK_STRIP_KEYS="')
    end = original.index(b'"', start + len(b'BYOK_STRIP_KEYS="')) + 1
    new = harness.read_bytes()
    assert new[:start] == original[:start]
    assert new.endswith(original[end:])


# --------------------------------------------------------------------------- the layout engine on its own

def _layout_of(text: str):
    """Cut a bash-string-like content (blank / `\\`-newline separated words) into a Layout."""
    import re

    from driftcheck.fix.layout import Layout, Unit

    parts = re.split(r"((?:[ \t\n]|\\\n)+)", text)
    words, seps = parts[0::2], parts[1::2]
    lead = trail = ""
    if words[0] == "":
        words.pop(0)
        lead = seps.pop(0)
    if words[-1] == "":
        words.pop()
        trail = seps.pop()
    return Layout(lead, [Unit(w, w) for w in words], seps, trail)


def _edit(text: str, desired: list[str]) -> str:
    from driftcheck.fix.layout import Unit, apply

    layout = _layout_of(text)
    apply(layout, desired, lambda key, neighbour: Unit(key, key))
    return layout.render()


@pytest.mark.parametrize("text, desired, expected", [
    # wrapped: several keys per line; a new key joins its neighbour's line, a deleted one leaves its line
    ("A B C \\\n  D E", ["A", "B", "X", "C", "D", "E"], "A B X C \\\n  D E"),
    ("A B C \\\n  D E", ["A", "B", "D", "E"], "A B \\\n  D E"),
    ("A B \\\n  C D", ["A", "B", "D"], "A B \\\n  D"),
    ("A B \\\n  C D", ["A", "B", "C"], "A B \\\n  C"),
    ("A B \\\n  C D", ["B", "C", "D"], "B \\\n  C D"),
    # one per line, first key on the opening line: removing it pulls the next one up
    ("A \\\n  B \\\n  C", ["B", "C"], "B \\\n  C"),
    ("A \\\n  B \\\n  C", ["X", "A", "B", "C"], "X \\\n  A \\\n  B \\\n  C"),
    # a single key: the separator is inferred from the lead and trail
    ("\\\n  A", ["A", "B"], "\\\n  A \\\n  B"),
    ("\n  A\n", ["A", "B"], "\n  A\n  B\n"),
    ("A", ["A", "B"], "A B"),
    # a key replaced by another never leaves the list empty on the way
    ("\n  A\n", ["B"], "\n  B\n"),
])
def test_layout_edits(text: str, desired: list[str], expected: str) -> None:
    assert _edit(text, desired) == expected


# --------------------------------------------------------------------------- every bundled fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()
                                        if p.is_dir() and not p.name.startswith("_")))
def test_fix_on_every_bundled_fixture(tmp_path: Path, name: str) -> None:
    """fix never makes things worse: it exits like the check that follows it, never raises the
    check's exit code, reports every file it changes, and never touches a file it could not read."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root, symlinks=True)
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}
    before = run("check", "--root", str(root))[0]
    code, out, err = run("fix", "--root", str(root))
    after = run("check", "--root", str(root))[0]
    assert code == after and after <= before, out + err
    changed = sorted(str(p.relative_to(root)) for p, data in snapshot.items() if p.read_bytes() != data)
    assert [line.split(":")[0].removeprefix("fixed ") for line in out.splitlines() if line.startswith("fixed ")] \
        == changed
    unreadable = {line.split(":")[0] for line in err.splitlines() if " DC1" in line}
    assert not unreadable & set(changed)


# --------------------------------------------------------------------------- generated layouts

POOL = CANONICAL + ["XAI_API_KEY", "OLD_KEY", "LEGACY_LLM_KEY"]


def _bash_value(keys: list[str], form: str, comments: list[int]) -> str:
    if form == "one-line":
        return 'BYOK_STRIP_KEYS="' + " ".join(keys) + '"'
    if form == "single-quoted":
        return "BYOK_STRIP_KEYS='" + " ".join(keys) + "'"
    if form == "continuations":
        return 'BYOK_STRIP_KEYS="' + " \\\n".join(keys) + '"'
    if form == "continuations-indented":
        return 'BYOK_STRIP_KEYS="\\\n' + "".join(f"  {k} \\\n" for k in keys) + '"'
    if form == "newlines":
        return 'BYOK_STRIP_KEYS="\n' + "".join(f"    {k}\n" for k in keys) + '"'
    if form == "array-one-line":
        return "BYOK_STRIP_KEYS=(" + " ".join(keys) + ")"
    assert form == "array-one-per-line"
    lines = "".join(("  # about " + k.lower() + "\n" if c == 2 else "") + f"  {k}"
                    + ("  # note " + k.lower() if c == 1 else "") + "\n" for k, c in zip(keys, comments))
    return "BYOK_STRIP_KEYS=(  # keys\n" + lines + ")"


def _python_value(keys: list[str], form: str, one_per_line: bool, trailing_comma: bool, comments: list[int]) -> str:
    opener, closer = {"list": ("[", "]"), "tuple": ("(", ")"), "set": ("{", "}"),
                      "frozenset": ("frozenset({", "})")}[form]
    if not one_per_line:
        return "STRIP_KEYS = " + opener + ", ".join(f'"{k}"' for k in keys) + ("," if trailing_comma else "") + closer
    items = [f'    "{k}"' for k in keys]
    body = ""
    for i, (item, comment) in enumerate(zip(items, comments)):
        last = i == len(items) - 1
        comma = "," if (not last or trailing_comma) else ""
        above = f"    # about {keys[i].lower()}\n" if comment == 2 else ""
        body += above + item + comma + (f"  # note {keys[i].lower()}" if comment == 1 else "") + "\n"
    return "STRIP_KEYS = " + opener + "\n" + body + closer


def _expected(mirror: list[str], source: list[str]) -> list[str]:
    mirror = list(dict.fromkeys(mirror))
    kept = [k for k in mirror if k in source]
    missing = [k for k in source if k not in mirror]
    if len(mirror) >= 2 and mirror == sorted(mirror):
        return sorted(kept + missing)
    return kept + missing


_lists = st.lists(st.sampled_from(POOL), min_size=1, max_size=8, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=_lists, mirror=_lists, sort_mirror=st.booleans(),
       form=st.sampled_from(["one-line", "single-quoted", "continuations", "continuations-indented", "newlines",
                             "array-one-line", "array-one-per-line"]),
       comments=st.lists(st.sampled_from([0, 0, 1, 2]), min_size=8, max_size=8))
def test_generated_bash_layouts(tmp_path_factory: pytest.TempPathFactory, source: list[str], mirror: list[str],
                                sort_mirror: bool, form: str, comments: list[int]) -> None:
    if sort_mirror:
        mirror = sorted(mirror)
    root = tmp_path_factory.mktemp("gen")
    value = _bash_value(mirror, form, comments)
    root = make_repo(root, {SH_PATH: SH_PREFIX + value + SH_SUFFIX}, source)
    path = root / SH_PATH
    original = path.read_bytes()
    before = run("check", "--root", str(root))[0]
    code, out, err = run("fix", "--root", str(root))
    expected = _expected(mirror, source)
    if before == 0:
        assert (code, path.read_bytes()) == (0, original)
    elif code == 0:
        new = path.read_bytes()
        assert new.startswith(SH_PREFIX.encode()) and new.endswith(SH_SUFFIX.encode())
        bash_n(path)
        assert bash_keys(path, "BYOK_STRIP_KEYS", form.startswith("array")) == expected
        assert run("check", "--root", str(root))[0] == 0
        if form == "array-one-per-line":  # comments stay next to the keys they were written next to
            text = new.decode()
            for key, comment in zip(mirror, comments):
                if key in expected and comment == 1:
                    assert f"  {key}  # note {key.lower()}\n" in text
                if key in expected and comment == 2:
                    assert f"  # about {key.lower()}\n  {key}" in text
    else:
        # A comment above a key that must go is the one thing that stops fix; then nothing is written.
        assert (code, out) == (1, "") and "would lose its key" in err, err
        assert path.read_bytes() == original


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=_lists, mirror=_lists, sort_mirror=st.booleans(),
       form=st.sampled_from(["list", "tuple", "set", "frozenset"]), one_per_line=st.booleans(),
       trailing_comma=st.booleans(), comments=st.lists(st.sampled_from([0, 0, 1, 2]), min_size=8, max_size=8))
def test_generated_python_layouts(tmp_path_factory: pytest.TempPathFactory, source: list[str], mirror: list[str],
                                  sort_mirror: bool, form: str, one_per_line: bool, trailing_comma: bool,
                                  comments: list[int]) -> None:
    if sort_mirror:
        mirror = sorted(mirror)
    if form == "tuple" and len(mirror) == 1:
        trailing_comma = True
    root = tmp_path_factory.mktemp("gen")
    value = _python_value(mirror, form, one_per_line, trailing_comma, comments)
    root = make_repo(root, {PY_PATH: PY_PREFIX + value + PY_SUFFIX}, source)
    path = root / PY_PATH
    original = path.read_bytes()
    before = run("check", "--root", str(root), *PY_ARGS)[0]
    code, out, err = run("fix", "--root", str(root), *PY_ARGS)
    expected = _expected(mirror, source)
    if before == 0:
        assert (code, path.read_bytes()) == (0, original)
    elif code != 0:
        # A comment above a key that must go is the one thing that stops fix; then nothing is written.
        assert (code, out) == (1, "") and "would lose its key" in err, err
        assert path.read_bytes() == original
    else:
        new = path.read_bytes()
        assert new.startswith(PY_PREFIX.encode()) and new.endswith(PY_SUFFIX.encode())
        py_compile.compile(str(path), cfile=str(path.parent / "out.pyc"), doraise=True)
        got = python_keys(path, "STRIP_KEYS")
        assert (sorted(got) if "set" in form else got) == (sorted(expected) if "set" in form else expected)
        assert run("check", "--root", str(root), *PY_ARGS)[0] == 0
        if one_per_line:  # comments stay next to the keys they were written next to
            text = new.decode()
            for key, comment in zip(mirror, comments):
                if key in expected and comment == 1:
                    assert f'"{key}",  # note {key.lower()}\n' in text or f'"{key}"  # note {key.lower()}\n' in text
                if key in expected and comment == 2:
                    assert f'    # about {key.lower()}\n    "{key}"' in text
