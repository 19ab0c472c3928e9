#!/usr/bin/env python3
"""Real bash projects: every top-level variable read by an old driftcheck and by this one, checked with bash.

    python benchmarks/realcode_shell.py --old /tmp/shell-old DIR [DIR ...]

For every `.sh`/`.bash` file (and extensionless files with a bash shebang) under each DIR,
every name assigned at the top level is extracted twice, in worker processes: with the
driftcheck at `--old` (a worktree of an earlier commit) and with this tree. Reported:
exact/refused counts for each, values that differ between the two (must be 0 where both
read), and for every name the old version read and this one refuses, the reason class
(the first refusal's code and the start of its message).

bash is the judge for a bounded sample: a list whose definition is one literal statement
(no command substitution, no expansion) is cut out of the file and run alone by bash in
an empty directory with an empty environment; its value must equal driftcheck's. Whole
files are never run: arbitrary scripts are not safe to execute.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
_SHEBANG = re.compile(rb"#!\s*(/usr)?/bin/(env\s+)?bash\b")
_WORKER = r"""
import json, sys
from pathlib import Path
try:
    from driftcheck.languages.driver import extract_list
except ImportError:
    from driftcheck.extract import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles
out = []
for root, path, name in json.load(sys.stdin):
    files = SourceFiles(Path(root))
    try:
        r = extract_list(ListRef(f"{path}:{name}", path, name, "shell"), files)
    except Exception as error:  # a crash is a result too
        out.append({"crash": repr(error)[:200]})
        continue
    if r.keys is None:
        first = min(r.findings, key=lambda f: (f.exit_code != 2, f.line)) if r.findings else None
        out.append({"codes": sorted({f.code for f in r.findings}),
                    "why": first.message[:160] if first else "", "line": first.line if first else 0})
    else:
        span = r.value_span
        out.append({"keys": [k.key for k in r.keys], "def_line": r.definition.line if r.definition else 0,
                    "key_lines": [k.line for k in r.keys],
                    "span": [span.start_byte, span.end_byte] if span else None})
print(json.dumps(out))
"""
_WHICH = "import driftcheck, sys; print(driftcheck.__file__)"


def bash_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 1_000_000:
            continue
        if path.suffix in (".sh", ".bash"):
            found.append(path)
        elif not path.suffix:
            with path.open("rb") as handle:
                if _SHEBANG.match(handle.read(64)):
                    found.append(path)
    return found


def top_level_names(data: bytes) -> list[str]:
    """Names assigned by top-level statements (tree-sitter-bash; what a user could ask for)."""
    from tree_sitter import Language, Parser
    import tree_sitter_bash

    tree = Parser(Language(tree_sitter_bash.language())).parse(data)
    names: set[str] = set()
    for node in tree.root_node.children:
        candidates = [node] if node.type == "variable_assignment" else (
            [c for c in node.children if c.type == "variable_assignment"]
            if node.type == "declaration_command" else [])
        for assignment in candidates:
            target = assignment.child_by_field_name("name")
            if target is not None and target.type == "variable_name":
                names.add(data[target.start_byte:target.end_byte].decode())
    return sorted(names)


def run_worker(tree: Path, jobs: list[tuple[str, str, str]]) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # cwd=tree: `python -c` puts the working directory first on sys.path, before PYTHONPATH.
    proc = subprocess.run([sys.executable, "-c", _WORKER], input=json.dumps(jobs), capture_output=True, text=True,
                          env=env, cwd=tree, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"worker for {tree} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def bash_value(statement: bytes, name: str) -> list[str] | None:
    """The value bash gives `name` after running only `statement`, in an empty directory and environment."""
    probe = (f'\n__f=$(declare -p {name} 2>/dev/null | cut -d" " -f2); set -f\n'
             f'if [[ $__f == -*a* ]]; then for __k in "${{{name}[@]}}"; do printf "%s\\0" "$__k"; done\n'
             f'else for __k in ${name}; do printf "%s\\0" "$__k"; done; fi\n')
    with tempfile.TemporaryDirectory() as empty:
        script = Path(empty) / "s.sh"
        script.write_bytes(b"exec 2>/dev/null\n" + statement + probe.encode())
        try:
            proc = subprocess.run(["bash", "--norc", "--noprofile", str(script)], cwd=empty, capture_output=True,
                                  timeout=5, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None
    return [w.decode("utf-8", "replace") for w in proc.stdout.split(b"\0")[:-1]]


def reason_class(result: dict) -> str:
    why = result.get("why", "")
    code = "/".join(result.get("codes", [])) or "crash"
    clause = why.split(":", 1)[1] if why.startswith("cannot prove") else why
    return f"{code}: {' '.join(clause.split()[:9])}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="a worktree of the earlier driftcheck")
    parser.add_argument("--sample", type=int, default=400, help="how many read lists bash checks")
    parser.add_argument("dirs", type=Path, nargs="+")
    args = parser.parse_args()
    jobs: list[tuple[str, str, str]] = []
    for root in args.dirs:
        for path in bash_files(root):
            for name in top_level_names(path.read_bytes()):
                jobs.append((str(root.resolve()), str(path.relative_to(root)), name))
    print(f"{len(jobs)} names in {len({(r, p) for r, p, _ in jobs})} files", flush=True)
    for tree in (args.old, REPO):  # each worker must import its own tree
        where = subprocess.run([sys.executable, "-c", _WHICH], capture_output=True, text=True, cwd=tree,
                               env={**os.environ, "PYTHONPATH": str(tree)}).stdout.strip()
        assert where.startswith(str(tree.resolve())), (tree, where)
    old = run_worker(args.old, jobs)
    new = run_worker(REPO, jobs)
    counts: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    gained: Counter[str] = Counter()
    differ: list[str] = []
    lost_examples: dict[str, str] = {}
    sampled = checked = bash_wrong = 0
    wrong_examples: list[str] = []
    for (root, path, name), before, after in zip(jobs, old, new):
        counts["old read" if "keys" in before else "old refused"] += 1
        counts["new read" if "keys" in after else "new refused"] += 1
        counts["crash (new)"] += "crash" in after
        if "keys" in before and "keys" in after and before["keys"] != after["keys"]:
            differ.append(f"{path}:{name}: old {before['keys'][:6]} new {after['keys'][:6]}")
        if "keys" not in before and "keys" in after:
            gained[reason_class(before)] += 1
        if "keys" in before and "keys" not in after:
            reason = reason_class(after)
            lost[reason] += 1
            lost_examples.setdefault(reason, f"{path}:{name} (line {after.get('line')})")
        if "keys" in after and sampled < args.sample and after["span"] and set(after["key_lines"]) <= set(
                range(after["def_line"], after["def_line"] + 400)):
            data = (Path(root) / path).read_bytes()
            line_start = data.rfind(b"\n", 0, after["span"][0]) + 1
            statement = data[line_start:after["span"][1]]
            if b"$" in statement or b"`" in statement or b"<" in statement or b">" in statement:
                continue  # only literal definitions: nothing to expand, run or redirect
            sampled += 1
            got = bash_value(statement + b"\n", name)
            if got is None:
                continue
            checked += 1
            if got != after["keys"]:
                bash_wrong += 1
                wrong_examples.append(f"{path}:{name}: bash {got[:6]} driftcheck {after['keys'][:6]}")
    print(json.dumps(counts, indent=1))
    print(f"values that differ where both read: {len(differ)}")
    for line in differ[:20]:
        print("  ", line)
    print(f"bash-checked sample: {checked} lists, {bash_wrong} wrong")
    for line in wrong_examples[:20]:
        print("  ", line)
    print(f"refused before, read now: {sum(gained.values())}, by the old reason:")
    for reason, count in gained.most_common():
        print(f"  {count:5}  {reason}")
    print(f"read before, refused now: {sum(lost.values())}, by reason:")
    for reason, count in lost.most_common():
        print(f"  {count:5}  {reason}   e.g. {lost_examples[reason]}")


if __name__ == "__main__":
    main()
