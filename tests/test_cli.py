"""The check command end to end on the bundled fixtures: exit codes, text and JSON."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import FIXTURES

SH = "tests/e2e/test_staging_full_saas.sh"
GO = "workspace-server/internal/handlers/secrets.go"


def findings(run):
    return [(f["code"], f["key"], f["path"], f["line"], f["column"]) for f in run.json["findings"]]


def test_in_sync_fixture(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "in-sync"))
    assert run.code == 0, run.out + run.err
    assert run.out == "byok-strip-list: in sync (23 keys, 1 mirror(s))\n"


def test_in_sync_json_shape(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "in-sync"), "--format", "json")
    assert run.code == 0
    data = run.json
    assert list(data) == ["version", "status", "contracts", "findings"]
    assert data["version"] == 1 and data["status"] == "in_sync" and data["findings"] == []
    [contract] = data["contracts"]
    assert list(contract) == ["name", "status", "source", "mirrors"]
    assert contract["name"] == "byok-strip-list" and contract["status"] == "in_sync"
    source = contract["source"]
    assert list(source) == ["ref", "path", "symbol", "language", "keys"]
    assert (source["path"], source["symbol"], source["language"]) == (GO, "platformManagedDirectLLMBypassKeys", "go")
    assert source["keys"][0] == {"key": "ANTHROPIC_API_KEY", "line": 17, "column": 2}
    assert len(source["keys"]) == 23
    [mirror] = contract["mirrors"]
    assert list(mirror) == ["ref", "path", "symbol", "language", "status", "keys", "missing", "extra", "allowed"]
    assert mirror["keys"][0] == {"key": "ANTHROPIC_API_KEY", "line": 11, "column": 18}
    assert mirror["keys"][1] == {"key": "ANTHROPIC_AUTH_TOKEN", "line": 12, "column": 1}
    assert [k["key"] for k in mirror["keys"]] == [k["key"] for k in source["keys"]]
    assert (mirror["missing"], mirror["extra"], mirror["allowed"]) == ([], [], [])


def test_missing_key(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "drift-missing"), "--format", "json")
    assert run.code == 1
    assert findings(run) == [("DC001", "XAI_API_KEY", SH, 11, 1)]
    assert run.json["contracts"][0]["mirrors"][0]["missing"] == ["XAI_API_KEY"]
    text = driftcheck("check", "--root", str(FIXTURES / "drift-missing"), cwd=FIXTURES / "drift-missing")
    assert text.code == 1
    first, summary = text.out.splitlines()
    assert first.startswith(f"{SH}:11:1: DC001 XAI_API_KEY is in platformManagedDirectLLMBypassKeys ({GO}:40:2)")
    assert "driftcheck fix --root" in summary and "--contract byok-strip-list" in summary


def test_extra_key(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "drift-extra"), "--format", "json")
    assert run.code == 1
    assert findings(run) == [("DC002", "LEGACY_LLM_KEY", SH, 34, 1)]
    assert run.json["contracts"][0]["mirrors"][0]["extra"] == ["LEGACY_LLM_KEY"]


def test_duplicate_key(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "duplicate"), "--format", "json")
    assert run.code == 1
    assert findings(run) == [("DC003", "OPENAI_API_KEY", SH, 16, 1)]


def test_documented_exception(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "exception"), "--format", "json")
    assert run.code == 0, run.out
    mirror = run.json["contracts"][0]["mirrors"][0]
    assert mirror["allowed"] == [{"key": "MINIMAX_API_KEY", "kind": "missing",
                                  "reason": "sent in the create payload as the byok signal"}]
    assert mirror["missing"] == []
    text = driftcheck("check", "--root", str(FIXTURES / "exception"))
    assert "allowed missing MINIMAX_API_KEY (sent in the create payload as the byok signal)" in text.out


def test_stale_exception(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "stale-exception"), "--format", "json")
    assert run.code == 1
    assert findings(run) == [("DC004", "MINIMAX_API_KEY", SH, 11, 3)]


def test_pragma_without_reason_is_an_error(driftcheck):
    run = driftcheck("check", "--root", str(FIXTURES / "pragma-no-reason"), "--format", "json")
    assert run.code == 2
    codes = [f[0] for f in findings(run)]
    assert "DC106" in codes
    assert run.json["status"] == "error"


def test_error_wins_over_drift(tmp_path, driftcheck):
    shutil.copytree(FIXTURES / "drift-missing", tmp_path / "r")
    config = tmp_path / "r" / "driftcheck.toml"
    config.write_text(f'[[contract]]\nname = "a"\nsource = "{GO}:platformManagedDirectLLMBypassKeys"\n'
                      f'mirrors = ["{SH}:BYOK_STRIP_KEYS"]\n\n'
                      f'[[contract]]\nname = "b"\nsource = "{GO}:platformManagedDirectLLMBypassKeys"\n'
                      f'mirrors = ["{SH}:NO_SUCH_LIST"]\n')
    run = driftcheck("check", "--root", str(tmp_path / "r"), "--format", "json")
    assert run.code == 2
    assert [c["status"] for c in run.json["contracts"]] == ["drift", "error"]
    assert [f["code"] for f in run.json["findings"]] == ["DC001", "DC100"]
    assert run.json["contracts"][1]["mirrors"][0]["keys"] is None


def test_adhoc_contract_on_renamed_files(tmp_path, driftcheck):
    shutil.copy(FIXTURES / "drift-missing" / GO, tmp_path / "secrets.go")
    shutil.copy(FIXTURES / "drift-missing" / SH, tmp_path / "harness.sh")
    run = driftcheck("check", "--root", str(tmp_path), "--source", "secrets.go:platformManagedDirectLLMBypassKeys",
                     "--mirror", "harness.sh:BYOK_STRIP_KEYS", "--format", "json")
    assert run.code == 1
    assert run.json["contracts"][0]["name"] == "cli"
    assert findings(run) == [("DC001", "XAI_API_KEY", "harness.sh", 11, 1)]


@pytest.mark.parametrize("args, words", [
    (["check", "--format", "yaml"], "Invalid value for '--format'"),
    (["check", "--mirror", "a.sh:X"], "--mirror needs --source"),
    (["check", "--bogus"], "No such option"),
    (["run"], "missing CMD"),
    (["extract", "nocolon"], "PATH:SYMBOL"),
])
def test_usage_errors_exit_2_without_traceback(driftcheck, tmp_path, args, words):
    run = driftcheck(*args, cwd=tmp_path)
    assert run.code == 2
    assert words in run.out + run.err
    assert "Traceback" not in run.out + run.err


def test_missing_default_files_exit_2(driftcheck, tmp_path):
    run = driftcheck("check", "--root", str(tmp_path), cwd=tmp_path)
    assert run.code == 2
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{GO}:1:1: DC105 ")
    assert lines[1].startswith(f"{SH}:1:1: DC105 ")


def test_extract_text_and_json(driftcheck):
    root = str(FIXTURES / "in-sync")
    run = driftcheck("extract", f"{SH}:BYOK_STRIP_KEYS", "--root", root)
    assert run.code == 0
    assert run.out.split() == [k for k in run.out.split()] and len(run.out.splitlines()) == 23
    assert run.out.splitlines()[0] == "ANTHROPIC_API_KEY"
    as_json = driftcheck("extract", f"{GO}:platformManagedDirectLLMBypassKeys", "--root", root, "--format", "json")
    assert as_json.code == 0
    assert list(as_json.json) == ["ref", "path", "symbol", "language", "keys"]
    assert as_json.json["keys"][22] == {"key": "DASHSCOPE_API_KEY", "line": 39, "column": 2}


def test_extract_failure_exits_2(driftcheck):
    run = driftcheck("extract", f"{SH}:NOPE", "--root", str(FIXTURES / "in-sync"))
    assert run.code == 2 and run.out == ""
    assert "DC100" in run.err and "Traceback" not in run.err


def test_output_file(tmp_path, driftcheck):
    out = tmp_path / "report.json"
    run = driftcheck("check", "--root", str(FIXTURES / "drift-missing"), "--format", "json", "--output", str(out))
    assert run.code == 1 and run.out == ""
    assert json.loads(out.read_text())["status"] == "drift"


def test_run_gate_execs_only_when_in_sync(tmp_path, driftcheck):
    marker = tmp_path / "ran"
    ok = driftcheck("run", "--root", str(FIXTURES / "in-sync"), "--", "sh", "-c", f"touch {marker}; exit 7")
    assert ok.code == 7 and marker.exists()  # the command's exit code passes straight through
    marker.unlink()
    refused = driftcheck("run", "--root", str(FIXTURES / "drift-missing"), "--", "sh", "-c", f"touch {marker}")
    assert refused.code == 1 and not marker.exists()
    assert "DC001" in refused.err and "not starting sh -c" in refused.err
    broken = driftcheck("run", "--root", str(tmp_path), "--", "sh", "-c", f"touch {marker}")
    assert broken.code == 2 and not marker.exists()


def test_run_signals_pass_through(tmp_path, driftcheck):
    run = driftcheck("run", "--root", str(FIXTURES / "in-sync"), "--", "sh", "-c", "kill -TERM $$")
    assert run.code == -15  # exec'd: the signal ends the process itself


def test_version_and_module_entry(driftcheck):
    run = driftcheck("--version")
    assert run.code == 0 and "driftcheck, version 0.1.0" in run.out


# --------------------------------------------------------------------------- the console process
# driftcheck.console ends a short check with os._exit after flushing (no interpreter teardown), so
# what was printed must still arrive whole, and a failure to print must still fail the run.


def test_a_large_report_through_a_pipe_arrives_whole(tmp_path, driftcheck):
    # Fifty drifted contracts: far more than one pipe buffer of JSON, all of it flushed before exit.
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "drift-missing", root)
    (root / "driftcheck.toml").write_text("".join(
        f'[[contract]]\nname = "c{i}"\nsource = "{GO}:platformManagedDirectLLMBypassKeys"\n'
        f'mirrors = ["{SH}:BYOK_STRIP_KEYS"]\n' for i in range(50)))
    run = driftcheck("check", "--root", str(root), "--format", "json")
    assert run.code == 1 and len(run.out) > 65536
    assert [c["name"] for c in run.json["contracts"]] == [f"c{i}" for i in range(50)]


def test_a_report_that_cannot_be_written_fails_the_run(tmp_path):
    import os
    import subprocess
    import sys

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "driftcheck", "check", "--root", str(FIXTURES / "in-sync")],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 2
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


def test_long_running_commands_turn_the_cycle_collector_back_on():
    import gc

    from driftcheck.cli import LazyGroup, cli

    gc.disable()
    try:
        LazyGroup.get_command(cli, None, "check")  # type: ignore[arg-type]
        assert not gc.isenabled()
        LazyGroup.get_command(cli, None, "e2e")  # type: ignore[arg-type]
        assert gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("closed", [">&-", "2>&-", ">&- 2>&-"])
def test_a_closed_standard_stream_does_not_change_the_verdict(closed):
    import subprocess
    import sys

    command = f'exec "$@" {closed}'
    proc = subprocess.run(["bash", "-c", command, "bash", sys.executable, "-m", "driftcheck", "check", "--root",
                           str(FIXTURES / "in-sync")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert ("in sync" in proc.stdout) == (not closed.startswith(">&-"))
