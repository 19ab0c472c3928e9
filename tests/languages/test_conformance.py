"""Every backend through the same cases: what the driver promises for every language.

Keys in order with positions, not found (DC100 with a suggestion), duplicates (DC003),
pragmas (allowance; DC106 without a reason), syntax errors (DC101), mutations
(DC104), unreadable files (DC105). A language joins by adding its Writer to
`tests/languages/writers.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.config import parse_list_ref
from driftcheck.languages.driver import extract_list
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFiles
from tests.languages.writers import WRITERS, Writer

KEYS = ["ALPHA_API_KEY", "BETA_API_KEY", "GAMMA_BASE_URL"]
by_language = pytest.mark.parametrize("writer", WRITERS, ids=[w.language for w in WRITERS])


def read(root: Path, writer: Writer, text: str, name: str = "LIST") -> ExtractedList:
    (root / writer.filename).write_text(text, encoding="utf-8")
    ref = parse_list_ref(f"{writer.filename}:{writer.selector(name)}", root)
    assert ref.language == writer.language, "the registry must detect the language from the file name"
    return extract_list(ref, SourceFiles(root))


def codes(extracted: ExtractedList) -> list[str]:
    return [f.code for f in extracted.findings]


@by_language
def test_keys_in_order_each_at_its_own_position(tmp_path: Path, writer: Writer) -> None:
    text = writer.define("LIST", KEYS)
    extracted = read(tmp_path, writer, text)
    assert extracted.findings == ()
    assert extracted.key_names == tuple(KEYS)
    lines = text.split("\n")
    for key in extracted.keys or ():
        at = lines[key.line - 1][key.column - 1:]
        assert at.startswith(key.key) or (at[:1] in "\"'`" and at[1:].startswith(key.key)), (key, at)
    assert extracted.definition is not None and extracted.value_span is not None


@pytest.mark.parametrize("writer", [w for w in WRITERS if w.names_a_symbol],
                         ids=[w.language for w in WRITERS if w.names_a_symbol])
def test_not_found_is_dc100_naming_the_closest_symbol(tmp_path: Path, writer: Writer) -> None:
    extracted = read(tmp_path, writer, writer.define("BYOK_STRIP_KEYS", KEYS), name="BYOK_STRIP_KEY")
    assert extracted.keys is None
    assert codes(extracted) == ["DC100"]
    assert "BYOK_STRIP_KEYS" in extracted.findings[0].message


@by_language
def test_a_repeated_key_is_dc003_at_the_repetition(tmp_path: Path, writer: Writer) -> None:
    text = writer.define("LIST", [*KEYS, "BETA_API_KEY"])
    extracted = read(tmp_path, writer, text)
    assert codes(extracted) == [writer.repeat_code]
    finding = extracted.findings[0]
    if writer.repeat_code != "DC003":  # the repetition refuses the list: it points at the second spelling
        lines = [number for number, line in enumerate(text.split("\n"), 1) if "BETA_API_KEY" in line]
        assert extracted.keys is None and finding.line == lines[-1]
        return
    assert finding.key == "BETA_API_KEY"
    assert finding.line == max(k.line for k in extracted.keys or () if k.key == "BETA_API_KEY")
    assert finding.line > min(k.line for k in extracted.keys or () if k.key == "BETA_API_KEY") or \
        finding.column > min(k.column for k in extracted.keys or () if k.key == "BETA_API_KEY")


def _with_pragma(tmp_path: Path, writer: Writer, pragma: str) -> tuple[ExtractedList, int]:
    assert writer.comment is not None
    text = writer.define("LIST", KEYS)
    first = read(tmp_path, writer, text)
    assert first.definition is not None
    lines = text.split("\n")
    at = first.definition.line - 1
    lines.insert(at, writer.comment(pragma))
    return read(tmp_path, writer, "\n".join(lines)), at + 1


@pytest.mark.parametrize("writer", [w for w in WRITERS if w.comment], ids=[w.language for w in WRITERS if w.comment])
def test_a_pragma_directly_above_the_definition_is_an_allowance(tmp_path: Path, writer: Writer) -> None:
    extracted, line = _with_pragma(tmp_path, writer, "driftcheck: allow-missing=DELTA_KEY -- sent at create time")
    assert extracted.key_names == tuple(KEYS)
    assert [(a.key, a.kind, a.reason, a.line) for a in extracted.allowances] == [
        ("DELTA_KEY", "missing", "sent at create time", line)]


@pytest.mark.parametrize("writer", [w for w in WRITERS if w.comment], ids=[w.language for w in WRITERS if w.comment])
def test_a_pragma_without_a_reason_is_dc106(tmp_path: Path, writer: Writer) -> None:
    extracted, line = _with_pragma(tmp_path, writer, "driftcheck: allow-extra=DELTA_KEY")
    assert codes(extracted) == ["DC106"]
    assert extracted.findings[0].line == line
    assert extracted.keys is None


@pytest.mark.parametrize("writer", [w for w in WRITERS if w.broken], ids=[w.language for w in WRITERS if w.broken])
def test_a_file_the_language_rejects_is_dc101(tmp_path: Path, writer: Writer) -> None:
    assert writer.broken is not None
    extracted = read(tmp_path, writer, writer.broken)
    assert extracted.keys is None
    assert "DC101" in codes(extracted)
    assert all(f.exit_code == 2 for f in extracted.findings)


@pytest.mark.parametrize("writer", [w for w in WRITERS if w.mutate], ids=[w.language for w in WRITERS if w.mutate])
def test_a_list_changed_after_its_definition_is_refused(tmp_path: Path, writer: Writer) -> None:
    assert writer.mutate is not None
    extracted = read(tmp_path, writer, writer.mutate("LIST", KEYS))
    assert extracted.keys is None
    assert "DC104" in codes(extracted)
    clean = tmp_path / "clean"
    clean.mkdir()
    definition = read(clean, writer, writer.define("LIST", KEYS)).definition
    assert definition is not None
    assert all(f.line > definition.line for f in extracted.findings if f.code == "DC104")


@by_language
def test_a_file_that_is_not_utf8_is_dc105(tmp_path: Path, writer: Writer) -> None:
    (tmp_path / writer.filename).write_bytes(writer.define("LIST", KEYS).encode() + b"\xff\xfe\n")
    extracted = extract_list(parse_list_ref(f"{writer.filename}:{writer.selector('LIST')}", tmp_path),
                             SourceFiles(tmp_path))
    assert codes(extracted) == ["DC105"] and extracted.keys is None


@by_language
def test_a_missing_file_is_dc105_naming_it(tmp_path: Path, writer: Writer) -> None:
    ref = parse_list_ref(f"missing/{writer.filename}:{writer.selector('LIST')}", tmp_path, writer.language)
    extracted = extract_list(ref, SourceFiles(tmp_path))
    assert codes(extracted) == ["DC105"]
    assert f"missing/{writer.filename}" in extracted.findings[0].message
