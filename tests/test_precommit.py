"""The published pre-commit hook, run by the real `pre-commit` the way users run it.

`pre-commit try-repo` needs the hook repository to be a git repository with the
hook file committed, so the package source of this working tree (not its tests
or .git) is copied into a throw-away repository and committed there. pre-commit
then builds its own virtualenv and pip-installs that repository (pip as configured
on the machine). try-repo keeps that environment in a temporary store of its own,
so each run rebuilds it (~10 s); PRE_COMMIT_HOME still points at a private
directory so nothing touches the user's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_driftcheck
from repogen import CANONICAL_KEYS

KEYS = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py
GO = "workspace-server/internal/handlers/secrets.go"
SH = "tests/e2e/test_staging_full_saas.sh"
HOOKS_FILE = REPO / ".pre-commit-hooks.yaml"

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr


def init_and_commit(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "snapshot")


def go_source(keys: list[str]) -> str:
    width = max(len(k) for k in keys) + 3
    body = "".join(f"\t{(chr(34) + k + chr(34) + ':').ljust(width)} {{}},\n" for k in keys)
    return f"package handlers\n\nvar platformManagedDirectLLMBypassKeys = map[string]struct{{}}{{\n{body}}}\n"


def harness(keys: list[str]) -> str:
    return ("#!/usr/bin/env bash\nset -euo pipefail\n\n"
            "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n"
            f'BYOK_STRIP_KEYS="{" ".join(keys)}"\n')


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree's package source, committed in a repository of its own."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO / name, repo / name)
    shutil.copytree(REPO / "driftcheck", repo / "driftcheck",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    init_and_commit(repo)
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def target_repo(path: Path, go_keys: list[str], sh_keys: list[str]) -> Path:
    """A repository laid out like the real one (only what the default contract reads, plus noise)."""
    (path / GO).parent.mkdir(parents=True)
    (path / SH).parent.mkdir(parents=True)
    (path / GO).write_text(go_source(go_keys))
    (path / SH).write_text(harness(sh_keys))
    (path / "README.md").write_text("platform\n")
    init_and_commit(path)
    return path


def try_repo(hook_repo: Path, home: Path, cwd: Path, hook: str = "driftcheck") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook, "--all-files",
                           "--color", "never"], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_hook_passes_when_in_sync_and_fails_on_drift(hook_repo: Path, pre_commit_home: Path,
                                                      tmp_path: Path) -> None:
    in_sync = target_repo(tmp_path / "in-sync", KEYS, KEYS)
    run = try_repo(hook_repo, pre_commit_home, in_sync)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^driftcheck \(key lists in sync\)\.+Passed$", run.stdout, re.M), run.stdout

    drifted = target_repo(tmp_path / "drifted", KEYS, [k for k in KEYS if k != "GROQ_API_KEY"])
    run = try_repo(hook_repo, pre_commit_home, drifted)
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"^driftcheck \(key lists in sync\)\.+Failed$", run.stdout, re.M), run.stdout
    assert "- hook id: driftcheck" in run.stdout
    assert "- exit code: 1" in run.stdout
    assert re.search(rf"^{re.escape(SH)}:5:1: DC001 GROQ_API_KEY is in platformManagedDirectLLMBypassKeys "
                     rf"\({re.escape(GO)}:\d+:2\) but missing from BYOK_STRIP_KEYS", run.stdout, re.M), run.stdout
    assert "byok-strip-list: drift (1 finding); to fix: driftcheck fix --contract byok-strip-list" in run.stdout


@pytest.mark.slow
def test_fix_hook_rewrites_the_mirror(hook_repo: Path, pre_commit_home: Path, tmp_path: Path) -> None:
    drifted = target_repo(tmp_path / "drifted", KEYS, [k for k in KEYS if k != "GROQ_API_KEY"])
    run = try_repo(hook_repo, pre_commit_home, drifted, hook="driftcheck-fix")
    # pre-commit fails a hook that modified files, so the author reviews and stages the fix.
    assert run.returncode == 1, run.stdout + run.stderr
    assert "- files were modified by this hook" in run.stdout
    [line] = [ln for ln in (drifted / SH).read_text().splitlines() if ln.startswith("BYOK_STRIP_KEYS=")]
    assert sorted(line.removeprefix("BYOK_STRIP_KEYS=").strip('"').split()) == sorted(KEYS)
    after = run_driftcheck("check", "--root", str(drifted))
    assert after.code == 0, after.out + after.err


@pytest.mark.slow
def test_hook_is_skipped_when_no_relevant_file_is_in_the_commit(hook_repo: Path, pre_commit_home: Path,
                                                                tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README.md").write_text("only docs\n")
    init_and_commit(docs)
    run = try_repo(hook_repo, pre_commit_home, docs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^driftcheck \(key lists in sync\)\.+\(no files to check\)Skipped$", run.stdout, re.M)


def hooks() -> list[dict]:
    return yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))


def test_hook_definition() -> None:
    by_id = {h["id"]: h for h in hooks()}
    hook = by_id["driftcheck"]
    assert hook["entry"] == "driftcheck check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["name"] and hook["description"]
    if "driftcheck-fix" in by_id:
        fix = by_id["driftcheck-fix"]
        assert fix["entry"] == "driftcheck fix" and fix["pass_filenames"] is False
        assert fix["files"] == hook["files"]


@pytest.mark.parametrize(("path", "runs"), [
    (GO, True),
    ("workspace-server/internal/handlers/consts.go", True),
    (SH, True),
    ("scripts/strip.bash", True),
    ("tests/e2e/helpers/byok.py", True),
    ("stubs/byok.pyi", True),
    ("driftcheck.toml", True),
    ("pyproject.toml", True),
    ("services/api/pyproject.toml", True),
    ("README.md", False),
    ("docs/goals.md", False),
    ("config/my-driftcheck.toml", False),
    ("package.json", True),
    ("main.gox", False),
    (".github/workflows/e2e-staging.yml", True),
    ("docker-compose.yaml", True),
    (".env.example", True),
    (".env", True),
    ("deploy/prod.env", True),
    ("canvas/src/lib/services.ts", True),
    ("canvas/src/components/CreateWorkspaceDialog.tsx", True),
    ("scripts/gen.mjs", True),
    (".envrc", False),
    ("docs/environment.txt", False),
    ("config.yaml.bak", False),
])
def test_files_pattern(path: str, runs: bool) -> None:
    # pre-commit matches `files` with re.search against the repository-relative path.
    pattern = re.compile(hooks()[0]["files"])
    assert bool(pattern.search(path)) is runs
