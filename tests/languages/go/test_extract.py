"""The Go extractor: every accepted form, every DC1xx it emits, scoping, escapes and positions.

Each test writes a small Go package into tmp_path/handlers and extracts through the public
dispatcher, exactly as `check` does. Go sources start with `package handlers` and a blank line,
so the first body line is line 3. Indentation is four spaces (columns count characters).
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles
from repogen import CANONICAL_KEYS

REPO = Path(__file__).resolve().parents[3]
CANONICAL = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py


def go(body: str) -> str:
    return "package handlers\n\n" + textwrap.dedent(body).lstrip("\n")


def run(tmp_path: Path, files: dict[str, str | bytes], symbol: str = "keys",
        main: str = "secrets.go", cache: SourceFiles | None = None) -> ExtractedList:
    pkg = tmp_path / "handlers"
    pkg.mkdir(exist_ok=True)
    for name, text in files.items():
        (pkg / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    ref = ListRef(f"handlers/{main}:{symbol}", f"handlers/{main}", symbol, "go")
    return extract_list(ref, cache or SourceFiles(tmp_path))


def keys(result: ExtractedList) -> list[tuple[str, int, int]]:
    assert result.keys is not None, result.findings
    return [(k.key, k.line, k.column) for k in result.keys]


def codes(result: ExtractedList) -> list[tuple[str, str, int, int]]:
    return [(f.code, f.path, f.line, f.column) for f in result.findings]


def only(result: ExtractedList, code: str) -> tuple[int, int, str]:
    """The single finding, which must have `code`; keys must be None for DC1xx."""
    assert len(result.findings) == 1, result.findings
    finding = result.findings[0]
    assert finding.code == code, finding
    if code.startswith("DC1") and code != "DC106":
        assert result.keys is None
    return finding.line, finding.column, finding.message


# ----------------------------------------------------------------------------------------------
# Accepted forms


def test_map_struct_keys_positions_definition_and_span(tmp_path: Path) -> None:
    source = go("""
        // keys comment mentions "NOT_A_KEY".
        var keys = map[string]struct{}{
            "ANTHROPIC_API_KEY": {},
            // "COMMENTED_OUT": {},
            "GEMINI_API_KEY":    {},
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("ANTHROPIC_API_KEY", 5, 5), ("GEMINI_API_KEY", 7, 5)]
    assert result.findings == ()
    assert result.definition is not None
    assert (result.definition.key, result.definition.line, result.definition.column) == ("keys", 4, 5)
    span = result.value_span
    assert span is not None
    assert (span.start_line, span.start_column, span.end_line, span.end_column) == (4, 12, 8, 2)
    data = (tmp_path / "handlers/secrets.go").read_bytes()
    assert data[span.start_byte:span.end_byte].startswith(b"map[string]struct{}{")
    assert data[span.start_byte:span.end_byte].endswith(b"}")


def test_grouped_var_picks_the_spec(tmp_path: Path) -> None:
    source = go("""
        var (
            other = []string{"NOPE"}
            keys  = []string{"A", "B"}
        )
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 5, 22), ("B", 5, 27)]
    assert (result.definition.line, result.definition.column) == (5, 5)


def test_multi_name_var_picks_value_at_same_index(tmp_path: Path) -> None:
    source = go("""
        var first, keys = []string{"X"}, [...]string{"A", "B"}
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 3, 46), ("B", 3, 51)]
    assert (result.definition.line, result.definition.column) == (3, 12)


def test_typed_var(tmp_path: Path) -> None:
    source = go("""
        var keys map[string]struct{} = map[string]struct{}{"A": {}, "B": struct{}{}}
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("A", 3, 52), ("B", 3, 61)]


@pytest.mark.parametrize("literal", ['[]string{"A", "B"}', '[2]string{"A", "B"}', '[...]string{"A", "B"}',
                                     '[0x2]string{"A", "B"}', '([]string{"A", "B"})'])
def test_slice_and_array_forms(tmp_path: Path, literal: str) -> None:
    result = run(tmp_path, {"secrets.go": go(f"var keys = {literal}\n")})
    assert [k.key for k in result.keys or ()] == ["A", "B"]
    assert result.findings == ()


def test_map_bool_true_values(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]bool{
            "A": true,
            "B": true,
        }
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("A", 4, 5), ("B", 5, 5)]


def test_empty_map_is_an_empty_list(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go("var keys = map[string]struct{}{}\n")})
    assert result.keys == ()
    assert result.findings == ()


def test_concatenation_and_parentheses(tmp_path: Path) -> None:
    source = go("""
        var keys = []string{
            "OPENAI_" + "API_KEY",
            ("AZURE_" + ("OPENAI_" + `ENDPOINT`)),
        }
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("OPENAI_API_KEY", 4, 5),
                                                           ("AZURE_OPENAI_ENDPOINT", 5, 5)]


def test_long_concatenation_and_deep_constant_chain_do_not_crash(tmp_path: Path) -> None:
    concat = " + ".join(f'"{c}"' for c in "AB" * 1500)
    chain = "".join(f"const c{i} = c{i + 1}\n" for i in range(3000)) + 'const c3000 = "DEEP"\n'
    result = run(tmp_path, {"secrets.go": go(f"var keys = []string{{{concat}}}\n"), "chain.go": go(chain)})
    assert keys(result) == [("AB" * 1500, 3, 21)]
    result = run(tmp_path, {"secrets.go": go("var keys = []string{c0}\n")})
    assert result.keys is None
    assert [f.code for f in result.findings] == ["DC102"]


def test_escapes_decoded_like_go(tmp_path: Path) -> None:
    # \x41 \u0041 \101 are all "A"; \" and \\ are literal; \U0001F600 is an emoji (4 UTF-8 bytes).
    source = go(r'''
        var keys = []string{"K_\x41\u0041\101", "Q\"\\", "E\U0001F600", "\u00e9\t"}
    ''')
    result = run(tmp_path, {"secrets.go": source})
    assert [k.key for k in result.keys or ()] == ["K_AAA", 'Q"\\', "E\U0001F600", "\u00e9\t"]


def test_raw_strings_drop_carriage_returns(tmp_path: Path) -> None:
    source = b"package handlers\n\nvar keys = []string{`RAW_\rKEY`, `A\\x41`}\n"
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("RAW_KEY", 3, 21), ("A\\x41", 3, 33)]


def test_bom_is_not_a_column(tmp_path: Path) -> None:
    source = b'\xef\xbb\xbfpackage handlers; var keys = []string{"A", "B"}\n'
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 1, 39), ("B", 1, 44)]
    assert (result.definition.line, result.definition.column) == (1, 23)


def test_crlf_line_endings(tmp_path: Path) -> None:
    source = go("""
        // driftcheck: allow-extra=OLD_KEY -- kept for one release
        var keys = map[string]struct{}{
            "A": {},
            "B": {},
        }
    """).replace("\n", "\r\n")
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 5, 5), ("B", 6, 5)]
    [allowance] = result.allowances
    assert (allowance.key, allowance.kind, allowance.reason, allowance.line) == (
        "OLD_KEY", "extra", "kept for one release", 3)


def test_non_ascii_columns_count_characters(tmp_path: Path) -> None:
    source = go("""
        var keys = []string{"É", "B"} // é
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("É", 3, 21), ("B", 3, 26)]


# ----------------------------------------------------------------------------------------------
# Constants


def test_constants_single_grouped_typed_chained_and_in_another_file(tmp_path: Path) -> None:
    secrets = go("""
        const single = "SINGLE"

        var keys = []string{
            single,
            grouped,
            typed,
            chained,
            fromSibling,
            repeated,
            prefix + "CONCAT",
        }
    """)
    consts = go("""
        const (
            grouped        = "GROUPED"
            typed   string = "TYPED"
            chained        = prefix + suffix
            prefix         = "P_"
            suffix         = `S`
        )

        const fromSibling, unused = "SIBLING", 1

        const (
            first  = "SAME"
            repeated
        )
    """)
    result = run(tmp_path, {"secrets.go": secrets, "consts.go": consts})
    assert keys(result) == [("SINGLE", 6, 5), ("GROUPED", 7, 5), ("TYPED", 8, 5), ("P_S", 9, 5),
                            ("SIBLING", 10, 5), ("SAME", 11, 5), ("P_CONCAT", 12, 5)]
    assert result.findings == ()


def test_constant_in_test_file_is_not_visible(tmp_path: Path) -> None:
    secrets = go("""
        var keys = []string{fromTest}
    """)
    result = run(tmp_path, {"secrets.go": secrets, "secrets_test.go": go('const fromTest = "T"\n')})
    line, column, message = only(result, "DC102")
    assert (line, column) == (3, 21)
    assert "fromTest is not a constant declared in the built non-test files" in message


@pytest.mark.parametrize(("decl", "expected"), [
    ("const (\n    zero = iota\n    one\n)\n", "is an iota constant"),
    ("const one = 1\n", "is the number 1, not a string"),
    ("type Env int\n\nconst one Env = 1\n", "has type Env, not string"),
    ("var one = \"ONE\"\n", "element one (handlers/consts.go:3) is a variable"),
    ("const one = \"A\" + two\n\nvar two = \"B\"\n",
     "constant one (handlers/consts.go:3) refers to two (handlers/consts.go:5), which is a variable"),
    ("func one() string { return \"ONE\" }\n", "is a func"),
    ("const one = strings.ToUpper(\"x\")\n", "is a call to strings.ToUpper"),
    ("const two, one = \"A\"\n", "has no matching value"),
    ("const one = two\nconst two = one\n", "constant cycle (one -> two -> one)"),
])
def test_constants_that_are_not_static_strings(tmp_path: Path, decl: str, expected: str) -> None:
    secrets = go("""
        var keys = []string{"OK", one}
    """)
    result = run(tmp_path, {"secrets.go": secrets, "consts.go": go(decl)})
    line, column, message = only(result, "DC102")
    assert (line, column) == (3, 27)
    assert expected in message


def test_constant_declared_in_two_files_is_ambiguous(tmp_path: Path) -> None:
    secrets = go("""
        var keys = []string{tagged}
    """)
    result = run(tmp_path, {"secrets.go": secrets,
                            "consts_linux.go": "//go:build linux\n\n" + go('const tagged = "L"\n'),
                            "consts_other.go": "//go:build !linux\n\n" + go('const tagged = "O"\n')})
    line, column, message = only(result, "DC103")
    assert (line, column) == (3, 21)
    assert "handlers/consts_linux.go:5, handlers/consts_other.go:5" in message


# ----------------------------------------------------------------------------------------------
# DC102: elements and values driftcheck does not evaluate


@pytest.mark.parametrize(("element", "expected"), [
    ('strings.ToUpper("x")', "element is a call to strings.ToUpper, which driftcheck cannot evaluate statically; "
                             "write the key as a string literal or a string const of this package"),
    ("other.KeyName", "other.KeyName, a name from another package"),
    ("'A'", "the rune literal 'A', not a string"),
    ("42", "the number 42, not a string"),
    ("nil", "nil, not a string"),
    ("iota", "iota"),
    ('"A" - "B"', "uses the operator -"),
    ("names[0]", "an index into a variable"),
    ("undefinedName", "undefinedName is not a constant declared"),
    ('"\\xff"', "decodes to bytes that are not UTF-8"),
])
def test_elements_that_are_not_static(tmp_path: Path, element: str, expected: str) -> None:
    result = run(tmp_path, {"secrets.go": go(f'var keys = []string{{"OK", {element}}}\n')})
    line, column, message = only(result, "DC102")
    assert (line, column) == (3, 27)
    assert expected in message


def test_every_bad_element_is_reported(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]struct{}{
            f():          {},
            "GOOD":       {},
            pkg.Name:     {},
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert result.keys is None
    assert codes(result) == [("DC102", "handlers/secrets.go", 4, 5), ("DC102", "handlers/secrets.go", 6, 5)]


def test_map_bool_false_value(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]bool{
            "A": true,
            "B": false,
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    line, column, message = only(result, "DC102")
    assert (line, column) == (5, 10)
    assert result.findings[0].key == "B"
    assert message == '"B" maps to false, so the server would not block it; remove the entry or set it to true'


def test_map_bool_non_literal_value(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]bool{"A": enabled()}
    """)
    line, column, message = only(run(tmp_path, {"secrets.go": source}), "DC102")
    assert (line, column) == (3, 33)
    assert "not the literal true" in message


def test_false_value_in_a_map_of_a_named_bool_type(tmp_path: Path) -> None:
    source = go("""
        type blocked bool

        var keys = map[string]blocked{"A": false}
    """)
    line, column, _ = only(run(tmp_path, {"secrets.go": source}), "DC102")
    assert (line, column) == (5, 36)


@pytest.mark.parametrize(("value", "column", "expected"), [
    ("loadKeys()", 12, "is set to a call to loadKeys"),
    ("otherList", 12, "is set to `otherList` (identifier)"),
    ("map[int]bool{1: true}", 12, "whose keys are not of type string"),
    ("[]int{1}", 12, "whose elements are not strings"),
    ("StringSet{\"A\": {}}", 12, "(type identifier)"),
    ('[3]string{"A", "B"}', 12, "is 3 but 2 elements are listed (the rest would be empty strings)"),
    ('[1]string{"A", "B"}', 12, "is 1 but 2 elements are listed (Go rejects this)"),
    ('[n]string{"A"}', 12, "is not a plain integer literal"),
])
def test_values_that_are_not_lists(tmp_path: Path, value: str, column: int, expected: str) -> None:
    line, found_column, message = only(run(tmp_path, {"secrets.go": go(f"var keys = {value}\n")}), "DC102")
    assert line == 3
    assert expected in message
    assert found_column == column


def test_keyed_array_with_a_gap_is_refused(tmp_path: Path) -> None:
    # Go fills index 1 with "", which is not a key name.
    result = run(tmp_path, {"secrets.go": go('var keys = [...]string{0: "A", 2: "B"}\n')})
    assert codes(result) == [("DC102", "handlers/secrets.go", 3, 23)]
    assert "no element at index 1" in result.findings[0].message


@pytest.mark.parametrize(("literal", "expected"), [
    ('[...]string{1: "B", 0: "A"}', [("A", 3, 35), ("B", 3, 27)]),
    ('[]string{"A", 2: "C", 1: "B"}', [("A", 3, 21), ("B", 3, 37), ("C", 3, 29)]),
    ('[3]string{2: "C", 0: "A", "B"}', [("A", 3, 33), ("B", 3, 38), ("C", 3, 25)]),
])
def test_keyed_array_elements_in_go_order(tmp_path: Path, literal: str, expected: list) -> None:
    result = run(tmp_path, {"secrets.go": go(f"var keys = {literal}\n")})
    assert keys(result) == expected, result.findings


def test_named_string_element_types(tmp_path: Path) -> None:
    source = go("""
        type Source string

        type Alias = Source

        const anthropic Source = "ANTHROPIC_API_KEY"

        var keys = []Alias{anthropic, Source("OPENAI_API_KEY"), "GROQ_API_KEY"}

        var set = map[Source]struct{}{anthropic: {}, "X": {}}
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert [k.key for k in result.keys or ()] == ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY"], result.findings
    result = run(tmp_path, {}, symbol="set")
    assert [k.key for k in result.keys or ()] == ["ANTHROPIC_API_KEY", "X"], result.findings


def test_named_non_string_element_type_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('type Source []byte\n\nvar keys = []Source{Source("A")}\n')})
    assert result.keys is None and codes(result)[0][0] == "DC102"


def test_map_element_without_key(tmp_path: Path) -> None:
    line, column, _ = only(run(tmp_path, {"secrets.go": go('var keys = map[string]bool{true}\n')}), "DC102")
    assert (line, column) == (3, 28)


def test_var_without_value(tmp_path: Path) -> None:
    line, column, message = only(run(tmp_path, {"secrets.go": go("var keys map[string]struct{}\n")}), "DC102")
    assert (line, column) == (3, 5)
    assert "declared without a value" in message


def test_multi_name_var_from_a_call(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go("var keys, err = load()\n")})
    line, column, message = only(result, "DC102")
    assert (line, column) == (3, 17)
    assert "a call to load" in message


def test_multi_name_count_mismatch_is_a_compile_error(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys, other = []string{"A"}, []string{"B"}, 3\n')})
    line, column, message = only(result, "DC101")
    assert (line, column) == (3, 5)
    assert "2 names but 3 values" in message


# ----------------------------------------------------------------------------------------------
# DC101: syntax errors, including escapes Go's scanner rejects


def test_syntax_error_in_the_source_file(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]struct{}{
            "A": {}
            "B": {},
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    line, column, message = only(result, "DC101")
    assert (line, column) == (4, 12)  # where Go reports it (tree-sitter's error node starts at 4:5)
    assert message.startswith("go syntax error: missing ',' before newline in composite literal")


def test_missing_node_is_a_syntax_error(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"\n')})
    assert only(result, "DC101")[0] == 3


@pytest.mark.parametrize(("literal", "column", "escape"), [
    (r'"A\'B"', 23, r"invalid escape sequence \' in a Go string (\' is only valid in rune literals)"),
    (r'"\q"', 22, r"invalid escape sequence \q in a Go string (unknown escape)"),
    (r'"x\400"', 23, r"invalid escape sequence \400 in a Go string (an octal escape must be at most \377)"),
    (r'"\uD800"', 22, r"invalid escape sequence \uD800 in a Go string (not a valid Unicode code point)"),
    (r'"\U00110000"', 22, r"invalid escape sequence \U00110000"),
    (r'"\x4"', 22, r"near '\\x4'"),  # tree-sitter-go itself rejects a short \x
    (r'"\08"', 22, r"invalid escape sequence \08 in a Go string (an octal escape needs exactly three"),
])
def test_invalid_escapes_are_syntax_errors(tmp_path: Path, literal: str, column: int, escape: str) -> None:
    result = run(tmp_path, {"secrets.go": go(f"var keys = []string{{{literal}}}\n")})
    line, found_column, message = only(result, "DC101")
    assert (line, found_column) == (3, column)
    assert escape in message


def test_syntax_error_in_a_sibling_that_mentions_the_list(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"}\n'),
                            "broken.go": go("func f() { keys = append(keys, \n")})
    assert result.keys is None
    assert [f.code for f in result.findings] == ["DC101"]
    assert result.findings[0].path == "handlers/broken.go"


def test_syntax_error_in_an_unrelated_sibling_is_ignored(tmp_path: Path) -> None:
    cache = SourceFiles(tmp_path)
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"}\n'),
                            "broken.go": go("func f() { other = append(other, \n")}, cache=cache)
    assert keys(result) == [("A", 3, 21)]
    assert result.findings == ()
    broken = cache.load(tmp_path / "handlers/broken.go")
    assert broken._trees == {}  # never parsed: it cannot mention the list


def test_unreadable_sibling_fails_closed(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"}\n'),
                            "latin1.go": b"package handlers\n\n// caf\xe9\n"})
    assert result.keys is None
    [finding] = result.findings
    assert (finding.code, finding.path, finding.line) == ("DC105", "handlers/latin1.go", 3)
    assert "could redeclare or change keys" in finding.message


def test_ignored_files_of_the_directory(tmp_path: Path) -> None:
    # _test.go, _-prefixed, dot files, empty files, other packages and directories are not the package.
    (tmp_path / "handlers" / "sub.go").mkdir(parents=True)
    result = run(tmp_path, {
        "secrets.go": go('var keys = []string{"A"}\n'),
        "secrets_test.go": go("var keys = []string{}\nfunc init() { keys = nil }\n"),
        "_scratch.go": go("var keys = []string{}\n"),
        ".hidden.go": go("var keys = []string{}\n"),
        "empty.go": "",
        "gen.go": "//go:build ignore\n\npackage main\n\nvar keys = []string{}\n",
        "notes.txt": "var keys = 1",
    })
    assert keys(result) == [("A", 3, 21)]
    assert result.findings == ()


# ----------------------------------------------------------------------------------------------
# DC100


def test_symbol_not_found_suggests_the_closest_name(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var platformManagedKeys = []string{"A"}\n')}, symbol="platformManagedKey")
    line, column, message = only(result, "DC100")
    assert (line, column) == (1, 1)
    assert "did you mean 'platformManagedKeys'?" in message


def test_symbol_declared_in_another_file_of_the_package(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go("func f() {}\n"), "lists.go": go('var keys = []string{"A"}\n')})
    _, _, message = only(result, "DC100")
    assert "is not defined in handlers/secrets.go; it is declared in handlers/lists.go:3" in message


def test_symbol_only_declared_locally(tmp_path: Path) -> None:
    source = go("""
        func f() {
            keys := []string{"A"}
            _ = keys
        }
    """)
    line, column, message = only(run(tmp_path, {"secrets.go": source}), "DC100")
    assert (line, column) == (4, 5)
    assert "only declared inside a function in func f" in message


def test_symbol_is_a_constant(tmp_path: Path) -> None:
    line, column, message = only(run(tmp_path, {"secrets.go": go('const keys = "A B"\n')}), "DC100")
    assert (line, column) == (3, 7)
    assert "is a const, not a package-level var" in message


# ----------------------------------------------------------------------------------------------
# DC103


def test_declared_twice_in_one_file(tmp_path: Path) -> None:
    source = go("""
        var keys = []string{"A"}

        var (
            keys = []string{"B"}
        )
    """)
    line, column, message = only(run(tmp_path, {"secrets.go": source}), "DC103")
    assert (line, column) == (6, 5)
    assert "already declared at line 3" in message


def test_declared_behind_build_tags_in_two_files(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "secrets.go": "//go:build !fips\n\n" + go('var keys = []string{"A", "B"}\n'),
        "secrets_fips.go": "//go:build fips\n\n" + go('var keys = []string{"A"}\n'),
    })
    assert result.keys is None
    assert codes(result) == [("DC103", "handlers/secrets_fips.go", 5, 5)]
    assert "besides handlers/secrets.go:5" in result.findings[0].message


def test_func_with_the_same_name_in_a_sibling(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"}\n'),
                            "other.go": go("func keys() {}\n")})
    assert codes(result) == [("DC103", "handlers/other.go", 3, 6)]


# ----------------------------------------------------------------------------------------------
# DC104 and scoping


@pytest.mark.parametrize("statement", [
    'keys["X"] = struct{}{}',
    'keys["X"] += 1',
    '(keys)["X"] = struct{}{}',
    'delete(keys, "A")',
    "clear(keys)",
    'keys = map[string]struct{}{"X": {}}',
    "keys, n = nil, 1",
    "n, keys = 1, nil",
    'keys["X"]++',
    "for keys = range channels {}",
    "for _, keys[\"X\"] = range pairs {}",
    "other := keys",
    "use(keys)",
    "_ = &keys",
    '(*&keys)["X"] = struct{}{}',
    'map[string]struct{}(keys)["X"] = struct{}{}',
    "f := func() map[string]struct{} { return keys }; _ = f",
])
def test_mutations_are_dc104(tmp_path: Path, statement: str) -> None:
    source = go(f"""
        var keys = map[string]struct{{}}{{"A": {{}}}}

        func init() {{
            {statement}
        }}
    """)
    line, found_column, message = only(run(tmp_path, {"secrets.go": source}), "DC104")
    assert (line, found_column) == (6, 5 + statement.index("keys"))  # at the occurrence of the name
    assert message.startswith("cannot prove keys is unchanged here: ")
    assert " in func init; " in message


def test_append_and_copy_on_a_slice(tmp_path: Path) -> None:
    source = go("""
        var keys = []string{"A"}

        func extend(more []string) {
            keys = append(keys, more...)
            copy(keys[:1], more)
            keys[0] = "B"
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert result.keys is None
    # keys = append(keys, ...): the assignment and the append into its backing array; copy(keys[:1], ...); keys[0] =
    assert codes(result) == [("DC104", "handlers/secrets.go", 6, 5), ("DC104", "handlers/secrets.go", 6, 19),
                             ("DC104", "handlers/secrets.go", 7, 10), ("DC104", "handlers/secrets.go", 8, 5)]


def test_mutation_in_a_sibling_file_and_in_a_package_level_func_literal(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "secrets.go": go('var keys = map[string]struct{}{"A": {}}\n'),
        "register.go": go("""
            var _ = func() bool {
                keys["LATE"] = struct{}{}
                return true
            }()
        """),
        "register_test.go": go('func init() { keys["TEST_ONLY"] = struct{}{} }\n'),
    })
    assert codes(result) == [("DC104", "handlers/register.go", 4, 5)]


@pytest.mark.parametrize("body", [
    # a parameter
    'func f(keys map[string]int) {\n    keys["X"] = 1\n}\n',
    # a variadic parameter and a named result
    'func f(keys ...string) {\n    keys[0] = "X"\n}\nfunc g() (keys []string) {\n    keys = nil\n    return\n}\n',
    # a method receiver
    'type set map[string]int\n\nfunc (keys set) add() {\n    keys["X"] = 1\n}\n',
    # a local := and a local var
    'func f() {\n    keys := map[string]int{}\n    keys["X"] = 1\n}\nfunc g() {\n    var keys []string\n'
    '    keys = append(keys, "X")\n}\n',
    # := in an if initializer, covering the else branch
    'func f() {\n    if keys := m(); keys != nil {\n        keys["X"] = 1\n    } else {\n        keys = nil\n    }\n}\n',
    # a func literal's parameter
    'var g = func(keys map[string]int) {\n    delete(keys, "A")\n}\n',
    # range variables, a for-clause variable
    'func f(all [][]string) {\n    for _, keys := range all {\n        keys[0] = "X"\n    }\n'
    '    for keys := 0; keys < 3; keys++ {\n    }\n}\n',
    # a type switch alias and a select receive
    'func f(v any, ch chan []string) {\n    switch keys := v.(type) {\n    case []string:\n'
    '        keys[0] = "X"\n    }\n    select {\n    case keys := <-ch:\n        keys[0] = "X"\n    }\n}\n',
    # a switch initializer, a declaration inside a case clause, a labeled declaration
    'func f() {\n    switch keys := 1; keys {\n    case 1:\n        keys = 2\n    }\n    switch {\n    default:\n'
    '        keys := 1\n        keys++\n    }\n}\n',
    # a local var group, a labeled declaration, a local const and a local type (scoping only)
    'func f() {\n    var (\n        keys = map[string]int{}\n    )\n    keys["X"] = 1\n}\n'
    'func g() {\nL:\n    keys := map[string]int{}\n    keys["X"] = 1\n    goto L\n}\n'
    'func h() {\n    const keys = 1\n    {\n        keys++\n    }\n}\n'
    'func i() {\n    type keys map[string]int\n    keys = nil\n}\n',
    # a generic type parameter (scoping only)
    'func f[keys any](v keys) {\n    keys = nil\n}\n',
    # a field and a struct literal key with the same name are not the variable
    'type s struct{ keys []string }\n\nfunc f(v *s) {\n    v.keys = nil\n    _ = s{keys: nil}\n}\n',
])
def test_shadowing_is_not_a_mutation(tmp_path: Path, body: str) -> None:
    source = go('var keys = map[string]struct{}{"A": {}}\n\n' + body)
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 3, 32)]
    assert result.findings == ()


@pytest.mark.parametrize(("body", "line"), [
    # the local is declared after the assignment
    ('func f() {\n    keys["X"] = struct{}{}\n    keys := 1\n    _ = keys\n}\n', 6),
    # the local's scope (an inner block) has ended
    ('func f() {\n    {\n        keys := 1\n        _ = keys\n    }\n    keys["X"] = struct{}{}\n}\n', 10),
    # the if-initializer's scope has ended
    ('func f() {\n    if keys := 1; keys > 0 {\n    }\n    delete(keys, "A")\n}\n', 8),
    # a local declared in another function does not shadow this one
    ('func f() {\n    keys := 1\n    _ = keys\n}\nfunc g() {\n    keys["X"] = struct{}{}\n}\n', 10),
    # the func literal's parameter has another name; the body writes the package variable
    ('func f() {\n    go func(other int) {\n        keys["X"] = struct{}{}\n    }(1)\n}\n', 7),
    # the right-hand side of `keys := ...` still sees the package variable
    ('func f() {\n    keys := func() int {\n        delete(keys, "A")\n        return 1\n    }()\n    _ = keys\n}\n', 7),
])
def test_real_mutation_next_to_shadowing(tmp_path: Path, body: str, line: int) -> None:
    source = go('var keys = map[string]struct{}{"A": {}}\n\n' + body)
    result = run(tmp_path, {"secrets.go": source})
    assert result.keys is None
    assert [(f.code, f.line) for f in result.findings] == [("DC104", line)]


def test_reading_the_list_is_not_a_mutation(tmp_path: Path) -> None:
    source = go("""
        var keys = map[string]struct{}{"A": {}}

        func blocked(key string) bool {
            _, ok := keys[key]
            for k := range keys {
                _ = k
            }
            n := len(keys)
            other := map[string]struct{}{}
            other[key] = keys[key]
            return ok && n > 0
        }
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("A", 3, 32)]


# ----------------------------------------------------------------------------------------------
# DC003


def test_duplicate_keys_are_reported_and_kept(tmp_path: Path) -> None:
    secrets = go("""
        const anthropic = "ANTHROPIC_API_KEY"

        var keys = []string{
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            anthropic,
        }
    """)
    result = run(tmp_path, {"secrets.go": secrets})
    assert keys(result) == [("ANTHROPIC_API_KEY", 6, 5), ("GEMINI_API_KEY", 7, 5), ("ANTHROPIC_API_KEY", 8, 5)]
    [finding] = result.findings
    assert (finding.code, finding.line, finding.column, finding.key) == ("DC003", 8, 5, "ANTHROPIC_API_KEY")
    assert finding.message == ("'ANTHROPIC_API_KEY' is listed more than once in keys (first at line 6); "
                               "delete the repeated entry")


def test_duplicate_map_keys_mention_go(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = map[string]struct{}{"A": {}, "A": {}}\n')})
    assert keys(result) == [("A", 3, 32), ("A", 3, 41)]
    assert codes(result) == [("DC003", "handlers/secrets.go", 3, 41)]
    assert "the compiler rejects this too" in result.findings[0].message


# ----------------------------------------------------------------------------------------------
# Pragmas (DC106 for malformed ones)


def test_pragmas_above_and_at_end_of_first_line(tmp_path: Path) -> None:
    source = go("""
        // driftcheck: allow-missing=FAR_AWAY -- separated by a blank line, not a pragma of keys

        // The list of keys.
        // driftcheck: allow-missing=MINIMAX_API_KEY,GROQ_API_KEY -- sent at create time
        var keys = map[string]struct{}{ // driftcheck: allow-extra=LEGACY_KEY -- still sent by old clients
            "A": {},
        }
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert keys(result) == [("A", 8, 5)]
    assert [(a.key, a.kind, a.reason, a.line, a.column) for a in result.allowances] == [
        ("MINIMAX_API_KEY", "missing", "sent at create time", 6, 4),
        ("GROQ_API_KEY", "missing", "sent at create time", 6, 4),
        ("LEGACY_KEY", "extra", "still sent by old clients", 7, 36),
    ]


def test_pragmas_in_a_group(tmp_path: Path) -> None:
    source = go("""
        // driftcheck: allow-missing=GROUP_LEVEL -- only honoured for a one-spec group
        var (
            other = 1 // driftcheck: allow-extra=TRAILING -- belongs to other
            // driftcheck: allow-extra=SPEC_LEVEL -- right above the spec
            keys = []string{"A"}
        )

        // driftcheck: allow-missing=SINGLE_GROUP -- above a one-spec group
        var (
            // driftcheck: allow-missing=INSIDE -- inside it
            list = []string{"B"}
        )
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert [a.key for a in result.allowances] == ["SPEC_LEVEL"]
    result = run(tmp_path, {"secrets.go": source}, symbol="list")
    assert [a.key for a in result.allowances] == ["SINGLE_GROUP", "INSIDE"]


def test_malformed_pragma_is_dc106_and_withholds_keys(tmp_path: Path) -> None:
    # Same rule in every language: a could-not-decide finding means no keys to compare.
    source = go("""
        // driftcheck: allow-missing=MINIMAX_API_KEY
        var keys = []string{"A"}
    """)
    result = run(tmp_path, {"secrets.go": source})
    assert result.keys is None
    assert codes(result) == [("DC106", "handlers/secrets.go", 3, 4)]
    assert result.allowances == ()


# ----------------------------------------------------------------------------------------------
# Performance: one parse per file, siblings only when they matter


def test_large_file_is_parsed_once(tmp_path: Path) -> None:
    funcs = "".join(
        f"func handler{i}(w http.ResponseWriter, key string) {{\n"
        f"    if _, ok := keys[strings.ToUpper(key)]; ok {{\n"
        f"        http.Error(w, \"blocked {i}\", http.StatusBadRequest)\n"
        f"        return\n"
        f"    }}\n"
        f"    local := map[string]int{{\"k{i}\": {i}}}\n"
        f"    local[key] = {i}\n"
        f"}}\n\n" for i in range(170))
    entries = "".join(f'    "{k}": {{}},\n' for k in CANONICAL)
    source = go(f'import (\n    "net/http"\n    "strings"\n)\n\nvar keys = map[string]struct{{}}{{\n{entries}}}\n\n'
                + funcs)
    assert len(source) > 40_000
    sibling = go("func unrelated() {}\n" * 50)
    cache = SourceFiles(tmp_path)
    result = run(tmp_path, {"secrets.go": source, "other.go": sibling}, cache=cache)
    assert [k.key for k in result.keys or ()] == CANONICAL
    main = cache.load(tmp_path / "handlers/secrets.go")
    assert list(main._trees) == ["go"]
    tree = main._trees["go"]
    again = run(tmp_path, {}, cache=cache)  # a second contract on the same file reuses the tree
    assert again.keys == result.keys
    assert main._trees["go"] is tree
    assert cache.load(tmp_path / "handlers/other.go")._trees == {}


# ----------------------------------------------------------------------------------------------
# Fixture repositories


FIXTURE_EXPECTATIONS = {
    "go-map-struct": (CANONICAL, []),
    "go-slice-consts": (CANONICAL, []),
    "go-map-bool": (CANONICAL, []),
    "go-error-not-static": (None, [("DC102", "workspace-server/internal/handlers/secrets.go", 40, 2)]),
    "go-error-mutated": (None, [("DC104", "workspace-server/internal/handlers/secrets.go", 56, 2)]),
    "go-error-buildtags": (None, [("DC103", "workspace-server/internal/handlers/secrets_fips.go", 7, 5)]),
    "go-error-syntax": (None, [("DC101", "workspace-server/internal/handlers/secrets.go", 25, 22)]),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTATIONS))
def test_fixture_source_lists(name: str) -> None:
    expected_keys, expected_findings = FIXTURE_EXPECTATIONS[name]
    path = "workspace-server/internal/handlers/secrets.go"
    symbol = "platformManagedDirectLLMBypassKeys"
    result = extract_list(ListRef(f"{path}:{symbol}", path, symbol, "go"), SourceFiles(REPO / "fixtures" / name))
    assert (None if result.keys is None else [k.key for k in result.keys]) == expected_keys
    assert codes(result) == expected_findings
    harness = (REPO / "fixtures" / name / "tests/e2e/test_staging_full_saas.sh").read_text()
    assert f'BYOK_STRIP_KEYS="{" ".join(CANONICAL)}"' in harness
    readme = (REPO / "fixtures" / name / "README.md").read_text()
    assert ("exit 0" if expected_keys else "exit 2") in readme
    for code, _, line, column in expected_findings:
        assert code in readme and f"{line}:{column}" in readme


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTATIONS))
def test_fixture_check_exit_codes(name: str) -> None:
    """The whole default contract over each Go fixture: in-sync ones exit 0, error ones exit 2."""
    from driftcheck.check import run_check
    from driftcheck.config import CheckOptions

    expected_keys, expected_findings = FIXTURE_EXPECTATIONS[name]
    result = run_check(CheckOptions(root=REPO / "fixtures" / name))
    assert result.exit_code == (0 if expected_keys else 2)
    assert [(f.code, f.path, f.line, f.column) for f in result.all_findings] == expected_findings


# ----------------------------------------------------------------------------------------------
# DC101: newlines Go ends with an automatic ';' that tree-sitter-go accepts (missing trailing commas)
#
# Go inserts ';' after a line's last token when it is an identifier, a literal, return/break/...,
# ++/-- or ) ] }; inside { } of a literal or ( ) of a call that is a syntax error, but tree-sitter-go
# reads the newline as whitespace. Positions are where gofmt / go vet / the compiler report them.

_VALID_TAIL = '\nvar keys = []string{"A"}\n'


def test_reproducer_missing_trailing_comma_exits_2(tmp_path: Path, driftcheck) -> None:
    (tmp_path / "s.go").write_text('package p\n\nvar L = []string{\n\t"A",\n\t"B"\n}\n')
    (tmp_path / "h.sh").write_text('X="A B"\n')
    run = driftcheck("check", "--source", "s.go:L", "--mirror", "h.sh:X", "--format", "json", cwd=tmp_path)
    assert run.code == 2
    findings = [(f["code"], f["path"], f["line"], f["column"]) for f in run.json["findings"]]
    assert findings == [("DC101", "s.go", 5, 5)]  # go vet: s.go:5:5: missing ',' before newline ...
    assert run.json["findings"][0]["message"] == (
        "go syntax error: missing ',' before newline in composite literal; add a trailing comma")


@pytest.mark.parametrize(("body", "line", "column", "what"), [
    pytest.param('var keys = []string{\n    "A",\n    "B"\n}\n', 5, 8, "composite literal", id="slice"),
    pytest.param('var keys = map[string]struct{}{\n    "A": {},\n    "B": {}\n}\n', 5, 12, "composite literal",
                 id="map-keyed"),
    pytest.param('var keys = map[string]bool{\n    "A": true\n}\n', 4, 14, "composite literal", id="map-bool"),
    pytest.param('var keys = []string{\n    "A",\n    "B" // the last one\n}\n', 5, 9, "composite literal",
                 id="comment-after-element"),
    pytest.param('var keys = []string{\n    "A" /* spans\n    lines */,\n}\n', 4, 9, "composite literal",
                 id="block-comment-with-newline"),
    pytest.param('var keys = []string{\n    "A"\n    , "B"}\n', 4, 8, "composite literal", id="comma-on-next-line"),
    pytest.param('var keys = []string{\n    "A",\n    "B"   \r\n}\n', 5, 12, "composite literal",
                 id="trailing-space-crlf"),
    pytest.param('var keys = []string{"A", kcB\n}\n\nconst kcB = "B"\n', 3, 29, "composite literal",
                 id="constant-last"),
    pytest.param('var keys = []string{\n    "A",\n    `B`\n}\n', 5, 8, "composite literal", id="raw-string-last"),
    pytest.param('var keys = []string{"A"}\n\nvar other = []any{\n    1.,\n    true\n}\n', 7, 9,
                 "composite literal", id="other-literal-true"),
])
def test_missing_comma_before_newline_in_a_literal(tmp_path: Path, body: str, line: int, column: int,
                                                   what: str) -> None:
    found_line, found_column, message = only(run(tmp_path, {"secrets.go": go(body)}), "DC101")
    assert (found_line, found_column) == (line, column)
    assert message == f"go syntax error: missing ',' before newline in {what}; add a trailing comma"


def test_missing_comma_in_a_nested_literal(tmp_path: Path) -> None:
    source = go("""
        var keys = []string{"A"}

        var table = [][]string{
            {"x",
                "y"
            },
            {"z"}
        }
    """)
    # The inner literal's "y" (line 7) is reported first; after fixing it, the outer {"z"} (line 9).
    assert only(run(tmp_path, {"secrets.go": source}), "DC101")[:2] == (7, 12)
    fixed = source.replace('"y"\n', '"y",\n')
    (tmp_path / "again").mkdir()
    line, column, message = only(run(tmp_path / "again", {"secrets.go": fixed}), "DC101")
    assert (line, column, "composite literal" in message) == (9, 10, True)


def test_missing_comma_in_call_arguments_of_an_unrelated_function(tmp_path: Path) -> None:
    """The check covers the whole file: Go rejects it, so no list in it can be trusted."""
    source = go("""
        import "fmt"

        var keys = []string{
            "A",
            "B",
        }

        func unrelated() {
            fmt.Println("one",
                "two"
            )
        }
    """)
    line, column, message = only(run(tmp_path, {"secrets.go": source}), "DC101")
    assert (line, column) == (12, 14)
    assert message == "go syntax error: missing ',' before newline in argument list; add a trailing comma"


@pytest.mark.parametrize(("body", "line", "column", "expected"), [
    pytest.param("func f(a int,\n    b int\n) {}\n", 4, 10, "missing ',' before newline in parameter list",
                 id="parameters"),
    pytest.param("func f() (int,\n    error\n) { return 0, nil }\n", 4, 10,
                 "missing ',' before newline in parameter list", id="results"),
    pytest.param("func f[T any,\n    U any\n]() {}\n", 4, 10, "missing ',' before newline in parameter list",
                 id="type-parameters"),
    pytest.param("type T[A, B any] struct{}\n\nvar t T[int,\n    string\n]\n", 6, 11,
                 "missing ',' before newline in type argument list", id="type-arguments"),
    pytest.param('var b = []byte("x"\n)\n', 3, 19, "missing ',' before newline in argument list", id="conversion"),
    pytest.param("func f() { g(func() {\n}\n) }\n", 4, 2, "missing ',' before newline in argument list",
                 id="func-literal-argument"),
    pytest.param("var x = f(1\n    + 2)\n", 3, 12, "missing ',' before newline in argument list",
                 id="operator-on-next-line"),
    pytest.param("var x = a[1\n]\n", 3, 12, "unexpected newline after `1` in index expression", id="index"),
    pytest.param("var x = a[1:2\n]\n", 3, 14, "unexpected newline after `2` in slice expression", id="slice"),
    pytest.param("var x = (1\n)\n", 3, 11, "unexpected newline after `1` in parenthesized expression",
                 id="parentheses"),
    pytest.param("var x [3\n]int\n", 3, 9, "unexpected newline after `3` in array type", id="array-length"),
    pytest.param("func f(x int) {\n    switch x {\n    case 1\n        , 2:\n    }\n}\n", 5, 11,
                 "unexpected newline after `1` in expression list", id="case-list"),
    pytest.param("var r = []rune{'\n'}\n", 3, 16, "rune literal not terminated", id="rune-with-newline"),
    pytest.param("var x = 1\n+ 2\n", 4, 1, "non-declaration statement outside function body", id="top-level-stmt"),
    pytest.param("func f()\n{\n}\n", 4, 1, "unexpected newline before {", id="func-brace-on-next-line"),
    pytest.param('var y = 1\n\nimport "fmt"\n', 5, 1, "imports must appear before other declarations",
                 id="import-after-declaration"),
])
def test_other_places_go_rejects_and_tree_sitter_accepts(tmp_path: Path, body: str, line: int, column: int,
                                                         expected: str) -> None:
    found_line, found_column, message = only(run(tmp_path, {"secrets.go": go(body) + _VALID_TAIL}), "DC101")
    assert (found_line, found_column) == (line, column)
    assert message.startswith("go syntax error: ") and expected in message


def test_missing_package_clause(tmp_path: Path) -> None:
    line, column, message = only(run(tmp_path, {"secrets.go": 'var keys = []string{"A"}\n'}), "DC101")
    assert (line, column) == (1, 1) and "package NAME" in message


@pytest.mark.parametrize("body", [
    pytest.param('var keys = []string{\n    "A",\n    "B",\n}\n', id="trailing-comma"),
    pytest.param('var keys = []string{\n    "A",\n    "B"}\n', id="brace-on-the-same-line"),
    pytest.param('var keys = map[string]struct{}{\n    "A": {},\n    "B": {}}\n', id="map-brace-same-line"),
    pytest.param('var keys = []string{"A",\n    "B", // comment\n    // "C"\n}\n', id="comments"),
    pytest.param('var keys = []string{\n    "A", /* spans\n    lines */\n    "B",\n}\n', id="block-comment"),
    pytest.param('var keys = []string{"A" +\n    "B",\n    "C"}\n', id="operator-at-line-end"),
    pytest.param('var keys = []string{\n    `A`,\n    "B",\n}\n\nvar doc = `line one\nline two\n`\n',
                 id="multi-line-raw-string"),
])
def test_valid_line_breaks_are_read(tmp_path: Path, body: str) -> None:
    names = [k[0] for k in keys(run(tmp_path, {"secrets.go": go(body)}))]
    assert names in (["A", "B"], ["AB", "C"])


def test_valid_go_with_many_line_breaks_is_not_a_syntax_error(tmp_path: Path) -> None:
    source = go("""
        import (
            "fmt"
            "strings"
        )

        const (
            kcA = "A"
            kcB
        )

        var keys = []string{kcA, "B"}

        type T struct {
            Name string `json:"name"`
            Next *T
        }

        type I interface {
            M() int
            ~int | ~string
        }

        func stub() int

        func f(xs ...string) (n int, err error) {
            defer func() {
            }()
            s := strings.
                ToUpper("x")
            fmt.Println(xs...
            )
            switch s {
            case "A",
                "B":
                n++
            default:
                return
            }
            select {
            case <-make(chan int):
                n--
            }
        Loop:
            for i := 0; i < 3; i++ {
                if i > 1 {
                    break Loop
                } else {
                    continue
                }
            }
            return n, nil
        }
    """)
    assert keys(run(tmp_path, {"secrets.go": source})) == [("A", 13, 21), ("B", 13, 26)]


def test_missing_comma_in_a_sibling_that_mentions_the_list(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go('var keys = []string{"A"}\n'),
                            "use.go": go("func f() []string {\n    return append([]string{}, keys[0]\n    )\n}\n")})
    assert result.keys is None
    assert [(f.code, f.path, f.line, f.column) for f in result.findings] == [("DC101", "handlers/use.go", 4, 38)]
    assert "missing ',' before newline in argument list" in result.findings[0].message


_GOFMT = shutil.which("gofmt")
_GOFMT_VARIANTS = {
    "missing-last": 'var keys = []string{\n\t"A",\n\t"B"\n}\n',
    "trailing-comma": 'var keys = []string{\n\t"A",\n\t"B",\n}\n',
    "brace-same-line": 'var keys = []string{\n\t"A",\n\t"B"}\n',
    "nested": 'var keys = []string{"A"}\n\nvar t = [][]string{\n\t{"x"}\n}\n',
    "keyed": 'var keys = map[string]struct{}{\n\t"A": {},\n\t"B": {} // last\n}\n',
    "call": 'var keys = []string{"A"}\n\nfunc f() {\n\tprintln(1,\n\t\t2\n\t)\n}\n',
    "variadic": 'var keys = []string{"A"}\n\nfunc f(x ...any) {\n\tprintln(x...\n\t)\n}\n',
    "params": 'var keys = []string{"A"}\n\nfunc f(a int,\n\tb int\n) {\n}\n',
    "chain": 'var keys = []string{"A"}\n\nvar n = len(keys[0:].\n\t// comment\n\tx)\n',
    "raw": 'var keys = []string{"A"}\n\nvar doc = `a,\nb\n`\n',
    "comma-next-line": 'var keys = []string{\n\t"A"\n\t, "B"}\n',
    "index": 'var keys = []string{"A"}\n\nvar x = keys[0\n]\n',
}


@pytest.mark.skipif(_GOFMT is None, reason="gofmt is not installed")
@pytest.mark.parametrize("name", sorted(_GOFMT_VARIANTS))
def test_agrees_with_gofmt_on_line_breaks(tmp_path: Path, name: str) -> None:
    """gofmt -e (go/parser) and driftcheck agree on error/no error, and on where a missing ',' is."""
    source = "package handlers\n\n" + _GOFMT_VARIANTS[name]
    result = run(tmp_path, {"secrets.go": source})
    proc = subprocess.run([_GOFMT, "-e", "-l", str(tmp_path / "handlers" / "secrets.go")], capture_output=True,
                          text=True, timeout=60)
    go_error = proc.stderr.strip().splitlines()[0] if proc.returncode else ""
    ours = [f for f in result.findings if f.code == "DC101"]
    assert bool(go_error) == bool(ours), (go_error, result.findings)
    if "missing ','" in go_error:
        line, column, _ = go_error.split("secrets.go:", 1)[1].split(":", 2)
        assert (ours[0].line, ours[0].column) == (int(line), int(column)), go_error


# ----------------------------------------------------------------------------------------------
# Strings are byte strings: a `+` may join bytes that are only UTF-8 together


def test_utf8_split_across_a_concatenation_is_joined_before_decoding(tmp_path: Path) -> None:
    source = go(r'''
        const lead = "\xc3"

        var keys = []string{"\xc3" + "\xa9", lead + "\xa9", ("A" + lead) + `` + "\xa9"}
    ''')
    assert keys(run(tmp_path, {"secrets.go": source})) == [("é", 5, 21), ("é", 5, 38), ("Aé", 5, 53)]


def test_concatenation_that_stays_invalid_utf8_is_dc102(tmp_path: Path) -> None:
    result = run(tmp_path, {"secrets.go": go(r'var keys = []string{"OK", "\xc3" + "A"}' + "\n")})
    line, column, message = only(result, "DC102")
    assert (line, column) == (3, 27)
    assert 'element "\\xc3" + "A" decodes to bytes that are not UTF-8' in message
