"""Differential: generated dotenv files, read by driftcheck and by python-dotenv.

A file python-dotenv cannot parse a statement of must be DC101; names a shell would
read differently (bare names, quoted names, names that are not identifiers) and names
set twice are refused; every other file reads to exactly `dotenv_values`' names.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.sources import SourceFiles
from tests.languages.yaml.oracle import record

CASES = 1500
NAMES = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "PORT", "_X", "A1"]
SHAPES = [
    "{k}=", "{k}=value", "export {k}=v", "{k} = spaced", "{k}=\"double # not a comment\"", "{k}='single'",
    "{k}=\"multi\nNOT_A_NAME=inside\"", "{k}='multi\nline'", "{k}=value # comment", "{k}= # comment only",
    "{k}=#hash", "  {k}=indented", "\t{k}=tab", "{k}=\"esc \\\" quote\"", "{k}='esc \\' quote'", "# {k}=comment",
    "#", "", "   ", "{k}=a b c", "{k}=${{OTHER}}", "export\t{k}=x",
]
ODD = ["{k}", "'{k}'=1", "{k}.x=1", "1{k}=1", "{k}=\"unterminated", "{k}='unterminated", "export {k}",
       "{k}==x", "={k}", "{k}-x=1", "{k}=\"a\"b", "{k}='x' junk", "\ufeff{k}=1"]


def document(rng: random.Random) -> str:
    lines = []
    used: set[str] = set()
    for _ in range(rng.randint(1, 7)):
        shape = rng.choice(ODD) if rng.random() < 0.12 else rng.choice(SHAPES)
        name = rng.choice(NAMES) if rng.random() < 0.2 else rng.choice([n for n in NAMES if n not in used] or NAMES)
        used.add(name)
        lines.append(shape.format(k=name))
    return rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["\n", ""])


def test_generated_files_read_as_python_dotenv_reads_them(tmp_path: Path) -> None:
    rng = random.Random(2026)
    compared = refused = 0
    failures: list[str] = []
    for index in range(CASES):
        text = document(rng)
        if not text.strip():
            continue
        (tmp_path / ".env").write_bytes(text.encode("utf-8"))
        got = extract_list(parse_list_ref(".env:.", tmp_path), SourceFiles(tmp_path))
        codes = {f.code for f in got.findings if f.exit_code == 2}
        bindings = list(parse_stream(io.StringIO(text)))
        if any(b.error for b in bindings):
            if got.keys is not None or "DC101" not in codes:
                failures.append(f"#{index}: python-dotenv cannot parse it, driftcheck gave "
                                f"{got.key_names or codes}\n{text!r}")
            refused += 1
            continue
        want = list(dotenv_values(stream=io.StringIO(text)))
        names = [b.key for b in bindings if b.key is not None]
        if got.keys is None:
            justified = any(b.key is not None and (b.value is None or not b.key.isidentifier() or
                                                   b.original.string.lstrip().removeprefix("export").lstrip()
                                                   .startswith("'")) for b in bindings) \
                or len(set(names)) != len(names) or not want
            if not justified:
                failures.append(f"#{index}: refused {sorted(codes)} {[f.message for f in got.findings][:1]} but "
                                f"python-dotenv reads {want!r}\n{text!r}")
            refused += 1
            continue
        if list(got.key_names) != want:
            failures.append(f"#{index}: driftcheck read {list(got.key_names)!r}, python-dotenv {want!r}\n{text!r}")
        compared += 1
    record("dotenv", compared, refused)
    assert not failures, f"{len(failures)} of {CASES} differ:\n\n" + "\n\n".join(failures[:8])
    assert compared > CASES // 4
