#!/usr/bin/env bash
# The check a team writes first: grep/sed/sort/comm over the two files.
#
#   benchmarks/alternatives/naive.sh [ROOT]
#
# Exit 0 when both lists hold the same keys, 1 on drift (the differences are
# printed), 2 when a list cannot be found. A fair, careful version of the idea:
# it anchors the bash definition at the start of a line (so command-prefix
# assignments inside functions do not count), accepts export/readonly/declare,
# takes the first definition only, follows backslash continuations and
# multi-line strings/arrays to their closing quote or parenthesis, and reads
# every quoted string between the Go `var NAME =` line and its closing brace.
set -u
root=${1:-.}
go_file=$root/workspace-server/internal/handlers/secrets.go
sh_file=$root/tests/e2e/test_staging_full_saas.sh
go_sym=${GO_SYMBOL:-platformManagedDirectLLMBypassKeys}
sh_sym=${SH_SYMBOL:-BYOK_STRIP_KEYS}

for f in "$go_file" "$sh_file"; do
  [ -f "$f" ] && [ -r "$f" ] || { echo "naive: cannot read $f" >&2; exit 2; }
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Go: from the line that assigns the symbol to the first line that is only "}".
sed -n "/\\<$go_sym[[:space:]]*=/,/^[[:space:]]*}[[:space:]]*\$/p" "$go_file" |
  grep -o '"[^"]*"' | tr -d '"' | sort > "$tmp/go"

# bash: the first top-level NAME=... line, joined with following lines until the
# value's closing quote or parenthesis; then strip quoting and split on blanks.
sed -n -E "/^((export|readonly|declare|typeset)([[:space:]]+-[a-zA-Z]+)*[[:space:]]+)?$sh_sym=/{
  :more
  /[\"')][[:space:]]*(#.*)?\$/!{ N; b more; }
  p; q
}" "$sh_file" |
  sed -E "s/^((export|readonly|declare|typeset)([[:space:]]+-[a-zA-Z]+)*[[:space:]]+)?$sh_sym=//; s/[[:space:]]#.*//" |
  tr -d "\"'()\\\\" | tr -s ' \t' '\n' | grep -v '^$' | sort > "$tmp/sh"

[ -s "$tmp/go" ] || { echo "naive: no keys found for $go_sym in $go_file" >&2; exit 2; }
[ -s "$tmp/sh" ] || { echo "naive: no keys found for $sh_sym in $sh_file" >&2; exit 2; }

comm -3 "$tmp/go" "$tmp/sh" > "$tmp/diff"
if [ -s "$tmp/diff" ]; then
  # comm -3: column 1 = only in Go (missing from the harness), column 2 = only in the harness.
  sed -e 's/^\t/extra in harness: /' -e '/^extra/!s/^/missing in harness: /' "$tmp/diff"
  exit 1
fi
echo "in sync ($(wc -l < "$tmp/go") keys)"
