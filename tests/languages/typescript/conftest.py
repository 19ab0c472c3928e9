"""Fixtures of the TypeScript/JavaScript tests: node with the real TypeScript compiler, and the figures."""

from __future__ import annotations

import shutil
from typing import Any, Iterator

import pytest

from .node_oracle import STATS, NodeTypeScript, install


@pytest.fixture(scope="session")
def node_ts() -> Iterator[Any]:
    package, why = install()
    if package is None:
        pytest.skip(f"the TypeScript differential tests need node and npm: {why}")
    yield NodeTypeScript(package, shutil.which("node") or "node")


@pytest.fixture(scope="session")
def typescript_node_path(node_ts: Any) -> str:
    """NODE_PATH under which the DC101 oracle finds the installed compiler."""
    return str(node_ts.typescript.parent)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STATS:
        return
    terminalreporter.section("driftcheck typescript differential tests")
    for line in sorted(STATS):
        terminalreporter.write_line(f"{line}: {STATS[line]}")
