"""The Go backend's allowlist (DESIGN.md section 11): reads that are proven, everything else refused.

Hand-written cases, one per class; tests/languages/go/test_adversarial.py generates many more and
judges them with the real `go`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles


def run(tmp_path: Path, files: dict[str, str], symbol: str = "keys", target: str | None = None) -> ExtractedList:
    pkg = tmp_path / "p"
    pkg.mkdir(exist_ok=True)
    for name, text in files.items():
        (pkg / name).write_text(textwrap.dedent(text).lstrip("\n"))
    ref = ListRef(f"p/a.go:{symbol}", "p/a.go", symbol, "go", target)
    return extract_list(ref, SourceFiles(tmp_path))


SLICE = 'package p\n\nvar keys = []string{"A", "B"}\n\n'
MAP = 'package p\n\nvar keys = map[string]bool{"A": true, "B": true}\n\n'
ARRAY = 'package p\n\nvar keys = [...]string{"A", "B"}\n\n'


@pytest.mark.parametrize(("head", "code"), [
    (SLICE, 'func f(k string) bool {\n\tfor _, x := range keys {\n\t\tif x == k {\n\t\t\treturn true\n\t\t}\n\t}\n'
            '\treturn len(keys) > 0 && cap(keys) > 0 && keys[0] != "" && keys != nil\n}\n'),
    (SLICE, 'func f() []string { return append([]string{}, keys...) }\n'),
    (SLICE, 'func f() []string { return append([]string{}, keys[1:]...) }\n'),
    (SLICE, 'func f() []string { out := make([]string, 2); copy(out, keys); return out }\n'),
    (SLICE, 'var _ = keys\n\nfunc f() { _ = keys; println(keys[0]) }\n'),
    (SLICE, 'var more = append(keys, "C")\n\nfunc f() { more[0] = "X" }\n'),
    (SLICE.replace("\n\nvar", '\n\nimport "strings"\n\nvar'), 'var joined = strings.Join(keys, ",")\n'),
    (SLICE, 'func has(xs []string, k string) bool {\n\tfor _, x := range xs {\n\t\tif x == k {\n\t\t\treturn true\n'
            '\t\t}\n\t}\n\treturn again(xs[1:], k)\n}\n\nfunc again(ys []string, k string) bool { return has(ys, k) }\n\n'
            'var _ = has(keys, "A")\n'),
    (MAP.replace("\n\nvar", '\n\nimport "fmt"\n\nvar'), "var shown = fmt.Sprint(keys)\n"),
    (MAP, 'func f(k string) bool { _, ok := keys[k]; return ok }\n'),
    (MAP, 'func f(k string) bool { if v, ok := keys[k]; ok { return v }; return keys[k] }\n'),
    (MAP, 'func f() (n int) { for k, v := range keys { if v { n += len(k) } }; return n + len(keys) }\n'),
    (MAP, 'type T struct{ keys int }\n\nvar t = T{keys: 1}\n'),
    (ARRAY, 'func use(a [2]string) {}\n\nfunc f() [2]string { c := keys; use(keys); return c }\n'),
    (SLICE, 'func f(keys []string) { keys[0] = "X"; keys = append(keys, "Y") }\n'),
    (SLICE, 'func f() { keys := []string{}; keys = append(keys, "X"); _ = keys }\n'),
    (SLICE, 'func f() { for keys := range []int{1} { _ = keys } }\n'),
    (SLICE, 'func (keys T) m() { keys.x = 1 }\n\ntype T struct{ x int }\n'),
    (SLICE, '// keys = append(keys, "X") in a comment\nvar s = "keys[0] = \\"X\\""\n'),
])
def test_reads_are_proven(tmp_path: Path, head: str, code: str) -> None:
    result = run(tmp_path, {"a.go": head + code})
    assert result.keys is not None, result.findings
    assert result.findings == ()


@pytest.mark.parametrize(("head", "code", "column"), [
    (SLICE, 'var _ = append(keys[:1], "X")\n', 16),
    (SLICE, 'func f() { (&keys)[1] = "X" }\n', 14),
    (MAP, 'func f() { (*&keys)["X"] = true }\n', 15),
    (MAP, 'func f() { map[string]bool(keys)["X"] = true }\n', 28),
    (MAP, 'func f() { delete(keys, "A") }\n', 19),
    (MAP, 'func f() { clear(keys) }\n', 18),
    (SLICE, 'func f() { copy(keys, []string{"X"}) }\n', 17),
    (SLICE, 'func f() { sort.Strings(keys) }\n\nvar sort struct{ Strings func([]string) }\n', 25),
    (SLICE, 'func f() { other := keys; other[0] = "X" }\n', 21),
    (SLICE, 'func f() []string { return keys }\n', 28),
    (SLICE, 'func f() { g := func() { keys[0] = "X" }; g() }\n', 26),
    (SLICE, 'func f() { p := &keys[0]; *p = "X" }\n', 18),
    (SLICE, 'func f() { keys[0] += "X" }\n', 12),
    (ARRAY, 'func f() { keys[0] = "X" }\n', 12),
    (ARRAY, 'func f() { s := keys[:]; s[0] = "X" }\n', 17),
    (ARRAY, 'func f() { p := &keys; p[0] = "X" }\n', 18),
    (MAP, 'func f() { var x any = keys; x.(map[string]bool)["X"] = true }\n', 24),
    (SLICE, 'func f() { ch := make(chan []string, 1); ch <- keys }\n', 48),
    (SLICE, 'func f() { g(keys...) }\n\nfunc g(xs ...string) { xs[0] = "X" }\n', 14),
    (SLICE, 'var x = keys\n', 9),
    (SLICE, 'var x = append(keys, none...)\n\nvar none []string\n', 16),
    (SLICE.replace("\n\nvar", '\n\nimport "sort"\n\nvar'), 'func f() { sort.Strings(keys) }\n', 25),
    (SLICE, 'func f() { g(keys) }\n\nfunc g(xs []string) { h(xs[1:]) }\n\nfunc h(ys []string) { ys[0] = "X" }\n', 14),
    (SLICE, 'func f() { g(keys) }\n\nfunc g(xs []string) { _ = append(xs, "X") }\n', 14),
    (MAP, 'func f() { g(keys) }\n\nfunc g(m map[string]bool) { saved = m }\n\nvar saved map[string]bool\n', 14),
])
def test_changes_are_refused_at_the_occurrence(tmp_path: Path, head: str, code: str, column: int) -> None:
    result = run(tmp_path, {"a.go": head + code})
    assert result.keys is None
    found = [(f.code, f.line, f.column) for f in result.findings]
    assert ("DC104", head.count("\n") + 1, column) in found, result.findings
    assert all(f.message.startswith("cannot prove keys is unchanged here: ") for f in result.findings
               if f.code == "DC104")


def test_a_change_in_a_sibling_file(tmp_path: Path) -> None:
    result = run(tmp_path, {"a.go": SLICE, "b.go": 'package p\n\nfunc init() { keys[0] = "X" }\n'})
    assert [(f.code, f.path, f.line, f.column) for f in result.findings] == [("DC104", "p/b.go", 3, 15)]
    assert "in func init" in result.findings[0].message


@pytest.mark.parametrize("declaration", [
    "const true = false", "type string = int", "func append(xs []string, x string) []string { return xs }",
    "var len = 3", "const (\n\ta = 1\n\tnil = 2\n)", "var x, iota = 1, 2", "type (\n\terror int\n)",
    "func copy(a, b []string) {}", "var make, new = 1, 2", "type /* c */ bool int",
])
def test_shadowing_a_predeclared_identifier_anywhere_in_the_package_refuses(tmp_path: Path, declaration: str) -> None:
    result = run(tmp_path, {"a.go": MAP, "z.go": f"package p\n\n{declaration}\n"})
    assert result.keys is None and result.findings
    for finding in result.findings:
        assert finding.code == "DC104" and finding.path == "p/z.go"
        assert "shadows Go's predeclared" in finding.message


def test_predeclared_names_in_a_function_are_only_locals(tmp_path: Path) -> None:
    result = run(tmp_path, {"a.go": MAP + "func f() { len := 3; _ = len; panic(len) }\n",
                            "z.go": "package p\n\nfunc g() {\n\tpanic(1)\n\tprint(2)\n}\n"})
    assert result.keys is not None, result.findings


def test_local_builtin_shadow_makes_the_call_a_function_call(tmp_path: Path) -> None:
    code = "func f() {\n\tlen := func(m map[string]bool) int { m[\"X\"] = true; return 0 }\n\t_ = len(keys)\n}\n"
    result = run(tmp_path, {"a.go": MAP + code})
    assert result.keys is None and result.findings[0].line == 7


# ------------------------------------------------------------------------------------------------
# Build constraints


def test_files_never_built_are_not_part_of_the_package(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "a.go": SLICE,
        "gen.go": '//go:build ignore\n\npackage main\n\nfunc init() { keys[0] = "X" }\n',
        "old.go": '// +build ignore\n\npackage p\n\nfunc init() { keys[0] = "X" }\n',
        "never.go": '//go:build linux && windows\n\npackage p\n\nfunc init() { keys[0] = "X" }\n',
        "other.go": 'package q\n\nfunc init() { keys[0] = "X" }\n',
    })
    assert result.key_names == ("A", "B"), result.findings


def test_ignore_file_holding_the_list_is_refused(tmp_path: Path) -> None:
    files = {"a.go": '//go:build ignore\n\npackage p\n\nvar keys = []string{"A"}\n',
             "b.go": 'package p\n\nvar keys = []string{"B"}\n'}
    result = run(tmp_path, files)
    assert result.keys is None
    assert ("DC103", "p/a.go") in [(f.code, f.path) for f in result.findings]
    assert "never built" in result.findings[0].message


@pytest.mark.parametrize(("name", "header", "constraint"), [
    ("b_windows.go", "", "file name suffix _windows"),
    ("b_linux_arm64.go", "", "file name suffix _linux_arm64"),
    ("b.go", "//go:build !linux\n\n", "//go:build !linux"),
    ("b.go", "// +build darwin,cgo\n\n", "// +build darwin,cgo"),
    ("b.go", "//go:build integration\n\n", "//go:build integration"),
])
def test_a_change_that_depends_on_the_build(tmp_path: Path, name: str, header: str, constraint: str) -> None:
    result = run(tmp_path, {"a.go": SLICE, name: f'{header}package p\n\nfunc init() {{ keys[0] = "X" }}\n'})
    assert result.keys is None
    [finding] = result.findings
    assert finding.code == "DC103" and constraint in finding.message


def test_a_list_in_a_constrained_file_is_dc103(tmp_path: Path) -> None:
    files = {"a.go": "//go:build linux\n\n" + SLICE}
    result = run(tmp_path, files)
    assert [(f.code, f.line) for f in result.findings] == [("DC103", 5)]
    assert "//go:build linux" in result.findings[0].message and "go_target" in result.findings[0].message
    assert run(tmp_path, {}, target="linux/amd64").key_names == ("A", "B")
    refused = run(tmp_path, {}, target="windows/amd64")
    assert refused.keys is None and "never built for windows/amd64" in refused.findings[0].message


def test_a_constant_from_a_constrained_file(tmp_path: Path) -> None:
    files = {"a.go": 'package p\n\nvar keys = []string{k}\n', "k_linux.go": 'package p\n\nconst k = "L"\n',
             "k_windows.go": 'package p\n\nconst k = "W"\n'}
    result = run(tmp_path, files)
    assert result.keys is None and result.findings[0].code == "DC103"
    assert run(tmp_path, {}, target="linux/amd64").key_names == ("L",)
    assert run(tmp_path, {}, target="windows/arm64").key_names == ("W",)


def test_go_target_evaluates_tags_as_go_build_without_tags(tmp_path: Path) -> None:
    files = {"a.go": SLICE, "b.go": '//go:build integration || windows\n\npackage p\n\nfunc init() { keys[0] = "X" }\n'}
    assert run(tmp_path, files, target="linux/amd64").key_names == ("A", "B")
    assert run(tmp_path, {}, target="windows/amd64").keys is None
    assert run(tmp_path, {}).keys is None


def test_go_target_in_the_configuration(tmp_path: Path) -> None:
    from driftcheck.config import ConfigError, _parse_contract

    raw = {"name": "c", "source": "p/a.go:keys", "mirrors": ["m.sh:K"], "go_target": "linux/amd64"}
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.go").write_text(SLICE)
    (tmp_path / "m.sh").write_text("K=A\n")
    contract = _parse_contract(raw, 0, tmp_path, "driftcheck.toml", "")
    assert contract.source.go_target == "linux/amd64" and contract.mirrors[0].ref.go_target is None
    with pytest.raises(ConfigError, match="GOOS/GOARCH"):
        _parse_contract({**raw, "go_target": "linux"}, 0, tmp_path, "driftcheck.toml", "")


# ------------------------------------------------------------------------------------------------
# Other ways to reach the variable


def test_linkname_and_assembly_refuse(tmp_path: Path) -> None:
    result = run(tmp_path, {"a.go": SLICE, "b.go": 'package p\n\nimport _ "unsafe"\n\n//go:linkname keys other.x\n'})
    assert [(f.code, f.path, f.line) for f in result.findings] == [("DC104", "p/b.go", 5)]
    (tmp_path / "p/b.go").unlink()
    (tmp_path / "p/set_amd64.s").write_text("TEXT ·set(SB),$0\n\tMOVQ $0, ·keys(SB)\n\tRET\n")
    result = run(tmp_path, {})
    assert [(f.code, f.path, f.line) for f in result.findings] == [("DC104", "p/set_amd64.s", 2)]


def test_tree_sitter_misparse_far_from_the_list_is_read(tmp_path: Path) -> None:
    # Valid Go (gofmt accepts it) that tree-sitter-go 0.25 misparses: a one-line const group.
    files = {"a.go": SLICE + 'const ( other = "X"; more = "Y" )\n'}
    result = run(tmp_path, files)
    assert result.key_names == ("A", "B"), result.findings
    files = {"a.go": 'package p\n\nvar keys = []string{other}\n\nconst ( other = "X"; more = "Y" )\n'}
    result = run(tmp_path, files)
    assert result.keys is None and "misparses" in result.findings[0].message
