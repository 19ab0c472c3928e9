"""`driftcheck platform serve`: the embedded reference platform from the command line.

The main CLI adds the `platform` group lazily; `python -m driftcheck.platform.cli`
runs it on its own. Only click and the standard library are imported here at
module level: starlette/uvicorn load when `serve` actually starts a server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from driftcheck.config import DEFAULT_SOURCE, ConfigError, parse_list_ref
from driftcheck.platform.keys import load_blocked_keys, parse_key_list

TOKEN_ENV = "DRIFTCHECK_ADMIN_TOKEN"
# A guessable token guards nothing, and the e2e runner cannot redact a short one safely.
MIN_TOKEN_LENGTH = 16


@click.group(name="platform")
def platform() -> None:
    """The embedded reference platform: a local server that enforces the blocked-key list."""


def _token() -> tuple[str, bool]:
    """(token, generated). The environment's token is never printed."""
    from driftcheck.platform.server import generate_token

    value = os.environ.get(TOKEN_ENV)
    if value is None:
        return generate_token(), True
    if not value or any(not 0x21 <= ord(c) <= 0x7E for c in value):
        raise click.UsageError(f"{TOKEN_ENV} is set but is not a usable token: it must be non-empty printable "
                               "ASCII without spaces (unset it to have one generated)")
    if len(value) < MIN_TOKEN_LENGTH:
        raise click.UsageError(f"{TOKEN_ENV} is {len(value)} characters; a token needs at least {MIN_TOKEN_LENGTH} "
                               "(unset it to have a strong one generated)")
    return value, False


def _blocked_keys(root: Path, source: str | None, blocked_keys: str | None) -> tuple[frozenset[str], str]:
    """The blocked-key set and where it came from; exits 2 when the source list cannot be read."""
    if source is not None and blocked_keys is not None:
        raise click.UsageError("--source and --blocked-keys are mutually exclusive")
    if blocked_keys is not None:
        keys, invalid = parse_key_list(blocked_keys)
        if invalid:
            raise click.UsageError(f"--blocked-keys: not environment-variable names: {', '.join(invalid)}")
        return keys, "--blocked-keys"
    text = source if source is not None else DEFAULT_SOURCE
    try:
        ref = parse_list_ref(text, root)
    except ConfigError as exc:
        raise click.UsageError(f"--source: {exc}") from None
    keys, findings = load_blocked_keys(root, ref)
    from driftcheck.report.text_format import finding_line

    for f in findings:
        click.echo(finding_line(f), err=True)
    if keys is None:
        click.echo(f"driftcheck platform: cannot load the blocked-key list from {text}; not serving "
                   "(fix the findings above, or simulate a list with --blocked-keys A,B)", err=True)
        sys.exit(2)
    return keys, text


@platform.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes a test server: a warning is printed.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to bind; 0 picks a free one (printed).")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="SQLite file to keep state across restarts (default: in memory).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Repository root; --source resolves against it.")
@click.option("--source", metavar="PATH:SYMBOL", default=None,
              help=f"The list of record to enforce (default: {DEFAULT_SOURCE}).")
@click.option("--blocked-keys", metavar="A,B", default=None,
              help="Enforce this list instead of the source's (simulates a stale deploy).")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, db: str | None, root: Path, source: str | None,
                  blocked_keys: str | None) -> None:
    """Serve the platform API until Ctrl-C or SIGTERM.

    Every route needs `Authorization: Bearer <token>`; the token comes from
    DRIFTCHECK_ADMIN_TOKEN, else one is generated and printed once.
    """
    from driftcheck.platform.server import PlatformError, RunningPlatform, format_url, is_loopback, serve

    if not is_loopback(host):
        if ctx.get_parameter_source("host") is not ParameterSource.COMMANDLINE:
            raise click.UsageError(f"refusing to bind {host}: a non-loopback address needs an explicit --host")
        click.echo(f"warning: binding {host} exposes this test platform beyond this machine; "
                   "anyone who can reach it and holds the token can use it", err=True)
    token, generated = _token()
    keys, origin = _blocked_keys(root, source, blocked_keys)

    def ready(running: RunningPlatform) -> None:
        count = len(running.blocked_keys)
        click.echo(f"driftcheck platform listening on {format_url(host, running.port)} "
                   f"({count} blocked key{'' if count == 1 else 's'} from {origin})")
        if generated:
            # The one place a token is ever printed: the operator needs it to call the API.
            click.echo(f"admin token (generated; set {TOKEN_ENV} to choose one): {token}")

    try:
        code = serve(keys, token, host=host, port=port, db=db or ":memory:", on_ready=ready)
    except PlatformError as exc:
        click.echo(f"driftcheck platform: error: {exc}", err=True)
        sys.exit(2)
    if code:
        click.echo("driftcheck platform: the server stopped unexpectedly", err=True)
    else:
        click.echo("driftcheck platform stopped", err=True)
    sys.exit(code)


def main() -> None:
    platform(prog_name="driftcheck platform")


if __name__ == "__main__":
    sys.exit(main())
