"""Real Go code, old extractor vs new backend: which lists are read, which refused, and are the values right?

Usage:
    git worktree add --detach /tmp/go-old 525cf1a
    python benchmarks/realcode_go.py --old /tmp/go-old ROOT[=NAME] ...

(The old version's results are cached in $TMPDIR/realcode_go-old-NAME.json.)

For every package-level `var` of every non-test .go file under each ROOT whose value is a
map/slice/array composite literal with a string (or named) key/element type and at least one
string-literal element, both versions extract the list (each in its own process, one SourceFiles
per corpus, as a real run would). Every list the new backend reads is then checked against the
real Go toolchain: a small go/parser + go/types program (built once) evaluates the literal's
constant elements the way the compiler does, honouring build constraints for the host (Go's
`build.Default.MatchFile`); keyed arrays follow Go's index rules. Prints, per corpus: candidates,
old exact/refused, new exact/refused, the reason class of every list newly refused, lists newly
read, and wrong values (must be 0).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ORACLE_GO = r'''package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
)

type request struct {
	File   string `json:"file"`
	Symbol string `json:"symbol"`
}

type result struct {
	Keys []string `json:"keys"`
	Why  string   `json:"why"`
}

type noImports struct{}

func (noImports) Import(path string) (*types.Package, error) { return nil, fmt.Errorf("not loaded") }

type pkg struct {
	files map[string]*ast.File
	info  *types.Info
	err   string
}

var cache = map[string]*pkg{}

func load(file string) *pkg {
	dir := filepath.Dir(file)
	if p, ok := cache[dir]; ok {
		return p
	}
	p := &pkg{files: map[string]*ast.File{}}
	cache[dir] = p
	fset := token.NewFileSet()
	main, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		p.err = "syntax: " + err.Error()
		return p
	}
	files := []*ast.File{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name[0] == '_' || name[0] == '.' {
			continue
		}
		if ok, _ := build.Default.MatchFile(dir, name); !ok && filepath.Join(dir, name) != filepath.Clean(file) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil || f.Name.Name != main.Name.Name {
			continue
		}
		files = append(files, f)
		p.files[filepath.Join(dir, name)] = f
	}
	p.info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: noImports{}, Error: func(error) {}}
	_, _ = conf.Check(main.Name.Name, fset, files, p.info)
	return p
}

func evaluate(req request) result {
	p := load(req.File)
	if p.err != "" {
		return result{Why: p.err}
	}
	f := p.files[filepath.Clean(req.File)]
	if f == nil {
		return result{Why: "file not built for this host"}
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if name.Name != req.Symbol || len(vs.Values) != len(vs.Names) {
					continue
				}
				expr := vs.Values[i]
				for {
					if pe, ok := expr.(*ast.ParenExpr); ok {
						expr = pe.X
					} else {
						break
					}
				}
				lit, ok := expr.(*ast.CompositeLit)
				if !ok {
					return result{Why: "not a literal"}
				}
				_, isMap := lit.Type.(*ast.MapType)
				byIndex := map[int64]string{}
				keys := []string{}
				next := int64(0)
				max := int64(-1)
				for _, elt := range lit.Elts {
					e := elt
					if kv, ok := elt.(*ast.KeyValueExpr); ok {
						if isMap {
							e = kv.Key
						} else {
							tv := p.info.Types[kv.Key]
							if tv.Value == nil {
								return result{Why: "index not constant"}
							}
							n, _ := constant.Int64Val(constant.ToInt(tv.Value))
							next = n
							e = kv.Value
						}
					}
					tv, ok := p.info.Types[e]
					if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
						return result{Why: "element not a constant string"}
					}
					s := constant.StringVal(tv.Value)
					if isMap {
						keys = append(keys, s)
						continue
					}
					byIndex[next] = s
					if next > max {
						max = next
					}
					next++
				}
				if !isMap {
					for i := int64(0); i <= max; i++ {
						keys = append(keys, byIndex[i])
					}
				}
				return result{Keys: keys}
			}
		}
	}
	return result{Why: "not found"}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		_ = json.Unmarshal(in.Bytes(), &req)
		_ = out.Encode(evaluate(req))
	}
}
'''


def candidates(root: Path) -> list[tuple[str, str]]:
    """(relative path, symbol) of every package-level string-list literal var, found with tree-sitter-go."""
    from tree_sitter import Language, Parser
    import tree_sitter_go

    parser = Parser(Language(tree_sitter_go.language()))
    found = []
    for path in sorted(root.rglob("*.go")):
        if path.name.endswith("_test.go") or "testdata" in path.parts or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"var" not in data:
            continue
        tree = parser.parse(data)
        for top in tree.root_node.named_children:
            if top.type != "var_declaration":
                continue
            specs = [c for c in top.named_children if c.type == "var_spec"]
            for group in (c for c in top.named_children if c.type == "var_spec_list"):
                specs += [c for c in group.named_children if c.type == "var_spec"]
            for spec in specs:
                names = [n for n in spec.children_by_field_name("name")]
                value = spec.child_by_field_name("value")
                values = [v for v in value.named_children if v.type != "comment"] if value is not None else []
                if len(values) != len(names):
                    continue
                for name, val in zip(names, values):
                    if _is_string_list(val):
                        found.append((path.relative_to(root).as_posix(), name.text.decode()))
    return found


def _is_string_list(node) -> bool:  # type: ignore[no-untyped-def]
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    if node.type != "composite_literal":
        return False
    typ = node.child_by_field_name("type")
    body = node.child_by_field_name("body")
    if typ is None or body is None:
        return False
    if typ.type == "map_type":
        inner = typ.child_by_field_name("key")
    elif typ.type in ("slice_type", "array_type", "implicit_length_array_type"):
        inner = typ.child_by_field_name("element")
    else:
        return False
    if inner is None or inner.type != "type_identifier":
        return False
    for element in body.named_children:
        expr = element
        if element.type == "keyed_element":
            expr = element.child_by_field_name("key" if typ.type == "map_type" else "value")
        if expr is not None and expr.type == "literal_element" and expr.named_child_count:
            expr = expr.named_children[0]
        if expr is not None and expr.type in ("interpreted_string_literal", "raw_string_literal"):
            return True
    return False


WORKER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles
try:
    from driftcheck.languages.driver import extract_list
except ImportError:
    from driftcheck.extract import extract_list
root = Path(sys.argv[2])
files = SourceFiles(root)
out = {}
for rel, symbol in json.load(sys.stdin):
    result = extract_list(ListRef(f"{rel}:{symbol}", rel, symbol, "go"), files)
    out[f"{rel}:{symbol}"] = {"keys": list(result.key_names) if result.keys is not None else None,
                              "findings": [[f.code, f.path, f.line, f.message] for f in result.findings
                                           if f.exit_code == 2]}
json.dump(out, sys.stdout)
'''


def run_version(code: Path, root: Path, cands: list[tuple[str, str]], cache: Path | None = None) -> dict[str, dict]:
    """Each candidate's result from the driftcheck at `code` (cached in `cache` when given: the old version)."""
    if cache is not None and cache.exists():
        cached = json.loads(cache.read_text())
        if all(f"{rel}:{symbol}" in cached for rel, symbol in cands):
            return cached  # type: ignore[no-any-return]
    result = _run_worker(code, root, cands)
    if cache is not None:
        cache.write_text(json.dumps(result))
    return result


def _run_worker(code: Path, root: Path, cands: list[tuple[str, str]]) -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", WORKER, str(code), str(root)], input=json.dumps(cands),
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(code)})
    if proc.returncode != 0:
        raise SystemExit(f"worker for {code} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def reason(findings: list[list]) -> str:
    """The class of the first refusal, for the report."""
    code, _, _, message = findings[0]
    table = [
        ("is passed to", "passed to a function (callee can write through the reference)"),
        ("copies the reference", "reference copied: assigned, returned, stored or sent"),
        ("shares", "sliced: the slice shares the backing array"),
        ("`...` passes", "passed as a variadic slice"),
        ("append(", "append to the list itself (may write its backing array)"),
        ("shadows Go's predeclared", "a predeclared identifier is redeclared in the package"),
        ("misparses", "tree-sitter misparse touching the list"),
        ("built only when", "build constraint"), ("only built when", "build constraint"),
        ("never built", "build constraint"),
        ("conversion gives the same", "conversion of the map/slice"),
        ("cannot tell what", "method value or selector on the list"),
        ("linkname", "go:linkname"), ("assembly", "assembly"),
        ("assigned here", "assigned"), ("writes to", "written"), ("takes the address", "address taken"),
        ("lets the list be changed through the pointer", "address taken"),
    ]
    for needle, label in table:
        if needle in message:
            return f"{code} {label}"
    return f"{code} {message[:70]}"


def oracle(cands: list[tuple[Path, str]]) -> list[dict]:
    go = shutil.which("go")
    if go is None:
        raise SystemExit("go is not installed: apt-get install golang-go")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.go").write_text(ORACLE_GO)
        (Path(tmp) / "go.mod").write_text("module oracle\n\ngo 1.19\n")
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "CGO_ENABLED": "0"}
        subprocess.run([go, "build", "-o", "oracle", "."], cwd=tmp, env=env, check=True, capture_output=True)
        lines = "".join(json.dumps({"file": str(p), "symbol": s}) + "\n" for p, s in cands)
        proc = subprocess.run([str(Path(tmp) / "oracle")], input=lines, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "--old":
        print(__doc__)
        return 2
    old_code = Path(argv[1]).resolve()
    new_code = Path(__file__).resolve().parent.parent
    totals: Counter[str] = Counter()
    for spec in argv[2:]:
        path_text, _, name = spec.partition("=")
        root = Path(path_text).resolve()
        name = name or root.name
        cands = candidates(root)
        cache = Path(tempfile.gettempdir()) / f"realcode_go-old-{name}.json"
        old = run_version(old_code, root, cands, cache)
        new = run_version(new_code, root, cands)
        counts: Counter[str] = Counter(candidates=len(cands))
        newly_refused: Counter[str] = Counter()
        examples: dict[str, str] = {}
        newly_read = []
        to_check = []
        for rel, symbol in cands:
            ref = f"{rel}:{symbol}"
            o, n = old[ref], new[ref]
            counts["old read" if o["keys"] is not None else "old refused"] += 1
            counts["new read" if n["keys"] is not None else "new refused"] += 1
            if o["keys"] is not None and n["keys"] is None:
                label = reason(n["findings"])
                newly_refused[label] += 1
                examples.setdefault(label, f"{ref}:{n['findings'][0][2]}")
            if o["keys"] is None and n["keys"] is not None:
                newly_read.append(ref)
            if n["keys"] is not None:
                to_check.append((rel, symbol, n["keys"]))
        truth = oracle([(root / rel, symbol) for rel, symbol, _ in to_check])
        wrong = []
        for (rel, symbol, keys), judged in zip(to_check, truth):
            if judged.get("keys") is None:
                counts["go could not evaluate (host build excludes the file, imports)"] += 1
                continue
            counts["checked against go"] += 1
            if list(judged["keys"]) != keys:
                wrong.append(f"{rel}:{symbol}: driftcheck {keys} go {judged['keys']}")
        counts["wrong"] = len(wrong)
        print(f"== {name}: {root}")
        for key in ("candidates", "old read", "old refused", "new read", "new refused", "checked against go",
                    "go could not evaluate (host build excludes the file, imports)", "wrong"):
            print(f"   {key}: {counts[key]}")
            totals[key] += counts[key]
        print(f"   newly read: {len(newly_read)}" + "".join(f"\n      {r}" for r in newly_read[:10]))
        print(f"   newly refused: {sum(newly_refused.values())}")
        for label, count in newly_refused.most_common():
            print(f"      {count:4d}  {label}   e.g. {examples[label]}")
        for line in wrong[:20]:
            print(f"   WRONG {line}")
    print("== total: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
    return 1 if totals["wrong"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
