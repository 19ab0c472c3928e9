"""A Go/bash check never imports the YAML/JSON grammars or the data backends."""

from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES

PROBE = """
import sys
from driftcheck.cli import main
try:
    main(["check", "--root", sys.argv[1]])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith(("tree_sitter_yaml", "tree_sitter_json", "dotenv",
                                                        "driftcheck.languages.yaml", "driftcheck.languages.json",
                                                        "driftcheck.languages.dotenv", "driftcheck.languages.datatree")))
print("loaded:" + ",".join(loaded))
"""


def test_a_go_and_bash_check_imports_no_data_backend() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(FIXTURES / "in-sync")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "in sync" in proc.stdout
    assert proc.stdout.strip().split("\n")[-1] == "loaded:"
