"""Adversarial modules judged by the real python3: driftcheck reads exactly what Python holds, or refuses.

Each generated module defines a list (list, tuple, set, frozenset, dict, split string) and
then does one thing to it from a class of changes an attacker (or a hurried colleague)
could use: methods, aliases, `getattr`, dynamic access by string (`globals()`,
`sys.modules`, `exec`, frames, `__globals__`), rebinding in every binding form, Unicode
spellings Python folds to the same name, rebinding builtins, and source encodings. The
change sits at module level, in a function that is called, or under `if True:`.

The judge is python3 itself: one interpreter imports every module and prints the list's
final value (or that the import failed). driftcheck must return exactly that value, or
refuse (keys=None, exit 2). A module that raises part-way holds what ran before the error
(a later change never happens); one that ends without the name holds nothing, and
driftcheck must refuse it. Harmless uses (reads, shadowing locals) must be read.
"""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from driftcheck.languages.driver import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles

N = "KEYS"
WIDE = "ＫＥＹＳ"  # FULLWIDTH letters: Python's NFKC folding makes this the same name

DEFINITIONS = {
    "list": f'{N} = ["A_KEY", "B_KEY"]\n',
    "tuple": f'{N} = ("A_KEY", "B_KEY")\n',
    "set": f'{N} = {{"A_KEY", "B_KEY"}}\n',
    "frozenset": f'{N} = frozenset({{"A_KEY", "B_KEY"}})\n',
    "dict": f'{N} = {{"A_KEY": 1, "B_KEY": 2}}\n',
    "split": f'{N} = "A_KEY B_KEY".split()\n',
    "annotated": f'{N}: list[str] = ["A_KEY", "B_KEY"]\n',
    "wide": f'{WIDE} = ["A_KEY", "B_KEY"]\n',
}

# class -> changes (one statement or a few lines, at module indentation)
CHANGES: dict[str, list[str]] = {
    "method": [f'{N}.append("X")', f'{N}.extend(["X"])', f'{N}.insert(0, "X")', f'{N}.remove("A_KEY")',
               f"{N}.pop()", f"{N}.clear()", f'{N}.add("X")', f'{N}.update({{"X": 0}})', f'{N}.discard("A_KEY")',
               f'{N}.__setitem__(0, "X")', f'{N}[0] = "X"', f'{N}[:] = ["X"]', f"del {N}[0]", f'{N}["X"] = 3',
               f"{N}.sort(reverse=True)", f"{N}.reverse()", f'{N}.__iadd__(["X"])', f'{N}.__ior__({{"X"}})',
               f"{N}.popitem()", f'{N}.setdefault("X", 0)', f'{N}.__init__(["X"])', f"{N}.__delitem__(0)"],
    "augmented": [f'{N} += ["X"]', f'{N} |= {{"X"}}', f'{N} += ("X",)', f'{N} -= {{"A_KEY"}}', f"{N} *= 2",
                  f'{N} &= {{"A_KEY"}}', f'{N} |= {{"X": 9}}'],
    "alias": [f'x = {N}\nx.append("X")', f'[x := {N}, x.append("X")]', f'(lambda l: l.append("X"))({N})',
              f'def f(l={N}):\n    l.append("X")\nf()', f'y = [{N}]\ny[0].append("X")',
              f'y = {{"k": {N}}}\ny["k"].append("X")', f'for l in [{N}]:\n    l.append("X")',
              f'r = {N} or []\nr.append("X")', f'm = {N}.append\nm("X")', f'a, b = {N}, 0\na.append("X")',
              f'it = iter({N})\nit.__reduce__()[1][0].append("X")',
              f'e = enumerate({N})\ne.__reduce__()[1][0].__reduce__()[1][0].append("X")',
              f'class C:\n    attr = {N}\nC.attr.append("X")', f'print({N}, file=None)\nz = ({N},)\nz[0].append("X")',
              f'x = {N}.copy()\nx.append("X")', f'x = sorted({N})\nx.append("X")', f'x = list({N})\nx.append("X")'],
    "getattr": [f'getattr({N}, "append")("X")', f'getattr({N}, "ap" + "pend")("X")', f'list.append({N}, "X")',
                f'type({N}).append({N}, "X")', f'set.add({N}, "X")', f'dict.__setitem__({N}, "X", 0)',
                f'getattr({N}, "add")("X")', f'object.__getattribute__({N}, "append")("X")'],
    "dynamic": [f'globals()["{N}"].append("X")', f'globals()["{N}"] = ["X"]', f'globals().update({N}=["X"])',
                f'vars()["{N}"] = ["X"]', f'locals()["{N}"] = ["X"]',
                f'import sys\nsys.modules[__name__].{N} = ["X"]',
                f'import sys\nsetattr(sys.modules[__name__], "{N}", ["X"])',
                f'import sys\nsetattr(sys.modules[__name__], "K" + "EYS", ["X"])',
                f'exec("{N}.append(\'X\')")', f'exec("K" + "EYS.append(\'X\')")', f'eval("{N}.append(\'X\')")',
                f'exec(compile("{N} = [\'X\']", "s", "exec"))', f'__import__(__name__).{N}.append("X")',
                f'import importlib\nimportlib.import_module(__name__).{N}.append("X")',
                f'(lambda: 0).__globals__["{N}"].append("X")',
                f'import sys\nsys._getframe().f_globals["{N}"].append("X")',
                f'import inspect\ninspect.currentframe().f_globals["{N}"] = ["X"]',
                f'g = globals\ng()["{N}"] = ["X"]', f'import builtins\nbuiltins.globals()["{N}"] = ["X"]',
                f'exec("globals()[\'{N}\'] = [\'X\']")', f'exec("x = 1")', f'eval("1 + 1")',
                f'getattr(__import__("sys").modules[__name__], "{N}").append("X")',
                f'import gc\n[o for o in gc.get_objects() if o is {N}]',
                f'exec("\\\\x4b\\\\x45YS.append(\'X\')")'],
    "rebind": [f'{N} = ["X"]', f'for {N} in [["X"]]:\n    pass', f"import os as {N}", f"def {N}():\n    pass",
               f"class {N}:\n    pass", f"with open(__file__) as {N}:\n    pass",
               f"try:\n    raise ValueError\nexcept ValueError as {N}:\n    pass", f'({N} := ["X"])',
               f"del {N}", f'def f():\n    global {N}\n    {N} = ["X"]\nf()', f'match ["X"]:\n    case {N}:\n        pass',
               f'{N}, _ = ["X"], 0', f'[{N} for {N} in [["X"]]]', f'{N}: list = ["X"]', f'import json as {N}',
               f'from os import sep as {N}', f'def f():\n    global {N}\n    del {N}\nf()',
               f'def f():\n    global {N}\n    {N} += ["X"]\nf()', f'[*{N}], = [["X"]]'],
    "unicode": [f'{WIDE}.append("X")', f'{WIDE} = ["X"]', f'{WIDE} += ["X"]', f'x = {WIDE}\nx.append("X")',
                f'globals()["{N}"].append("X")', f'def f():\n    global {WIDE}\n    {WIDE} = ["X"]\nf()',
                f'ＫEYS.add("X")', f'getattr({WIDE}, "append")("X")'],
    "builtins": [f'def sorted(x):\n    x.append("X")\n    return x\nsorted({N})',
                 f'def len(x):\n    x.append("X")\n    return 0\nlen({N})',
                 f'import builtins\nbuiltins.len = lambda x: x.append("X")\nlen({N})',
                 f'print = lambda x: x.append("X")\nprint({N})', f'any = list.append\nany({N}, "X")'],
    "harmless": [f"print(len({N}))", f"for k in {N}:\n    pass", f'"A_KEY" in {N}', f"sorted({N})",
                 f'", ".join({N})', f'f"{{{N}}}"', f"x = {N}[0]", f"x = {N}[1:]",
                 f"x = {N}.copy()", f"x = [k for k in {N} if k]", f"x = {{k: 1 for k in {N}}}",
                 f"def f({N}):\n    {N}.append(\"X\")\nf([])", f"def f():\n    {N} = []\n    {N}.append(\"X\")\nf()",
                 f'class C:\n    {N} = []\n    {N}.append("X")', f'[{N}.append("X") for {N} in [[]]]',
                 f'g = lambda {N}: {N}.append("X")\ng([])', f"x = {N} + ['Z'] if isinstance({N}, list) else 0",
                 f"if {N}:\n    pass", f"assert {N}", f"x = not {N}", f'x = "A_KEY" not in {N} and len({N}) > 0',
                 f"x = tuple({N})", f"x = frozenset({N})", f"x = max({N}) + min({N})", f"x = any({N})",
                 f"for i, k in enumerate({N}):\n    pass", f"x = {N} is None", f"x = [*{N}]",
                 f'def f():\n    return len({N})\nf()', f'getattr(object(), "__class__")', f'obj = type("O", (), {{}})()\n'
                 f'obj.{N} = []\nobj.{N}.append("X")', f'x = "{N}"', f'# {N}.append("X")',
                 f'"""\n{N}.append("X")\n"""', "pass"],
}
WRAPPERS = ("top", "function", "if")
ENCODED: dict[str, bytes] = {
    # UTF-8 readers see a comment; Python decodes UTF-7 and appends
    "utf7-hidden-append": f'# -*- coding: utf-7 -*-\n{N} = ["A_KEY"]\n# +AAo-{N}.append(+ACI-X+ACI-)\n'.encode(),
    # Python decodes the UTF-8 bytes of "É" as two latin-1 characters
    "latin1-mojibake": f'# -*- coding: latin-1 -*-\n{N} = ["\u00c9_KEY"]\n'.encode(),
    "cp1252-mojibake": f'# vim: set fileencoding=cp1252 :\n{N} = ["\u00e9_KEY"]\n'.encode(),
    "latin1-bytes": f'# coding: latin-1\n{N} = ["\u00e9_KEY"]\n'.encode("latin-1"),
    "utf8-cookie": f'# -*- coding: utf-8 -*-\n{N} = ["\u00e9_KEY"]\n'.encode(),
    "late-cookie": f'import os\n# coding: latin-1\n{N} = ["\u00e9_KEY"]\n'.encode(),
    "utf8-bom": b"\xef\xbb\xbf" + f'{N} = ["\u00e9_KEY"]\n'.encode(),
}

_JUDGE = r"""
import builtins, importlib.util, json, sys, io, contextlib
sys.path.insert(0, sys.argv[1])
out = {}
namespace = builtins.__dict__
pristine = dict(namespace)
for name in json.loads(sys.argv[2]):
    namespace.clear()
    namespace.update(pristine)  # one module's `builtins.len = ...` must not reach the next
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    failed = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except BaseException as exc:  # the module stops here; KEYS holds what ran before
        failed = type(exc).__name__
    namespace.clear()
    namespace.update(pristine)
    if "KEYS" not in vars(module):
        out[name] = ["error", failed or "no KEYS"]
        continue
    value = vars(module)["KEYS"]
    if isinstance(value, (list, tuple)) or type(value) is dict:
        out[name] = [type(value).__name__, list(value)]
    elif isinstance(value, (set, frozenset)):
        out[name] = [type(value).__name__, sorted(value)]
    else:
        out[name] = ["other", repr(type(value))]
print(json.dumps(out))
"""


@dataclass
class Module:
    name: str
    data: bytes
    group: str  # change class
    change: str
    wrapper: str
    definition: str


def _indent(code: str) -> str:
    return "".join("    " + line + "\n" for line in code.splitlines())


def _wrap(change: str, wrapper: str) -> str:
    if wrapper == "function":
        return f"def _change():\n{_indent(change)}\n_change()\n"
    if wrapper == "if":
        return f"if True:\n{_indent(change)}"
    return change + "\n"


def generate(seed: int = 20261202) -> list[Module]:
    rng = random.Random(seed)
    modules: list[Module] = []
    counter = itertools.count()
    for group, changes in CHANGES.items():
        for change, wrapper in itertools.product(changes, WRAPPERS):
            # every change with two random definitions (and always the plain list at module level)
            kinds = rng.sample(sorted(DEFINITIONS), 2)
            if wrapper == "top" and "list" not in kinds:
                kinds.append("list")
            for kind in kinds:
                before = rng.choice(["", "import os\n", '"""Doc."""\n', "OTHER = ['Z']\n"])
                text = before + DEFINITIONS[kind] + "\n" + _wrap(change, wrapper)
                try:
                    compile(text, "m.py", "exec")
                except SyntaxError:
                    continue  # e.g. `global` after use at module level: not a module Python accepts
                modules.append(Module(f"adv_{next(counter)}", text.encode(), group, change, wrapper, kind))
    for label, data in ENCODED.items():
        modules.append(Module(f"adv_{next(counter)}", data, "encoding", label, "top", "list"))
    return modules


def judge(directory: Path, modules: list[Module]) -> dict[str, tuple[str, object]]:
    for m in modules:
        (directory / f"{m.name}.py").write_bytes(m.data)
    proc = subprocess.run([sys.executable, "-B", "-c", _JUDGE, str(directory), json.dumps([m.name for m in modules])],
                          capture_output=True, text=True, timeout=300, cwd=directory)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: (kind, value) for name, (kind, value) in json.loads(proc.stdout).items()}


def test_adversarial_modules_are_read_exactly_or_refused(tmp_path: Path) -> None:
    modules = generate()
    truth = judge(tmp_path, modules)
    files = SourceFiles(tmp_path)
    counts = {"generated": len(modules), "read exactly": 0, "refused": 0, "wrong": 0}
    per_group: dict[str, list[int]] = {}
    wrong: list[str] = []
    refused_harmless: list[str] = []
    for m in modules:
        result = extract_list(ListRef(f"{m.name}.py:{N}", f"{m.name}.py", N, "python"), files)
        kind, value = truth[m.name]
        stats = per_group.setdefault(m.group, [0, 0])
        if result.keys is None:
            counts["refused"] += 1
            stats[1] += 1
            if m.group == "harmless":
                refused_harmless.append(f"{m.change!r} ({m.wrapper}, {m.definition}): "
                                        f"{[f.message for f in result.findings]}")
            continue
        got = list(result.key_names)
        if kind in ("set", "frozenset"):
            same = sorted(got) == value and len(set(got)) == len(got)
        else:
            same = kind in ("list", "tuple", "dict") and got == value
        if same:
            counts["read exactly"] += 1
            stats[0] += 1
        else:
            counts["wrong"] += 1
            wrong.append(f"[{m.group}/{m.wrapper}/{m.definition}] python: {kind} {value!r}; driftcheck: {got!r}\n"
                         f"{m.data.decode('utf-8', 'replace')}")
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    groups = "; ".join(f"{g}: {r} read/{x} refused" for g, (r, x) in per_group.items())
    print(f"\n[adversarial python] {summary}\n[adversarial python] {groups}")
    assert not wrong, f"{len(wrong)} wrong:\n\n" + "\n\n".join(wrong[:5])
    assert counts["generated"] > 300 and counts["read exactly"] > 0 and counts["refused"] > 0
    # the allowlist must not refuse plain reads of a plain list
    assert not refused_harmless, "\n".join(refused_harmless)
    print(f"[adversarial python] harmless modules refused: {len(refused_harmless)}")
