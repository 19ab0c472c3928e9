"""The rule catalogue: a stable code, a name, an exit code, a summary and a fix.

Codes and names are a contract (docs/rules.md): CI configurations, SARIF
consumers and scripts match on them. Add rules; never renumber or rename.
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from driftcheck.model import Finding


class Rule(NamedTuple):
    """One rule of the catalogue."""

    code: str
    name: str
    exit_code: int
    summary: str
    fix: str
    # The one-line message, a shellcheck-style sentence with {parameters}; `finding()` fills it in.
    message: str = "{detail}"


_CATALOGUE = (
    Rule("DC001", "missing-in-mirror", 1,
         "A key of the source list is missing from the mirror.",
         "Add the key to the mirror (`driftcheck fix` does it), or document the difference with "
         "`driftcheck: allow-missing=KEY -- reason` next to the mirror's definition."),
    Rule("DC002", "extra-in-mirror", 1,
         "The mirror lists a key that the source does not.",
         "Remove the key from the mirror (`driftcheck fix` does it), add it to the source, or document it "
         "with `driftcheck: allow-extra=KEY -- reason` next to the mirror's definition."),
    Rule("DC003", "duplicate-key", 1,
         "A key is listed more than once in one list.",
         "Delete the repeated entry.",
         message="{key!r} is listed more than once in {name} (first at line {first_line}){note}; delete the repeated entry"),
    Rule("DC004", "unused-exception", 1,
         "A documented exception no longer matches any difference between the lists.",
         "Delete the stale `allow-missing`/`allow-extra` pragma or configuration entry."),
    Rule("DC005", "order-mismatch", 1,
         "The mirror holds the same keys in a different order (contract has `order = \"same\"`).",
         "Reorder the mirror to follow the source (`driftcheck fix` does it)."),
    Rule("DC006", "unattached-exception", 1,
         "A `driftcheck:` pragma is attached to no list definition, so it has no effect.",
         "Move the pragma to the line directly above the mirror's definition (no blank line between), "
         "or to the end of its first line, in the mirror's own file.",
         message="this driftcheck pragma is attached to no list definition ({why}); {fix}"),
    Rule("DC100", "symbol-not-found", 2,
         "The list's symbol is not defined in the file.",
         "Check the `PATH:SYMBOL` reference in the configuration; the message names the closest symbol found.",
         message="{name!r} is not defined in {path}{hint}"),
    Rule("DC101", "syntax-error", 2,
         "The file does not parse.",
         "Fix the syntax error at the reported line; driftcheck will not guess around it."),
    Rule("DC102", "not-static", 2,
         "An element or value cannot be evaluated statically.",
         "Write the keys as literal strings (or constants defined in the same file/package)."),
    Rule("DC103", "ambiguous-definition", 2,
         "The symbol is defined conditionally or more than once.",
         "Keep exactly one unconditional top-level definition of the list."),
    Rule("DC104", "mutated", 2,
         "The list is changed after its declaration.",
         "Put every key in the declaration itself instead of adding or removing keys later.",
         message="cannot prove {name} is unchanged here: {why}"),
    Rule("DC105", "unreadable", 2,
         "The file cannot be read as UTF-8 source.",
         "Check the path exists, is a regular file, is UTF-8 text and is not too large."),
    Rule("DC106", "config-error", 2,
         "The configuration or the command line is wrong.",
         "Correct the named configuration key or option."),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _CATALOGUE}


def finding(code: str, path: str, line: int, column: int, /, key: str | None = None, **params: object) -> "Finding":
    """A finding of rule `code`, its message built from the rule's template (`path` may be a template parameter too)."""
    from driftcheck.model import Finding  # model imports this module for rule metadata

    if key is not None:
        params.setdefault("key", key)
    return Finding(code, RULES[code].message.format(**params), path, line, column, key)
