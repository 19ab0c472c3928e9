"""One `Writer` per language: how to spell a list in it, for the shared conformance suite.

A Writer only writes text; it never calls driftcheck. Each language's helper adds
its Writer to `WRITERS`, and `test_conformance.py` runs every case for every Writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Writer:
    language: str  # registry name, e.g. "go"
    filename: str  # e.g. "lists.go"
    define: Callable[[str, list[str]], str]  # whole file text defining list NAME with these keys, one per line
    selector: Callable[[str], str] = lambda name: name  # the SYMBOL/selector that reads it back
    comment: Callable[[str], str] | None = None  # a full comment line holding TEXT (None: no comments)
    broken: str | None = None  # a file the language itself rejects
    mutate: Callable[[str, list[str]], str] | None = None  # file text defining NAME, then changing it
    # False when the selector names no symbol (dotenv's `.` is the whole file), so DC100 cannot happen.
    names_a_symbol: bool = True
    # A key written twice: DC003 where a list may repeat an element; DC103 where the second
    # definition silently wins (a dotenv name set twice).
    repeat_code: str = "DC003"


def _go(name: str, keys: list[str]) -> str:
    body = "".join(f'\t"{key}",\n' for key in keys)
    return f"package lists\n\nvar {name} = []string{{\n{body}}}\n"


def _go_mutated(name: str, keys: list[str]) -> str:
    return _go(name, keys) + f'\nfunc init() {{\n\t{name} = append({name}, "EXTRA_KEY")\n}}\n'


def _shell(name: str, keys: list[str]) -> str:
    body = "".join(f"  {key}\n" for key in keys)
    return f'#!/usr/bin/env bash\nset -euo pipefail\n\n{name}="\n{body}"\n'


def _python(name: str, keys: list[str]) -> str:
    body = "".join(f'    "{key}",\n' for key in keys)
    return f'"""Lists."""\n\n{name} = [\n{body}]\n'


def _typescript(name: str, keys: list[str]) -> str:
    body = "".join(f'  "{key}",\n' for key in keys)
    return f"export const {name}: readonly string[] = [\n{body}] as const;\n"


def _javascript(name: str, keys: list[str]) -> str:
    body = "".join(f"  '{key}',\n" for key in keys)
    return f"export const {name} = [\n{body}];\n"


WRITERS: list[Writer] = [
    Writer("go", "lists.go", _go, comment=lambda text: f"// {text}",
           broken="package lists\n\nvar LIST = []string{\n\t\"A_KEY\",\n\n", mutate=_go_mutated),
    Writer("shell", "lists.sh", _shell, comment=lambda text: f"# {text}",
           broken='#!/usr/bin/env bash\nLIST="A_KEY"\nif true; then\n  echo x\n',
           mutate=lambda name, keys: _shell(name, keys) + f'{name}+=" EXTRA_KEY"\nunset {name}\n'),
    Writer("python", "lists.py", _python, comment=lambda text: f"# {text}",
           broken='LIST = [\n    "A_KEY",\n',
           mutate=lambda name, keys: _python(name, keys) + f'{name}.append("EXTRA_KEY")\n'),
    Writer("typescript", "lists.ts", _typescript, comment=lambda text: f"// {text}",
           broken='export const LIST: readonly string[] = [\n  "A_KEY",\n',
           mutate=lambda name, keys: _typescript(name, keys) + f'({name} as string[]).push("EXTRA_KEY");\n'),
    Writer("javascript", "lists.mjs", _javascript, comment=lambda text: f"// {text}",
           broken="export const LIST = [\n  'A_KEY',\n",
           mutate=lambda name, keys: _javascript(name, keys) + f"{name}.splice(0, 1);\n"),
]


def _yaml(name: str, keys: list[str]) -> str:
    body = "".join(f"  - {key}\n" for key in keys)
    return f"# lists\nother: 1\n{name}:\n{body}after: {{a: 1}}\n"


def _json(name: str, keys: list[str]) -> str:
    body = ",\n".join(f'    "{key}"' for key in keys)
    return f'{{\n  "other": 1,\n  "{name}": [\n{body}\n  ]\n}}\n'


WRITERS += [
    Writer("yaml", "lists.yaml", _yaml, comment=lambda text: f"# {text}",
           broken="LIST:\n  - A_KEY\n  - [B_KEY\nother: 1\n"),
    Writer("json", "lists.json", _json, broken='{\n  "LIST": [\n    "A_KEY",\n'),
]


def _dotenv(name: str, keys: list[str]) -> str:
    del name  # a dotenv file is one list: its variable names
    return "".join(f"{key}=value-{index}\n" for index, key in enumerate(keys))


WRITERS += [
    Writer("dotenv", ".env", _dotenv, selector=lambda name: ".", comment=lambda text: f"# {text}",
           broken='ALPHA_API_KEY=1\nBETA_API_KEY="unterminated\n', names_a_symbol=False, repeat_code="DC103"),
]
