"""The click layer is a package of small modules, with no import cycle with the console entry point."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest

CLI = Path(__file__).resolve().parents[2] / "driftcheck" / "cli"


@pytest.mark.parametrize("module, command", [
    ("driftcheck.cli.check", "check"), ("driftcheck.cli.extract", "extract"), ("driftcheck.cli.run", "run_command"),
    ("driftcheck.cli.fix", "fix"),
])
def test_one_module_per_command(module: str, command: str) -> None:
    assert isinstance(getattr(importlib.import_module(module), command), click.Command)


def test_names_other_packages_import_stay_importable_from_driftcheck_cli() -> None:
    import driftcheck.cli as cli
    from driftcheck.cli import options, output

    assert (cli.check_options, cli.make_options, cli.output_options) == (
        options.check_options, options.make_options, options.output_options)
    assert (cli.use_color, cli.emit) == (output.use_color, output.emit)
    from driftcheck.gate import run_command

    assert run_command is importlib.import_module("driftcheck.cli.run").run_command


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_cli_never_imports_the_console_module() -> None:
    # driftcheck.console imports the command line; the shared wording lives in cli.output.
    offenders = [p.name for p in CLI.glob("*.py") if any(m == "driftcheck.console" for m in _imports(p))]
    assert offenders == []
    assert "driftcheck.cli.output" in _imports(CLI.parent / "console.py")


def test_check_options_are_built_in_one_place() -> None:
    # Every command that checks builds its CheckOptions through options.make_options (e2e, fix, check, run).
    sources = {p.name: p.read_text(encoding="utf-8") for p in CLI.glob("*.py")}
    assert [name for name, text in sources.items() if "CheckOptions(" in text] == ["options.py"]


def test_importing_the_command_line_does_not_import_the_report_formats() -> None:
    code = ("import sys, driftcheck.cli\n"
            "print(sorted(m for m in sys.modules if m.startswith(('driftcheck.report', 'driftcheck.console'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
