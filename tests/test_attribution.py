"""`driftcheck check --base REV`: which side of a contract moved since REV.

Each test builds a real, throw-away git history (tmp_path) laid out like the real
repository and runs the real console entry point against it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import run_driftcheck
from driftcheck.attribution import Git, _refspec_maps
from driftcheck.schema import load_schema
from repogen import CANONICAL_KEYS

KEYS = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py
GO = "workspace-server/internal/handlers/secrets.go"
SH = "tests/e2e/test_staging_full_saas.sh"
MIRROR_REF = f"{SH}:BYOK_STRIP_KEYS"
C = "byok-strip-list"

# Isolate git from the machine's configuration (hooks, signing, default branch, templates).
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout


def go_source(keys: list[str], extra: str = "", element: dict[str, str] | None = None) -> str:
    """A gofmt-formatted secrets.go holding `keys` (element overrides: key -> Go expression)."""
    element = element or {}
    exprs = [element.get(k, f'"{k}"') for k in keys]
    width = max(len(e) for e in exprs) + 1
    body = "".join(f"\t{(e + ':').ljust(width)} {{}},\n" for e in exprs)
    return ("package handlers\n\n"
            "// platformManagedDirectLLMBypassKeys: keys a platform-managed workspace may not set.\n"
            f"var platformManagedDirectLLMBypassKeys = map[string]struct{{}}{{\n{body}}}\n{extra}")


def harness(keys: list[str], value: str | None = None) -> str:
    value = value if value is not None else '"' + " ".join(keys) + '"'
    return ("#!/usr/bin/env bash\nset -euo pipefail\n\n"
            "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n"
            f"BYOK_STRIP_KEYS={value}\n\n"
            'for key in $BYOK_STRIP_KEYS; do echo "$key"; done\n')


def write_lists(root: Path, go_keys: list[str] | None, sh_keys: list[str] | None) -> None:
    for rel, text in ((GO, go_keys and go_source(go_keys)), (SH, sh_keys and harness(sh_keys))):
        path = root / rel
        if text is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def history(tmp_path: Path, base: tuple[list[str] | None, list[str] | None],
            head: tuple[list[str] | None, list[str] | None], *, commit_head: bool = True) -> Path:
    """A repo whose `main` holds the `base` lists and whose checked-out `feature` holds `head`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_lists(repo, *base)
    (repo / "README.md").write_text("fixture\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write_lists(repo, *head)
    (repo / "README.md").write_text("fixture, changed\n")
    if commit_head:
        commit_all(repo, "head")
    return repo


def check(root: Path, *args: str, cwd: Path | None = None, ceiling: Path | None = None):
    # The ceiling keeps git from finding a repository above the test's own directories.
    env = {**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(ceiling or root.parent)}
    return run_driftcheck("check", "--root", str(root), *args, cwd=cwd, env=env)


def without(keys: list[str], *drop: str) -> list[str]:
    return [k for k in keys if k not in drop]


def attribution_lines(out: str) -> list[str]:
    """The lines after the normal report (they follow the per-contract summary line)."""
    lines = out.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith(f"{C}: ") and
                   ("in sync" in line or "drift (" in line or "could not decide" in line))
    return lines[summary + 1:]


def valid(report: dict) -> dict:
    """The report, after checking it against the shipped JSON schema."""
    from jsonschema import Draft202012Validator

    Draft202012Validator(load_schema()).validate(report)
    return report


def entry(key: str, side: str, change: str) -> dict[str, str]:
    return {"contract": C, "mirror": MIRROR_REF, "key": key, "side": side, "change": change}


# ----------------------------------------------------------------------------- (a)..(d)


def test_go_side_added_a_key(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS + ["XAI_API_KEY"], KEYS))
    run = check(repo, "--base", "main")
    assert run.code == 1, run.err
    assert run.err == ""
    assert "DC001 XAI_API_KEY is in platformManagedDirectLLMBypassKeys" in run.out
    assert attribution_lines(run.out) == [
        f"{C}: secrets.go added XAI_API_KEY since main; test_staging_full_saas.sh did not",
    ]
    run = check(repo, "--base", "main", "--format", "json")
    assert run.code == 1
    assert run.json["attribution"] == [entry("XAI_API_KEY", "source", "added")]
    assert run.json["status"] == "drift"
    assert [f["code"] for f in run.json["findings"]] == ["DC001"]


def test_harness_removed_a_key(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, without(KEYS, "GROQ_API_KEY")))
    run = check(repo, "--base", "main")
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: test_staging_full_saas.sh removed GROQ_API_KEY since main; secrets.go still has it",
    ]
    run = check(repo, "--base", "main", "--format", "json")
    assert run.json["attribution"] == [entry("GROQ_API_KEY", "mirror", "removed")]


def test_both_sides_moved(tmp_path: Path) -> None:
    go_head = without(KEYS, "DASHSCOPE_API_KEY") + ["XAI_API_KEY"]
    sh_head = without(KEYS, "MOONSHOT_API_KEY") + ["XAI_API_KEY"]
    repo = history(tmp_path, (KEYS, KEYS), (go_head, sh_head))
    run = check(repo, "--base", "main")
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: test_staging_full_saas.sh removed MOONSHOT_API_KEY since main; secrets.go still has it",
        f"{C}: both sides added XAI_API_KEY since main (secrets.go and test_staging_full_saas.sh)",
        f"{C}: secrets.go removed DASHSCOPE_API_KEY since main; test_staging_full_saas.sh still has it",
    ]
    run = check(repo, "--base", "main", "--format", "json")
    assert valid(run.json)["attribution"] == [
        entry("MOONSHOT_API_KEY", "mirror", "removed"),
        entry("XAI_API_KEY", "source", "added"),
        entry("XAI_API_KEY", "mirror", "added"),
        entry("DASHSCOPE_API_KEY", "source", "removed"),
    ]
    assert sorted((f["code"], f["key"]) for f in run.json["findings"]) == [
        ("DC001", "MOONSHOT_API_KEY"), ("DC002", "DASHSCOPE_API_KEY")]


def test_nothing_moved_but_drift_already_existed_at_base(tmp_path: Path) -> None:
    sh = without(KEYS, "MINIMAX_API_KEY")
    repo = history(tmp_path, (KEYS, sh), (KEYS, sh))
    run = check(repo, "--base", "main")
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: neither secrets.go nor test_staging_full_saas.sh changed since main",
        f"{C}: MINIMAX_API_KEY was already missing from test_staging_full_saas.sh at main; "
        "neither side changed it since",
    ]
    run = check(repo, "--base", "main", "--format", "json")
    assert run.code == 1
    assert valid(run.json)["attribution"] == []


def test_extra_key_that_predates_base_and_in_sync_repo(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS + ["XAI_API_KEY"]), (KEYS, KEYS + ["XAI_API_KEY"]))
    run = check(repo, "--base", "main")
    assert run.code == 1
    assert attribution_lines(run.out)[1:] == [
        f"{C}: XAI_API_KEY was already in test_staging_full_saas.sh but not in secrets.go at main; "
        "neither side changed it since",
    ]
    write_lists(repo, KEYS, KEYS)  # uncommitted work: the working tree is compared with REV
    run = check(repo, "--base", "main")
    assert run.code == 0, run.out
    assert attribution_lines(run.out) == [
        f"{C}: test_staging_full_saas.sh removed XAI_API_KEY since main; secrets.go did not have it either",
    ]


def test_json_keeps_every_field_and_adds_attribution_only_with_base(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS + ["XAI_API_KEY"], KEYS))
    plain = check(repo, "--format", "json")
    based = check(repo, "--format", "json", "--base", "main")
    assert "attribution" not in plain.json
    assert list(based.json) == [*plain.json, "attribution"]
    assert {k: v for k, v in based.json.items() if k != "attribution"} == plain.json
    # github: the same commands plus one notice per attribution line
    github = check(repo, "--format", "github", "--base", "main").out
    plain_github = check(repo, "--format", "github").out
    assert github == plain_github + (f"::notice title=driftcheck --base main::{C}: secrets.go added XAI_API_KEY "
                                     "since main; test_staging_full_saas.sh did not\n")


# ------------------------------------------------------------------ files new since REV


def test_mirror_file_added_since_base_counts_as_all_keys_added(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, None), (KEYS, KEYS[:3]))
    run = check(repo, "--base", "main")
    assert run.code == 1
    assert attribution_lines(run.out)[:2] == [
        f"{C}: {SH} did not exist at main (a new file): every key of BYOK_STRIP_KEYS counts as added",
        f"{C}: test_staging_full_saas.sh added ANTHROPIC_API_KEY since main; secrets.go already had it",
    ]
    assert len(attribution_lines(run.out)) == 1 + 3 + 20  # note, 3 added, 20 already missing at main
    assert attribution_lines(run.out)[-1] == (
        f"{C}: DASHSCOPE_API_KEY was already missing from test_staging_full_saas.sh at main; "
        "neither side changed it since")
    run = check(repo, "--base", "main", "--format", "json")
    assert run.json["attribution"] == [entry(k, "mirror", "added") for k in KEYS[:3]]


def test_symbol_not_defined_at_base_counts_as_added(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    git(repo, "checkout", "-q", "main")
    (repo / SH).write_text(harness(KEYS).replace("BYOK_STRIP_KEYS=", "OLD_STRIP_KEYS="))
    commit_all(repo, "rename at base")
    git(repo, "checkout", "-q", "feature")
    run = check(repo, "--base", "main")
    assert run.code == 0
    lines = attribution_lines(run.out)
    assert lines[0] == f"{C}: BYOK_STRIP_KEYS was not defined in {SH} at main: every key counts as added"
    assert len(lines) == 1 + len(KEYS)


def test_list_not_static_at_base_is_a_clear_error(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    git(repo, "checkout", "-q", "main")
    (repo / SH).write_text(harness(KEYS, value='"$(cat keys.txt)"'))
    commit_all(repo, "dynamic at base")
    git(repo, "checkout", "-q", "feature")
    run = check(repo, "--base", "main")
    assert run.code == 2
    assert run.out.splitlines()[-1] == f"{C}: in sync (23 keys, 1 mirror(s))"
    [line] = run.err.splitlines()
    assert line.startswith(f"driftcheck: --base main: cannot evaluate {MIRROR_REF} at main ({SH}:5:")
    assert "DC102" in line and line.endswith("attribution needs every list at main")


# ------------------------------------------------------------- Go package at the revision


def test_go_constants_from_sibling_files_are_read_at_the_revision(tmp_path: Path) -> None:
    """At REV a key comes from a constant in another file of the package that no longer exists."""
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    git(repo, "checkout", "-q", "main")
    go_dir = (repo / GO).parent
    (repo / GO).write_text(go_source(KEYS, element={"GROQ_API_KEY": "groqKey"}))
    (go_dir / "keys.go").write_text('package handlers\n\nconst groqKey = "GROQ_" + "API_KEY"\n')
    commit_all(repo, "constant in a sibling at base")
    git(repo, "checkout", "-q", "feature")
    assert not (go_dir / "keys.go").exists()  # today the key is a literal and keys.go is gone
    run = check(repo, "--base", "main")
    assert run.code == 0, run.out + run.err
    assert attribution_lines(run.out) == [
        f"{C}: neither secrets.go nor test_staging_full_saas.sh changed since main"]


def test_go_sibling_that_exists_only_in_the_working_tree_is_not_read_at_the_revision(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    # A working-tree-only sibling that mutates the list: today's check fails (DC104), REV does not see it.
    (repo / GO).parent.joinpath("late.go").write_text(
        'package handlers\n\nfunc init() { platformManagedDirectLLMBypassKeys["XAI_API_KEY"] = struct{}{} }\n')
    run = check(repo, "--base", "main")
    assert run.code == 2
    assert "DC104" in run.out
    assert attribution_lines(run.out) == [
        f"{C}: no attribution: secrets.go cannot be evaluated in the working tree (see the errors above)"]
    assert run.err == ""


def test_root_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "mono"
    root = repo / "services" / "platform"
    root.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write_lists(root, KEYS, KEYS)
    commit_all(repo, "base")
    write_lists(root, KEYS, KEYS + ["XAI_API_KEY"])
    run = check(root, "--base", "main", ceiling=tmp_path)
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: test_staging_full_saas.sh added XAI_API_KEY since main; secrets.go does not have it"]
    # the same from inside the subdirectory with a relative --root
    run = run_driftcheck("check", "--root", ".", "--base", "main", cwd=root,
                         env={**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert run.code == 1 and attribution_lines(run.out) == [
        f"{C}: test_staging_full_saas.sh added XAI_API_KEY since main; secrets.go does not have it"]


# ---------------------------------------------------------------- REV or git unavailable


def test_unknown_revision(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    run = check(repo, "--base", "no-such-branch")
    assert run.code == 2
    assert run.err == "driftcheck: --base no-such-branch: unknown revision; name a branch, tag or commit of this " \
                      "repository\n"
    assert run.out.splitlines()[-1] == f"{C}: in sync (23 keys, 1 mirror(s))"  # the report itself is unchanged
    run = check(repo, "--base", "--output=/tmp/x")  # never passed to git as an option
    assert run.code == 2 and "unknown revision" in run.err
    run = check(repo, "--base", "no-such-branch", "--format", "json")
    assert run.code == 2
    assert valid(run.json)["status"] == "error"
    assert run.json["attribution"] is None
    assert run.json["findings"][-1]["code"] == "DC106"
    assert run.json["findings"][-1]["message"] == ("--base no-such-branch: unknown revision; name a branch, tag or "
                                                  "commit of this repository")


def test_root_not_in_a_git_repository(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write_lists(root, KEYS, KEYS)
    run = check(root, "--base", "origin/main")
    assert run.code == 2
    assert run.err == (f"driftcheck: --base origin/main: {root.as_posix()} is not in a git repository; --base "
                       "reads the lists from git history, so run it in a clone\n")
    run = check(root, "--base", "origin/main", "--format", "sarif")
    assert run.code == 2 and "DC106" in run.out


def _origin(tmp_path: Path) -> Path:
    """A repository whose main has the base lists and whose checked-out feature moved the Go side."""
    origin = history(tmp_path, (KEYS, KEYS), (KEYS + ["XAI_API_KEY"], KEYS))
    assert git(origin, "rev-parse", "--abbrev-ref", "HEAD").strip() == "feature"
    return origin


def test_shallow_clone_with_the_base_present(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--no-single-branch", origin.as_uri(), str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    run = check(clone, "--base", "origin/main")
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: secrets.go added XAI_API_KEY since origin/main; test_staging_full_saas.sh did not"]
    # a branch created after cloning: the hint is the plain fetch (the refspec covers it)
    git(origin, "branch", "release", "main")
    run = check(clone, "--base", "origin/release")
    assert run.code == 2
    assert run.err == ("driftcheck: --base origin/release: unknown revision; in a shallow clone fetch it first: "
                       "git fetch --depth=1 origin release\n")
    git(clone, *shlex.split(run.err.rsplit(": ", 1)[1])[1:])
    run = check(clone, "--base", "origin/release")
    assert run.code == 1 and attribution_lines(run.out) == [
        f"{C}: secrets.go added XAI_API_KEY since origin/release; test_staging_full_saas.sh did not"]


def test_shallow_single_branch_clone_without_the_base(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", origin.as_uri(), str(clone))  # single branch: feature only
    run = check(clone, "--base", "origin/main")
    assert run.code == 2
    # `git fetch origin main` would not create origin/main in a single-branch clone: the hint says where.
    assert run.err == ("driftcheck: --base origin/main: unknown revision; in a shallow clone fetch it first: "
                       "git fetch --depth=1 origin main:refs/remotes/origin/main\n")
    git(clone, *shlex.split(run.err.rsplit(": ", 1)[1])[1:])  # follow the hint...
    run = check(clone, "--base", "origin/main")  # ...and it works
    assert run.code == 1, run.err
    assert attribution_lines(run.out) == [
        f"{C}: secrets.go added XAI_API_KEY since origin/main; test_staging_full_saas.sh did not"]
    run = check(clone, "--base", "HEAD~1")
    assert run.code == 2
    assert run.err == ("driftcheck: --base HEAD~1: unknown revision; this is a shallow clone, fetch more history "
                       "first: git fetch --unshallow\n")


# --------------------------------------------------------------------------- unit pieces


@pytest.mark.parametrize(("spec", "expected"), [
    ("+refs/heads/*:refs/remotes/origin/*", True),
    ("+refs/heads/main:refs/remotes/origin/main", True),
    ("+refs/heads/feature:refs/remotes/origin/feature", False),
    ("refs/heads/*:refs/remotes/upstream/*", False),
])
def test_refspec_coverage(spec: str, expected: bool) -> None:
    assert _refspec_maps(spec, "refs/heads/main", "refs/remotes/origin/main") is expected


def test_git_commands_never_take_a_revision_as_an_option(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS, KEYS))
    g = Git(repo)
    assert g.prefix == "" and g.shallow is False
    assert g.resolve_commit("main") == git(repo, "rev-parse", "main").strip()
    assert g.resolve_commit("--all") is None
    assert g.resolve_commit("") is None


# ------------------------------------------------------------------ every format (DESIGN.md section 14)


def test_sarif_results_say_which_side_moved_and_stay_valid(tmp_path: Path) -> None:
    from test_report_formats import assert_valid, sarif_validator

    repo = history(tmp_path, (KEYS, KEYS), (KEYS + ["XAI_API_KEY"], KEYS))
    run = check(repo, "--format", "sarif", "--base", "main")
    assert run.code == 1, run.err
    log = run.json
    assert_valid(sarif_validator(), log)
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "DC001"
    assert result["properties"]["attribution"] == {
        "base": "main",
        "changes": [{"contract": C, "mirror": MIRROR_REF, "key": "XAI_API_KEY", "side": "source",
                     "change": "added"}],
        "text": ["secrets.go added XAI_API_KEY since main; test_staging_full_saas.sh did not"]}
    assert log["runs"][0]["properties"]["attribution"]["changes"] == [entry("XAI_API_KEY", "source", "added")]
    plain = check(repo, "--format", "sarif").json
    assert "attribution" not in plain["runs"][0]["results"][0]["properties"]


def test_quiet_text_leaves_out_the_attribution_lines(tmp_path: Path) -> None:
    repo = history(tmp_path, (KEYS, KEYS), (KEYS + ["XAI_API_KEY"], KEYS))
    full = check(repo, "--base", "main", cwd=repo)
    assert full.out.splitlines()[-1] == (f"{C}: secrets.go added XAI_API_KEY since main; "
                                         "test_staging_full_saas.sh did not")
    quiet = check(repo, "--base", "main", "-q", cwd=repo)
    assert quiet.out.splitlines() == full.out.splitlines()[:1] and quiet.code == 1
