"""The bash extractor reads a name's history only from the statements that spell it (for speed).

That shortcut must never change an answer: for generated fragments, every declined form and the
bundled harnesses, each variable the file assigns is extracted twice — the normal way, and after
every statement of the file was turned into events (what the extractor did before the shortcut) —
and the two results must be identical: keys, positions, findings and messages.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from driftcheck.languages.driver import decide
from driftcheck.languages.shell import BACKEND
from driftcheck.languages.shell.script import Script
from driftcheck.languages.shell.syntax import unsafe_for_parser
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFile, SourceFiles

from . import gen
from .oracle import examples, extract_case, report
from .test_bash_oracle import evaluate

REPO = Path(__file__).resolve().parents[2]
SEED = 20261128
# Every name the script assigns or declares in any form: all of them are asked for, not just the list.
_ASSIGNED = re.compile(rb"(?:^|[\s;&|(!{`'\"])(?:(?:declare|typeset|local|export|readonly)\s+(?:-\w+\s+)*)?"
                       rb"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=", re.M)


def _both_ways(directory: Path, name: str, data: bytes) -> list[tuple[str, ExtractedList, ExtractedList]]:
    path = directory / name
    path.write_bytes(data)
    symbols = sorted({m.group(1).decode() for m in _ASSIGNED.finditer(data)} | {"NOT_DEFINED_ANYWHERE"})
    shortcut_files, full_files = SourceFiles(directory), SourceFiles(directory)
    full_source = full_files.load(name)
    if not isinstance(full_source, SourceFile) or unsafe_for_parser(data) is not None:
        return []
    script = full_source.analysis("bash", lambda: Script(full_source))
    if script.check_file() is None:
        script.collect_everything()  # the old way: every statement first
    results = []
    for symbol in symbols:
        ref = ListRef(f"{name}:{symbol}", name, symbol, "shell")
        shortcut_source = shortcut_files.load(name)
        assert isinstance(shortcut_source, SourceFile)
        results.append((symbol, decide(ref, shortcut_source, BACKEND.read(ref, shortcut_source, shortcut_files)),
                        decide(ref, full_source, BACKEND.read(ref, full_source, full_files))))
    return results


def _compare(directory: Path, name: str, data: bytes, problems: list[str]) -> int:
    compared = 0
    for symbol, shortcut, full in _both_ways(directory, name, data):
        compared += 1
        if shortcut != full:
            problems.append(f"{name}:{symbol}\n  shortcut: {shortcut.keys} {shortcut.findings}\n"
                            f"  every statement: {full.keys} {full.findings}\n--- script\n{data.decode('utf-8', 'replace')}")
    return compared


def test_generated_fragments_give_the_same_answer_either_way(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = [gen.sh_case(gen.RandomDraw(rng), f"s{i}") for i in range(examples(300))]
    cases += [gen.sh_declined_case(gen.RandomDraw(rng), f"d{i}", form)
              for i, form in enumerate(f for f in gen.SH_DECLINED for _ in range(4))]
    problems: list[str] = []
    compared = 0
    for case in cases:
        directory = tmp_path / case.name
        directory.mkdir()
        compared += _compare(directory, case.main, case.files[case.main], problems)
    assert compared > len(cases)  # more than the list itself is asked for
    assert not problems, f"{len(problems)} of {compared} extractions differ:\n" + "\n".join(problems[:3])


def test_bundled_harnesses_give_the_same_answer_either_way(tmp_path: Path) -> None:
    harnesses = sorted(p for p in (REPO / "fixtures").rglob("*.sh") if p.is_file())
    assert len(harnesses) >= 10
    problems: list[str] = []
    compared = 0
    for index, harness in enumerate(harnesses):
        directory = tmp_path / f"h{index}"
        directory.mkdir()
        compared += _compare(directory, "harness.sh", harness.read_bytes(), problems)
    assert compared > 3 * len(harnesses)
    assert not problems, f"{len(problems)} of {compared} extractions differ:\n" + "\n".join(problems[:3])


# Statements that change a variable, with the name spelled as bash allows: quotes around any part,
# a backslash before a letter, a backslash-newline inside it, ANSI-C escapes.
_CHANGES = [
    "unset {n}", "unset -v {n}", "read -r {n} <<< x", "printf -v {n} %s x", "mapfile -t {n} < /dev/null",
    "declare {n}=x", "export {n}=x", "readonly {n}", "declare -i {n}", "local {n}=x", "{n}+=x", "{n}=x",
    "for {n} in a; do :; done", "(( {n}++ ))", "let {n}=1", "eval {n}=x", ": ${{{n}:=x}}", "declare -n R={n}",
    "{n}[1]=x", "f() {{ {n}=x; }}", "if true; then {n}=x; fi", "getopts ab {n}",
]


def _spell(rng: random.Random, name: str) -> str:
    """`name` written another way that bash reads as the same word."""
    style = rng.randrange(6)
    cut = rng.randrange(1, len(name)) if len(name) > 1 else 1
    head, tail = name[:cut], name[cut:]
    if style == 0:
        return f"'{head}'{tail}"
    if style == 1:
        return f'{head}"{tail}"'
    if style == 2:
        return f"{head}\\{tail}" if tail else name
    if style == 3:
        return f"$'{head}'{tail}"
    if style == 4:
        return "$'" + "".join(f"\\x{ord(c):02x}" if i == 0 else c for i, c in enumerate(name)) + "'"
    return name


def test_changes_spelled_with_quotes_give_the_same_answer_either_way(tmp_path: Path) -> None:
    """...and never a list bash would not end up with: a list read despite the change is bash's own value."""
    rng = random.Random(SEED + 1)
    problems: list[str] = []
    compared = 0
    changed: list[gen.Case] = []
    for index in range(examples(300)):
        case = gen.sh_case(gen.RandomDraw(rng), f"q{index}")
        change = rng.choice(_CHANGES).format(n=_spell(rng, case.symbol))
        case.files[case.main] += f"\n{change}\ntrue\n".encode()  # `true`: source ends well either way
        changed.append(case)
        directory = tmp_path / case.name
        directory.mkdir()
        compared += _compare(directory, case.main, case.files[case.main], problems)
    assert not problems, f"{len(problems)} of {compared} extractions differ:\n" + "\n".join(problems[:3])
    (tmp_path / "bash").mkdir()
    oracle = evaluate(tmp_path / "bash", changed)
    read = 0
    for case in changed:
        result = extract_case(case, tmp_path / "bash", "shell")
        if result.keys is None:
            continue  # refused: fail closed
        read += 1
        kind, keys = oracle[case.name]
        if kind == "error" or list(result.key_names) != keys:
            problems.append(f"driftcheck read {list(result.key_names)}, bash ends with {kind} {keys}\n{case.show()}")
    assert not problems, report(problems)
    assert 0 < read < len(changed)  # some changes leave the list alone (`readonly`, a quoted command name)
