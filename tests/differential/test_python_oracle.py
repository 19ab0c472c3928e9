"""Differential test of the Python extractor against the Python interpreter.

Generated modules define the list as list/tuple/set/dict displays, frozenset()/set()/tuple()/list() of those,
`.split()`/`.split(sep)` of (implicitly concatenated, escaped, raw, triple-quoted) strings, `+`/`|` of static
collections, earlier string constants, and `+=`/`|=` augmentations, with comments, decoys and shadowing
functions around them. One interpreter per batch imports every module and prints each value; sets are compared
sorted (the runtime order of a set depends on string hashing), lists/tuples/dict keys in order. Forms driftcheck
must decline must give keys=None with the expected code, and exit 2 through `driftcheck check`.

Scale with DRIFTCHECK_DIFF_EXAMPLES=N (N generated modules; default 600).
"""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from . import gen
from .oracle import batches, cli_exit_code, count, examples, extract_case, mismatch, report, timed

TOTAL = examples(600)
BATCH = 200
SEED = 7331

_PRINTER = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for name, symbol in json.loads(sys.argv[2]).items():
    try:
        value = getattr(importlib.import_module(name), symbol)
    except Exception as exc:  # reported as a generator bug
        out[name] = ["error", repr(exc)]
        continue
    kind = type(value).__name__
    out[name] = [kind, sorted(value) if isinstance(value, (set, frozenset)) else list(value)]
print(json.dumps(out))
"""


def evaluate(directory: Path, cases: list[gen.Case]) -> dict[str, tuple[str, list[str]]]:
    """Import every generated module in ONE fresh interpreter; (type name, keys) per module."""
    directory.mkdir(parents=True, exist_ok=True)
    for case in cases:
        for name, data in case.files.items():
            (directory / name).write_bytes(data)
    symbols = {c.name: c.symbol for c in cases}
    proc = subprocess.run([sys.executable, "-B", "-c", _PRINTER, str(directory), json.dumps(symbols)],
                          capture_output=True, text=True, timeout=120, cwd=directory)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: (kind, keys) for name, (kind, keys) in json.loads(proc.stdout).items()}


def check_against_python(directory: Path, cases: list[gen.Case]) -> None:
    oracle = evaluate(directory, cases)
    problems = []
    for case in cases:
        kind, expected = oracle[case.name]
        if kind == "error":
            problems.append(f"GENERATOR BUG: the module does not import: {expected}\n{case.show()}")
            continue
        compare = "set" if kind in ("set", "frozenset") else "ordered"
        result = extract_case(case, directory, "python")
        if kind == "dict" and result.keys is not None:
            # dict keys are unique by construction; the extractor keeps the first occurrence, reports DC003
            why = mismatch(case, expected, "ordered", _without_dc003(result))
        else:
            why = mismatch(case, expected, compare, _without_dc003(result) if compare == "set" else result)
        if why:
            problems.append(f"[{kind}] {why}\n{case.show()}")
    count("python", "compared", len(cases))
    assert not problems, report(problems)


def _without_dc003(result):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(result, findings=tuple(f for f in result.findings if f.code != "DC003"))


@pytest.mark.parametrize("index,size", list(enumerate(batches(TOTAL, BATCH))))
def test_python_lists_match_the_interpreter(tmp_path: Path, index: int, size: int) -> None:
    rng = random.Random(SEED + index)
    cases = [gen.py_case(gen.RandomDraw(rng), f"m_{index}_{i}") for i in range(size)]
    with timed("python"):
        check_against_python(tmp_path, cases)


_runs = itertools.count()


@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=gen.hypothesis_cases(lambda d: gen.py_case(d, "h")))
def test_python_hypothesis_single_module(tmp_path: Path, case: gen.Case) -> None:
    """The same generator under hypothesis (shrinks a failure to a minimal module)."""
    directory = tmp_path / f"h{next(_runs)}"
    directory.mkdir()
    with timed("python"):
        check_against_python(directory, [case])


def test_python_declined_forms_exit_2(tmp_path: Path) -> None:
    rng = random.Random(SEED - 1)
    per_form = max(3, examples(600) // 150)
    cases = [gen.py_declined_case(gen.RandomDraw(rng), f"d{i}", form)
             for i, form in enumerate(f for f in gen.PY_DECLINED for _ in range(per_form))]
    (tmp_path / "mirror.py").write_text('M = ["A"]\n')
    problems = []
    read: list[tuple[gen.Case, list[str]]] = []  # read although the form was meant to be declined
    with timed("python"):
        for case in cases:
            data = case.files[case.main]
            try:
                compile(data, case.main, "exec")  # each declined form is valid Python
            except SyntaxError as exc:
                problems.append(f"GENERATOR BUG: {exc}\n{case.show()}")
                continue
            (tmp_path / case.main).write_bytes(data)
            result = extract_case(case, tmp_path, "python")
            codes = {f.code for f in result.findings}
            if result.keys is not None and case.declined in _HARMLESS_WHEN_IMMUTABLE:
                read.append((case, list(result.key_names)))  # judged by Python below
                continue
            if result.keys is not None or not codes & set(case.codes):
                problems.append(f"{case.declined}: expected keys=None with {case.codes}, got keys="
                                f"{result.key_names if result.keys is not None else None} findings={sorted(codes)}"
                                f"\n{case.show()}")
                continue
            code, output = cli_exit_code(tmp_path, f"{case.main}:{case.symbol}", "mirror.py:M")
            if code != 2:
                problems.append(f"{case.declined}: driftcheck check exited {code}, not 2\n{output}\n{case.show()}")
        # A "mutation" of a tuple/frozenset cannot change it (the call fails, or the function never runs):
        # reading such a list is right exactly when the keys are what Python holds after the import.
        oracle = evaluate(tmp_path / "judged", [case for case, _ in read]) if read else {}
        for case, keys in read:
            kind, expected = oracle[case.name]
            if kind not in ("tuple", "frozenset") or sorted(keys) != sorted(expected) or \
                    (kind == "tuple" and keys != expected):
                problems.append(f"{case.declined}: read {keys!r}, python holds {kind} {expected!r}\n{case.show()}")
    count("python", "declined", len(cases))
    count("python", "declined-but-immutable-read-exactly", len(read))
    assert not problems, report(problems)


# The allowlist reads an immutable value whatever calls are spelled on it (Python raises or never runs them).
_HARMLESS_WHEN_IMMUTABLE = {"mutation", "mutation_in_function"}


def _read_exactly_or_refused(tmp_path: Path, name: str, text: str, refusals: set[str]) -> None:
    case = gen.Case(name=name, files={f"{name}.py": text.encode()}, main=f"{name}.py", symbol="N", kind="auto")
    kind, expected = evaluate(tmp_path, [case])[name]
    assert kind != "error", expected
    result = extract_case(case, tmp_path, "python")
    if result.keys is None:
        assert {f.code for f in result.findings} <= refusals, [(f.code, f.message) for f in result.findings]
    else:
        assert list(result.key_names) == expected, f"python: {expected!r}"


# Confirmed extractor bug: Python normalises identifiers to NFKC, so `Ｎ` (FULLWIDTH N) *is* `N`. driftcheck
# compares names as written, misses the second binding / the mutation and returns a list Python never holds,
# with no finding. It must return Python's list or refuse (DC103 / DC104).
_KNOWN_BUGS = {
    "nfkc_redefinition": 'N = ["A"]\n\uff2e = ["B"]\n',  # python: ['B']; driftcheck: ['A'], no finding
    "nfkc_mutation": 'N = ["A"]\n\uff2e.append("B")\n',  # python: ['A', 'B']; driftcheck: ['A'], no finding
    "nfkc_augmented": 'N = ["A"]\n\uff2e += ["B"]\n',
}


@pytest.mark.parametrize("form", sorted(_KNOWN_BUGS))
def test_python_known_bug(tmp_path: Path, form: str) -> None:
    _read_exactly_or_refused(tmp_path, form, _KNOWN_BUGS[form], {"DC102", "DC103", "DC104"})


# Valid Python driftcheck refuses: fine (exit 2), as long as it never returns a different list.
_MAY_DECLINE = {
    "nfkc_constant": '\ufb01 = "X"\nN = [fi]\n',  # `ﬁ` is `fi`: DC102 (name not found)
    "string_via_bytes_decode": 'N = [b"A".decode()]\n',  # DC102 (a call)
}


@pytest.mark.parametrize("form", sorted(_MAY_DECLINE))
def test_python_valid_forms_are_read_exactly_or_refused(tmp_path: Path, form: str) -> None:
    _read_exactly_or_refused(tmp_path, form, _MAY_DECLINE[form], {"DC102", "DC103", "DC104"})
