"""The go backend (transitional: wraps the extractor written before the backend protocol)."""

from driftcheck.languages.driver import LegacyBackend

BACKEND = LegacyBackend("go", "driftcheck.languages.go.extractor")
