"""driftcheck's reading of generated TS/JS lists compared with node running TypeScript's own type stripping.

Positive cases (literals with every escape, templates, `as const`, `satisfies`, `Object.freeze`, `new Set`,
objects with every key form, `[].field` projections) must give exactly node's keys. The adversarial set
adds one use of the list per case — mutations of every class, and reads — and driftcheck may refuse
(DC104), but must never return keys other than node's value after the module ran.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles

from .node_oracle import STATS, NodeCase

SEED = int(os.environ.get("DRIFTCHECK_DIFF_SEED", "20261202"))
COUNT = int(os.environ.get("DRIFTCHECK_DIFF_EXAMPLES", "400"))

# Pieces of a string body per quote style: JavaScript source text (node says what it means).
_COMMON = ["A", "b", "Z9", "_", "KEY", "é", "😀", "\\x41", "\\x7e", "\\u0042", "\\u00e9", "\\u{1F600}", "\\u{41}",
           "\\uD83D\\uDE00", "\\n", "\\t", "\\r", "\\b", "\\f", "\\v", "\\0", "\\\\", "\\'", '\\"', "\\`", "\\$",
           "\\q", "\\é", "\\\n", "\\\r\n", "\\\u2028", "\u2028", "\u2029", " ", "$", "{", "}"]
_TEMPLATE_ONLY = ["\n", "\r\n", "\r", "'", '"', "$ {", "\\${x}"]
_QUOTED_ONLY = {'"': ["'", "`", "${x}"], "'": ['"', "`", "${x}"]}


def _string(rng: random.Random, quotes: str = "\"'`") -> str:
    quote = rng.choice(quotes)
    pool = _COMMON + (_TEMPLATE_ONLY if quote == "`" else _QUOTED_ONLY[quote])
    body = "".join(rng.choice(pool) for _ in range(rng.randint(0, 5)))
    return quote + body + quote


def _key(rng: random.Random) -> str:
    form = rng.randrange(6)
    if form == 0:
        return rng.choice(["A", "b_c", "$x", "_", "KEY_1", "é", "constructor0", "default", "in"])
    if form == 1:
        return rng.choice(["0", "1", "7", "10", "42", "4294967294", "4294967295", "9007199254740992"])
    if form == 2:
        return "[" + _string(rng) + "]"
    return _string(rng, "\"'")  # a template is no property name


def _wrap(rng: random.Random, value: str, ts: bool) -> str:
    if not ts:
        return rng.choice([value, f"({value})", f"Object.freeze({value})"])
    return rng.choice([value, f"({value})", f"{value} as const", f"({value} as const) satisfies unknown",
                       f"Object.freeze({value} as const)", f"{value}!", f"(({value}))", f"<const>{value}"
                       if rng.random() < 0.3 else value])


def generate(rng: random.Random, index: int) -> tuple[NodeCase, str]:
    """A file defining X (one shape), the JS expression of the selected value, and driftcheck's selector."""
    ts = rng.random() < 0.7
    file = rng.choice(["lists.ts", "lists.mts", "lists.tsx"]) if ts else rng.choice(["lists.js", "lists.mjs"])
    if file.endswith(".tsx"):
        ts = True
    shape = rng.choice(["array", "array", "set", "object", "object", "projection", "nested", "const-ref"])
    keyword = rng.choice(["const", "const", "let", "var"])
    exported = rng.choice(["export ", ""])
    annotation = ""
    prelude = ""
    expr, selector = "X", "X"
    strings = [_string(rng) for _ in range(rng.randint(0, 6))]
    trailing = rng.choice(["", ","]) if strings else ""
    if shape in ("array", "const-ref"):
        if shape == "const-ref":
            prelude = "".join(f"const C{i} = {s};\n" for i, s in enumerate(strings))
            strings = [f"C{i}" if rng.random() < 0.7 else s for i, s in enumerate(strings)]
        sep = rng.choice([", ", ",\n  "])
        value = "[" + sep.join(strings) + trailing + "]"
        value = _wrap(rng, value, ts and (not file.endswith(".tsx") or rng.random() < 0.5))
        annotation = rng.choice(["", ": readonly string[]", ": string[]"]) if ts and "as const" not in value else ""
    elif shape == "set":
        value = f"new Set{'<string>' if ts and rng.random() < 0.5 else ''}([{', '.join(strings)}])"
    elif shape == "object":
        values = ["1", '"v"', "null", "[]"]
        entries = [f"{_key(rng)}: {rng.choice(values)}" for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.3:
            entries.append("m() { return 1; }")
        value = _wrap(rng, "{ " + ", ".join(entries) + " }", ts)
        annotation = ": Record<string, unknown>" if ts and rng.random() < 0.3 and "as const" not in value else ""
    elif shape == "projection":
        items = [f"{{ id: {i}, envVar: {s}, models: [\"m\"] }}" for i, s in enumerate(strings)]
        value = _wrap(rng, "[" + ", ".join(items) + "]", ts)
        expr, selector = "X.map(e => e.envVar)", "X[].envVar"
    else:
        value = "{ env: { list: [" + ", ".join(strings) + "] }, other: [1] }"
        value = _wrap(rng, value, ts)
        expr, selector = "X.env.list", "X.env.list"
    source = f"{prelude}{exported}{keyword} X{annotation} = {value};\n"
    return NodeCase(file, source, expr), selector


def _extract(tmp_path: Path, index: int, case: NodeCase, selector: str) -> ExtractedList:
    directory = tmp_path / f"c{index}"
    directory.mkdir()
    (directory / case.file).write_text(case.source, encoding="utf-8", newline="")
    language = "typescript" if case.file.endswith(("ts", "tsx")) else "javascript"
    return extract_list(ListRef(f"{case.file}:{selector}", case.file, selector, language),  # type: ignore[arg-type]
                        SourceFiles(directory))


def _refused_by_design(result: ExtractedList) -> bool:
    # Forms refused on purpose (documented): legacy octal escapes, lone surrogates, numeric keys that
    # JavaScript re-spells (only plain integers up to 2**53 are read).
    return all(f.code == "DC102" and ("octal" in f.message or "surrogate" in f.message or "numeric key" in f.message
                                      or "method" in f.message)
               for f in result.findings if f.exit_code == 2)


def test_generated_lists_read_exactly_as_node_evaluates_them(tmp_path: Path, node_ts: Any) -> None:
    rng = random.Random(SEED)
    cases = [generate(rng, i) for i in range(COUNT)]
    verdicts = node_ts.evaluate([c for c, _ in cases])
    compared = refused = rejected = 0
    for index, ((case, selector), verdict) in enumerate(zip(cases, verdicts)):
        result = _extract(tmp_path, index, case, selector)
        if "error" in verdict:
            # node refused the module (a syntax TypeScript rejects, a non-string element...): driftcheck must
            # not read keys either.
            assert result.keys is None, (case, verdict, result.key_names)
            rejected += 1
            continue
        if result.keys is None:
            assert _refused_by_design(result), (case.source, selector, result.findings, verdict)
            refused += 1
            continue
        assert list(result.key_names) == verdict["keys"], (case.source, selector, verdict)
        compared += 1
    STATS["generated lists equal to node"] += compared
    STATS["generated lists refused by design (octal, lone surrogate, numeric key)"] += refused
    STATS["generated lists node itself rejects, also refused"] += rejected
    assert compared > COUNT // 2


# One use of X after its declaration: mutations of every class, and reads. Each runs in node.
_BASES = {
    "array": ('export const X = ["A", "B"];\n', "X", "X"),
    "frozen": ('export const X = Object.freeze(["A", "B"]);\n', "X", "X"),
    "object": ('export const X: Record<string, string> = { A: "a", B: "b" };\n', "X", "X"),
    "set": ('export const X = new Set(["A", "B"]);\n', "X", "X"),
    "projection": ('export const X = [{ id: "a", envVar: "A", models: ["m"] }, { id: "b", envVar: "B", models: [] }];\n',
                   "X[].envVar", "X.map(e => e.envVar)"),
    "let": ('export let X = ["A", "B"];\n', "X", "X"),
}
_USES = [
    'X.push("C");', 'X.pop();', 'X.shift();', 'X.unshift("C");', 'X.splice(0, 1);', 'X.sort();', 'X.reverse();',
    'X.fill("C");', 'X.copyWithin(0, 1);', 'X.length = 0;', 'X[2] = "C";', 'X[0] = "C";', 'delete X[0];',
    '(X as any).push("C");', 'X!.push("C");', '(X as any)["push"]("C");', 'X.add?.("C");', '(X as any).add("C");',
    '(X as any).delete("A");', '(X as any).clear();', '(X as any).set("C", 1);', '(X as any).C = "c";',
    'delete (X as any).A;', 'Object.assign(X, { C: "c" });', 'Object.assign(X, ["C"]);',
    'Object.defineProperty(X, "C", { value: 1, enumerable: true });', 'const y: any = X; y.push("C");',
    'const y: any = X; y.C = 1;', 'let y: any = X; y.push("C");', 'function m(a: any) { a.push?.("C"); a.C = 1; }\nm(X);',
    '[X].forEach((a: any) => a.push?.("C"));', 'const o: any = { X }; o.X.push?.("C");',
    '(X as any).forEach((v: any, i: any, a: any) => a.push?.("C"));', 'X = ["C"] as any;',
    '(X as any)[0].envVar = "C";', 'const p: any = (X as any).find((e: any) => e.id === "a"); p.envVar = "C";',
    '(X as any).forEach((e: any) => { e.envVar = "C"; });', '(X as any).map((e: any) => { e.envVar = "C"; });',
    'for (const e of X as any) { e.envVar = "C"; }', 'const [first]: any = X; first.envVar = "C";',
    'eval("X.push(\'C\')");', 'Reflect.set(X, "C", 1);', 'Array.prototype.push.call(X, "C");',
    'if (Math.random() > 2) (X as any).push("C");',
    'function later() { (X as any).push("C"); }',
    # reads (driftcheck should read these, and must agree with node)
    '(X as any).includes?.("A");', 'for (const k of X as any) { String(k); }', '"A" in X;', 'Object.keys(X).length;',
    'const copy = [...(X as any)];', 'JSON.stringify(X);', 'console.log(`${X}`);', 'const n = (X as any).length;',
    'function f(X: any) { X.push("C"); }\nf([]);', '{ const X: any[] = []; X.push("C"); }',
    'const p = (X as any).find?.((e: any) => e.id === "a"); String(p?.envVar);',
    '(X as any).map?.((e: any) => e.envVar);', 'export default X;',
]


def test_mutations_never_yield_a_value_node_disagrees_with(tmp_path: Path, node_ts: Any) -> None:
    cases: list[tuple[NodeCase, str, str]] = []
    for base_name, (base, selector, expr) in _BASES.items():
        for use in _USES:
            cases.append((NodeCase("lists.ts", base + use + "\n", expr), selector, base_name + ": " + use))
    verdicts = node_ts.evaluate([c for c, _, _ in cases])
    read = refused = 0
    for index, ((case, selector, label), verdict) in enumerate(zip(cases, verdicts)):
        result = _extract(tmp_path, index, case, selector)
        if result.keys is None:
            refused += 1
            continue
        assert "error" not in verdict, (label, verdict, result.key_names)
        # node may throw after the list was built (e.g. writing to a frozen list): its value then is the judge.
        assert list(result.key_names) == verdict["keys"], (label, verdict, result.key_names)
        read += 1
    STATS["adversarial cases read and equal to node"] += read
    STATS["adversarial cases refused"] += refused
    assert read > 0 and refused > 0


@pytest.mark.parametrize("text", [
    'export const X = ["A", "B"\n', 'export const X: = ["A"];\n', 'const X = ["A"];\nfunction (\n',
])
def test_syntax_errors_are_confirmed_by_the_compiler(tmp_path: Path, node_ts: Any, typescript_node_path: str,
                                                    monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("NODE_PATH", typescript_node_path)
    (tmp_path / "lists.ts").write_text(text)
    result = extract_list(ListRef("lists.ts:X", "lists.ts", "X", "typescript"), SourceFiles(tmp_path))
    assert [f.code for f in result.findings] == ["DC101"]
    assert "TypeScript compiler rejects the file" in result.findings[0].message


def test_a_misparse_tree_sitter_alone_makes_is_not_a_syntax_error(tmp_path: Path, typescript_node_path: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Variance annotations (TypeScript 4.7) are beyond tree-sitter-typescript 0.23; the compiler accepts them.
    monkeypatch.setenv("NODE_PATH", typescript_node_path)
    (tmp_path / "lists.ts").write_text('type Box<in out T> = T;\nexport const X = ["A", "B"];\n')
    result = extract_list(ListRef("lists.ts:X", "lists.ts", "X", "typescript"), SourceFiles(tmp_path))
    assert result.findings == () and result.key_names == ("A", "B")
    (tmp_path / "lists.ts").write_text('type Box<in out X> = X;\nexport const X = ["A", "B"];\n')
    result = extract_list(ListRef("lists.ts:X", "lists.ts", "X", "typescript"), SourceFiles(tmp_path))
    assert [f.code for f in result.findings] == ["DC102"] and "which the TypeScript compiler accepts" in \
        result.findings[0].message


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("text", ['const X = ["A";\n', 'export const X = ["A"] as const;\n'])
def test_syntax_errors_in_javascript_are_confirmed_by_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          text: str) -> None:
    monkeypatch.setenv("NODE_PATH", str(tmp_path / "nothing"))  # no TypeScript: node --check judges
    (tmp_path / "lists.js").write_text(text)
    result = extract_list(ListRef("lists.js:X", "lists.js", "X", "javascript"), SourceFiles(tmp_path))
    assert [f.code for f in result.findings] == ["DC101"]
    assert "node rejects the file" in result.findings[0].message and result.findings[0].line == 1
