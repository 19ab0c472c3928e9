"""Differential: generated JSON files, read by driftcheck and by Python's `json`.

Each list either reads to exactly what `json` gives (object keys in order, array
strings) or is refused for a documented reason: `json` rejects the file (must be
DC101), a duplicate key anywhere (DC103), a value that is not a string, a lone
surrogate, or NaN/Infinity that tree-sitter-json cannot parse.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.sources import SourceFiles
from tests.languages.yaml.oracle import record

CASES = 1500
ESCAPES = ["\\n", "\\t", "\\/", "\\\\", '\\"', "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\b", "\\f", "\\r"]


def string(rng: random.Random) -> str:
    word = rng.choice(["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "k", "", "key with spaces", "é", "😀", "a.b", "1"])
    if rng.random() < 0.4:
        word += rng.choice(ESCAPES) + word[:2]
    return '"' + word + '"'


def value(rng: random.Random, depth: int) -> str:
    choice = rng.random()
    if depth > 2 or choice < 0.4:
        return rng.choice([string(rng), string(rng), "1", "-2.5e3", "true", "false", "null", "NaN", "Infinity"])
    ws = rng.choice(["", " ", "\n  ", "\t"])
    n = rng.randint(0, 4)
    if choice < 0.7:
        return "[" + ws + ("," + ws).join(value(rng, depth + 1) if rng.random() < 0.3 else string(rng)
                                          for _ in range(n)) + ws + "]"
    return "{" + ws + ("," + ws).join(f"{string(rng)}:{ws}{value(rng, depth + 1)}" for _ in range(n)) + ws + "}"


def document(rng: random.Random) -> str:
    inner = value(rng, 1) if rng.random() < 0.3 else rng.choice(["[", "{"]) + ", ".join(
        string(rng) for _ in range(rng.randint(0, 5))) + rng.choice(["]", "]"]) if rng.random() < 0.5 else value(rng, 1)
    if inner.startswith("{") and not inner.startswith("{}") and ":" not in inner.split(",")[0]:
        inner = "[" + inner[1:-1] + "]"
    text = '{\n  "other": [1, {"x": null}],\n  "L": ' + inner + "\n}\n"
    if rng.random() < 0.25:
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice([",", "]", "}", '"', "//c", "\\", ":", "\x01", "NaN", '"L": 1,']) + text[at:]
    return text


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise KeyError("duplicate")
    return {"__pairs__": pairs}  # type: ignore[dict-item]


def test_generated_files_read_as_python_json_reads_them(tmp_path: Path) -> None:
    rng = random.Random(1202)
    compared = refused = 0
    failures: list[str] = []
    for index in range(CASES):
        text = document(rng)
        (tmp_path / "f.json").write_text(text, encoding="utf-8")
        got = extract_list(parse_list_ref("f.json:L", tmp_path), SourceFiles(tmp_path))
        codes = {f.code for f in got.findings if f.exit_code == 2}
        try:
            json.loads(text)
        except ValueError:
            if got.keys is not None or "DC101" not in codes:
                failures.append(f"#{index}: json rejects it, driftcheck gave {got.key_names or codes}\n{text}")
            refused += 1
            continue
        try:
            loaded = json.loads(text, object_pairs_hook=_pairs)
        except KeyError:
            nan = "NaN" in text or "Infinity" in text  # tree-sitter-json refuses these first (DC102)
            if got.keys is not None or codes not in ([{"DC102"}, {"DC103"}] if nan else [{"DC103"}]):
                failures.append(f"#{index}: duplicate keys, driftcheck gave {got.key_names or codes}\n{text}")
            refused += 1
            continue
        hits = [v for k, v in loaded["__pairs__"] if k == "L"]
        target = hits[0] if hits else None
        if isinstance(target, dict):
            want = [k for k, _ in target["__pairs__"]]
        elif isinstance(target, list) and all(isinstance(v, str) for v in target):
            want = list(target)
        else:
            want = None
        lone = any("\ud800" <= c <= "\udfff" for k in (want or []) for c in k)
        if got.keys is None:
            nan = "NaN" in text or "Infinity" in text
            if want is not None and not lone and not nan:
                failures.append(f"#{index}: refused {sorted(codes)} but json reads {want!r}\n{text}")
            refused += 1
            continue
        if list(got.key_names) != want and list(dict.fromkeys(got.key_names)) != want:
            failures.append(f"#{index}: driftcheck read {list(got.key_names)!r}, json {want!r}\n{text}")
        compared += 1
    record("json", compared, refused)
    assert not failures, f"{len(failures)} of {CASES} differ:\n\n" + "\n\n".join(failures[:8])
    assert compared > CASES // 4
