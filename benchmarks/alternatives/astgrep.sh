#!/usr/bin/env bash
# The structural-search alternative: two ast-grep rules extract the lists, then
# jq/sed/sort/comm compare them.
#
#   benchmarks/alternatives/astgrep.sh [ROOT]
#
# Needs `ast-grep` (PyPI: ast-grep-cli, in the `bench` extra) and jq. Exit 0 in
# sync, 1 drift, 2 when a list cannot be found or ast-grep fails.
set -u
root=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
ast_grep=${AST_GREP:-ast-grep}
go_file=$root/workspace-server/internal/handlers/secrets.go
sh_file=$root/tests/e2e/test_staging_full_saas.sh

for f in "$go_file" "$sh_file"; do
  [ -f "$f" ] && [ -r "$f" ] || { echo "astgrep: cannot read $f" >&2; exit 2; }
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

"$ast_grep" scan --rule "$here/astgrep/go-keys.yml" --json=compact "$go_file" > "$tmp/go.json" || exit 2
"$ast_grep" scan --rule "$here/astgrep/sh-list.yml" --json=compact "$sh_file" > "$tmp/sh.json" || exit 2

# Go: each match is one string literal; drop the quotes (no escape decoding).
jq -r '.[].text' "$tmp/go.json" | sed -E 's/^["`]//; s/["`]$//' | sort > "$tmp/go"
# bash: each match is a whole `NAME=value` / `NAME+=value`; strip the name,
# comments, quoting and continuations, then split on blanks.
jq -r '.[].text' "$tmp/sh.json" |
  sed -E '1,$s/^[A-Za-z_][A-Za-z0-9_]*\+?=//; s/(^|[[:space:]])#.*//' |
  tr -d "\"'()\\\\" | tr -s ' \t' '\n' | grep -v '^$' | sort > "$tmp/sh"

[ -s "$tmp/go" ] || { echo "astgrep: no keys found in $go_file" >&2; exit 2; }
[ -s "$tmp/sh" ] || { echo "astgrep: no keys found in $sh_file" >&2; exit 2; }

comm -3 "$tmp/go" "$tmp/sh" > "$tmp/diff"
if [ -s "$tmp/diff" ]; then
  sed -e 's/^\t/extra in harness: /' -e '/^extra/!s/^/missing in harness: /' "$tmp/diff"
  exit 1
fi
echo "in sync ($(wc -l < "$tmp/go") keys)"
