"""When tree-sitter cannot parse a file: ask the language itself before calling it a syntax error (DC101).

The judge is the TypeScript compiler's syntactic check (`ts.transpileModule` diagnostics: the parser's, plus
"types are not allowed in a .js file"), found from the file's directory the way node resolves modules (the
project's own `node_modules`), then on NODE_PATH. Without it, a `.js .mjs .cjs` file is judged by
`node --check` (fed on stdin with the module type made explicit: node 20 accepts any `.js` file whose
CommonJS parse fails on `export` without parsing it as a module); a TypeScript file by nobody, and the
message says so. Only reached on the error path, so a check of a file that parses never starts node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from driftcheck import rules
from driftcheck.languages.common import first_error_node
from driftcheck.model import Finding
from driftcheck.sources import SourceFile

_TS_SCRIPT = r"""
const fs = require("fs"), path = require("path");
const file = process.argv[1];
let ts;
try { ts = require(require.resolve("typescript", { paths: [path.dirname(file)] })); }
catch (e) { try { ts = require("typescript"); } catch (e2) { process.stdout.write("null"); process.exit(0); } }
const names = { ".tsx": "x.tsx", ".jsx": "x.jsx", ".js": "x.js", ".mjs": "x.js", ".cjs": "x.js" };
const fileName = names[path.extname(file).toLowerCase()] || "x.ts";
const text = fs.readFileSync(file, "utf8");
const out = ts.transpileModule(text, { fileName, reportDiagnostics: true });
const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest);
process.stdout.write(JSON.stringify((out.diagnostics || []).map(d => {
  const p = sf.getLineAndCharacterOfPosition(d.start || 0);
  return { line: p.line + 1, column: p.character + 1, message: ts.flattenDiagnosticMessageText(d.messageText, " ") };
})));
"""


def judge_syntax(source: SourceFile, root: Any, name: str, grammar: str) -> Finding | None:
    """DC101 when the language rejects the file; DC102 when tree-sitter misparses the list's own region;
    None when the language accepts the file and the misparsed region cannot touch the list."""
    node = first_error_node(root)
    row, col = node.start_point if node is not None else (0, 0)
    line, column = row + 1, source.point_column(row, col)
    verdict, judge = _ask(source, root, grammar)
    if verdict is None:
        return rules.finding(
            "DC101", source.display, line, column,
            detail=f"tree-sitter-{'javascript' if grammar == 'javascript' else 'typescript'} cannot parse line "
                   f"{line} (the TypeScript compiler is not installed to confirm: `npm install typescript` in "
                   "the project makes the check exact); fix the file so it parses")
    if verdict:
        first = verdict[0]
        return rules.finding("DC101", source.display, first[0], first[1],
                             detail=f"{judge} rejects the file: {first[2]}")
    needle = name.encode("utf-8")
    if node is None or any(needle in source.data[n.start_byte:n.end_byte] or b"\\u" in source.data[n.start_byte:n.end_byte]
                           for n in _error_nodes(root)):
        return rules.finding(
            "DC102", source.display, line, column,
            detail=f"tree-sitter cannot parse line {line}, which {judge} accepts, and {name} "
                   "is spelled there; driftcheck cannot read the list around it")
    return None


def _error_nodes(root: Any) -> list[Any]:
    out = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            out.append(node.parent if node.is_missing and node.parent is not None else node)
        elif node.has_error:
            stack.extend(node.children)
    return out


def _ask(source: SourceFile, root: Any, grammar: str) -> tuple[list[tuple[int, int, str]] | None, str]:
    """The language's syntax errors ([] = accepted) and who judged, or None when no judge is installed."""
    node = shutil.which("node")
    if node is None:
        return None, ""
    try:
        proc = subprocess.run([node, "-e", _TS_SCRIPT, str(source.path)], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        result = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        result = None
    if result is not None:
        return [(d["line"], d["column"], d["message"]) for d in result], "the TypeScript compiler"
    suffix = source.path.suffix.lower()
    if suffix not in (".js", ".mjs", ".cjs"):
        return None, ""
    esm = suffix == ".mjs" or (suffix == ".js" and any(
        c.type in ("import_statement", "export_statement") for c in root.children))
    try:
        proc = subprocess.run([node, "--check", f"--input-type={'module' if esm else 'commonjs'}"],
                              input=source.data, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    if proc.returncode == 0:
        return [], "node"
    return [_node_error(proc.stderr.decode("utf-8", "replace"))], "node"


def _node_error(stderr: str) -> tuple[int, int, str]:
    """node --check prints `[stdin]:LINE`, the line, a caret, a blank line and `SyntaxError: ...`."""
    lines = stderr.splitlines()
    line = 1
    if lines and ":" in lines[0]:
        tail = lines[0].rsplit(":", 1)[1]
        line = int(tail) if tail.isdigit() else 1
    column = 1
    for index, text in enumerate(lines[1:3], start=1):
        if text.strip() and set(text.strip()) == {"^"}:
            column = text.index("^") + 1
            break
    message = next((t for t in lines if "Error:" in t), "syntax error").strip()
    return line, column, message
