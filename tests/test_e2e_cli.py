"""`driftcheck e2e` from the command line (DESIGN.md section 14) and from a plain install (issue 12).

- it takes exactly the options of `check` that say what to check and how to report, plus its own;
  an unknown option is click's error, exit 2, with nothing started;
- `--output FILE` gets the check's report in `--format`, in every outcome;
- what `e2e` and `platform serve` need comes with a plain `pip install` (and `check` does not import
  it); a module missing anyway is one line naming the install command, never "internal error".
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest

from driftcheck.cli import cli, main
from test_e2e import ENV_VARS, REPO, TOKEN, connection_recorder, make_repo, subprocess_env

QUICK = ["--arm", "platform", "--mode", "smoke", "--no-probe"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def _params(name: str) -> dict[str, click.Parameter]:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, name)
    assert command is not None
    return {p.name: p for p in command.params if p.name}


def test_e2e_takes_the_check_options_as_check_has_them() -> None:
    check, e2e = _params("check"), _params("e2e")
    assert {"root", "config", "source", "mirrors", "contracts", "fmt", "output"} <= set(check)
    for name in check:
        assert name in e2e, name
        mine, theirs = e2e[name].to_info_dict(), check[name].to_info_dict()
        mine.pop("help")
        theirs.pop("help")
        assert mine == theirs, name


@pytest.mark.parametrize("args", [["--bogus"], ["--local", "extra-argument"], ["--format", "xml"], ["--exit-zero"],
                                  ["--statistics", "--format", "sarif"], ["--select", "DC999"]])
def test_an_unknown_option_is_a_usage_error_and_nothing_starts(repo: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               args: list[str]) -> None:
    output = tmp_path / "report.json"
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    with connection_recorder() as (url, seen):
        code = main(["e2e", "--root", str(repo), "--platform-url", url, "--output", str(output), *args])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Error:" in err and any(why in err for why in (
        "No such option", "unexpected extra argument", "Invalid value for '--format'", "--exit-zero does not apply",
        "--statistics prints text or json", "unknown rule code"))
    assert out == "" and seen == [] and not output.exists()  # no gate, no request, no file


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "github"])
def test_output_is_written_when_in_sync(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        fmt: str) -> None:
    output = tmp_path / f"report.{fmt}"
    code = main(["e2e", "--local", "--root", str(repo), "--format", fmt, "--output", str(output), *QUICK])
    out, _ = capsys.readouterr()
    assert code == 0, out
    text = output.read_text()
    if fmt == "json":
        assert json.loads(text)["status"] == "in_sync"
    elif fmt == "sarif":
        assert json.loads(text)["version"] == "2.1.0"
    elif fmt == "text":
        assert "in sync" in text
    assert "[ok] 8 teardown" in out


def test_output_is_written_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drifted = make_repo(tmp_path / "drifted", go_keys=["A_KEY", "B_KEY"], sh_keys=["A_KEY"])
    output = tmp_path / "report.json"
    code = main(["e2e", "--local", "--root", str(drifted), "--format", "json", "--output", str(output)])
    _, err = capsys.readouterr()
    assert code == 1
    report = json.loads(output.read_text())
    assert report["status"] == "drift"
    assert any(f["code"] == "DC001" and f.get("key") == "B_KEY" for f in _findings(report)), report
    assert "B_KEY" not in err  # the report went to the file, not to stderr


def test_output_is_written_on_a_usage_error(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.json"
    # No --platform-url and no --local: a usage error before the lifecycle; the file still holds the check.
    code = main(["e2e", "--root", str(repo), "--format", "json", "--output", str(output)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "give --platform-url URL" in err
    assert json.loads(output.read_text())["status"] == "in_sync"


def test_output_is_written_when_the_check_cannot_decide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.json"
    code = main(["e2e", "--local", "--root", str(tmp_path), "--format", "json", "--output", str(output)])
    capsys.readouterr()
    assert code == 2
    assert json.loads(output.read_text())["status"] == "error"


def _findings(report: dict) -> list[dict]:
    found = list(report.get("findings", []))
    for contract in report.get("contracts", []):
        found += contract.get("findings", [])
        for mirror in contract.get("mirrors", []):
            found += mirror.get("findings", [])
    return found


# -- a plain install --------------------------------------------------------------------------------------


def test_e2e_and_the_platform_need_no_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower() for dep in project["dependencies"]}
    assert {"httpx", "starlette", "uvicorn"} <= names


def test_check_does_not_import_the_http_stack(repo: Path) -> None:
    probe = ("import sys; from driftcheck.cli import main; code = main(['check', '--root', sys.argv[1]]); "
             "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn') if m in sys.modules)); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe, str(repo)], capture_output=True, text=True,
                            env=subprocess_env(), cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def _without(module: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a process where `module` cannot be imported (as in an installation that lacks it)."""
    code = (f"import sys; sys.modules[{module!r}] = None; from driftcheck.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=subprocess_env(DRIFTCHECK_ADMIN_TOKEN=TOKEN), cwd=REPO, timeout=120)


@pytest.mark.parametrize(("module", "command", "requirement"), [
    ("httpx", ["e2e", "--local"], "httpx>=0.27"),
    ("uvicorn", ["e2e", "--local"], "uvicorn>=0.29"),
    ("starlette", ["e2e", "--local"], "starlette>=0.37"),
    ("httpx", ["e2e", "--platform-url", "http://127.0.0.1:9"], "httpx>=0.27"),
    ("uvicorn", ["platform", "serve", "--port", "0", "--blocked-keys", "A"], "uvicorn>=0.29"),
    ("starlette", ["platform", "serve", "--port", "0", "--blocked-keys", "A"], "starlette>=0.37"),
])
def test_a_missing_module_is_one_line_naming_the_install_command(repo: Path, module: str, command: list[str],
                                                                 requirement: str) -> None:
    args = [*command, "--root", str(repo)] if command[0] == "e2e" else command
    result = _without(module, args)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert f"the Python package {module} is missing" in errors[0]
    assert f"pip install '{requirement}'" in errors[0]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_select_and_ignore_decide_the_gate_as_they_decide_check(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    drifted = make_repo(tmp_path / "drifted", go_keys=["A_KEY", "B_KEY"], sh_keys=["A_KEY"])
    assert main(["check", "--root", str(drifted), "--ignore", "DC001"]) == 0
    capsys.readouterr()
    code = main(["e2e", "--local", "--root", str(drifted), "--ignore", "DC001", *QUICK])
    out, _ = capsys.readouterr()
    assert code == 0 and "[ok] 1 gate" in out and "holds 2 key(s)" in out


def test_base_attribution_reaches_the_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "report.txt"
    repo = make_repo(tmp_path / "repo")
    code = main(["e2e", "--local", "--root", str(repo), "--base", "no-such-rev", "--output", str(output), *QUICK])
    _, err = capsys.readouterr()
    assert code == 2  # as `check --base no-such-rev`: REV cannot be read
    assert "no-such-rev" in err and output.exists()
