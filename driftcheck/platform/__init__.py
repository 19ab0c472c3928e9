"""The embedded reference platform (docs/e2e.md): a small HTTP server that
enforces the blocked-key list the way the real platform does.

Importing this package is cheap: starlette and uvicorn load only when a platform
starts (`start_platform`) or the app is built (`build_app`).

    from driftcheck.platform import start_platform
    with start_platform(frozenset({"ANTHROPIC_API_KEY"})) as platform:
        ...  # platform.url, platform.token
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from driftcheck.platform.keys import DEFAULT_SOURCE, load_blocked_keys, normalise_key, parse_key_list
from driftcheck.platform.server import (
    PlatformError,
    PlatformServer,
    RunningPlatform,
    generate_token,
    serve,
    start_platform,
)

if TYPE_CHECKING:
    from driftcheck.platform.app import blocked_message, build_app

__all__ = ["DEFAULT_SOURCE", "PlatformError", "PlatformServer", "RunningPlatform", "blocked_message", "build_app",
           "generate_token", "load_blocked_keys", "normalise_key", "parse_key_list", "serve", "start_platform"]


def __getattr__(name: str) -> Any:
    if name in ("build_app", "blocked_message"):
        from driftcheck.platform import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
