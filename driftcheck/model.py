"""The data every stage shares: keys, extracted lists, findings and results.

Data flows one way — configuration → extract → compare → report — and every
stage speaks in these frozen dataclasses. Lines and columns are 1-based;
columns count characters (not bytes), as editors and ruff do.

Every run builds these classes at start-up, and @dataclass writes each method it
generates as source text and compiles it: for `frozen=True, eq=True` seven per class,
which cost a check more than any other part of its start-up. So the model's
classes share one implementation of what those methods do (`_Value`: the same
constructor, immutability, equality, hashing and repr) and @dataclass generates
nothing: it only records the fields (`dataclasses.fields`, `replace` and friends
work as usual). Records that stay inside one stage (the rule catalogue, registry
rows, options, what a backend reads) are NamedTuples.
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field
from typing import Any, Literal

from driftcheck.rules import RULES

Language = Literal["go", "shell", "python", "typescript", "javascript", "yaml", "json", "dotenv"]
Relation = Literal["equal", "subset", "superset"]
Order = Literal["any", "same"]
AllowKind = Literal["missing", "extra"]
Status = Literal["in_sync", "drift", "error"]


class _Value:
    """Constructor, immutability, equality, hashing and repr by field values, as @dataclass(frozen=True)
    generates them."""

    __slots__ = ()
    __dataclass_fields__: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = self.__class__
        names, defaults = _SIGNATURES.get(cls) or _signature(cls)
        if len(args) > len(names):
            raise TypeError(f"{cls.__qualname__}() takes {len(names)} arguments but {len(args)} were given")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{cls.__qualname__}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls.__qualname__}() got multiple values for argument {name!r}")
            values[name] = value
        for name in names:
            if name in values:
                object.__setattr__(self, name, values[name])
            elif name in defaults:
                object.__setattr__(self, name, defaults[name])
            else:
                raise TypeError(f"{cls.__qualname__}() missing required argument: {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")  # __init__ sets fields past this

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__dataclass_fields__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{self.__class__.__qualname__}({fields})"


_SIGNATURES: dict[type, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _signature(cls: type) -> tuple[tuple[str, ...], dict[str, Any]]:
    """A model class's field names in order and their defaults, read once from what @dataclass recorded."""
    fields = cls.__dataclass_fields__.values()  # type: ignore[attr-defined]
    if any(f.default_factory is not MISSING for f in fields):
        raise TypeError(f"{cls.__qualname__}: a model field's default is a plain (immutable) value")
    defaults = {f.name: f.default for f in fields if f.default is not MISSING}
    _SIGNATURES[cls] = signature = (tuple(f.name for f in fields), defaults)
    return signature


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class ListRef(_Value):
    """`PATH:SYMBOL` as the user wrote it, split and typed."""

    ref: str  # as written, e.g. "tests/e2e/harness.sh:BYOK_STRIP_KEYS"
    path: str  # as written (relative to the root unless absolute)
    symbol: str
    language: Language
    go_target: str | None = None  # "os/arch" from the contract: evaluate Go build constraints for it


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class Key(_Value):
    """One key of a list, where it is written."""

    key: str
    line: int
    column: int


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class Span(_Value):
    """A region of a file: byte offsets for rewriting, line/column for people."""

    start_byte: int
    end_byte: int
    start_line: int
    start_column: int
    end_line: int
    end_column: int


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class Allowance(_Value):
    """A documented exception: `key` may be missing from / extra in a mirror."""

    key: str
    kind: AllowKind
    reason: str
    origin: Literal["pragma", "config"]
    path: str  # where it is written (mirror file or config file)
    line: int
    column: int


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class Finding(_Value):
    """One problem, with a stable rule code from `driftcheck.rules`."""

    code: str
    message: str
    path: str
    line: int
    column: int
    key: str | None = None
    contract: str | None = None

    @property
    def name(self) -> str:
        return RULES[self.code].name

    @property
    def severity(self) -> Literal["error", "drift"]:
        return "error" if RULES[self.code].exit_code == 2 else "drift"

    @property
    def exit_code(self) -> int:
        return RULES[self.code].exit_code

    def for_contract(self, contract: str) -> Finding:
        return Finding(self.code, self.message, self.path, self.line, self.column, self.key, contract)


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class ExtractedList(_Value):
    """What an extractor returns: the keys in order, or `keys=None` and findings.

    `findings` may also be non-fatal (e.g. DC003 duplicates) while `keys` is set.
    `definition` is where the symbol is defined; `value_span` is the whole value
    (what `fix` rewrites); `allowances` are the inline pragmas found next to it.
    """

    ref: ListRef
    keys: tuple[Key, ...] | None
    findings: tuple[Finding, ...] = ()
    definition: Key | None = None  # symbol name with its location
    value_span: Span | None = None
    allowances: tuple[Allowance, ...] = ()

    @property
    def ok(self) -> bool:
        return self.keys is not None

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k.key for k in self.keys or ())


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class MirrorSpec(_Value):
    """One mirror of a contract and how it must relate to the source."""

    ref: ListRef
    relation: Relation = "equal"


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class Contract(_Value):
    """A named promise that the mirrors hold the source's keys (with documented exceptions)."""

    name: str
    source: ListRef
    mirrors: tuple[MirrorSpec, ...]
    order: Order = "any"
    allowances: tuple[Allowance, ...] = ()  # from configuration


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class MirrorResult(_Value):
    """One mirror compared with the source."""

    spec: MirrorSpec
    extracted: ExtractedList
    status: Status
    missing: tuple[str, ...] = ()  # source keys the mirror lacks (drift only)
    extra: tuple[str, ...] = ()  # mirror keys the source lacks (drift only)
    allowed: tuple[Allowance, ...] = ()  # exceptions that matched a difference


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class ContractResult(_Value):
    """One contract evaluated: its lists, findings and status."""

    contract: Contract
    source: ExtractedList
    mirrors: tuple[MirrorResult, ...]
    findings: tuple[Finding, ...]
    status: Status


@dataclass(init=False, eq=False, repr=False)  # init, frozen, eq, hash, repr: _Value
class CheckResult(_Value):
    """Everything one `check` run decided; the input of every reporter."""

    contracts: tuple[ContractResult, ...]
    findings: tuple[Finding, ...] = field(default=())  # run-level (config/usage) findings

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        return self.findings + tuple(f for c in self.contracts for f in c.findings)

    @property
    def status(self) -> Status:
        return status_of(self.all_findings)

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.all_findings)


def exit_code_of(findings: tuple[Finding, ...] | list[Finding]) -> int:
    """0 in sync, 1 drift, 2 could not decide; 2 wins over 1."""
    return max((f.exit_code for f in findings), default=0)


def status_of(findings: tuple[Finding, ...] | list[Finding]) -> Status:
    return {0: "in_sync", 1: "drift", 2: "error"}[exit_code_of(findings)]
