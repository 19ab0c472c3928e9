"""The documentation's examples run, so their output cannot go stale.

Every ```console block that follows a `<!-- tested-example -->` line in README.md or docs/*.md is a
shell session run from the repository root: `$ driftcheck ...` lines run the installed console script
(a real subprocess; stdout and stderr interleaved as a terminal shows them, NO_COLOR set; a trailing
`< FILE` is its standard input), `$ echo $?`
prints the previous exit code, `$ cd DIR` changes directory for the rest of the block. Everything
up to the next `$ ` line is the expected output, compared exactly.

When the tool's output changes on purpose, rewrite the blocks and review the diff:

    DRIFTCHECK_UPDATE_EXAMPLES=1 pytest tests/test_readme.py

The recipes are checked too: the pre-commit snippet parses, names hooks that exist and a `rev` that is a
commit of this repository; the install command installs from the repository URL with a ref.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import REPO

MARKER = "<!-- tested-example -->"
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DRIFTCHECK = Path(sys.executable).parent / "driftcheck"  # this environment's console script
UPDATE = os.environ.get("DRIFTCHECK_UPDATE_EXAMPLES") == "1"


@dataclass(frozen=True)
class Example:
    document: Path
    line: int  # 1-based line of the block's first session line
    text: str  # the block's body as written

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


def examples(document: Path) -> list[Example]:
    lines = document.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        assert index + 1 < len(lines) and lines[index + 1].strip() == "```console", (
            f"{document.name}:{index + 1}: {MARKER} must be followed by a ```console block")
        end = next(i for i in range(index + 2, len(lines)) if lines[i].strip() == "```")
        found.append(Example(document, index + 3, "".join(l + "\n" for l in lines[index + 2:end])))
    return found


ALL = [example for document in DOCUMENTS for example in examples(document)]


def run_session(text: str) -> str:
    """Run every `$ ` line of a session; returns the session as it should read (commands + real output)."""
    cwd, status, transcript = REPO, 0, []
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    for key in ("FORCE_COLOR", "DRIFTCHECK_ADMIN_TOKEN", "DRIFTCHECK_DEBUG"):
        env.pop(key, None)
    for key in list(env):
        if key.startswith("E2E_"):
            env.pop(key)
    for command in (line[2:] for line in text.splitlines() if line.startswith("$ ")):
        transcript.append(f"$ {command}\n")
        words = shlex.split(command)
        if words == ["echo", "$?"]:
            transcript.append(f"{status}\n")
            continue
        if words[0] == "cd":
            cwd = (cwd / words[1]).resolve()
            assert cwd.is_relative_to(REPO), command
            continue
        assert words[0] == "driftcheck", f"examples run driftcheck only: {command!r}"
        stdin = None
        if len(words) > 2 and words[-2] == "<":  # `driftcheck extract -:NAME ... < FILE`
            stdin = (cwd / words[-1]).read_bytes()
            words = words[:-2]
        proc = subprocess.run([str(DRIFTCHECK), *words[1:]], cwd=cwd, env=env, input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        status = proc.returncode
        transcript.append(proc.stdout.decode("utf-8"))
    return "".join(transcript)


def test_documents_have_examples() -> None:
    assert len(examples(REPO / "README.md")) >= 2
    assert ALL, "no tested examples found"


@pytest.mark.parametrize("example", ALL, ids=lambda e: e.id)
def test_example_output_is_what_driftcheck_prints(example: Example) -> None:
    actual = run_session(example.text)
    if UPDATE and actual != example.text:
        source = example.document.read_text(encoding="utf-8")
        start = source.index(f"{MARKER}\n```console\n{example.text}")
        head = f"{MARKER}\n```console\n"
        example.document.write_text(source[:start] + head + actual + source[start + len(head) + len(example.text):],
                                    encoding="utf-8")
        return
    assert actual == example.text, (
        f"{example.id}: the documented output is stale. If the change is intended, run "
        f"DRIFTCHECK_UPDATE_EXAMPLES=1 pytest tests/test_readme.py and review the diff.")


# --- recipes ------------------------------------------------------------------------------------------

def fenced_blocks(document: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", document.read_text(encoding="utf-8"), re.S | re.M)


RECIPE_DOCUMENTS = [REPO / "README.md", REPO / "docs" / "ci.md"]


def precommit_recipes() -> list[dict]:
    recipes = [yaml.safe_load(block) for document in RECIPE_DOCUMENTS
               for block in fenced_blocks(document, "yaml") if "repos:" in block]
    assert len(recipes) == len(RECIPE_DOCUMENTS), "one pre-commit recipe in the README and one in docs/ci.md"
    return recipes


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_precommit_recipes_name_hooks_that_exist() -> None:
    published = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    for recipe in precommit_recipes():
        (repo,) = recipe["repos"]
        ids = [hook["id"] for hook in repo["hooks"]]
        assert ids and set(ids) <= published
        assert re.fullmatch(r"[0-9a-f]{40}", repo["rev"]), "pin a full commit SHA (pre-commit autoupdate --freeze)"


def test_precommit_recipe_rev_is_a_commit_of_this_repository_with_those_hooks() -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    shallow = git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    for recipe in precommit_recipes():
        (repo,) = recipe["repos"]
        rev = repo["rev"]
        if git("cat-file", "-e", f"{rev}^{{commit}}").returncode != 0:
            if shallow:
                pytest.skip(f"shallow clone without {rev}")
            pytest.fail(f"rev {rev} is not a commit of this repository")
        assert git("merge-base", "--is-ancestor", rev, "HEAD").returncode == 0, f"{rev} is not an ancestor of HEAD"
        hooks = yaml.safe_load(git("show", f"{rev}:.pre-commit-hooks.yaml").stdout)
        assert {hook["id"] for hook in repo["hooks"]} <= {hook["id"] for hook in hooks}


def _rule_codes() -> list:
    from driftcheck.rules import RULES

    pending: dict[str, str] = {}  # code -> why its example cannot run yet (none: DC006 fires since issue 12)
    return [pytest.param(code, marks=pytest.mark.xfail(reason=pending[code], strict=False)) if code in pending
            else code for code in RULES]


@pytest.mark.parametrize("code", _rule_codes())
def test_every_rule_code_has_a_tested_example(code: str) -> None:
    from driftcheck.rules import RULES

    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    name = RULES[code].name
    section = re.search(rf"^## {code} {name}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"docs/rules.md has no section '## {code} {name}'"
    assert MARKER in section.group(1), f"{code}: no tested example"
    body = section.group(1).split(MARKER, 1)[1]
    assert "**Fix:**" in body, f"{code}: no fix"
    assert f" {code} " in body.split("**Fix:**")[0], f"{code}: the example does not print {code}"


def test_install_recipes_use_the_repository_url_with_a_ref() -> None:
    text = "\n".join([(REPO / "README.md").read_text(encoding="utf-8"),
                      *(p.read_text(encoding="utf-8") for p in sorted((REPO / "docs").glob("*.md")))])
    installs = re.findall(r"pip install [^\n`]*", text)
    assert installs
    for install in installs:
        # Never a bare name from the package index: `driftcheck` there is not this project.
        assert not re.search(r"pip install (-\S+ )*(driftcheck|'driftcheck|\"driftcheck)", install), install
    assert re.search(r'pip install "git\+https://[^"@]+@[^"]+"', text), "an install from the repository URL with a ref"


def test_documents_never_point_outside_the_repository() -> None:
    shipped = [REPO / "README.md", *(REPO / "docs").rglob("*.md"), REPO / "action.yml",
               REPO / "driftcheck" / "schema" / "check-result.schema.json"]
    for path in shipped:
        assert "DESIGN.md" not in path.read_text(encoding="utf-8"), f"{path.relative_to(REPO)} names DESIGN.md"


def test_relative_links_resolve() -> None:
    for document in [REPO / "README.md", *(REPO / "docs").rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            assert (document.parent / target).exists(), f"{document.relative_to(REPO)}: broken link {target}"


def test_help_texts_never_point_outside_the_repository() -> None:
    """What users see of the code, `--help` of every command, names no file outside the repository."""
    env = {**os.environ, "NO_COLOR": "1"}
    top = subprocess.run([str(DRIFTCHECK), "--help"], capture_output=True, text=True, env=env, timeout=60).stdout
    names = re.findall(r"^  ([a-z][a-z0-9-]*)  ", top.split("Commands:", 1)[1], re.M)
    assert {"check", "extract", "fix", "run", "e2e", "platform"} <= set(names), top
    commands = [[], *([name] for name in names), ["platform", "serve"]]
    for command in commands:
        proc = subprocess.run([str(DRIFTCHECK), *command, "--help"], capture_output=True, text=True, env=env,
                              timeout=60)
        assert proc.returncode == 0, (command, proc.stderr)
        assert "DESIGN.md" not in proc.stdout, f"driftcheck {' '.join(command)} --help names DESIGN.md"
