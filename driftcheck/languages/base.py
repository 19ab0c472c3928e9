"""The protocol every language backend implements, and the neutral data it returns.

A backend knows one language: how to parse a file, where a name occurs, what each
occurrence does to the list, how to evaluate the definition, and which comments sit
next to it. It decides nothing about findings that every language shares: the
driver (`driftcheck.languages.driver`) turns a `Reading` into an `ExtractedList`,
owning "not found", the refusal of unproven occurrences, pragmas, duplicates and the
one fatal-finding rule (docs/languages.md).
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from driftcheck.model import Finding, Key, ListRef, Span

if TYPE_CHECKING:
    from driftcheck.sources import SourceFile, SourceFiles

# definition: the one place the list is defined; append: a recognised, evaluated append;
# read: a form known not to change the list; unproven: anything else (refuses the list, DC104).
Role = Literal["definition", "append", "read", "unproven"]


class Occurrence(NamedTuple):
    """One place a list's name is spelled, classified by the backend."""

    path: str  # display path of the file holding it (Go: any file of the package)
    line: int
    column: int
    role: Role
    # For `unproven`: what the occurrence is and how to rewrite it, as a short clause,
    # e.g. "`read -a` writes to it; read into another variable". Empty otherwise.
    why: str = ""


class Comment(NamedTuple):
    """A comment that may carry a `driftcheck:` pragma: its text without the opener."""

    text: str
    path: str
    line: int
    column: int
    # For `other_comments`: why the pragma rules do not attach it to the definition, as a short
    # clause (e.g. "a blank line separates it from KEYS's definition on line 12"). Empty: the
    # driver says it from the positions.
    why: str = ""


class Reading(NamedTuple):
    """What a backend read for one symbol of one file.

    `definition is None` with no `problems` means "not defined here": the driver
    reports DC100 and suggests the closest of `defined_names`. `problems` are the
    backend's own refusals (DC101, DC102, DC103, DC104 with a specific reason); any
    exit-2 finding among them, or any `unproven` occurrence, withholds the keys.
    `attached_comments` are the comments the pragma rules attach to the definition
    (directly above it, or at the end of its first line); `other_comments` are every
    other comment carrying `driftcheck:` in the file, for DC006.
    """

    path: str
    definition: Key | None = None
    keys: tuple[Key, ...] | None = None
    value_span: Span | None = None
    occurrences: tuple[Occurrence, ...] = ()
    problems: tuple[Finding, ...] = ()
    defined_names: tuple[str, ...] = ()
    not_found_hint: str = ""  # backend-specific DC100 advice, replacing the closest-name suggestion
    not_found_at: tuple[int, int] = (1, 1)  # line, column the DC100 points at (e.g. a local declaration)
    attached_comments: tuple[Comment, ...] = ()
    other_comments: tuple[Comment, ...] = ()
    duplicates_are_errors: bool = False  # e.g. Go map literals: the compiler rejects duplicate keys


class Candidate(NamedTuple):
    """A list `discover` may propose: a selector and the keys it reads to."""

    selector: str
    keys: tuple[Key, ...]


class Backend(Protocol):
    """One language. Imported only when a list in that language is asked for."""

    name: str

    def read(self, ref: ListRef, source: "SourceFile", files: "SourceFiles") -> Reading:
        """Read `ref.symbol` (a selector) from `source`; never raises for user input."""
        ...

# `discover` also asks each language for `candidates(source) -> list[Candidate]`: a `candidates`
# module in the language's folder, else a `candidates` method on BACKEND (driftcheck.discover).
