"""The bash extractor: every definition form, every trap, checked against the real bash where it can be."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles
from repogen import CANONICAL_KEYS

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "fixtures"
HARNESS = "tests/e2e/test_staging_full_saas.sh"
BASH = shutil.which("bash") or "/usr/bin/bash"
CANONICAL = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py


def extract(tmp_path: Path, script: str | bytes, symbol: str = "N", name: str = "harness.sh") -> ExtractedList:
    path = tmp_path / name
    path.write_bytes(script.encode() if isinstance(script, str) else script)
    return extract_list(ListRef(f"{name}:{symbol}", name, symbol, "shell"), SourceFiles(tmp_path))


def keys(result: ExtractedList) -> list[tuple[str, int, int]]:
    assert result.keys is not None, [(f.code, f.line, f.column, f.message) for f in result.findings]
    return [(k.key, k.line, k.column) for k in result.keys]


def names(result: ExtractedList) -> list[str]:
    return [k for k, _, _ in keys(result)]


def codes(result: ExtractedList) -> list[tuple[str, int, int]]:
    return [(f.code, f.line, f.column) for f in result.findings]


def failed(result: ExtractedList) -> list[tuple[str, int, int]]:
    """The findings of a list that could not be extracted (keys must be None)."""
    assert result.keys is None, keys(result)
    assert all(f.path == "harness.sh" for f in result.findings)
    return codes(result)


def bash_list(tmp_path: Path, script: str, symbol: str = "N") -> list[str]:
    """What the harness itself gets: `$N` word-split (a string) or "${N[@]}" (an array)."""
    path = tmp_path / "oracle.sh"
    path.write_text(script)
    probe = (f'source "$1" >/dev/null 2>&1; flags=$(declare -p {symbol} 2>/dev/null | cut -d" " -f2); '
             f'if [[ $flags == -*a* ]]; then for k in "${{{symbol}[@]}}"; do printf "%s\\0" "$k"; done; '
             f'else for k in ${symbol}; do printf "%s\\0" "$k"; done; fi')
    empty = tmp_path / "empty-cwd"
    empty.mkdir(exist_ok=True)
    out = subprocess.run([BASH, "--norc", "--noprofile", "-c", probe, "oracle", str(path)], cwd=empty,
                         capture_output=True, timeout=20, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    return [word.decode() for word in out.stdout.split(b"\0")[:-1]]


# --------------------------------------------------------------------------- forms, cross-checked with bash

ORACLE_CASES = {
    "double-quoted": 'N="A B  C"\n',
    "continuations": 'N="A \\\n  B\\\nC \\\n\tD"\n',
    "newlines-in-double-quotes": 'N="\n  A\n  B\n"\n',
    "single-quoted-multiline": "N='A\n B\tC'\n",
    "unquoted-word": "N=A\n",
    "unquoted-escaped-space": "N=A\\ B\\ C\n",
    "ansi-c": "N=$'A\\tB\\nC\\x44\\105 \\u0046G'\n",
    "ansi-c-quote-escape": "N=$'A\\'B C\\\"D'\n",
    "ansi-c-short-octal-and-hex": "N=$'\\1010 \\x414 \\u0041B'\n",
    "concatenation": "N=A\"B C\"'D E'$'F'\n",
    "concatenation-of-quoted-parts": "N=\"A \"'B'\" C\"\n",
    "locale-string": 'N=$"A B"\n',
    "escapes-in-double-quotes": 'N="A\\$B C\\"D E\\`F"\n',
    "lone-dollar": 'N="A$ B$"\n',
    "hash-inside-word": "N=A#B\n",
    "declare-rx": 'declare -rx N="A B"\n',
    "declare-separate-flags": 'declare -r -x -- N="A B"\n',
    "typeset-g": 'typeset -g N="A B"\n',
    "readonly": 'readonly N="A B"\n',
    "export-then-readonly": 'N="A B"\nexport N\nreadonly N\ndeclare -p N >/dev/null\n',
    "array": 'N=(A B "C D")\n',
    "array-comments": "declare -ra N=( # first\n  A   # a comment with KEY_X\n  # KEY_Y\n  'B' \\\n  C\n)\n",
    "array-escaped-space": "N=(A\\ B C)\n",
    "array-quoted-glob": 'N=("A*" B)\n',
    "readonly-array": "readonly -a N=(A B)\n",
    "declare-a-then-array": "declare -a N\nN=(A B)\n",
    "expansion": 'B="X Y"\nN="$B Z"\n',
    "braced-expansion": 'B="X Y"\nN="${B}Z W"\n',
    "unquoted-expansion-in-string": 'B="X Y"\nN=$B\n',
    "chained-expansions": 'A=P\nB="$A Q"\nN="$B R"\n',
    "array-unquoted-expansion-splits": 'B=" X  Y "\nN=(a${B}b C)\n',
    "array-quoted-expansion-stays": 'B="X Y"\nN=("$B" Z)\n',
    "array-empty-unquoted-expansion": 'E=""\nN=($E A)\n',
    "string-append": 'N="A B"\nN+=" C"\n',
    "string-append-joins-last-word": 'N="A B"\nN+="C"\n',
    "array-append": "N=(A)\nN+=(B C)\n",
    "export-append": 'N="A"\nexport N+=" B"\n',
    "dependency-append-before-use": 'B=X\nB+=" Y"\nN="$B Z"\n',
    "dependency-append-after-use": 'B=X\nN="$B Z"\nB+=" Y"\n',
    "dependency-changed-in-later-function": 'B=X\nN="$B"\nf() { B=Y; }\n',
    "local-in-function-does-not-touch-global": 'B=X\nf() { local B=Y; }\nN="$B"\n',
    "unicode": 'N="Ä_KEY B"\n',
    "empty-string": 'N=""\n',
    "empty-array": "N=()\n",
    "empty-value": "N=\nX=1\n",
    "prefix-assignment-ignored": 'N="A B"\nN="$N C" true\n',
    "unset-function-not-variable": 'N="A"\nunset -f N\n',
    "continuation-right-after-equals": 'N=\\\n"A B"\n',
}


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_keys_match_what_bash_gives_the_harness(tmp_path: Path, case: str) -> None:
    script = ORACLE_CASES[case]
    assert names(extract(tmp_path, script)) == bash_list(tmp_path, script)


def test_bash_oracle_sees_what_the_cases_claim(tmp_path: Path) -> None:
    """A guard on the oracle itself, so a broken probe cannot make every comparison pass vacuously."""
    assert bash_list(tmp_path, 'N="A B"\n') == ["A", "B"]
    assert bash_list(tmp_path, 'N=("A B" C)\n') == ["A B", "C"]
    assert bash_list(tmp_path, "N='A \\\nB'\n") == ["A", "\\", "B"]
    assert bash_list(tmp_path, 'N="A B"\nN+="C"\n') == ["A", "BC"]


def _random_script(rng: random.Random) -> str:
    """A definition of N built from random quoting pieces (and sometimes a variable B it expands)."""
    words = ["KEY_A", "KEY_B", "OPENAI_API_KEY", "X1", "_Z", "Ä_KEY"]
    unquoted = [lambda: rng.choice(words), lambda: rng.choice(words) + "\\ " + rng.choice(words),
                lambda: "\\" + rng.choice(words)]
    has_b = rng.random() < 0.6
    in_double = [lambda: rng.choice(words), lambda: " ", lambda: "\n", lambda: " \\\n  ", lambda: "\\\"",
                 lambda: "\\$", lambda: "$"] + ([lambda: "$B", lambda: "${B} "] if has_b else [])
    in_single = [lambda: rng.choice(words), lambda: " ", lambda: "\n", lambda: "\t"]
    in_ansi = [lambda: rng.choice(words), lambda: "\\t", lambda: "\\n", lambda: " ", lambda: "\\x41", lambda: "\\102",
               lambda: "\\'", lambda: "\\u0043", lambda: "\\x4"]
    if_array = {"single": [lambda: rng.choice(words), lambda: "_"], "ansi": [lambda: rng.choice(words), lambda: "\\x41",
                                                                          lambda: "\\102", lambda: "\\u0043"]}

    def part(array: bool) -> str:
        kind = rng.randrange(5 if has_b else 4)
        if kind == 0:
            return rng.choice(unquoted)()
        if kind == 1:
            return '"' + "".join(rng.choice(in_double)() for _ in range(rng.randint(array, 6))) + '"'
        if kind == 2:
            pieces = if_array["single"] if array else in_single
            return "'" + "".join(rng.choice(pieces)() for _ in range(rng.randint(array, 5))) + "'"
        if kind == 3:
            pieces = if_array["ansi"] if array else in_ansi
            return "$'" + "".join(rng.choice(pieces)() for _ in range(rng.randint(array, 5))) + "'"
        return rng.choice(["$B", "${B}"])

    lines = []
    if has_b:
        lines.append("B=" + rng.choice(['"X_B Y_B"', "'Q'", "Z", '" S T "', '""']))
        if rng.random() < 0.3:
            lines.append('B+=" W"')
    if rng.random() < 0.5:
        value = "".join(part(False) for _ in range(rng.randint(1, 4)))
        builtin = rng.choice(["", "declare -r ", "export ", "readonly "])
        lines.append(builtin + "N=" + value)
        if rng.random() < 0.3 and "r" not in builtin:
            lines.append('N+=" ' + rng.choice(words) + '"')
    else:
        elements = []
        for _ in range(rng.randint(0, 5)):
            elements.append("".join(part(True) for _ in range(rng.randint(1, 2))))
            elements.append(rng.choice([" ", "\n  ", " # note KEY_Z\n  ", " \\\n  "]))
        lines.append(rng.choice(["", "declare -ra ", "declare -a "]) + "N=(" + "".join(elements) + ")")
        if rng.random() < 0.3:
            lines.append("N+=(" + rng.choice(words) + ")")
    return "\n".join(lines) + "\n"


def test_generated_definitions_agree_with_bash(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    extracted = 0
    for _ in range(120):
        script = _random_script(rng)
        result = extract(tmp_path, script)
        if result.keys is None:
            assert {f.code for f in result.findings} <= {"DC102", "DC104"}, (script, codes(result))
            continue
        extracted += 1
        assert list(result.key_names) == bash_list(tmp_path, script), script
    assert extracted >= 60  # the comparison must not pass vacuously


# --------------------------------------------------------------------------- exact positions

def test_string_key_positions_follow_continuations_and_indentation(tmp_path: Path) -> None:
    script = '# lead\nN="A_KEY B_KEY \\\n  C_KEY\\\nD \\\n\tE"\n'
    # `C_KEY\<newline>D` is one word: the continuation joins the lines
    assert keys(extract(tmp_path, script)) == [("A_KEY", 2, 4), ("B_KEY", 2, 10), ("C_KEYD", 3, 3), ("E", 5, 2)]


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    assert keys(extract(tmp_path, 'N="Ä_KEY ÉÉ B"\n')) == [("Ä_KEY", 1, 4), ("ÉÉ", 1, 10), ("B", 1, 13)]


def test_array_elements_are_located_at_the_start_of_their_word(tmp_path: Path) -> None:
    script = "declare -ra N=(\n  A # x\n  \"B\" 'C' $'D'\n  E\"F\"\n)\n"
    assert keys(extract(tmp_path, script)) == [("A", 2, 3), ("B", 3, 3), ("C", 3, 7), ("D", 3, 11), ("EF", 4, 3)]


def test_ansi_c_keys_start_at_their_first_escape(tmp_path: Path) -> None:
    assert keys(extract(tmp_path, "N=$'\\x41B\\tC\\101'\n")) == [("AB", 1, 5), ("CA", 1, 12)]


def test_keys_from_an_expansion_are_located_where_they_are_written(tmp_path: Path) -> None:
    script = 'BASE="X_KEY Y_KEY"\nN="$BASE Z_KEY"\nM=("$BASE" Z_KEY)\nP=($BASE)\n'
    assert keys(extract(tmp_path, script)) == [("X_KEY", 1, 7), ("Y_KEY", 1, 13), ("Z_KEY", 2, 10)]
    # a quoted expansion is one element, located at its opening quote
    assert keys(extract(tmp_path, script, "M")) == [("X_KEY Y_KEY", 3, 4), ("Z_KEY", 3, 12)]
    assert keys(extract(tmp_path, script, "P")) == [("X_KEY", 1, 7), ("Y_KEY", 1, 13)]


def test_appended_keys_are_located_in_the_append(tmp_path: Path) -> None:
    script = 'N="A B"\nN+=" C"\nN+=(D)\n'
    result = extract(tmp_path, 'N="A B"\nN+=" C"\n')
    assert keys(result) == [("A", 1, 4), ("B", 1, 6), ("C", 2, 6)]
    assert result.value_span is not None and (result.value_span.start_line, result.value_span.start_column) == (1, 3)
    assert failed(extract(tmp_path, script)) == [("DC102", 3, 4)]


def test_definition_and_value_span(tmp_path: Path) -> None:
    result = extract(tmp_path, 'x=1\ndeclare -r N="A\nB"  # trailing\n')
    assert result.definition is not None
    assert (result.definition.key, result.definition.line, result.definition.column) == ("N", 2, 12)
    span = result.value_span
    assert span is not None
    assert (span.start_line, span.start_column, span.end_line, span.end_column) == (2, 14, 3, 3)
    assert (tmp_path / "harness.sh").read_bytes()[span.start_byte:span.end_byte] == b'"A\nB"'
    array = extract(tmp_path, "N=( A\n B )\n")
    assert array.value_span is not None
    assert (tmp_path / "harness.sh").read_bytes()[array.value_span.start_byte:array.value_span.end_byte] == \
        b"( A\n B )"
    empty = extract(tmp_path, "N=\n")
    assert empty.keys == () and empty.value_span is not None
    assert (empty.value_span.start_byte, empty.value_span.end_byte, empty.value_span.start_column) == (2, 2, 3)


# --------------------------------------------------------------------------- not definitions

def test_prefix_assignment_heredoc_comment_and_strings_are_not_definitions(tmp_path: Path) -> None:
    script = (
        "# N=\"COMMENT_KEY\"\n"
        'N="A B"\n'
        'N="$N EXTRA" python3 -c \'import os; print(os.environ["N"])\'\n'
        "cat <<EOF\nN=HEREDOC_KEY\nEOF\n"
        "echo N=ECHO_KEY \"N=STRING_KEY\"\n"
        "f() { N=\"$N X\" env | grep N=; }\n"
    )
    assert keys(extract(tmp_path, script)) == [("A", 2, 4), ("B", 2, 6)]


def test_only_a_prefix_assignment_is_dc100_that_explains_it(tmp_path: Path) -> None:
    result = extract(tmp_path, "X=1\nN=A_KEY B_KEY C_KEY\n")  # runs the command B_KEY with N set
    assert failed(result) == [("DC100", 1, 1)]  # the driver reports "not found" at the top of the file
    assert "line 2 only sets it for the one command" in result.findings[0].message
    assert 'N="KEY1 KEY2"' in result.findings[0].message


def test_symbol_not_found_suggests_the_closest_top_level_variable(tmp_path: Path) -> None:
    result = extract(tmp_path, 'BYOK_STRIP_KEY="A"\nf() { BYOK_STRIP_KEYZ=1; }\n', "BYOK_STRIP_KEYS")
    assert failed(result) == [("DC100", 1, 1)]
    assert "did you mean 'BYOK_STRIP_KEY'" in result.findings[0].message
    nothing = extract(tmp_path, "echo hi\n", "BYOK_STRIP_KEYS")
    assert failed(nothing) == [("DC100", 1, 1)]
    assert "nothing that could hold a list is defined" in nothing.findings[0].message


def test_declaration_without_value_is_not_a_definition(tmp_path: Path) -> None:
    assert failed(extract(tmp_path, "export N\nreadonly N\n")) == [("DC100", 1, 1)]


# --------------------------------------------------------------------------- DC103 ambiguous definitions

DC103_CASES = {
    "function": ('f() {\n  N="A"\n}\n', [("DC103", 2, 3)]),
    "function-keyword-local": ('function f {\n  local N="A"\n}\n', [("DC103", 2, 9)]),
    "if": ('if true; then\n  N="A"\nfi\n', [("DC103", 2, 3)]),
    "elif-else": ('if a; then :\nelif b; then N=A\nelse N=B\nfi\n', [("DC103", 2, 14), ("DC103", 3, 6)]),
    "case": ('case "$1" in\n  x) N="A" ;;\nesac\n', [("DC103", 2, 6)]),
    "while": ("while false; do N=A; done\n", [("DC103", 1, 17)]),
    "until": ("until true; do N=A; done\n", [("DC103", 1, 16)]),
    "for": ("for x in 1; do N=A; done\n", [("DC103", 1, 16)]),
    "c-style-for": ("for ((i=0; i<1; i++)); do N=A; done\n", [("DC103", 1, 27)]),
    "subshell": ("( N=A )\n", [("DC103", 1, 3)]),
    "brace-group": ("{ N=A; }\n", [("DC103", 1, 3)]),
    "and-list": ('[ -n "$X" ] && N=A\n', [("DC103", 1, 16)]),
    "or-list": ("true || N=A\n", [("DC103", 1, 9)]),
    "pipeline": ("N=A | cat\n", [("DC103", 1, 1)]),
    "negated": ("! N=A\n", [("DC103", 1, 3)]),
    "background": ("N=A &\n", [("DC103", 1, 1)]),
    "command-substitution": ('X="$(N=A; echo)"\n', [("DC103", 1, 6)]),
    "twice": ('N="A"\nN="B"\n', [("DC103", 2, 1)]),
    "twice-through-declare": ('N="A"\ndeclare -r N="B"\n', [("DC103", 2, 12)]),
    "twice-array-and-string": ('N=(A)\nexport N="B"\n', [("DC103", 2, 8)]),
    "append-before-definition": ('N+=" A"\nN="B"\n', [("DC103", 1, 1)]),
    "append-in-if": ('N="A"\nif x; then N+=" B"; fi\n', [("DC103", 2, 12)]),
    "append-in-function": ('N="A"\nadd() { N+=" B"; }\n', [("DC103", 2, 9)]),
    "only-append": ('N+=" A"\n', [("DC103", 1, 1)]),
    # an assignment in a function is refused even when it only sets a local that shadows N: fail closed
    "assignment-to-a-local-shadow": ('N="A"\nf() { local N; N=x; }\n', [("DC103", 2, 16)]),
    "local-at-top-level": ('local N="A"\n', [("DC103", 1, 7)]),
    "readonly-before-definition": ('readonly N\nN="A"\n', [("DC103", 1, 10)]),
    "declare-builtin-via-builtin": ('builtin declare N="A"\n', [("DC103", 1, 17)]),
}


@pytest.mark.parametrize("case", sorted(DC103_CASES))
def test_conditional_or_repeated_definitions_are_dc103(tmp_path: Path, case: str) -> None:
    script, expected = DC103_CASES[case]
    result = extract(tmp_path, script)
    assert failed(result) == expected
    assert all("\n" not in f.message for f in result.findings)


def test_dc103_message_names_the_context_and_the_fix(tmp_path: Path) -> None:
    inside = extract(tmp_path, 'setup() {\n  N="A"\n}\n').findings[0].message
    assert inside.startswith("N is defined inside function setup(); keep exactly one unconditional top-level")
    again = extract(tmp_path, 'N="A"\n\nN="B"\n').findings[0].message
    assert "first definition at line 1, column 1" in again
    listed = extract(tmp_path, "[ x ] && N=A\n").findings[0].message
    assert "&& / || list" in listed


# --------------------------------------------------------------------------- DC104 mutations

DC104_CASES = {
    "unset": ('N="A"\nunset N\n', (2, 7)),
    "unset-v": ('N="A"\nunset -v X N\n', (2, 12)),
    "unset-element": ("N=(A B)\nunset 'N[0]'\n", (2, 7)),
    "unset-in-function": ('N="A"\ncleanup() { unset N; }\n', (2, 19)),
    "read": ('N="A"\nread -r N < /dev/null\n', (2, 9)),
    "read-array": ('N=(A)\nIFS=, read -ra N <<< "x,y"\n', (2, 16)),
    "mapfile": ("N=(A)\nmapfile -t N < <(echo x)\n", (2, 12)),
    "readarray": ("N=(A)\nreadarray N < /dev/null\n", (2, 11)),
    "printf-v": ("N=A\nprintf -v N '%s' x\n", (2, 11)),
    "getopts": ('N=A\ngetopts "ab" N\n', (2, 14)),
    "for-variable": ("N=A\nfor N in x y; do :; done\n", (2, 5)),
    "arithmetic": ("N=A\n(( N += 1 ))\n", (2, 4)),
    "arithmetic-expansion": ("N=A\necho $(( N = 2 ))\n", (2, 10)),
    "arithmetic-increment": ("N=A\n(( N++ ))\n", (2, 4)),
    "let": ("N=A\nlet N=1\n", (2, 5)),
    "default-assignment": ('N=""\n: "${N:=A}"\n', (2, 6)),
    "element-assignment": ("N=(A B)\nN[2]=C\n", (2, 1)),
    "element-append": ("N=(A B)\nN[0]+=C\n", (2, 1)),
    "declare-array-after-string": ('N="A B"\ndeclare -a N\n', (2, 12)),
    "declare-integer-after": ('N="A B"\ndeclare -i N\n', (2, 12)),
    "nameref": ('N="A"\ndeclare -n R=N\nR="B"\n', (2, 14)),
    "eval": ("N=A\neval \"N=B\"\n", (2, 6)),
    "append-to-readonly": ('readonly N="A"\nN+=" B"\n', (2, 1)),
}


@pytest.mark.parametrize("case", sorted(DC104_CASES))
def test_changes_after_the_declaration_are_dc104(tmp_path: Path, case: str) -> None:
    script, position = DC104_CASES[case]
    result = extract(tmp_path, script)
    assert failed(result) == [("DC104", *position)]


# The extractor reads a name's history from the statements that spell it, so a name split by
# quotes or backslashes (bash removes them) must still be found. Each change is real: bash's own
# value of the list after the script differs from the definition's.
SPELLED_CHANGES = {
    "unset-quoted-half": ('L="A B"\nunset "L"IST_KEYS\n', ("DC104", 2, 7)),
    "unset-single-quoted-tail": ("L='A B'\nunset LIST_'KEYS'\n", ("DC104", 2, 7)),
    "unset-backslash": ('L="A B"\nunset LIST\\_KEYS\n', ("DC104", 2, 7)),
    "read-split": ('L="A B"\nread -r "LIST_"KEYS <<< "C"\n', ("DC104", 2, 9)),
    "printf-v-split": ("L='A B'\nprintf -v LIST'_KEYS' '%s' C\n", ("DC104", 2, 11)),
    "eval-split": ('L="A B"\neval "LIST_K"\'EYS=C\'\n', ("DC104", 2, 6)),
    "unset-ansi-c-escape": ("L='A B'\nunset $'\\x4cIST_KEYS'\n", ("DC104", 2, 7)),
    "eval-ansi-c": ("L='A B'\neval $'LIST'_KEYS=C\n", ("DC104", 2, 6)),
    "let-ansi-c-escape": ("L='A B'\nlet $'\\x4cIST_KEYS'=1\n", ("DC104", 2, 5)),
    "declare-split": ("L='A B'\ndeclare LIST_'KEYS'=C\n", ("DC103", 2, 9)),
    "export-quoted-assignment": ('L="A B"\nexport "LIST_KEYS=C"\n', ("DC103", 2, 8)),
}


# Changes an adversarial review found behind quoting bash removes, wrappers that run a command,
# and builtins that assign (each confirmed with bash: the list does not end as defined).
HIDDEN_CHANGES = {
    "unset-locale-quoted-tail": ('L="A B"\nunset LIST_$"KEYS"\n', ("DC104", 2, 7)),
    "unset-empty-ansi-c": ("L=\"A B\"\nunset LIST$''_KEYS\n", ("DC104", 2, 7)),
    "declare-ansi-c-tail": ("L=\"A B\"\ndeclare LIST_$'KEYS'=C\n", ("DC103", 2, 9)),
    "quoted-command-name": ("L=\"A B\"\n'unset' LIST_KEYS\n", ("DC104", 2, 9)),
    "escaped-command-name": ('L="A B"\ntrue; \\unset LIST_KEYS\n', ("DC104", 2, 14)),
    "command-p": ('L="A B"\ncommand -p unset LIST_KEYS\n', ("DC104", 2, 18)),
    "builtin-dashdash": ('L="A B"\nbuiltin -- unset LIST_KEYS\n', ("DC104", 2, 18)),
    "time-prefix": ('L="A B"\ntime unset LIST_KEYS\n', ("DC104", 2, 12)),
    "builtin-declare-upper": ('builtin declare -u LIST_KEYS\nL="a b"\n', ("DC102", 1, 20)),
    "getopts-locale-string": ('L="A B"\ngetopts ab $"LIST_KEYS"\n', ("DC104", 2, 12)),
    "printf-locale-string": ('L="A B"\nprintf -v $"LIST_KEYS" %s C\n', ("DC104", 2, 11)),
    "arithmetic-quoted": ('L="A B"\n(( "LIST_KEYS" = 1 ))\n', ("DC104", 2, 4)),
    "arithmetic-expansion-quoted": ('L="A B"\n: $(( "LIST_KEYS" = 1 ))\n', ("DC104", 2, 7)),
    "wait-p": ('L="A B"\nsleep 0 & wait -p LIST_KEYS\n', ("DC104", 2, 19)),
    "trap-return": ("L=\"A B\"\ntrap 'LIST_KEYS=C' RETURN\n", ("DC104", 2, 6)),
}


@pytest.mark.parametrize("case", sorted({**SPELLED_CHANGES, **HIDDEN_CHANGES}))
def test_changes_hidden_by_quoting_wrappers_or_builtins_are_found(tmp_path: Path, case: str) -> None:
    script, finding = {**SPELLED_CHANGES, **HIDDEN_CHANGES}[case]
    script = script.replace("L=", "LIST_KEYS=", 1) + "true\n"  # `true`: sourcing ends well (trap, wait)
    defined = ["a", "b"] if "builtin-declare" in case else ["A", "B"]
    assert bash_list(tmp_path, script, "LIST_KEYS") != defined
    assert failed(extract(tmp_path, script, "LIST_KEYS")) == [finding]


def test_command_v_only_describes_and_changes_nothing(tmp_path: Path) -> None:
    script = 'N="A B"\ncommand -v unset N >/dev/null\ncommand -V unset >/dev/null\n'
    assert bash_list(tmp_path, script) == ["A", "B"]
    assert names(extract(tmp_path, script)) == ["A", "B"]


def test_a_backslash_newline_inside_a_name_fails_closed_for_both_halves(tmp_path: Path) -> None:
    # bash reads `export LIST_\<newline>KEYS=...` as LIST_KEYS; tree-sitter as LIST_ and a command KEYS=...
    script = 'export LIST_\\\nKEYS="A B"\n'
    for symbol in ("LIST_KEYS", "KEYS"):
        result = extract(tmp_path, script, symbol)
        assert result.keys is None and "DC101" not in [code for code, _, _ in failed(result)]
        assert any("tree-sitter-bash" in f.message and "splits the word" in f.message for f in result.findings)


def test_an_expanded_variable_changed_before_use_through_a_split_name_is_dc102(tmp_path: Path) -> None:
    script = 'BASE="A B"\nunset "BA"SE\nN="$BASE C"\n'
    assert bash_list(tmp_path, script) == ["C"]
    assert failed(extract(tmp_path, script)) == [("DC102", 3, 4)]


def test_lists_read_from_one_file_agree_whatever_the_order(tmp_path: Path) -> None:
    # One analysis per file serves every list in it; asking in another order must not change an answer.
    script = ('BASE="A B"\nFIRST="$BASE C"\nSECOND=(D "$BASE")\nunset -v THIRD\nTHIRD="E"\n'
              'BAD="X"\nf() { BAD+=" Y"; }\n')
    (tmp_path / "harness.sh").write_text(script)
    symbols = ["FIRST", "SECOND", "THIRD", "BAD", "BASE", "MISSING"]

    def run(order: list[str]) -> dict[str, tuple[object, object]]:
        files = SourceFiles(tmp_path)
        results = {s: extract_list(ListRef(f"harness.sh:{s}", "harness.sh", s, "shell"), files) for s in order}
        return {s: (r.keys, r.findings) for s, r in results.items()}

    alone = {s: next(iter(run([s]).values())) for s in symbols}
    assert run(symbols) == alone
    assert run(list(reversed(symbols))) == alone
    assert [k.key for k in alone["FIRST"][0]] == ["A", "B", "C"]  # type: ignore[union-attr]
    assert [k.key for k in alone["SECOND"][0]] == ["D", "A B"]  # type: ignore[union-attr]
    assert [f.code for f in alone["BAD"][1]] == ["DC103"]  # type: ignore[union-attr]
    assert [f.code for f in alone["MISSING"][1]] == ["DC100"]  # type: ignore[union-attr]


def test_harmless_declarations_and_reads_are_not_mutations(tmp_path: Path) -> None:
    script = ('N="A B"\nexport N\nreadonly N\ndeclare -p N\necho "$N" ${#N} "${N}"\n[[ N = x ]] && :\n'
              'f() { local N; declare N2=1; echo "$N"; }\nunset -f N\nexport -n N\ndeclare -f N\n'
              ': "${N:?must be set}"\nread -r X <<< "$N"\n')
    assert names(extract(tmp_path, script)) == ["A", "B"]


# --------------------------------------------------------------------------- DC102 not static

DC102_CASES = {
    "command-substitution": ('N="A $(cat keys.txt)"\n', (1, 6)),
    "backticks": ("N=\"A `cat keys.txt`\"\n", (1, 6)),
    "arithmetic": ('N="A $((1 + 2))"\n', (1, 6)),
    "old-arithmetic": ('N="A $[1 + 2]"\n', (1, 6)),
    "process-substitution": ("N=(A <(ls))\n", (1, 6)),
    "default-value": ('N="${X:-A}"\n', (1, 4)),
    "length": ('X=1\nN="${#X}"\n', (2, 4)),
    "indirect": ('X=1\nN="${!X}"\n', (2, 4)),
    "array-subscript": ('X=(A)\nN="${X[0]}"\n', (2, 4)),
    "positional": ('N="A $1"\n', (1, 6)),
    "all-arguments": ("N=($@)\n", (1, 4)),
    "special-parameter": ('N="A $$"\n', (1, 6)),
    "environment-variable": ('N="$HOME A"\n', (1, 4)),
    "defined-later": ('N="$B A"\nB=X\n', (1, 4)),
    "self-reference": ('N="$N A"\n', (1, 4)),
    "dependency-in-if": ('if x; then B=X; fi\nN="$B A"\n', (2, 4)),
    "dependency-in-earlier-function": ('f() { B=Y; }\nB=X\nN="$B A"\n', (3, 4)),
    "dependency-twice": ('B=X\nB=Y\nN="$B A"\n', (3, 4)),
    "dependency-unset": ('B=X\nunset B\nN="$B A"\n', (3, 4)),
    "dependency-read": ('B=X\nread -r B\nN="$B A"\n', (3, 4)),
    "dependency-array": ('B=(X Y)\nN="$B A"\n', (2, 4)),
    "dependency-integer": ('declare -i B=1\nN="$B A"\n', (2, 4)),
    "dependency-not-static": ('B="$(date)"\nN="$B A"\n', (1, 4)),
    "glob-in-string": ('N="A B*"\n', (1, 6)),
    "bracket-in-string": ('N="A [B]"\n', (1, 6)),
    "question-mark-unquoted-string": ("N=A?\n", (1, 3)),
    "glob-in-array": ("N=(A B*)\n", (1, 7)),
    "glob-from-unquoted-expansion-in-array": ('B="X*"\nN=($B)\n', (2, 4)),
    "brace-expansion": ("N=(A_{X,Y}_KEY)\n", (1, 6)),
    "brace-in-string": ("N=A{X,Y}\n", (1, 4)),
    "tilde": ("N=(~/keys)\n", (1, 4)),
    "tilde-after-colon": ("N=A:~B\n", (1, 5)),
    "indexed-element": ("N=([0]=A [1]=B)\n", (1, 4)),
    "empty-element": ('N=(A "")\n', (1, 6)),
    "associative": ("declare -A N=([a]=1)\n", (1, 12)),
    "integer": ("declare -i N=1\n", (1, 12)),
    "lowercase": ('declare -l N="A"\n', (1, 12)),
    "nameref-definition": ("declare -n N=X\n", (1, 12)),
    "export-invalid-flag": ('export -x N="A"\n', (1, 11)),
    "readonly-invalid-flag": ('readonly -x N="A"\n', (1, 13)),
    "plus-flag": ('declare +x N="A"\n', (1, 12)),
    "declare-a-with-string": ('declare -a N="A B"\n', (1, 14)),
    "string-plus-array-append": ('N="A"\nN+=(B)\n', (2, 4)),
    "array-plus-string-append": ('N=(A)\nN+=" B"\n', (2, 4)),
    "single-quote-backslash-newline": ("N='A \\\nB'\n", (1, 6)),
    "backslash-in-double-quotes": ('N="A\\qB"\n', (1, 4)),
    "ansi-c-control-escape": ("N=$'A\\cA'\n", (1, 6)),
    "ansi-c-nul": ("N=$'A\\0B'\n", (1, 6)),
    "ansi-c-high-byte": ("N=$'A\\xe9'\n", (1, 6)),
    "ansi-c-unicode": ("N=$'A\\u00e9'\n", (1, 6)),
    "ansi-c-unknown-escape-keeps-backslash": ("N=$'A\\qB'\n", (1, 5)),
    "carriage-return-in-key": ('N="A\rB"\n', (1, 4)),
    "newline-in-array-element": ('N=("A\nB")\n', (1, 4)),
    "value-continued-outside-quotes": ("N='A B'\\\n'C'\n", (1, 8)),
    "declared-value-continued-outside-quotes": ("readonly N='A B'\\\n'C'\n", (1, 17)),
    "continuation-then-blank": ("X=1 N=\\\n  cmd\n", (1, 7)),
    "dollar-then-continuation": ('N="A $\\\nB"\n', (1, 6)),
    "continuation-inside-expanded-name": ('BA=X\nN="$BA\\\nSE"\n', (2, 4)),
    "computed-declare-options": ('declare "$opts" N="A"\n', (1, 17)),  # and DC104 at 1:9 (any name)
    "escaped-tab-tree-sitter-splits": ("N=A\\ B\\\tC\n", (1, 7)),
}


@pytest.mark.parametrize("case", sorted(DC102_CASES))
def test_values_that_are_not_static_are_dc102(tmp_path: Path, case: str) -> None:
    script, position = DC102_CASES[case]
    result = extract(tmp_path, script)
    assert failed(result) == [("DC102", *position)]
    assert "\n" not in result.findings[0].message


def test_long_expansion_chains_resolve_and_absurd_ones_fail_closed(tmp_path: Path) -> None:
    def chain(length: int) -> str:
        lines = ['V0="K0"'] + [f'V{i}="$V{i - 1} K{i}"' for i in range(1, length)]
        return "\n".join(lines) + f'\nN="$V{length - 1}"\n'

    assert names(extract(tmp_path, chain(30))) == [f"K{i}" for i in range(30)]
    deep = extract(tmp_path, chain(300))
    assert [f.code for f in failed(deep) and deep.findings] == ["DC102"]
    assert "chain of more than 40 variables" in deep.findings[0].message


def test_dc102_messages_say_what_and_how(tmp_path: Path) -> None:
    message = extract(tmp_path, "N='A \\\nB'\n").findings[0].message
    assert "backslash" in message and "single quotes" in message
    assert "environment variable" in extract(tmp_path, 'N="$HOME"\n').findings[0].message
    assert "only defined later (line 2)" in extract(tmp_path, 'N="$B"\nB=X\n').findings[0].message
    assert "CRLF" in extract(tmp_path, 'N="A\rB"\n').findings[0].message
    assert extract(tmp_path, 'N="A B*"\n').findings[0].key == "B*"


def test_tilde_and_glob_are_literal_when_quoted(tmp_path: Path) -> None:
    assert names(extract(tmp_path, "N=('~/x' \"A?\" A\\*)\n")) == ["~/x", "A?", "A*"]


# --------------------------------------------------------------------------- CRLF files

def test_a_crlf_file_fails_closed_because_bash_keeps_the_carriage_returns(tmp_path: Path) -> None:
    script = 'B="X"\nN="A $B \\\nC"\nM=(\n  D # c\n  E\n)\n'
    crlf = script.replace("\n", "\r\n")
    assert names(extract(tmp_path, script)) == ["A", "X", "C"]
    # what bash really does with the CRLF file: the CRs end up in the keys
    assert bash_list(tmp_path, crlf, "N") == ["A", "X\r", "\\\r", "C\r"]
    result = extract(tmp_path, crlf.encode())
    assert failed(result) == [("DC102", 3, 3)]  # the CR that follows the closing quote
    assert "CRLF" in result.findings[0].message and "eol=lf" in result.findings[0].message
    array = extract(tmp_path, crlf.encode(), "M")
    assert failed(array)[0] == ("DC104", 4, 4)  # bash accepts the file: not a syntax error, but unreadable
    assert "ends with CRLF" in array.findings[0].message and "eol=lf" in array.findings[0].message


# --------------------------------------------------------------------------- DC101 syntax

def test_syntax_error_is_dc101_even_far_from_the_list(tmp_path: Path) -> None:
    script = 'N="A B"\n' + "echo ok\n" * 50 + "if true; then\n  echo unterminated\n"
    result = extract(tmp_path, script)
    assert result.keys is None
    assert [f.code for f in result.findings] == ["DC101"]
    finding = result.findings[0]
    # bash -n names the line where the file ends unfinished.
    assert (finding.line, finding.column) == (54, 1)
    assert finding.message.startswith("bash syntax error: unexpected end of file (line 54")


def test_syntax_error_points_where_bash_does_not_where_tree_sitter_recovery_starts(tmp_path: Path) -> None:
    script = '#!/usr/bin/env bash\nset -eu\nN="A_KEY"\nfor k in $N; do echo "$k"; done\nif true; then\n  echo "unterminated\n'
    result = extract(tmp_path, script)
    assert failed(result) == [("DC101", 6, 1)]
    assert "unexpected EOF while looking for matching" in result.findings[0].message


def test_tree_sitter_misparse_of_a_trailing_empty_assignment_fails_closed(tmp_path: Path) -> None:
    # bash: three statements. tree-sitter-bash: one command spanning lines 1-3 in which N is a prefix assignment.
    script = 'A= B=\nN="X Y"\nA= B=\nreadonly X=1\n'
    assert bash_list(tmp_path, script) == ["X", "Y"]
    result = extract(tmp_path, script)
    assert failed(result) == [("DC104", 1, 1)]
    assert "continues past the end of line 1" in result.findings[0].message
    # The same misparse elsewhere does not concern N.
    assert names(extract(tmp_path, 'N="X Y"\nA= B=\nC=1 D=2\nreadonly X=1\n')) == ["X", "Y"]


TOKENIZATION_CASES = {
    # bash: N="A B"<CR> (the CR is part of the value); tree-sitter-bash: a blank
    "stray-carriage-return-after-value": ('N="A B"\r\nX=1\n', (1, 8), "ends with CRLF"),
    # bash: the command `<CR>N+=...` (not found); tree-sitter-bash: an append
    "carriage-return-before-append": ('N="A"\n\rN+=" B"\n', (2, 1), "carriage return outside quotes"),
    # bash: N+=" B" (the lines join); tree-sitter-bash: a command `N` and more
    "name-split-by-continuation": ('N="A"\nN\\\n+=" B"\n', (2, 2), "splits the word 'N'"),
    "operator-split-by-continuation": ('N="A"\nN+\\\n=" B"\n', (2, 3), "splits the word 'N'"),
    "long-name-split-by-continuation": ('BYOK_STRIP_KEYS="A"\nBYOK_STRIP_K\\\nEYS+=" B"\n', (2, 13),
                                        "splits the word 'BYOK_STRIP_KEYS'"),
    # bash: `G+=" B"` then a command `\101` on its own line; tree-sitter-bash: one command named "\n\\101"
    "comment-then-command": ('G="A"\nG+=" B"  # c\n\\101\nN="$G"\n', (2, 1), "as one command"),
    # bash: the word `declare$`; tree-sitter-bash: the builtin declare with the option $-
    "keyword-glued-to-expansion": ("declare$ -ra N=(\n A\n)\n", (1, 1), "as one word"),
}


@pytest.mark.parametrize("case", sorted(TOKENIZATION_CASES))
def test_where_tree_sitter_splits_words_unlike_bash_the_list_is_refused_but_not_dc101(tmp_path: Path,
                                                                                      case: str) -> None:
    # bash accepts each file (DC101 is only for that), but driftcheck's parser reads it differently.
    script, position, why = TOKENIZATION_CASES[case]
    symbol = "BYOK_STRIP_KEYS" if case.startswith("long") else "N"
    result = extract(tmp_path, script, symbol)
    found = failed(result)
    if subprocess.run([BASH, "-n", str(tmp_path / "harness.sh")], capture_output=True).returncode != 0:
        assert found == [("DC101", position[0], 1)]  # bash rejects it after all: at bash's line
        return
    # DC104 where the list itself is touched, DC102 where a variable its value expands is
    assert any(code in ("DC102", "DC104") and (line, column) == position for code, line, column in found)
    assert all(code != "DC101" for code, _, _ in found)
    assert any(why in f.message and "tree-sitter-bash" in f.message for f in result.findings)


def test_reserved_word_where_a_command_should_be_is_dc101(tmp_path: Path) -> None:
    # tree-sitter-bash parses a stray `fi` as a command; bash rejects the file there.
    script = 'N="A B"\nif true; then\n  echo x\nfi\nfi\n'
    result = extract(tmp_path, script)
    assert failed(result) == [("DC101", 5, 1)]
    assert "unexpected token `fi'" in result.findings[0].message and "bash -n" in result.findings[0].message
    assert subprocess.run([BASH, "-n", str(tmp_path / "harness.sh")], capture_output=True).returncode != 0


RESERVED_AS_COMMAND = {
    # bash -n names the line; the column is 1
    "after-semicolon": ('N="A"\necho x; }\n', (2, 1), "}"),
    "after-and": ('N="A"\ntrue && done\n', (2, 1), "done"),
    "in-substitution": ('N="A"\necho "$(esac)"\n', (2, 1), "esac"),
    "after-negation": ('N="A"\n! fi\n', (2, 1), "fi"),
    "indented": ('N="A"\nf() {\n  :\n}\n\tthen\n', (5, 1), "then"),
    "first-byte": ('fi\nN="A"\n', (1, 1), "fi"),
}


@pytest.mark.parametrize("case", sorted(RESERVED_AS_COMMAND))
def test_reserved_words_read_as_commands_anywhere_are_dc101(tmp_path: Path, case: str) -> None:
    script, position, word = RESERVED_AS_COMMAND[case]
    result = extract(tmp_path, script)
    assert failed(result) == [("DC101", *position)]
    assert f"unexpected token `{word}'" in result.findings[0].message or "syntax error" in result.findings[0].message
    assert subprocess.run([BASH, "-n", str(tmp_path / "harness.sh")], capture_output=True).returncode != 0


def test_reserved_words_as_arguments_and_keywords_are_not_syntax_errors(tmp_path: Path) -> None:
    script = ('N="A B"\necho fi done esac }\nif true; then :; fi\nfor x in a; do :; done\n'
              'case x in x) : ;; esac\n{ :; }\ngrep -c "fi" /dev/null || :\n')
    assert subprocess.run([BASH, "-n", "-c", script], capture_output=True).returncode == 0
    assert names(extract(tmp_path, script)) == ["A", "B"]


def test_tokenization_differences_elsewhere_do_not_block_the_list(tmp_path: Path) -> None:
    script = 'N="A B"\nX="1"\r\nY\\\n=2\nZ= W=\necho hi\n'
    assert names(extract(tmp_path, script)) == ["A", "B"]


# --------------------------------------------------------------------------- DC003 and pragmas

def test_duplicates_are_reported_at_the_second_occurrence_and_keys_kept(tmp_path: Path) -> None:
    result = extract(tmp_path, 'N="A B\n  A C B"\n')
    assert names(result) == ["A", "B", "A", "C", "B"]
    assert codes(result) == [("DC003", 2, 3), ("DC003", 2, 7)]
    assert [f.key for f in result.findings] == ["A", "B"]
    assert "first at line 1" in result.findings[0].message


def test_pragmas_above_and_at_the_end_of_the_first_line(tmp_path: Path) -> None:
    script = ("# driftcheck: allow-missing=FAR_KEY -- separated by a blank line, not next to N\n\n"
              "# Keep in sync with secrets.go.\n"
              "# driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time\n"
              "N=( # driftcheck: allow-extra=LEGACY_KEY,OLD_KEY -- old workspaces\n  A\n)\n")
    result = extract(tmp_path, script)
    # the separated pragma is not an allowance: DC006 says why it has no effect
    assert names(result) == ["A"] and [(f.code, f.line) for f in result.findings] == [("DC006", 1)]
    assert "a blank line separates it" in result.findings[0].message
    got = [(a.key, a.kind, a.reason, a.line, a.column, a.origin) for a in result.allowances]
    assert got == [("MINIMAX_API_KEY", "missing", "sent at create time", 4, 3, "pragma"),
                   ("LEGACY_KEY", "extra", "old workspaces", 5, 7, "pragma"),
                   ("OLD_KEY", "extra", "old workspaces", 5, 7, "pragma")]


def test_pragma_after_a_one_line_string(tmp_path: Path) -> None:
    result = extract(tmp_path, 'N="A" # driftcheck: allow-missing=B -- reason here\n')
    assert [(a.key, a.line, a.column) for a in result.allowances] == [("B", 1, 9)]


def test_malformed_pragma_is_dc106_and_withholds_the_list(tmp_path: Path) -> None:
    result = extract(tmp_path, '# driftcheck: allow-missing=B\nN="A"\n')
    assert failed(result) == [("DC106", 1, 3)]
    assert "no reason" in result.findings[0].message
    assert failed(extract(tmp_path, 'N="A"  # driftcheck: allow-sideways=B -- why\n')) == [("DC106", 1, 10)]


# --------------------------------------------------------------------------- a real-sized harness

EXTRA_SYNTAX = r'''
summarize_results_@@() {
  local -A counts=([pass]=0 [fail]=0)
  local line status name re='^(PASS|FAIL): ([a-z0-9_-]+)$'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      status="${BASH_REMATCH[1],,}"
      name="${BASH_REMATCH[2]}"
      counts[$status]=$(( ${counts[$status]:-0} + 1 ))
      printf -v line '%-8s %s' "$status" "$name"
    fi
  done <<< "$(cat "$TMP_DIR"/*.log 2>/dev/null || true)"
  echo "pass=${counts[pass]} fail=${counts[fail]}"
  local hex=$(( 16#ff )) oct=$(( 8#17 ))
  (( hex > oct )) || return 1
  local path="${TMP_DIR//\/\//\/}" base="${path##*/}" upper="${base^^}"
  case "$base" in
    *.json|*.yaml) echo "config: $base" ;;
    e2e.*) : ;;
    [0-9]*) echo "numeric $upper" ;;
  esac
  diff <(sort "$TMP_DIR/a" 2>/dev/null) <(sort "$TMP_DIR/b" 2>/dev/null) >/dev/null || true
  { echo one; echo two; } | tee /dev/null
  local arr=( "one two" three $'four\tfive' ) i
  for (( i = 0; i < ${#arr[@]}; i++ )); do
    echo "$i: ${arr[i]}"
  done
  [[ -f "$TMP_DIR/x" && ! -d "$TMP_DIR/y" || -z "${ARM:-}" ]] && true
  select_json=$(jq -c 'map(select(.key | test("^(ANTHROPIC|OPENAI)_")))' <<'JSON'
[{"key": "ANTHROPIC_API_KEY"}, {"key": "OPENAI_API_KEY"}, {"key": "LLM_MODEL"}]
JSON
)
  echo "${select_json:0:20}" "${#select_json}" "${select_json: -3}"
  local -i n=3
  n+=2
  until [[ $n -le 0 ]]; do n=$((n - 1)); done
  cat <<EOF
BYOK_STRIP_KEYS="$BYOK_STRIP_KEYS" is not a definition (heredoc @@)
EOF
  BYOK_STRIP_KEYS="$BYOK_STRIP_KEYS OTHER_KEY" env | grep -c BYOK_STRIP_KEYS || true
  echo "done: $n `date +%s`"
}
'''


def test_a_110kb_harness_parses_cleanly_and_extracts(tmp_path: Path) -> None:
    # How fast is the benchmark's business (benchmarks/run.py), not a test's: this checks the answer only.
    base = (FIXTURES / "sh-string-continuation" / HARNESS).read_text()
    helpers = base.index("\nlog() {")
    blocks = [EXTRA_SYNTAX.replace("@@", str(i)) for i in range(70)]
    script = base[:helpers] + "".join(blocks) + base[helpers:]
    assert len(script.encode()) > 110_000
    path = tmp_path / "harness.sh"
    path.write_text(script)
    assert subprocess.run([BASH, "-n", str(path)], capture_output=True).returncode == 0
    result = extract(tmp_path, script, "BYOK_STRIP_KEYS")
    assert names(result) == CANONICAL and result.findings == ()
    assert keys(result)[0] == ("ANTHROPIC_API_KEY", 28, 18)


# --------------------------------------------------------------------------- fixtures

FIXTURE_EXPECT = {
    "sh-string-continuation": (0, [], [("ANTHROPIC_API_KEY", 28, 18), ("OPENAI_API_KEY", 29, 1)]),
    "sh-array-comments": (0, [], [("ANTHROPIC_API_KEY", 29, 3), ("OPENAI_API_KEY", 32, 3),
                                  ("OPENAI_BASE_URL", 33, 3)]),
    "sh-append-expansion": (0, [], [("ANTHROPIC_API_KEY", 25, 17), ("OPENAI_API_KEY", 26, 21),
                                    ("MINIMAX_API_KEY", 28, 16), ("OPENROUTER_API_KEY", 33, 20)]),
    "sh-ansi-c": (0, [], [("ANTHROPIC_API_KEY", 26, 26), ("ANTHROPIC_AUTH_TOKEN", 26, 45),
                          ("AZURE_OPENAI_API_KEY", 29, 56), ("AZURE_OPENAI_ENDPOINT", 29, 80)]),
    "sh-error-conditional": (2, [("DC103", 30, 3), ("DC103", 37, 3)], None),
    "sh-error-command-subst": (2, [("DC102", 26, 18)], None),
    "sh-error-unset": (2, [("DC104", 215, 9)], None),
    "sh-error-syntax": (2, [("DC101", 210, 1)], None),
    "sh-error-twice": (2, [("DC103", 36, 1)], None),
}


def test_every_shell_fixture_is_covered() -> None:
    assert sorted(p.name for p in FIXTURES.glob("sh-*")) == sorted(FIXTURE_EXPECT)


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECT))
def test_fixture_extraction(name: str) -> None:
    code, findings, some_keys = FIXTURE_EXPECT[name]
    root = FIXTURES / name
    result = extract_list(ListRef(f"{HARNESS}:BYOK_STRIP_KEYS", HARNESS, "BYOK_STRIP_KEYS", "shell"),
                          SourceFiles(root))
    assert codes(result) == findings
    assert all(f.path == HARNESS for f in result.findings)
    readme = (root / "README.md").read_text()
    assert f"exit {code}" in readme
    for finding in findings:
        assert f"{finding[1]}:{finding[2]}" in readme
    if some_keys is None:
        assert result.keys is None
        return
    assert names(result) == CANONICAL
    for key in some_keys:
        assert key in keys(result)
        assert f"{key[1]}:{key[2]}" in readme or key[0] not in readme


@pytest.mark.parametrize("name", sorted(n for n, (code, _, _) in FIXTURE_EXPECT.items() if code == 0))
def test_in_sync_fixture_lists_match_bash(tmp_path: Path, name: str) -> None:
    """Source the harness up to its helpers (the part that defines the list) and compare with bash."""
    text = (FIXTURES / name / HARNESS).read_text()
    prelude = text[:text.index("# ---------------------------------------------------------------- helpers")]
    prelude = prelude.replace(': "${STAGING_URL:?', ': "${STAGING_URL:-x}${X:?', 1)
    assert bash_list(tmp_path, "X=1\n" + prelude, "BYOK_STRIP_KEYS") == CANONICAL


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECT))
def test_fixture_check_exit_code(driftcheck, name: str) -> None:  # type: ignore[no-untyped-def]
    code, findings, _ = FIXTURE_EXPECT[name]
    run = driftcheck("check", "--root", str(FIXTURES / name), "--format", "json")
    assert run.code == code, run.out + run.err
    got = [(f["code"], f["line"], f["column"]) for f in run.json["findings"]]
    assert got == findings


# --------------------------------------------------------------------------- parser safety


def test_code_points_that_crash_tree_sitter_bash_are_refused_before_parsing(tmp_path: Path) -> None:
    from driftcheck.languages.driver import extract_list
    from driftcheck.model import ListRef
    from driftcheck.sources import SourceFiles

    (tmp_path / "h.sh").write_bytes('X="A B"\n# note {\U0010ffff\n'.encode())
    result = extract_list(ListRef("h.sh:X", "h.sh", "X", "shell"), SourceFiles(tmp_path))
    assert result.keys is None
    assert [(f.code, f.line, f.column) for f in result.findings] == [("DC105", 2, 9)]
    assert "U+10FFFF" in result.findings[0].message
