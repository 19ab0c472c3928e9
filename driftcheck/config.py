"""Configuration: `driftcheck.toml`, `[tool.driftcheck]` in pyproject.toml, the
built-in default contract, or an ad-hoc `--source/--mirror` contract.

Every mistake is a DC106 finding naming the file (and, where it can be found,
the line) and the offending key — never an exception.
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

import re
from pathlib import Path
from typing import Any, NamedTuple

from driftcheck.languages import canonical, detect_language, names
from driftcheck.model import Allowance, Contract, Finding, ListRef, MirrorSpec
from driftcheck.patterns import lazy

DEFAULT_CONTRACT_NAME = "byok-strip-list"
DEFAULT_SOURCE = "workspace-server/internal/handlers/secrets.go:platformManagedDirectLLMBypassKeys"
DEFAULT_MIRROR = "tests/e2e/test_staging_full_saas.sh:BYOK_STRIP_KEYS"

_CONTRACT_KEYS = {"name", "source", "mirrors", "relation", "order", "allow", "go_target"}
_MIRROR_KEYS = {"ref", "relation", "language"}
_SOURCE_KEYS = {"ref", "language"}
# Languages whose selectors are paths from the document root, and those that accept steps at all.
ROOTED_LANGUAGES = frozenset({"yaml", "json", "dotenv"})
SELECTOR_LANGUAGES = frozenset({"python", "typescript", "javascript", "yaml", "json", "dotenv"})
_RELATIONS = ("equal", "subset", "superset")
_ORDERS = ("any", "same")
_KEY_NAME = lazy(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


class CheckOptions(NamedTuple):
    """What the command line says about which contracts to check."""

    root: Path
    config: Path | None = None
    source: str | None = None
    mirrors: tuple[str, ...] = ()
    contracts: tuple[str, ...] = ()


def find_root(start: Path) -> Path:
    """The repository root as ruff finds its configuration (docs/commands.md).

    From `start` upward, the first directory holding `driftcheck.toml`, a `pyproject.toml`
    with a `[tool.driftcheck]` table, or `.git`; `start` itself when none does.
    """
    start = start.absolute()
    for directory in (start, *start.parents):
        if (directory / "driftcheck.toml").is_file() or _has_tool_table(directory / "pyproject.toml"):
            return directory
        if (directory / ".git").exists():  # a directory, or a file in a worktree or submodule
            return directory
    return start


def _has_tool_table(path: Path) -> bool:
    """Whether a pyproject.toml declares [tool.driftcheck]; an unreadable or invalid one that names
    driftcheck counts (the configuration loader then reports what is wrong with it)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if b"driftcheck" not in data:
        return False  # most pyproject.toml files: no TOML parse at all
    import tomllib

    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return True
    return isinstance(tool, dict) and "driftcheck" in tool


class ConfigError(Exception):
    """Raised inside this module only; surfaces as a DC106 finding."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def parse_list_ref(text: Any, root: Path, language: Any = None) -> ListRef:
    """`PATH:SYMBOL` (the last `:` splits) with its language, or ConfigError."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"a list reference must be a non-empty 'PATH:SYMBOL' string, not {text!r}")
    path, sep, symbol = text.rpartition(":")
    if not sep or not path or not symbol:
        raise ConfigError(f"list reference {text!r} must be 'PATH:SYMBOL', e.g. "
                          f"'{DEFAULT_MIRROR}'")
    if language is not None:
        lang = canonical(language) if isinstance(language, str) else None
        if lang is None:
            raise ConfigError(f"language {language!r} for {text!r} must be one of {', '.join(names())}", "language")
    else:
        full = Path(path) if Path(path).is_absolute() else root / path
        detected = detect_language(full)
        if detected is None:
            if not full.exists():
                # Let the extractor report the missing file (DC105) with its own words.
                detected = "shell"
            else:
                raise ConfigError(f"cannot tell the language of {path!r} from its extension or shebang; "
                                  f"give it explicitly with language = one of {', '.join(names())}", "language")
        lang = detected
    if lang not in ROOTED_LANGUAGES and symbol.isascii() and symbol.replace("$", "_").isidentifier():
        # A plain name ([A-Za-z_$][A-Za-z0-9_$]*, what the selector grammar reads as a name and no steps):
        # every Go and bash list; the grammar's module is imported only for a selector.
        return ListRef(ref=text, path=path, symbol=symbol, language=lang)
    from driftcheck.languages.selectors import SelectorError, parse_selector

    try:
        selector = parse_selector(symbol, rooted=lang in ROOTED_LANGUAGES)
    except SelectorError as error:
        raise ConfigError(f"list reference {text!r}: {error}") from None
    if lang not in SELECTOR_LANGUAGES and not selector.is_plain_name:
        raise ConfigError(f"list reference {text!r}: {symbol!r} is not an identifier "
                          f"({lang} lists are named by a plain identifier)")
    return ListRef(ref=text, path=path, symbol=symbol, language=lang)


def default_contract(root: Path) -> Contract:
    return Contract(
        name=DEFAULT_CONTRACT_NAME,
        source=parse_list_ref(DEFAULT_SOURCE, root),
        mirrors=(MirrorSpec(parse_list_ref(DEFAULT_MIRROR, root)),),
    )


def load_contracts(options: CheckOptions) -> tuple[list[Contract], list[Finding]]:
    """The contracts to check, or DC106 findings explaining why there are none."""
    root = options.root
    if not root.is_dir():
        return [], [Finding("DC106", f"--root {root} is not a directory", str(root), 1, 1)]
    if options.mirrors and not options.source:
        return [], [_usage("--mirror needs --source (an ad-hoc contract has one source and its mirrors)")]
    if options.source:
        if not options.mirrors:
            return [], [_usage("--source needs at least one --mirror")]
        try:
            contract = Contract(
                name="cli",
                source=parse_list_ref(options.source, root),
                mirrors=tuple(MirrorSpec(parse_list_ref(m, root)) for m in options.mirrors),
            )
        except ConfigError as exc:
            return [], [_usage(str(exc))]
        return _select([contract], options.contracts, "<command line>")

    config_path, table, findings, text = _read_config(options)
    if findings:
        return [], findings
    if config_path is None:
        return _select([default_contract(root)], options.contracts, "<built-in default>")
    assert table is not None
    display = _display(config_path, root)
    try:
        contracts = _parse_table(table, root, display, text)
    except ConfigError as exc:
        return [], [Finding("DC106", f"{display}: {exc}", display, _line_of(text, exc.key), 1, exc.key)]
    return _select(contracts, options.contracts, display)


def _usage(message: str) -> Finding:
    return Finding("DC106", message, "<command line>", 1, 1)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _line_of(text: str, key: str | None) -> int:
    """Best-effort line of a configuration key, for pointing editors at it."""
    if key:
        leaf = key.rsplit(".", 1)[-1]
        pattern = re.compile(rf"(^|[\s\[.{{,\"]){re.escape(leaf)}\"?\s*(=|\]|\.)", re.M)
        match = pattern.search(text)
        if match:
            return text.count("\n", 0, match.start()) + 1 + (1 if text[match.start()] == "\n" else 0)
    return 1


def _read_config(options: CheckOptions) -> tuple[Path | None, dict[str, Any] | None, list[Finding], str]:
    """(file, its table, findings, its text): the file is read once; tomllib is imported only when one exists."""
    root = options.root
    if options.config is not None:
        candidates = [options.config if options.config.is_absolute() else Path.cwd() / options.config]
        explicit = True
    else:
        candidates = [root / "driftcheck.toml", root / "pyproject.toml"]
        explicit = False
    for path in candidates:
        display = _display(path, root)
        if not path.exists():
            if explicit:
                return None, None, [Finding("DC106", f"configuration file {display} does not exist", display, 1, 1)], ""
            continue
        if path.is_dir():
            return None, None, [Finding("DC106", f"configuration {display} is a directory, not a TOML file", display,
                                        1, 1)], ""
        import tomllib  # ~2 ms of regex compilation: only paid when there is a file to parse

        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError:
            return None, None, [Finding("DC106", f"{display} is not UTF-8; save it as UTF-8", display, 1, 1)], ""
        except (RecursionError, MemoryError):
            return None, None, [Finding("DC106", f"{display} nests tables or arrays too deeply to read; "
                                        "flatten it", display, 1, 1)], ""
        except tomllib.TOMLDecodeError as exc:
            line, col = _toml_position(str(exc))
            return None, None, [Finding("DC106", f"{display} is not valid TOML: {str(exc).split(' (at')[0]}",
                                        display, line, col)], ""
        except OSError as exc:
            return None, None, [Finding("DC106", f"cannot read {display}: {exc.strerror}", display, 1, 1)], ""
        if path.name == "pyproject.toml":
            tool = data.get("tool", {})
            section = tool.get("driftcheck") if isinstance(tool, dict) else None
            if section is None:
                if explicit:
                    missing = Finding("DC106", f"{display} has no [tool.driftcheck] table", display, 1, 1)
                    return None, None, [missing], ""
                continue
            if not isinstance(section, dict):
                return None, None, [Finding("DC106", f"{display}: tool.driftcheck must be a table", display, 1, 1)], ""
            return path, section, [], text
        return path, data, [], text
    return None, None, [], ""


def _toml_position(message: str) -> tuple[int, int]:
    match = re.search(r"at line (\d+), column (\d+)", message)
    return (int(match.group(1)), int(match.group(2))) if match else (1, 1)


def _parse_table(table: dict[str, Any], root: Path, display: str, text: str) -> list[Contract]:
    unknown = sorted(set(table) - {"contract"})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}; the only top-level key is 'contract'", unknown[0])
    raw_contracts = table.get("contract")
    if raw_contracts is None:
        raise ConfigError("no [[contract]] table; declare at least one contract (or delete the file to "
                          "use the built-in default)", "contract")
    if not isinstance(raw_contracts, list) or not raw_contracts:
        raise ConfigError("'contract' must be an array of tables ([[contract]])", "contract")
    contracts: list[Contract] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_contracts):
        contract = _parse_contract(raw, index, root, display, text)
        if contract.name in seen:
            raise ConfigError(f"contract name {contract.name!r} is used twice; names must be unique", "name")
        seen.add(contract.name)
        contracts.append(contract)
    return contracts


def _parse_contract(raw: Any, index: int, root: Path, display: str, text: str) -> Contract:
    if not isinstance(raw, dict):
        raise ConfigError(f"contract #{index + 1} must be a table", "contract")
    unknown = sorted(set(raw) - _CONTRACT_KEYS)
    if unknown:
        raise ConfigError(f"contract #{index + 1}: unknown key {unknown[0]!r} (expected one of "
                          f"{', '.join(sorted(_CONTRACT_KEYS))})", unknown[0])
    name = raw.get("name", f"contract-{index + 1}")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ConfigError(f"contract #{index + 1}: 'name' must be a string of letters, digits, '-', '_' or '.'",
                          "name")
    where = f"contract {name!r}"
    if "source" not in raw:
        raise ConfigError(f"{where}: 'source' is required ('PATH:SYMBOL')", "source")
    source_raw = raw["source"]
    if isinstance(source_raw, dict):
        unknown = sorted(set(source_raw) - _SOURCE_KEYS)
        if unknown or "ref" not in source_raw:
            raise ConfigError(f"{where}: 'source' table takes 'ref' and optional 'language'", "source")
        source = _ref(source_raw["ref"], root, where, "source", source_raw.get("language"))
    else:
        source = _ref(source_raw, root, where, "source")
    relation = raw.get("relation", "equal")
    if relation not in _RELATIONS:
        raise ConfigError(f"{where}: 'relation' must be one of {', '.join(_RELATIONS)}, not {relation!r}", "relation")
    order = raw.get("order", "any")
    if order not in _ORDERS:
        raise ConfigError(f"{where}: 'order' must be 'any' or 'same', not {order!r}", "order")
    mirrors_raw = raw.get("mirrors")
    if not isinstance(mirrors_raw, list) or not mirrors_raw:
        raise ConfigError(f"{where}: 'mirrors' must be a non-empty array of 'PATH:SYMBOL' strings or tables",
                          "mirrors")
    mirrors: list[MirrorSpec] = []
    for item in mirrors_raw:
        if isinstance(item, dict):
            unknown = sorted(set(item) - _MIRROR_KEYS)
            if unknown:
                raise ConfigError(f"{where}: unknown mirror key {unknown[0]!r} (expected ref, relation, language)",
                                  unknown[0])
            if "ref" not in item:
                raise ConfigError(f"{where}: a mirror table needs 'ref'", "ref")
            mirror_relation = item.get("relation", relation)
            if mirror_relation not in _RELATIONS:
                raise ConfigError(f"{where}: mirror 'relation' must be one of {', '.join(_RELATIONS)}, "
                                  f"not {mirror_relation!r}", "relation")
            mirrors.append(MirrorSpec(_ref(item["ref"], root, where, "ref", item.get("language")), mirror_relation))
        else:
            mirrors.append(MirrorSpec(_ref(item, root, where, "mirrors"), relation))
    allowances = _parse_allow(raw.get("allow"), where, display, text)
    if "go_target" in raw:
        source, mirrors = _with_go_target(raw["go_target"], where, source, mirrors)
    return Contract(name=name, source=source, mirrors=tuple(mirrors), order=order, allowances=allowances)


def _with_go_target(value: Any, where: str, source: ListRef, mirrors: list[MirrorSpec]) -> tuple[ListRef, list[MirrorSpec]]:
    """Attach `go_target = "os/arch"` to the contract's Go lists (build constraints are evaluated for it)."""
    from dataclasses import replace

    from driftcheck.languages.go.constraints import parse_target

    if not isinstance(value, str) or parse_target(value) is None:
        raise ConfigError(f"{where}: 'go_target' must be a GOOS/GOARCH pair such as \"linux/amd64\", not {value!r}",
                          "go_target")

    def targeted(ref: ListRef) -> ListRef:
        return replace(ref, go_target=value) if ref.language == "go" else ref

    return targeted(source), [replace(m, ref=targeted(m.ref)) for m in mirrors]


def _ref(value: Any, root: Path, where: str, key: str, language: Any = None) -> ListRef:
    try:
        return parse_list_ref(value, root, language)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}", exc.key or key) from None


def _parse_allow(raw: Any, where: str, display: str, text: str) -> tuple[Allowance, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'allow' must be a table with 'missing' and/or 'extra'", "allow")
    allowances: list[Allowance] = []
    for kind, entries in raw.items():
        if kind not in ("missing", "extra"):
            raise ConfigError(f"{where}: unknown key 'allow.{kind}' (expected allow.missing or allow.extra)",
                              f"allow.{kind}")
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: 'allow.{kind}' must be a table of KEY = \"reason\"", f"allow.{kind}")
        for key, reason in entries.items():
            if not _KEY_NAME.match(key):
                raise ConfigError(f"{where}: 'allow.{kind}.{key}' is not a valid key name", f"allow.{kind}.{key}")
            if not isinstance(reason, str) or not reason.strip():
                raise ConfigError(f"{where}: 'allow.{kind}.{key}' needs a reason: write "
                                  f"{key} = \"why this difference is intended\"", f"allow.{kind}.{key}")
            allowances.append(Allowance(key, kind, reason.strip(), "config", display,  # type: ignore[arg-type]
                                        _line_of(text, key), 1))
    return tuple(allowances)


def _select(contracts: list[Contract], wanted: tuple[str, ...], display: str) -> tuple[list[Contract], list[Finding]]:
    if not wanted:
        return contracts, []
    names = {c.name for c in contracts}
    unknown = [w for w in wanted if w not in names]
    if unknown:
        return [], [_usage(f"--contract {unknown[0]!r} is not defined in {display}; known: "
                           f"{', '.join(sorted(names))}")]
    return [c for c in contracts if c.name in wanted], []
