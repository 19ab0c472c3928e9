"""Differential test of the bash extractor against bash itself.

Generated fragments define the list as a string (`NAME=...`, split on IFS whitespace as the harness's unquoted
`$NAME` does) or an array (`NAME=(...)`), through plain assignments or declare/typeset/export/readonly with flags,
with `+=` appends, every quoting form (unquoted with backslash escapes, double, single, `$'...'` with escapes),
backslash-newline continuations, comments between array elements, expansions of earlier literal variables,
decoy comments and heredocs, and command-prefix assignments. ONE bash process per batch sources each fragment in
its own subshell and prints the list (`set -f`; strings split with the default IFS, arrays element by element,
NUL-separated); the extractor must return exactly that, in order. Keys holding glob characters, backslashes or
control characters may be refused (DC102, by design) but never returned wrongly. Forms driftcheck must decline
must give keys=None with the expected code, and exit 2 through `driftcheck check`.

Scale with DRIFTCHECK_DIFF_EXAMPLES=N (N generated fragments; default 600).
"""

from __future__ import annotations

import itertools
import os
import random
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from . import gen
from .oracle import batches, cli_exit_code, count, examples, extract_case, mismatch, report, timed

BASH = shutil.which("bash")
TOTAL = examples(600)
BATCH = 200
SEED = 4242

pytestmark = pytest.mark.skipif(BASH is None, reason="bash not installed: the bash differential tests run bash")

_PRINT = """( source {frag} </dev/null >/dev/null 2>{err} || exit 97
  set -f +eu
  if [[ ${{{sym}@a}} == *a* ]]; then
    printf 'array\\0'; for __dc_k in "${{{sym}[@]}}"; do printf '%s\\0' "$__dc_k"; done
  else
    printf 'string\\0'; for __dc_k in ${sym}; do printf '%s\\0' "$__dc_k"; done
  fi
) >{out}
echo $? >{rc}
"""


def evaluate(directory: Path, cases: list[gen.Case]) -> dict[str, tuple[str, list[str]]]:
    """Source every fragment with ONE bash (a subshell each); (string|array, keys) per fragment."""
    script = []
    for case in cases:
        (directory / case.main).write_bytes(case.files[case.main])
        q = {k: shlex.quote(str(directory / f"{case.name}.{k}")) for k in ("err", "out", "rc")}
        script.append(_PRINT.format(frag=shlex.quote(str(directory / case.main)), sym=case.symbol, **q))
    (directory / "run.bash").write_text("".join(script))
    empty = directory / "cwd"
    empty.mkdir(exist_ok=True)  # globbing (if any) matches nothing here
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(empty), "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([BASH, "--noprofile", "--norc", str(directory / "run.bash")], cwd=empty, env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = {}
    for case in cases:
        rc = (directory / f"{case.name}.rc").read_text().strip()
        if rc != "0":
            err = (directory / f"{case.name}.err").read_text(errors="replace")
            out[case.name] = ("error", [f"exit {rc}: {err[:500]}"])
            continue
        kind, *keys = (directory / f"{case.name}.out").read_bytes().split(b"\0")
        assert keys and keys[-1] == b""
        out[case.name] = (kind.decode(), [k.decode("utf-8", "surrogateescape") for k in keys[:-1]])
    return out


def check_against_bash(directory: Path, cases: list[gen.Case]) -> None:
    oracle = evaluate(directory, cases)
    problems = []
    declined = 0
    for case in cases:
        kind, expected = oracle[case.name]
        if kind == "error" or expected != case.intended:
            problems.append(f"GENERATOR BUG: bash gave {kind} {expected!r}, the generator meant {case.intended!r}\n"
                            f"{case.show()}")
            continue
        result = extract_case(case, directory, "shell")
        declined += result.keys is None
        why = mismatch(case, expected, "ordered", result)
        if why:
            problems.append(f"[{kind}] {why}\n{case.show()}")
    count("bash", "compared", len(cases))
    count("bash", "refused", declined)
    assert not problems, report(problems)


@pytest.mark.parametrize("index,size", list(enumerate(batches(TOTAL, BATCH))))
def test_bash_lists_match_bash(tmp_path: Path, index: int, size: int) -> None:
    rng = random.Random(SEED + index)
    cases = [gen.sh_case(gen.RandomDraw(rng), f"f{index}_{i}") for i in range(size)]
    with timed("bash"):
        check_against_bash(tmp_path, cases)


_runs = itertools.count()


@settings(max_examples=25, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=gen.hypothesis_cases(lambda d: gen.sh_case(d, "h")))
def test_bash_hypothesis_single_fragment(tmp_path: Path, case: gen.Case) -> None:
    """The same generator under hypothesis (shrinks a failure to a minimal fragment)."""
    directory = tmp_path / f"h{next(_runs)}"
    directory.mkdir()
    with timed("bash"):
        check_against_bash(directory, [case])


def test_bash_declined_forms_exit_2(tmp_path: Path) -> None:
    rng = random.Random(SEED - 1)
    per_form = max(3, examples(600) // 150)
    cases = [gen.sh_declined_case(gen.RandomDraw(rng), f"d{i}", form)
             for i, form in enumerate(f for f in gen.SH_DECLINED for _ in range(per_form))]
    (tmp_path / "mirror.sh").write_text('M="A"\n')
    for case in cases:
        (tmp_path / case.main).write_bytes(case.files[case.main])
    # Each declined form is valid bash: one bash checks the syntax of them all.
    check = "".join(f"bash -n {shlex.quote(str(tmp_path / c.main))} || echo {c.name}\n" for c in cases)
    (tmp_path / "syntax.bash").write_text(check)
    syntax = subprocess.run([BASH, "--noprofile", "--norc", str(tmp_path / "syntax.bash")], capture_output=True,
                            text=True, timeout=300)
    assert syntax.stdout == "", f"GENERATOR BUG: not valid bash: {syntax.stdout} {syntax.stderr[:2000]}"
    problems = []
    with timed("bash"):
        for case in cases:
            result = extract_case(case, tmp_path, "shell")
            codes = {f.code for f in result.findings}
            if result.keys is not None or not codes & set(case.codes):
                problems.append(f"{case.declined}: expected keys=None with {case.codes}, got keys="
                                f"{result.key_names if result.keys is not None else None} findings={sorted(codes)}"
                                f"\n{case.show()}")
                continue
            code, output = cli_exit_code(tmp_path, f"{case.main}:{case.symbol}", "mirror.sh:M")
            if code != 2:
                problems.append(f"{case.declined}: driftcheck check exited {code}, not 2\n{output}\n{case.show()}")
    count("bash", "declined", len(cases))
    assert not problems, report(problems)


def _fragment_case(name: str, text: str) -> gen.Case:
    return gen.Case(name=name, files={f"{name}.sh": text.encode()}, main=f"{name}.sh", symbol="N", kind="auto")


def _read_exactly_or_refused(tmp_path: Path, name: str, text: str, refusals: set[str]) -> None:
    case = _fragment_case(name, text)
    _kind, expected = evaluate(tmp_path, [case])[name]
    result = extract_case(case, tmp_path, "shell")
    if result.keys is None:
        assert {f.code for f in result.findings} <= refusals, [(f.code, f.message) for f in result.findings]
    else:
        assert list(result.key_names) == expected, f"bash: {expected!r}"


# Regressions: an unquoted expansion in an array element used to be split at the quoting boundaries of the
# variable's definition and at adjacent text (a wrong list: ['A', 'B'] for bash's ['AB']); found by this
# differential test and fixed in shell.py.
_REGRESSIONS = {
    "split_expansion_quoted_definition": "V=A'B'\nN=($V)\n",  # bash: ['AB']
    "split_expansion_after_text": 'V="EF"\nN=(X$V)\n',  # bash: ['XEF']
    "split_expansion_double_quoted_parts": 'V="E""F"\nN=(X$V)\n',  # bash: ['XEF']
    "split_expansion_with_blank": 'V="E F"\nN=(X$V)\n',  # bash: ['XE', 'F']
}


@pytest.mark.parametrize("form", sorted(_REGRESSIONS))
def test_bash_regression(tmp_path: Path, form: str) -> None:
    _read_exactly_or_refused(tmp_path, form, _REGRESSIONS[form], {"DC101", "DC102"})


# Valid bash that driftcheck refuses by design or because tree-sitter-bash 0.25 misreads it: a refusal (exit 2)
# is fine, a different list is not.
_MAY_DECLINE = {
    # tree-sitter-bash misreads it, bash accepts it: DC104 "tree-sitter cannot parse ... although bash -n accepts"
    "ansi_escaped_backslash_then_quote": "N=$'A\\\\'\nX='1 2'\n",
    "local_in_a_function": 'N="A B"\nhelper() { local N=x; }\n',  # DC103: any definition in a function
    "continuation_in_unquoted_word": "N=A\\\nB\n",  # DC102: tree-sitter ends the word at the backslash
    "ansi_unicode_escape": "N=$'\\u00e9A'\n",  # DC102: locale-dependent in bash
    "brace_expansion_after_expansion": "V=A\nN=(${V}{B,C})\n",  # DC102: brace expansion
    "expansion_then_escaped_char": "V=U\nN=${V}\\zRC\n",  # DC102 (message says "escaped blank")
    "quoted_then_escaped_blank": 'N="x"\\ y\n',  # DC102 (was DC100 "not defined" in an earlier shell.py)
    "quoted_then_escaped_char": "N='x'\\AB\n",  # DC102 (likewise)
    "escaped_tab_value": "N=\\\t\n",  # DC101
}


@pytest.mark.parametrize("form", sorted(_MAY_DECLINE))
def test_bash_valid_forms_are_read_exactly_or_refused(tmp_path: Path, form: str) -> None:
    _read_exactly_or_refused(tmp_path, form, _MAY_DECLINE[form], {"DC101", "DC102", "DC103", "DC104"})
