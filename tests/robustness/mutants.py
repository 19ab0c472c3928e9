"""Mutant generators and independent ground truth for the whole-check mutation tests.

A *base* is an in-sync fixture repository (README says "Expected: exit 0"). Its lists
are located once through driftcheck's own extraction (the parsers' view: where each
key token is), then every mutant edits exactly those tokens (or wraps/breaks the
definition around them) and carries its GROUND TRUTH, computed without driftcheck:

- key edits know their expected lists by construction, and each edited file is
  cross-checked against the real language: bash itself runs the definition, CPython
  executes the module, and a small go/types program (built once from ORACLE_GO)
  evaluates the Go literal with the compiler's own constant folding;
- structural breaks (conditional/mutated/redefined lists, invalid UTF-8, NUL) must
  be exit 2 with the rule code DESIGN.md names;
- syntax breaks are kept only when an independent parser (`bash -n`, `compile()`,
  go/parser) also rejects the file; otherwise the oracle's list is the truth;
- line-ending, quoting, BOM and truncation mutants take their truth from the oracles.

Nothing here imports driftcheck's extractors for the truth: driftcheck is only used to
find the token positions of the unmodified fixtures (and that baseline is itself
checked against the oracles).
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from repogen import CANONICAL_KEYS

REPO = Path(__file__).resolve().parents[2]
# Shell functions that shadow file-changing and network commands while mutated harness prefixes are sourced.
_SANDBOX_FUNCTIONS = " ".join(f"{name}() {{ return 0; }};" for name in (
    "rm", "mv", "cp", "ln", "mkdir", "rmdir", "touch", "chmod", "chown", "mknod", "dd", "truncate", "install",
    "tee", "sed", "curl", "wget", "nc", "ssh", "git", "docker", "kill", "sleep"))
FIXTURES = REPO / "fixtures"

KEYS = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py

NEW_KEYS = ("XAI_API_KEY", "AWS_BEARER_TOKEN_BEDROCK", "VOYAGE_API_KEY", "REPLICATE_API_TOKEN", "HF_TOKEN",
            "CEREBRAS_API_KEY", "SAMBANOVA_API_KEY", "ai21.api-key", "Nvidia_Nim_Key2")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ------------------------------------------------------------------------------------------ oracles


ORACLE_GO = r'''package main

// Evaluates `var SYMBOL = <composite literal>` of a Go file the way the compiler does:
// go/parser for syntax, go/types for constant folding across the package's files.
import (
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

type result struct {
	SyntaxError string   `json:"syntax_error"`
	Found       bool     `json:"found"`
	Keys        []string `json:"keys"`
	NotStatic   string   `json:"not_static"`
	TypeErrors  []string `json:"type_errors"`
}

type noImports struct{}

func (noImports) Import(path string) (*types.Package, error) { return nil, fmt.Errorf("not loaded") }

func out(r result) {
	_ = json.NewEncoder(os.Stdout).Encode(r)
	os.Exit(0)
}

func main() {
	file, symbol := os.Args[1], os.Args[2]
	dir := filepath.Dir(file)
	fset := token.NewFileSet()
	res := result{TypeErrors: []string{}}
	mainFile, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		res.SyntaxError = err.Error()
		out(res)
	}
	files := []*ast.File{mainFile}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name[0] == '_' || name[0] == '.' {
			continue
		}
		path := filepath.Join(dir, name)
		if path == filepath.Clean(file) {
			continue
		}
		if ok, _ := build.Default.MatchFile(dir, name); !ok {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			res.SyntaxError = "sibling " + err.Error()
			out(res)
		}
		if f.Name.Name == mainFile.Name.Name {
			files = append(files, f)
		}
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: noImports{}, Error: func(err error) { res.TypeErrors = append(res.TypeErrors, err.Error()) }}
	_, _ = conf.Check(mainFile.Name.Name, fset, files, info)
	for _, decl := range mainFile.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if name.Name != symbol {
					continue
				}
				res.Found = true
				if len(vs.Values) != len(vs.Names) {
					res.NotStatic = "values do not match names"
					out(res)
				}
				expr := vs.Values[i]
				for {
					if p, ok := expr.(*ast.ParenExpr); ok {
						expr = p.X
					} else {
						break
					}
				}
				lit, ok := expr.(*ast.CompositeLit)
				if !ok {
					res.NotStatic = "not a composite literal"
					out(res)
				}
				mapType, isMap := lit.Type.(*ast.MapType)
				boolMap := false
				if isMap {
					if id, ok := mapType.Value.(*ast.Ident); ok && id.Name == "bool" {
						boolMap = true
					}
				} else if arr, ok := lit.Type.(*ast.ArrayType); ok && arr.Len != nil {
					if _, ok := arr.Len.(*ast.Ellipsis); !ok {
						if bl, ok := arr.Len.(*ast.BasicLit); !ok || bl.Value != fmt.Sprint(len(lit.Elts)) {
							res.NotStatic = "array length"
							out(res)
						}
					}
				}
				keys := []string{}
				for _, elt := range lit.Elts {
					e := elt
					if kv, ok := elt.(*ast.KeyValueExpr); ok {
						if !isMap {
							res.NotStatic = "indexed element"
							out(res)
						}
						e = kv.Key
						id, isIdent := kv.Value.(*ast.Ident)
						if (isIdent && id.Name == "false") || (boolMap && !(isIdent && id.Name == "true")) {
							res.NotStatic = "map value not true"
							out(res)
						}
					} else if isMap {
						res.NotStatic = "map element without key"
						out(res)
					}
					tv, ok := info.Types[e]
					if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
						res.NotStatic = "element is not a constant string"
						out(res)
					}
					keys = append(keys, constant.StringVal(tv.Value))
				}
				res.Keys = keys
				out(res)
			}
		}
	}
	out(res)
}
'''


@dataclass(frozen=True)
class OracleList:
    """What the real language says a list is: its keys in order, or why there is no list."""

    keys: tuple[str, ...] | None
    why: str = ""  # "syntax", "missing", "not-static", "failed" when keys is None
    ordered: bool = True  # False for Python sets/dicts (multiplicity and order are not observable)


class Oracles:
    """bash, CPython and go/types as independent judges of a (mutated) list file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.calls: Counter[str] = Counter()
        self.go_binary = self._build_go(workdir)

    @staticmethod
    def _build_go(workdir: Path) -> Path | None:
        go = shutil.which("go")
        if go is None:
            return None
        src = workdir / "gooracle"
        src.mkdir(parents=True, exist_ok=True)
        (src / "go.mod").write_text("module dcoracle\n\ngo 1.19\n")
        (src / "main.go").write_text(ORACLE_GO)
        env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        try:
            subprocess.run([go, "build", "-o", "oracle", "."], cwd=src, env=env, check=True, capture_output=True,
                           timeout=180)
        except (OSError, subprocess.SubprocessError):
            return None
        return src / "oracle"

    # -- bash

    def bash_syntax_ok(self, path: Path) -> bool:
        self.calls["bash -n"] += 1
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-n", str(path)], capture_output=True, timeout=30)
        return proc.returncode == 0

    def bash_list(self, prefix: str, symbol: str) -> OracleList:
        """Run the file's prefix (up to the end of the definition) in bash and read the list back.

        A string value is word-split exactly as `for key in $NAME` does (globbing off);
        an array gives its elements.
        """
        self.calls["bash"] += 1
        script = self.workdir / "bash_prefix.sh"
        script.write_bytes(prefix.encode("utf-8", "surrogateescape"))
        # The prefix is mutated harness code run as whoever runs the tests: shadow every command that could
        # touch files or the network (functions win over PATH lookups, also in EXIT traps).
        probe = (f'{_SANDBOX_FUNCTIONS} set -f; . "$1" >/dev/null 2>&1; set +eu; '
                 f'if [[ "$(declare -p {symbol} 2>/dev/null)" == "declare -a"* ]]; then '
                 f'for w in "${{{symbol}[@]}}"; do printf "%s\\0" "$w"; done; '
                 f'elif declare -p {symbol} >/dev/null 2>&1; then set -- ${symbol}; '
                 f'for w in "$@"; do printf "%s\\0" "$w"; done; else exit 3; fi')
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir), "LC_ALL": "C.UTF-8"}
        # Harness prologues insist on their settings (`${STAGING_URL:?...}`): give each one a dummy value.
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", prefix):
            env[name] = "oracle"
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", probe, "oracle", str(script)],
                              capture_output=True, timeout=30, env=env, cwd=self.workdir)
        if proc.returncode == 3:
            return OracleList(None, "missing")
        if proc.returncode != 0:
            return OracleList(None, "failed")
        words = proc.stdout.split(b"\0")[:-1]
        return OracleList(tuple(w.decode("utf-8", "surrogateescape") for w in words))

    # -- python

    def python_list(self, text: str, symbol: str) -> OracleList:
        self.calls["python"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                code = compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError):
            return OracleList(None, "syntax")
        namespace: dict[str, Any] = {"__name__": "driftcheck_mutant"}
        try:
            exec(code, namespace)  # noqa: S102 - a mutated copy of a fixture module (definitions only)
        except Exception:
            return OracleList(None, "failed")
        if symbol not in namespace:
            return OracleList(None, "missing")
        value = namespace[symbol]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return OracleList(tuple(value))
        if isinstance(value, (set, frozenset, dict)) and all(isinstance(v, str) for v in value):
            return OracleList(tuple(value), ordered=False)
        return OracleList(None, "not-static")

    # -- go

    def go_list(self, path: Path, symbol: str) -> OracleList | None:
        """None when the Go toolchain is not available."""
        if self.go_binary is None:
            return None
        self.calls["go"] += 1
        proc = subprocess.run([str(self.go_binary), str(path), symbol], capture_output=True, timeout=30)
        data = json.loads(proc.stdout)
        if data["syntax_error"]:
            return OracleList(None, "syntax")
        if not data["found"]:
            return OracleList(None, "missing")
        if data["not_static"]:
            return OracleList(None, "not-static")
        redeclared = [e for e in data["type_errors"] if f"{symbol} redeclared" in e]
        if redeclared:
            return OracleList(None, "redeclared")
        return OracleList(tuple(data["keys"]))


# ------------------------------------------------------------------------------------------ bases


@dataclass
class Token:
    """One key as written in a list file: where it is and how it can be edited."""

    key: str
    start: int  # character offset of the token (the key's reported location)
    end: int
    kind: str  # literal | ident | word | quoted | other
    inner: tuple[int, int] | None = None  # the characters spelling the key, when they do
    sep: str = " "  # for words: the separator between words
    starts_element: bool = True  # comma languages: the token is where its list element begins


@dataclass
class Side:
    """One list of a base contract (its source or a mirror)."""

    role: str  # "source", "mirror1", ...
    ref: Any  # driftcheck.model.ListRef
    language: str
    path: str  # relative to the fixture root, posix
    text: str
    keys: tuple[str, ...]
    tokens: list[Token]
    span: tuple[int, int]  # value span, character offsets
    def_line: int
    allowances: tuple[tuple[str, str], ...]  # (kind, key)
    relation: str = "equal"

    @property
    def symbol(self) -> str:
        return self.ref.symbol

    @property
    def oracle_end(self) -> int:
        """Where the bash oracle may stop running the file: after the definition and its appends."""
        return max([self.span[1], *(t.end for t in self.tokens)])


@dataclass
class Base:
    name: str
    root: Path
    files: dict[str, bytes]
    contract: str
    source: Side
    mirrors: list[Side]

    @property
    def sides(self) -> list[Side]:
        return [self.source, *self.mirrors]

    def side(self, role: str) -> Side:
        return next(s for s in self.sides if s.role == role)

    @property
    def lists(self) -> dict[str, tuple[str, ...]]:
        return {s.role: s.keys for s in self.sides}


def line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def char_offset(text: str, line: int, column: int, starts: list[int] | None = None) -> int:
    starts = starts or line_starts(text)
    return starts[line - 1] + column - 1


# Extra in-sync repositories written here (not fixtures) so the mutants also reach the less common
# forms the extractors support: Go `[...]string` with raw strings, `+`, parentheses and constants,
# bash arrays with quoted elements and `+=` appends, a pragma, Python tuples, `.split(",")`, `+=`,
# and a `subset` relation. Each is checked against the oracles before use.
_SYN_GO_1 = """package handlers

const (
	azurePrefix = "AZURE_" + "OPENAI_"
	keyDeepSeek = "DEEPSEEK_API_KEY"
)

var (
	retries = 3

	// Blocked for platform-managed workspaces.
	platformManagedDirectLLMBypassKeys = [...]string{
		"ANTHROPIC_API_KEY",
		`ANTHROPIC_AUTH_TOKEN`,
		"CLAUDE_CODE_" + "OAUTH_TOKEN",
		("OPENAI_API_KEY"),
		"OPENAI_BASE_URL", "HERMES_CUSTOM_API_KEY",
		"HERMES_CUSTOM_BASE_URL",
		/* Google */ "GEMINI_API_KEY",
		"GOOGLE_API_KEY",
		"GOOGLE_GENERATIVE_AI_API_KEY",
		"MINIMAX_API_KEY",
		"OPENROUTER_API_KEY",
		keyDeepSeek,
		"GROQ_API_KEY",
		"MISTRAL_API_KEY",
		"TOGETHER_API_KEY",
		"FIREWORKS_API_KEY",
		"COHERE_API_KEY",
		"PERPLEXITY_API_KEY",
		azurePrefix + "API_KEY",
		azurePrefix + "ENDPOINT",
		"MOONSHOT_API_KEY",
		"\\x44ASHSCOPE_API_KEY",
	}
)

func blocked(key string) bool {
	for _, k := range platformManagedDirectLLMBypassKeys {
		if k == key {
			return true
		}
	}
	return retries < 0
}
"""

_SYN_SH_1 = """#!/usr/bin/env bash
set -euo pipefail

# driftcheck: allow-extra=LEGACY_LLM_KEY -- the old staging org still sets it
declare -a BYOK_STRIP_KEYS=(
  ANTHROPIC_API_KEY "ANTHROPIC_AUTH_TOKEN" 'CLAUDE_CODE_OAUTH_TOKEN'
  OPENAI_API_KEY OPENAI_BASE_URL
  # Hermes
  HERMES_CUSTOM_API_KEY HERMES_CUSTOM_BASE_URL
  GEMINI_API_KEY GOOGLE_API_KEY GOOGLE_GENERATIVE_AI_API_KEY
  MINIMAX_API_KEY OPENROUTER_API_KEY DEEPSEEK_API_KEY GROQ_API_KEY
  MISTRAL_API_KEY TOGETHER_API_KEY FIREWORKS_API_KEY COHERE_API_KEY
  PERPLEXITY_API_KEY AZURE_OPENAI_API_KEY AZURE_OPENAI_ENDPOINT
  LEGACY_LLM_KEY
)
BYOK_STRIP_KEYS+=(MOONSHOT_API_KEY "DASHSCOPE_API_KEY")

for key in "${BYOK_STRIP_KEYS[@]}"; do
  echo "deferring $key"
done
"""

_SYN_PY_1 = """# byok helpers.

GOOGLE = "GOOGLE_API_KEY"

STRIP_KEYS: tuple[str, ...] = (
    "ANTHROPIC_API_KEY",
    'ANTHROPIC_AUTH_TOKEN',
    "CLAUDE_CODE_" "OAUTH_TOKEN",
    "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "HERMES_CUSTOM_API_KEY",
    "HERMES_CUSTOM_BASE_URL",
    "GEMINI_API_KEY",
    GOOGLE,
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "MINIMAX_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "GROQ_API_KEY",
) + tuple("MISTRAL_API_KEY,TOGETHER_API_KEY,FIREWORKS_API_KEY".split(","))
STRIP_KEYS += ("COHERE_API_KEY", "PERPLEXITY_API_KEY", "AZURE_OPENAI_API_KEY")
STRIP_KEYS += ("AZURE_OPENAI_ENDPOINT", "MOONSHOT_API_KEY", "DASHSCOPE_API_KEY")


def deferred(secrets):
    return {k: v for k, v in secrets.items() if k in STRIP_KEYS}
"""

_SYN_GO_2 = """package handlers

import "strings"

var platformManagedDirectLLMBypassKeys = map[string]bool{
	"ANTHROPIC_API_KEY": true, "ANTHROPIC_AUTH_TOKEN": true,
	"CLAUDE_CODE_OAUTH_TOKEN": true,
	"OPENAI_API_KEY":          true, // the OpenAI arm
	"OPENAI_BASE_URL":         true,
	"HERMES_CUSTOM_API_KEY":   true,
	"HERMES_CUSTOM_BASE_URL":  true,
	"GEMINI_API_KEY":          true,
	"GOOGLE_API_KEY":          true,
	"GOOGLE_GENERATIVE_AI_API_KEY": true,
	"MINIMAX_API_KEY":         true,
	"OPENROUTER_API_KEY":      true,
	"DEEPSEEK_API_KEY":        true,
	"GROQ_API_KEY":            true,
	"MISTRAL_API_KEY":         true,
	"TOGETHER_API_KEY":        true,
	"FIREWORKS_API_KEY":       true,
	"COHERE_API_KEY":          true,
	"PERPLEXITY_API_KEY":      true,
	"AZURE_OPENAI_API_KEY":    true,
	"AZURE_OPENAI_ENDPOINT":   true,
	"MOONSHOT_API_KEY":        true,
	"DASHSCOPE_API_KEY":       true,
}

func isBlocked(key string) bool {
	platformManagedDirectLLMBypassKeys := map[string]bool{}
	platformManagedDirectLLMBypassKeys[key] = true
	return platformManagedDirectLLMBypassKeys[strings.ToUpper(key)]
}
"""

_SYN_SH_2 = """#!/bin/bash
# The strip list: keep in sync with secrets.go.
export BYOK_STRIP_KEYS='ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN
  CLAUDE_CODE_OAUTH_TOKEN	OPENAI_API_KEY   OPENAI_BASE_URL
  HERMES_CUSTOM_API_KEY HERMES_CUSTOM_BASE_URL GEMINI_API_KEY GOOGLE_API_KEY
  GOOGLE_GENERATIVE_AI_API_KEY MINIMAX_API_KEY OPENROUTER_API_KEY DEEPSEEK_API_KEY
  GROQ_API_KEY MISTRAL_API_KEY TOGETHER_API_KEY FIREWORKS_API_KEY COHERE_API_KEY
  PERPLEXITY_API_KEY AZURE_OPENAI_API_KEY AZURE_OPENAI_ENDPOINT MOONSHOT_API_KEY'
BYOK_STRIP_KEYS+=" DASHSCOPE_API_KEY"
"""

_SYN_PY_2 = """ANTHROPIC = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]

# Only the keys the Python helpers defer (a subset of the server's list).
STRIP_KEYS = frozenset({
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
}) | {"GOOGLE_API_KEY", "MINIMAX_API_KEY"}
"""

_SYN_CONTRACT = """[[contract]]
name = "byok-strip-list"
source = "workspace-server/internal/handlers/secrets.go:platformManagedDirectLLMBypassKeys"
mirrors = ["tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEYS", {MIRROR}]
"""

SYNTHETIC: dict[str, dict[str, str]] = {
    "synthetic-forms": {
        "workspace-server/internal/handlers/secrets.go": _SYN_GO_1,
        "tests/e2e/test_staging_full_saas.sh": _SYN_SH_1,
        "tests/e2e/helpers/byok.py": _SYN_PY_1,
        "driftcheck.toml": _SYN_CONTRACT.replace("{MIRROR}", '"tests/e2e/helpers/byok.py:STRIP_KEYS"'),
    },
    "synthetic-subset": {
        "workspace-server/internal/handlers/secrets.go": _SYN_GO_2,
        "tests/e2e/test_staging_full_saas.sh": _SYN_SH_2,
        "tests/e2e/helpers/byok.py": _SYN_PY_2,
        "driftcheck.toml": _SYN_CONTRACT.replace(
            "{MIRROR}", '{ ref = "tests/e2e/helpers/byok.py:STRIP_KEYS", relation = "subset" }'),
    },
}


def write_synthetic(directory: Path) -> list[Path]:
    roots = []
    for name, files in SYNTHETIC.items():
        root = directory / name
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        roots.append(root)
    return roots


def in_sync_fixture_roots() -> list[Path]:
    """fixtures/* whose README says the check exits 0."""
    roots = []
    for readme in sorted(FIXTURES.glob("*/README.md")):
        if re.search(r"Expected:\s*exit 0\b", readme.read_text(encoding="utf-8")):
            roots.append(readme.parent)
    return roots


def load_base(root: Path) -> Base:
    """Read an in-sync repository and locate every key token through driftcheck's extraction."""
    from driftcheck.config import CheckOptions, load_contracts
    from driftcheck.languages.driver import extract_list
    from driftcheck.sources import SourceFiles

    name = root.name
    contracts, findings = load_contracts(CheckOptions(root=root))
    assert not findings and len(contracts) == 1, (name, findings)
    contract = contracts[0]
    assert not contract.allowances, "configured exceptions are not modelled"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    sides = []
    refs = [(contract.source, "equal")] + [(m.ref, m.relation) for m in contract.mirrors]
    for index, (ref, relation) in enumerate(refs):
        extracted = extract_list(ref, SourceFiles(root))
        assert extracted.keys is not None, (name, ref, extracted.findings)
        path = Path(ref.path).as_posix()
        text = files[path].decode("utf-8")
        assert "\r" not in text and not text.startswith("\ufeff"), "bases use plain LF UTF-8 files"
        starts = line_starts(text)
        tokens = [_token(ref.language, text, char_offset(text, k.line, k.column, starts), k.key)
                  for k in extracted.keys]
        if ref.language in ("go", "python"):
            tokens = [_check_element(ref.language, text, t) for t in tokens]
        span = extracted.value_span
        assert span is not None
        span_chars = (char_offset(text, span.start_line, span.start_column, starts),
                      char_offset(text, span.end_line, span.end_column, starts))
        sides.append(Side(
            role="source" if index == 0 else f"mirror{index}", ref=ref, language=ref.language, path=path,
            text=text, keys=tuple(k.key for k in extracted.keys), tokens=tokens, span=span_chars,
            def_line=extracted.definition.line if extracted.definition else span.start_line,
            allowances=tuple((a.kind, a.key) for a in extracted.allowances), relation=relation))
    assert len({s.path for s in sides}) == len(sides), "each list lives in its own file"
    return Base(name, root, files, contract.name, sides[0], sides[1:])


def _token(language: str, text: str, off: int, key: str) -> Token:
    if language == "go":
        return _go_token(text, off, key)
    if language == "python":
        return _python_token(text, off, key)
    return _shell_token(text, off, key)


def _go_token(text: str, off: int, key: str) -> Token:
    ch = text[off]
    if ch in '"`':
        end = _skip_go_string(text, off)
        inner = (off + 1, end - 1)
        return Token(key, off, end, "literal" if text[inner[0]:inner[1]] == key else "other", inner)
    match = _IDENT.match(text, off)
    if match:
        return Token(key, off, match.end(), "ident")
    return Token(key, off, off, "other")


def _significant(language: str, text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of the code lexemes of a Go or Python file (comments and blanks skipped)."""
    if language == "python":
        skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
        return [(s, e, string) for typ, string, s, e in _python_tokens(text) if typ not in skip]
    return _go_lexemes(text)


@functools.lru_cache(maxsize=64)
def _go_lexemes(text: str) -> list[tuple[int, int, str]]:
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif c in "\"`'":
            end = _skip_go_string(text, i)
            out.append((i, end, text[i:end]))
            i = end
        elif c.isalnum() or c == "_":
            match = re.compile(r"\w+").match(text, i)
            assert match
            out.append((i, match.end(), match.group()))
            i = match.end()
        else:
            out.append((i, i + 1, c))
            i += 1
    return out


def _check_element(language: str, text: str, token: Token) -> Token:
    """Mark whether the token begins its list element and is the whole element (else: kind "other")."""
    lexemes = _significant(language, text)
    before = [lex for lex in lexemes if lex[1] <= token.start]
    openers = "{," if language == "go" else "([{,"
    starts = bool(before) and before[-1][2] in openers
    after = [lex for lex in lexemes if lex[0] >= token.end]
    whole = bool(after) and after[0][2] in (",", ":", "}", "]", ")") and starts
    kind = token.kind if whole or token.kind not in ("literal", "ident") else "other"
    return Token(token.key, token.start, token.end, kind, token.inner, token.sep, starts)


def _skip_go_string(text: str, i: int) -> int:
    """Index just past the Go string/rune literal starting at text[i]."""
    quote = text[i]
    j = i + 1
    if quote == "`":
        return text.index("`", j) + 1
    while text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


@functools.lru_cache(maxsize=64)
def _python_tokens(text: str) -> list[tuple[int, str, int, int]]:
    """(type, string, start offset, end offset) of every Python token."""
    starts = line_starts(text)
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.ENDMARKER:
            break
        (sl, sc), (el, ec) = tok.start, tok.end
        out.append((tok.type, tok.string, starts[sl - 1] + sc, starts[el - 1] + ec if el <= len(starts) else len(text)))
    return out


_PY_STRING = re.compile(r"([rRuU]?)('''|\"\"\"|'|\")")


def _python_token(text: str, off: int, key: str) -> Token:
    for typ, string, start, end in _python_tokens(text):
        if start == off and typ == tokenize.NAME:
            return Token(key, start, end, "ident")
        if start == off and typ == tokenize.STRING:
            match = _PY_STRING.match(string)
            if match:
                inner = (start + match.end(), end - len(match.group(2)))
                kind = "literal" if text[inner[0]:inner[1]] == key else "other"
                return Token(key, start, end, kind, inner)
            return Token(key, start, end, "other")
        if typ == tokenize.STRING and start < off < end and text.startswith(key, off):
            after = text[off + len(key):off + len(key) + 1]
            before = text[off - 1]
            sep = "," if "," in (after, before) else " "
            return Token(key, off, off + len(key), "word", (off, off + len(key)), sep)
    return Token(key, off, off, "other")


def _shell_token(text: str, off: int, key: str) -> Token:
    if text.startswith(key, off):
        return Token(key, off, off + len(key), "word", (off, off + len(key)))
    if text[off] in "\"'" and text.startswith(key + text[off], off + 1):
        return Token(key, off, off + len(key) + 2, "quoted", (off + 1, off + 1 + len(key)))
    return Token(key, off, off, "other")


# ------------------------------------------------------------------------------------------ edits


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, Callable[[int], int]]:
    """Apply non-overlapping edits; return the text and a map from old to new offsets."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in zip(ordered, ordered[1:]):
        assert a.end <= b.start, "overlapping edits"
    out = text
    for edit in reversed(ordered):
        out = out[:edit.start] + edit.text + out[edit.end:]

    def mapper(offset: int) -> int:
        shift = 0
        for edit in ordered:
            if edit.end <= offset:
                shift += len(edit.text) - (edit.end - edit.start)
        return offset + shift

    return out, mapper


def _element_extent(side: Side, token: Token, container: bool = False) -> tuple[int, int, int | None] | None:
    """(start, end, comma offset or None) of the comma-separated element starting at the token.

    With container=True the scan runs on to the closing bracket of the enclosing display and
    returns its offset as `end` (the identity of the container).
    """
    if side.language == "go":
        return _go_element(side.text, token.start, container)
    if side.language == "python":
        return _python_element(side.text, token.start, container)
    return None


def _go_element(text: str, start: int, container: bool = False) -> tuple[int, int, int | None] | None:
    depth, i, last = 0, start, start
    while i < len(text):
        c = text[i]
        if c in "\"`'":
            i = _skip_go_string(text, i)
            last = i
            continue
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return (start, i, None) if container else (start, last, None)
            depth -= 1
        elif c == "," and depth == 0 and not container:
            return start, last, i
        if not c.isspace():
            last = i + 1
        i += 1
    return None


def _python_element(text: str, start: int, container: bool = False) -> tuple[int, int, int | None] | None:
    tokens = _python_tokens(text)
    index = next((i for i, t in enumerate(tokens) if t[2] == start), None)
    if index is None:
        return None
    depth, last = 0, start
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    for typ, string, s, e in tokens[index:]:
        if typ == tokenize.OP and string in "([{":
            depth += 1
        elif typ == tokenize.OP and string in ")]}":
            if depth == 0:
                return (start, s, None) if container else (start, last, None)
            depth -= 1
        elif typ == tokenize.OP and string == "," and depth == 0 and not container:
            return start, last, s
        if typ not in skip:
            last = e
    return None


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, len(text) if end == -1 else end


def _literal(language: str, key: str) -> str:
    return json.dumps(key) if language in ("go", "python") else key


def edit_drop(side: Side, token: Token) -> list[Edit] | None:
    text = side.text
    if token.kind in ("word", "quoted"):
        end = token.end
        if token.sep == ",":
            if text[end:end + 1] == ",":
                return [Edit(token.start, end + 1, "")]
            if text[token.start - 1] == ",":
                return [Edit(token.start - 1, end, "")]
            return [Edit(token.start, end, "")]
        while end < len(text) and text[end] in " \t":
            end += 1
        return [Edit(token.start, end, "")]
    if not token.starts_element:
        return None
    extent = _element_extent(side, token)
    if extent is None:
        return None
    start, end, comma = extent
    if comma is not None:
        cut_end = comma + 1
        while cut_end < len(text) and text[cut_end] in " \t":
            cut_end += 1
        line_start, _ = _line_bounds(text, start)
        if not text[line_start:start].strip() and (cut_end == len(text) or text[cut_end] == "\n"):
            return [Edit(line_start, min(cut_end + 1, len(text)), "")]
        return [Edit(start, cut_end, "")]
    k = start - 1
    while k >= 0 and text[k].isspace():
        k -= 1
    if k >= 0 and text[k] == ",":
        return [Edit(k, end, "")]
    return [Edit(start, end, "")]


def _new_element(side: Side, token: Token, key: str) -> str | None:
    """The element of `token` with its key replaced by `key` (comma languages)."""
    extent = _element_extent(side, token)
    if extent is None or token.kind not in ("literal", "ident"):
        return None
    start, end, _ = extent
    text = side.text
    return text[start:token.start] + _literal(side.language, key) + text[token.end:end]


def _insert_element(side: Side, before: Token, element: str) -> list[Edit] | None:
    text = side.text
    if not before.starts_element:
        return None
    extent = _element_extent(side, before)
    if extent is None:
        return None
    start, _, _ = extent
    line_start, _ = _line_bounds(text, start)
    indent = text[line_start:start]
    if not indent.strip():
        return [Edit(line_start, line_start, f"{indent}{element},\n")]
    return [Edit(start, start, f"{element}, ")]


def edit_add(side: Side, before: Token, key: str) -> list[Edit] | None:
    if before.kind in ("word", "quoted"):
        return [Edit(before.start, before.start, key + before.sep)]
    element = _new_element(side, before, key)
    return _insert_element(side, before, element) if element is not None else None


def edit_dup(side: Side, before: Token, original: Token) -> list[Edit] | None:
    """Repeat `original` before `before`: verbatim within one display, else as a literal of the same key."""
    if before.kind in ("word", "quoted"):
        return [Edit(before.start, before.start, original.key + before.sep)]
    if not (before.starts_element and original.starts_element):
        return None
    extent = _element_extent(side, original)
    if extent is None:
        return None
    start, end, _ = extent
    same = _element_extent(side, original, container=True) == _element_extent(side, before, container=True)
    element = side.text[start:end] if same else _new_element(side, before, original.key)
    return _insert_element(side, before, element) if element is not None else None


def edit_rename(side: Side, token: Token, new: str) -> list[Edit] | None:
    if token.kind in ("literal", "word", "quoted") and token.inner is not None:
        return [Edit(token.inner[0], token.inner[1], new)]
    if token.kind == "ident" and side.language in ("go", "python"):
        return [Edit(token.start, token.end, _literal(side.language, new))]
    return None


# ------------------------------------------------------------------------------------------ truth


@dataclass(frozen=True)
class Truth:
    """exact: the lists are known (strict: exit 2 is wrong); error: only exit 2 is right."""

    kind: str  # exact | error
    lists: dict[str, tuple[str, ...]] | None = None
    codes: frozenset[str] = frozenset()  # for error: one of these codes must be reported (empty: any DC1xx)
    strict: bool = True
    unordered: frozenset[str] = frozenset()  # roles whose multiplicity the oracle cannot see (sets)


@dataclass
class Mutant:
    base: str
    family: str
    kind: str
    role: str  # which list was targeted
    files: dict[str, bytes | None]  # changed files (None: delete)
    truth: Truth
    note: str


@dataclass(frozen=True)
class Expectation:
    exit: int
    missing: dict[str, frozenset[str]]  # by mirror path
    extra: dict[str, frozenset[str]]
    dups: dict[str, frozenset[str]]  # by path
    unused: int


def expectation(base: Base, lists: dict[str, tuple[str, ...]], unordered: frozenset[str] = frozenset()) -> Expectation:
    source = base.source
    src = set(lists[source.role])
    missing: dict[str, frozenset[str]] = {}
    extra: dict[str, frozenset[str]] = {}
    unused = 0
    for mirror in base.mirrors:
        mine = set(lists[mirror.role])
        miss = src - mine if mirror.relation != "subset" else set()
        ext = mine - src if mirror.relation != "superset" else set()
        for kind, key in mirror.allowances:
            target = miss if kind == "missing" else ext
            if key in target:
                target.discard(key)
            else:
                unused += 1
        missing[mirror.path] = frozenset(miss)
        extra[mirror.path] = frozenset(ext)
    dups = {s.path: frozenset(k for k, n in Counter(lists[s.role]).items() if n > 1)
            for s in base.sides if s.role not in unordered}
    drift = any(missing.values()) or any(extra.values()) or any(dups.values()) or unused
    return Expectation(1 if drift else 0, missing, extra, dups, unused)


@dataclass
class Observed:
    """What a check run said, from the in-process result or the CLI's JSON."""

    exit: int
    findings: list[tuple[str, str, str | None, str]]  # (code, path, key, message)
    missing: dict[str, frozenset[str]]
    extra: dict[str, frozenset[str]]
    error: str | None = None  # an exception that escaped, or a traceback

    @classmethod
    def from_result(cls, result: Any) -> "Observed":
        findings = [(f.code, f.path, f.key, f.message) for f in result.all_findings]
        missing: dict[str, frozenset[str]] = {}
        extra: dict[str, frozenset[str]] = {}
        for contract in result.contracts:
            for mirror in contract.mirrors:
                path = Path(mirror.spec.ref.path).as_posix()
                missing[path] = frozenset(mirror.missing)
                extra[path] = frozenset(mirror.extra)
        return cls(result.exit_code, findings, missing, extra)

    @classmethod
    def from_json(cls, code: int, data: dict[str, Any]) -> "Observed":
        findings = [(f["code"], f["path"], f.get("key"), f["message"]) for f in data["findings"]]
        missing: dict[str, frozenset[str]] = {}
        extra: dict[str, frozenset[str]] = {}
        for contract in data["contracts"]:
            for mirror in contract["mirrors"]:
                path = Path(mirror["path"]).as_posix()
                missing[path] = frozenset(mirror.get("missing") or ())
                extra[path] = frozenset(mirror.get("extra") or ())
        return cls(code, findings, missing, extra)


def judge(base: Base, mutant: Mutant, seen: Observed) -> str | None:
    """None when the run agrees with the ground truth, else what is wrong ("UNSAFE: ..." for a false 0)."""
    if seen.error:
        return f"CRASH: {seen.error}"
    if seen.exit not in (0, 1, 2):
        return f"exit code {seen.exit}"
    fatal = {code for code, *_ in seen.findings if code.startswith("DC1")}
    if seen.exit == 2 and not fatal:
        return "exit 2 without a DC1xx finding"
    truth = mutant.truth
    if truth.kind == "error":
        if seen.exit != 2:
            severity = "UNSAFE" if seen.exit == 0 else "WRONG"
            return f"{severity}: expected exit 2 ({'/'.join(sorted(truth.codes)) or 'DC1xx'}), got {seen.exit}"
        if truth.codes and not (fatal & truth.codes):
            return f"expected {'/'.join(sorted(truth.codes))}, got {sorted(fatal)}"
        return None
    assert truth.lists is not None
    want = expectation(base, truth.lists, truth.unordered)
    if seen.exit == 2:
        return None if not truth.strict else f"expected exit {want.exit}, got 2 ({sorted(fatal)})"
    if seen.exit != want.exit:
        severity = "UNSAFE" if seen.exit == 0 else "WRONG"
        return f"{severity}: expected exit {want.exit}, got {seen.exit}"
    if want.exit == 0:
        return None
    problems = []
    for path in want.missing:
        if seen.missing.get(path, frozenset()) != want.missing[path]:
            problems.append(f"missing in {path}: {sorted(seen.missing.get(path, ()))} != {sorted(want.missing[path])}")
        if seen.extra.get(path, frozenset()) != want.extra[path]:
            problems.append(f"extra in {path}: {sorted(seen.extra.get(path, ()))} != {sorted(want.extra[path])}")
    for path, keys in want.dups.items():
        got = frozenset(k for code, p, k, _ in seen.findings if code == "DC003" and Path(p).as_posix() == path)
        if got != keys:
            problems.append(f"DC003 in {path}: {sorted(got)} != {sorted(keys)}")
    unused = sum(1 for code, *_ in seen.findings if code == "DC004")
    if unused != want.unused:
        problems.append(f"DC004 count {unused} != {want.unused}")
    return "; ".join(problems) or None


# ------------------------------------------------------------------------------------------ generation


FAMILIES = ("keys", "scope", "syntax", "encoding", "layout")
PYTHON_WEIGHT = 0.6


class Discard(Exception):
    """This random draw does not make a usable mutant (counted, then redrawn)."""


@dataclass
class Generator:
    bases: list[Base]
    oracles: Oracles
    rng: random.Random
    discarded: Counter[str] = field(default_factory=Counter)

    # -- helpers

    def new_key(self, base: Base, avoid: set[str]) -> str:
        pool = [k for k in NEW_KEYS if k not in avoid]
        if pool and self.rng.random() < 0.6:
            return self.rng.choice(pool)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
        while True:
            key = self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + "".join(
                self.rng.choice(alphabet) for _ in range(self.rng.randint(2, 24)))
            if key not in avoid:
                return key

    def renamed(self, key: str, avoid: set[str]) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
        for _ in range(100):
            i = self.rng.randrange(len(key))
            new = key[:i] + self.rng.choice(alphabet.replace(key[i], "")) + key[i + 1:]
            if new not in avoid:
                return new
        raise Discard("rename")

    def mutate_file(self, base: Base, side: Side, new_text: str | bytes) -> dict[str, bytes | None]:
        data = new_text if isinstance(new_text, bytes) else new_text.encode("utf-8", "surrogateescape")
        return {side.path: data}

    def oracle(self, base: Base, side: Side, new_text: str, stmt_end: int | None, workdir: Path) -> OracleList | None:
        """The real language's view of `side`'s list in `new_text` (None: no oracle for this language)."""
        if side.language == "python":
            return self.oracles.python_list(new_text, side.symbol)
        if side.language == "shell":
            path = workdir / "syntax.sh"
            path.write_bytes(new_text.encode("utf-8", "surrogateescape"))
            if not self.oracles.bash_syntax_ok(path):
                return OracleList(None, "syntax")
            end = len(new_text) if stmt_end is None else stmt_end
            line_end = new_text.find("\n", end)
            prefix = new_text if line_end == -1 else new_text[:line_end + 1]
            return self.oracles.bash_list(prefix, side.symbol)
        if self.oracles.go_binary is None:
            return None
        pkg = workdir / "gopkg"
        if pkg.exists():
            shutil.rmtree(pkg)
        directory = Path(side.path).parent.as_posix()
        for rel, data in base.files.items():
            if rel.endswith(".go") and Path(rel).parent.as_posix() == directory:
                target = pkg / Path(rel).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        main = pkg / Path(side.path).name
        main.write_bytes(new_text.encode("utf-8", "surrogateescape"))
        return self.oracles.go_list(main, side.symbol)

    def truth_from_oracle(self, base: Base, side: Side, found: OracleList | None, strict: bool) -> Truth:
        if found is None:
            raise Discard("no oracle")
        if found.keys is None:
            if found.why == "failed":
                raise Discard("the language fails at run time")  # not a statement about the list
            return Truth("error")
        lists = dict(base.lists)
        lists[side.role] = found.keys
        unordered = frozenset() if found.ordered else frozenset({side.role})
        return Truth("exact", lists, strict=strict, unordered=unordered)

    # -- families

    def generate(self, family: str, workdir: Path) -> Mutant:
        for _ in range(200):
            base = self.rng.choice(self.bases)
            # A fresh libcst parse costs ~0.1 s, a Go/bash one ~1 ms: Python lists get fewer mutants.
            weights = [PYTHON_WEIGHT if s.language == "python" else 1.0 for s in base.sides]
            side = self.rng.choices(base.sides, weights)[0]
            try:
                return getattr(self, f"_{family}")(base, side, workdir)
            except Discard as why:
                self.discarded[f"{family}:{why}"] += 1
        raise RuntimeError(f"could not generate a {family} mutant")

    def _keys(self, base: Base, side: Side, workdir: Path) -> Mutant:
        kind = self.rng.choice(("drop", "add", "rename", "dup"))
        keys = list(side.keys)
        tokens = side.tokens
        i = self.rng.randrange(len(tokens))
        token = tokens[i]
        everything = {k for s in base.sides for k in s.keys} | {k for s in base.sides for _, k in s.allowances}
        if kind == "drop":
            edits = edit_drop(side, token)
            keys.pop(i)
            note = f"drop {token.key}"
        elif kind == "add":
            restorable = sorted({k for s in base.sides for k in s.keys} - set(side.keys))
            key = (self.rng.choice(restorable) if restorable and self.rng.random() < 0.3
                   else self.new_key(base, everything))
            edits = edit_add(side, token, key)
            keys.insert(i, key)
            note = f"add {key} before {token.key}"
        elif kind == "rename":
            new = self.renamed(token.key, everything)
            edits = edit_rename(side, token, new)
            keys[i] = new
            note = f"rename {token.key} -> {new}"
        else:
            original = tokens[self.rng.randrange(len(tokens))]
            edits = edit_dup(side, token, original)
            keys.insert(i, original.key)
            note = f"duplicate {original.key} before {token.key}"
        if edits is None:
            raise Discard(f"{kind} on a {token.kind} token")
        new_text, mapper = apply_edits(side.text, edits)
        found = self.oracle(base, side, new_text, mapper(side.oracle_end), workdir)
        lists = dict(base.lists)
        lists[side.role] = tuple(keys)
        if found is not None:
            want = tuple(keys)
            agrees = (found.keys == want if found.ordered else
                      found.keys is not None and set(found.keys) == set(want))
            assert agrees, (f"generator bug: {base.name} {side.path} {note}: the language says {found}, "
                            f"intended {want}")
        return Mutant(base.name, "keys", kind, side.role, self.mutate_file(base, side, new_text),
                      Truth("exact", lists), f"{side.path}: {note}")

    def _scope(self, base: Base, side: Side, workdir: Path) -> Mutant:
        """Move the definition into a block, change it afterwards, define it twice, or touch it harmlessly."""
        text = side.text
        lines = text.split("\n")
        first, last = side.def_line, text.count("\n", 0, side.span[1]) + 1  # 1-based, inclusive
        block = lines[first - 1:last]
        kind = self.rng.choice(("conditional", "mutated", "redefined", "harmless", "append"))
        symbol, language = side.symbol, side.language
        value = text[side.span[0]:side.span[1]]
        key = self.rng.choice(side.keys)
        fake = self.new_key(base, {k for s in base.sides for k in s.keys})
        extra_files: dict[str, bytes | None] = {}
        truth: Truth | None = None
        if kind == "conditional":
            if language == "shell":
                opener, closer = self.rng.choice([
                    ("if true; then", "fi"), ("if false; then :; else", "fi"), ("for _ in 1; do", "done"),
                    ("while :; do", "break; done"), ("case x in x)", ";; esac"), ("(", ")"), ("f() {", "}"),
                    ("true && {", "}")])
                new_lines = lines[:first - 1] + [opener, *block, closer] + lines[last:]
                codes = frozenset({"DC103"})
            elif language == "python":
                opener, closer = self.rng.choice([
                    ("if True:", ""), ("try:", "except Exception:\n    pass"), ("for _ in (1,):", ""),
                    ("while True:", "    break"), ("with open(__file__):", ""), ("def _f():", ""),
                    ("class _C:", ""), ("if __name__ != '__main__':", "")])
                body = [("    " + line) if line.strip() else line for line in block]
                new_lines = lines[:first - 1] + [opener, *body] + ([closer] if closer else []) + lines[last:]
                codes = frozenset({"DC103"})
            else:
                if not block[0].startswith("var "):
                    raise Discard("grouped var")
                new_lines = lines[:first - 1] + ["func init() {", *block, f"\t_ = {symbol}", "}"] + lines[last:]
                codes = frozenset({"DC100"})  # a local variable now: no package-level definition
        else:
            if kind == "mutated":
                codes = frozenset({"DC104"})
                if language == "shell":
                    stmt = self.rng.choice([f"unset {symbol}", f"unset -v {symbol}"])
                elif language == "python":
                    stmt = self.rng.choice([
                        f"{symbol}.append({key!r})", f"{symbol}.add({key!r})", f"{symbol}.clear()",
                        f"{symbol}.discard({key!r})", f"{symbol}.update([{key!r}])", f"del {symbol}",
                        f"def _grow():\n    global {symbol}\n    {symbol} = []"])
                elif "map[" in value:
                    stmt = self.rng.choice([f'func init() {{ delete({symbol}, "{key}") }}',
                                            f'func init() {{ {symbol}["{fake}"] = {symbol}["{key}"] }}',
                                            f"func init() {{ clear({symbol}) }}"])
                else:
                    stmt = self.rng.choice([f'func init() {{ {symbol} = append({symbol}, "{fake}") }}',
                                            f'func init() {{ {symbol}[0] = "{fake}" }}',
                                            f"func init() {{ {symbol} = nil }}"])
            elif kind == "redefined":
                codes = frozenset({"DC103"})
                if language == "shell":
                    stmt = self.rng.choice([f'{symbol}="{key}"', f"declare {symbol}=", f"export {symbol}=x",
                                            f"readonly {symbol}={key}"])
                elif language == "python":
                    stmt = self.rng.choice([f"{symbol} = []", f"{symbol}: list[str] = [{key!r}]",
                                            f"{symbol} = {symbol}"])
                else:
                    package = re.search(r"^package (\w+)", text, re.M)
                    assert package
                    sibling = (Path(side.path).parent / "secrets_extra.go").as_posix()
                    extra_files[sibling] = (f"//go:build extra\n\npackage {package.group(1)}\n\n"
                                            f'var {symbol} = []string{{"{key}"}}\n').encode()
                    stmt = None
            elif kind == "harmless":
                if language == "shell":
                    stmt = self.rng.choice([f'# {symbol}="{fake}"', f'{symbol}="${symbol} {fake}" env >/dev/null',
                                            f'echo "{symbol}={fake}" >/dev/null'])
                elif language == "python":
                    stmt = self.rng.choice([
                        f"# {symbol}.append({fake!r})",
                        f"def _local():\n    {symbol} = []\n    {symbol}.append({fake!r})\n    return {symbol}",
                        f"_OTHER = [{fake!r}]\n_OTHER.append({fake!r})",
                        f"print({fake!r} in {symbol}) if False else None"])
                else:
                    stmt = self.rng.choice([f'// {symbol}["{fake}"] = struct{{}}{{}}',
                                            f"func _local() {{ {symbol} := map[string]int{{}}; "
                                            f'{symbol}["{fake}"] = 1 }}',
                                            f"var _ = len({symbol})"])
                truth = Truth("exact", dict(base.lists))
            else:  # append: the supported accumulation (bash +=, Python += / |=); Go has none
                if language == "shell":
                    stmt = f"{symbol}+=({fake})" if value.startswith("(") else f'{symbol}+=" {fake}"'
                elif language == "python":
                    stmt = f"{symbol} += [{fake!r}]" if value.startswith("[") else f"{symbol} |= {{{fake!r}}}"
                else:
                    raise Discard("go has no supported append")
            new_lines = lines[:last] + ([stmt] if stmt is not None else []) + lines[last:]
        new_text = "\n".join(new_lines)
        if kind == "append":
            insert_at = len("\n".join(lines[:last]))
            shift = len(stmt) + 1
            end = side.oracle_end
            stmt_end = max(insert_at + shift, end + shift if end >= insert_at else end)
            found = self.oracle(base, side, new_text, stmt_end, workdir)
            if found is None or found.keys is None or fake not in found.keys:
                raise Discard("append not accepted by the language")
            truth = self.truth_from_oracle(base, side, found, strict=True)
        elif not self.syntax_ok(side, new_text, workdir):
            raise Discard("the language rejects the wrapper")
        files = self.mutate_file(base, side, new_text)
        files.update(extra_files)
        if truth is None:
            truth = Truth("error", codes=codes)
        return Mutant(base.name, "scope", kind, side.role, files, truth, f"{side.path}: {kind}")

    def syntax_ok(self, side: Side, new_text: str, workdir: Path) -> bool:
        if side.language == "shell":
            path = workdir / "syntax.sh"
            path.write_text(new_text)
            return self.oracles.bash_syntax_ok(path)
        if side.language == "python":
            try:
                compile(new_text, "<mutant>", "exec")
            except SyntaxError:
                return False
            return True
        gofmt = shutil.which("gofmt")
        if gofmt is None:
            return True
        path = workdir / "syntax.go"
        path.write_text(new_text)
        self.oracles.calls["gofmt"] += 1
        return subprocess.run([gofmt, "-e", "-l", str(path)], capture_output=True).returncode == 0

    def _syntax(self, base: Base, side: Side, workdir: Path) -> Mutant:
        text = side.text
        lo, hi = side.span
        kind = self.rng.choice(("stray-token", "unbalanced", "drop-closer", "drop-comma"))
        if kind == "stray-token":
            stray = {"shell": ['"', "'", ")", "(", "}", "{", ";;", "fi", "done", "`", "$(", "|", "&&", "then",
                               "esac", "<<"],
                     "python": ['"', "'", ")", "(", "]", "[", "}", "{", ":", ",,", "=", "lambda", "\\", "def",
                                "`", "$", "'''"],
                     "go": ['"', "'", "`", ")", "(", "}", "{", "]", ":", ",,", "=", "func", "+", ";", "var"]
                     }[side.language]
            token = self.rng.choice(stray)
            at = self.rng.randint(lo, hi)
            edits = [Edit(at, at, token if self.rng.random() < 0.5 else f" {token} ")]
        elif kind == "unbalanced":
            opener = self.rng.choice(['"', "'", "(", "[", "{", "`"])
            at = self.rng.randint(max(0, lo - 40), hi)
            edits = [Edit(at, at, opener)]
        elif kind == "drop-closer":
            edits = [Edit(hi - 1, hi, "")]
        else:
            commas = [m.start() for m in re.finditer(",", text[lo:hi])]
            if not commas:
                raise Discard("no comma")
            at = lo + self.rng.choice(commas)
            edits = [Edit(at, at + 1, "")]
        new_text, mapper = apply_edits(text, edits)
        found = self.oracle(base, side, new_text, mapper(side.oracle_end), workdir)
        if found is None:
            raise Discard("no oracle")
        truth = self.truth_from_oracle(base, side, found, strict=False)
        what = "rejected by the language" if found.keys is None else "still valid"
        return Mutant(base.name, "syntax", kind, side.role, self.mutate_file(base, side, new_text), truth,
                      f"{side.path}: {kind} {edits[0]!r} ({what})")

    def _encoding(self, base: Base, side: Side, workdir: Path) -> Mutant:
        data = side.text.encode("utf-8")
        kind = self.rng.choice(("invalid-utf8", "nul", "bom", "invalid-utf8-far"))
        token = self.rng.choice(side.tokens)
        at = len(side.text[:self.rng.randint(token.start, max(token.start, token.end))].encode("utf-8"))
        if kind == "invalid-utf8":
            bad = self.rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf5\x80\x80\x80", b"\x80"])
            new = data[:at] + bad + data[at:]
            truth = Truth("error", codes=frozenset({"DC105"}))
        elif kind == "invalid-utf8-far":
            new = data + b"\n# \xfe\n" if side.language != "go" else data + b"\n// \xfe\n"
            truth = Truth("error", codes=frozenset({"DC105"}))
        elif kind == "nul":
            new = data[:at] + b"\x00" + data[at:]
            truth = Truth("error", codes=frozenset({"DC105"}))
        else:
            new = b"\xef\xbb\xbf" + data
            truth = Truth("exact", dict(base.lists))
        return Mutant(base.name, "encoding", kind, side.role, {side.path: new}, truth,
                      f"{side.path}: {kind} at byte {at}")

    def _layout(self, base: Base, side: Side, workdir: Path) -> Mutant:
        text = side.text
        lo, hi = side.span
        kind = self.rng.choice(("crlf", "cr", "truncate", "truncate", "swap-quotes", "swap-quotes"))
        if kind in ("crlf", "cr"):
            eol = "\r\n" if kind == "crlf" else "\r"
            new_text = text.replace("\n", eol)
            end = side.oracle_end
            stmt_end = end + text.count("\n", 0, end) * (len(eol) - 1)
            note = kind
            if kind == "cr" and side.language == "shell":
                # bash only ends lines at \n: the whole file is one line; run all of it for the oracle.
                stmt_end = len(new_text)
        elif kind == "truncate":
            cut = self.rng.randint(0, hi - 1) if self.rng.random() < 0.7 else self.rng.randint(hi, len(text))
            new_text = text[:cut]
            if not new_text.strip():
                return Mutant(base.name, "layout", kind, side.role, {side.path: new_text.encode()},
                              Truth("error", codes=frozenset({"DC105"})), f"{side.path}: truncate at {cut} (empty)")
            stmt_end = min(side.oracle_end, cut)
            note = f"truncate at {cut}"
        else:
            value = text[lo:hi]
            pairs = {"go": [('"', "`"), ('"', "'")], "python": [('"', "'"), ('"', '"""'), ('"', "`")],
                     "shell": [('"', "'"), ("'", '"'), ('"', '$"'), ('"', "$'")]}[side.language]
            old, new = self.rng.choice(pairs)
            if old not in value:
                raise Discard("no such quote")
            if self.rng.random() < 0.5:
                positions = [m.start() for m in re.finditer(re.escape(old), value)]
                at = lo + self.rng.choice(positions)
                edits = [Edit(at, at + len(old), new)]
                note = f"swap one {old} -> {new}"
            else:
                edits = [Edit(lo + m.start(), lo + m.end(), new) for m in re.finditer(re.escape(old), value)]
                note = f"swap every {old} -> {new}"
            new_text, mapper = apply_edits(text, edits)
            stmt_end = mapper(side.oracle_end)
        found = self.oracle(base, side, new_text, stmt_end, workdir)
        if found is None:
            raise Discard("no oracle")
        # Go and Python treat these as the same program (exact answers required); in bash, CR line endings
        # and swapped quotes change the words (a \r or a backslash in a key), which may be refused (exit 2).
        strict = side.language != "shell"
        truth = self.truth_from_oracle(base, side, found, strict=strict)
        return Mutant(base.name, "layout", kind, side.role, self.mutate_file(base, side, new_text), truth,
                      f"{side.path}: {note}")


# ------------------------------------------------------------------------------------------ running


def materialize(base: Base, mutant: Mutant, root: Path) -> None:
    """Write base + mutant into `root` (an empty or previously used directory)."""
    if root.exists():
        shutil.rmtree(root)
    for rel, data in base.files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for rel, data in mutant.files.items():
        target = root / rel
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


class Workspace:
    """One directory per base, restored file by file after each mutant (cheaper than copying trees)."""

    def __init__(self, parent: Path, bases: list[Base]) -> None:
        self.roots: dict[str, Path] = {}
        self.bases = {b.name: b for b in bases}
        for base in bases:
            root = parent / base.name
            materialize(base, Mutant(base.name, "", "", "", {}, Truth("error"), ""), root)
            self.roots[base.name] = root

    def apply(self, mutant: Mutant) -> Path:
        root = self.roots[mutant.base]
        for rel, data in mutant.files.items():
            target = root / rel
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(data)
        return root

    def restore(self, mutant: Mutant) -> None:
        base = self.bases[mutant.base]
        root = self.roots[mutant.base]
        for rel in mutant.files:
            target = root / rel
            if rel in base.files:
                target.write_bytes(base.files[rel])
            else:
                target.unlink(missing_ok=True)


def save_reproducer(base: Base, mutant: Mutant, directory: Path) -> Path:
    """A self-contained copy of a failing mutant's repository, for the report."""
    directory.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix=f"{mutant.base}-{mutant.kind}-", dir=directory))
    materialize(base, mutant, target)
    (target / "MUTANT.txt").write_text(f"{mutant.family}/{mutant.kind}: {mutant.note}\n{mutant.truth}\n")
    return target


class WarmSources:
    """SourceFiles for one check run that reuses the parsed, *unchanged* files of earlier runs.

    driftcheck caches each file per run; a mutant changes one or two files, so the other
    files of its repository (already read and parsed, byte-identical) are handed over
    instead of being parsed again. Changed files are always read fresh.
    """

    def __init__(self) -> None:
        self.shared: dict[Path, Any] = {}

    def for_run(self, root: Path, changed: set[str]) -> Any:
        from driftcheck.sources import SourceFile, SourceFiles

        shared = self.shared
        changed_paths = {(root / rel).resolve() for rel in changed}

        class _Files(SourceFiles):
            def load(self, path: str | Path, display: str | None = None) -> Any:
                full = self.resolve(path)
                key = full.resolve()
                if key in changed_paths:
                    return super().load(path, display)
                if key not in shared:
                    loaded = super().load(path, display)
                    if not isinstance(loaded, SourceFile):
                        return loaded
                    shared[key] = loaded
                return shared[key]

        return _Files(root)
