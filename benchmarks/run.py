#!/usr/bin/env python3
"""Benchmark: what does `driftcheck check` cost next to the floor and the alternatives?

    python benchmarks/run.py                 # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # smoke run: 2 runs, small inputs
    python benchmarks/run.py --runs 20 --json out.json

Every command is measured as a whole fresh process (time.perf_counter around
subprocess.run), as a pre-commit hook pays it: one warm-up run, then --runs
rounds in which every row runs once (round robin, so slow drift of the machine
spreads evenly over the rows); median, min and max per row.

The 1.25x target is then judged on --pairs back-to-back pairs of `driftcheck check`
and its floor at the real size (order alternating, ABBA): the median of the
per-pair ratios. On a shared machine the speed drifts within seconds, so two rows
measured minutes apart can differ by 20% for the same work; a pair shares the
moment it ran in.

Rows:
- reference: `python -c pass`, the imports alone, the imports plus libcst;
- floor: a `python -c` that imports click and the tree-sitter parsers and parses
  the same files as the row it is compared to — what a click-based tool built on
  these parsers pays when it imports them the ordinary way (libcst too when a
  Python mirror is checked); two reference variants at the real size: without
  cycle collection and teardown (`floor:1x-lean`), and loading the grammars'
  compiled modules directly as driftcheck does (`floor:1x-direct`, also measured
  in pairs: `paired_to_direct_floor`, reported, not judged);
- driftcheck: `driftcheck check` on generated repositories (benchmarks/repogen.py)
  at the real size, 10x, the largest size under sources.MAX_FILE_BYTES and 100x
  (over the limit: expected exit 2, DC105), with 1/10/100 contracts, and with a
  Python (libcst) mirror next to the bash one;
- alternatives: benchmarks/alternatives/naive.sh (grep/sed/sort/comm) and
  benchmarks/alternatives/astgrep.sh (two ast-grep rules + jq/sort/comm).

Then a table of traps: driftcheck and each alternative on the bundled Go/bash
fixtures (fixtures/*/README.md says the expected exit code). Right = the same
verdict (0 in sync, 1 drift); a fixture expecting 2 (cannot decide) counts as
right for an alternative when it fails the check at all (non-zero exit).

Every row records its exit codes; a row whose exit code is not the expected one
is flagged in the table and in the JSON (`exit_ok: false`), never dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO / "fixtures"
ALTERNATIVES = HERE / "alternatives"
sys.path.insert(0, str(HERE))

import repogen  # noqa: E402  (benchmarks/repogen.py)

try:
    from driftcheck.sources import MAX_FILE_BYTES
except ImportError:  # pragma: no cover - driftcheck not installed in this interpreter
    sys.path.insert(0, str(REPO))
    from driftcheck.sources import MAX_FILE_BYTES

PY_PATH = "tests/e2e/helpers/byok.py"
PY_SYMBOL = "STRIP_KEYS"

# The floor: imports plus parsing every file given on the command line, nothing else.
FLOOR_CODE = """\
import sys, ast, click, tree_sitter{libcst}
{grammars}from tree_sitter import Language, Parser
go = Parser(Language(tree_sitter_go.language()))
bash = Parser(Language(tree_sitter_bash.language()))
for path in sys.argv[1:]:
    with open(path, 'rb') as handle:
        data = handle.read()
    if path.endswith('.go'):
        go.parse(data)
    elif path.endswith('.py'):
        ast.parse(data)  # what driftcheck reads Python with (libcst is only for `fix`)
    else:
        bash.parse(data)
"""
# How the floor gets the grammars: the ordinary import, or (a reference row) as driftcheck does, the
# compiled module without its package's __init__ (which imports importlib.resources for query files).
ORDINARY_GRAMMARS = "import tree_sitter_go, tree_sitter_bash\n"
DIRECT_GRAMMARS = """\
from importlib.machinery import PathFinder
from importlib.util import module_from_spec
def grammar(package):
    found = PathFinder.find_spec(package + "._binding", PathFinder.find_spec(package).submodule_search_locations)
    module = module_from_spec(found)
    found.loader.exec_module(module)
    return module
tree_sitter_go, tree_sitter_bash = grammar("tree_sitter_go"), grammar("tree_sitter_bash")
"""


@dataclass
class Row:
    id: str
    group: str  # reference | floor | driftcheck | alternative
    tool: str
    input: str
    argv: list[str]
    cwd: Path
    expected_exit: int
    floor: str | None  # id of the floor row this row is compared with
    files: list[Path] = field(default_factory=list)
    note: str = ""
    skipped: str = ""
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user+sys seconds of the process and its children
    exits: list[int] = field(default_factory=list)
    first_output: str = ""

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def exit_ok(self) -> bool:
        return bool(self.exits) and all(code == self.expected_exit for code in self.exits)


# ---------------------------------------------------------------------------------------------
# Inputs


def max_scale_under_limit(limit: int) -> int:
    """The largest repogen scale whose two files both stay within `limit` bytes."""
    keys = list(repogen.CANONICAL_KEYS)

    def sizes(scale: int) -> tuple[int, int]:
        return (len(repogen.sh_source(keys, filler_functions=252 * scale).encode()),
                len(repogen.go_source(keys, filler_functions=47 * scale).encode()))

    # Start from a linear estimate, then step down: longer function numbers make it slightly superlinear.
    per_scale = max(sizes(2)[0] - sizes(1)[0], sizes(2)[1] - sizes(1)[1])
    scale = max(1, limit // per_scale)
    while scale > 1 and max(sizes(scale)) > limit:
        scale -= 1
    return scale


def python_mirror_source(keys: list[str], filler_functions: int = 24) -> str:
    """tests/e2e/helpers/byok.py: the harness's Python helper with its own STRIP_KEYS copy."""
    listed = "".join(f'    "{k}",\n' for k in keys)
    parts = [
        '"""Helpers for the staging e2e harness (generated for the benchmark)."""\n\n',
        "from __future__ import annotations\n\nimport json\nimport os\n\n",
        "# Keep in sync with secrets.go platformManagedDirectLLMBypassKeys (\"OPENAI_API_KEY\" here is a comment).\n",
        f"{PY_SYMBOL} = frozenset({{\n{listed}}})\n\n",
        "def split_secrets(secrets: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:\n"
        '    """Create-time keys and deferred keys."""\n'
        f"    create = {{k: v for k, v in secrets.items() if k not in {PY_SYMBOL}}}\n"
        f"    deferred = {{k: v for k, v in secrets.items() if k in {PY_SYMBOL}}}\n"
        "    return create, deferred\n\n",
    ]
    for index in range(filler_functions):
        parts.append(
            f"def arm_payload_{index}(arm: str) -> str:\n"
            f'    """Secrets payload for arm variant {index}."""\n'
            "    values = {key: os.environ.get(f\"E2E_{key}\", \"\") for key in sorted(STRIP_KEYS)}\n"
            "    if arm == \"platform\":\n        values = {}\n"
            "    return json.dumps({\"arm\": arm, \"keys\": sorted(values)})\n\n"
        )
    return "".join(parts)


AST_FLOOR = "import ast, sys; ast.parse(open(sys.argv[1], 'rb').read())"


def write_big_python_module(directory: Path) -> Path:
    """A ~6,400-line real module (CPython's own _pydecimal.py when present) ending with a key list."""
    import sysconfig

    directory.mkdir(parents=True, exist_ok=True)
    real = Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py"
    text = real.read_text(encoding="utf-8") if real.exists() else python_mirror_source(
        list(repogen.CANONICAL_KEYS), filler_functions=640)
    keys = "".join(f'    "{key}",\n' for key in repogen.CANONICAL_KEYS)
    path = directory / "big_module.py"
    path.write_text(f"{text}\n\n{PY_SYMBOL} = [\n{keys}]\n", encoding="utf-8")
    return path


def repo_files(root: Path, contracts: int = 1) -> list[Path]:
    if contracts <= 1:
        return [root / repogen.GO_PATH, root / repogen.SH_PATH]
    files = []
    for index in range(contracts):
        files += [root / f"svc{index}/secrets.go", root / f"e2e/harness{index}.sh"]
    return files


def write_python_mirror(root: Path) -> tuple[Path, Path]:
    """byok.py plus two configurations over the same repo: bash mirror only, bash + Python mirror."""
    (root / PY_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / PY_PATH).write_text(python_mirror_source(list(repogen.CANONICAL_KEYS)))
    head = (f'[[contract]]\nname = "byok-strip-list"\nsource = "{repogen.GO_PATH}:{repogen.GO_SYMBOL}"\n')
    sh_only = root / "bench-sh.toml"
    with_py = root / "bench-sh-py.toml"
    sh_only.write_text(head + f'mirrors = ["{repogen.SH_PATH}:{repogen.SH_SYMBOL}"]\n')
    with_py.write_text(head + f'mirrors = ["{repogen.SH_PATH}:{repogen.SH_SYMBOL}", "{PY_PATH}:{PY_SYMBOL}"]\n')
    return sh_only, with_py


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class Plan:
    runs: int
    scales: tuple[int, ...]  # under the size limit; the first is 1 (the real size)
    over_limit_scale: int
    contracts: tuple[int, ...]  # beyond 1
    alternative_scales: tuple[int, ...]
    quick: bool
    limit_scale: int  # the largest scale whose files stay within MAX_FILE_BYTES
    pairs: int = 40  # back-to-back driftcheck/floor pairs at the real size, for the 1.25x target


def make_plan(quick: bool, runs: int | None, pairs: int | None = None) -> Plan:
    top = max_scale_under_limit(MAX_FILE_BYTES)
    if quick:
        return Plan(runs=runs or 2, scales=(1, 4), over_limit_scale=100, contracts=(10,), alternative_scales=(1,),
                    quick=True, limit_scale=top, pairs=pairs or 4)
    return Plan(runs=runs or 10, scales=(1, 10, top), over_limit_scale=100, contracts=(10, 100),
                alternative_scales=(1, 10, top), quick=False, limit_scale=top, pairs=pairs or 40)


def tool_path(name: str) -> str | None:
    """A tool from this interpreter's environment first (the venv's bin), else PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def driftcheck_argv() -> list[str]:
    script = tool_path("driftcheck")
    # The console script is what pre-commit runs; `python -m driftcheck` only if it is not installed.
    return [script] if script else [sys.executable, "-m", "driftcheck"]


# driftcheck's console process skips the cycle collector and the interpreter's teardown (as mypy
# does); this variant of the floor does the same, to show what is left once those are equal.
LEAN_PROCESS = "import gc, os\ngc.disable()\n{code}os._exit(0)\n"


def floor_argv(files: list[Path], root: Path, python: bool = False, lean: bool = False,
               direct: bool = False) -> list[str]:
    # reading Python needs no libcst
    code = FLOOR_CODE.format(libcst="", grammars=DIRECT_GRAMMARS if direct else ORDINARY_GRAMMARS)
    if lean:
        code = LEAN_PROCESS.format(code=code)
    return [sys.executable, "-c", code, *(str(f.relative_to(root)) for f in files)]


def build_rows(plan: Plan, work: Path) -> list[Row]:
    dc = driftcheck_argv()
    ast_grep = tool_path("ast-grep")
    rows: list[Row] = []
    scratch = work / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)

    def label(scale: int) -> str:
        return f"{scale}x"

    # Reference points.
    rows.append(Row("python:pass", "reference", "python", "-", [sys.executable, "-c", "pass"], scratch, 0,
                    "floor:1x", note="interpreter start-up"))
    rows.append(Row("python:imports", "reference", "python", "-",
                    [sys.executable, "-c", "import click, tree_sitter, tree_sitter_go, tree_sitter_bash"], scratch, 0,
                    "floor:1x", note="imports, no parsing"))
    rows.append(Row("python:imports+libcst", "reference", "python", "-",
                    [sys.executable, "-c", "import click, tree_sitter, tree_sitter_go, tree_sitter_bash, libcst"],
                    scratch, 0, "floor:1x", note="what a Python mirror adds to the imports"))

    # Python at the speed of CPython's parser: one list read from a ~6,400-line module, next to a bare
    # `python -c "import ast; ast.parse(...)"` of the same file (goal: within 3x).
    big = write_big_python_module(work / "pybig")
    rows.append(Row("floor:py-ast", "floor", "floor", "6,400-line module", [sys.executable, "-c", AST_FLOOR,
                    big.name], big.parent, 0, "floor:py-ast", [big], note="python -c 'import ast; ast.parse(...)'"))
    rows.append(Row("driftcheck:py-extract", "driftcheck", "driftcheck", "6,400-line module",
                    [*dc, "extract", f"{big.name}:{PY_SYMBOL}"], big.parent, 0, "floor:py-ast", [big],
                    note="`driftcheck extract` of one list (goal: within 3x of the ast floor)"))

    # Sizes: the real size, 10x, the largest under the limit, and 100x (over the limit).
    for scale in (*plan.scales, plan.over_limit_scale):
        root = repogen.write_repo(work / f"scale{scale}", scale=scale)
        files = repo_files(root)
        over = any(f.stat().st_size > MAX_FILE_BYTES for f in files)
        floor_id = f"floor:{label(scale)}"
        rows.append(Row(floor_id, "floor", "floor", label(scale), floor_argv(files, root), root, 0, floor_id, files,
                        note="imports + tree-sitter parse of both files"))
        if scale == 1:
            rows.append(Row("floor:1x-lean", "reference", "floor", label(scale),
                            floor_argv(files, root, lean=True), root, 0, "floor:1x", files,
                            note="the floor without cycle collection or interpreter teardown, like driftcheck's process"))
            rows.append(Row("floor:1x-direct", "reference", "floor", label(scale),
                            floor_argv(files, root, direct=True), root, 0, "floor:1x", files,
                            note="the floor loading the grammars' compiled modules directly, as driftcheck does"))
        note = "real size" if scale == 1 else ""
        if over:
            note = f"harness over the {MAX_FILE_BYTES}-byte limit: expected exit 2 (DC105)"
        elif scale == plan.limit_scale:
            note = f"largest scale under the {MAX_FILE_BYTES}-byte limit"
        rows.append(Row(f"driftcheck:{label(scale)}", "driftcheck", "driftcheck", label(scale), [*dc, "check"], root,
                        2 if over else 0, floor_id, files, note=note))
        if scale in plan.alternative_scales:
            rows.append(Row(f"naive:{label(scale)}", "alternative", "naive", label(scale),
                            [str(ALTERNATIVES / "naive.sh"), "."], root, 0, floor_id, files,
                            note="grep/sed/sort/comm"))
            row = Row(f"ast-grep:{label(scale)}", "alternative", "ast-grep", label(scale),
                      [str(ALTERNATIVES / "astgrep.sh"), "."], root, 0, floor_id, files,
                      note="ast-grep rules + jq/sort/comm")
            if ast_grep is None:
                row.skipped = "ast-grep not installed: pip install -e '.[bench]'"
            rows.append(row)
        if scale == 1:
            # The Python mirror: the same repository checked with and without it.
            sh_only, with_py = write_python_mirror(root)
            rows.append(Row("driftcheck:1x+sh-config", "driftcheck", "driftcheck", "1x, config: bash mirror",
                            [*dc, "check", "--config", sh_only.name], root, 0, "floor:1x", files,
                            note="driftcheck.toml-style config, bash mirror only"))
            py_files = [*files, root / PY_PATH]
            rows.append(Row("floor:1x+py", "floor", "floor", "1x + Python mirror", floor_argv(py_files, root, True),
                            root, 0, "floor:1x+py", py_files, note="imports incl. libcst + parse of the three files"))
            rows.append(Row("driftcheck:1x+py", "driftcheck", "driftcheck", "1x, config: bash + Python mirror",
                            [*dc, "check", "--config", with_py.name], root, 0, "floor:1x+py", py_files,
                            note="libcst imported only for this row"))

    # Contracts: N contracts in a real-sized repository (every list in the same two files: parse
    # each once, extract N lists), and N contracts over N copies of the files (N times the input).
    for count in plan.contracts:
        root = repogen.write_repo(work / f"shared{count}", contracts=count, shared=True)
        files = repo_files(root)
        floor_id = f"floor:c{count}"
        rows.append(Row(floor_id, "floor", "floor", f"{count} contracts", floor_argv(files, root), root, 0, floor_id,
                        files, note="imports + parse of the two files holding every list"))
        rows.append(Row(f"driftcheck:c{count}", "driftcheck", "driftcheck", f"{count} contracts", [*dc, "check"],
                        root, 0, floor_id, files, note=f"{count} maps in one Go file, {count} lists in one harness"))
        root = repogen.write_repo(work / f"contracts{count}", contracts=count)
        files = repo_files(root, count)
        floor_id = f"floor:c{count}-files"
        rows.append(Row(floor_id, "floor", "floor", f"{count} contracts, {count} file pairs", floor_argv(files, root),
                        root, 0, floor_id, files, note=f"imports + parse of the {len(files)} files"))
        rows.append(Row(f"driftcheck:c{count}-files", "driftcheck", "driftcheck",
                        f"{count} contracts, {count} file pairs", [*dc, "check"], root, 0, floor_id, files,
                        note=f"one real-sized pair per contract ({len(files)} files)"))
    return rows


# ---------------------------------------------------------------------------------------------
# Measuring


def child_env(pycache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["NO_COLOR"] = "1"
    if pycache is not None:
        # Measure what an installed tool costs: compiled bytecode is cached (the warm-up run writes it),
        # even where the caller's environment says PYTHONDONTWRITEBYTECODE; the cache lives in the scratch
        # directory, so the source tree gets no __pycache__ directories.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_once(row: Row, env: dict[str, str], capture: bool) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user+sys of the child and what it waited for), exit code, output."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(row.argv, cwd=row.cwd, env=env, stdout=out, stderr=out, text=capture, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = ((proc.stdout or "") + (proc.stderr or "")) if capture else ""
    return elapsed, cpu, proc.returncode, text


def measure(rows: list[Row], runs: int, pycache: Path, progress: bool = True) -> None:
    env = child_env(pycache)
    active = [r for r in rows if not r.skipped]
    for row in active:  # warm-up: page cache, .pyc files; its output is kept for diagnostics
        _, _, code, text = run_once(row, env, capture=True)
        row.first_output = text[-2000:]
        if code != row.expected_exit and progress:
            print(f"  !! {row.id}: exit {code}, expected {row.expected_exit}\n{_indent(text[-800:])}", file=sys.stderr)
    for index in range(runs):
        if progress:
            print(f"  round {index + 1}/{runs}", file=sys.stderr, flush=True)
        for row in active:
            elapsed, cpu, code, _ = run_once(row, env, capture=False)
            row.times.append(elapsed)
            row.cpu.append(cpu)
            row.exits.append(code)


def measure_pairs(check: Row, floor: Row, pairs: int, pycache: Path) -> dict[str, Any]:
    """`check` and `floor` back to back, `pairs` times, alternating which goes first (ABBA)."""
    env = child_env(pycache)
    walls: list[float] = []
    cpus: list[float] = []
    for index in range(pairs):
        order = (check, floor) if index % 4 in (0, 3) else (floor, check)
        timed = {row.id: run_once(row, env, capture=False)[:2] for row in order}
        walls.append(timed[check.id][0] / timed[floor.id][0])
        cpus.append(timed[check.id][1] / timed[floor.id][1] if timed[floor.id][1] > 0 else float("nan"))

    def spread(values: list[float]) -> dict[str, float]:
        q1, q2, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
        return {"median": round(statistics.median(values), 3), "p25": round(q1, 3), "p75": round(q3, 3)}

    return {"pairs": pairs, "order": "ABBA", "wall": spread(walls), "cpu": spread([c for c in cpus if c == c])}


def _indent(text: str) -> str:
    return "".join("      " + line + "\n" for line in text.splitlines())


# ---------------------------------------------------------------------------------------------
# Traps: the fixtures


_EXPECTED = re.compile(r"Expected:[^.]*?\bexit(?:s| code)?\s+(\d)")


@dataclass
class Fixture:
    name: str
    path: Path
    expected: int
    summary: str


def trap_fixtures() -> tuple[list[Fixture], list[str]]:
    """Go/bash fixtures with an expected exit code; the rest are listed as excluded, with why."""
    fixtures: list[Fixture] = []
    excluded: list[str] = []
    for directory in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith("_")):
        readme = directory / "README.md"
        text = readme.read_text() if readme.exists() else ""
        match = _EXPECTED.search(text)
        if match is None:
            excluded.append(f"{directory.name}: no 'Expected: exit N' in README.md")
            continue
        if (directory / PY_PATH).exists() or _config_mentions_python(directory):
            excluded.append(f"{directory.name}: checks a Python mirror, which the alternatives do not read")
            continue
        if not (directory / repogen.GO_PATH).exists() or not (directory / repogen.SH_PATH).exists():
            excluded.append(f"{directory.name}: not laid out like the real repository")
            continue
        body = " ".join(line for line in text.splitlines() if not line.startswith("#")).strip()
        summary = re.split(r"(?<=\.)\s", body, maxsplit=1)[0]
        fixtures.append(Fixture(directory.name, directory, int(match.group(1)), summary[:90]))
    return fixtures, excluded


def _config_mentions_python(directory: Path) -> bool:
    for name in ("driftcheck.toml", "pyproject.toml"):
        config = directory / name
        if config.exists() and ".py:" in config.read_text():
            return True
    return False


def right_verdict(expected: int, got: int, tool: str) -> bool:
    if tool == "driftcheck":
        return got == expected
    if expected == 2:
        return got != 0  # an alternative cannot say "cannot decide" precisely; failing the check is enough
    return got == expected


def run_traps(fixtures: list[Fixture], ast_grep_available: bool) -> dict[str, Any]:
    env = child_env()
    tools: dict[str, list[str] | None] = {
        # --root .: a fixture has no .git or driftcheck.toml of its own (root discovery would find the checkout's)
        "driftcheck": [*driftcheck_argv(), "check", "--root", "."],
        "naive": [str(ALTERNATIVES / "naive.sh"), "."],
        "ast-grep": [str(ALTERNATIVES / "astgrep.sh"), "."] if ast_grep_available else None,
    }
    results = []
    totals = {tool: {"right": 0, "total": 0} for tool, argv in tools.items() if argv is not None}
    for fixture in fixtures:
        entry: dict[str, Any] = {"fixture": fixture.name, "expected_exit": fixture.expected,
                                 "summary": fixture.summary, "tools": {}}
        for tool, argv in tools.items():
            if argv is None:
                continue
            proc = subprocess.run(argv, cwd=fixture.path, env=env, capture_output=True, text=True, check=False)
            right = right_verdict(fixture.expected, proc.returncode, tool)
            entry["tools"][tool] = {"exit": proc.returncode, "right": right}
            totals[tool]["total"] += 1
            totals[tool]["right"] += int(right)
        results.append(entry)
    return {"fixtures": results, "totals": totals}


# ---------------------------------------------------------------------------------------------
# Report


def summarise(rows: list[Row], plan: Plan, traps: dict[str, Any], excluded: list[str], elapsed: float,
              paired: dict[str, Any] | None = None, paired_direct: dict[str, Any] | None = None) -> dict:
    by_id = {r.id: r for r in rows}

    def ratio(row: Row, floor_id: str | None, cpu: bool = False) -> float | None:
        floor = by_id.get(floor_id or "")
        if row.skipped or floor is None or floor.skipped or not row.times or not floor.times:
            return None
        if cpu:
            mine, theirs = statistics.median(row.cpu), statistics.median(floor.cpu)
            return round(mine / theirs, 3) if theirs > 0 else None
        return round(row.median / floor.median, 3)

    out_rows = []
    for row in rows:
        out_rows.append({
            "id": row.id, "group": row.group, "tool": row.tool, "input": row.input, "note": row.note,
            "command": " ".join(_show(a) for a in row.argv), "size_bytes": row.size_bytes if row.files else 0,
            "skipped": row.skipped or None,
            "expected_exit": row.expected_exit, "exit_codes": sorted(set(row.exits)), "exit_ok": row.exit_ok,
            "runs": len(row.times),
            "median_s": round(row.median, 5) if row.times else None,
            "min_s": round(min(row.times), 5) if row.times else None,
            "max_s": round(max(row.times), 5) if row.times else None,
            "cpu_median_s": round(statistics.median(row.cpu), 5) if row.cpu else None,
            "floor": row.floor, "ratio_to_floor": ratio(row, row.floor), "ratio_to_floor_1x": ratio(row, "floor:1x"),
            "cpu_ratio_to_floor": ratio(row, row.floor, cpu=True),
            "output_if_unexpected": None if row.exit_ok or row.skipped else row.first_output,
        })

    def median_of(row_id: str) -> float | None:
        row = by_id.get(row_id)
        return row.median if row and row.times else None

    # Linearity: marginal cost per MB of input between the real size and each larger size (wall and CPU);
    # linear cost means the same ms/MB at every size.
    def per_mb(row: Row, base: Row, cpu: bool) -> float | None:
        mb = (row.size_bytes - base.size_bytes) / 1e6
        if not row.times or not base.times or mb <= 0:
            return None
        a, b = (statistics.median(row.cpu), statistics.median(base.cpu)) if cpu else (row.median, base.median)
        return round((a - b) * 1e3 / mb, 1)

    linear = []
    for scale in plan.scales[1:]:
        row, floor = by_id[f"driftcheck:{scale}x"], by_id[f"floor:{scale}x"]
        linear.append({"scale": scale, "size_mb": round(row.size_bytes / 1e6, 2),
                       "driftcheck_ms_per_mb": per_mb(row, by_id["driftcheck:1x"], False),
                       "floor_ms_per_mb": per_mb(floor, by_id["floor:1x"], False),
                       "driftcheck_cpu_ms_per_mb": per_mb(row, by_id["driftcheck:1x"], True),
                       "floor_cpu_ms_per_mb": per_mb(floor, by_id["floor:1x"], True)})
    check_1x, floor_1x = median_of("driftcheck:1x"), median_of("floor:1x")
    ratio_1x = round(check_1x / floor_1x, 3) if check_1x and floor_1x else None
    cpu_1x = ratio(by_id["driftcheck:1x"], "floor:1x", cpu=True)
    most = max(plan.contracts)
    most_s = median_of(f"driftcheck:c{most}")
    targets = {
        "check_1x_within_1.25x_floor": {
            "paired": paired, "target": 1.25,
            "met": paired is not None and paired["wall"]["median"] <= 1.25,
            # the rows above, measured minutes apart: reported, not judged (see the module docstring)
            "ratio": ratio_1x, "cpu_ratio": cpu_1x,
            "ratio_to_lean_floor": ratio(by_id["driftcheck:1x"], "floor:1x-lean"),
            # the same pairs against a floor that also skips the grammar packages' __init__: reported, not judged
            "paired_to_direct_floor": paired_direct, "ratio_to_direct_floor": ratio(by_id["driftcheck:1x"],
                                                                                    "floor:1x-direct")},
        f"check_{most}_contracts_within_1s": {"median_s": _r(most_s), "target_s": 1.0,
                                              "floor_s": _r(median_of(f"floor:c{most}")),
                                              "met": most_s is not None and most_s <= 1.0,
                                              "file_pairs_median_s": _r(median_of(f"driftcheck:c{most}-files")),
                                              "file_pairs_floor_s": _r(median_of(f"floor:c{most}-files"))},
        "linearity": linear,
        "python_extract_within_3x_ast": {"ratio": ratio(by_id["driftcheck:py-extract"], "floor:py-ast"),
                                         "cpu_ratio": ratio(by_id["driftcheck:py-extract"], "floor:py-ast", cpu=True),
                                         "target": 3.0},
        "python_mirror_cost_s": _r(_diff(median_of("driftcheck:1x+py"), median_of("driftcheck:1x+sh-config"))),
        "libcst_import_s": _r(_diff(median_of("python:imports+libcst"), median_of("python:imports"))),
    }
    return {
        "version": 1,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "executable": sys.executable},
        "runs": plan.runs, "quick": plan.quick,
        "max_file_bytes": MAX_FILE_BYTES, "scales": list(plan.scales), "over_limit_scale": plan.over_limit_scale,
        "contracts": [1, *plan.contracts], "elapsed_s": round(elapsed, 1),
        "rows": out_rows, "targets": targets,
        "traps": {**traps, "rule": "right = same verdict as the README's expected exit (0 in sync, 1 drift); "
                                    "expected 2 counts as right for an alternative when it exits non-zero",
                  "excluded": excluded},
        "all_exit_codes_as_expected": all(r["exit_ok"] for r in out_rows if not r["skipped"]),
        # The run fails (exit 1) only for these; an alternative that fails on a big input is a result, not a bug.
        "driftcheck_exit_codes_as_expected": all(r["exit_ok"] for r in out_rows if r["group"] != "alternative"),
    }


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _show(arg: str) -> str:
    if "\n" in arg:
        return "'<floor script>'"
    return arg if re.fullmatch(r"[\w./:+=,-]+", arg) else repr(arg)


def print_report(report: dict) -> None:
    print(f"\ndriftcheck benchmark — {report['runs']} runs per row after a warm-up, "
          f"python {report['machine']['python']}, {report['machine']['cpus']} CPUs\n")
    header = (f"{'row':<26} {'input size':>11} {'median':>9} {'min':>9} {'max':>9} {'×floor':>7} {'×floor1x':>8} "
              f"{'cpu':>9} {'cpu×fl':>7}  exit")
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        if row["skipped"]:
            print(f"{row['id']:<26} skipped: {row['skipped']}")
            continue
        size = f"{row['size_bytes'] / 1e6:.2f} MB" if row["size_bytes"] else "-"
        exits = ",".join(map(str, row["exit_codes"]))
        why = (row["output_if_unexpected"] or "").strip().splitlines()
        flag = "" if row["exit_ok"] else f"  !! expected {row['expected_exit']}" + (f": {why[0][:70]}" if why else "")
        print(f"{row['id']:<26} {size:>11} {_ms(row['median_s'])} {_ms(row['min_s'])} {_ms(row['max_s'])} "
              f"{_x(row['ratio_to_floor'])} {_x(row['ratio_to_floor_1x'], 8)} {_ms(row['cpu_median_s'])} "
              f"{_x(row['cpu_ratio_to_floor'])}  {exits}{flag}")
    targets = report["targets"]
    print("\ntargets:")
    for name, value in targets.items():
        print(f"  {name}: {value}")
    print("\ntraps (fixtures; ✓ right verdict, ✗ wrong; the number is the exit code):")
    tools = list(report["traps"]["totals"])
    print(f"  {'fixture':<22} {'expect':>6}  " + "  ".join(f"{t:>10}" for t in tools))
    for entry in report["traps"]["fixtures"]:
        cells = []
        for tool in tools:
            result = entry["tools"][tool]
            cells.append(f"{('✓' if result['right'] else '✗') + ' ' + str(result['exit']):>10}")
        print(f"  {entry['fixture']:<22} {entry['expected_exit']:>6}  " + "  ".join(cells))
    totals = report["traps"]["totals"]
    print(f"  {'right':<22} {'':>6}  " + "  ".join(f"{str(totals[t]['right']) + '/' + str(totals[t]['total']):>10}"
                                                 for t in tools))
    for line in report["traps"]["excluded"]:
        print(f"  (excluded {line})")
    if not report["all_exit_codes_as_expected"]:
        print("\n!! some rows exited with an unexpected code (see output_if_unexpected in the JSON); the run "
              "exits 1 only when a driftcheck, floor or reference row did")
    print(f"\ntotal {report['elapsed_s']} s")


def _ms(seconds: float | None) -> str:
    return f"{'-':>9}" if seconds is None else f"{seconds * 1e3:>7.1f}ms"


def _x(value: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width - 1}.2f}x"


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=None, help="timed runs per row (default 10; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 runs, small inputs")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where to write JSON")
    parser.add_argument("--keep", type=Path, default=None, help="generate the repositories here and keep them")
    parser.add_argument("--pairs", type=int, default=None,
                        help="back-to-back driftcheck/floor pairs for the 1.25x target (default 40; 4 with --quick)")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.pairs is not None and args.pairs < 2:
        parser.error("--pairs must be at least 2")
    plan = make_plan(args.quick, args.runs, args.pairs)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="driftcheck-bench-") as tmp:
        work = args.keep or Path(tmp)
        print(f"generating repositories in {work} ...", file=sys.stderr)
        rows = build_rows(plan, work)
        print(f"measuring {len(rows)} rows ...", file=sys.stderr)
        measure(rows, plan.runs, work / "pycache")
        by_id = {row.id: row for row in rows}
        print(f"measuring {plan.pairs} driftcheck/floor pairs at the real size ...", file=sys.stderr)
        paired = measure_pairs(by_id["driftcheck:1x"], by_id["floor:1x"], plan.pairs, work / "pycache")
        paired_direct = measure_pairs(by_id["driftcheck:1x"], by_id["floor:1x-direct"], plan.pairs, work / "pycache")
        fixtures, excluded = trap_fixtures()
        print(f"running {len(fixtures)} fixtures ...", file=sys.stderr)
        traps = run_traps(fixtures, tool_path("ast-grep") is not None)
        report = summarise(rows, plan, traps, excluded, time.perf_counter() - started, paired, paired_direct)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"JSON: {args.json}")
    return 0 if report["driftcheck_exit_codes_as_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
