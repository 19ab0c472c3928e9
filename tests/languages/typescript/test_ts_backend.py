"""The TypeScript/JavaScript backend: keys, positions, refusals and pragmas, through the shared driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftcheck.languages import detect_language
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFiles


def extract(tmp_path: Path, text: str, symbol: str, name: str = "lists.ts", **others: str) -> ExtractedList:
    (tmp_path / name).write_text(text, encoding="utf-8")
    for other, body in others.items():
        target = tmp_path / other.replace("__", "/").replace("_DOT_", ".")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    language = detect_language(tmp_path / name)
    assert language in ("typescript", "javascript")
    return extract_list(ListRef(f"{name}:{symbol}", name, symbol, language), SourceFiles(tmp_path))  # type: ignore[arg-type]


def codes(result: ExtractedList) -> list[str]:
    return [f.code for f in result.findings]


@pytest.mark.parametrize(("text", "symbol", "keys"), [
    ('export const KEYS = ["A", "B"] as const;\n', "KEYS", ["A", "B"]),
    ('export const KEYS: readonly string[] = [\n  "A",\n  "B",\n];\n', "KEYS", ["A", "B"]),
    ('const KEYS = (["A", `B`] satisfies string[])!;\n', "KEYS", ["A", "B"]),
    ('const KEYS = Object.freeze(["A", "B"] as const);\n', "KEYS", ["A", "B"]),
    ('const KEYS = new Set<string>(["A", "B", "A"]);\n', "KEYS", ["A", "B"]),
    ('var KEYS = <const>["A"];\n', "KEYS", ["A"]),
    ('const KEYS: Record<string, string> = { A: "a", "B": "b", ["C"]: "c", 2: "x", 1: "y" };\n', "KEYS",
     ["1", "2", "A", "B", "C"]),
    ('const P = "P_KEY";\nconst KEYS = [P, "Q"];\n', "KEYS", ["P_KEY", "Q"]),
    ('const KEYS = [{ id: "a", envVar: "A_KEY" }, { envVar: "B_KEY", id: "b" }];\n', "KEYS[].envVar",
     ["A_KEY", "B_KEY"]),
    ('const CFG = { env: { list: ["A", "B"] } };\n', "CFG.env.list", ["A", "B"]),
    ('const CFG = { "my.key": ["A"] };\n', 'CFG."my.key"', ["A"]),
    ('const KEYS = ["\\x41\\u0042\\u{43}", "\\uD83D\\uDE00", "a\\\nb", `t\\`x`];\n', "KEYS",
     ["ABC", "\U0001F600", "ab", "t`x"]),
])
def test_reads_literal_lists(tmp_path: Path, text: str, symbol: str, keys: list[str]) -> None:
    result = extract(tmp_path, text, symbol)
    assert result.findings == () and list(result.key_names) == keys


def test_key_positions_are_the_literals(tmp_path: Path) -> None:
    result = extract(tmp_path, 'const KEYS = [\n  "A",\n    `B`,\n];\n', "KEYS")
    assert [(k.key, k.line, k.column) for k in result.keys or ()] == [("A", 2, 3), ("B", 3, 5)]
    assert result.definition is not None and (result.definition.line, result.definition.column) == (1, 7)


@pytest.mark.parametrize(("text", "symbol", "code", "line"), [
    ('const KEYS = [...OTHER, "A"];\n', "KEYS", "DC102", 1),
    ('const KEYS = [`${x}`];\n', "KEYS", "DC102", 1),
    ('const KEYS = ["\\1"];\n', "KEYS", "DC102", 1),
    ('const KEYS = ["\\uD800"];\n', "KEYS", "DC102", 1),
    ('const KEYS = [f()];\n', "KEYS", "DC102", 1),
    ('const KEYS = { [k]: 1 };\n', "KEYS", "DC102", 1),
    ('const KEYS = { ...o };\n', "KEYS", "DC102", 1),
    ('const KEYS = { 0x10: 1 };\n', "KEYS", "DC102", 1),
    ('const KEYS = ["A",, "B"];\n', "KEYS", "DC102", 1),
    ('const KEYS = ["A", P];\nconst P = "B";\n', "KEYS", "DC102", 1),
    ('let P = "B";\nconst KEYS = ["A", P];\n', "KEYS", "DC102", 2),
    ('const KEYS = "A B";\n', "KEYS", "DC102", 1),
    ('const KEYS = [{ envVar: "A" }, { other: "B" }];\n', "KEYS[].envVar", "DC102", 1),
    ('const KEYS = [{ envVar: "A" }, "B"];\n', "KEYS[].envVar", "DC102", 1),
    ('var KEYS = ["A"];\nvar KEYS = ["B"];\n', "KEYS", "DC103", 2),
    ('const KEYS = ["A"];\nKEYS.push("B");\n', "KEYS", "DC104", 2),
    ('const KEYS = { A: 1 };\nKEYS.B = 2;\n', "KEYS", "DC104", 2),
    ('const KEYS = { A: 1 };\ndelete KEYS.A;\n', "KEYS", "DC104", 2),
    ('let KEYS = ["A"];\nKEYS = ["B"];\n', "KEYS", "DC104", 2),
    ('const KEYS = ["A"];\nconst alias = KEYS;\nalias.push("B");\n', "KEYS", "DC104", 3),
    ('const KEYS = ["A"];\nmutate(KEYS);\n', "KEYS", "DC104", 2),
    ('const KEYS = ["A"];\nObject.assign(KEYS, ["B"]);\n', "KEYS", "DC104", 2),
    ('const KEYS = new Set(["A"]);\nKEYS.add("B");\n', "KEYS", "DC104", 2),
    ('const KEYS = [{ envVar: "A" }];\nKEYS[0].envVar = "B";\n', "KEYS[].envVar", "DC104", 2),
    ('const KEYS = [{ envVar: "A" }];\nconst p = KEYS.find((x) => x.envVar === "A");\np.envVar = "B";\n', "KEYS[].envVar",
     "DC104", 3),
    ('const KEYS = [{ envVar: "A" }];\nKEYS.forEach((p) => { p.envVar = "B"; });\n', "KEYS[].envVar", "DC104", 2),
    ('const KEYS = ["A"];\neval("KEYS.push(1)");\n', "KEYS", "DC104", 2),
    ('const KEYS = ["A"];\nKEYS.__proto__.includes = function () { this.push("B"); };\n', "KEYS", "DC104", 2),
    ('const KEYS = ["A"];\nKEYS.constructor.prototype.at = () => 1;\n', "KEYS", "DC104", 2),
    ('const KEYS = { A: 1 };\nKEYS["__proto__"].x = 1;\n', "KEYS", "DC104", 2),
    ('const KEYS = { A: 1 };\nKEYS[k].x = 1;\n', "KEYS", "DC104", 2),
    ('const KEYS = [{ envVar: "A", toJSON() { KEYS.pop(); } }];\n', "KEYS[].envVar", "DC102", 1),
    ('const KEYS = ["A";\n', "KEYS", "DC101", 1),
])
def test_refusals(tmp_path: Path, text: str, symbol: str, code: str, line: int) -> None:
    result = extract(tmp_path, text, symbol)
    assert result.keys is None
    assert code in codes(result), result.findings
    assert [f.line for f in result.findings if f.code == code][0] == line


@pytest.mark.parametrize("use", [
    'if (KEYS.includes(k)) {}', 'KEYS.indexOf(k);', 'for (const k of KEYS) { console.log(k); }', 'k in KEYS;',
    'KEYS.length;', 'const c = [...KEYS, "Z"];', 'KEYS.map((k) => k.toLowerCase());', 'Object.keys(KEYS);',
    'export default KEYS;', 'export { KEYS as OTHER };', 'function f(KEYS: string[]) { KEYS.push("Z"); }',
    '{ const KEYS: string[] = []; KEYS.push("Z"); }', 'KEYS.some((k, i) => k === "A" && i > 0);',
    'const first = KEYS[0]; first.toString();', 'type K = (typeof KEYS)[number];', 'console.log(`${KEYS}`);',
])
def test_reads_known_not_to_change_it(tmp_path: Path, use: str) -> None:
    result = extract(tmp_path, f'const KEYS = ["A", "B"];\n{use}\n', "KEYS")
    assert result.findings == () and result.key_names == ("A", "B")


def test_projection_reads_through_find_and_callbacks(tmp_path: Path) -> None:
    text = ('export const P = [{ id: "a", envVar: "A_KEY", models: ["m"] }];\n'
            'const p = P.find((x) => x.id === "a");\nif (p) console.log(p.envVar, p.models.length);\n'
            'P.map((q) => q.envVar);\np?.models.push("n");\n')
    result = extract(tmp_path, text, "P[].envVar")
    assert result.findings == () and result.key_names == ("A_KEY",)


def test_pragmas_attach_above_and_at_the_end_of_the_first_line(tmp_path: Path) -> None:
    text = ('// driftcheck: allow-extra=B -- the UI offers it\nconst KEYS = [ // driftcheck: allow-missing=C -- why\n'
            '  "A", "B",\n];\n// driftcheck: allow-extra=D -- stray\n')
    result = extract(tmp_path, text, "KEYS")
    assert sorted((a.key, a.kind, a.line) for a in result.allowances) == [("B", "extra", 1), ("C", "missing", 2)]


def test_not_found_suggests_the_closest_name(tmp_path: Path) -> None:
    result = extract(tmp_path, 'const KEY_LIST = ["A"];\n', "KEY_LIS")
    assert codes(result) == ["DC100"] and "KEY_LIST" in result.findings[0].message


def test_importers_are_followed(tmp_path: Path) -> None:
    lists = 'export const KEYS: readonly string[] = ["A", "B"];\n'
    reader = 'import { KEYS } from "./lists";\nexport const has = (k: string) => KEYS.includes(k);\n'
    writer = 'import { KEYS as K } from "@/lib/lists";\n(K as string[]).push("C");\n'
    ok = extract(tmp_path, lists, "KEYS", reader_DOT_ts=reader)
    assert ok.findings == () and ok.key_names == ("A", "B")
    bad = extract(tmp_path, lists, "KEYS", app__writer_DOT_ts=writer)
    assert bad.keys is None
    assert [(f.code, f.path, f.line) for f in bad.findings] == [("DC104", "app/writer.ts", 2)]
    assert "Object.freeze" in bad.findings[0].message


def test_frozen_exports_need_no_importer_scan(tmp_path: Path) -> None:
    lists = 'export const KEYS = Object.freeze(["A", "B"]);\n'
    writer = 'import * as lists from "./lists";\nmutate(lists);\n'
    result = extract(tmp_path, lists, "KEYS", writer_DOT_ts=writer)
    assert result.findings == () and result.key_names == ("A", "B")
    unfrozen = extract(tmp_path, 'export const KEYS = ["A", "B"];\n', "KEYS", writer_DOT_ts=writer)
    assert codes(unfrozen) == ["DC104"] and unfrozen.findings[0].path == "writer.ts"


def test_javascript_and_tsx(tmp_path: Path) -> None:
    js = extract(tmp_path, 'export const KEYS = ["A"];\nmodule.exports = {};\n', "KEYS", name="k.mjs")
    assert js.key_names == ("A",)
    tsx = extract(tmp_path, 'export const KEYS = ["A"];\nexport const C = () => <div>{KEYS.map((k) => <b>{k}</b>)}</div>;\n',
                  "KEYS", name="k.tsx")
    assert tsx.findings == () and tsx.key_names == ("A",)


def test_go_and_bash_checks_do_not_import_the_grammars() -> None:
    code = ("import sys\nfrom driftcheck.languages import backend\nimport driftcheck.cli\n"
            "backend('go'); backend('shell')\nbackend('typescript')\n"
            "print(any(m.startswith(('tree_sitter_typescript', 'tree_sitter_javascript')) for m in sys.modules))\n"
            "import driftcheck.languages.typescript.reader\n"
            "print(any(m.startswith('tree_sitter_typescript') for m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_candidates_for_discover(tmp_path: Path) -> None:
    from driftcheck.languages import backend
    from driftcheck.sources import SourceFile

    (tmp_path / "ui.tsx").write_text(
        'export const KEYS = ["A", "B"] as const;\nconst LABELS: Record<string, string> = { C: "c" };\n'
        'export const P = [{ id: "x", envVar: "D", n: 1 }, { id: "y", envVar: "E", n: 2 }];\n'
        'const ONE = "A";\nlet mixed = [1, "A"];\nfunction f() { const inner = ["Z"]; }\n')
    loaded = SourceFiles(tmp_path).load("ui.tsx")
    assert isinstance(loaded, SourceFile)
    found = {c.selector: [k.key for k in c.keys] for c in backend("typescript").candidates(loaded)}  # type: ignore[attr-defined]
    assert found == {"KEYS": ["A", "B"], "LABELS": ["C"], "P[].id": ["x", "y"], "P[].envVar": ["D", "E"]}


def test_a_global_script_list_is_followed_into_other_scripts(tmp_path: Path) -> None:
    lists = 'const KEYS = ["A", "B"];\n'
    ok = extract(tmp_path, lists, "KEYS", name="lists.js", app_DOT_js="console.log(KEYS.includes('A'));\n")
    assert ok.findings == () and ok.key_names == ("A", "B")
    bad = extract(tmp_path, lists, "KEYS", name="lists.js", app_DOT_js="KEYS.push('C');\nwindow.KEYS.pop();\n")
    assert [(f.code, f.path, f.line) for f in bad.findings] == [("DC104", "app.js", 1), ("DC104", "app.js", 2)]
    shadowed = extract(tmp_path, lists, "KEYS", name="lists.js",
                       app_DOT_js="export const KEYS = [];\nKEYS.push('C');\n")
    assert shadowed.findings == () and shadowed.key_names == ("A", "B")


@pytest.mark.parametrize(("lists", "importer", "code"), [
    ('const KEYS = ["A"];\nexport default KEYS;\n', 'import K from "./lists";\nK.push("B");\n', "DC104"),
    ('const KEYS = ["A"];\nexport default KEYS;\n', 'import K from "./lists";\nK.includes("B");\n', None),
    ('const KEYS = ["A"];\nexport { KEYS as OTHER };\n', 'import { OTHER } from "./lists";\nOTHER.pop();\n', "DC104"),
    ('const KEYS = ["A"];\nexport { KEYS as OTHER };\n', 'import { OTHER } from "./lists";\nOTHER.at(0);\n', None),
    ('const KEYS = ["A"];\nconst k = KEYS;\nexport { k };\n', 'import { k } from "./lists";\n', "DC104"),
    ('export const KEYS = ["A"];\n', 'export * from "./lists";\n', "DC104"),
    ('export const KEYS = ["A"];\n', 'const lists = require("./lists");\nlists.KEYS.push("B");\n', "DC104"),
    ('export const KEYS = ["A"];\n', 'const { KEYS } = require("./lists");\nKEYS.push("B");\n', "DC104"),
    ('export const KEYS = ["A"];\n', 'const { KEYS } = require("./lists");\nKEYS.includes("B");\n', None),
    ('export const KEYS = ["A"];\n', 'import * as l from "./lists";\nl.KEYS.length;\n', None),
    ('export const KEYS = ["A"];\n', 'import l = require("./lists");\nl.KEYS.push("B");\n', "DC104"),
    ('export const KEYS = ["A"];\n', 'import l = require("./lists");\nfoo(l);\n', "DC104"),
    ('export const KEYS = [{ k: "A" }];\n', 'import { KEYS } from "./lists";\nfor (p of KEYS) {}\np.k = "B";\n',
     "DC104"),
])
def test_importers_every_way_in(tmp_path: Path, lists: str, importer: str, code: str | None) -> None:
    symbol = "KEYS[].k" if "k:" in lists else "KEYS"
    result = extract(tmp_path, lists, symbol, app_DOT_ts=importer)
    if code is None:
        assert result.findings == () and result.keys is not None
    else:
        assert result.keys is None and code in codes(result), result.findings


def test_an_escaped_spelling_of_the_name_is_the_same_binding(tmp_path: Path) -> None:
    result = extract(tmp_path, 'const KEYS = ["A"];\nK\\u0045YS.push("B");\n', "KEYS")
    assert codes(result) == ["DC104"] and result.findings[0].line == 2


@pytest.mark.parametrize(("text", "symbol", "other", "ok"), [
    ('export const KEYS = Object.freeze(["A"]);\nmodule.exports = { KEYS };\nfoo(KEYS);\n', "KEYS", "", True),
    ('export const KEYS = Object.freeze(new Set(["A"]));\n', "KEYS", 'import { KEYS } from "./lists";\nKEYS.add("B");\n',
     False),
    ('export const P = Object.freeze([{ envVar: "A" }]);\nfoo(P);\n', "P[].envVar", "", False),
    ('export const P = Object.freeze([Object.freeze({ envVar: "A" })]);\nfoo(P);\n', "P[].envVar", "", True),
    ('var KEYS = Object.freeze(["A"]);\n', "KEYS", "KEYS = ['B'];\n", False),
    ('var KEYS = Object.freeze(["A"]);\n', "KEYS", "KEYS.push('B');\n", True),
    ('let KEYS = Object.freeze(["A"]);\nKEYS = ["B"];\n', "KEYS", "", False),
])
def test_a_frozen_list_can_be_used_any_way_but_not_rebound(tmp_path: Path, text: str, symbol: str, other: str,
                                                           ok: bool) -> None:
    others = {"app_DOT_ts": other} if other else {}
    name = "lists.js" if text.startswith("var") else "lists.ts"
    if other and name == "lists.js":
        others = {"app_DOT_js": other}
    result = extract(tmp_path, text, symbol, name=name, **others)
    assert (result.keys is not None) == ok, result.findings
