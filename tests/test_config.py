"""Configuration loading: every mistake is one DC106 naming the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.config import DEFAULT_CONTRACT_NAME, CheckOptions, load_contracts, parse_list_ref, ConfigError

GOOD = '''
[[contract]]
name = "byok"
source = "srv/secrets.go:Keys"
mirrors = [
  "e2e/harness.sh:STRIP",
  { ref = "e2e/byok.py:STRIP_KEYS", relation = "subset" },
]
order = "same"

[contract.allow]
missing.MINIMAX_API_KEY = "sent in the create payload as the byok signal"
'''


def load(tmp_path: Path, text: str | None = None, name: str = "driftcheck.toml", **kw):
    if text is not None:
        (tmp_path / name).write_text(text)
    return load_contracts(CheckOptions(root=tmp_path, **kw))


def only_finding(findings):
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.code == "DC106"
    return finding


def test_default_contract_when_no_configuration(tmp_path):
    contracts, findings = load(tmp_path)
    assert findings == []
    [c] = contracts
    assert c.name == DEFAULT_CONTRACT_NAME
    assert c.source.path == "workspace-server/internal/handlers/secrets.go"
    assert c.source.symbol == "platformManagedDirectLLMBypassKeys" and c.source.language == "go"
    assert [(m.ref.path, m.ref.symbol, m.ref.language, m.relation) for m in c.mirrors] == [
        ("tests/e2e/test_staging_full_saas.sh", "BYOK_STRIP_KEYS", "shell", "equal")]


def test_full_driftcheck_toml(tmp_path):
    contracts, findings = load(tmp_path, GOOD)
    assert findings == []
    [c] = contracts
    assert c.name == "byok" and c.order == "same"
    assert [(m.ref.language, m.relation) for m in c.mirrors] == [("shell", "equal"), ("python", "subset")]
    [allow] = c.allowances
    assert (allow.key, allow.kind, allow.origin, allow.path, allow.line) == (
        "MINIMAX_API_KEY", "missing", "config", "driftcheck.toml", 12)
    assert allow.reason == "sent in the create payload as the byok signal"


def test_pyproject_tool_table(tmp_path):
    text = GOOD.replace("[[contract]]", "[[tool.driftcheck.contract]]").replace(
        "[contract.allow]", "[tool.driftcheck.contract.allow]")
    contracts, findings = load(tmp_path, "[project]\nname='x'\n" + text, name="pyproject.toml")
    assert findings == [] and [c.name for c in contracts] == ["byok"]


def test_pyproject_without_table_falls_back_to_default(tmp_path):
    contracts, findings = load(tmp_path, "[project]\nname = 'x'\n", name="pyproject.toml")
    assert findings == [] and contracts[0].name == DEFAULT_CONTRACT_NAME


def test_driftcheck_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.driftcheck]\nbogus = 1\n")
    contracts, findings = load(tmp_path, GOOD)
    assert findings == [] and contracts[0].name == "byok"


@pytest.mark.parametrize("text, key, line, words", [
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\nmirors=1\n', "mirors", 5, "unknown key 'mirors'"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors="b.sh:Y"\n', "mirrors", 4, "non-empty array"),
    ('[[contract]]\nname="a"\nmirrors=["b.sh:Y"]\n', "source", 1, "'source' is required"),
    ('[[contract]]\nname="a"\nsource="a.go"\nmirrors=["b.sh:Y"]\n', "source", 3, "PATH:SYMBOL"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\nrelation="same"\n', "relation", 5, "equal, subset, superset"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\norder="sorted"\n', "order", 5, "'any' or 'same'"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\n[contract.allow]\nmissing.K = ""\n', "allow.missing.K", 6, "needs a reason"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\n[contract.allow]\nmissing.K = 3\n', "allow.missing.K", 6, "needs a reason"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\n[contract.allow]\nsurplus.K = "x"\n', "allow.surplus", 6, "allow.surplus"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=[{ref="b.sh:Y", relation="both"}]\n', "relation", 4, "mirror 'relation'"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=[{path="b.sh:Y"}]\n', "path", 4, "unknown mirror key 'path'"),
    ('[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\n[[contract]]\nname="a"\nsource="a.go:X"\nmirrors=["b.sh:Y"]\n', "name", 2, "used twice"),
    ('title = "x"\n', "title", 1, "unknown key 'title'"),
    ('contract = 3\n', "contract", 1, "array of tables"),
])
def test_configuration_mistakes_name_file_key_and_line(tmp_path, text, key, line, words):
    contracts, findings = load(tmp_path, text)
    assert contracts == []
    finding = only_finding(findings)
    assert finding.path == "driftcheck.toml"
    assert finding.key == key
    assert finding.line == line
    assert words in finding.message


def test_toml_syntax_error_points_at_line(tmp_path):
    _, findings = load(tmp_path, '[[contract]]\nname = "a"\nsource = "x.go:A\n')
    finding = only_finding(findings)
    assert finding.line == 3 and "not valid TOML" in finding.message


def test_non_utf8_config(tmp_path):
    (tmp_path / "driftcheck.toml").write_bytes(b"name = '\xff'\n")
    _, findings = load(tmp_path)
    assert "not UTF-8" in only_finding(findings).message


def test_explicit_config_missing(tmp_path):
    _, findings = load(tmp_path, config=tmp_path / "nope.toml")
    assert "does not exist" in only_finding(findings).message


def test_explicit_pyproject_without_table_is_an_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    _, findings = load(tmp_path, config=tmp_path / "pyproject.toml")
    assert "no [tool.driftcheck] table" in only_finding(findings).message


def test_root_must_be_a_directory(tmp_path):
    _, findings = load_contracts(CheckOptions(root=tmp_path / "missing"))
    assert "not a directory" in only_finding(findings).message


def test_adhoc_contract_replaces_configuration(tmp_path):
    contracts, findings = load(tmp_path, GOOD, source="a/x.go:K", mirrors=("b/y.sh:S", "c.py:P"))
    assert findings == []
    [c] = contracts
    assert c.name == "cli" and c.source.ref == "a/x.go:K"
    assert [m.ref.language for m in c.mirrors] == ["shell", "python"]


@pytest.mark.parametrize("kw, words", [
    ({"mirrors": ("b.sh:S",)}, "--mirror needs --source"),
    ({"source": "a.go:K"}, "--source needs at least one --mirror"),
    ({"source": "a.go", "mirrors": ("b.sh:S",)}, "PATH:SYMBOL"),
    ({"contracts": ("nope",)}, "--contract 'nope' is not defined"),
])
def test_usage_mistakes(tmp_path, kw, words):
    _, findings = load(tmp_path, **kw)
    finding = only_finding(findings)
    assert finding.path == "<command line>" and words in finding.message


def test_contract_selection(tmp_path):
    two = GOOD + '\n[[contract]]\nname = "other"\nsource = "a.go:X"\nmirrors = ["b.sh:Y"]\n'
    contracts, findings = load(tmp_path, two, contracts=("other",))
    assert findings == [] and [c.name for c in contracts] == ["other"]


def test_language_from_shebang_and_explicit(tmp_path):
    (tmp_path / "harness").write_text("#!/usr/bin/env bash\nX=1\n")
    (tmp_path / "tool").write_text("#!/usr/bin/python3\nX = 1\n")
    (tmp_path / "data.txt").write_text("X\n")
    assert parse_list_ref("harness:X", tmp_path).language == "shell"
    assert parse_list_ref("tool:X", tmp_path).language == "python"
    assert parse_list_ref("data.txt:X", tmp_path, "bash").language == "shell"
    with pytest.raises(ConfigError, match="cannot tell the language"):
        parse_list_ref("data.txt:X", tmp_path)
    # The last colon splits, so paths may contain colons.
    ref = parse_list_ref("dir:with:colon/x.go:SYM", tmp_path)
    assert (ref.path, ref.symbol) == ("dir:with:colon/x.go", "SYM")


def test_deeply_nested_toml_is_dc106_not_a_crash(tmp_path):
    _, findings = load(tmp_path, "a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nests tables or arrays too deeply" in only_finding(findings).message


def test_language_sniffing_never_opens_a_fifo(tmp_path):
    import os

    os.mkfifo(tmp_path / "harness")
    with pytest.raises(ConfigError, match="cannot tell the language"):
        parse_list_ref("harness:X", tmp_path)  # would block forever if the FIFO were opened


def test_a_plain_name_is_read_as_the_selector_grammar_reads_it() -> None:
    """The fast path for plain names agrees with the grammar for every language, names and not-names alike."""
    from driftcheck.config import ROOTED_LANGUAGES, SELECTOR_LANGUAGES, ConfigError, parse_list_ref
    from driftcheck.languages import names
    from driftcheck.languages.selectors import SelectorError, parse_selector

    symbols = ["KEYS", "_k", "$k", "k$1", "a1_$", "1abc", "é", "KEYS[]", "a.b", "a-b", "class", "a b", "$"]
    for language in names():
        for symbol in symbols:
            try:
                selector = parse_selector(symbol, rooted=language in ROOTED_LANGUAGES)
                expected = None if language in SELECTOR_LANGUAGES or selector.is_plain_name else ConfigError
            except SelectorError:
                expected = ConfigError
            try:
                ref = parse_list_ref(f"x/file:{symbol}", Path("."), language=language)
                got = None
                assert (ref.symbol, ref.language) == (symbol, language)
            except ConfigError:
                got = ConfigError
            assert got is expected, (language, symbol)
