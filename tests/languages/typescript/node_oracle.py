"""node as the judge: TypeScript's own type stripping (`ts.transpileModule`), then the module is evaluated.

The `typescript` npm package is installed once into a fixed cache directory (DRIFTCHECK_NODE_CACHE, default
~/.cache/driftcheck-tests/node), under a file lock so parallel test workers share one install.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Figures for the terminal summary (conftest.py).
STATS: Counter[str] = Counter()

_HARNESS = r"""
const ts = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
function __dcKeys(v) {
  if (v instanceof Set) v = [...v];
  if (Array.isArray(v)) {
    const flat = v.flatMap(e => Array.isArray(e) ? e : [e]);
    if (!flat.every(e => typeof e === "string")) throw new Error("not all strings: " + JSON.stringify(flat));
    return flat;
  }
  if (typeof v === "object" && v !== null) return Object.keys(v);
  throw new Error("not a list: " + typeof v);
}
const out = [];
for (const c of cases) {
  try {
    // The getter is declared first, so a module that throws part-way still shows the list as it was then.
    const src = "globalThis.__dcGet = () => __dcKeys(" + c.expr + ");\n" + c.source + "\n;globalThis.__dcDone = 1;\n";
    const fileName = c.file.replace(/\.m?c?ts$/, ".ts").replace(/\.[mc]js$/, ".js");
    const res = ts.transpileModule(src, { fileName, reportDiagnostics: true, compilerOptions: {
      module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.React, alwaysStrict: true } });
    if (res.diagnostics && res.diagnostics.length) {
      out.push({ error: "rejected: " + ts.flattenDiagnosticMessageText(res.diagnostics[0].messageText, " ") });
      continue;
    }
    globalThis.__dcDone = 0;
    const module = { exports: {} };
    const quiet = { log() {}, error() {}, warn() {} };
    const React = { createElement() { return {}; } };
    let thrown = null;
    try {
      new Function("exports", "require", "module", "__dcKeys", "console", "React", res.outputText)(
        module.exports, () => ({}), module, __dcKeys, quiet, React);
    } catch (e) { thrown = String(e && e.message || e); }
    let keys = null;
    try { keys = globalThis.__dcGet(); } catch (e) { thrown = thrown || String(e && e.message || e); }
    out.push(keys === null ? { error: thrown } : thrown ? { keys, threw: thrown } : { keys });
  } catch (e) {
    out.push({ error: String(e && e.message || e) });
  }
}
process.stdout.write(JSON.stringify(out));
"""


@dataclass(frozen=True)
class NodeCase:
    file: str  # file name (the extension picks TS, TSX or JS parsing)
    source: str
    expr: str  # a JS expression of the selected value, e.g. X.map(e => e.envVar)


class NodeTypeScript:
    def __init__(self, typescript: Path, node: str) -> None:
        self.typescript = typescript
        self.node = node

    def evaluate(self, cases: list[NodeCase]) -> list[dict[str, object]]:
        payload = json.dumps([{"file": c.file, "source": c.source, "expr": c.expr} for c in cases])
        proc = subprocess.run([self.node, "-e", _HARNESS, str(self.typescript)], input=payload, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        result: list[dict[str, object]] = json.loads(proc.stdout)
        return result


def install() -> tuple[Path | None, str]:
    """(the typescript package directory, "") or (None, why it could not be installed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, "node or npm is not installed"
    cache = Path(os.environ.get("DRIFTCHECK_NODE_CACHE") or Path.home() / ".cache" / "driftcheck-tests" / "node")
    cache.mkdir(parents=True, exist_ok=True)
    package = cache / "node_modules" / "typescript"
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (package / "package.json").exists():
            proc = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(cache),
                                   "typescript@5"], capture_output=True, text=True, timeout=600,
                                  stdin=subprocess.DEVNULL)
            if proc.returncode != 0 or not (package / "package.json").exists():
                return None, "npm install typescript@5 failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return package, ""
