"""Mutation tests of the whole check: thousands of edited copies of the in-sync repositories.

Every mutant carries a ground truth computed without driftcheck (see mutants.py). The
contract under test is DESIGN.md's "fail closed": the check never exits 0 when the lists
differ or cannot be evaluated, and when it exits 1 the reported missing/extra keys (and
duplicates, stale exceptions) are exactly the real difference.

Most mutants run in-process through `run_check` (fast); a few dozen go through the real
CLI (`python -m driftcheck check --format json`), half of them with a relative `--root`.

Scale with DRIFTCHECK_MUTANTS (default 3000 in-process mutants; the CLI share is about
1/80 of it, between 12 and 60). Run with `-s` (or `-rP`) to see the per-kind counts.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from driftcheck.check import run_check
from driftcheck.config import CheckOptions

from .mutants import (
    FAMILIES,
    FIXTURES,
    Base,
    Generator,
    Mutant,
    Observed,
    Oracles,
    WarmSources,
    Workspace,
    in_sync_fixture_roots,
    judge,
    load_base,
    materialize,
    save_reproducer,
    write_synthetic,
)

MUTANTS = int(os.environ.get("DRIFTCHECK_MUTANTS", "3000"))
SHARES = {"keys": 0.45, "scope": 0.2, "syntax": 0.15, "encoding": 0.08, "layout": 0.12}
CLI_MUTANTS = max(12, min(60, MUTANTS // 80))
SHOW_FAILURES = 12


@dataclass
class World:
    work: Path
    bases: list[Base]
    oracles: Oracles

    def base(self, name: str) -> Base:
        return next(b for b in self.bases if b.name == name)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("mutation")
    roots = in_sync_fixture_roots() + write_synthetic(work / "synthetic")
    bases = [load_base(root) for root in roots]
    return World(work, bases, Oracles(work / "oracles"))


def _report(title: str, world: World, mutants: list[tuple[Mutant, Observed]], failures: list[str],
            seconds: float, generator: Generator | None = None) -> None:
    kinds = Counter(f"{m.family}/{m.kind}" for m, _ in mutants)
    exits = Counter(f"{m.kind}:{o.exit}" for m, o in mutants)
    roles = Counter(next(s.language for s in world.base(m.base).sides if s.role == m.role) for m, _ in mutants)
    print(f"\n[robustness] {title}: {len(mutants)} mutants in {seconds:.1f}s, {len(failures)} failing")
    print(f"[robustness]   per kind: {dict(sorted(kinds.items()))}")
    print(f"[robustness]   per target language: {dict(sorted(roles.items()))}")
    print(f"[robustness]   exit codes: {dict(sorted(exits.items()))}")
    if generator is not None and generator.discarded:
        print(f"[robustness]   redrawn: {dict(sorted(generator.discarded.items()))}")
    print(f"[robustness]   oracle calls: {dict(sorted(world.oracles.calls.items()))}")


def _failure(world: World, mutant: Mutant, problem: str, seen: Observed, directory: Path) -> str:
    where = save_reproducer(world.base(mutant.base), mutant, directory)
    codes = sorted({code for code, *_ in seen.findings})
    return (f"{problem}\n    {mutant.base} {mutant.family}/{mutant.kind}: {mutant.note}\n"
            f"    got codes {codes}; repo: {where}")


def test_bases_are_in_sync_and_agree_with_the_languages(world: World) -> None:
    """The starting points: driftcheck says in sync, and bash/CPython/go-types read the same lists."""
    assert len(world.bases) >= 8, [b.name for b in world.bases]
    generator = Generator(world.bases, world.oracles, random.Random(0))
    for base in world.bases:
        result = run_check(CheckOptions(root=base.root))
        assert result.exit_code == 0, (base.name, [(f.code, f.message) for f in result.all_findings])
        for side in base.sides:
            found = generator.oracle(base, side, side.text, side.oracle_end, world.work)
            if found is None:
                continue  # no Go toolchain here
            assert found.keys is not None, (base.name, side.path, found)
            if found.ordered:
                assert found.keys == side.keys, (base.name, side.path)
            else:
                assert set(found.keys) == set(side.keys), (base.name, side.path)


@pytest.mark.parametrize("family", FAMILIES)
def test_in_process_mutants(family: str, world: World, tmp_path: Path) -> None:
    count = max(1, round(MUTANTS * SHARES[family]))
    generator = Generator(world.bases, world.oracles, random.Random(f"driftcheck-mutants-{family}"))
    workspace = Workspace(tmp_path / "repos", world.bases)
    warm = WarmSources()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen_all: list[tuple[Mutant, Observed]] = []
    failures: list[str] = []
    started = time.perf_counter()
    for _ in range(count):
        mutant = generator.generate(family, scratch)
        root = workspace.apply(mutant)
        try:
            try:
                seen = Observed.from_result(run_check(CheckOptions(root=root), warm.for_run(root, set(mutant.files))))
            except BaseException as exc:  # noqa: BLE001 - any escape is the bug being looked for
                if isinstance(exc, KeyboardInterrupt):
                    raise
                seen = Observed(-1, [], {}, {}, error=f"{type(exc).__name__}: {exc}")
            problem = judge(world.base(mutant.base), mutant, seen)
            seen_all.append((mutant, seen))
            if problem:
                failures.append(_failure(world, mutant, problem, seen, tmp_path / "failing"))
        finally:
            workspace.restore(mutant)
    _report(f"in-process {family}", world, seen_all, failures, time.perf_counter() - started, generator)
    assert not failures, (f"{len(failures)} of {count} {family} mutants disagree with the ground truth "
                          f"(first {SHOW_FAILURES}):\n" + "\n".join(failures[:SHOW_FAILURES]))


def _run_cli(root_arg: str, cwd: Path) -> tuple[int, str, str, float]:
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "check", "--root", root_arg, "--format", "json"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started


def test_cli_mutants(world: World, tmp_path: Path) -> None:
    """A few dozen mutants through the real console entry point (JSON report), half with a relative --root."""
    rng = random.Random("driftcheck-mutants-cli")
    generator = Generator(world.bases, world.oracles, rng)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    repos = tmp_path / "repos"
    jobs = []
    for index in range(CLI_MUTANTS):
        mutant = generator.generate(FAMILIES[index % len(FAMILIES)], scratch)
        name = f"m{index:03d}"
        materialize(world.base(mutant.base), mutant, repos / name)
        jobs.append((mutant, name if index % 2 else str(repos / name)))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda job: _run_cli(job[1], repos), jobs))
    failures: list[str] = []
    seen_all = []
    for (mutant, root_arg), (code, out, err, _) in zip(jobs, runs):
        if "Traceback" in err or "Traceback" in out:
            seen = Observed(code, [], {}, {}, error=err.strip().splitlines()[-1] if err.strip() else "traceback")
        else:
            try:
                seen = Observed.from_json(code, json.loads(out))
            except (ValueError, KeyError) as exc:
                seen = Observed(code, [], {}, {}, error=f"unreadable JSON report ({exc}): {out[:200]!r}")
        seen_all.append((mutant, seen))
        problem = judge(world.base(mutant.base), mutant, seen)
        if problem:
            failures.append(_failure(world, mutant, f"[--root {root_arg}] {problem}", seen, tmp_path / "failing"))
    slowest = max(r[3] for r in runs)
    _report(f"CLI (slowest run {slowest:.2f}s)", world, seen_all, failures, time.perf_counter() - started)
    assert not failures, (f"{len(failures)} of {len(jobs)} CLI mutants disagree with the ground truth:\n"
                          + "\n".join(failures[:SHOW_FAILURES]))


# ------------------------------------------------------------------------------------------ minimal reproducers
# The smallest form of each bug the mutants above found (kept as regression tests once fixed).

_GO_TWO = 'package p\n\nvar L = []string{"A", "B"}\n'


@pytest.mark.parametrize("name, files, args, expect_exit, expect_code", [
    pytest.param(
        "go-missing-trailing-comma",
        # Go: "missing ',' before newline in composite literal" — the compiler rejects the file.
        {"s.go": 'package p\n\nvar L = []string{\n\t"A",\n\t"B"\n}\n', "h.sh": 'X="A B"\n'},
        ["--source", "s.go:L", "--mirror", "h.sh:X"], 2, "DC101", id="go-missing-trailing-comma"),
    pytest.param(
        "shell-crlf",
        # bash reads X as "A B\r": the keys are A and "B\r", not A and B.
        {"s.go": _GO_TWO, "h.sh": 'X="A B"\r\n'},
        ["--source", "s.go:L", "--mirror", "h.sh:X"], None, None, id="shell-cr-before-newline"),
    pytest.param(
        "shell-crlf-single-quoted",
        {"s.go": _GO_TWO, "h.sh": "export X='A\r\nB'\r\n"},
        ["--source", "s.go:L", "--mirror", "h.sh:X"], None, None, id="shell-crlf-in-single-quotes"),
])
def test_reproducer(name: str, files: dict[str, str], args: list[str], expect_exit: int | None,
                    expect_code: str | None, tmp_path: Path) -> None:
    """expect_exit None: any answer but 0 (the lists as the language reads them differ)."""
    for rel, text in files.items():
        (tmp_path / rel).write_bytes(text.encode())
    args_text = " ".join(args)
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "check", *args, "--format", "json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    codes = sorted({f["code"] for f in report["findings"]})
    if expect_exit is None:
        assert proc.returncode != 0, f"driftcheck check {args_text}: in sync, but the language disagrees ({name})"
    else:
        assert (proc.returncode, expect_code in codes) == (expect_exit, True), (args_text, codes)


def test_relative_root_finds_go_package_siblings(tmp_path: Path) -> None:
    """`--root some/dir` (relative) must read the Go package's other files under that root, once.

    Found by test_cli_mutants: with a relative root other than ".", the sibling files of the
    Go package were looked up under root/root/... (DC105), hiding their constants and any
    redeclaration (DC103) of the list.
    """
    shutil.copytree(FIXTURES / "go-slice-consts", tmp_path / "repo")
    code, out, err, _ = _run_cli("repo", tmp_path)
    report = json.loads(out)
    assert (code, [(f["code"], f["path"]) for f in report["findings"]]) == (0, []), report["findings"][-1:]
