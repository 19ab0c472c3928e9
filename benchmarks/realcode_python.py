#!/usr/bin/env python3
"""Real code: every literal string list of CPython's stdlib, read by the old and the new Python reader.

    python benchmarks/realcode_python.py --old /path/to/worktree-of-525cf1a [--new .] [--json out.json]

Candidates: each module-level `NAME = <display>` (list, tuple, set, dict keys, or
frozenset/set/tuple/list of one) whose elements are all string literals, in every
`.py` file of the running interpreter's stdlib (site-packages excluded). Each
candidate is extracted by both trees (one subprocess each, `PYTHONPATH` pointing at
the tree) and compared with the truth:

- imported: the value the module holds after `import` in a fresh interpreter (modules
  that start GUIs, print, or are `__main__` scripts are not imported), else
- literal: `ast.literal_eval` of the definition's value (the list as written).

A read that differs from the truth is WRONG; the script prints exact/refused/wrong for
each tree, and for every list the new tree refuses but the old one read, the class of
the reason (from the finding's message).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from collections import Counter
from pathlib import Path

_EXTRACT = r"""
import json, sys
from pathlib import Path
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles
try:
    from driftcheck.languages.driver import extract_list
except ImportError:
    from driftcheck.extract import extract_list
root = Path(sys.argv[1])
files = SourceFiles(root)
out = []
for path, name in json.load(open(sys.argv[2])):
    try:
        r = extract_list(ListRef(f"{path}:{name}", path, name, "python"), files)
        bad = [f for f in r.findings if f.exit_code == 2]
        out.append([None if r.keys is None else list(r.key_names),
                    [[f.code, f.line, f.message] for f in bad[:3]]])
    except Exception as exc:  # a crash is a refusal with a reason, and counted
        out.append([None, [["CRASH", 0, repr(exc)]]])
json.dump(out, sys.stdout)
"""

_IMPORT = r"""
import contextlib, importlib, io, json, sys
out = {}
wanted = json.load(open(sys.argv[1]))
for module, names in wanted.items():
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            mod = importlib.import_module(module)
    except BaseException:
        continue
    for name in names:
        value = vars(mod).get(name)
        if isinstance(value, (set, frozenset)):
            out[f"{module}:{name}"] = ["set", sorted(value)]
        elif isinstance(value, (list, tuple)) or type(value) is dict:
            out[f"{module}:{name}"] = ["ordered", list(value)]
json.dump(out, sys.stdout)
"""

# Modules not imported for the truth: GUIs, side effects on import, scripts.
_NO_IMPORT = re.compile(r"^(antigravity|this|idlelib|tkinter|turtle|turtledemo|ensurepip|venv|lib2to3\.tests|"
                        r"test\.|pydoc_data|xxlimited|__phello__|_pyrepl)|(^|\.)__main__$")


def candidates(stdlib: Path) -> list[tuple[str, str, str, object]]:
    """(relative path, module, name, literal value) for every literal string list at module level."""
    out = []
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        if rel.parts[0] == "site-packages":
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        module = ".".join(rel.with_suffix("").parts)
        module = module[:-len(".__init__")] if module.endswith(".__init__") else module
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            literal = _literal(value)
            if literal is not None:
                out.append((rel.as_posix(), module, target.id, literal))
    return out


def _literal(node: ast.expr) -> object:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("frozenset", "set",
                                                                                           "tuple", "list") \
            and len(node.args) == 1 and not node.keywords:
        inner = _literal(node.args[0])
        return None if inner is None else ["set", sorted(inner[1])] if node.func.id in ("set", "frozenset") \
            else ["ordered", inner[1]]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts and \
            all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        values = [e.value for e in node.elts]  # type: ignore[attr-defined]
        return ["set", sorted(set(values))] if isinstance(node, ast.Set) else ["ordered", values]
    if isinstance(node, ast.Dict) and node.keys and \
            all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
        return ["ordered", list(dict.fromkeys(k.value for k in node.keys))]  # type: ignore[union-attr]
    return None


def extract(tree: Path, stdlib: Path, todo: list[tuple[str, str]], work: Path) -> list[list]:
    job = work / "todo.json"
    job.write_text(json.dumps(todo))
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", _EXTRACT, str(stdlib), str(job)], capture_output=True, text=True,
                          env=env, timeout=3600, cwd=work)
    if proc.returncode != 0:
        raise SystemExit(f"extraction with {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def imported(found: list[tuple[str, str, str, object]], work: Path) -> dict[str, list]:
    wanted: dict[str, list[str]] = {}
    for _rel, module, name, _value in found:
        if not _NO_IMPORT.search(module):
            wanted.setdefault(module, []).append(name)
    job = work / "imports.json"
    job.write_text(json.dumps(wanted))
    proc = subprocess.run([sys.executable, "-I", "-c", _IMPORT, str(job)], capture_output=True, text=True,
                          timeout=1800, cwd=work, stdin=subprocess.DEVNULL)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"the import pass failed; using literal values only\n{proc.stderr[-2000:]}", file=sys.stderr)
        return {}


def reason_class(message: str) -> str:
    """A short name for why a list is refused, from the finding's message."""
    rules = [
        ("getattr with a computed name", r"`getattr\(\)` with a computed"),
        ("exec/eval/compile of code", r"`(exec|eval|compile)\(\)`|the code `"),
        ("globals()/vars()/locals()", r"`(globals|vars|locals|__builtins__|builtins)` lets"),
        ("namespace attribute (__dict__, __globals__, ...)", r"hands out a namespace"),
        ("sys.modules", r"sys\.modules"),
        ("import of the module itself / __import__", r"may load (the|this) module"),
        ("alias: a second name for the object", r"second name for the same object"),
        ("passed to a call", r"the call receives|receives \w+ itself"),
        ("returned / handed to the caller", r"hands \w+ to the caller"),
        ("method on the list", r"may change it; put every key|hands out \w+ \(a bound method"),
        ("stored in another container", r"stored inside another container"),
        ("comparison operand", r"comparison hands"),
        ("binary operator operand", r"hands \w+ to the other operand"),
        ("rebinding (import/def/for/with/...)", r"rebinds it|removes it"),
        ("`global NAME` in a function", r"`global \w+` lets"),
        ("builtin rebound in the module", r"is rebound in this module"),
        ("source encoding", r"declares `coding"),
        ("other use", r"cannot tell what this use does"),
    ]
    for label, pattern in rules:
        if re.search(pattern, message):
            return label
    return "other: " + message[:60]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a worktree of the old commit (525cf1a)")
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--json", type=Path, help="write the per-list results here")
    args = parser.parse_args(argv)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = candidates(stdlib)
    todo = [(rel, name) for rel, _module, name, _value in found]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        truth_by_import = imported(found, work)
        results = {label: extract(tree, stdlib, todo, work) for label, tree in (("old", args.old), ("new", args.new))}
    summary: dict[str, Counter[str]] = {"old": Counter(), "new": Counter()}
    newly_refused: Counter[str] = Counter()
    examples: dict[str, str] = {}
    rows = []
    for index, (rel, module, name, literal) in enumerate(found):
        truth = truth_by_import.get(f"{module}:{name}")
        source = "imported" if truth is not None else "literal"
        truth = truth or literal
        row = {"path": rel, "name": name, "truth": source}
        for label in ("old", "new"):
            keys, findings = results[label][index]
            if keys is None:
                verdict = "refused"
            else:
                kind, expected = truth  # type: ignore[misc]
                same = sorted(set(keys)) == expected if kind == "set" else keys == expected
                verdict = "exact" if same else "WRONG"
            summary[label][verdict] += 1
            summary[label][f"{verdict} ({source})"] += 1
            row[label] = verdict
            row[f"{label}_why"] = findings[0][2] if findings else ""
        if row["old"] == "exact" and row["new"] == "refused":
            cls = reason_class(str(row["new_why"]))
            newly_refused[cls] += 1
            examples.setdefault(cls, f"{rel}:{name}: {row['new_why']}")
        rows.append(row)
    print(f"CPython {sys.version.split()[0]} stdlib: {len(found)} literal string lists in "
          f"{len({r for r, *_ in found})} files ({sum(1 for r in rows if r['truth'] == 'imported')} judged by import)")
    for label in ("old", "new"):
        c = summary[label]
        print(f"  {label}: exact {c['exact']}, refused {c['refused']}, wrong {c['WRONG']}")
    print(f"  read before, refused now: {sum(newly_refused.values())}")
    for cls, count in newly_refused.most_common():
        print(f"    {count:4d}  {cls}   e.g. {examples[cls][:150]}")
    read_now = [r for r in rows if r["old"] == "refused" and r["new"] == "exact"]
    print(f"  refused before, read now: {len(read_now)}")
    if args.json:
        args.json.write_text(json.dumps({"summary": {k: dict(v) for k, v in summary.items()},
                                         "newly_refused": dict(newly_refused), "rows": rows}, indent=1))
    return 1 if summary["new"]["WRONG"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
