"""The json backend: a path from the document root, read exactly as Python's `json` reads it."""

from driftcheck.languages.json.backend import BACKEND

__all__ = ["BACKEND"]
