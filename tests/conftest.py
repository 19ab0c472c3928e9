from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
sys.path.insert(0, str(REPO / "benchmarks"))


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def json(self):
        return json.loads(self.out)


def run_driftcheck(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                   timeout: float = 60) -> Run:
    """The real console entry point in a fresh interpreter, as users and CI run it."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "driftcheck", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc)


@pytest.fixture
def driftcheck():
    return run_driftcheck


@pytest.fixture(autouse=True)
def _dev_null_survives():
    """Fail the test that turns /dev/null into a regular file (once seen here), and put the device back."""
    yield
    info = os.stat("/dev/null")
    import stat

    if not stat.S_ISCHR(info.st_mode):
        if os.geteuid() == 0:
            os.replace("/dev/null", "/tmp/driftcheck-clobbered-dev-null")
            os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod("/dev/null", 0o666)
        pytest.fail("/dev/null is no longer a character device after this test (restored; the clobbered file "
                    "is /tmp/driftcheck-clobbered-dev-null)")
