"""When tree-sitter cannot parse a file: ask the language itself before calling it a syntax error (DC101).

JavaScript files (`.js .mjs .cjs`) are judged by `node --check`; TypeScript and JSX files by the TypeScript
compiler's parser (`ts.createSourceFile` parse diagnostics), found from the file's directory the way node
resolves modules (the project's own `node_modules`), then on NODE_PATH. Only reached on the error path, so
a check of a file that parses never starts node.
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
const kinds = { ".tsx": ts.ScriptKind.TSX, ".jsx": ts.ScriptKind.JSX, ".js": ts.ScriptKind.JS,
                ".mjs": ts.ScriptKind.JS, ".cjs": ts.ScriptKind.JS };
const kind = kinds[path.extname(file).toLowerCase()] || ts.ScriptKind.TS;
const text = fs.readFileSync(file, "utf8");
const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
process.stdout.write(JSON.stringify((sf.parseDiagnostics || []).map(d => {
  const p = sf.getLineAndCharacterOfPosition(d.start);
  return { line: p.line + 1, column: p.character + 1, message: ts.flattenDiagnosticMessageText(d.messageText, " ") };
})));
"""


def judge_syntax(source: SourceFile, root: Any, name: str, grammar: str) -> Finding | None:
    """DC101 when the language rejects the file; DC102 when tree-sitter misparses the list's own region;
    None when the language accepts the file and the misparsed region cannot touch the list."""
    node = first_error_node(root)
    row, col = node.start_point if node is not None else (0, 0)
    line, column = row + 1, source.point_column(row, col)
    verdict = _ask(source, grammar)
    if verdict is None:
        return rules.finding(
            "DC101", source.display, line, column,
            detail=f"tree-sitter-{'javascript' if grammar == 'javascript' else 'typescript'} cannot parse line "
                   f"{line} (the TypeScript compiler is not installed to confirm: `npm install typescript` in "
                   "the project makes the check exact); fix the file so it parses")
    if verdict:
        first = verdict[0]
        return rules.finding("DC101", source.display, first[0], first[1],
                             detail=f"{_judge(source, grammar)} rejects the file: {first[2]}")
    region = source.data[node.start_byte:node.end_byte] if node is not None else source.data
    if name.encode("utf-8") in region or node is None:
        return rules.finding(
            "DC102", source.display, line, column,
            detail=f"tree-sitter cannot parse line {line}, which {_judge(source, grammar)} accepts, and {name} "
                   "is spelled there; driftcheck cannot read the list around it")
    return None


def _judge(source: SourceFile, grammar: str) -> str:
    return "node" if _uses_node_check(source, grammar) else "the TypeScript compiler"


def _uses_node_check(source: SourceFile, grammar: str) -> bool:
    return source.path.suffix.lower() in (".js", ".mjs", ".cjs")


def _ask(source: SourceFile, grammar: str) -> list[tuple[int, int, str]] | None:
    """The language's syntax errors ([] = accepted), or None when no judge is installed."""
    node = shutil.which("node")
    if node is None:
        return None
    if _uses_node_check(source, grammar):
        try:
            proc = subprocess.run([node, "--check", str(source.path)], capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if proc.returncode == 0:
            return []
        return [_node_error(proc.stderr, source)]
    try:
        proc = subprocess.run([node, "-e", _TS_SCRIPT, str(source.path)], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        result = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if result is None:
        return None
    return [(d["line"], d["column"], d["message"]) for d in result]


def _node_error(stderr: str, source: SourceFile) -> tuple[int, int, str]:
    """node --check prints `FILE:LINE`, the line, a caret, a blank line and `SyntaxError: ...`."""
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
