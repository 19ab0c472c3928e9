"""The Go backend (docs/languages.md): read.py reads; package, constraints, syntax, evaluate and
occurrences hold the stages."""

from driftcheck.languages.go.read import GoBackend

BACKEND = GoBackend()
