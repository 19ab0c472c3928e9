"""DC006 unattached-exception: a pragma that takes effect nowhere is reported with the reason (DESIGN.md 14).

Written against `driftcheck check` output, so it holds however each language backend finds its comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import run_driftcheck

PRAGMA = "driftcheck: allow-missing=C -- sent another way"
SOURCE = "src/source.go:Source"


@dataclass(frozen=True)
class Lang:
    name: str
    path: str
    comment: Callable[[str], str]
    define: Callable[[str, list[str]], str]
    header: str = ""


LANGS = [
    Lang("shell", "mirror/keys.sh", lambda t: f"# {t}", lambda n, ks: f'{n}="{" ".join(ks)}"', "#!/bin/bash\n"),
    Lang("python", "mirror/keys.py", lambda t: f"# {t}", lambda n, ks: f"{n} = {ks!r}"),
    Lang("go", "mirror/keys.go", lambda t: f"// {t}", lambda n, ks: f"var {n} = []string{{{', '.join(map(repr, ks))}}}"
         .replace("'", '"'), "package mirror\n"),
    Lang("typescript", "mirror/keys.ts", lambda t: f"// {t}", lambda n, ks: f"export const {n} = {ks!r};"),
]
IDS = [lang.name for lang in LANGS]


def write(root: Path, lang: Lang, body: list[str], source_prefix: str = "") -> None:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "source.go").write_text(f'package src\n\n{source_prefix}var Source = []string{{"A", "B", "C"}}\n')
    (root / "mirror").mkdir(exist_ok=True)
    (root / lang.path).write_text(lang.header + "\n" + "\n".join(body) + "\n")


def check(root: Path, *mirrors: str) -> list[tuple[str, str, int]]:
    run = run_driftcheck("check", "--root", str(root), "--source", SOURCE,
                         *[a for m in mirrors for a in ("--mirror", m)], "--format", "json")
    assert run.code in (0, 1), run.out + run.err
    findings = [(f["code"], f["path"], f["line"], f["message"]) for f in run.json["findings"]]
    assert run.code == (1 if findings else 0)
    return findings


def codes(findings) -> list[tuple[str, str, int]]:
    return [f[:3] for f in findings]


def first_line(lang: Lang) -> int:
    return 2 + lang.header.count("\n")  # the header, then one empty line


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_attached_pragma_takes_effect(tmp_path, lang):
    write(tmp_path, lang, [lang.comment(PRAGMA), lang.define("KEYS", ["A", "B"])])
    assert check(tmp_path, f"{lang.path}:KEYS") == []


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_a_blank_line_between_pragma_and_definition(tmp_path, lang):
    write(tmp_path, lang, [lang.comment(PRAGMA), "", lang.define("KEYS", ["A", "B"])])
    found = check(tmp_path, f"{lang.path}:KEYS")
    pragma_line = first_line(lang)
    assert codes(found) == [("DC006", lang.path, pragma_line), ("DC001", lang.path, pragma_line + 2)]
    message = found[0][3]
    assert f"a blank line separates it from the definition of KEYS on line {pragma_line + 2}" in message
    assert "move it to the line directly above KEYS" in message


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_pragma_above_another_symbol(tmp_path, lang):
    write(tmp_path, lang, [lang.comment(PRAGMA), lang.define("OTHER", ["X"]), lang.define("KEYS", ["A", "B"])])
    found = check(tmp_path, f"{lang.path}:KEYS")
    pragma_line = first_line(lang)
    assert codes(found) == [("DC006", lang.path, pragma_line), ("DC001", lang.path, pragma_line + 2)]
    assert f"it is above line {pragma_line + 1}" in found[0][3] and "OTHER" in found[0][3]


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_pragma_in_the_source_file_instead_of_the_mirror(tmp_path, lang):
    write(tmp_path, lang, [lang.define("KEYS", ["A", "B"])], source_prefix=f"// {PRAGMA}\n")
    found = check(tmp_path, f"{lang.path}:KEYS")
    assert codes(found) == [("DC006", "src/source.go", 3), ("DC001", lang.path, first_line(lang))]
    assert "the source list of contract 'cli'" in found[0][3]
    assert f"move it above KEYS in {lang.path}" in found[0][3]


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_two_mirrors_in_one_file_each_with_its_own_pragma(tmp_path, lang):
    write(tmp_path, lang, [lang.comment(PRAGMA), lang.define("KEYS", ["A", "B"]), "",
                           lang.comment("driftcheck: allow-missing=B -- not needed there"),
                           lang.define("MORE", ["A", "C"])])
    assert check(tmp_path, f"{lang.path}:KEYS", f"{lang.path}:MORE") == []
    # read alone, MORE's pragma is attached to a list no contract reads: it takes effect nowhere
    found = check(tmp_path, f"{lang.path}:KEYS")
    assert codes(found) == [("DC006", lang.path, first_line(lang) + 3)]


@pytest.mark.parametrize("lang", LANGS, ids=IDS)
def test_a_comment_that_only_mentions_driftcheck_is_not_an_exception(tmp_path, lang):
    write(tmp_path, lang, [lang.comment("driftcheck: keeps this list in sync"), "",
                           lang.define("KEYS", ["A", "B", "C"])])
    assert check(tmp_path, f"{lang.path}:KEYS") == []


def test_a_pragma_in_a_string_is_not_a_comment(tmp_path):
    lang = LANGS[1]
    write(tmp_path, lang, [f"NOTE = {PRAGMA!r}", "", lang.define("KEYS", ["A", "B", "C"])])
    assert check(tmp_path, f"{lang.path}:KEYS") == []


def test_extract_does_not_report_unattached_pragmas(tmp_path):
    lang = LANGS[0]
    write(tmp_path, lang, [lang.comment(PRAGMA), "", lang.define("KEYS", ["A", "B"])])
    run = run_driftcheck("extract", f"{lang.path}:KEYS", "--root", str(tmp_path))
    assert run.code == 0 and run.out == "A\nB\n" and run.err == ""
