"""Differential: generated YAML documents, read by driftcheck and by the real YAML 1.2 loader (`yaml` npm).

Every generated list either reads to exactly what the loader gives (mapping keys in
order, sequence strings), or is refused, and a refusal must be one the backend
documents: the loader rejects the file (DC101), a key or element the loader does not
make a string, or a lone surrogate. Counts are printed with the test summary.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.sources import SourceFiles
from tests.languages.yaml.oracle import install, record

CASES = 600

# Map -> {"__map__": [[key, value], ...]} so key order and key types survive JSON.
ORDERED = r"""
const YAML = require('yaml');
const enc = v => v instanceof Map ? {__map__: [...v.entries()].map(([k, x]) => [enc(k), enc(x)])}
  : Array.isArray(v) ? v.map(enc) : v;
let src = '';
process.stdin.on('data', d => src += d);
process.stdin.on('end', () => {
  const out = JSON.parse(src).map(text => {
    try {
      const doc = YAML.parseDocument(text, {uniqueKeys: true});
      if (doc.errors.length) return {ok: false, error: doc.errors[0].message.split('\n')[0]};
      return {ok: true, value: enc(doc.toJS({mapAsMap: true}))};
    } catch (e) {
      return {ok: false, error: String(e.message || e).split('\n')[0]};
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""

WORDS = ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "on", "off", "yes", "no", "y", "n", "true", "True", "FALSE",
         "null", "Null", "~", "1", "-2", "+3", "0o17", "0x1F", "0b11", "1.5", ".5", "1e3", ".inf", "-.Inf", ".nan",
         "012", "1_000", "key with spaces", "a:b", "a#b", "x-y", "é", "😀", "@at", "%pc", "`bt"]


def _plain_word(rng: random.Random) -> str:
    word = rng.choice(WORDS)
    if word[0] in "@%`":
        return "K" + word
    return word


def scalar(rng: random.Random, indent: int, flow: bool) -> str:
    """One scalar in a random style (single line unless the style folds)."""
    style = rng.choice(["plain", "plain", "single", "double", "double", "fold-plain", "fold-single", "fold-double"])
    word = _plain_word(rng)
    pad = " " * (indent + 2)
    if style == "plain":
        if flow and any(c in word for c in ",[]{}"):
            return f"'{word}'"
        if ": " in word or " #" in word or word.startswith(("-", "?", ":")) and len(word) > 1 and word[1] == " ":
            return f"'{word}'"
        return word
    if style == "single":
        return "'" + word.replace("'", "''") + "''x'" if rng.random() < 0.2 else "'" + word + "'"
    if style == "double":
        escapes = ["\\t", "\\x41", "\\u00e9", "\\U0001F600", "\\ud83d\\ude00", "\\N", "\\_", "\\/", "\\\\", '\\"',
                   "\\0", "\\e", "\\ ", "\\L", "\\ud800"]
        return '"' + word + rng.choice(escapes) + word[:3] + '"'
    if style == "fold-plain":
        first, second = word, _plain_word(rng)
        if flow or not first[0].isalpha() or not second[0].isalpha():
            return f"'{first}'"
        return f"{first}\n{pad}{second}" + (f"\n\n{pad}{first}" if rng.random() < 0.3 else "")
    if style == "fold-single":
        return f"'{word}  \n{pad}  tail\n\n{pad}end'"
    return f'"{word} \\\n{pad}  joined\\t\n{pad}next  \n\n{pad}last"'


def block_scalar(rng: random.Random, indent: int) -> str:
    header = rng.choice(["|", ">", "|-", ">-", "|+", ">+", "|2", ">1-", "|1+"])
    explicit = next((int(c) for c in header if c.isdigit()), None)
    body_indent = indent + (explicit if explicit is not None else rng.choice([2, 4]))
    pad = " " * body_indent
    lines = [rng.choice(["alpha", "beta gamma", "  more indented", "", "delta"]) for _ in range(rng.randint(1, 4))]
    if not lines[0].strip() or lines[0].startswith(" ") and explicit is None:
        lines[0] = "first"
    text = "".join(f"{pad}{line}\n" if line else "\n" for line in lines)
    return f"{header}\n{text}" + ("\n" if rng.random() < 0.3 else "")


def collection(rng: random.Random) -> str:
    """`L:` then a mapping or a sequence in block or flow style."""
    kind = rng.choice(["block-map", "block-seq", "flow-map", "flow-seq", "block-seq-blocks", "explicit-keys"])
    n = rng.randint(1, 5)
    if kind == "block-map":
        body = "".join(f"  {_key(rng, 2)}: {rng.choice(['1', 'x', '', '[a]', 'null'])}\n" for _ in range(n))
        return "L:\n" + body
    if kind == "explicit-keys":
        return "L:\n" + "".join(f"  ? {scalar(rng, 2, False)}\n  : v\n" for _ in range(n))
    if kind == "block-seq":
        return "L:\n" + "".join(f"  - {scalar(rng, 2, False)}\n" for _ in range(n))
    if kind == "block-seq-blocks":
        return "L:\n" + "".join(f"  - {block_scalar(rng, 2)}" for _ in range(n))
    if kind == "flow-map":
        return "L: {" + ", ".join(f"{scalar(rng, 2, True)}: {rng.choice(['1', 'x', '[]'])}" for _ in range(n)) + "}\n"
    return "L: [" + ", ".join(scalar(rng, 2, True) for _ in range(n)) + "]\n"


def _key(rng: random.Random, indent: int) -> str:
    text = scalar(rng, indent, False)
    return text if "\n" not in text else f"'{_plain_word(rng)}'"


def document(rng: random.Random) -> str:
    parts = [rng.choice(["", "# header\n", "---\n", "name: x\n"]), collection(rng)]
    parts.append(rng.choice(["", "other: [1, 2]\n", "after:\n  k: v\n"]))
    text = "".join(parts)
    if rng.random() < 0.3:  # a random edit: often a file the loader rejects, sometimes one it reads differently
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(["[", "]", "{", '"', "'", "\t", ": ", " #", "\n ", "\n", "- ", "&a ", "*a",
                                       "!", "\\q", "? ", "|", ">", ","]) + text[at:]
    return text


@pytest.fixture(scope="module")
def node_modules() -> Path:
    modules, why = install()
    if modules is None:
        pytest.skip(why)
    return modules


def run_loader(modules: Path, texts: list[str]) -> list[dict[str, Any]]:
    import os
    import subprocess

    proc = subprocess.run(["node", "-e", ORDERED], input=json.dumps(texts), capture_output=True, text=True,
                          timeout=600, env={**os.environ, "NODE_PATH": str(modules)})
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    return result


def expected_keys(value: Any) -> tuple[list[str] | None, str]:
    """The keys the loader's value gives, or (None, why it holds something that is not a string)."""
    if isinstance(value, dict) and "__map__" in value:
        keys = [k for k, _ in value["__map__"]]
        if all(isinstance(k, str) for k in keys):
            return keys, ""
        return None, "non-string key"
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return value, ""
        return None, "non-string element"
    return None, "not a collection"


def test_generated_documents_read_as_the_yaml_1_2_loader_reads_them(tmp_path: Path, node_modules: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCHECK_NODE_PATH", str(node_modules))
    rng = random.Random(20261202)
    texts = [document(rng) for _ in range(CASES)]
    verdicts = run_loader(node_modules, texts)
    compared = refused = misparsed = 0
    failures: list[str] = []
    for index, (text, verdict) in enumerate(zip(texts, verdicts)):
        (tmp_path / "f.yaml").write_text(text, encoding="utf-8")
        got = extract_list(parse_list_ref("f.yaml:L", tmp_path), SourceFiles(tmp_path))
        codes = sorted({f.code for f in got.findings if f.exit_code == 2})
        if not verdict["ok"]:
            # keys withheld; the finding is DC101/DC103, or another refusal found first in the same file
            if got.keys is not None or not codes:
                failures.append(f"#{index}: the loader rejects ({verdict['error']}) but driftcheck gave "
                                f"{got.key_names if got.keys is not None else codes}\n{text}")
            refused += 1
            continue
        root = verdict["value"]
        entries = root["__map__"] if isinstance(root, dict) and "__map__" in root else []
        hits = [v for k, v in entries if k == "L"]
        want, why = expected_keys(hits[0]) if hits else (None, "no key L")
        if got.keys is None:
            misparse = any("tree-sitter-yaml cannot parse" in f.message for f in got.findings)
            misparsed += misparse
            documented = any(word in f.message for f in got.findings
                             for word in ("anchor", "alias", "the tag", "merge key", "directive", "surrogate"))
            allowed = want is None or misparse or documented
            if not allowed:
                failures.append(f"#{index}: refused {codes} {[f.message for f in got.findings][:1]} but the loader "
                                f"reads {want!r}\n{text}")
            refused += 1
            continue
        if want is None or list(got.key_names) != want and list(dict.fromkeys(got.key_names)) != want:
            failures.append(f"#{index}: driftcheck read {list(got.key_names)!r}, the loader {want!r} ({why})\n{text}")
        compared += 1
    record("yaml", compared, refused)
    assert not failures, f"{len(failures)} of {CASES} differ:\n\n" + "\n\n".join(failures[:8])
    assert compared > CASES // 3
