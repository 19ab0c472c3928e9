"""The `github`, `sarif` and `json` reports: exact workflow commands, SARIF valid against the
official 2.1.0 schema, and the `json` report valid against driftcheck's own shipped schema.

Most tests build CheckResults from hand-made extracted lists (through the pure
`compare_contract`, so findings are exactly what a real run produces); the end-to-end
tests run `driftcheck check` on small repositories built in tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for

import driftcheck
from driftcheck.cli import cli
from driftcheck.compare import compare_contract
from driftcheck.model import (
    Allowance,
    CheckResult,
    Contract,
    ExtractedList,
    Finding,
    Key,
    Language,
    ListRef,
    MirrorSpec,
)
from driftcheck.report import render
from driftcheck.report.github_format import artifact_path, escape_data, escape_property
from driftcheck.report.sarif_format import FINGERPRINT_NAME, root_uri
from driftcheck.rules import RULES
from driftcheck.schema import load_schema, schema_file
from repogen import CANONICAL_KEYS

DATA = Path(__file__).resolve().parent / "data"

CANONICAL = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py
assert len(CANONICAL) == 23

GO_PATH = "workspace-server/internal/handlers/secrets.go"
GO_SYMBOL = "platformManagedDirectLLMBypassKeys"
SH_PATH = "tests/e2e/test_staging_full_saas.sh"
SH_SYMBOL = "BYOK_STRIP_KEYS"
SRC = ListRef(f"{GO_PATH}:{GO_SYMBOL}", GO_PATH, GO_SYMBOL, "go")
MIR = ListRef(f"{SH_PATH}:{SH_SYMBOL}", SH_PATH, SH_SYMBOL, "shell")
MINIMAX_REASON = "sent at create time as the byok signal"
GO_FIRST_KEY_LINE = 10  # source keys on lines 10..32, one per line, after a tab
SH_LINE = 30  # mirror: BYOK_STRIP_KEYS="A B C" on one line


# --------------------------------------------------------------------------- builders


def go_list(names: list[str]) -> ExtractedList:
    keys = tuple(Key(name, GO_FIRST_KEY_LINE + i, 2) for i, name in enumerate(names))
    return ExtractedList(SRC, keys, (), Key(GO_SYMBOL, GO_FIRST_KEY_LINE - 1, 5))


def sh_list(names: list[str], allowances: tuple[Allowance, ...] = (), ref: ListRef = MIR) -> ExtractedList:
    column = len(f'{SH_SYMBOL}="') + 1
    keys = []
    for name in names:
        keys.append(Key(name, SH_LINE, column))
        column += len(name) + 1
    return ExtractedList(ref, tuple(keys), (), Key(SH_SYMBOL, SH_LINE, 1), None, allowances)


def minimax_pragma(path: str = SH_PATH) -> Allowance:
    return Allowance("MINIMAX_API_KEY", "missing", MINIMAX_REASON, "pragma", path, SH_LINE - 1, 3)


def contract(name: str = "byok-strip-list", mirror: ListRef = MIR) -> Contract:
    return Contract(name, SRC, (MirrorSpec(mirror),))


def in_sync_result() -> CheckResult:
    mirror = [k for k in CANONICAL if k != "MINIMAX_API_KEY"]
    return CheckResult((compare_contract(contract(), go_list(CANONICAL), [sh_list(mirror, (minimax_pragma(),))]),))


def drift_names() -> list[str]:
    return [k for k in CANONICAL if k not in ("MINIMAX_API_KEY", "GROQ_API_KEY")] + ["XAI_API_KEY"]


def drift_result(mirror: ListRef = MIR, source_names: list[str] = CANONICAL) -> CheckResult:
    pragma = minimax_pragma(mirror.path)
    compared = compare_contract(contract(mirror=mirror), go_list(source_names),
                                [sh_list(drift_names(), (pragma,), ref=mirror)])
    return CheckResult((compared,))


def error_result() -> CheckResult:
    """The mirror cannot be evaluated (DC102): keys None, contract and run status error."""
    broken = ExtractedList(MIR, None, (Finding("DC102", "BYOK_STRIP_KEYS: command substitution $(cat keys.txt) "
                                                        "cannot be evaluated statically", SH_PATH, SH_LINE, 17),))
    return CheckResult((compare_contract(contract(), go_list(CANONICAL), [broken]),))


def both_unreadable_result() -> CheckResult:
    source = ExtractedList(SRC, None, (Finding("DC105", f"cannot read {GO_PATH}: no such file", GO_PATH, 1, 1),))
    mirror = ExtractedList(MIR, None, (Finding("DC105", f"cannot read {SH_PATH}: no such file", SH_PATH, 1, 1),))
    return CheckResult((compare_contract(contract(), source, [mirror]),))


def usage_error_result() -> CheckResult:
    return CheckResult((), (Finding("DC106", "--mirror needs --source (an ad-hoc contract has one source and its "
                                             "mirrors)", "<command line>", 1, 1),))


ALL_RESULTS = {
    "in_sync": in_sync_result,
    "drift": drift_result,
    "error": error_result,
    "unreadable": both_unreadable_result,
    "usage": usage_error_result,
}


# --------------------------------------------------------------------------- validators


# jsonschema checks "uri"/"uri-reference" only with optional packages; check RFC 3986 syntax here so
# an unencoded space or a scheme-looking relative path in a SARIF artifact URI fails the schema test.
_URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#]|%[0-9A-Fa-f]{2})*\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
URI_FORMATS = FormatChecker()


@URI_FORMATS.checks("uri-reference")
def _is_uri_reference(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI_REFERENCE.match(value)) and value.count("#") <= 1


@URI_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or (bool(_SCHEME.match(value)) and _is_uri_reference(value))


def sarif_validator() -> Any:
    schema = json.loads((DATA / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
    cls = validator_for(schema)  # the draft the official schema declares
    cls.check_schema(schema)
    return cls(schema, format_checker=URI_FORMATS)


def json_validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_valid(validator: Any, document: Any) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def sarif(result: CheckResult, root: str | Path = ".") -> dict[str, Any]:
    return json.loads(render(result, "sarif", root=str(root)))


# --------------------------------------------------------------------------- github


def test_github_drift_exact_lines():
    text = render(drift_result(), "github", root=".")
    groq_line = GO_FIRST_KEY_LINE + CANONICAL.index("GROQ_API_KEY")
    xai_column = len(f'{SH_SYMBOL}="') + 1 + sum(len(k) + 1 for k in drift_names()[:-1])
    assert text.splitlines() == [
        f"::error file={SH_PATH},line={SH_LINE},col=1,title=DC001 missing-in-mirror::GROQ_API_KEY is in "
        f"{GO_SYMBOL} ({GO_PATH}:{groq_line}:2) but missing from {SH_SYMBOL}; add it, or document why with "
        f"`driftcheck: allow-missing=GROQ_API_KEY -- reason`",
        f"::error file={SH_PATH},line={SH_LINE},col={xai_column},title=DC002 extra-in-mirror::XAI_API_KEY is in "
        f"{SH_SYMBOL} but not in {GO_SYMBOL} ({GO_PATH}); remove it, or document why with "
        f"`driftcheck: allow-extra=XAI_API_KEY -- reason`",
        f"::notice::byok-strip-list: drift (2 findings); allowed missing MINIMAX_API_KEY ({MINIMAX_REASON}); "
        f"to fix: driftcheck fix --contract byok-strip-list",
    ]
    assert text.endswith("\n")


def test_github_in_sync_prints_only_the_summary_notice():
    assert render(in_sync_result(), "github") == (
        f"::notice::byok-strip-list: in sync (23 keys, 1 mirror(s)); allowed missing MINIMAX_API_KEY "
        f"({MINIMAX_REASON})\n")


def test_github_escapes_percent_cr_lf_in_data_and_colon_comma_in_properties():
    finding = Finding("DC102", "50% of a,b: x\r\nnext %0A line", "odd dir/a:b,c%d.sh", 3, 4, "K", "c")
    result = CheckResult((), (finding,))
    assert render(result, "github") == (
        "::error file=odd dir/a%3Ab%2Cc%25d.sh,line=3,col=4,title=DC102 not-static::"
        "50%25 of a,b: x%0D%0Anext %250A line\n")


def test_github_escape_functions_escape_percent_first():
    assert escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"
    # An already-escaped-looking input must not decode back to a control character.
    assert escape_data("%0A") == "%250A"
    assert escape_property("a%3Ab") == "a%253Ab"


def test_github_crafted_key_cannot_inject_a_workflow_command():
    evil = "X\n::add-mask::leak\r::set-output name=a::b"
    finding = Finding("DC002", f"{evil} is in M but not in S", SH_PATH, 5, 6, evil, "c")
    text = render(CheckResult((), (finding,)), "github")
    assert text.count("\n") == 1
    assert text == (f"::error file={SH_PATH},line=5,col=6,title=DC002 extra-in-mirror::"
                    "X%0A::add-mask::leak%0D::set-output name=a::b is in M but not in S\n")


def test_github_run_level_finding_has_no_file_property():
    assert render(usage_error_result(), "github") == (
        "::error title=DC106 config-error::--mirror needs --source (an ad-hoc contract has one source and its "
        "mirrors)\n")


def test_github_error_result_lines():
    assert render(error_result(), "github").splitlines() == [
        f"::error file={SH_PATH},line={SH_LINE},col=17,title=DC102 not-static::BYOK_STRIP_KEYS: command "
        "substitution $(cat keys.txt) cannot be evaluated statically",
        "::notice::byok-strip-list: could not decide (1 finding); fix the errors above — driftcheck never reports "
        "in sync for a list it cannot read",
    ]


def test_github_config_finding_points_at_the_config_file():
    finding = Finding("DC106", "driftcheck.toml: unknown key 'colour'", "driftcheck.toml", 4, 1, "colour")
    assert render(CheckResult((), (finding,)), "github") == (
        "::error file=driftcheck.toml,line=4,col=1,title=DC106 config-error::driftcheck.toml: unknown key "
        "'colour'\n")


def test_paths_are_repository_relative(tmp_path):
    root = str(tmp_path)
    assert artifact_path("./tests/e2e/x.sh", root) == "tests/e2e/x.sh"
    assert artifact_path(str(tmp_path / "srv" / "secrets.go"), root) == "srv/secrets.go"
    assert artifact_path("/elsewhere/secrets.go", root) == "/elsewhere/secrets.go"
    assert artifact_path("<command line>", root) is None
    assert artifact_path(root, root) is None  # `--root X` is not a directory: no file to point at
    absolute = Finding("DC105", "cannot read", str(tmp_path / "a b.sh"), 1, 1)
    assert render(CheckResult((), (absolute,)), "github", root=root) == (
        "::error file=a b.sh,line=1,col=1,title=DC105 unreadable::cannot read\n")


# --------------------------------------------------------------------------- sarif


def test_sarif_schema_file_is_the_official_2_1_0_schema():
    raw = (DATA / "sarif-2.1.0.schema.json").read_bytes()
    # Provenance and checksum: tests/data/README.md.
    assert hashlib.sha256(raw).hexdigest() == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
    schema = json.loads(raw)
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert validator_for(schema) is Draft4Validator  # what it declares in "$schema"


@pytest.mark.parametrize("name", sorted(ALL_RESULTS))
def test_sarif_is_valid_against_the_official_schema(name, tmp_path):
    log = sarif(ALL_RESULTS[name](), tmp_path)
    assert_valid(sarif_validator(), log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_validator_checks_uri_syntax(tmp_path):
    assert _is_uri("file:///tmp/x%20y/") and not _is_uri("file:///tmp/x y/") and not _is_uri("tmp/x")
    assert _is_uri_reference("e2e/my%20dir/a.sh") and not _is_uri_reference("e2e/my dir/a.sh")
    assert not _is_uri_reference("e2e/a#b#c.sh") and _is_uri_reference("e2e/a:b.sh")
    log = sarif(drift_result(), tmp_path)
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "a dir/x.sh"
    assert [e.message for e in sarif_validator().iter_errors(log)] == ["'a dir/x.sh' is not a 'uri-reference'"]


def test_sarif_validator_rejects_a_broken_log(tmp_path):
    log = sarif(drift_result(), tmp_path)
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    messages = [e.message for e in sarif_validator().iter_errors(log)]
    assert messages, "the official schema must reject an invalid level and a nameless driver"


def test_sarif_rules_one_per_code_complete():
    driver = sarif(in_sync_result())["runs"][0]["tool"]["driver"]
    assert driver["name"] == "driftcheck"
    assert driver["version"] == driftcheck.__version__
    assert "informationUri" not in driver  # optional in SARIF; the package index name is not ours
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for rule in rules:
        catalogue = RULES[rule["id"]]
        assert rule["name"] == catalogue.name
        assert rule["shortDescription"]["text"] == catalogue.summary
        assert rule["fullDescription"]["text"].startswith(catalogue.summary)
        assert f"exits {catalogue.exit_code}" in rule["fullDescription"]["text"]
        assert rule["help"]["text"] == catalogue.fix
        assert rule["defaultConfiguration"] == {"level": "error"}


def test_sarif_results_drift(tmp_path):
    run = sarif(drift_result(), tmp_path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(r["ruleId"], r["properties"]["key"]) for r in results] == [("DC001", "GROQ_API_KEY"),
                                                                        ("DC002", "XAI_API_KEY")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
        assert result["properties"]["contract"] == "byok-strip-list"
        assert result["properties"]["severity"] == "drift"
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": SH_PATH, "uriBaseId": "%SRCROOT%"}
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": SH_LINE, "startColumn": 1}
    assert results[0]["message"]["text"].startswith("GROQ_API_KEY is in platformManagedDirectLLMBypassKeys")
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    assert run["properties"] == {"status": "drift", "contracts": [{"name": "byok-strip-list", "status": "drift"}]}


def test_sarif_missing_key_related_location_is_the_key_in_the_source():
    result = sarif(drift_result())["runs"][0]["results"][0]
    assert result["ruleId"] == "DC001"
    (related,) = result["relatedLocations"]
    physical = related["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": GO_PATH, "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": GO_FIRST_KEY_LINE + CANONICAL.index("GROQ_API_KEY"),
                                  "startColumn": 2}
    assert "GROQ_API_KEY" in related["message"]["text"]


def test_sarif_extra_key_related_location_is_the_source_definition():
    result = sarif(drift_result())["runs"][0]["results"][1]
    assert result["ruleId"] == "DC002"
    physical = result["relatedLocations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == GO_PATH
    assert physical["region"] == {"startLine": GO_FIRST_KEY_LINE - 1, "startColumn": 5}


def test_sarif_uri_is_percent_encoded_and_relative(tmp_path):
    odd = ListRef("e2e/my dir/h#rn ä:1.sh:STRIP", "e2e/my dir/h#rn ä:1.sh", "STRIP", "shell")
    log = sarif(drift_result(mirror=odd), tmp_path)
    assert_valid(sarif_validator(), log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "e2e/my%20dir/h%23rn%20%C3%A4%3A1.sh"


def test_sarif_run_level_finding_has_no_location(tmp_path):
    log = sarif(usage_error_result(), tmp_path)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "DC106" and result["ruleIndex"] == list(RULES).index("DC106")
    assert "locations" not in result and "relatedLocations" not in result
    assert "contract" not in result["properties"]
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": False, "exitCode": 2}]


def test_sarif_absolute_path_outside_root_is_an_absolute_file_uri(tmp_path):
    outside = tmp_path / "elsewhere" / "keys.sh"
    finding = Finding("DC105", "cannot read", str(outside), 1, 1)
    log = sarif(CheckResult((), (finding,)), tmp_path / "repo")
    assert_valid(sarif_validator(), log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.resolve().as_uri()}


def test_sarif_fingerprints_are_unique_and_survive_moved_lines(tmp_path):
    def fingerprints(result: CheckResult) -> list[str]:
        return [r["partialFingerprints"][FINGERPRINT_NAME] for r in sarif(result, tmp_path)["runs"][0]["results"]]

    base = fingerprints(drift_result())
    assert len(set(base)) == len(base) == 2
    # Same drift after lines were inserted above the lists: the same alerts, not new ones.
    drift = drift_result()
    shifted = tuple(replace(f, line=f.line + 7, column=f.column + 3) for f in drift.contracts[0].findings)
    moved = CheckResult((replace(drift.contracts[0], findings=shifted),))
    assert fingerprints(moved) == base
    # A different key is a different alert.
    renamed = tuple(replace(f, key="OTHER_KEY") for f in drift.contracts[0].findings)
    assert set(fingerprints(CheckResult((replace(drift.contracts[0], findings=renamed),)))).isdisjoint(base)
    # Two findings identical in code, contract, file and key still get distinct fingerprints.
    twice = CheckResult((), (Finding("DC102", "first", SH_PATH, 3, 1, None, "c"),
                             Finding("DC102", "second", SH_PATH, 9, 1, None, "c")))
    assert len(set(fingerprints(twice))) == 2


def test_sarif_output_is_deterministic(tmp_path):
    assert render(drift_result(), "sarif", root=str(tmp_path)) == render(drift_result(), "sarif", root=str(tmp_path))


def test_sarif_root_uri_ends_with_a_slash(tmp_path):
    assert root_uri(str(tmp_path)) == tmp_path.resolve().as_uri() + "/"
    assert root_uri("/") == "file:///"


# --------------------------------------------------------------------------- json schema


def test_json_schema_is_shipped_in_the_package():
    path = schema_file()
    assert path.is_file()
    assert Path(str(path)).parent == Path(driftcheck.__file__).parent / "schema"
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_json_schema_enums_follow_the_code():
    schema = load_schema()
    finding = schema["$defs"]["finding"]
    assert finding["properties"]["code"]["enum"] == list(RULES)
    assert finding["properties"]["name"]["enum"] == [r.name for r in RULES.values()]
    assert schema["$defs"]["language"]["enum"] == list(get_args(Language))
    pairs = {(c["if"]["properties"]["code"]["const"], c["then"]["properties"]["name"]["const"],
              c["then"]["properties"]["severity"]["const"]) for c in finding["allOf"]}
    assert pairs == {(r.code, r.name, "drift" if r.exit_code == 1 else "error") for r in RULES.values()}


@pytest.mark.parametrize("name", sorted(ALL_RESULTS))
def test_json_report_is_valid_against_the_shipped_schema(name):
    document = json.loads(render(ALL_RESULTS[name](), "json"))
    assert_valid(json_validator(), document)


def test_json_schema_accepts_null_keys_and_allowed_entries():
    error = json.loads(render(both_unreadable_result(), "json"))
    assert error["contracts"][0]["source"]["keys"] is None
    assert error["contracts"][0]["mirrors"][0]["keys"] is None
    assert_valid(json_validator(), error)
    synced = json.loads(render(in_sync_result(), "json"))
    assert synced["contracts"][0]["mirrors"][0]["allowed"] == [
        {"key": "MINIMAX_API_KEY", "kind": "missing", "reason": MINIMAX_REASON}]
    assert_valid(json_validator(), synced)


def _mutations() -> dict[str, Any]:
    def drop_findings(d):
        del d["findings"]

    def drop_finding_key(d):
        del d["findings"][0]["key"]

    def drop_mirror_allowed(d):
        del d["contracts"][0]["mirrors"][0]["allowed"]

    def bad_status(d):
        d["status"] = "ok"

    def bad_mirror_status(d):
        d["contracts"][0]["mirrors"][0]["status"] = "failed"

    def bad_code(d):
        d["findings"][0]["code"] = "DC999"

    def name_not_matching_code(d):
        d["findings"][0]["name"] = "extra-in-mirror"

    def severity_not_matching_code(d):
        d["findings"][0]["severity"] = "error"

    def bad_language(d):
        d["contracts"][0]["source"]["language"] = "rust"

    def bad_kind(d):
        d["contracts"][0]["mirrors"][0]["allowed"][0]["kind"] = "both"

    def unknown_property(d):
        d["contracts"][0]["source"]["colour"] = "red"

    def line_zero(d):
        d["contracts"][0]["source"]["keys"][0]["line"] = 0

    def keys_wrong_type(d):
        d["contracts"][0]["source"]["keys"] = "A B C"

    def version_two(d):
        d["version"] = 2

    def drift_without_findings(d):
        d["findings"] = []

    def in_sync_with_findings(d):
        d["status"] = "in_sync"

    return {name: fn for name, fn in locals().items() if callable(fn)}


@pytest.mark.parametrize("mutation", sorted(_mutations()))
def test_json_schema_rejects_malformed_reports(mutation):
    document = json.loads(render(drift_result(), "json"))
    assert_valid(json_validator(), document)
    _mutations()[mutation](document)
    assert list(json_validator().iter_errors(document)), f"schema accepted a report with {mutation}"


def test_json_schema_accepts_base_attribution_entries():
    document = json.loads(render(drift_result(), "json"))
    document["attribution"] = [{"contract": "byok-strip-list", "mirror": MIR.ref, "key": "GROQ_API_KEY",
                                "side": "source", "change": "added"}]
    assert_valid(json_validator(), document)
    document["attribution"][0]["side"] = "both"
    assert list(json_validator().iter_errors(document))


# --------------------------------------------------------------------------- end to end (CLI)



def check(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--root", str(root), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def write_repo(root: Path, mirror_keys: list[str], *, mirror_value: str | None = None,
               config: str | None = None) -> None:
    go = root / GO_PATH
    go.parent.mkdir(parents=True)
    body = "".join(f'\t"{key}": {{}},\n' for key in CANONICAL)
    # Line 1 package, 2 blank, 3 comment, 4 var (keys start on line 5).
    go.write_text(f"package handlers\n\n// Keys platform-managed workspaces may not write directly.\n"
                  f"var {GO_SYMBOL} = map[string]struct{{}}{{\n{body}}}\n", encoding="utf-8")
    sh = root / SH_PATH
    sh.parent.mkdir(parents=True)
    value = mirror_value if mirror_value is not None else '"' + " ".join(mirror_keys) + '"'
    sh.write_text("#!/usr/bin/env bash\nset -euo pipefail\n"
                  "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n"
                  f"{SH_SYMBOL}={value}\necho done\n", encoding="utf-8")
    if config is not None:
        (root / "driftcheck.toml").write_text(config, encoding="utf-8")


E2E_CONFIG = f'''
[[contract]]
name = "byok-strip-list"
source = "{GO_PATH}:{GO_SYMBOL}"
mirrors = ["{SH_PATH}:{SH_SYMBOL}"]

[contract.allow]
missing.MINIMAX_API_KEY = "{MINIMAX_REASON}"
'''


def all_formats(root: Path, *args: str) -> dict[str, tuple[int, str]]:
    return {fmt: check(root, "--format", fmt, *args) for fmt in ("json", "sarif", "github")}


def assert_reports_valid(outputs: dict[str, tuple[int, str]], expected_code: int) -> tuple[Any, Any]:
    codes = {fmt: code for fmt, (code, _) in outputs.items()}
    assert codes == {"json": expected_code, "sarif": expected_code, "github": expected_code}
    document = json.loads(outputs["json"][1])
    assert_valid(json_validator(), document)
    log = json.loads(outputs["sarif"][1])
    assert_valid(sarif_validator(), log)
    return document, log


def test_e2e_in_sync_reports(tmp_path):
    write_repo(tmp_path, CANONICAL)
    outputs = all_formats(tmp_path)
    document, log = assert_reports_valid(outputs, 0)
    assert document["status"] == "in_sync" and document["findings"] == []
    assert [k["key"] for k in document["contracts"][0]["source"]["keys"]] == CANONICAL
    assert log["runs"][0]["results"] == []
    assert outputs["github"][1] == "::notice::byok-strip-list: in sync (23 keys, 1 mirror(s))\n"


def test_e2e_drift_reports(tmp_path):
    mirror = [k for k in CANONICAL if k not in ("GROQ_API_KEY", "MINIMAX_API_KEY")] + ["XAI_API_KEY"]
    write_repo(tmp_path, mirror, config=E2E_CONFIG)
    outputs = all_formats(tmp_path)
    document, log = assert_reports_valid(outputs, 1)
    assert document["status"] == "drift"
    assert [(f["code"], f["key"], f["path"]) for f in document["findings"]] == [
        ("DC001", "GROQ_API_KEY", SH_PATH), ("DC002", "XAI_API_KEY", SH_PATH)]
    mirror_json = document["contracts"][0]["mirrors"][0]
    assert (mirror_json["missing"], mirror_json["extra"]) == (["GROQ_API_KEY"], ["XAI_API_KEY"])
    assert mirror_json["allowed"] == [{"key": "MINIMAX_API_KEY", "kind": "missing", "reason": MINIMAX_REASON}]

    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["DC001", "DC002"]
    # The DC001 related location is exactly where the source key is written (line 5 + index).
    groq = next(k for k in document["contracts"][0]["source"]["keys"] if k["key"] == "GROQ_API_KEY")
    assert groq["line"] == 5 + CANONICAL.index("GROQ_API_KEY")
    related = results[0]["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"] == {"uri": GO_PATH, "uriBaseId": "%SRCROOT%"}
    assert related["region"] == {"startLine": groq["line"], "startColumn": groq["column"]}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"

    github = outputs["github"][1].splitlines()
    dc002 = document["findings"][1]
    assert github[0].startswith(f"::error file={SH_PATH},line={document['findings'][0]['line']},col=")
    assert github[1].startswith(f"::error file={SH_PATH},line=4,col={dc002['column']},"
                                "title=DC002 extra-in-mirror::XAI_API_KEY is in BYOK_STRIP_KEYS")
    assert github[2].startswith("::notice::byok-strip-list: drift (2 findings); allowed missing MINIMAX_API_KEY")


def test_e2e_not_static_reports(tmp_path):
    write_repo(tmp_path, [], mirror_value='"$(cat keys.txt)"')
    outputs = all_formats(tmp_path)
    document, log = assert_reports_valid(outputs, 2)
    assert document["status"] == "error"
    assert document["contracts"][0]["mirrors"][0]["keys"] is None
    assert [(f["code"], f["path"], f["line"]) for f in document["findings"]] == [("DC102", SH_PATH, 4)]
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "DC102"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert outputs["github"][1].startswith(f"::error file={SH_PATH},line=4,col=")


def test_e2e_unreadable_lists_reports(tmp_path):
    # Missing files are DC105 before any extractor is imported, so this runs today.
    outputs = all_formats(tmp_path, "--source", "srv/keys.go:Keys", "--mirror", "e2e/strip.sh:STRIP")
    document, log = assert_reports_valid(outputs, 2)
    assert document["status"] == "error"
    assert document["contracts"][0]["source"]["keys"] is None
    assert document["contracts"][0]["mirrors"][0]["keys"] is None
    assert [(f["code"], f["path"], f["contract"]) for f in document["findings"]] == [
        ("DC105", "srv/keys.go", "cli"), ("DC105", "e2e/strip.sh", "cli")]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]]
    assert uris == ["srv/keys.go", "e2e/strip.sh"]
    github = outputs["github"][1].splitlines()
    assert github[0] == ("::error file=srv/keys.go,line=1,col=1,title=DC105 unreadable::cannot read srv/keys.go: "
                         "no such file; check the path in the list reference")
    assert github[1].startswith("::error file=e2e/strip.sh,line=1,col=1,title=DC105 unreadable::")
    assert github[2].startswith("::notice::cli: could not decide (2 findings)")


def test_e2e_usage_error_reports(tmp_path):
    outputs = all_formats(tmp_path, "--mirror", "e2e/strip.sh:STRIP")
    document, log = assert_reports_valid(outputs, 2)
    assert document["contracts"] == []
    assert [(f["code"], f["path"], f["contract"]) for f in document["findings"]] == [
        ("DC106", "<command line>", None)]
    (result,) = log["runs"][0]["results"]
    assert "locations" not in result
    assert outputs["github"][1] == ("::error title=DC106 config-error::--mirror needs --source (an ad-hoc contract "
                                    "has one source and its mirrors)\n")


def test_e2e_config_error_reports(tmp_path):
    (tmp_path / "driftcheck.toml").write_text('[[contract]]\nname = "x"\ncolour = "red"\n', encoding="utf-8")
    outputs = all_formats(tmp_path)
    document, log = assert_reports_valid(outputs, 2)
    (finding,) = document["findings"]
    assert (finding["code"], finding["path"], finding["line"], finding["key"]) == ("DC106", "driftcheck.toml", 3,
                                                                                  "colour")
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "driftcheck.toml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 1}
    assert outputs["github"][1].startswith("::error file=driftcheck.toml,line=3,col=1,title=DC106 config-error::")


def test_e2e_sarif_to_output_file(tmp_path):
    report = tmp_path / "out" / "driftcheck.sarif"
    report.parent.mkdir()
    code, stdout = check(tmp_path, "--format", "sarif", "--output", str(report), "--mirror", "x.sh:X")
    assert (code, stdout) == (2, "")
    assert_valid(sarif_validator(), json.loads(report.read_text(encoding="utf-8")))
