"""The bash backend (tree-sitter-bash for structure, a byte-exact lexer for values, `bash -n` for syntax)."""

from driftcheck.languages.shell.backend import ShellBackend

BACKEND = ShellBackend()
