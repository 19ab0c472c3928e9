"""`driftcheck discover`: find the copies of a source list that nobody declared (docs/commands.md).

Every git-tracked file under the root (or, without git, every file minus `.git`,
`node_modules`, `vendor` and build outputs) in a supported language is parsed once,
and each backend names its candidate lists (Go/bash/Python: top-level lists; YAML/
JSON: every mapping and every sequence of strings; dotenv: the file's names; TS/JS:
top-level lists and `[].field` projections). A candidate sharing at least
`min_shared` keys with a source, and at least `min_overlap` of the smaller list, is
proposed; each proposal is then read by the same extractor `check` uses, so every
printed `PATH:SELECTOR` is one `check --mirror` accepts (or the refusal is shown).
Files that cannot be read or parsed are skipped and counted, never fatal.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from driftcheck.languages import REGISTRY, backend, detect_language
from driftcheck.languages.base import Candidate
from driftcheck.model import Finding, ListRef
from driftcheck.sources import SourceFile, SourceFiles

Relation = Literal["equal", "subset", "superset", "overlap"]

# Directories never walked when the root is not a git work tree.
PRUNED = frozenset({".git", "node_modules", "vendor", "build", "dist", "out", "target", "__pycache__", ".venv",
                    "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".next", "coverage",
                    ".hg", ".svn", "site-packages"})


@dataclass(frozen=True)
class SourceList:
    """A list copies are looked for: a contract's source, or `--source`."""

    ref: ListRef
    contract: str | None
    declared: frozenset[tuple[str, str]]  # (path, canonical selector) of the contract's mirrors


@dataclass(frozen=True)
class Proposal:
    """One candidate copy of a source list."""

    ref: str  # PATH:SELECTOR, as `check --mirror` takes it
    path: str
    selector: str
    language: str
    line: int
    shared: int
    missing: tuple[str, ...]  # source keys the candidate lacks
    extra: tuple[str, ...]  # candidate keys the source lacks
    relation: Relation
    declared: bool
    refusal: Finding | None = None  # `check` cannot read it (the first exit-2 finding)


@dataclass
class SourceResult:
    source: SourceList
    keys: tuple[str, ...] | None
    findings: tuple[Finding, ...] = ()
    proposals: list[Proposal] = field(default_factory=list)


@dataclass
class Discovery:
    sources: list[SourceResult]
    files_read: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    candidates: int = 0

    @property
    def undeclared(self) -> list[Proposal]:
        return [p for s in self.sources for p in s.proposals if not p.declared]


def list_files(root: Path) -> list[str]:
    """Paths (relative, POSIX) of the files to read: git's tracked files, else a pruned walk."""
    try:
        proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached"], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.SubprocessError):
        proc = None
    if proc is not None and proc.returncode == 0:
        inside = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-prefix"], capture_output=True,
                                text=True, timeout=60)
        if inside.returncode == 0:
            return sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p})
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in PRUNED and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        found += [(rel / name).as_posix() for name in sorted(files)]
    return found


def canonical_selector(language: str, symbol: str) -> str:
    """One spelling per selector, so declared mirrors match candidates however they were written."""
    from driftcheck.config import ROOTED_LANGUAGES
    from driftcheck.languages.selectors import SelectorError, format_selector, parse_selector

    try:
        return format_selector(parse_selector(symbol, rooted=language in ROOTED_LANGUAGES))
    except SelectorError:
        return symbol


def _candidate_function(language: str) -> Callable[[SourceFile, SourceFiles], list[Candidate]] | None:
    """A language's `candidates`: a `candidates` module in its folder, else the backend's method."""
    module_name = REGISTRY[language].module
    try:
        module = importlib.import_module(module_name + ".candidates")
        function: Any = module.candidates
    except ModuleNotFoundError as exc:
        if exc.name != module_name + ".candidates":
            raise
        function = getattr(backend(language), "candidates", None)
        if function is None:
            return None
    takes_files = len(inspect.signature(function).parameters) >= 2
    return (lambda source, files: function(source, files)) if takes_files else (lambda source, files: function(source))


def relation_of(missing: int, extra: int) -> Relation:
    if not missing and not extra:
        return "equal"
    if not extra:
        return "subset"  # the candidate lies within the source
    if not missing:
        return "superset"
    return "overlap"


def discover(root: Path, sources: list[SourceList], min_shared: int = 3, min_overlap: float = 0.5,
             files: SourceFiles | None = None) -> Discovery:
    """Read every file once, collect candidates, rank them against every source."""
    from driftcheck.languages.driver import extract_list

    files = files or SourceFiles(root)
    results = []
    for source in sources:
        extracted = extract_list(source.ref, files)
        results.append(SourceResult(source, extracted.key_names if extracted.keys is not None else None,
                                    extracted.findings))
    discovery = Discovery(results)
    usable = [r for r in results if r.keys]
    functions: dict[str, Callable[[SourceFile, SourceFiles], list[Candidate]] | None] = {}
    source_sets = [(r, set(r.keys or ())) for r in usable]
    for rel in list_files(root):
        language = _language(root / rel)
        if language is None:
            continue
        if language not in functions:
            functions[language] = _candidate_function(language)
        function = functions[language]
        if function is None:
            continue
        loaded = files.load(rel)
        if not isinstance(loaded, SourceFile):
            if not loaded.message.endswith("file is empty"):  # an empty file holds no list: nothing skipped
                discovery.skipped.append((rel, loaded.message))
            continue
        try:
            found = function(loaded, files)
        except (RecursionError, MemoryError, UnicodeDecodeError, ValueError) as exc:
            discovery.skipped.append((rel, f"cannot be parsed ({type(exc).__name__})"))
            continue
        discovery.files_read += 1
        why = _unparsable(language, loaded) if not found else None
        if why:
            discovery.skipped.append((rel, why))
        discovery.candidates += len(found)
        for candidate in found:
            keys = {k.key for k in candidate.keys}
            if not keys:
                continue
            for result, wanted in source_sets:
                shared = len(keys & wanted)
                if shared < min_shared or shared < min_overlap * min(len(keys), len(wanted)):
                    continue
                proposal = _proposal(root, files, rel, language, candidate, result)
                if proposal is not None:
                    result.proposals.append(proposal)
    for result in results:
        result.proposals.sort(key=lambda p: (-p.shared, len(p.missing) + len(p.extra), p.ref))
    return discovery


def _language(path: Path) -> str | None:
    if path.is_symlink():
        return None  # a tracked symlink is read where it points, under its own name
    return detect_language(path)


def _unparsable(language: str, source: SourceFile) -> str | None:
    """Why a data file with no candidates could not be read (so it is counted as skipped), or None."""
    if language in ("yaml", "json"):
        module = importlib.import_module(f"driftcheck.languages.{language}.backend")
        problems = module.document(source).problems
        return f"{problems[0].code} {problems[0].message}" if problems else None
    return None


def _proposal(root: Path, files: SourceFiles, rel: str, language: str, candidate: Candidate,
              result: SourceResult) -> Proposal | None:
    from driftcheck.languages.driver import extract_list

    source_ref = result.source.ref
    selector = candidate.selector
    if ":" in selector or "\n" in selector:
        return None  # not expressible as PATH:SELECTOR (the last ':' splits)
    same_file = files.resolve(source_ref.path) == files.resolve(rel)
    if same_file and canonical_selector(language, source_ref.symbol) == canonical_selector(language, selector):
        return None  # the source itself
    ref = ListRef(f"{rel}:{selector}", rel, selector, language)  # type: ignore[arg-type]
    extracted = extract_list(ref, files)
    refusal = next((f for f in extracted.findings if f.exit_code == 2), None)
    keys = list(extracted.key_names) if extracted.keys is not None else [k.key for k in candidate.keys]
    wanted = result.keys or ()
    have = set(keys)
    missing = tuple(k for k in wanted if k not in have)
    wanted_set = set(wanted)
    extra = tuple(dict.fromkeys(k for k in keys if k not in wanted_set))
    line = candidate.keys[0].line if candidate.keys else 1
    declared = (rel, canonical_selector(language, selector)) in result.source.declared
    return Proposal(ref.ref, rel, selector, language, line, len(have & wanted_set), missing, extra,
                    relation_of(len(missing), len(extra)), declared, refusal)


def sources_for(root: Path, config: Path | None, source: str | None,
                contracts: tuple[str, ...]) -> tuple[list[SourceList], list[Finding]]:
    """The lists to look for: `--source`, else the configured (or default) contracts' sources."""
    from driftcheck.config import CheckOptions, ConfigError, load_contracts, parse_list_ref

    if source is not None:
        try:
            ref = parse_list_ref(source, root)
        except ConfigError as exc:
            return [], [Finding("DC106", f"--source: {exc}", "<command line>", 1, 1)]
        declared: set[tuple[str, str]] = set()
        loaded, findings = load_contracts(CheckOptions(root=root, config=config))
        for contract in loaded if not findings else []:
            if _same(root, contract.source, ref):
                declared |= _declared(root, contract)
        return [SourceList(ref, None, frozenset(declared))], []
    loaded, findings = load_contracts(CheckOptions(root=root, config=config, contracts=contracts))
    if findings:
        return [], findings
    # Contracts sharing a source are looked at once: its copies are declared by any of them.
    grouped: dict[tuple[str, str], tuple[ListRef, list[str], set[tuple[str, str]]]] = {}
    for contract in loaded:
        key = (_relative(root, contract.source.path), canonical_selector(contract.source.language,
                                                                         contract.source.symbol))
        ref, names, declared_by = grouped.setdefault(key, (contract.source, [], set()))
        names.append(contract.name)
        declared_by |= _declared(root, contract)
    return [SourceList(ref, ", ".join(names), frozenset(declared_by)) for ref, names, declared_by in grouped.values()], []


def _relative(root: Path, path: str) -> str:
    full = Path(path) if Path(path).is_absolute() else root / path
    try:
        return full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def _declared(root: Path, contract: Any) -> set[tuple[str, str]]:
    return {(_relative(root, m.ref.path), canonical_selector(m.ref.language, m.ref.symbol)) for m in contract.mirrors}


def _same(root: Path, a: ListRef, b: ListRef) -> bool:
    return _relative(root, a.path) == _relative(root, b.path) and \
        canonical_selector(a.language, a.symbol) == canonical_selector(b.language, b.symbol)
