"""The yaml backend: a path from the document root, read as a YAML 1.2 loader reads it."""

from driftcheck.languages.yaml.backend import BACKEND

__all__ = ["BACKEND"]
