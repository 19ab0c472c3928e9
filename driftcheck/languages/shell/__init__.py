"""The shell backend (transitional: wraps the extractor written before the backend protocol)."""

from driftcheck.languages.driver import LegacyBackend

BACKEND = LegacyBackend("shell", "driftcheck.languages.shell.extractor")
