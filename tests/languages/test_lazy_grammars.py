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


GRAMMAR_PROBE = """
import sys
from driftcheck.cli import main
try:
    main(["check", "--root", sys.argv[1]])
except SystemExit:
    pass
print("resources:" + str("importlib.resources" in sys.modules))
import tree_sitter_go, tree_sitter_bash  # the packages still import the ordinary way afterwards
from tree_sitter import Language
from driftcheck.languages.common import ts_parser
print("same:" + str(ts_parser("go").language == Language(tree_sitter_go.language()) and
                    ts_parser("bash").language == Language(tree_sitter_bash.language())))
"""


def test_a_check_loads_the_compiled_grammars_without_their_packages_query_files() -> None:
    proc = subprocess.run([sys.executable, "-c", GRAMMAR_PROBE, str(FIXTURES / "in-sync")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "in sync" in proc.stdout
    lines = proc.stdout.strip().split("\n")
    assert lines[-2:] == ["resources:False", "same:True"]


def test_a_grammar_package_without_a_binding_module_is_imported_the_ordinary_way(tmp_path, monkeypatch) -> None:
    package = tmp_path / "grammar_without_binding"
    package.mkdir()
    (package / "__init__.py").write_text("def language():\n    return 'from the package'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from driftcheck.languages.common import _compiled_grammar

    module = _compiled_grammar("grammar_without_binding")
    assert module.__name__ == "grammar_without_binding"
    assert module.language() == "from the package"
