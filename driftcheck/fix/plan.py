"""`driftcheck fix`: from a check result, the new text of every mirror that drifted.

Pure planning, no writes (the command in `driftcheck.cli.fix` writes):

1. For each mirror list (a file and symbol, however many contracts name it) that
   drifted and whose lists could all be read, compute the keys it should hold:
   its own keys in their order, minus the extra ones, plus the missing ones —
   in sorted position when the list is sorted, else appended in source order;
   with `order = "same"` in source order. Documented exceptions are honoured (an
   allowed extra stays, an allowed missing key is not added) because each step
   asks `compare_contract` itself what differs. With several contracts the steps
   repeat until every contract is satisfied; if they pull in opposite
   directions, the mirror is refused.
2. Rewrite only the value's byte span, keeping its style (`driftcheck.fix.shell`,
   `driftcheck.fix.python`); Go mirrors are refused.
3. Read the new text back with the real extractor: unless every list of the
   file extracts to exactly the keys planned, nothing of it is written.

A list that could not be extracted is never rewritten, and nothing outside the
value span changes: prefix and suffix bytes, the BOM and line endings stay.
"""

from __future__ import annotations

import bisect
import difflib
import importlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from driftcheck.compare import compare_contract
from driftcheck.languages.driver import extract_list
from driftcheck.fix.layout import Refused
from driftcheck.model import CheckResult, ContractResult, ExtractedList, Key, ListRef, MirrorResult, Span
from driftcheck.sources import UTF8_BOM, SourceFile, SourceFiles

_REWRITERS = {"shell": "driftcheck.fix.shell", "python": "driftcheck.fix.python",
              "typescript": "driftcheck.fix.typescript", "javascript": "driftcheck.fix.typescript",
              "yaml": "driftcheck.fix.yaml", "json": "driftcheck.fix.json", "dotenv": "driftcheck.languages.dotenv.fix"}
_MAX_ROUNDS = 16


@dataclass(frozen=True)
class Refusal:
    """A drifted mirror fix will not rewrite; `message` says where and why."""

    path: str
    line: int
    column: int
    symbol: str
    reason: str

    @property
    def message(self) -> str:
        return (f"{self.path}:{self.line}:{self.column}: cannot rewrite {self.symbol} automatically: "
                f"{self.reason}; edit it by hand")


@dataclass(frozen=True)
class MirrorFix:
    """One list's new value."""

    symbol: str
    span: Span
    new_value: bytes
    before: tuple[str, ...]
    after: tuple[str, ...]
    repeated: tuple[str, ...] = ()  # keys written more than once before (DC003)

    @property
    def added(self) -> list[str]:
        return [k for k in self.after if k not in self.before]

    @property
    def removed(self) -> list[str]:
        return [k for k in dict.fromkeys(self.before) if k not in self.after]

    @property
    def repeats_removed(self) -> list[str]:
        counted = [k for k, n in Counter(self.before).items() if n > 1]
        return [k for k in dict.fromkeys([*counted, *self.repeated]) if k in self.after]

    @property
    def reordered(self) -> bool:
        kept_before = [k for k in dict.fromkeys(self.before) if k in self.after]
        return kept_before != [k for k in self.after if k in self.before]

    def summary(self) -> str:
        parts = [f"+{k}" for k in self.added] + [f"-{k}" for k in self.removed]
        parts += [f"-{k} (repeated)" for k in self.repeats_removed]
        if self.reordered:
            parts.append("(reordered)")
        return " ".join([self.symbol, *parts])


@dataclass(frozen=True)
class FileFix:
    """A file's new content (BOM included, as on disk) and the lists that changed in it."""

    path: Path
    display: str
    old: bytes
    new: bytes
    mirrors: tuple[MirrorFix, ...]

    @property
    def summary(self) -> str:
        return f"fixed {self.display}: " + "; ".join(m.summary() for m in self.mirrors)


@dataclass(frozen=True)
class FixPlan:
    files: tuple[FileFix, ...] = ()
    refusals: tuple[Refusal, ...] = ()


class OverlayFiles(SourceFiles):
    """SourceFiles that see planned contents instead of what is on disk (to check a plan)."""

    def __init__(self, root: Path, overlay: dict[str, SourceFile]) -> None:
        super().__init__(root)
        self._overlay = overlay  # realpath -> new content

    def load(self, path: str | Path, display: str | None = None) -> SourceFile | object:  # type: ignore[override]
        real = os.path.realpath(self.resolve(path))
        if real in self._overlay:
            return self._overlay[real]
        return super().load(path, display)


def overlay_for(plan: FixPlan, files: SourceFiles) -> OverlayFiles:
    """The files as they will be once `plan` is written."""
    return OverlayFiles(files.root, {os.path.realpath(f.path): _source_with(f) for f in plan.files})


@dataclass
class _Target:
    """One mirror list (file + symbol) and every (contract, mirror index) that names it."""

    real: str
    mirror: ExtractedList
    uses: list[tuple[ContractResult, int]] = field(default_factory=list)


def plan_fix(result: CheckResult, files: SourceFiles) -> FixPlan:
    """What `fix` would write; `files` must be the SourceFiles the check read (same bytes)."""
    targets: dict[tuple[str, str], _Target] = {}
    readable: dict[str, list[ExtractedList]] = {}  # every list read per file, sources included
    for contract in result.contracts:
        for index, mirror in enumerate(contract.mirrors):
            ref = mirror.extracted.ref
            real = os.path.realpath(files.resolve(ref.path))
            targets.setdefault((real, ref.symbol), _Target(real, mirror.extracted)).uses.append((contract, index))
        for extracted in (contract.source, *(m.extracted for m in contract.mirrors)):
            real = os.path.realpath(files.resolve(extracted.ref.path))
            if extracted.keys is not None and extracted not in readable.setdefault(real, []):
                readable[real].append(extracted)

    refusals: list[Refusal] = []
    planned: dict[str, list[tuple[_Target, SourceFile, MirrorFix]]] = {}
    for target in targets.values():
        statuses = {contract.mirrors[index].status for contract, index in target.uses}
        if "error" in statuses or statuses == {"in_sync"}:
            continue  # never rewrite what could not be read or compared; nothing to do when in sync
        loaded = files.load(target.mirror.ref.path)
        if not isinstance(loaded, SourceFile):  # pragma: no cover - the status says it was read
            continue
        try:
            fix = _plan_mirror(target, loaded, files)
        except Refused as refused:
            refusals.append(_refusal(target.mirror, loaded, refused))
            continue
        if fix is not None:
            planned.setdefault(target.real, []).append((target, loaded, fix))

    file_fixes: list[FileFix] = []
    for real, entries in planned.items():
        fixed, refused_here = _verified_file(real, entries, readable[real], files)
        refusals.extend(refused_here)
        if fixed is not None:
            file_fixes.append(fixed)
    refusals.sort(key=lambda r: (r.path, r.line, r.column, r.symbol))
    file_fixes.sort(key=lambda f: f.display)
    return FixPlan(tuple(file_fixes), tuple(refusals))


def _plan_mirror(target: _Target, loaded: SourceFile, files: SourceFiles) -> MirrorFix | None:
    """The mirror's new value; None when its keys need no change; Refused when it cannot be rewritten."""
    mirror = target.mirror
    desired = _desired(target, files)
    repeats = tuple(dict.fromkeys(f.key for f in mirror.findings if f.code == "DC003" and f.key))
    if desired == list(mirror.key_names) and not repeats:
        return None  # the drift is elsewhere (e.g. a stale exception), not in the list's keys
    if not desired:
        raise Refused("the fixed list would be empty")
    if mirror.ref.language == "go":
        raise Refused("fix does not rewrite Go lists yet (Go is normally the source of record)")
    span = mirror.value_span
    if span is None:
        raise Refused("the extractor did not report where its value is")
    new_value = importlib.import_module(_REWRITERS[mirror.ref.language]).rewrite(loaded, mirror, desired)
    if new_value == loaded.data[span.start_byte:span.end_byte]:
        return None
    return MirrorFix(mirror.ref.symbol, span, new_value, mirror.key_names, tuple(desired), repeats)


# --------------------------------------------------------------------------- the keys a mirror should hold


def _desired(target: _Target, files: SourceFiles) -> list[str]:
    """Step each contract's differences into the list until none remain (or they conflict)."""
    keys = list(dict.fromkeys(target.mirror.key_names))
    sorted_mode = len(keys) >= 2 and keys == sorted(keys)
    seen = {tuple(keys)}
    for _ in range(_MAX_ROUNDS):
        changed_by: list[str] = []
        for contract, index in target.uses:
            result = _simulate(contract, index, target, keys, files)
            new = _step(keys, result, contract, sorted_mode)
            if new != keys:
                keys = new
                changed_by.append(contract.contract.name)
        if not changed_by:
            return keys
        if tuple(keys) in seen:
            names = ", ".join(dict.fromkeys(changed_by))
            raise Refused(f"the contracts naming it ({names}) disagree about its keys")
        seen.add(tuple(keys))
    raise Refused("the contracts naming it never agree about its keys")  # pragma: no cover - bounded


def _simulate(contract: ContractResult, index: int, target: _Target, keys: list[str],
              files: SourceFiles) -> MirrorResult:
    """The comparison as it would be if the mirror held `keys`."""
    mirror = target.mirror
    at = mirror.definition or Key(mirror.ref.symbol, 1, 1)
    candidate = tuple(Key(k, at.line, at.column) for k in keys)
    lists = []
    for m in contract.mirrors:
        same = (os.path.realpath(files.resolve(m.extracted.ref.path)), m.extracted.ref.symbol) == \
            (target.real, mirror.ref.symbol)
        lists.append(ExtractedList(m.extracted.ref, candidate, (), mirror.definition, mirror.value_span,
                                   mirror.allowances) if same else m.extracted)
    return compare_contract(contract.contract, contract.source, lists).mirrors[index]


def _step(keys: list[str], result: MirrorResult, contract: ContractResult, sorted_mode: bool) -> list[str]:
    extra = set(result.extra)
    kept = [k for k in keys if k not in extra]
    missing = [k for k in result.missing if k not in kept]
    if contract.contract.order == "same":
        return _source_order(kept, missing, contract.source.key_names)
    if sorted_mode:
        out = list(kept)
        for key in missing:
            bisect.insort(out, key)
        return out
    return kept + missing


def _source_order(kept: list[str], missing: list[str], source: tuple[str, ...]) -> list[str]:
    """Source keys in source order; keys the source lacks (allowed extras) stay after their predecessor."""
    in_source = list(dict.fromkeys(source))
    wanted = set(kept) | set(missing)
    out = [k for k in in_source if k in wanted]
    placed = set(out)
    for i, key in enumerate(kept):
        if key in placed:
            continue
        before = next((kept[j] for j in range(i - 1, -1, -1) if kept[j] in placed), None)
        out.insert(out.index(before) + 1 if before is not None else 0, key)
        placed.add(key)
    return out


# --------------------------------------------------------------------------- building and verifying a file


def _splice(data: bytes, fixes: list[MirrorFix]) -> bytes:
    out, pos = [], 0
    for fix in sorted(fixes, key=lambda f: f.span.start_byte):
        out.append(data[pos:fix.span.start_byte])
        out.append(fix.new_value)
        pos = fix.span.end_byte
    out.append(data[pos:])
    return b"".join(out)


def _verified_file(real: str, entries: list[tuple[_Target, SourceFile, MirrorFix]],
                   lists: list[ExtractedList], files: SourceFiles) -> tuple[FileFix | None, list[Refusal]]:
    """The file with every fix that reads back exactly as planned; the others become refusals."""
    refusals: list[Refusal] = []
    source = entries[0][1]
    entries = sorted(entries, key=lambda e: e[2].span.start_byte)
    for a, b in zip(entries, entries[1:]):
        if b[2].span.start_byte < a[2].span.end_byte:  # pragma: no cover - extractors give disjoint values
            for target, loaded, _fix in (a, b):
                refusals.append(_refusal(target.mirror, loaded, Refused("its value overlaps another list's")))
            entries = [e for e in entries if e is not a and e is not b]
    while entries:
        fixes = [e[2] for e in entries]
        data = _splice(source.data, fixes)
        new_source = SourceFile(path=source.path, display=source.display, data=data, bom=source.bom)
        overlay = OverlayFiles(files.root, {real: new_source})
        changed = {f.symbol: list(f.after) for f in fixes}
        failed: dict[str, str] = {}  # symbol -> why it did not read back
        for before in lists:
            ref: ListRef = before.ref
            again = extract_list(ref, overlay)
            expected = changed.get(ref.symbol, list(before.key_names))
            errors = [f for f in again.findings if f.exit_code == 2]
            if errors:
                failed[ref.symbol] = (f"the rewritten file would not read back: {errors[0].code} "
                                      f"{errors[0].message}")
            elif again.keys is None or list(again.key_names) != expected:
                failed[ref.symbol] = ("the rewritten value would not read back as the planned keys "
                                      "(please report this)")
        if not failed:
            bom = UTF8_BOM if source.bom else b""
            return FileFix(source.path, source.display, bom + source.data, bom + data, tuple(fixes)), refusals
        # Blame the rewritten lists (an untouched list fails only because of them): drop them all
        # when the failure is not pinned to one.
        blamed = [e for e in entries if e[2].symbol in failed] or entries
        for target, loaded, fix in blamed:
            reason = failed.get(fix.symbol) or next(iter(failed.values()))
            refusals.append(_refusal(target.mirror, loaded, Refused(reason)))
        entries = [e for e in entries if e not in blamed]
    return None, refusals


def _refusal(mirror: ExtractedList, source: object, refused: Refused) -> Refusal:
    line, column = 1, 1
    if refused.at_byte is not None and isinstance(source, SourceFile):
        line, column = source.position(refused.at_byte)
    elif mirror.definition is not None:
        line, column = mirror.definition.line, mirror.definition.column
    elif mirror.value_span is not None:
        line, column = mirror.value_span.start_line, mirror.value_span.start_column
    path = source.display if isinstance(source, SourceFile) else mirror.ref.path
    return Refusal(path, line, column, mirror.ref.symbol, refused.reason)


def _source_with(fix: FileFix) -> SourceFile:
    bom = fix.new.startswith(UTF8_BOM) and fix.old.startswith(UTF8_BOM)
    data = fix.new[len(UTF8_BOM):] if bom else fix.new
    return SourceFile(path=fix.path, display=fix.display, data=data, bom=bom)


# --------------------------------------------------------------------------- --diff


def _lines(text: str) -> list[str]:
    """Lines ending in "\\n" (a "\\r" stays part of its line), as diff and patch see them."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(plan: FixPlan) -> str:
    """A unified diff of every planned change (paths a/REL, b/REL), applicable with `git apply`."""
    out: list[str] = []
    for fix in plan.files:
        old = _lines(fix.old.decode("utf-8"))
        new = _lines(fix.new.decode("utf-8"))
        for line in difflib.unified_diff(old, new, f"a/{fix.display}", f"b/{fix.display}"):
            if line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
