"""The Go backend (DESIGN.md sections 5 and 11): read.py reads; package, constraints, syntax, evaluate and
occurrences hold the stages."""

from driftcheck.languages.go.read import GoBackend

BACKEND = GoBackend()
