"""Shared plumbing of the differential tests: case counts, comparing a result with the oracle, statistics."""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles

from .gen import Case

# Figures for the terminal summary (see conftest.py): per language, cases compared / declined / seconds.
STATS: dict[str, Counter[str]] = {}
TIMES: dict[str, float] = {}


def examples(default: int) -> int:
    """How many generated cases a language runs: DRIFTCHECK_DIFF_EXAMPLES overrides the default."""
    raw = os.environ.get("DRIFTCHECK_DIFF_EXAMPLES", "").strip()
    if not raw:
        return default
    return max(1, int(raw))


def batches(total: int, size: int) -> list[int]:
    """Batch sizes adding up to `total`, each at most `size`."""
    out = []
    while total > 0:
        out.append(min(size, total))
        total -= size
    return out


def count(language: str, what: str, n: int = 1) -> None:
    STATS.setdefault(language, Counter())[what] += n


@contextlib.contextmanager
def timed(language: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        TIMES[language] = TIMES.get(language, 0.0) + time.perf_counter() - start


def extract_case(case: Case, directory: Path, language: str) -> ExtractedList:
    path = directory / case.main
    return extract_list(ListRef(f"{path}:{case.symbol}", str(path), case.symbol, language),  # type: ignore[arg-type]
                        SourceFiles(directory))


def describe(result: ExtractedList) -> str:
    return "; ".join(f"{f.code} {f.path}:{f.line}:{f.column} {f.message}" for f in result.findings) or "no findings"


def mismatch(case: Case, oracle: list[str], kind: str, result: ExtractedList) -> str | None:
    """Why the extractor's answer differs from the language's own, or None when they agree.

    kind "set": the oracle printed sorted keys (a Go map, a Python set): compare sorted, no duplicates, no DC003
    (callers drop the DC003s a Python set legitimately gets for a key written twice).
    kind "ordered": compare the whole list in order; duplicates must come with one DC003 each.
    """
    if result.keys is None:
        # A form driftcheck refuses by design (e.g. where tree-sitter and the language could disagree).
        if case.may_decline and all(f.code in ("DC101", "DC102", "DC103") for f in result.findings):
            return None
        return f"extractor declined a valid list: {describe(result)}"
    got = list(result.key_names)
    dup_findings = [f for f in result.findings if f.code == "DC003"]
    others = [f for f in result.findings if f.code != "DC003"]
    if others:
        return f"unexpected findings: {describe(result)}"
    if kind == "set":
        if sorted(got) != oracle:
            return f"keys differ (as sets)\n  oracle:    {oracle!r}\n  extractor: {sorted(got)!r}"
        if len(got) != len(set(got)) or dup_findings:
            return f"extractor returned or reported duplicates for a set: {got!r}; {describe(result)}"
        return None
    if got != oracle:
        return f"keys differ (in order)\n  oracle:    {oracle!r}\n  extractor: {got!r}"
    # Every repeat in the result needs its DC003; more are fine when a set/dict inside dropped written repeats.
    if len(dup_findings) < len(got) - len(set(got)) or (case.intended is not None and len(dup_findings) != len(
            case.intended) - len(set(case.intended))):
        return f"{len(got) - len(set(got))} repeated keys but {len(dup_findings)} DC003 findings: {describe(result)}"
    return None


def report(problems: list[str], limit: int = 3) -> str:
    shown = "\n\n".join(problems[:limit])
    more = f"\n\n... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} generated case(s) disagree with the oracle:\n\n{shown}{more}"


def cli_exit_code(root: Path, source: str, mirror: str) -> tuple[int, str]:
    """`driftcheck check --root R --source S --mirror M` in-process; (exit code, output)."""
    from driftcheck.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", "--root", str(root), "--source", source, "--mirror", mirror])
    return code, out.getvalue() + err.getvalue()
