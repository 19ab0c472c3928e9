"""The real YAML 1.2 loader, the `yaml` npm package, run by node: installed once per machine for the tests.

`npm install --no-save yaml@2` into a directory under the temporary folder (a lock keeps
parallel test workers from installing twice). `loader()` is None only when node or npm
is missing or the install fails; tests then skip with that reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

_SCRIPT = r"""
const YAML = require('yaml');
let src = '';
process.stdin.on('data', d => src += d);
process.stdin.on('end', () => {
  const out = JSON.parse(src).map(text => {
    try {
      const docs = YAML.parseAllDocuments(text, {uniqueKeys: true});
      const list = Array.isArray(docs) ? docs : [docs];
      for (const doc of list) {
        if (doc.errors && doc.errors.length) return {ok: false, error: doc.errors[0].message.split('\n')[0]};
      }
      if (list.length !== 1) return {ok: true, documents: list.length};
      return {ok: true, documents: 1, value: list[0].toJS({maxAliasCount: -1})};
    } catch (e) {
      return {ok: false, error: String(e.message || e).split('\n')[0]};
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@lru_cache(maxsize=None)
def install() -> tuple[Path | None, str]:
    """(node_modules folder holding `yaml`, "") or (None, why not)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "node and npm are needed for the YAML 1.2 oracle"
    folder = Path(tempfile.gettempdir()) / f"driftcheck-node-yaml-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "node_modules" / "yaml" / "package.json").exists():
            proc = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "yaml@2"], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                return None, f"npm install yaml@2 failed: {proc.stderr.strip()[-300:]}"
    return folder / "node_modules", ""


def load_all(texts: list[str]) -> list[dict[str, Any]]:
    """What the `yaml` package makes of each text: {"ok", "value"/"error", "documents"}."""
    modules, why = install()
    assert modules is not None, why
    proc = subprocess.run(["node", "-e", _SCRIPT], input=json.dumps(texts), capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NODE_PATH": str(modules)})
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    return result


# Differential counts for the data languages, printed once after the run (see conftest.py beside the tests).
STATS: dict[str, dict[str, int]] = {}
_printed = False


def record(language: str, compared: int, refused: int, note: str = "") -> None:
    stats = STATS.setdefault(language, {"compared": 0, "refused": 0})
    stats["compared"] += compared
    stats["refused"] += refused


def terminal_summary(terminalreporter: Any) -> None:
    global _printed
    if not STATS or _printed:
        return
    _printed = True
    terminalreporter.section("driftcheck differential tests (data languages)")
    oracles = {"yaml": "the YAML 1.2 loader (yaml npm)", "json": "Python's json", "dotenv": "python-dotenv"}
    for language in sorted(STATS):
        stats = STATS[language]
        terminalreporter.write_line(f"{language}: {stats['compared']} generated lists read exactly as "
                                    f"{oracles.get(language, language)} reads them, {stats['refused']} refused "
                                    "(each refusal checked against the oracle)")
