"""Bad input: every unreadable file is one DC105 finding, never a crash or a pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftcheck.languages.driver import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import MAX_FILE_BYTES, SourceFile, SourceFiles


def extract(tmp_path: Path, name: str, language="shell"):
    return extract_list(ListRef(f"{name}:X", name, "X", language), SourceFiles(tmp_path))


def only(result, code="DC105"):
    assert result.keys is None
    [finding] = result.findings
    assert finding.code == code
    return finding


def test_missing_file(tmp_path):
    finding = only(extract(tmp_path, "nope.sh"))
    assert finding.path == "nope.sh" and (finding.line, finding.column) == (1, 1)
    assert "no such file" in finding.message


def test_directory(tmp_path):
    (tmp_path / "dir.sh").mkdir()
    assert "is a directory" in only(extract(tmp_path, "dir.sh")).message


def test_binary_file_names_the_line_of_the_nul(tmp_path):
    (tmp_path / "bin.sh").write_bytes(b"X=1\nY=2\n\x00\x01\x02")
    finding = only(extract(tmp_path, "bin.sh"))
    assert finding.line == 3 and "binary" in finding.message


def test_not_utf8_names_the_line(tmp_path):
    (tmp_path / "latin.sh").write_bytes(b"# ok\nX=\"caf\xe9\"\n")
    finding = only(extract(tmp_path, "latin.sh"))
    assert finding.line == 2 and "not UTF-8" in finding.message and "0xe9" in finding.message


@pytest.mark.parametrize("content", [b"", b"\n\n  \t\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    (tmp_path / "empty.sh").write_bytes(content)
    assert "empty" in only(extract(tmp_path, "empty.sh")).message


def test_huge_file(tmp_path):
    with open(tmp_path / "huge.sh", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert "limit" in only(extract(tmp_path, "huge.sh")).message


def test_symlink_loop(tmp_path):
    os.symlink(tmp_path / "b.sh", tmp_path / "a.sh")
    os.symlink(tmp_path / "a.sh", tmp_path / "b.sh")
    assert "symbolic link loop" in only(extract(tmp_path, "a.sh")).message


def test_fifo_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.sh")
    assert "not a regular file" in only(extract(tmp_path, "pipe.sh")).message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.sh"
    path.write_text("X=1\n")
    path.chmod(0)
    assert only(extract(tmp_path, "secret.sh")).code == "DC105"


def test_bom_is_stripped_and_positions_count_characters(tmp_path):
    (tmp_path / "f.sh").write_bytes("\ufeff# é\nX=\"é A\"\n".encode())
    files = SourceFiles(tmp_path)
    source = files.load("f.sh")
    assert isinstance(source, SourceFile) and source.bom
    assert source.data.startswith(b"# ")
    offset = source.data.index(b"A")
    assert source.position(offset) == (2, 6)  # X="é A": A is the 6th character
    assert files.load("f.sh") is source  # read once per run
