"""Adversarial Go packages judged by the real `go`: driftcheck never returns a value Go does not hold.

Each generated package defines an exported list `K` (slice, array, keyed array, map of struct{} or bool,
named string element types) and adds one construct from a class: a change (element or map writes,
compound assignment, re-assignment, append through a shared backing array, `(&K)[i]`, `(*&K)[k]`,
conversions, aliases, passing to a function, method values, closures, `copy`, `delete`, unsafe,
reflect, predeclared identifiers redeclared, build-constrained files), or a read that provably
changes nothing. The change runs at package initialisation (`func init`, `var _ = f()`), in a
sibling file, or in a function never called (Go then still holds the declared value, but driftcheck
cannot prove that and must refuse).

All packages of a batch are compiled into ONE program (GOPATH mode, no network) whose `main` prints
every list as JSON after package initialisation; the packages' own universe cannot touch `main`.
The assertions, per package:
- driftcheck either refuses (keys None, an exit-2 finding) or returns exactly what Go printed;
- a case built to be provable is read, and a case whose construct can change the list is refused;
- with `go_target = "linux/amd64"` (the machine `go` builds for here) the same holds.

Scale with DRIFTCHECK_ADV_EXAMPLES=N (default 400).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles

GO = shutil.which("go")
TOTAL = max(1, int(os.environ.get("DRIFTCHECK_ADV_EXAMPLES", "") or 400))
BATCH = 200
SEED = 20261202
TARGET = "linux/amd64"
COUNTS: Counter[str] = Counter()

pytestmark = pytest.mark.skipif(GO is None, reason="go not installed: apt-get install golang-go (.ci/run does)")


@dataclass
class Case:
    name: str
    kind: str  # slice | array | keyed | named | map | mapbool
    klass: str  # the construct, for the report
    files: dict[str, str] = field(default_factory=dict)
    main: str = "a.go"
    # "read": provable, must be read; "refuse": can change the list, must be refused; "either": only the
    # value is judged. The second is the expectation with go_target = linux/amd64.
    expect: str = "either"
    expect_target: str = "either"


# -------------------------------------------------------------------------------------------------
# The list


def _keys(rng: random.Random) -> list[str]:
    pool = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "MINIMAX_API_KEY",
            "XAI_API_KEY", "MISTRAL_API_KEY", "DEEPSEEK_API_KEY"]
    return rng.sample(pool, rng.randint(2, 5))


def _definition(kind: str, keys: list[str], rng: random.Random) -> str:
    quoted = [json.dumps(k) for k in keys]
    if kind == "slice":
        return f"var K = []string{{{', '.join(quoted)}}}\n"
    if kind == "array":
        size = "..." if rng.random() < 0.5 else str(len(keys))
        return f"var K = [{size}]string{{{', '.join(quoted)}}}\n"
    if kind == "keyed":
        order = list(range(len(keys)))
        rng.shuffle(order)
        return "var K = [...]string{" + ", ".join(f"{i}: {quoted[i]}" for i in order) + "}\n"
    if kind == "named":
        return f"type Src string\n\nvar K = []Src{{{', '.join(quoted)}}}\n"
    if kind == "map":
        return "var K = map[string]struct{}{" + ", ".join(f"{q}: {{}}" for q in quoted) + "}\n"
    return "var K = map[string]bool{" + ", ".join(f"{q}: true" for q in quoted) + "}\n"


def _elem(kind: str) -> str:
    return "Src" if kind == "named" else "string"


def _ktype(kind: str, n: int) -> str:
    return {"slice": "[]string", "named": "[]Src", "map": "map[string]struct{}", "mapbool": "map[string]bool",
            "array": f"[{n}]string", "keyed": f"[{n}]string"}[kind]


def _write(kind: str) -> str:
    """A statement writing one entry."""
    if kind == "map":
        return 'K["X_INJECTED"] = struct{}{}'
    if kind == "mapbool":
        return 'K["X_INJECTED"] = true'
    return 'K[0] = "X_INJECTED"'


def _map_value(kind: str) -> str:
    return "struct{}{}" if kind == "map" else "true"


# -------------------------------------------------------------------------------------------------
# Constructs: (kind, n, rng) -> (package-level code, imports, expectation) or None when not applicable.

Construct = Callable[[str, int, random.Random], "tuple[str, set[str], str] | None"]


def _is_map(kind: str) -> bool:
    return kind.startswith("map")


def _is_array(kind: str) -> bool:
    return kind in ("array", "keyed")


def c_write(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    return _write(kind), set(), "refuse"


def c_compound(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return ('K["X_INJECTED"] = K["X_INJECTED"]' if kind == "map" else 'K["X_INJECTED"] = !K["A"]'), set(), "refuse"
    return 'K[0] += "_X"', set(), "refuse"


def c_reassign(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return f'K = {_ktype(kind, n)}{{"X_INJECTED": {_map_value(kind)}}}', set(), "refuse"
    if _is_array(kind):
        return f'K = {_ktype(kind, n)}{{}}', set(), "refuse"
    return 'K = append(K, "X_INJECTED")', set(), "refuse"


def c_slice_append(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if kind in ("slice", "named"):
        return 'var _ = append(K[:1], "X_INJECTED")', set(), "refuse"
    if _is_array(kind):
        return 'var _ = append(K[:1], "X_INJECTED")', set(), "refuse"
    return None


def c_append_result(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    """append(K, x): a slice literal has no spare capacity, so the result is a new array (a read); with only
    a `...` spread (maybe empty) the result may be K itself, and a write through it changes K."""
    if kind not in ("slice", "named"):
        return None
    if rng.random() < 0.5:
        return 'c := append(K, "X_NEW"); c[0] = "X_INJECTED"', set(), "read"
    return f'var none []{_elem(kind)}; c := append(K, none...); c[0] = "X_INJECTED"', set(), "refuse"


def c_addr(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_array(kind):
        return '(&K)[1] = "X_INJECTED"', set(), "refuse"
    if _is_map(kind):
        return f'(*&K)["X_INJECTED"] = {_map_value(kind)}', set(), "refuse"
    return '(*&K)[0] = "X_INJECTED"', set(), "refuse"


def c_pointer(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return f'p := &K; (*p)["X_INJECTED"] = {_map_value(kind)}', set(), "refuse"
    return 'p := &K[0]; *p = "X_INJECTED"', set(), "refuse"


def c_conversion(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return f'{_ktype(kind, n)}(K)["X_INJECTED"] = {_map_value(kind)}', set(), "refuse"
    if kind == "slice":
        return '[]string(K)[0] = "X_INJECTED"', set(), "refuse"
    if _is_array(kind):  # an array conversion copies: nothing changes, and driftcheck can prove it
        return f'c := {_ktype(kind, n)}(K); c[0] = "X_INJECTED"; _ = c', set(), "read"
    return None


def c_alias(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    write = _write(kind).replace("K[", "a[", 1)
    if _is_array(kind):  # an array assignment copies
        return f"a := K; {write}; _ = a", set(), "read"
    return f"a := K; {write}", set(), "refuse"


def c_pass(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    t = _ktype(kind, n)
    body = _write(kind).replace("K[", "x[", 1)
    expect = "read" if _is_array(kind) else "refuse"  # an array is passed by value
    return f"func(x {t}) {{ {body} }}(K)", set(), expect


def c_callee(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    """The list passed to a function of the package: a read exactly when the callee only reads it."""
    if _is_array(kind):
        return None
    t = _ktype(kind, n)
    write = _write(kind).replace("K[", "x[", 1)
    form = rng.choice(["reads", "reads_chain", "writes", "writes_chain", "stores", "recursive_reads", "unnamed"])
    if form == "reads":
        body, expect = "_ = len(x); for range x {}", "read"
    elif form == "reads_chain":
        body, expect = "peek(x, 0)", "read"
    elif form == "writes":
        body, expect = write, "refuse"
    elif form == "writes_chain":
        body, expect = "poke(x, 0)", "refuse"
    elif form == "stores":
        body, expect = f"saved = x\n}}\n\nvar saved {t}\n\nfunc init() {{ if saved != nil {{ {_write(kind).replace('K[', 'saved[', 1)} }} ", "refuse"
    elif form == "recursive_reads":
        body, expect = "if len(x) > 100 { callee(x) }", "read"
    else:
        return f"callee2(K, 1)\n}}\n\nfunc callee2({t}, int) {{ ", set(), "read"
    helpers = (f"\n}}\n\nfunc peek(y {t}, d int) {{ if d < 3 {{ peek(y, d+1) }}; _ = len(y) }}"
               f"\n\nfunc poke(y {t}, d int) {{ if d < 3 {{ poke(y, d+1); return }}; {write.replace('x[', 'y[', 1)} }}")
    return f"callee(K){helpers}\n\nfunc callee(x {t}) {{ {body} ", set(), expect


def c_library(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    """Standard library calls: analysed in the installed Go's source."""
    if kind == "slice":
        return rng.choice([('_ = strings.Join(K, ",")', {"strings"}, "read"),
                           ('_ = sort.SearchStrings(K, "A")', {"sort"}, "read"),
                           ("_ = fmt.Sprint(K)", {"fmt"}, "read"),
                           ("sort.Strings(K)", {"sort"}, "refuse")])
    if _is_map(kind):
        return "_ = fmt.Sprintf(\"%v\", K)", {"fmt"}, "read"
    return None


def c_method(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_array(kind):
        return None
    t = _ktype(kind, n)
    body = _write(kind).replace("K[", "s[", 1)
    return f"f := T{kind}(K).set; f()\n}}\n\ntype T{kind} {t}\n\nfunc (s T{kind}) set() {{ {body} ", set(), "refuse"


def c_closure(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    return f"g := func() {{ {_write(kind)} }}; g()", set(), "refuse"


def c_copy(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return None
    if _is_array(kind):
        return 'copy(K[:], []string{"X_INJECTED"})', set(), "refuse"
    return f'copy(K, []{_elem(kind)}{{"X_INJECTED"}})', set(), "refuse"


def c_delete(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if not _is_map(kind):
        return None
    return "for k := range K { delete(K, k); break }", set(), "refuse"


def c_unsafe(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if _is_map(kind):
        return None
    return f'*(*{_elem(kind)})(unsafe.Pointer(&K[0])) = "X_INJECTED"', {"unsafe"}, "refuse"


def c_reflect(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    if _is_map(kind):
        return (f'reflect.ValueOf(K).SetMapIndex(reflect.ValueOf("X_INJECTED"), reflect.ValueOf({_map_value(kind)}))',
                {"reflect"}, "refuse")
    if _is_array(kind):
        return 'reflect.ValueOf(&K).Elem().Index(0).SetString("X_INJECTED")', {"reflect"}, "refuse"
    return 'reflect.ValueOf(K).Index(0).SetString("X_INJECTED")', {"reflect"}, "refuse"


def c_sort(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str] | None:
    if kind != "slice":
        return None
    return "sort.Sort(sort.Reverse(sort.StringSlice(K)))", {"sort"}, "refuse"


def c_reads(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    """Reads driftcheck proves harmless: it must read the list (exactly what Go holds)."""
    forms = ["_ = len(K)", "for range K {}", "if len(K) == 0 { panic(0) }" if _is_array(kind) else "if K == nil { panic(0) }",
             "println(len(K), cap(K))" if not _is_map(kind)
             else "println(len(K))"]
    if _is_map(kind):
        forms += ['if _, ok := K["A"]; ok { panic(0) }', 'v, ok := K["ANTHROPIC_API_KEY"]; _, _ = v, ok',
                  "for k, v := range K { _, _ = k, v }"]
    else:
        forms += ["_ = K[0]", f"c := append([]{_elem(kind)}{{}}, K[:]...); c[0] = \"X\"",
                  f"d := make([]{_elem(kind)}, 1); copy(d, K[:]); d[0] = \"X\"", "for i, v := range K { _, _ = i, v }"]
    return "; ".join(rng.sample(forms, rng.randint(1, len(forms)))), set(), "read"


def c_shadow(kind: str, n: int, rng: random.Random) -> tuple[str, set[str], str]:
    """A local of the same name takes every write: the package's K is untouched, provably."""
    t = _ktype(kind, n)
    form = rng.choice(["param", "local", "range"])
    if form == "param":
        return f"func(K {t}) {{ {_write(kind)} }}({make_value(kind, t)})", set(), "read"
    if form == "local":
        make = f"make({t})" if _is_map(kind) else f"{t}{{}}" if _is_array(kind) else f"make({t}, 1)"
        return f"K := {make}; {_write(kind)}", set(), "read"
    return f"for _, K := range []{t}{{{make_value(kind, t)}}} {{ {_write(kind)} }}", set(), "read"


def make_value(kind: str, t: str) -> str:
    if _is_map(kind):
        return f"make({t})"
    if _is_array(kind):
        return f"{t}{{}}"
    return f"make({t}, 1)"


CONSTRUCTS: dict[str, Construct] = {
    "write": c_write, "compound": c_compound, "reassign": c_reassign, "slice_append": c_slice_append,
    "append_result": c_append_result, "addr": c_addr, "pointer": c_pointer, "conversion": c_conversion, "alias": c_alias, "pass": c_pass,
    "method": c_method, "callee": c_callee, "library": c_library, "closure": c_closure, "copy": c_copy, "delete": c_delete, "unsafe": c_unsafe,
    "reflect": c_reflect, "sort": c_sort, "reads": c_reads, "shadow": c_shadow,
}


def _place(code: str, site: str) -> str:
    """Package-level Go running `code` at `site`."""
    if code.startswith("var _ = "):
        return code + "\n"
    if site == "init":
        return f"func init() {{\n\t{code}\n}}\n"
    if site == "var":
        return f"var _ = func() int {{\n\t{code}\n\treturn 0\n}}()\n"
    return f"func neverCalled() {{\n\t{code}\n}}\n"


def _imports(names: set[str]) -> str:
    return "".join(f'import "{name}"\n' for name in sorted(names)) + ("\n" if names else "")


# -------------------------------------------------------------------------------------------------
# Whole-package classes: predeclared identifiers, build constraints.


def predeclared_case(case: Case, keys: list[str], rng: random.Random) -> None:
    choice = rng.choice(["true", "append", "len", "string", "nil"])
    if choice == "true" and case.kind == "mapbool":
        extra = "const true = false\n"
    elif choice == "append":
        extra = "func append(s []string, x ...string) []string { return s }\n"
    elif choice == "len":
        extra = "func len(x interface{}) int { return 0 }\n"
    elif choice == "string":
        extra = "type bool = int\n" if case.kind != "mapbool" else "type byte = int32\n"
    else:
        extra = "var iota = 7\n"
    case.files["z.go"] = f"package {case.name}\n\n{extra}"
    case.klass = f"predeclared_{choice}"
    case.expect = case.expect_target = "refuse"


def constraint_case(case: Case, keys: list[str], rng: random.Random) -> None:
    write = _place(_write(case.kind), "init")
    form = rng.choice(["ignore", "plus_ignore", "other_package", "windows_suffix", "not_linux", "linux",
                       "tag", "list_per_os", "const_per_os", "unix"])
    case.klass = f"constraint_{form}"
    pkg = case.name
    if form == "ignore":
        case.files["gen.go"] = f"//go:build ignore\n\npackage main\n\n{write}"
        case.expect = case.expect_target = "read"
    elif form == "plus_ignore":
        case.files["gen.go"] = f"// +build ignore\n\npackage {pkg}\n\n{write}"
        case.expect = case.expect_target = "read"
    elif form == "other_package":
        case.files["doc.go"] = f"//go:build tools\n\npackage tools\n\n{write}"
        case.expect = case.expect_target = "read"
    elif form == "windows_suffix":
        case.files["w_windows.go"] = f"package {pkg}\n\n{write}"
        case.expect, case.expect_target = "refuse", "read"
    elif form == "not_linux":
        case.files["w.go"] = f"//go:build !linux\n\npackage {pkg}\n\n{write}"
        case.expect, case.expect_target = "refuse", "read"
    elif form == "linux":
        case.files["w.go"] = f"//go:build linux && amd64\n\npackage {pkg}\n\n{write}"
        case.expect = case.expect_target = "refuse"
    elif form == "unix":
        case.files["w.go"] = f"// +build darwin freebsd linux\n\npackage {pkg}\n\n{write}"
        case.expect = case.expect_target = "refuse"
    elif form == "tag":
        case.files["w.go"] = f"//go:build integration\n\npackage {pkg}\n\n{write}"
        case.expect, case.expect_target = "refuse", "read"
    elif form == "list_per_os":
        other = _definition(case.kind, list(reversed(keys)) + ["WINDOWS_ONLY"], rng).replace("type Src string\n\n", "")
        case.files["a.go"] = "//go:build linux\n\n" + case.files["a.go"]
        case.files["a_other.go"] = f"//go:build !linux\n\npackage {pkg}\n\n{other}"
        case.expect, case.expect_target = "refuse", "read"
    else:  # const_per_os
        case.files["a.go"] = case.files["a.go"].replace(json.dumps(keys[0]), "kc", 1)
        case.files["k_linux.go"] = f'package {pkg}\n\nconst kc = {json.dumps(keys[0])}\n'
        case.files["k_other.go"] = f'//go:build !linux\n\npackage {pkg}\n\nconst kc = "OTHER_OS_KEY"\n'
        case.expect, case.expect_target = "refuse", "read"


def gap_case(case: Case, keys: list[str], rng: random.Random) -> None:
    """A keyed array with a gap: Go fills it with "" (not a key name): refused."""
    quoted = [json.dumps(k) for k in keys]
    case.kind = "keyed"
    case.files["a.go"] = (f"package {case.name}\n\nvar K = [...]string{{0: {quoted[0]}, "
                          f"{len(keys) + 1}: {quoted[-1]}}}\n")
    case.klass = "keyed_gap"
    case.expect = case.expect_target = "refuse"


def make_case(rng: random.Random, name: str) -> Case:
    kind = rng.choice(["slice", "slice", "array", "keyed", "named", "map", "map", "mapbool"])
    keys = _keys(rng)
    case = Case(name, kind, "")
    case.files["a.go"] = f"package {name}\n\n{_definition(kind, keys, rng)}"
    roll = rng.random()
    if roll < 0.08:
        predeclared_case(case, keys, rng)
        return case
    if roll < 0.22:
        constraint_case(case, keys, rng)
        return case
    if roll < 0.25 and kind in ("slice", "array"):
        gap_case(case, keys, rng)
        return case
    while True:
        klass = rng.choice(list(CONSTRUCTS))
        made = CONSTRUCTS[klass](kind, len(keys), rng)
        if made is not None:
            break
    code, imports, expect = made
    site = rng.choice(["init", "init", "var", "never", "sibling"])
    if code.startswith("var _ = ") and site == "never":
        site = "init"
    if "\n}\n\n" in code and site == "var":
        site = "init"  # a method declaration cannot sit inside a func literal
    placed = _place(code, "init" if site == "sibling" else site)
    if site == "sibling":
        case.files["b.go"] = f"package {name}\n\n{_imports(imports)}{placed}"
    else:
        text = case.files["a.go"]
        head = f"package {name}\n\n"
        case.files["a.go"] = head + _imports(imports) + text[len(head):] + "\n" + placed
    case.klass = f"{klass}@{site}"
    case.expect = case.expect_target = expect
    return case


# -------------------------------------------------------------------------------------------------
# Judging


_MAIN = """package main

import (
	"encoding/json"
	"os"

{imports})

func main() {{
	res := map[string]interface{{}}{{}}
{calls}	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {{
		panic(err)
	}}
}}
"""


@pytest.fixture(scope="module")
def gopath(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("advgopath")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "GOPATH": str(root),
           "GOCACHE": str(tmp_path_factory.mktemp("advgocache")), "GO111MODULE": "off", "GOPROXY": "off",
           "GOFLAGS": "", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOTELEMETRY": "off", "GOENV": "off",
           "GOOS": "linux", "GOARCH": "amd64"}
    return root, env


def build_and_run(gopath: tuple[Path, dict[str, str]], batch: str, cases: list[Case]) -> dict[str, object]:
    root, env = gopath
    base = root / "src" / "adv" / batch
    for case in cases:
        directory = base / case.name
        directory.mkdir(parents=True)
        for name, text in case.files.items():
            (directory / name).write_text(text)
    imports = "".join(f'\t{c.name} "adv/{batch}/{c.name}"\n' for c in cases)
    calls = "".join(f'\tres["{c.name}"] = {c.name}.K\n' for c in cases)
    (base / "main").mkdir()
    (base / "main" / "main.go").write_text(_MAIN.format(imports=imports, calls=calls))
    binary = root / "bin" / batch
    build = subprocess.run([GO, "build", "-o", str(binary), f"adv/{batch}/main"], cwd=root, env=env,
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        culprits = sorted({line.split(f"adv/{batch}/")[1].split("/")[0] for line in build.stderr.splitlines()
                           if f"adv/{batch}/" in line})
        shown = "\n\n".join(f"{n}:\n" + "\n".join(f"--- {f}\n{t}" for f, t in c.files.items())
                            for n in culprits[:2] for c in cases if c.name == n)
        raise AssertionError(f"go build failed (a generator bug: every case must compile):\n{build.stderr[:3000]}\n"
                             f"{shown}")
    run = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[:3000]
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def truth(kind: str, printed: object) -> tuple[str, ...] | None:
    """The list as Go holds it, in driftcheck's terms; None when it has no key-list meaning (a false value)."""
    if isinstance(printed, dict):
        if kind == "mapbool" and not all(v is True for v in printed.values()):
            return None
        return tuple(sorted(printed))
    assert isinstance(printed, list)
    return tuple(printed)


def judge(case: Case, printed: object, directory: Path, root: Path, target: str | None) -> str:
    """'exact', 'refused', or a description of what went wrong."""
    rel = (directory / case.main).relative_to(root).as_posix()
    result = extract_list(ListRef(f"{rel}:K", rel, "K", "go", target), SourceFiles(root))
    expected = truth(case.kind, printed)
    expect = case.expect_target if target else case.expect
    if result.keys is None:
        if not any(f.exit_code == 2 for f in result.findings):
            return f"keys withheld without an exit-2 finding: {result.findings}"
        if expect == "read":
            return f"refused a provable case: {[f.message for f in result.findings]}"
        return "refused"
    got = tuple(sorted(result.key_names)) if case.kind.startswith("map") else result.key_names
    if got != expected:
        return f"WRONG VALUE: driftcheck read {got}, go holds {expected}"
    if expect == "refuse":
        return f"read a list that can change (go happens to hold the declared value): {got}"
    return "exact"


@pytest.mark.parametrize("index", range((TOTAL + BATCH - 1) // BATCH))
def test_adversarial_go_packages(gopath: tuple[Path, dict[str, str]], index: int) -> None:
    root, _ = gopath
    rng = random.Random(SEED + index)
    size = min(BATCH, TOTAL - index * BATCH)
    cases = [make_case(rng, f"c{i}") for i in range(size)]
    printed = build_and_run(gopath, f"b{index}", cases)
    problems = []
    for case in cases:
        directory = root / "src" / "adv" / f"b{index}" / case.name
        for target in (None, TARGET):
            verdict = judge(case, printed[case.name], directory, root, target)
            mode = "target" if target else "plain"
            COUNTS[f"{mode}:generated"] += 1
            if verdict in ("exact", "refused"):
                COUNTS[f"{mode}:{verdict}"] += 1
                COUNTS[f"class:{case.klass.split('@')[0]}:{verdict}"] += 1
            else:
                COUNTS[f"{mode}:wrong"] += 1
                problems.append(f"{case.name} [{case.klass}, {case.kind}, go_target={target}]: {verdict}\n"
                                + "\n".join(f"--- {n}\n{t}" for n, t in case.files.items()))
    print(f"\nadversarial go batch {index}: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items())
                                                         if not k.startswith("class:")))
    assert not problems, f"{len(problems)} problems:\n\n" + "\n\n".join(problems[:8])
