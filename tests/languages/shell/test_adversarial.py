"""Adversarial bash: a list defined, then changed (or not) in every way we could think of, judged by bash.

Each generated script defines LIST_KEYS and combines it with one change from a class of
DESIGN.md section 11 (a glued `read -a`, `printf -v` into an element, `exec {NAME}>`, a
name reference, a DEBUG trap, arithmetic inside an expansion, `${NAME:=}`, aliases,
a function or `enable` shadowing `declare`, attributes set before the definition,
computed names, `eval`/`source`, quoting and escapes inside the name, harmless reads),
placed before or after the definition, directly or inside a called function, an eval
string, a trap or a subshell. The real bash runs the script and prints the list's final
value; driftcheck must read exactly that value or refuse the list (an exit-2 finding).
driftcheck is never its own oracle.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles

BASH = shutil.which("bash")
NAME = "LIST_KEYS"
# Prints the list's value as the harness sees it (the elements of an array, else the words of the
# string) at the end of the script, or when it exits early (an EXIT trap); the last print wins.
_PRELUDE = (f'exec 3>&1 1>/dev/null 2>&1\n'
            f'__probe() {{ local __f; __f=$(builtin declare -p {NAME} 2>/dev/null | cut -d" " -f2); set -f\n'
            f'  if [[ $__f == -*a* ]]; then for __k in "${{{NAME}[@]}}"; do printf "%s\\0" "$__k" >&3; done\n'
            f'  else for __k in ${NAME}; do printf "%s\\0" "$__k" >&3; done; fi; printf "END\\0" >&3; set +f; }}\n'
            f"trap __probe EXIT\n")
_TRAILER = "\n__probe\n"

DEFINITIONS = [
    f'{NAME}="A B"',
    f"{NAME}=(A B)",
    f"declare -a {NAME}=(A B)",
    f'readonly {NAME}="A B"',
    f'export {NAME}="A B"',
    f"declare -ra {NAME}=(A 'B')",
]

# Changes (and harmless uses); `N` stands for the name, spelled per SPELLINGS where bash removes quotes.
CHANGES = [
    # options glued to the name, printf into an element, descriptors
    "read -aN <<< 'X Y'", "read -a N <<< 'X'", "IFS=' ' read -r N <<< 'X'", "mapfile -t N < /dev/null",
    "readarray N <<< X", "printf -v 'N[0]' %s X", "printf -v N %s X", "printf -vN %s X",
    "exec {N}>/dev/null", "true {N}</dev/null", "getopts a N", "wait -p N",
    # name references
    "builtin declare -n R=N; R+=' X'", "declare -n R=N; R=(X)", "typeset -n R; R=N; R+=' X'",
    "f() { local -n r=$1; r+=' X'; }; f N", "f() { declare -n r=N; r=X; }; f",
    # traps
    "trap -- 'N+=\" X\"' DEBUG", "trap 'N=X' RETURN; f() { :; }; f", "trap 'N+=\" X\"' ERR; false",
    "trap -- '' DEBUG", "trap 'echo bye >/dev/null' EXIT",
    # arithmetic and parameter expansion
    ': "${x:(N=0)}"', ": $(( N = 1 ))", "(( N += 1 ))", "let N=1", "x='N=5'; (( x ))", "x='N=5'; : $((x))",
    "[[ 1 -eq N=3 ]]", ": ${N:=X}", "unset N; : ${N:=X}", ": ${N=X}", "a=(1); : ${a[N=2]}",
    # aliases and what the definition means
    "shopt -s expand_aliases; alias d='N+=\" X\";'; d", "shopt -s expand_aliases; alias N=true",
    "function declare { :; }", "enable -n declare", "readonly() { :; }", "export() { :; }",
    "readonly N", "declare -i N", "declare -u N", "declare -n N=OTHER", "declare -l N", "declare -A N",
    # computed names and code from text
    "v=N; eval \"$v+=' X'\"", "eval 'N+=\" X\"'", "eval \"N=X\"", "v=N; declare -g \"$v=X\"",
    "v=N; printf -v \"$v\" X", "v=N; read \"$v\" <<< X", "v=N; declare -n r=$v; r=X", "v=N; unset \"$v\"",
    "v=N; : ${!v:=X}", "source <(echo 'N+=\" X\"')", ". /dev/stdin <<< 'N=X'", "c=(eval 'N=X'); \"${c[@]}\"",
    "c=declare; $c N=X", "c=unset; $c N", "a=NA; b=ME; eval \"LIST_KEYS=X\"", "let \"N=1\"",
    "x=N; eval \"$x\"+=\\ X",
    "eval 'foo() { [[ $1 -eq 0 ]]; }'; foo N=5", "x='N=5'; [[ $x -eq 0 ]]", "declare -n r=X; r='N=1'; (( X ))",
    "f() { declare \"$1=X\"; }; f N", "f() { declare -g \"$1=X\"; }; f N", "f() { (( $1 = 7 )); }; f N",
    # appends, and what may stop the script before one
    "exit 0; N+=' C'", "set -e; false; N+=' C'", "N+=' C'; exit 0", "f() { exit 0; }; f; N+=' C'",
    "readonly N; N+=' C'", "shopt -s lastpipe; echo X | read -r N",
    # plain changes
    "N+=' C'", "N+=(C)", "N=X", "unset N", "unset -v N", "N[1]=Z", "N[5]=Z", "for N in X; do :; done",
    "select N in X; do break; done < /dev/null", "coproc N { :; }",
    # harmless
    'echo "$N" >/dev/null', "for k in $N; do :; done", "[[ -v N ]]", "N=\"$N\" env >/dev/null", "echo N >/dev/null",
    "# N=X", "grep -c N /dev/null", 'x="${N[@]}"', 'n=${#N}', "declare -p N >/dev/null", "export N",
    "unset -f N", ": \"${N:-}\"", "( N=X )", "x=$(N=X; echo)", "echo \"$(unset N)\"",
    "msg='N is the list'; echo \"$msg\" >/dev/null", "bash -c 'N=X'", "env N=X true",
]

SPELLINGS = {
    "plain": lambda n: n,
    "quoted": lambda n: n[:4] + "'" + n[4:] + "'",
    "double-quoted": lambda n: '"' + n[:3] + '"' + n[3:],
    "backslash": lambda n: n[:2] + "\\" + n[2:],
    "ansi-c": lambda n: "$'\\x4c'" + n[1:],
}

PLACES = {
    "after": lambda d, c: f"{d}\n{c}\n",
    "before": lambda d, c: f"{c}\n{d}\n",
    "function-after": lambda d, c: f"{d}\ng() {{\n  {c}\n}}\ng\n",
    "function-before": lambda d, c: f"g() {{\n  {c}\n}}\ng\n{d}\n",
    "eval-after": lambda d, c: f"{d}\neval {_single(c)}\n",
    "trap-exit": lambda d, c: f"{d}\ntrap {_single(c)} EXIT\n",
    "subshell": lambda d, c: f"{d}\n( {c} )\n",
}


_N = re.compile(r"(?<![A-Z])N(?![A-Z])")  # the placeholder in CHANGES (not the N of RETURN or NA)


def _named(change: str, name: str) -> str:
    return _N.sub(lambda _: name, change)


def _single(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass
class Case:
    label: str
    script: str


def cases() -> list[Case]:
    out: list[Case] = []
    for (d_index, definition), change, (place, wrap) in itertools.product(
            enumerate(DEFINITIONS), CHANGES, PLACES.items()):
        # Keep the product bounded: every change in every place with one rotating definition,
        # and every spelling once per change.
        if (d_index + CHANGES.index(change)) % len(DEFINITIONS) and place not in ("after", "before"):
            continue
        out.append(Case(f"{place}/{d_index}/{change}", wrap(definition, _named(change, NAME))))
    for change, (spelling, spell) in itertools.product(CHANGES, SPELLINGS.items()):
        if spelling == "plain" or not _N.search(change):
            continue
        out.append(Case(f"spelled-{spelling}/{change}", f"{DEFINITIONS[0]}\n{_named(change, spell(NAME))}\n"))
    return out


def bash_value(directory: Path, script: str) -> list[str] | None:
    """The list's final value as bash evaluates the script, or None when the probe never printed."""
    path = directory / "oracle.sh"
    path.write_text(_PRELUDE + script + _TRAILER)
    proc = subprocess.run([BASH, "--norc", "--noprofile", str(path)], cwd=directory, capture_output=True,
                          timeout=20, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    words = proc.stdout.split(b"\0")[:-1]
    if b"END" not in words:
        return None
    last = len(words) - 1 - words[::-1].index(b"END")
    previous = words[:last]
    start = len(previous) - previous[::-1].index(b"END") if b"END" in previous else 0
    return [w.decode() for w in words[start:last]]


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_driftcheck_reads_exactly_what_bash_gives_or_refuses(tmp_path: Path, record_property) -> None:  # type: ignore[no-untyped-def]
    generated, exact, refused, unjudged = 0, 0, 0, 0
    wrong: list[str] = []
    for index, case in enumerate(cases()):
        directory = tmp_path / str(index)
        directory.mkdir()
        generated += 1
        expected = bash_value(directory, case.script)
        (directory / "h.sh").write_text(case.script)
        result = extract_list(ListRef(f"h.sh:{NAME}", "h.sh", NAME, "shell"), SourceFiles(directory))
        if result.keys is None:
            assert any(f.exit_code == 2 for f in result.findings), case.label
            refused += 1
            continue
        got = [k.key for k in result.keys]
        if expected is None:
            unjudged += 1  # the probe never ran: count it as wrong, nothing vouches for the value
            wrong.append(f"{case.label}: bash printed no value, driftcheck read {got}\n{case.script}")
        elif got == expected:
            exact += 1
        else:
            wrong.append(f"{case.label}: bash {expected}, driftcheck {got}\n{case.script}")
    record_property("counts", f"generated={generated} exact={exact} refused={refused} wrong={len(wrong)}")
    print(f"\nbash adversarial: generated {generated}, read exactly {exact}, refused {refused}, wrong {len(wrong)}")
    assert generated > 400
    assert not wrong, f"{len(wrong)} wrong of {generated}:\n" + "\n".join(wrong[:20])


def test_the_probe_sees_changes_and_early_exits(tmp_path: Path) -> None:
    """A guard on the oracle itself: it must see a change, an array, and the value at an early exit."""
    assert bash_value(tmp_path, f'{NAME}="A B"\n{NAME}+=" C"\n') == ["A", "B", "C"]
    assert bash_value(tmp_path, f"{NAME}=('A B' C)\n") == ["A B", "C"]
    assert bash_value(tmp_path, f'{NAME}="A"\nexit 0\n{NAME}+=" B"\n') == ["A"]
    assert bash_value(tmp_path, f'{NAME}="A"\necho noise\nread -a{NAME} <<< "X"\n') == ["X"]
