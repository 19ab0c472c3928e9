"""`driftcheck extract PATH:SYMBOL`: print one list; `-:SYMBOL` reads standard input."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftcheck.languages import names as language_names
from driftcheck.sources import SourceFiles

STDIN = "-"


# Unknown options become the argument, so `-:SYMBOL` is not taken for an option (checked below).
@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("list_ref", metavar="PATH:SYMBOL")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="Directory PATH is relative to.")
@click.option("--language", type=click.Choice(language_names()), default=None,
              help="Language of the file (default: from its extension or shebang; required for '-').")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
def extract(list_ref: str, root: Path, language: str | None, fmt: str, output: Path | None) -> None:
    """Print one list; exit 2 when it cannot be extracted statically.

    PATH `-` reads the file from standard input (give --language): `driftcheck extract
    -:BYOK_STRIP_KEYS --language shell < harness.sh`.
    """
    import json
    from dataclasses import replace

    from driftcheck.cli.output import emit
    from driftcheck.config import ConfigError, parse_list_ref
    from driftcheck.languages.driver import extract_list
    from driftcheck.report.json_format import list_json
    from driftcheck.report.text_format import cwd_paths, finding_line

    from_stdin = list_ref.rpartition(":")[0] == STDIN
    if list_ref.startswith("-") and not from_stdin:
        raise click.NoSuchOption(list_ref.partition("=")[0])
    if from_stdin and language is None:
        raise click.UsageError("reading standard input ('-') needs --language (one of "
                               f"{', '.join(language_names())})")
    try:
        ref = parse_list_ref(list_ref, root, language)
    except ConfigError as exc:
        click.echo(f"<command line>:1:1: DC106 {exc}", err=True)
        sys.exit(2)
    if from_stdin:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="driftcheck-stdin-") as scratch:
            files = StdinFiles(Path(scratch), ref.language, sys.stdin.buffer.read())
            extracted = replace(extract_list(replace(ref, path=str(files.path)), files), ref=ref)
        shown = None
    else:
        extracted = extract_list(ref, SourceFiles(root))
        shown = cwd_paths(str(root))
    for finding in extracted.findings:
        if finding.code != "DC006":  # about a contract's exceptions; extract has no contract
            click.echo(finding_line(finding, shown=shown), err=True)
    if extracted.keys is not None:
        if fmt == "json":
            emit(json.dumps(list_json(extracted), indent=2) + "\n", output)
        else:
            emit("".join(k.key + "\n" for k in extracted.keys), output)
    sys.exit(2 if extracted.keys is None or any(f.exit_code == 2 for f in extracted.findings) else 0)


class StdinFiles(SourceFiles):
    """Standard input as the only file of an empty directory (a Go package of one file), shown as `-`."""

    def __init__(self, scratch: Path, language: str, data: bytes) -> None:
        from driftcheck.languages import REGISTRY

        super().__init__(scratch)
        extensions = REGISTRY[language].extensions
        self.path = self.root / ("stdin" + (extensions[0] if extensions else ""))
        self.path.write_bytes(data)

    def display(self, path: Path) -> str:
        return STDIN if path == self.path else super().display(path)
