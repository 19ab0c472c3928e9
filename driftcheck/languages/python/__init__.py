"""The python backend (transitional: wraps the extractor written before the backend protocol)."""

from driftcheck.languages.driver import LegacyBackend

BACKEND = LegacyBackend("python", "driftcheck.languages.python.extractor")
