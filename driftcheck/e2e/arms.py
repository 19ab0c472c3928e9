"""The arms of the end-to-end run: which vendor keys a workspace is provisioned with.

Mirrors the staging harness: `platform` sends no vendor key; the others send one
vendor's keys. Which of them are deferred (written after the byok opt-in) is
not decided here but by the source list (runner.split_keys), because that is
what the server refuses at create.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from driftcheck.e2e.redact import MIN_SECRET_LENGTH

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class ArmSpec:
    """One arm: its keys whose value is the vendor secret, its other settings, and where the secret comes from."""

    name: str
    env_var: str | None  # E2E_*_API_KEY holding the vendor secret; None for the platform arm
    secret_keys: tuple[str, ...] = ()  # each gets the vendor secret as its value
    url_keys: tuple[str, ...] = ()  # each gets the vendor base URL (not a secret, but blocked like one)
    settings: tuple[str, ...] = ()  # non-secret settings (e.g. a model name); normally not in the blocked list


ARMS: dict[str, ArmSpec] = {
    "platform": ArmSpec("platform", None),
    "minimax": ArmSpec("minimax", "E2E_MINIMAX_API_KEY", ("MINIMAX_API_KEY",)),
    "anthropic": ArmSpec("anthropic", "E2E_ANTHROPIC_API_KEY", ("ANTHROPIC_API_KEY",)),
    "google": ArmSpec("google", "E2E_GOOGLE_API_KEY", ("GOOGLE_API_KEY", "GEMINI_API_KEY")),
    "openai": ArmSpec("openai", "E2E_OPENAI_API_KEY", ("OPENAI_API_KEY", "HERMES_CUSTOM_API_KEY"),
                      url_keys=("OPENAI_BASE_URL", "HERMES_CUSTOM_BASE_URL"), settings=("HERMES_CUSTOM_MODEL",)),
}
ARM_NAMES = tuple(ARMS)  # run order of `--arm all`
# The default arm is the first of these whose variable is set (docs/e2e.md).
DEFAULT_ORDER = ("minimax", "anthropic", "google", "openai")
OPENAI_BASE_URL_ENV = "E2E_OPENAI_BASE_URL"
OPENAI_MODEL_ENV = "E2E_OPENAI_MODEL"


@dataclass(frozen=True)
class Arm:
    """An arm with its values: `values` is what gets written; `secret_values` must never be shown."""

    name: str
    values: tuple[tuple[str, str], ...]  # (key, value) in a stable order
    secret_values: tuple[str, ...] = field(default=(), repr=False)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.values)

    def __repr__(self) -> str:  # never the values
        return f"Arm({self.name!r}, keys={self.keys!r})"


class ArmError(Exception):
    """A usage/environment problem choosing or filling an arm (exit 2)."""


def default_arm(env: Mapping[str, str]) -> str:
    for name in DEFAULT_ORDER:
        if env.get(ARMS[name].env_var or ""):
            return name
    return "platform"


def arm_names(choice: str | None, env: Mapping[str, str], local: bool) -> tuple[str, ...]:
    """The arms to run for `--arm CHOICE` (None: the default)."""
    if choice is None:
        choice = "all" if local else default_arm(env)
    if choice == "all":
        return ARM_NAMES
    if choice not in ARMS:
        raise ArmError(f"unknown arm {choice!r}; choose one of {', '.join((*ARM_NAMES, 'all'))}")
    return (choice,)


def build_arm(name: str, env: Mapping[str, str], dummy: bool) -> Arm:
    """Fill an arm with values: from its E2E_* variable, or (dummy=True, `--local`) generated ones."""
    spec = ARMS[name]
    if spec.env_var is None:
        return Arm(name, ())
    if dummy:
        secret = "dummy-" + secrets.token_hex(16)
        base_url = DEFAULT_OPENAI_BASE_URL
        model = DEFAULT_OPENAI_MODEL
    else:
        secret = env.get(spec.env_var, "")
        if not secret.strip():
            raise ArmError(f"arm {name!r} needs its key in ${spec.env_var}, which is not set; export it, "
                           f"or choose another --arm (the platform arm needs no key)")
        if len(secret.strip()) < MIN_SECRET_LENGTH:
            raise ArmError(f"${spec.env_var} holds {len(secret.strip())} characters; a key value needs at least "
                           f"{MIN_SECRET_LENGTH} to be redacted safely (no output may show half of it)")
        base_url = env.get(OPENAI_BASE_URL_ENV) or DEFAULT_OPENAI_BASE_URL
        model = env.get(OPENAI_MODEL_ENV) or DEFAULT_OPENAI_MODEL
    values = [(k, secret) for k in spec.secret_keys]
    values += [(k, base_url) for k in spec.url_keys]
    values += [(k, model) for k in spec.settings]
    # Stable, readable order: as the harness lists them (vendor key first).
    order = {k: i for i, k in enumerate((*spec.secret_keys[:1], *spec.url_keys[:1], *spec.secret_keys[1:],
                                          *spec.url_keys[1:], *spec.settings))}
    values.sort(key=lambda kv: order[kv[0]])
    # Every value read from the environment is withheld like the key: a custom base URL can carry
    # credentials (https://user:pass@host), and nothing says a model name is not private.
    from_env = [] if dummy or not spec.url_keys else [env.get(v) for v in (OPENAI_BASE_URL_ENV, OPENAI_MODEL_ENV)]
    masked = (secret, *(v for v in from_env if v))
    return Arm(name, tuple(values), secret_values=masked)
