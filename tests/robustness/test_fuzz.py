"""Crash-freedom fuzzing of the three extractors and of the configuration loader.

Two layers:

* in-process, with hypothesis (`derandomize=True`, so every run tries the same inputs):
  random bytes, random text, token soups in each language's vocabulary and random splices
  into real fixture files go through `driftcheck.languages.driver.extract_list`; random TOML-ish
  text and valid TOML with wrong types go through the configuration loader and the whole
  check. Nothing may escape as an exception; a list is None exactly when a fatal (exit 2)
  finding says why; every finding is one well-formed line.
* through the real CLI, in a child process with an address-space limit (RLIMIT_AS, 2 GiB),
  a CPU limit (RLIMIT_CPU, 20 s) and a 40 s wall-clock timeout (for runs that block):
  pathological inputs (deep nesting, 1 MB lines, 1 MB keys, 50 MB files, NUL bytes, CR/CRLF
  line endings, BOMs, truncation, deep TOML, special files). Each run must end with exit
  0/1/2, no traceback, no MemoryError, and on exit 2 print `path:line:col: CODE message`
  lines. Heavy inputs run alone so the limits measure them, not a neighbour.

DRIFTCHECK_FUZZ_EXAMPLES scales the hypothesis examples per strategy (default 250).
Run with `-s` to see the counts and the slowest/largest CLI runs.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.check import run_check
from driftcheck.config import CheckOptions, load_contracts
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList, ListRef
from driftcheck.report.text_format import finding_line
from driftcheck.rules import RULES
from driftcheck.sources import MAX_FILE_BYTES, SourceFiles

from .mutants import FIXTURES, KEYS

EXAMPLES = int(os.environ.get("DRIFTCHECK_FUZZ_EXAMPLES", "250"))
CPU_SECONDS = 20  # RLIMIT_CPU: a run that computes longer is killed with SIGXCPU
TIMEOUT = 40.0  # wall clock: catches runs that block without computing (e.g. on a FIFO)
MEMORY = 2 * 1024 ** 3  # RLIMIT_AS
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

COUNTS: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()  # what the fuzzed extractions ended with (coverage evidence)
FINDING_LINE = re.compile(r"^.+:\d+:\d+: DC\d{3} \S.*$")
SUMMARY_LINE = re.compile(r"^[A-Za-z0-9_.\-]+: (in sync|drift|could not decide)\b")

FILE_NAMES = {"go": "secrets.go", "shell": "harness.sh", "python": "byok.py"}
SYMBOLS = {"go": "platformManagedDirectLLMBypassKeys", "shell": "BYOK_STRIP_KEYS", "python": "STRIP_KEYS"}

# Vocabulary for token soups: enough of each grammar to reach the evaluators, not only the parsers.
_COMMON = ["\n", " ", "\t", "\r\n", "\r", "\\", "\\\n", '"', "'", "`", "(", ")", "[", "]", "{", "}", ",", ":",
           "=", "+", "+=", "|", "#", "$", "\x00", "\ufeff", "é", "\u2028", *KEYS[:5], "XAI_API_KEY"]
VOCABULARY = {
    "go": _COMMON + ["package handlers\n", "var ", "const ", "func ", "init", "()", "map[string]struct{}",
                     "map[string]bool", "[]string", "[...]string", "[3]string", "{}", "true", "false", "//", "/*",
                     "*/", "iota", "delete(", "append(", "var platformManagedDirectLLMBypassKeys = ",
                     "platformManagedDirectLLMBypassKeys", '"\\x41"', '"\\u00e9"', '"\\400"', '"\\q"', "`raw`",
                     "k1", "k1 = ", "\"A\" + ", "//go:build x\n", "import \"strings\"\n", "strings.ToUpper(", ";"],
    "shell": _COMMON + ["BYOK_STRIP_KEYS=", "BYOK_STRIP_KEYS+=", "BYOK_STRIP_KEYS", "declare -a ", "declare -ra ",
                        "readonly ", "export ", "local ", "unset ", "if true; then ", "fi", "for x in y; do ", "done",
                        "$(", "${", "$((", "))", "$'", "\\t", "\\x41", "<<EOF\n", "EOF\n", "&&", "||", ";", "f() {",
                        "case x in x) ", ";;", "esac", "*", "?", "~", "OTHER=", "$OTHER", "# driftcheck: ",
                        "allow-missing=", " -- reason"],
    "python": _COMMON + ["STRIP_KEYS = ", "STRIP_KEYS: list[str] = ", "STRIP_KEYS += ", "STRIP_KEYS |= ",
                         "STRIP_KEYS", ".append(", ".split()", ".split(\",\")", "frozenset(", "set(", "tuple(",
                         "list(", "if True:\n    ", "try:\n    ", "except Exception:\n    pass\n", "def f():\n    ",
                         "global STRIP_KEYS\n", "del ", "lambda: ", '"""', "'''", "f\"", "b\"", "r\"", "\\N{DASH}",
                         "OTHER = ", "OTHER", "import os\n", "from x import *\n", "# driftcheck: ", "    "],
}


def _fixture_texts(language: str) -> list[bytes]:
    suffix = {"go": ".go", "shell": ".sh", "python": ".py"}[language]
    return [p.read_bytes() for p in sorted(FIXTURES.glob(f"*/**/*{suffix}")) if "_templates" not in p.parts]


def check_extracted(extracted: ExtractedList, data: bytes) -> None:
    """The invariants of every extraction, whatever the input."""
    fatal = [f for f in extracted.findings if f.exit_code == 2]
    assert (extracted.keys is None) == bool(fatal), (extracted.keys, extracted.findings)
    lines = data.count(b"\n") + data.count(b"\r") + 2
    for finding in extracted.findings:
        assert finding.code in RULES
        assert finding.line >= 1 and finding.column >= 1, finding
        assert finding.line <= lines, finding
        assert finding.message and not re.search(r"[\r\n\x00]", finding.message), finding
        assert FINDING_LINE.match(finding_line(finding)), finding
    for key in extracted.keys or ():
        assert key.line >= 1 and key.column >= 1 and key.line <= lines, key


def _extract(directory: Path, language: str, data: bytes) -> ExtractedList:
    name = FILE_NAMES[language]
    (directory / name).write_bytes(data)
    ref = ListRef(f"{name}:{SYMBOLS[language]}", name, SYMBOLS[language], language)  # type: ignore[arg-type]
    return extract_list(ref, SourceFiles(directory))


def _soup(language: str) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(VOCABULARY[language]), max_size=120).map(lambda t: "".join(t).encode())


def _splice(language: str) -> st.SearchStrategy[bytes]:
    """A real fixture file with a random piece cut out and random tokens put in (often still parses)."""
    texts = _fixture_texts(language)

    @st.composite
    def build(draw: Callable[..., Any]) -> bytes:
        text = draw(st.sampled_from(texts))
        start = draw(st.integers(0, len(text)))
        length = draw(st.integers(0, 40))
        insert = "".join(draw(st.lists(st.sampled_from(VOCABULARY[language]), max_size=6)))
        return text[:start] + insert.encode() + text[start + length:]

    return build()


def _strategies(language: str) -> dict[str, st.SearchStrategy[bytes]]:
    return {
        "bytes": st.binary(max_size=3000),
        "text": st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")),
        "soup": _soup(language),
        "splice": _splice(language),
    }


def in_forked_child(body: Callable[[Callable[[bytes], None]], None], scratch: Path) -> None:
    """Run a hypothesis test body in a forked copy of this process.

    The extractors sit on C parsers (tree-sitter, libcst's native parser): a crash there
    would kill pytest itself. The child has the same interpreter state (still in-process
    fuzzing, no re-import); a failure comes back as its traceback, a crash as the signal
    plus the input that was being processed. `body` gets `note(data)`, to call before
    each extraction. Counters are merged back.
    """
    import pickle
    import traceback

    last_input = scratch / "last-input.bin"
    result = scratch / "result.pickle"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        COUNTS.clear()  # the parent adds what this child counted
        OUTCOMES.clear()
        try:
            def note(data: bytes) -> None:
                last_input.write_bytes(data)

            body(note)
            outcome: Any = ("ok", None)
        except BaseException:  # noqa: BLE001 - reported to the parent
            outcome = ("failed", traceback.format_exc())
        try:
            result.write_bytes(pickle.dumps((outcome, dict(COUNTS), dict(OUTCOMES))))
        except BaseException:  # noqa: BLE001
            status = 3
        os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(wait_status):
        data = last_input.read_bytes() if last_input.exists() else b""
        kept = scratch / "crash-input.bin"
        kept.write_bytes(data)
        raise AssertionError(f"the extractor crashed the process with signal {os.WTERMSIG(wait_status)} on "
                             f"{len(data)} bytes {data[:300]!r} (saved as {kept})")
    (kind, text), counts, outcomes = pickle.loads(result.read_bytes())
    COUNTS.update(counts)
    OUTCOMES.update(outcomes)
    if kind != "ok":
        raise AssertionError(f"in the forked fuzzing process:\n{text}")


@pytest.mark.parametrize("strategy", ["bytes", "text", "soup", "splice"])
@pytest.mark.parametrize("language", ["go", "shell", "python"])
def test_extractor_never_raises(language: str, strategy: str, tmp_path: Path) -> None:
    scratch = tmp_path  # reused by every example (the file is overwritten)
    # A Python fixture-sized file costs ~0.1 s to analyse (libcst metadata); the others ~1 ms.
    examples = max(10, EXAMPLES // 3) if (language, strategy) == ("python", "splice") else EXAMPLES

    def body(note: Callable[[bytes], None]) -> None:
        @settings(FUZZ, max_examples=examples)
        @given(data=_strategies(language)[strategy])
        def run(data: bytes) -> None:
            COUNTS[f"extract/{language}/{strategy}"] += 1
            note(data)
            extracted = _extract(scratch, language, data)
            check_extracted(extracted, data)
            fatal = sorted({f.code for f in extracted.findings if f.exit_code == 2})
            OUTCOMES[f"{language}/{strategy}:" + ("keys" if extracted.keys is not None else "/".join(fatal))] += 1

        run()

    in_forked_child(body, scratch)


@pytest.mark.parametrize("language, text", [
    pytest.param("go", 'package p\n\n// driftcheck: allow-missing=B\nvar L = []string{"A", "B"}\n', id="go"),
    pytest.param("shell", '# driftcheck: allow-missing=B\nX="A B"\n', id="shell"),
    pytest.param("python", '# driftcheck: allow-missing=B\nX = ["A", "B"]\n', id="python"),
])
def test_pragma_without_reason_is_fatal_alike(language: str, text: str, tmp_path: Path) -> None:
    """A DC106 pragma is an exit-2 finding, so the list is None in every language (fuzzing found them differ)."""
    name = {"go": "p.go", "shell": "p.sh", "python": "p.py"}[language]
    symbol = "L" if language == "go" else "X"
    (tmp_path / name).write_text(text)
    extracted = extract_list(ListRef(f"{name}:{symbol}", name, symbol, language), SourceFiles(tmp_path))
    assert [f.code for f in extracted.findings] == ["DC106"]
    check_extracted(extracted, text.encode())


# ------------------------------------------------------------------------------------------ configuration


_REFS = ["workspace-server/internal/handlers/secrets.go:platformManagedDirectLLMBypassKeys",
         "tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEYS", "tests/e2e/helpers/byok.py:STRIP_KEYS",
         "missing.sh:X", "tests:X", "a:b:c", ":X", "x.go:", "x.go:1bad", "x.txt:X", "/dev/null:X",
         "../outside.sh:X", "tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEY", "", " ", "é.py:É"]
_CONTRACT_KEYS = ["name", "source", "mirrors", "relation", "order", "allow", "ref", "language", "missing", "extra",
                  "bogus", "contract", "tool", "driftcheck"]
_toml_scalars = st.one_of(st.sampled_from(_REFS), st.text(max_size=20), st.integers(-2 ** 63, 2 ** 63 - 1),
                          st.floats(allow_nan=False), st.booleans(),
                          st.sampled_from(["equal", "subset", "superset", "same", "any", "go", "shell", "python"]))
_toml_values = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(_CONTRACT_KEYS), st.sampled_from(KEYS),
                                                      st.text(min_size=1, max_size=8)), inner, max_size=4)),
    max_leaves=12)
_contract = st.dictionaries(st.sampled_from(_CONTRACT_KEYS), _toml_values, max_size=6)
_config_tables = st.one_of(
    st.fixed_dictionaries({"contract": st.lists(_contract, max_size=3)}),
    st.dictionaries(st.sampled_from(_CONTRACT_KEYS), _toml_values, max_size=3),
)
_TOML_SOUP = ["[[contract]]\n", "[contract]\n", "[contract.allow]\n", "[contract.allow.missing]\n",
              "[tool.driftcheck]\n", "[[tool.driftcheck.contract]]\n", "name = ", "source = ", "mirrors = ",
              "relation = ", "order = ", "allow = ", "missing.", "extra.", '"', "'", "'''", '"""', "[", "]", "{",
              "}", ",", "=", ".", "\n", " ", "#", "1", "1.5", "true", "1979-05-27", "\\u00e9", "\\", "\x00", "\r",
              "\ufeff", *(f'"{r}"' for r in _REFS[:4]), "MINIMAX_API_KEY = ", '"reason"']


def _dump_toml(value: Any) -> str:
    import tomlkit

    return tomlkit.dumps(value)


def _config_root(root: Path) -> Path:
    """A copy of the in-sync fixture with a Python mirror, so valid references resolve."""
    source = FIXTURES / "py-list"
    for path in source.rglob("*"):
        if path.is_file() and path.name != "driftcheck.toml":
            target = root / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return root


def check_config_run(root: Path) -> None:
    contracts, findings = load_contracts(CheckOptions(root=root))
    assert not (findings and contracts), (contracts, findings)
    for finding in findings:
        assert finding.code == "DC106" and finding.line >= 1 and finding.column >= 1, finding
        assert not re.search(r"[\r\n\x00]", finding.message), finding
        assert FINDING_LINE.match(finding_line(finding)), finding
    result = run_check(CheckOptions(root=root))
    assert result.exit_code in (0, 1, 2)
    if findings:
        assert result.exit_code == 2


@pytest.mark.parametrize("strategy", ["text", "soup", "valid-toml", "pyproject"])
def test_configuration_never_raises(strategy: str, tmp_path: Path) -> None:
    root = _config_root(tmp_path)
    name = "pyproject.toml" if strategy == "pyproject" else "driftcheck.toml"
    strategies: dict[str, st.SearchStrategy[bytes]] = {
        "text": st.text(max_size=600).map(lambda s: s.encode("utf-8", "surrogatepass")),
        "soup": st.lists(st.sampled_from(_TOML_SOUP), max_size=60).map(lambda t: "".join(t).encode()),
        "valid-toml": _config_tables.map(lambda t: _dump_toml(t).encode()),
        "pyproject": _config_tables.map(lambda t: _dump_toml({"tool": {"driftcheck": t}}).encode()),
    }

    def body(note: Callable[[bytes], None]) -> None:
        @FUZZ
        @given(data=strategies[strategy])
        def run(data: bytes) -> None:
            COUNTS[f"config/{strategy}"] += 1
            note(data)
            (root / name).write_bytes(data)
            check_config_run(root)

        run()

    in_forked_child(body, root)


# ------------------------------------------------------------------------------------------ CLI under limits


_LIMITED = (
    "import os, resource, sys\n"
    "memory, cpu = int(sys.argv[1]), int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (memory, memory))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'driftcheck', *sys.argv[3:]])\n"
)
_SIGNALS = {-9: "killed at the wall-clock timeout", -11: "segmentation fault (SIGSEGV)",
            -24: f"CPU limit of {CPU_SECONDS}s exceeded (SIGXCPU)", -6: "aborted (SIGABRT)"}


@dataclass
class LimitedRun:
    code: int | None  # None: killed at the timeout
    out: str
    err: str
    seconds: float
    cpu_seconds: float
    max_rss_kb: int

    def describe(self) -> str:
        how = "timeout" if self.code is None else _SIGNALS.get(self.code, f"exit {self.code}")
        return f"{how} after {self.seconds:.1f}s wall, {self.cpu_seconds:.1f}s CPU, {self.max_rss_kb // 1024} MiB peak"


def run_limited(args: list[str], cwd: Path, timeout: float = TIMEOUT, memory: int = MEMORY,
                cpu: int = CPU_SECONDS) -> LimitedRun:
    """`python -m driftcheck ARGS` under RLIMIT_AS/RLIMIT_CPU and a wall-clock timeout; per-process rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _LIMITED, str(memory), str(cpu), *args], cwd=cwd, stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
        code: int | None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                code = None
                break
            time.sleep(0.005)
        proc.returncode = -1 if code is None else code  # reaped here; Popen must not wait again
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return LimitedRun(code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                          seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@dataclass
class Case:
    name: str
    # relative path -> content: bytes, str, a callable making one (big inputs are built when run), or
    # "@fifo", "@dir", "@loop", "@sparse:N" for special files
    files: dict[str, Any]
    args: list[str] = field(default_factory=lambda: ["check"])
    expect_exit: tuple[int, ...] = (0, 1, 2)
    expect_code: str | None = None
    extract: bool = False  # findings on stderr (driftcheck extract) instead of stdout
    heavy: bool = False  # run alone, so the time limit measures this input and not a neighbour
    repeat: int = 1  # for crashes that do not happen every time: every run must be clean


_GO_HEAD = "package handlers\n\n"
_SRC = "s.go:L"


def _go_list(keys: list[str], one_line: bool = True) -> str:
    sep = ", " if one_line else ",\n\t"
    return _GO_HEAD + "var L = []string{" + sep.join(f'"{k}"' for k in keys) + "}\n"


def _adhoc(mirror: str) -> list[str]:
    return ["check", "--source", _SRC, "--mirror", mirror]


def _cases() -> list[Case]:
    rng = random.Random("driftcheck-fuzz-cli")
    many = [f"K{i}_{rng.randrange(10 ** 6)}" for i in range(60000)]  # ~1 MB of keys on one line
    big_key = "K" * (1024 * 1024)
    deep = 10000
    in_sync_go = (FIXTURES / "in-sync/workspace-server/internal/handlers/secrets.go").read_bytes()
    in_sync_sh = (FIXTURES / "in-sync/tests/e2e/test_staging_full_saas.sh").read_bytes()
    py_list = (FIXTURES / "py-list/tests/e2e/helpers/byok.py").read_bytes()
    ab_go = _go_list(["A", "B"])
    cases = [
        # ---- random and damaged files, each language
        *(Case(f"{lang}-random-bytes-{i}", {"s.go": ab_go, name: rng.randbytes(rng.choice([10, 5000, 200000]))},
               _adhoc(f"{name}:X") if lang != "go" else ["check", "--source", "s2.go:L", "--mirror", "h.sh:X"])
          for i in range(2) for lang, name in [("shell", "h.sh"), ("python", "m.py"), ("go", "s2.go")]),
        Case("go-random-bytes-mirror", {"s2.go": rng.randbytes(3000), "h.sh": 'X="A B"\n'},
             ["check", "--source", "s2.go:L", "--mirror", "h.sh:X"], (2,)),
        Case("go-truncated", {"s.go": in_sync_go[:777], "h.sh": 'X="A B"\n'}, _adhoc("h.sh:X"), (2,), "DC101"),
        Case("sh-truncated", {"s.go": ab_go, "h.sh": in_sync_sh[:600]}, _adhoc("h.sh:BYOK_STRIP_KEYS"), (1, 2)),
        Case("py-truncated", {"s.go": ab_go, "m.py": py_list[:400]}, _adhoc("m.py:STRIP_KEYS"), (2,)),
        Case("go-nul", {"s.go": ab_go.replace('"B"', '"B\x00"'), "h.sh": 'X="A B"\n'}, _adhoc("h.sh:X"), (2,),
             "DC105"),
        Case("sh-invalid-utf8", {"s.go": ab_go, "h.sh": b'X="A B\xff"\n'}, _adhoc("h.sh:X"), (2,), "DC105"),
        # ---- BOMs and line endings
        Case("go-bom-crlf", {"s.go": b"\xef\xbb\xbf" + ab_go.replace("\n", "\r\n").encode(), "h.sh": 'X="A B"\n'},
             _adhoc("h.sh:X"), (0,)),
        Case("py-bom-crlf", {"s.go": ab_go, "m.py": b'\xef\xbb\xbfX = [\r\n "A",\r\n "B",\r\n]\r\n'},
             _adhoc("m.py:X"), (0,)),
        Case("py-cr-only", {"s.go": ab_go, "m.py": b'import os\rX = [\r "A",\r "B",\r]\r'}, _adhoc("m.py:X"), (0,)),
        Case("py-mixed-eol", {"s.go": ab_go, "m.py": b'import os\r\nX = [\r "A",\n "B",\r\n]\r'}, _adhoc("m.py:X"),
             (0,)),
        Case("sh-bom", {"s.go": ab_go, "h.sh": b'\xef\xbb\xbfX="A B"\n'}, _adhoc("h.sh:X"), (0,)),
        # bash reads one line: Y is '1<CR>X=A B<CR>' and X is never defined.
        Case("sh-cr-only", {"s.go": ab_go, "h.sh": b'Y=1\rX="A B"\r'}, _adhoc("h.sh:X"), (2,)),
        Case("go-cr-only", {"s.go": ab_go.replace("\n", "\r"), "h.sh": 'X="A B"\n'}, _adhoc("h.sh:X")),
        # ---- deep nesting (recursion)
        Case("go-deep-parens", {"s.go": _GO_HEAD + "var L = []string{" + "(" * deep + '"A"' + ")" * deep + "}\n",
                                "h.sh": 'X="A"\n'}, _adhoc("h.sh:X"), (0, 2)),
        Case("go-deep-braces", {"s.go": _GO_HEAD + "var L = []string{" + "{" * deep + "}" * deep + "}\n",
                                "h.sh": 'X="A"\n'}, _adhoc("h.sh:X"), (2,)),
        Case("go-deep-unclosed", {"s.go": _GO_HEAD + "var L = []string{" + "(" * deep, "h.sh": 'X="A"\n'},
             _adhoc("h.sh:X"), (2,), "DC101"),
        Case("go-long-concat", {"s.go": _GO_HEAD + 'var L = []string{"A"' + ' + ""' * 50000 + "}\n",
                                "h.sh": 'X="A"\n'}, _adhoc("h.sh:X"), (0, 2)),
        Case("go-const-chain", {"s.go": _GO_HEAD + "const c0 = \"A\"\n" + "".join(
            f"const c{i} = c{i - 1}\n" for i in range(1, 5000)) + "var L = []string{c4999}\n", "h.sh": 'X="A"\n'},
            _adhoc("h.sh:X"), (0, 2)),
        Case("sh-deep-subshell", {"s.go": ab_go, "h.sh": "(" * deep + 'X="A B"' + ")" * deep + "\n"},
             _adhoc("h.sh:X"), (2,)),
        Case("sh-deep-command-subst", {"s.go": ab_go, "h.sh": 'X="' + "$(" * 3000 + "echo" + ")" * 3000 + '"\n'},
             _adhoc("h.sh:X"), (2,)),
        Case("sh-deep-expansion", {"s.go": ab_go, "h.sh": "X=" + "${Y:-" * 3000 + "A B" + "}" * 3000 + "\n"},
             _adhoc("h.sh:X"), (2,)),
        Case("sh-deep-arith", {"s.go": ab_go, "h.sh": "X=$((" + "(" * 3000 + "1" + ")" * 3000 + "))\n"},
             _adhoc("h.sh:X"), (2,)),
        Case("sh-deep-if", {"s.go": ab_go, "h.sh": "if true; then\n" * 2000 + 'X="A B"\n' + "fi\n" * 2000},
             _adhoc("h.sh:X"), (2,), "DC103"),
        Case("py-deep-list", {"s.go": ab_go, "m.py": "X = " + "[" * deep + '"A"' + "]" * deep + "\n"},
             _adhoc("m.py:X"), (2,)),
        Case("py-deep-parens", {"s.go": ab_go, "m.py": "X = [" + "(" * deep + '"A"' + ")" * deep + ', "B"]\n'},
             _adhoc("m.py:X"), (0, 2)),
        Case("py-long-binop", {"s.go": ab_go, "m.py": 'X = ["A"]' + ' + ["B"]' * 20000 + "\n"},
             _adhoc("m.py:X"), (1, 2)),
        Case("py-str-bytes-concat", {"s.go": ab_go, "m.py": 'X = ["A" b"B"]\n'}, _adhoc("m.py:X"), (2,), "DC101"),
        # tree-sitter-bash reads out of bounds after `{` + a code point of planes 14-16 (crashes ~60% of runs)
        Case("sh-brace-plane16", {"s.go": ab_go, "h.sh": "{\U0010ffff"}, _adhoc("h.sh:X"), (2,), repeat=8),
        Case("sh-brace-plane15", {"s.go": ab_go, "h.sh": 'X="A B"\n{\U000f56d0\n'}, _adhoc("h.sh:X"), (2,), repeat=8),
        Case("py-deep-if", {"s.go": ab_go, "m.py": "".join("    " * i + "if True:\n" for i in range(90))
                            + "    " * 90 + 'X = ["A", "B"]\n'}, _adhoc("m.py:X"), (2,)),
        # ---- long lines and big keys (one extractor each, through `driftcheck extract`)
        Case("go-1mb-line", {"s.go": lambda: _go_list(many)}, ["extract", _SRC], (0,), extract=True, heavy=True),
        Case("sh-1mb-line", {"h.sh": lambda: 'X="' + " ".join(many) + '"\n'}, ["extract", "h.sh:X"], (0,),
             extract=True, heavy=True),
        Case("sh-1mb-array-line", {"h.sh": lambda: "X=(" + " ".join(many) + ")\n"}, ["extract", "h.sh:X"], (0,),
             extract=True, heavy=True),
        Case("py-1mb-line", {"m.py": lambda: "X = [" + ", ".join(f'"{k}"' for k in many) + "]\n"},
             ["extract", "m.py:X"], (0,), extract=True, heavy=True),
        Case("py-1mb-split", {"m.py": lambda: 'X = "' + " ".join(many) + '".split()\n'}, ["extract", "m.py:X"],
             (0,), extract=True, heavy=True),
        Case("go-1mb-key", {"s.go": lambda: _go_list([big_key])}, ["extract", _SRC], (0,), extract=True, heavy=True),
        Case("sh-1mb-key", {"h.sh": lambda: f"X=({big_key})\n"}, ["extract", "h.sh:X"], (0,), extract=True,
             heavy=True),
        Case("sh-60k-continuation-lines",
             {"s.go": lambda: _go_list(many), "h.sh": lambda: 'X="' + " \\\n".join(many) + '"\n'},
             _adhoc("h.sh:X"), (0,), heavy=True),
        # ---- sizes around the limit
        Case("go-50mb-sparse", {"s.go": f"@sparse:{50 * 1024 * 1024}", "h.sh": 'X="A"\n'}, _adhoc("h.sh:X"), (2,),
             "DC105"),
        Case("sh-50mb-text", {"s.go": ab_go, "h.sh": lambda: b'X="A B"\n' + b"# pad\n" * (50 * 1024 * 1024 // 6)},
             _adhoc("h.sh:X"), (2,), "DC105"),
        Case("go-exactly-limit", {"s.go": lambda: (ab_go + "//").ljust(MAX_FILE_BYTES - 1, "x") + "\n",
                                  "h.sh": 'X="A B"\n'},
             _adhoc("h.sh:X"), (0,)),
        Case("py-exactly-limit", {"s.go": ab_go,
                                  "m.py": lambda: ('X = ["A", "B"]\n#').ljust(MAX_FILE_BYTES - 1, "x") + "\n"},
             _adhoc("m.py:X"), (0,)),
        Case("sh-one-over-limit", {"s.go": ab_go, "h.sh": lambda: ('X="A B"\n#').ljust(MAX_FILE_BYTES + 1, "x")},
             _adhoc("h.sh:X"), (2,), "DC105"),
        # ---- special files
        Case("fifo-without-extension", {"s.go": ab_go, "h": "@fifo"}, _adhoc("h:X"), (2,)),
        Case("fifo-with-extension", {"s.go": ab_go, "h.sh": "@fifo"}, _adhoc("h.sh:X"), (2,), "DC105"),
        Case("directory-as-list", {"s.go": ab_go, "h.sh": "@dir"}, _adhoc("h.sh:X"), (2,), "DC105"),
        Case("symlink-loop", {"s.go": ab_go, "h.sh": "@loop"}, _adhoc("h.sh:X"), (2,), "DC105"),
        Case("extract-deep-python", {"m.py": "X = " + "{" * deep + "}" * deep + "\n"}, ["extract", "m.py:X"], (2,),
             extract=True),
        # ---- configuration
        Case("config-deep-array", {"driftcheck.toml": "a = " + "[" * 5000 + "]" * 5000 + "\n"}, ["check"], (2,),
             "DC106"),
        Case("config-deep-inline-table", {"driftcheck.toml": "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n"},
             ["check"], (2,), "DC106"),
        Case("config-nul", {"driftcheck.toml": b"[[contract]]\x00\n"}, ["check"], (2,), "DC106"),
        Case("config-invalid-utf8", {"driftcheck.toml": b'[[contract]]\nname = "\xff"\n'}, ["check"], (2,),
             "DC106"),
        Case("config-5mb", {"driftcheck.toml": lambda: "# x\n" * (5 * 1024 * 1024 // 4) + "[[contract]]\nname = 1\n"},
             ["check"], (2,), "DC106"),
        Case("config-wrong-types", {"driftcheck.toml": "contract = [1, 2.5, true]\n"}, ["check"], (2,), "DC106"),
        Case("pyproject-tool-not-table", {"pyproject.toml": "tool = 1\n"}, ["check"], (2,)),
        Case("pyproject-driftcheck-not-table", {"pyproject.toml": "[tool]\ndriftcheck = [1]\n"}, ["check"], (2,),
             "DC106"),
    ]
    return cases


CASES = _cases()
RESULTS: dict[str, LimitedRun] = {}


def _materialize(case: Case, root: Path) -> None:
    for rel, content in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content = content()
        if content == "@fifo":
            os.mkfifo(path)
        elif content == "@dir":
            path.mkdir()
        elif content == "@loop":
            path.symlink_to(path.name)
        elif isinstance(content, str) and content.startswith("@sparse:"):
            with open(path, "wb") as handle:
                handle.truncate(int(content.split(":", 1)[1]))
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)


@pytest.fixture(scope="module")
def limited_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, LimitedRun]]:
    """Every case, two at a time, each in its own directory."""
    base = tmp_path_factory.mktemp("limited")

    def one(case: Case) -> tuple[Case, LimitedRun]:
        root = base / case.name
        root.mkdir()
        _materialize(case, root)
        for _ in range(case.repeat):
            run = run_limited(case.args, root)
            if run.code not in (0, 1, 2) or "Traceback" in run.err:
                break
        return case, run

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(one, [c for c in CASES if not c.heavy]))
    runs += [one(c) for c in CASES if c.heavy]
    return {case.name: (case, run) for case, run in runs}


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_cli_survives_pathological_input(name: str, limited_runs: dict[str, tuple[Case, LimitedRun]]) -> None:
    case, run = limited_runs[name]
    COUNTS[f"cli/{name.split('-')[0]}"] += 1
    assert run.code is not None, f"{name}: still running after {TIMEOUT:.0f}s: {run.describe()}"
    both = run.out + run.err
    assert "Traceback" not in both and "MemoryError" not in both, f"{name}:\n{run.err[-2000:]}"
    assert run.code in (0, 1, 2), f"{name}: {run.describe()}\n{run.err[-500:]}"
    findings_text = run.err if case.extract else run.out
    lines = [line for line in findings_text.splitlines() if line]
    finding_lines = [line for line in lines if FINDING_LINE.match(line)]
    if not case.extract:
        strays = [line for line in lines if not FINDING_LINE.match(line) and not SUMMARY_LINE.match(line)]
        assert not strays, f"{name}: lines that are neither findings nor summaries: {strays[:3]}"
    if run.code == 2:
        assert any(re.search(r": DC1\d\d ", line) for line in finding_lines), f"{name}: exit 2 without a finding line"
    assert run.code in case.expect_exit, (f"{name}: exit {run.code}, expected {case.expect_exit}:\n"
                                          f"{findings_text[-600:]}")
    if case.expect_code:
        assert any(f": {case.expect_code} " in line for line in finding_lines), (name, finding_lines[:3])


def test_zz_report(limited_runs: dict[str, tuple[Case, LimitedRun]]) -> None:
    """Print what was tried and the worst time/memory of the CLI runs (run with -s)."""
    runs = [run for _, run in limited_runs.values()]
    finished = {name: pair for name, pair in limited_runs.items() if pair[1].code in (0, 1, 2)}
    slowest = max(finished.items(), key=lambda item: item[1][1].cpu_seconds)
    largest = max(finished.items(), key=lambda item: item[1][1].max_rss_kb)
    print(f"\n[robustness] fuzz inputs: {dict(sorted(COUNTS.items()))}")
    print(f"[robustness] extraction outcomes: {dict(sorted(OUTCOMES.items()))}")
    print(f"[robustness] fuzz inputs total: {sum(COUNTS.values())}; CLI runs under limits: {len(runs)}")
    print(f"[robustness] slowest finished CLI run: {slowest[0]} {slowest[1][1].cpu_seconds:.2f}s CPU "
          f"({slowest[1][1].seconds:.2f}s wall); largest: {largest[0]} {largest[1][1].max_rss_kb // 1024} MiB peak RSS "
          f"(limits: {CPU_SECONDS}s CPU, {TIMEOUT:.0f}s wall, RLIMIT_AS {MEMORY // 1024 ** 3} GiB)")
    for name, (_, run) in sorted(limited_runs.items()):
        if run.code not in (0, 1, 2):
            print(f"[robustness] did not finish cleanly: {name}: {run.describe()}")
    assert len(runs) == len(CASES)
