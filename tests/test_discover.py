"""`driftcheck discover` on a repository laid out like molecule-core (fixtures/molecule-layout)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from conftest import FIXTURES, run_driftcheck
from tests.languages.yaml.oracle import install, load_all

LAYOUT = FIXTURES / "molecule-layout"
GO = "workspace-server/internal/handlers/secrets.go:platformManagedDirectLLMBypassKeys"
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "T",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}

# The planted copies (ref -> relation) and the declared mirrors; nothing else may be proposed.
PLANTED = {
    "workspace/adapters/byok.py:STRIP_KEYS": ("equal", False),
    "config/providers.json:byok.blockedKeys": ("subset", False),
    ".github/workflows/e2e-staging.yml:jobs.e2e.env": ("overlap", False),
    "docker-compose.yml:services.workspace-server.environment": ("overlap", False),
    "tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEYS": ("equal", True),
    ".env.example:.": ("superset", True),
    # the canvas files are copied from molecule-core: the real KEY_NAME_SUGGESTIONS (declared) and two copies
    "canvas/src/lib/services.ts:KEY_NAME_SUGGESTIONS": ("superset", True),
    "canvas/src/lib/deploy-preflight.ts:KEY_LABELS": ("overlap", False),
    "canvas/src/components/CreateWorkspaceDialog.tsx:HERMES_PROVIDERS[].envVar": ("overlap", False),
}


def git(root: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "molecule"
    shutil.copytree(LAYOUT, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "layout")
    return root


def discover(root: Path, *args: str):
    return run_driftcheck("discover", "--root", str(root), *args)


def proposals(run) -> dict[str, tuple[str, bool]]:
    return {c["ref"]: (c["relation"], c["declared"]) for s in run.json["sources"] for c in s["candidates"]}


def test_finds_every_planted_copy_and_nothing_else(repo: Path) -> None:
    run = discover(repo, "--format", "json")
    assert run.code == 0, run.err
    assert proposals(run) == PLANTED
    source = run.json["sources"][0]
    assert (source["ref"], source["keys"]) == (GO, 22)
    copy = next(c for c in source["candidates"] if c["ref"] == "config/providers.json:byok.blockedKeys")
    assert (copy["shared"], copy["missing"], copy["extra"], copy["language"]) == (21, ["DASHSCOPE_API_KEY"], [], "json")
    assert run.json["files"]["skipped"] == 0


def test_every_printed_ref_is_accepted_by_check_mirror(repo: Path) -> None:
    run = discover(repo, "--format", "json")
    refs = list(proposals(run))
    assert refs
    for ref in refs:
        check = run_driftcheck("check", "--root", str(repo), "--source", GO, "--mirror", ref, "--format", "json")
        assert check.code in (0, 1), (ref, check.out, check.err)
        mirror = check.json["contracts"][0]["mirrors"][0]
        assert mirror["keys"] is not None, ref
        relation = proposals(run)[ref][0]
        assert (check.code == 0) == (relation == "equal"), ref


def test_text_output_names_counts_relations_and_declared_marks(repo: Path) -> None:
    run = discover(repo)
    assert run.code == 0
    lines = run.out.splitlines()
    assert "  config/providers.json:byok.blockedKeys  subset (shared 21, missing 1, extra 0) [undeclared]" in lines
    assert "  .env.example:.  superset (shared 22, missing 0, extra 7) [declared]" in lines
    assert lines[-1].startswith("9 copies (6 undeclared) among ")


def test_fail_on_undeclared_exits_1_until_the_toml_blocks_are_pasted(repo: Path) -> None:
    assert discover(repo, "--fail-on-undeclared").code == 1
    toml = discover(repo, "--format", "toml")
    assert toml.code == 0 and "[[contract]]" in toml.out
    with open(repo / "driftcheck.toml", "a", encoding="utf-8") as handle:
        handle.write("\n" + toml.out)
    again = discover(repo, "--fail-on-undeclared")
    assert again.code == 0, again.out
    assert "[undeclared]" not in again.out
    check = run_driftcheck("check", "--root", str(repo), "--contract", "byok-strip-list-discovered")
    assert check.code == 1  # the pasted contract parses; the overlapping copies drift, as the comments say
    assert "DC001" in check.out and "DC1" not in check.out


def test_unparsable_and_unreadable_files_are_skipped_and_counted(repo: Path) -> None:
    (repo / "broken.json").write_text('{"a": [1,}\n')
    (repo / "broken.yml").write_text("a: [b\n")
    (repo / "latin1.env").write_bytes(b"K=\xe9\n")
    git(repo, "add", "-A")
    run = discover(repo, "--format", "json")
    assert run.code == 0, run.err
    skipped = {s["path"]: s["reason"] for s in run.json["skipped"]}
    assert set(skipped) == {"broken.json", "broken.yml", "latin1.env"}
    assert "DC101" in skipped["broken.json"] and "UTF-8" in skipped["latin1.env"]
    assert run.json["files"]["skipped"] == 3
    assert proposals(run) == PLANTED


def test_only_tracked_files_with_git_and_a_pruned_walk_without(repo: Path, tmp_path: Path) -> None:
    (repo / "untracked.py").write_text("COPY = " + repr(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"]))
    assert "untracked.py:COPY" not in proposals(discover(repo, "--format", "json"))
    plain = tmp_path / "plain"
    shutil.copytree(LAYOUT, plain)
    (plain / "node_modules" / "pkg").mkdir(parents=True)
    shutil.copy(plain / "workspace/adapters/byok.py", plain / "node_modules/pkg/byok.py")
    (plain / "new.py").write_text("COPY = " + repr(["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"]) + "\n")
    found = proposals(discover(plain, "--format", "json"))
    assert "new.py:COPY" in found
    assert not any(ref.startswith("node_modules/") for ref in found)


def test_source_option_and_thresholds(repo: Path) -> None:
    run = discover(repo, "--source", "config/providers.json:byok.blockedKeys", "--format", "json")
    assert run.code == 0, run.err
    found = proposals(run)
    assert found[GO] == ("superset", False)
    assert "config/providers.json:byok.blockedKeys" not in found
    strict = proposals(discover(repo, "--min-shared", "9", "--format", "json"))
    assert ".github/workflows/e2e-staging.yml:jobs.e2e.env" not in strict
    loose = proposals(discover(repo, "--min-overlap", "0.1", "--format", "json"))
    assert "docs/settings.yaml:settings" in loose


@pytest.mark.parametrize("args", [["--min-overlap", "2"], ["--min-shared", "0"], ["--format", "sarif"],
                                  ["--source", "nope.go:X", "--contract", "a"], ["--contract", "nope"],
                                  ["--source", "file.unknown:X"]])
def test_bad_usage_is_exit_2(repo: Path, args: list[str]) -> None:
    run = discover(repo, *args)
    assert run.code == 2, (args, run.out, run.err)
    assert "Traceback" not in run.err


def test_extract_equals_what_the_yaml_loader_and_python_dotenv_read() -> None:
    modules, why = install()
    if modules is None:
        pytest.skip(why)
    workflow = (LAYOUT / ".github/workflows/e2e-staging.yml").read_text()
    compose = (LAYOUT / "docker-compose.yml").read_text()
    loaded = load_all([workflow, compose])
    assert all(doc["ok"] for doc in loaded)
    cases = [
        (".github/workflows/e2e-staging.yml:jobs.e2e.env", list(loaded[0]["value"]["jobs"]["e2e"]["env"])),
        ("docker-compose.yml:services.workspace-server.environment",
         list(loaded[1]["value"]["services"]["workspace-server"]["environment"])),
        (".env.example:.", list(dotenv_values(stream=io.StringIO((LAYOUT / ".env.example").read_text())))),
        (".github/workflows/e2e-staging.yml:.", list(loaded[0]["value"])),  # `on` stays the string "on"
    ]
    for ref, expected in cases:
        run = run_driftcheck("extract", ref, "--root", str(LAYOUT), "--format", "json")
        assert run.code == 0, run.err
        assert [k["key"] for k in run.json["keys"]] == expected, ref
    assert "on" in cases[3][1]


def test_sarif_github_and_json_reports_point_into_the_new_languages(repo: Path) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for

    from driftcheck.schema import load_schema

    compose = "docker-compose.yml:services.workspace-server.environment"
    broken = repo / "config" / "broken.json"
    broken.write_text('{"keys": ["A", "A"], "dup": {"x": 1, "x": 2}}\n')
    args = ["check", "--root", str(repo), "--source", GO, "--mirror", compose, "--mirror", ".env.example:.",
            "--mirror", "config/broken.json:keys"]
    report = run_driftcheck(*args, "--format", "json")
    assert report.code == 2
    Draft202012Validator(load_schema()).validate(report.json)
    mirrors = report.json["contracts"][0]["mirrors"]
    assert [m["language"] for m in mirrors] == ["yaml", "dotenv", "json"]
    assert len(mirrors[0]["missing"]) == 17 and mirrors[0]["extra"] == ["DATABASE_URL", "REDIS_URL", "PORT"]
    where = {(f["code"], f["path"], f["line"]) for f in report.json["findings"]}
    assert ("DC103", "config/broken.json", 1) in where
    assert {("DC002", "docker-compose.yml", line) for line in (16, 17, 18)} <= where  # DATABASE_URL, REDIS_URL, PORT

    sarif = run_driftcheck(*args, "--format", "sarif")
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.schema.json").read_text())
    validator_for(schema)(schema).validate(sarif.json)
    located = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in sarif.json["runs"][0]["results"]}
    assert ("DC002", "docker-compose.yml", 16) in located and ("DC103", "config/broken.json", 1) in located

    github = run_driftcheck(*args, "--format", "github")
    assert "::error file=docker-compose.yml,line=16," in github.out
    assert "::error file=config/broken.json,line=1," in github.out
