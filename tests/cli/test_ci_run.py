"""`.ci/run` removes what it creates, keeps `-n auto` and the exit-5 rule, and installs missing toolchains.

The script runs for real, with stand-ins on PATH for python3 (its venv's python is a stub that
records its arguments and exits with a chosen code), apt-get, go, git and node.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ["bash", "env", "dirname", "mktemp", "rm", "mkdir", "cat", "chmod", "sleep"]

STUB_PYTHON3 = """#!/bin/bash
# python3 -m venv DIR: a venv whose python records each call and exits with PYTEST_EXIT for pytest
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  cat > "$3/bin/python" <<'STUB'
#!/bin/bash
echo "$@" >> "$CI_LOG"
if [ "$2" = "pytest" ]; then
  echo "TMPDIR=$TMPDIR" >> "$CI_LOG"
  mkdir -p "$TMPDIR/left-by-a-test"
  [ -n "${PYTEST_HANG:-}" ] && sleep 30
  exit "${PYTEST_EXIT:-0}"
fi
exit 0
STUB
  chmod +x "$3/bin/python"
  exit 0
fi
exit 99
"""


def stub_bin(tmp_path: Path, present: tuple[str, ...]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        real = shutil.which(tool)
        assert real, tool
        (bin_dir / tool).symlink_to(real)
    (bin_dir / "python3").write_text(STUB_PYTHON3)
    for name in ("apt-get", *present):
        (bin_dir / name).write_text(f'#!/bin/bash\necho "{name} $*" >> "$CI_LOG"\n')
    for path in bin_dir.iterdir():
        if not path.is_symlink():
            path.chmod(0o755)
    return bin_dir


def run_ci(tmp_path: Path, *, present: tuple[str, ...] = ("go", "git", "node"), pytest_exit: int = 0,
           hang: bool = False) -> tuple[int, list[str], Path, subprocess.Popen[str] | None]:
    bin_dir = stub_bin(tmp_path, present)
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": str(bin_dir), "TMPDIR": str(scratch_parent), "CI_LOG": str(log), "HOME": str(tmp_path),
           "PYTEST_EXIT": str(pytest_exit), **({"PYTEST_HANG": "1"} if hang else {})}
    proc = subprocess.Popen([str(bin_dir / "bash"), str(REPO / ".ci" / "run")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if hang:
        return 0, [], scratch_parent, proc
    proc.communicate(timeout=60)
    return proc.returncode, log.read_text().splitlines(), scratch_parent, None


@pytest.mark.parametrize("pytest_exit, expected", [(0, 0), (1, 1), (5, 1), (3, 3)])
def test_ci_run_leaves_nothing_in_tmp_and_keeps_its_exit_rules(tmp_path, pytest_exit, expected):
    code, log, scratch_parent, _ = run_ci(tmp_path, pytest_exit=pytest_exit)
    assert code == expected
    [pytest_call] = [line for line in log if line.startswith("-m pytest")]
    assert "-n auto" in pytest_call and "--basetemp=" in pytest_call
    [tmpdir] = [line.removeprefix("TMPDIR=") for line in log if line.startswith("TMPDIR=")]
    assert tmpdir.startswith(str(scratch_parent) + "/")  # the tests' temporary files go to the scratch dir
    assert list(scratch_parent.iterdir()) == []  # venv, TMPDIR and basetemp are gone
    assert not any(line.startswith("apt-get") for line in log)  # every toolchain is present


def test_ci_run_cleans_up_when_interrupted(tmp_path):
    import signal
    import time

    _, _, scratch_parent, proc = run_ci(tmp_path, hang=True)
    assert proc is not None
    deadline = time.monotonic() + 30
    while not list(scratch_parent.glob("*/tmp/left-by-a-test")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(scratch_parent.glob("*/tmp/left-by-a-test")), "the stub pytest never started"
    os.killpg(proc.pid, signal.SIGTERM)  # as a CI runner cancels a job: the whole process group
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert list(scratch_parent.iterdir()) == []


def test_ci_run_installs_missing_toolchains_with_apt(tmp_path):
    code, log, _, _ = run_ci(tmp_path, present=("go",))
    assert code == 0
    assert "apt-get update -qq" in log
    assert "apt-get install -y -qq git nodejs npm" in log


def test_ci_run_keeps_a_venv_the_caller_names(tmp_path):
    keep = tmp_path / "mine"
    bin_dir = stub_bin(tmp_path, ("go", "git", "node"))
    (tmp_path / "tmp").mkdir()
    env = {"PATH": str(bin_dir), "TMPDIR": str(tmp_path / "tmp"), "CI_LOG": str(tmp_path / "log"),
           "HOME": str(tmp_path), "DRIFTCHECK_CI_VENV": str(keep)}
    proc = subprocess.run([str(bin_dir / "bash"), str(REPO / ".ci" / "run")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (keep / "bin" / "python").exists() and list((tmp_path / "tmp").iterdir()) == []
