"""Change attribution for `driftcheck check --base REV`: which side of a contract moved.

Drift alone says the lists disagree; a pull request's author also needs to know
*which* file changed since the base branch, so they edit the right one. This
module reads every list of the checked contracts as it was at REV (blobs copied
out of git's object store into a private snapshot directory; the working tree
and index are never touched), extracts it with the same extractors, and
compares each list with itself across time. Text lines follow the normal report:

    byok-strip-list: secrets.go added XAI_API_KEY since origin/main; test_staging_full_saas.sh did not

`--format json` gains a top-level "attribution" array of
{"contract", "mirror", "key", "side": "source"|"mirror", "change": "added"|"removed"}
(a source change is listed once per mirror); it is null when REV could not be read.

Files are named by their basename; when two lists of one contract share a
basename, by their path relative to the root (and by `PATH:SYMBOL` when they are
in the same file).

A list that did not exist at REV — its file was added since, or the file had no
such symbol — counts as empty at REV, so every key it holds now is "added"; a
line says so. Anything else that prevents reading REV (not a git repository,
unknown revision, e.g. in a shallow clone; git missing or hanging; a list that
cannot be evaluated statically at REV) is one clear line on standard error,
`driftcheck: --base REV: ...`, and exit code 2 (in structured formats also a
DC106 finding): attribution never guesses.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Literal

from driftcheck.model import CheckResult, ContractResult, ExtractedList, Finding, ListRef, MirrorResult
from driftcheck.report.text_format import finding_line
from driftcheck.sources import SourceFile, SourceFiles, read_source

GIT_TIMEOUT_SECONDS = 30.0

Side = Literal["source", "mirror"]
ChangeKind = Literal["added", "removed"]


@dataclass(frozen=True)
class Change:
    """One key that one list gained or lost since REV (a JSON `attribution` entry)."""

    contract: str
    mirror: str  # the mirror's reference as written; a source change is listed once per mirror
    key: str
    side: Side
    change: ChangeKind

    def as_json(self) -> dict[str, str]:
        return {"contract": self.contract, "mirror": self.mirror, "key": self.key, "side": self.side,
                "change": self.change}


@dataclass(frozen=True)
class Attribution:
    """What `--base` found: the changes and their text lines, or why it could not tell."""

    base: str
    changes: tuple[Change, ...] | None  # None: not computed (see `error`, or nothing to attribute)
    lines: tuple[str, ...] = ()
    error: str | None = None  # one line, starting "driftcheck: --base REV: "

    def json_value(self) -> list[dict[str, str]] | None:
        return None if self.changes is None else [c.as_json() for c in self.changes]


class BaseUnavailable(Exception):
    """REV cannot be read; the message is the whole explanation (without the prefix)."""


# --------------------------------------------------------------------------- git


class Git:
    """The few git commands attribution needs: list arguments, no shell, a timeout."""

    def __init__(self, root: Path, timeout: float = GIT_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        if not root.is_dir():
            raise BaseUnavailable(f"{_show(root)} is not a directory")
        out = self._run(["rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository"], cwd=root,
                        not_a_repo=f"{_show(root)} is not in a git repository; --base reads the lists from git "
                                   "history, so run it in a clone")
        lines = out.decode("utf-8", "surrogateescape").split("\n")
        if len(lines) < 3:
            raise BaseUnavailable(f"{_show(root)} is not in a git work tree (is it inside .git or a bare "
                                  "repository?); run it in a clone")
        self.toplevel = Path(lines[0])
        self.prefix = lines[1]  # the root's path inside the repository, "" or "dir/sub/"
        self.shallow = lines[2] == "true"

    def _run(self, args: list[str], cwd: Path | None = None, not_a_repo: str | None = None,
             check: bool = True, stdin: bytes | None = None) -> bytes:
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        try:
            proc = subprocess.run(["git", "--no-pager", *args], cwd=cwd or self.toplevel, env=env,
                                  input=stdin if stdin is not None else b"", capture_output=True,
                                  timeout=self.timeout)
        except FileNotFoundError:
            raise BaseUnavailable("git is not installed (or not on PATH); --base reads the lists with git") from None
        except NotADirectoryError:
            raise BaseUnavailable(not_a_repo or "not a directory") from None
        except subprocess.TimeoutExpired:
            raise BaseUnavailable(f"git {args[0]} did not finish within {self.timeout:g}s") from None
        if proc.returncode != 0 and check:
            if not_a_repo is not None:
                raise BaseUnavailable(not_a_repo)
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise BaseUnavailable(f"git {args[0]} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
        return proc.stdout

    def resolve_commit(self, rev: str) -> str | None:
        """The commit REV names, or None when this repository does not have it."""
        if not rev or rev.startswith("-") or any(c in rev for c in "\0\n"):
            return None
        out = self._run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], check=False)
        sha = out.decode("ascii", "replace").strip()
        return sha or None

    def remotes(self) -> list[str]:
        return self._run(["remote"], check=False).decode("utf-8", "replace").split()

    def fetch_refspecs(self, remote: str) -> list[str]:
        out = self._run(["config", "--get-all", f"remote.{remote}.fetch"], check=False)
        return out.decode("utf-8", "replace").split()

    def entry(self, commit: str, repo_path: str) -> tuple[str, str, str] | None:
        """(mode, type, object id) of a path at a commit, or None when it did not exist."""
        out = self._run(["ls-tree", "-z", "--full-tree", commit, "--", repo_path])
        for record in out.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            if name.decode("utf-8", "surrogateescape") == repo_path:
                mode, kind, oid = meta.decode("ascii").split()
                return mode, kind, oid
        return None

    def list_dir(self, commit: str, repo_dir: str) -> dict[str, tuple[str, str, str]]:
        """name -> (mode, type, object id) of the entries of a directory at a commit."""
        spec = f"{repo_dir}/" if repo_dir else "."
        out = self._run(["ls-tree", "-z", "--full-tree", commit, "--", spec])
        entries: dict[str, tuple[str, str, str]] = {}
        for record in out.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            if name:
                mode, kind, oid = meta.decode("ascii").split()
                entries[posixpath.basename(name.decode("utf-8", "surrogateescape"))] = (mode, kind, oid)
        return entries

    def blobs(self, wanted: dict[str, str]) -> dict[str, bytes]:
        """path -> contents for {path: blob id}, read through one `git cat-file --batch`."""
        oids = list(dict.fromkeys(wanted.values()))
        out = self._run(["cat-file", "--batch"], stdin="".join(f"{oid}\n" for oid in oids).encode("ascii"))
        contents: dict[str, bytes] = {}
        pos = 0
        for oid in oids:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].decode("ascii", "replace").split()
            if len(header) != 3 or header[1] != "blob":
                raise BaseUnavailable(f"git cat-file could not read object {oid}")
            size = int(header[2])
            contents[oid] = out[header_end + 1:header_end + 1 + size]
            pos = header_end + 1 + size + 1  # contents are followed by a newline
        return {path: contents[oid] for path, oid in wanted.items()}


def unknown_revision(git: Git, rev: str) -> str:
    """'unknown revision' plus the command that would make REV available."""
    remotes = git.remotes()
    remote, _, branch = rev.partition("/")
    if branch and remote in remotes:
        depth = " --depth=1" if git.shallow else ""
        tracking = f"refs/remotes/{rev}"
        covered = any(_refspec_maps(spec, f"refs/heads/{branch}", tracking) for spec in git.fetch_refspecs(remote))
        # A single-branch clone (what `git clone --depth=1` makes) does not create origin/main
        # from a plain `git fetch origin main`; spell the destination out then.
        what = shlex.quote(branch) if covered else shlex.quote(f"{branch}:{tracking}")
        fetch = f"git fetch{depth} {shlex.quote(remote)} {what}"
        if git.shallow:
            return f"unknown revision; in a shallow clone fetch it first: {fetch}"
        return f"unknown revision; fetch it first: {fetch}"
    if git.shallow:
        return "unknown revision; this is a shallow clone, fetch more history first: git fetch --unshallow"
    return "unknown revision; name a branch, tag or commit of this repository"


def _refspec_maps(spec: str, source_ref: str, destination: str) -> bool:
    src, _, dst = spec.lstrip("+").partition(":")
    if "*" not in src:
        return src == source_ref and dst == destination
    if not fnmatch.fnmatchcase(source_ref, src.replace("[", "[[]")):
        return False
    head, _, tail = src.partition("*")
    star = source_ref[len(head):len(source_ref) - len(tail)]
    return dst.replace("*", star, 1) == destination


# ------------------------------------------------------------ files at a revision


class GitSourceFiles(SourceFiles):
    """SourceFiles whose files are the blobs of a commit, not the working tree.

    `load()` copies each file it is asked for out of git (`git ls-tree` +
    `git cat-file`) into a private snapshot directory laid out like the
    repository, then reads it with the ordinary `read_source` — so every
    DC105 check applies unchanged and findings name the same relative paths.
    Loading a `.go` file also copies the other `.go` files of its directory *as
    they were at the commit*, so the Go extractor's package scan (sibling
    constants, redeclarations, mutations) sees that revision's package, not
    today's. `root` is the snapshot's copy of the working root.
    """

    def __init__(self, snapshot: Path, git: Git, commit: str, rev: str) -> None:
        self.snapshot = snapshot  # stands for the repository's top level
        super().__init__(snapshot / git.prefix if git.prefix else snapshot)
        self.git = git
        self.commit = commit
        self.rev = rev
        self.missing: set[Path] = set()  # files that did not exist at the commit
        self._listed: set[str] = set()  # directories whose .go files are already copied

    def resolve(self, path: str | Path) -> Path:
        p = Path(path)
        if not p.is_absolute():
            return self.root / p
        try:  # an absolute reference into the repository: the same file in the snapshot
            rel = Path(os.path.realpath(p)).relative_to(os.path.realpath(self.git.toplevel))
        except ValueError:
            return p  # outside the repository: load() says so
        return self.snapshot / rel

    def load(self, path: str | Path, display: str | None = None) -> SourceFile | Finding:
        full = self.resolve(path)
        if full not in self._cache:
            shown = display or self.display(full)
            problem = self._copy_out(full, shown)
            self._cache[full] = problem if problem is not None else read_source(full, shown)
        return self._cache[full]

    def _copy_out(self, full: Path, display: str) -> Finding | None:
        def unreadable(why: str) -> Finding:
            return Finding("DC105", f"cannot read {display} at {self.rev}: {why}", display, 1, 1)

        try:
            rel = posixpath.normpath(full.relative_to(self.snapshot).as_posix())
        except ValueError:
            rel = ".."
        if rel == "." or rel == ".." or rel.startswith("../"):
            return unreadable("the file is outside the git repository")
        entry = self.git.entry(self.commit, rel)
        if entry is None:
            self.missing.add(full)
            return unreadable("no such file at that revision")
        mode, kind, oid = entry
        if kind == "tree":
            return unreadable("is a directory; the reference must name a file")
        if kind != "blob" or mode == "120000":
            return unreadable("not a regular file (a symbolic link or submodule) at that revision")
        wanted = {rel: oid}
        directory = posixpath.dirname(rel)
        if full.suffix == ".go" and directory not in self._listed:
            self._listed.add(directory)
            for name, (sib_mode, sib_kind, sib_oid) in self.git.list_dir(self.commit, directory).items():
                if name.endswith(".go") and sib_kind == "blob" and sib_mode != "120000":
                    wanted.setdefault(posixpath.join(directory, name) if directory else name, sib_oid)
        for path, data in self.git.blobs(wanted).items():
            target = self.snapshot / path
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return None


# ------------------------------------------------------------------ attribution


def attribute(result: CheckResult, base: str, root: Path) -> Attribution:
    """Compare every list of `result` with itself at `base`; never raises for user mistakes."""
    if not result.contracts:
        return Attribution(base, None)  # configuration errors: already reported, nothing to attribute
    try:
        return _attribute(result, base, root)
    except BaseUnavailable as exc:
        return Attribution(base, None, error=f"driftcheck: --base {base}: {exc}")


def attribution_lines(result: CheckResult, base: str, root: Path) -> list[str]:
    """The text lines that follow the report: the attribution, or the one line saying why not."""
    found = attribute(result, base, root)
    return [found.error] if found.error else list(found.lines)


def with_base_error(result: CheckResult, attribution: Attribution) -> CheckResult:
    """`result` plus a run-level DC106 finding when REV could not be read (exit code 2)."""
    if attribution.error is None:
        return result
    message = attribution.error.removeprefix("driftcheck: ")
    return replace(result, findings=result.findings + (Finding("DC106", message, "<command line>", 1, 1),))


def _attribute(result: CheckResult, base: str, root: Path) -> Attribution:
    git = Git(root)
    commit = git.resolve_commit(base)
    if commit is None:
        raise BaseUnavailable(unknown_revision(git, base))
    from driftcheck.languages.driver import extract_list

    with tempfile.TemporaryDirectory(prefix="driftcheck-base-") as snapshot:
        return _attribute_at(result, base, GitSourceFiles(Path(snapshot), git, commit, base), extract_list)


def _attribute_at(result: CheckResult, base: str, files: GitSourceFiles,
                  extract_list: Callable[[ListRef, SourceFiles], ExtractedList]) -> Attribution:
    cache: dict[tuple[str, str, str], ExtractedList] = {}

    def at_base(ref: ListRef) -> ExtractedList:
        cache_key = (str(files.resolve(ref.path)), ref.symbol, ref.language)
        if cache_key not in cache:
            cache[cache_key] = extract_list(ref, files)
        return cache[cache_key]

    changes: list[Change] = []
    lines: list[str] = []
    for contract in result.contracts:
        _contract_lines(contract, base, files, at_base, changes, lines)
    return Attribution(base, tuple(changes), tuple(lines))


def _contract_lines(contract: ContractResult, base: str, files: GitSourceFiles,
                    at_base: Callable[[ListRef], ExtractedList], changes: list[Change], lines: list[str]) -> None:
    name = contract.contract.name
    s = _label_of(contract, contract.source.ref)
    if contract.source.keys is None:
        lines.append(f"{name}: no attribution: {s} cannot be evaluated in the working tree (see the errors above)")
        return
    source_now = _names(contract.source)
    source_base, note = _base_keys(contract.source.ref, at_base(contract.source.ref), base, files)
    if note:
        lines.append(f"{name}: {note}")
    for mirror in contract.mirrors:
        ref = mirror.extracted.ref
        m = _label_of(contract, ref)
        if mirror.extracted.keys is None:
            lines.append(f"{name}: no attribution for {m}: it cannot be evaluated in the working tree "
                         "(see the errors above)")
            continue
        mirror_base, note = _base_keys(ref, at_base(ref), base, files)
        if note:
            lines.append(f"{name}: {note}")
        found: list[Change] = []
        moved = _pair_lines(name, ref.ref, s, m, base, source_now, source_base, _names(mirror.extracted),
                            mirror_base, found)
        changes.extend(found)
        if not moved:
            lines.append(f"{name}: neither {s} nor {m} changed since {base}")
        lines.extend(f"{name}: {text}" for text in moved)
        moved_keys = {c.key for c in found}
        lines.extend(f"{name}: {text}" for text in _preexisting(mirror, s, m, base, moved_keys))


def _pair_lines(contract: str, mirror_ref: str, s: str, m: str, base: str, source_now: list[str],
                source_base: list[str], mirror_now: list[str], mirror_base: list[str],
                changes: list[Change]) -> list[str]:
    sn, sb, mn, mb = set(source_now), set(source_base), set(mirror_now), set(mirror_base)
    order = list(dict.fromkeys(source_now + source_base + mirror_now + mirror_base))
    out: list[str] = []
    for key in order:
        s_change: ChangeKind | None = "added" if key in sn - sb else "removed" if key in sb - sn else None
        m_change: ChangeKind | None = "added" if key in mn - mb else "removed" if key in mb - mn else None
        if s_change is None and m_change is None:
            continue
        if s_change:
            changes.append(Change(contract, mirror_ref, key, "source", s_change))
        if m_change:
            changes.append(Change(contract, mirror_ref, key, "mirror", m_change))
        if s_change and m_change:
            if s_change == m_change:
                out.append(f"both sides {s_change} {key} since {base} ({s} and {m})")
            else:
                out.append(f"{s} {s_change} {key} since {base}; {m} {m_change} it")
        elif s_change == "added":
            out.append(f"{s} added {key} since {base}; " + (f"{m} already had it" if key in mn else
                                                               f"{m} did not"))
        elif s_change == "removed":
            out.append(f"{s} removed {key} since {base}; " + (f"{m} still has it" if key in mn else
                                                                 f"{m} did not have it"))
        elif m_change == "added":
            out.append(f"{m} added {key} since {base}; " + (f"{s} already had it" if key in sn else
                                                               f"{s} does not have it"))
        else:
            out.append(f"{m} removed {key} since {base}; " + (f"{s} still has it" if key in sn else
                                                                 f"{s} did not have it either"))
    return out


def _preexisting(mirror: MirrorResult, s: str, m: str, base: str, moved_keys: set[str]) -> list[str]:
    """Drift that neither side introduced since REV: it was already there."""
    out = [f"{key} was already missing from {m} at {base}; neither side changed it since"
           for key in mirror.missing if key not in moved_keys]
    out += [f"{key} was already in {m} but not in {s} at {base}; neither side changed it since"
            for key in mirror.extra if key not in moved_keys]
    return out


def _base_keys(ref: ListRef, extracted: ExtractedList, base: str,
               files: GitSourceFiles) -> tuple[list[str], str | None]:
    """The list's keys at REV, and a note when it did not exist there (then: no keys)."""
    if extracted.keys is not None:
        return _names(extracted), None
    codes = {f.code for f in extracted.findings}
    if files.resolve(ref.path) in files.missing and codes <= {"DC105"}:
        return [], f"{ref.path} did not exist at {base} (a new file): every key of {ref.symbol} counts as added"
    if codes == {"DC100"}:
        return [], f"{ref.symbol} was not defined in {ref.path} at {base}: every key counts as added"
    first = next((f for f in extracted.findings if f.exit_code == 2), extracted.findings[0]
                 if extracted.findings else None)
    why = finding_line(first) if first else "no keys"
    raise BaseUnavailable(f"cannot evaluate {ref.ref} at {base} ({why}); attribution needs every list at {base}")


def _names(extracted: ExtractedList) -> list[str]:
    return list(dict.fromkeys(extracted.key_names))


def _label_of(contract: ContractResult, ref: ListRef) -> str:
    """Basename; the path when two lists of the contract share a basename; PATH:SYMBOL in one file."""
    refs = [contract.contract.source] + [m.ref for m in contract.contract.mirrors]
    base = posixpath.basename(ref.path)
    if sum(posixpath.basename(r.path) == base for r in refs) == 1:
        return base
    if sum(r.path == ref.path for r in refs) == 1:
        return ref.path
    return ref.ref


def _show(root: Path) -> str:
    return root.as_posix()
