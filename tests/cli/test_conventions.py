"""Command-line conventions as ruff users expect them (DESIGN.md section 14), through the real entry point."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, run_driftcheck

SH = "tests/e2e/test_staging_full_saas.sh"
GO = "workspace-server/internal/handlers/secrets.go"
LOCATION = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<code>DC\d{3}) ", re.M)
ANSI = "\033["


def repo(tmp_path: Path, fixture: str, marker: str = ".git") -> Path:
    """A copy of a fixture laid out as a repository: `.git`, a driftcheck.toml, or a pyproject.toml."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / fixture, root)
    if marker == ".git":
        subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    elif marker == "pyproject":
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "x"\n\n[[tool.driftcheck.contract]]\nname = "mine"\n'
            f'source = "{GO}:platformManagedDirectLLMBypassKeys"\nmirrors = ["{SH}:BYOK_STRIP_KEYS"]\n')
    else:
        (root / "driftcheck.toml").write_text(
            f'[[contract]]\nname = "mine"\nsource = "{GO}:platformManagedDirectLLMBypassKeys"\n'
            f'mirrors = ["{SH}:BYOK_STRIP_KEYS"]\n')
    return root


def locations(out: str) -> list[tuple[str, int, int, str]]:
    return [(m["path"], int(m["line"]), int(m["col"]), m["code"]) for m in LOCATION.finditer(out)]


# --------------------------------------------------------------------------- root discovery


@pytest.mark.parametrize("marker, contract", [(".git", "byok-strip-list"), ("toml", "mine"), ("pyproject", "mine")])
def test_check_from_a_subdirectory_finds_the_root_and_prints_openable_paths(tmp_path, marker, contract):
    root = repo(tmp_path, "drift-missing", marker)
    cwd = root / "tests" / "e2e"
    run = run_driftcheck("check", cwd=cwd, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert run.code == 1, run.out + run.err
    [(path, line, column, code)] = locations(run.out)
    assert (path, line, column, code) == ("test_staging_full_saas.sh", 11, 1, "DC001")
    assert (cwd / path).is_file()  # opens as printed
    assert run.out.splitlines()[-1].endswith(f"to fix: driftcheck fix --contract {contract}")  # no --root needed
    deeper = cwd / "helpers"
    deeper.mkdir()
    run = run_driftcheck("check", cwd=deeper, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    [(path, *_)] = locations(run.out)
    assert path == "../test_staging_full_saas.sh" and (deeper / path).is_file()


def test_errors_found_from_a_subdirectory_name_files_relative_to_it(tmp_path):
    root = repo(tmp_path, "in-sync")
    (root / GO).unlink()
    cwd = root / "tests"
    run = run_driftcheck("check", cwd=cwd, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert run.code == 2
    assert locations(run.out) == [(f"../{GO}", 1, 1, "DC105")]


def test_a_pyproject_without_the_tool_table_is_not_a_root(tmp_path):
    root = repo(tmp_path, "in-sync")
    (root / "tests" / "pyproject.toml").write_text('[project]\nname = "harness"\n')
    run = run_driftcheck("check", cwd=root / "tests" / "e2e", env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert run.code == 0, run.out + run.err


def test_root_option_overrides_discovery_and_paths_stay_relative_to_the_cwd(tmp_path):
    root = repo(tmp_path, "drift-missing")
    run = run_driftcheck("check", "--root", "repo", cwd=tmp_path)
    assert locations(run.out) == [(f"repo/{SH}", 11, 1, "DC001")]
    assert "driftcheck fix --root repo --contract byok-strip-list" in run.out
    # JSON keeps paths relative to the root (machine-readable, as in the configuration)
    data = run_driftcheck("check", "--root", "repo", "--format", "json", cwd=tmp_path).json
    assert data["findings"][0]["path"] == SH


def test_github_and_sarif_paths_are_root_relative_from_a_subdirectory(tmp_path):
    root = repo(tmp_path, "drift-missing")
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    github = run_driftcheck("check", "--format", "github", cwd=root / "tests", env=env)
    assert github.out.startswith(f"::error file={SH},line=11,col=1,")
    log = run_driftcheck("check", "--format", "sarif", cwd=root / "tests", env=env).json
    [result] = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": SH, "uriBaseId": "%SRCROOT%"}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"


# --------------------------------------------------------------------------- run: exactly the check options


@pytest.mark.parametrize("options", [["--bogus"], ["--diff"], ["--local"], ["--format", "xml"]])
def test_run_rejects_an_unknown_option_before_starting_anything(tmp_path, options):
    marker = tmp_path / "started"
    run = run_driftcheck("run", "--root", str(FIXTURES / "in-sync"), *options, "--", "touch", str(marker))
    assert run.code == 2 and not marker.exists()
    assert "Usage: driftcheck run" in run.err and "Traceback" not in run.err


def test_run_takes_the_check_options(tmp_path):
    marker = tmp_path / "started"
    run = run_driftcheck("run", "--root", str(FIXTURES / "drift-missing"), "--ignore", "DC001", "-q", "--color",
                         "never", "--", "touch", str(marker))
    assert run.code == 0 and marker.exists(), run.err
    refused = run_driftcheck("run", "--root", str(FIXTURES / "drift-missing"), "--select", "DC001", "--format",
                             "github", "--", "touch", str(tmp_path / "no"))
    assert refused.code == 1 and not (tmp_path / "no").exists()
    assert refused.err.startswith(f"::error file={SH},line=11,col=1,")


def test_run_exit_zero_is_refused_not_a_way_around_the_gate(tmp_path):
    marker = tmp_path / "started"
    run = run_driftcheck("run", "--root", str(FIXTURES / "drift-missing"), "--exit-zero", "--", "touch", str(marker))
    assert run.code == 2 and not marker.exists() and "--exit-zero" in run.err


@pytest.mark.parametrize("fixture, code", [("in-sync", 0), ("drift-missing", 1), ("sh-error-syntax", 2)])
@pytest.mark.parametrize("command", ["check", "run"])
def test_output_is_written_in_every_outcome(tmp_path, fixture, code, command):
    out = tmp_path / "report.json"
    tail = ["--", sys.executable, "-c", "raise SystemExit(0)"] if command == "run" else []
    run = run_driftcheck(command, "--root", str(FIXTURES / fixture), "--format", "json", "--output", str(out), *tail)
    assert run.code == code, run.err
    assert json.loads(out.read_text())["status"] == {0: "in_sync", 1: "drift", 2: "error"}[code]
    assert run.out == ""


# --------------------------------------------------------------------------- ruff's options


def test_short_version_flag():
    run = run_driftcheck("-V")
    assert run.code == 0 and run.out == "driftcheck, version 0.1.0\n"


def test_quiet_prints_findings_only():
    run = run_driftcheck("check", "--root", str(FIXTURES / "drift-missing"), "-q", cwd=FIXTURES / "drift-missing")
    assert run.code == 1
    assert run.out.splitlines() == [line for line in run.out.splitlines() if LOCATION.match(line)]
    assert locations(run.out) == [(SH, 11, 1, "DC001")]
    synced = run_driftcheck("check", "--root", str(FIXTURES / "in-sync"), "--quiet")
    assert synced.code == 0 and synced.out == ""


@pytest.mark.parametrize("fixture, code", [("in-sync", 0), ("drift-missing", 0), ("sh-error-syntax", 2)])
def test_exit_zero_forgives_drift_but_not_an_undecided_check(fixture, code):
    run = run_driftcheck("check", "--root", str(FIXTURES / fixture), "--exit-zero")
    assert run.code == code
    if fixture == "drift-missing":
        assert "DC001" in run.out


def _colored(*args: str, env: dict[str, str]) -> bool:
    run = run_driftcheck("check", "--root", str(FIXTURES / "drift-missing"), *args, env=env)
    assert run.code == 1
    return ANSI in run.out


def test_color_options_and_environment():
    unset = {"NO_COLOR": "", "FORCE_COLOR": ""}
    assert not _colored(env=unset)  # a pipe: no colour
    assert _colored("--color", "always", env={**unset, "NO_COLOR": "1"})
    assert not _colored("--color", "never", env={**unset, "FORCE_COLOR": "1"})
    assert _colored(env={**unset, "FORCE_COLOR": "1"})
    assert _colored(env={"NO_COLOR": "", "FORCE_COLOR": "1"})  # an empty NO_COLOR is not set
    assert not _colored(env={"NO_COLOR": "1", "FORCE_COLOR": "1"})


def test_an_empty_no_color_keeps_colour_on_a_terminal():
    import pty

    def on_terminal(no_color: str) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "NO_COLOR": no_color}
        env.pop("FORCE_COLOR", None)
        proc = subprocess.Popen([sys.executable, "-m", "driftcheck", "check", "--root",
                                 str(FIXTURES / "drift-missing")], stdout=follower, stderr=subprocess.PIPE, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.wait(timeout=60) == 1
        return b"".join(chunks).decode()

    assert ANSI in on_terminal("")
    assert ANSI not in on_terminal("1")


def test_statistics_counts_findings_per_rule(tmp_path):
    root = tmp_path / "r"
    shutil.copytree(FIXTURES / "drift-missing", root)
    (root / "driftcheck.toml").write_text("".join(
        f'[[contract]]\nname = "c{i}"\nsource = "{GO}:platformManagedDirectLLMBypassKeys"\n'
        f'mirrors = ["{SH}:BYOK_STRIP_KEYS"]\n' for i in range(3)))
    run = run_driftcheck("check", "--root", str(root), "--statistics")
    assert run.code == 1 and run.out == "3  DC001  missing-in-mirror\n"
    as_json = run_driftcheck("check", "--root", str(root), "--statistics", "--format", "json")
    assert as_json.json == [{"code": "DC001", "name": "missing-in-mirror", "count": 3}]
    bad = run_driftcheck("check", "--root", str(root), "--statistics", "--format", "sarif")
    assert bad.code == 2 and "--statistics" in bad.err


def test_select_and_ignore_rule_codes():
    root = str(FIXTURES / "drift-missing")
    ignored = run_driftcheck("check", "--root", root, "--ignore", "DC001", "--format", "json")
    assert ignored.code == 0 and ignored.json["findings"] == [] and ignored.json["status"] == "in_sync"
    assert ignored.json["contracts"][0]["mirrors"][0]["missing"] == []
    other = run_driftcheck("check", "--root", root, "--select", "DC002,DC003", "--format", "json")
    assert other.code == 0 and other.json["findings"] == []
    prefix = run_driftcheck("check", "--root", root, "--select", "dc00", "--format", "json")
    assert prefix.code == 1 and [f["code"] for f in prefix.json["findings"]] == ["DC001"]


@pytest.mark.parametrize("code", ["DC101", "DC1", "DC"])
def test_exit_2_codes_cannot_be_ignored(code):
    run = run_driftcheck("check", "--root", str(FIXTURES / "sh-error-syntax"), "--ignore", code)
    assert run.code == 2 and "cannot be ignored" in run.err


def test_selecting_drift_rules_never_hides_an_undecided_check():
    run = run_driftcheck("check", "--root", str(FIXTURES / "sh-error-syntax"), "--select", "DC001", "--format", "json")
    assert run.code == 2 and [f["code"] for f in run.json["findings"]] == ["DC101"]


def test_unknown_rule_code_is_a_usage_error():
    run = run_driftcheck("check", "--root", str(FIXTURES / "in-sync"), "--select", "E501")
    assert run.code == 2 and "unknown rule code 'E501'" in run.err


def _stdin(*args: str, data: bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftcheck", "extract", *args], input=data.decode(),
                          capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})


def test_extract_reads_standard_input():
    harness = (FIXTURES / "in-sync" / SH).read_bytes()
    proc = _stdin("-:BYOK_STRIP_KEYS", "--language", "shell", data=harness)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
    as_json = json.loads(_stdin("-:platformManagedDirectLLMBypassKeys", "--language", "go", "--format", "json",
                                data=(FIXTURES / "in-sync" / GO).read_bytes()).stdout)
    assert (as_json["path"], as_json["ref"]) == ("-", "-:platformManagedDirectLLMBypassKeys")
    assert as_json["keys"][0] == {"key": "ANTHROPIC_API_KEY", "line": 17, "column": 2}


def test_extract_from_standard_input_names_it_dash_in_findings():
    broken = _stdin("-:KEYS", "--language", "shell", data=b'KEYS="A B"\nif then\n')
    assert broken.returncode == 2 and broken.stdout == ""
    assert broken.stderr.startswith("-:2:") and " DC101 " in broken.stderr
    no_language = _stdin("-:KEYS", data=b'KEYS="A B"\n')
    assert no_language.returncode == 2 and "--language" in no_language.stderr


# --------------------------------------------------------------------------- the fix suggestion


def test_summary_suggests_fix_for_a_missing_key_in_a_shell_mirror():
    run = run_driftcheck("check", "--root", str(FIXTURES / "drift-missing"))
    assert "to fix: driftcheck fix" in run.out.splitlines()[-1]


def test_summary_does_not_suggest_fix_for_a_stale_exception_only():
    run = run_driftcheck("check", "--root", str(FIXTURES / "stale-exception"))
    assert run.code == 1 and "DC004" in run.out
    assert "driftcheck fix" not in run.out
    assert "edit the lines above by hand" in run.out.splitlines()[-1]


def test_summary_does_not_suggest_fix_for_a_go_mirror(tmp_path):
    root = tmp_path / "r"
    shutil.copytree(FIXTURES / "drift-missing", root)
    mirror = root / "mirror" / "keys.go"
    mirror.parent.mkdir()
    mirror.write_text('package mirror\n\nvar keys = []string{"ANTHROPIC_API_KEY"}\n')
    run = run_driftcheck("check", "--root", str(root), "--source", f"{GO}:platformManagedDirectLLMBypassKeys",
                         "--mirror", "mirror/keys.go:keys")
    assert run.code == 1 and "DC001" in run.out
    assert "driftcheck fix" not in run.out
    fix = run_driftcheck("fix", "--root", str(root), "--source", f"{GO}:platformManagedDirectLLMBypassKeys",
                         "--mirror", "mirror/keys.go:keys")
    assert fix.code == 1 and "cannot rewrite" in fix.err  # what the summary no longer promises


def test_a_removed_current_directory_is_a_clear_error_not_a_crash(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(["bash", "-c", 'cd "$1" && rmdir "$1" && exec "$2" -m driftcheck check', "bash", str(gone),
                           sys.executable], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert "cannot find the repository root from the current directory" in proc.stderr, proc.stderr
