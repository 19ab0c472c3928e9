"""Confirming a tree-sitter-yaml error with a real YAML loader before calling it DC101.

Only on the error path. First choice: the `yaml` npm package (YAML 1.2) through
`node`, found in `node_modules` at or above the file, or under `DRIFTCHECK_NODE_PATH`.
Fallback: PyYAML, a YAML 1.1 loader (the message says so). With neither, the
finding says the error is tree-sitter's and unconfirmed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from driftcheck import rules
from driftcheck.languages.common import first_error_node
from driftcheck.model import Finding
from driftcheck.sources import SourceFile

_NODE_SCRIPT = r"""
const YAML = require('yaml');
let src = '';
process.stdin.on('data', d => src += d);
process.stdin.on('end', () => {
  const docs = YAML.parseAllDocuments(src, {uniqueKeys: true});
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors && doc.errors.length) {
      const e = doc.errors[0];
      const pos = e.linePos && e.linePos[0] || {line: 0, col: 0};
      process.stdout.write(JSON.stringify({ok: false, line: pos.line, col: pos.col,
                                           message: e.message.split('\n')[0]}));
      return;
    }
  }
  process.stdout.write(JSON.stringify({ok: true}));
});
"""


def node_paths(start: Path) -> list[str]:
    """`node_modules` folders that may hold the `yaml` package: the env override, then upward from `start`."""
    paths = [p for p in os.environ.get("DRIFTCHECK_NODE_PATH", "").split(os.pathsep) if p]
    for folder in [start, *start.parents]:
        candidate = folder / "node_modules"
        if (candidate / "yaml").is_dir():
            paths.append(str(candidate))
            break
    return paths


def run_node_loader(text: str, start: Path) -> dict[str, Any] | None:
    """What the `yaml` npm package says of `text`, or None when node or the package is not available."""
    node = shutil.which("node")
    paths = node_paths(start)
    if node is None or not paths:
        return None
    try:
        proc = subprocess.run([node, "-e", _NODE_SCRIPT], input=text, capture_output=True, text=True, timeout=30,
                              env={**os.environ, "NODE_PATH": os.pathsep.join(paths)})
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None  # typically: the package cannot be required
    try:
        result: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        return None
    return result


def confirm_error(source: SourceFile, root: Any) -> Finding:
    """DC101 when a YAML loader rejects the file too; otherwise an honest refusal naming tree-sitter."""
    node = first_error_node(root)
    row, col = node.start_point if node is not None else (0, 0)
    line, column = row + 1, source.point_column(row, col)
    path = source.display
    verdict = run_node_loader(source.text, source.path.parent)
    if verdict is not None:
        if not verdict["ok"]:
            return rules.finding("DC101", path, int(verdict["line"]) or line, int(verdict["col"]) or column,
                                 detail=f"YAML syntax error (the YAML 1.2 loader `yaml` says: {verdict['message']}); "
                                 "fix the file so it parses")
        return _misparse(path, line, column, "the YAML 1.2 loader `yaml`")
    try:
        import yaml as pyyaml  # PyYAML: YAML 1.1, only a fallback
    except ImportError:
        return rules.finding("DC101", path, line, column,
                             detail="YAML syntax error according to tree-sitter-yaml (not confirmed: neither node "
                             "with the `yaml` package nor PyYAML is available); fix the file so it parses")
    try:
        for _ in pyyaml.load_all(source.text, Loader=pyyaml.SafeLoader):
            pass
    except pyyaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (mark.line + 1, mark.column + 1) if mark is not None else (line, column)
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        return rules.finding("DC101", path, where[0], where[1],
                             detail=f"YAML syntax error (PyYAML, a YAML 1.1 loader, says: {problem}); "
                             "fix the file so it parses")
    return _misparse(path, line, column, "PyYAML (a YAML 1.1 loader)")


def _misparse(path: str, line: int, column: int, loader: str) -> Finding:
    return rules.finding("DC102", path, line, column,
                         detail=f"tree-sitter-yaml cannot parse this line, which {loader} accepts; driftcheck "
                         "cannot read the file exactly, so it refuses it (simplify the construct here)")
