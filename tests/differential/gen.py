"""Generators for the differential tests: source files that declare a key list, for Go, bash and Python.

Every generator is written against `Draw`, a tiny interface over a source of choices, so the same code runs
in two ways:

- `RandomDraw(random.Random(seed))` — the bulk runs: hundreds of cases from a fixed seed, reproducible in CI,
  compiled/evaluated in a few batches (one `go build`, one `bash`, one `python` per batch);
- `hypothesis_cases(make)` — a hypothesis strategy around the same generator, for `@given` tests that
  hypothesis can shrink to a minimal failing case.

A generated case carries its files, the symbol, how its result compares (`kind`), the keys the generator meant
(`intended`, a self-check of the generator only — the oracle is always the real language), and, for the
forms driftcheck must decline, `declined` (the form's name) with the rule codes that are acceptable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Sources of choices


class Draw:
    """What the generators need from a source of randomness."""

    def int(self, lo: int, hi: int) -> int:  # inclusive bounds
        raise NotImplementedError

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.int(0, len(seq) - 1)]

    def chance(self, p: float) -> bool:
        # Shrinks towards False with hypothesis (0 is the simplest integer).
        return self.int(0, 999) >= 1000 - round(p * 1000)

    def weighted(self, options: Sequence[tuple[int, T]]) -> T:
        total = sum(w for w, _ in options)
        pick = self.int(0, total - 1)
        for weight, value in options:
            if pick < weight:
                return value
            pick -= weight
        raise AssertionError("unreachable")


class RandomDraw(Draw):
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class HypothesisDraw(Draw):
    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return self.draw(st.integers(lo, hi))


def hypothesis_cases(make: Callable[[Draw], Any]) -> Any:
    """A hypothesis strategy drawing one case from `make(draw)`."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw: Callable[[Any], Any]) -> Any:
        return make(HypothesisDraw(draw))

    return strategy()


@dataclass
class Case:
    """One generated list definition (one Go package, one bash fragment, or one Python module)."""

    name: str  # unique within a batch: Go package / fragment / module name
    files: dict[str, bytes]  # file name (relative to the case directory) -> content
    main: str  # the file holding the definition
    symbol: str
    kind: str  # "set": compare sorted; "ordered": compare in order; "auto": decided by the oracle
    intended: list[str] | None = None  # what the generator meant (self-check only)
    declined: str | None = None  # a form driftcheck must refuse (exit 2): its name
    codes: tuple[str, ...] = ()  # acceptable DC1xx codes for a declined form
    may_decline: bool = False  # an exotic-but-valid form: declining is acceptable, a wrong list is not
    notes: list[str] = field(default_factory=list)

    def show(self) -> str:
        parts = [f"case {self.name} symbol={self.symbol} kind={self.kind} declined={self.declined}"]
        for name, data in self.files.items():
            parts.append(f"--- {name}\n{data.decode('utf-8', 'replace')}")
        return "\n".join(parts)


def key_text(d: Draw, extra: Sequence[str], lo: int = 1, hi: int = 14) -> str:
    """A key: mostly the characters of environment variable names, sometimes `extra` characters."""
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
    out = []
    for _ in range(d.int(lo, hi)):
        out.append(d.choice(extra) if extra and d.chance(0.12) else d.choice(safe))
    return "".join(out)


def distinct_keys(d: Draw, count: int, extra: Sequence[str], taken: set[str] | None = None,
                  lo: int = 1, hi: int = 14) -> list[str]:
    taken = set(taken or ())
    out: list[str] = []
    for _ in range(count):
        for _attempt in range(20):
            k = key_text(d, extra, lo, hi)
            if k not in taken:
                taken.add(k)
                out.append(k)
                break
    return out


def with_duplicates(d: Draw, keys: list[str]) -> list[str]:
    """Sometimes repeat some keys (ordered lists keep duplicates; driftcheck reports DC003)."""
    if not keys or not d.chance(0.2):
        return keys
    out = list(keys)
    for _ in range(d.int(1, 2)):
        out.insert(d.int(0, len(out)), d.choice(keys))
    return out


# =============================================================================================
# Go

GO_EXTRA = ["a", "z", "é", "ß", "Ω", "日", "🔑", " ", "-", ".", "\t", "\n", '"', "\\", "'", "`", "$", "/", "*",
            "\x07", "\r", "\v", "\b", "\f", "\x7f"]
GO_SYMBOLS = ["keys", "platformManagedDirectLLMBypassKeys", "K", "stripKeys", "Keys_2", "ключи", "λKeys"]
_GO_NAMED = {"\x07": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}


@dataclass
class _ConstSpec:
    names: list[str]
    type: str | None
    exprs: list[str] | None  # None: repeats the previous spec of its group (implicit repetition)


class GoGen:
    """One generated Go package (one case)."""

    def __init__(self, d: Draw, pkg: str) -> None:
        self.d = d
        self.pkg = pkg
        self.layout = d.weighted([(3, "gofmt"), (2, "oneline"), (4, "random")])
        self.units: list[list[_ConstSpec]] = []  # a unit: specs that must stay together in one group
        self.n = 0
        self.imports: set[str] = set()
        self.crlf = d.chance(0.05)

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # ---- layout ----------------------------------------------------------------------------

    def ws(self, newline: bool) -> str:
        """Whitespace/comments between two tokens (random layout only); `newline` when a line break is legal there
        (not after an operand: Go would insert a semicolon)."""
        if self.layout != "random":
            return ""
        flat = [(10, ""), (4, " "), (1, "  "), (1, "\t"), (1, " /* c */ "), (1, "/*x*/"),
                (1, ' /* "FAKE_KEY_FLAT": {}, */ ')]
        breaking = [(4, "\n"), (3, "\n\t"), (1, "\n\n    "), (1, ' // "FAKE_KEY_LINE": {},\n\t'),
                    (1, "\n\t// comment, \"FAKE_KEY_OWNLINE\"\n\t"), (1, "/* multi\n   line \"FAKE_KEY_ML\" */"),
                    (1, " \n \t")]
        return self.d.weighted(flat + breaking if newline else flat)

    def sep_elem(self) -> str:
        """Between `{`/`,` and the next element."""
        if self.layout == "gofmt":
            return self.d.weighted([(6, "\n\t"), (1, "\n\t// a comment \"FAKE\": {},\n\t"), (1, "\n\n\t")])
        if self.layout == "oneline":
            return " "
        return self.ws(True)

    # ---- string expressions ------------------------------------------------------------------

    def interp(self, s: str) -> str:
        d = self.d
        out = ['"']
        for c in s:
            o = ord(c)
            if c == '"':
                out.append('\\"')
            elif c == "\\":
                out.append("\\\\")
            elif o < 32 or o == 127:
                options = [f"\\x{o:02x}", f"\\{o:03o}", f"\\u{o:04X}"]
                if c in _GO_NAMED:
                    options += [f"\\{_GO_NAMED[c]}"] * 3
                if c == "\t":
                    options.append("\t")  # a literal tab is allowed in an interpreted string
                out.append(d.choice(options))
            else:
                form = d.weighted([(12, "plain"), (1, "x"), (1, "o"), (1, "u"), (1, "U")])
                raw = c.encode("utf-8")
                if form == "plain":
                    out.append(c)
                elif form == "x":
                    out.append("".join(d.choice([f"\\x{b:02x}", f"\\x{b:02X}"]) for b in raw))
                elif form == "o":
                    out.append("".join(f"\\{b:03o}" for b in raw))
                elif form == "u" and o <= 0xFFFF:
                    out.append(d.choice([f"\\u{o:04x}", f"\\u{o:04X}"]))
                else:
                    out.append(f"\\U{o:08x}")
        out.append('"')
        return "".join(out)

    def raw(self, s: str) -> str | None:
        if "`" in s or "\r" in s or any(ord(c) < 32 and c not in "\t\n" for c in s) or "\x7f" in s:
            return None
        body = s
        if self.d.chance(0.15):
            at = self.d.int(0, len(body))
            body = body[:at] + "\r" + body[at:]  # Go discards carriage returns in raw strings
        return "`" + body + "`"

    def piece(self, s: str, depth: int) -> str:
        d = self.d
        form = d.weighted([(6, "interp"), (3, "raw"), (3 if depth < 2 else 0, "const")])
        if form == "raw":
            raw = self.raw(s)
            if raw is not None:
                return raw
            form = "interp"
        if form == "const":
            return self.new_const(s, depth + 1)
        return self.interp(s)

    def string_expr(self, s: str, depth: int = 0) -> str:
        """A Go constant expression of value `s`: literals, `+`, parentheses, constants."""
        d = self.d
        cuts: list[int] = []
        if len(s) >= 2 and d.chance(0.3):
            cuts = sorted({d.int(1, len(s) - 1) for _ in range(d.int(1, 2))})
        if d.chance(0.05):
            cuts = [0] + cuts  # an empty piece: "" + "KEY"
        bounds = [0, *cuts, len(s)]
        pieces = [self.piece(s[a:b], depth) for a, b in zip(bounds, bounds[1:])]
        expr = pieces[0]
        for p in pieces[1:]:
            if d.chance(0.2):
                p = "(" + p + ")"
            space = " " if self.layout == "gofmt" else ""
            expr = expr + self.ws(False) + space + "+" + space + self.ws(True) + p
        if d.chance(0.15):
            expr = "(" + self.ws(True) + expr + self.ws(False) + ")"
        return expr

    def new_const(self, value: str, depth: int) -> str:
        """Declare a string constant of value `value` (somewhere in the package); return its name."""
        d = self.d
        typ = "string" if d.chance(0.3) else None
        names = [self.fresh("kc")]
        exprs = [self.string_expr(value, depth)]
        at = 0  # where `value` stands among the names
        if d.chance(0.1):  # `const a, b = x, y`
            names.append(self.fresh("kc"))
            exprs.append(self.interp(key_text(d, [])))
            if d.chance(0.5):
                names.reverse()
                exprs.reverse()
                at = 1
        unit = [_ConstSpec(names, typ, exprs)]
        name = names[at]
        if d.chance(0.2):  # `const ( a = "X"; b )`: b repeats a's expression (and type)
            again = [self.fresh("kc") for _ in names]
            unit.append(_ConstSpec(again, typ, None))
            if d.chance(0.6):
                name = again[at]
        self.units.append(unit)
        return name

    def const_files(self, main_file: str) -> dict[str, str]:
        """Distribute the constant declarations over the main file and two other files of the package."""
        d = self.d
        by_file: dict[str, list[list[_ConstSpec]]] = {}
        for unit in self.units:
            target = d.weighted([(3, main_file), (4, "consts.go"), (3, "more_consts.go")])
            by_file.setdefault(target, []).append(unit)
        out: dict[str, str] = {}
        for name, units in by_file.items():
            out[name] = self.render_consts(units)
        return out

    def render_consts(self, units: list[list[_ConstSpec]]) -> str:
        d = self.d
        decls: list[str] = []
        group: list[_ConstSpec] = []

        def spec_text(spec: _ConstSpec) -> str:
            names = ", ".join(spec.names)
            if spec.exprs is None:
                return names
            typ = f" {spec.type}" if spec.type else ""
            return f"{names}{typ} = {', '.join(spec.exprs)}"

        def flush() -> None:
            if not group:
                return
            if d.chance(0.2) and all("\n" not in spec_text(s) and "//" not in spec_text(s) for s in group):
                # One line, with the last `;` that Go lets you omit: tree-sitter-go 0.25 needs it (see
                # test_go_one_line_group_without_last_semicolon in test_go_oracle.py).
                decls.append("const ( " + "; ".join(spec_text(s) for s in group) + "; )")
            else:
                decls.append("const (\n" + "".join(f"\t{spec_text(s)}\n" for s in group) + ")")
            group.clear()

        for unit in units:
            if len(unit) == 1 and d.chance(0.5):
                decls.append(f"const {spec_text(unit[0])}")
            else:
                group.extend(unit)
                if d.chance(0.5):
                    flush()
        flush()
        return "\n\n".join(decls) + "\n"

    # ---- the list ----------------------------------------------------------------------------

    def literal(self, kind: str, elements: list[str], length: int | None = None) -> tuple[str, str]:
        """(type text, literal text) for the element expressions (map: `key: value` already)."""
        d = self.d
        if kind == "map_struct":
            typ = d.choice(["map[string]struct{}", "map[string]struct{}", "map[ string ]struct{ }"])
        elif kind == "map_bool":
            typ = d.choice(["map[string]bool", "map[ string ]bool"])
        elif kind == "slice":
            typ = "[]string"
        elif kind == "array":
            n = len(elements) if length is None else length
            typ = "[" + d.choice([str(n), hex(n), f"0o{n:o}", f"0{n:o}" if n else "0", bin(n),
                                  "_".join(str(n)) if n >= 10 else str(n)]) + "]string"
        else:
            typ = "[...]string"
        if self.layout == "gofmt":
            body = "".join(self.sep_elem() + e + "," for e in elements) + ("\n" if elements else "")
        elif self.layout == "oneline":
            body = ", ".join(elements)
        else:
            body = ""
            for i, e in enumerate(elements):
                body += self.sep_elem() + e + self.ws(False)
                last = i == len(elements) - 1
                if not last or d.chance(0.5):
                    body += ","
                    if last:
                        body += self.ws(True)
            if not elements:
                body = self.ws(True)
        return typ, typ + "{" + body + "}"

    def map_element(self, key_expr: str, kind: str) -> str:
        value = "true" if kind == "map_bool" else self.d.weighted([(5, "{}"), (1, "struct{}{}"), (1, "{ }")])
        colon = ":" + (" " if self.layout != "random" else self.ws(True) or " ")
        return key_expr + (self.ws(False) if self.layout == "random" else "") + colon + value

    def var_decl(self, symbol: str, typ: str, literal: str) -> str:
        d = self.d
        forms = [(5, "plain"), (2, "paren"), (2, "group"), (2, "multi"), (1, "multi_group")]
        if "..." not in typ:
            forms.append((2, "typed"))
        form = d.weighted(forms)
        o1, o2 = self.fresh("ov"), self.fresh("ov")
        if form == "plain":
            return f"var {symbol} = {literal}"
        if form == "typed":
            return f"var {symbol} {typ} = {literal}"
        if form == "paren":
            return f"var {symbol} = ({literal})"
        if form == "group":
            return f"var (\n\t{o1} = 3\n\t{symbol} = {literal}\n\t{o2} = \"{symbol}\"\n)"
        if form == "multi":
            if d.chance(0.5):
                return f"var {o1}, {symbol} = []string{{\"FAKE\"}}, {literal}"
            return f"var {symbol}, {o1} = {literal}, \"z\""
        return f"var (\n\t{o1}, {symbol} = 7, {literal}\n\t{o2} = 1\n)"

    def fillers(self, symbol: str, kind: str) -> list[str]:
        """Functions that read the list or only touch a shadowing local/parameter of the same name."""
        d = self.d
        out = []
        is_map = kind.startswith("map")
        if d.chance(0.3):
            f = self.fresh("has")
            if is_map:
                out.append(f"func {f}(k string) bool {{ _, ok := {symbol}[k]; return ok }}")
            else:
                out.append(f"func {f}(k string) bool {{\n\tfor _, x := range {symbol} {{\n\t\tif x == k {{\n"
                           f"\t\t\treturn true\n\t\t}}\n\t}}\n\treturn false\n}}")
        if d.chance(0.25):
            f = self.fresh("shadowP")
            out.append(f"func {f}({symbol} map[string]bool) {{\n\t{symbol}[\"X\"] = true\n"
                       f"\tdelete({symbol}, \"X\")\n}}")
        if d.chance(0.25):
            f = self.fresh("shadowL")
            out.append(f"func {f}() int {{\n\t{symbol} := []string{{}}\n\t{symbol} = append({symbol}, \"X\")\n"
                       f"\treturn len({symbol})\n}}")
        if d.chance(0.15):
            f = self.fresh("shadowB")
            out.append(f"func {f}() {{\n\t{{\n\t\tvar {symbol} = map[string]int{{}}\n\t\t{symbol}[\"x\"] = 1\n"
                       f"\t}}\n}}")
        if d.chance(0.15):
            f = self.fresh("lit")
            out.append(f"var {f} = func({symbol} []string) []string {{ {symbol} = append({symbol}, \"x\"); "
                       f"return {symbol} }}")
        if d.chance(0.2):
            out.append(f"func init() {{ _ = len({symbol}) }}")
        return out

    def accessor(self, symbol: str, kind: str) -> str:
        if kind == "map_struct":
            body = (f"\tout := make([]string, 0, len({symbol}))\n\tfor k := range {symbol} {{\n"
                    "\t\tout = append(out, k)\n\t}\n\tsort.Strings(out)\n\treturn out\n")
        elif kind == "map_bool":
            body = (f"\tout := make([]string, 0, len({symbol}))\n\tfor k, v := range {symbol} {{\n"
                    "\t\tif !v {\n\t\t\tpanic(\"false value\")\n\t\t}\n"
                    "\t\tout = append(out, k)\n\t}\n\tsort.Strings(out)\n\treturn out\n")
        elif kind == "slice":
            body = f"\treturn append([]string{{}}, {symbol}...)\n"
        else:
            body = f"\treturn append([]string{{}}, {symbol}[:]...)\n"
        imports = 'import "sort"\n\n' if kind.startswith("map") else ""
        return f"package {self.pkg}\n\n{imports}// DiffKeys is generated by the differential test.\n" \
               f"func DiffKeys() []string {{\n{body}}}\n"

    def main_file(self, symbol: str, var_decl: str, consts: str, extra: list[str]) -> str:
        d = self.d
        head = ""
        if d.chance(0.3):
            head = f"// Package {self.pkg} was generated.\n// var {symbol} = []string{{\"FAKE_IN_COMMENT\"}}\n"
        if d.chance(0.1):
            head += "/* a block comment\n   before the package clause */\n"
        parts = [f"{head}package {self.pkg}\n"]
        if self.imports:
            parts.append("import (\n" + "".join(f"\t\"{i}\"\n" for i in sorted(self.imports)) + ")\n")
        items = [var_decl, *extra]
        if consts.strip():
            items.insert(d.int(0, len(items)), consts.rstrip("\n"))
        # keep the var and its fillers in a stable but varied order
        if d.chance(0.5):
            items.reverse()
        parts.extend(item + "\n" for item in items)
        return "\n".join(parts)

    def finish(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return text.encode("utf-8")


GO_KINDS = ["map_struct", "map_bool", "slice", "array", "array_dots"]


def go_case(d: Draw, pkg: str) -> Case:
    """A Go package declaring a list in an accepted form, plus `DiffKeys()` that returns it (maps: sorted)."""
    g = GoGen(d, pkg)
    kind = d.weighted([(3, "map_struct"), (2, "map_bool"), (3, "slice"), (1, "array"), (1, "array_dots")])
    symbol = d.choice(GO_SYMBOLS)
    count = d.weighted([(1, 0), (3, 1), (10, d.int(2, 6)), (4, d.int(7, 14))])
    keys = distinct_keys(d, count, GO_EXTRA)
    if not kind.startswith("map"):
        keys = with_duplicates(d, keys)
    exprs = [g.string_expr(k) for k in keys]
    elements = [g.map_element(e, kind) for e in exprs] if kind.startswith("map") else exprs
    typ, lit = g.literal(kind, elements)
    decl = g.var_decl(symbol, typ, lit)
    extra = g.fillers(symbol, kind)
    main = "list.go" if d.chance(0.5) else "secrets.go"
    consts = g.const_files(main)
    files = {main: g.main_file(symbol, decl, consts.pop(main, ""), extra)}
    for name, text in consts.items():
        files[name] = f"package {pkg}\n\n{text}"
    files["zz_access.go"] = g.accessor(symbol, kind)
    return Case(name=pkg, files={n: g.finish(t) for n, t in files.items()}, main=main, symbol=symbol,
                kind="set" if kind.startswith("map") else "ordered",
                intended=sorted(keys) if kind.startswith("map") else keys,
                notes=["gofmt"] if g.layout == "gofmt" and d.chance(0.7) else [])  # run the real gofmt on it


# ---- forms driftcheck must decline (each compiles with Go) ------------------------------------

GO_DECLINED = ["call_element", "call_value", "iota", "selector", "variable", "mutation", "mutation_sibling",
               "declared_twice", "const_twice", "false_value", "non_utf8", "array_length", "no_value",
               "indexed_element"]


def go_declined_case(d: Draw, pkg: str, form: str) -> Case:
    """A valid Go package whose list driftcheck cannot evaluate statically (it must exit 2)."""
    g = GoGen(d, pkg)
    symbol = d.choice(GO_SYMBOLS)
    kinds = {"false_value": ["map_bool"], "array_length": ["array"], "indexed_element": ["slice", "array_dots"],
             "no_value": ["slice", "map_bool"]}.get(form, GO_KINDS)
    kind = d.choice(kinds)
    reserved = {"IOTA_A", "IOTA_B", "linux", "VARKEY", "TWICE", "FALSEKEY", "NOTTRUE"}  # constant map keys
    keys = distinct_keys(d, d.int(1, 5), GO_EXTRA, taken=reserved)
    exprs = [g.string_expr(k) for k in keys]
    codes: tuple[str, ...] = ("DC102",)
    files: dict[str, str] = {}
    tail: list[str] = []
    bad: str | None = None  # the offending element expression
    main = "secrets.go"
    if form == "call_element":
        g.imports.add("strings")
        bad = 'strings.ToLower("CALLKEY")'
    elif form == "iota":
        g.units.append([_ConstSpec(["kcIotaA"], None, ['"IOTA_" + string(rune(\'A\'+iota))']),
                        _ConstSpec(["kcIotaB"], None, None)])
        bad = d.choice(["kcIotaA", "kcIotaB"])
    elif form == "selector":
        g.imports.add("runtime")
        bad = "runtime.GOOS"
    elif form == "variable":
        tail.append('var ovVar = "VARKEY"')
        bad = "ovVar"
    elif form == "const_twice":
        files["c_linux.go"] = 'const kcTwice = "TWICE"\n'
        files["c_other.go"] = f'//go:build !linux\n\npackage {pkg}\n\nconst kcTwice = "TWICE"\n'
        bad = "kcTwice"
        codes = ("DC103",)
    elif form == "false_value":
        bad = "FALSE"
    elif form == "non_utf8":
        bad = d.choice(['"\\xff"', '"A\\xc3"', '"\\377B"', "\"\\xed\\xa0\\x80\""])
    elif form == "indexed_element":
        bad = 'IDX'
    if bad is not None and bad not in ("FALSE", "IDX"):
        exprs.insert(d.int(0, len(exprs)), bad)
    is_map = kind.startswith("map")
    elements = [g.map_element(e, kind) for e in exprs] if is_map else list(exprs)
    if form == "false_value":
        elements.insert(d.int(0, len(elements)), d.choice(['"FALSEKEY": false', '"NOTTRUE": 1 == 1',
                                                           '"NOTTRUE": !false']))
    if form == "indexed_element":
        elements = [f"{i}: {e}" if i == 0 else e for i, e in enumerate(elements)]
        if d.chance(0.5):
            elements.append(f'{len(elements) + 2}: "GAP"')
    length = len(elements) + d.int(1, 3) if form == "array_length" else None
    typ, lit = g.literal(kind, elements, length)
    decl = g.var_decl(symbol, typ, lit)
    if form == "call_value":
        decl = f"var {symbol} = mk{symbol}()"
        tail.append(f"func mk{symbol}() {typ.replace('...', str(len(elements)))} {{ return {lit} }}")
    if form == "no_value":
        decl = f"var {symbol} {typ}"
        tail.append(f"func init() {{ {symbol} = {lit} }}")
        codes = ("DC102", "DC104")
    if form in ("mutation", "mutation_sibling"):
        if is_map:
            value = "true" if kind == "map_bool" else "struct{}{}"
            stmt = d.choice([f'{symbol}["MUT"] = {value}', f'delete({symbol}, "MUT")', f"{symbol} = nil",
                             f"{symbol} = {typ}{{}}"])
        elif kind == "slice":
            stmt = d.choice([f'{symbol} = append({symbol}, "MUT")', f"{symbol} = {symbol}[:0]",
                             f'copy({symbol}, []string{{"MUT"}})', f"{symbol} = nil"])
        else:
            array_type = typ.replace("...", str(len(elements)))
            stmt = d.choice([f'{symbol}[0] = "MUT"', f'{symbol}[0] += "MUT"', f"{symbol} = {array_type}{{}}"])
            if not elements:
                stmt = f"{symbol} = {symbol}"
        body = d.choice([f"func init() {{\n\t{stmt}\n}}",
                         f"func reset{pkg}() {{\n\tif true {{\n\t\t{stmt}\n\t}}\n}}"])
        if form == "mutation":
            tail.append(body)
        else:
            files["mutate.go"] = body + "\n"
        codes = ("DC104",)
    if form == "declared_twice":
        other = d.choice(["list_linux.go", "list_tagged.go"])
        tag = "" if other == "list_linux.go" else "//go:build linux\n\n"
        files[other] = f"{tag}package {pkg}\n\n{decl}\n"
        main = "list_other.go"
        codes = ("DC103",)
    if form == "declared_twice":  # the constants must be visible to both build variants
        consts = {"consts.go": g.render_consts(g.units)} if g.units else {}
    else:
        consts = g.const_files(main)
    main_text = g.main_file(symbol, decl, consts.pop(main, ""), tail)
    if form == "declared_twice":
        main_text = "//go:build !linux\n\n" + main_text
    out = {main: main_text}
    for name, text in files.items():
        out[name] = text if text.startswith(("package", "//go:build")) else f"package {pkg}\n\n{text}"
    for name, text in consts.items():
        out[name] = f"package {pkg}\n\n{text}"
    return Case(name=pkg, files={n: g.finish(t) for n, t in out.items()}, main=main, symbol=symbol,
                kind="none", declined=form, codes=codes)


# =============================================================================================
# Python

PY_EXTRA = ["a", "z", "é", "ß", "日", "🔑", " ", "\t", "\n", "'", '"', "\\", "$", "{", "}", "#", "-",
            "\x00", "\x7f"]
PY_SYMBOLS = ["STRIP_KEYS", "NAME", "keys", "_KEYS", "ключи", "BYOK_STRIP_KEYS"]
_PY_NAMED = {"\n": "n", "\t": "t", "\r": "r", "\x00": "0", "\\": "\\", "\x07": "a", "\x0b": "v", "\x0c": "f", "\b": "b"}
_UNICODE_NAMES = {"é": "LATIN SMALL LETTER E WITH ACUTE", "ß": "LATIN SMALL LETTER SHARP S",
                  "日": "CJK UNIFIED IDEOGRAPH-65E5", "a": "LATIN SMALL LETTER A", " ": "SPACE", "$": "DOLLAR SIGN"}


class PyGen:
    """One generated Python module (one case)."""

    def __init__(self, d: Draw) -> None:
        self.d = d
        self.constants: list[str] = []  # module-level statements defining string constants, in order
        self.n = 0
        self.tight = d.chance(0.4)  # one-line displays vs. one element per line with comments

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # ---- strings -----------------------------------------------------------------------------

    def literal(self, s: str) -> str:
        """One string literal (any quotes/prefix/escapes) whose value is `s`."""
        d = self.d
        quote = d.weighted([(5, '"'), (4, "'"), (1, '"""'), (1, "'''")])
        triple = len(quote) == 3
        if d.chance(0.15) and self.raw_ok(s, quote):
            return d.choice(["r", "R"]) + quote + s + quote
        prefix = d.weighted([(8, ""), (1, "u"), (1, "U")])
        out = []
        for i, c in enumerate(s):
            o = ord(c)
            last = i == len(s) - 1
            if c == "\\":
                out.append("\\\\")
            elif c == quote[0] and (not triple or last or s[i + 1] == c or d.chance(0.5)):
                out.append("\\" + c)
            elif c == "\n" and triple and not last and d.chance(0.6):
                out.append("\n")  # a real newline inside a triple-quoted string
            elif o < 32 or o == 127:
                options = [f"\\x{o:02x}", f"\\{o:03o}", f"\\u{o:04x}"]
                if c in _PY_NAMED and not (c == "\x00" and i + 1 < len(s) and s[i + 1] in "01234567"):
                    options += ["\\" + _PY_NAMED[c]] * 2
                if c == "\t":
                    options.append("\t")
                out.append(d.choice(options))
            else:
                form = d.weighted([(14, "plain"), (1, "x"), (1, "o"), (1, "u"), (1, "U"), (1, "N")])
                if form == "x" and o < 256:
                    out.append(f"\\x{o:02X}")
                elif form == "o" and o < 256:
                    out.append(f"\\{o:03o}")
                elif form == "u" and o <= 0xFFFF:
                    out.append(f"\\u{o:04x}")
                elif form == "U":
                    out.append(f"\\U{o:08x}")
                elif form == "N" and c in _UNICODE_NAMES:
                    out.append("\\N{" + _UNICODE_NAMES[c] + "}")
                else:
                    out.append(c)
            if not triple and not last and d.chance(0.03):
                out.append("\\\n")  # backslash-newline inside a string: removed by Python
        body = "".join(out)
        if triple and body.endswith(quote[0]) and not body.endswith("\\" + quote[0]):
            body = body[:-1] + "\\" + quote[0]
        return prefix + quote + body + quote

    @staticmethod
    def raw_ok(s: str, quote: str) -> bool:
        if quote[0] in s or "\\" in s or any((ord(c) < 32 and c not in "\t\n") or c == "\x7f" for c in s):
            return False
        return "\n" not in s or len(quote) == 3

    def string_expr(self, s: str, depth: int = 0) -> str:
        d = self.d
        form = d.weighted([(10, "lit"), (2, "implicit"), (1, "plus"), (2 if depth < 2 else 0, "const"),
                           (1, "paren")])
        if form in ("implicit", "plus") and len(s) >= 2:
            at = d.int(1, len(s) - 1)
            left, right = self.string_expr(s[:at], depth + 1), self.string_expr(s[at:], depth + 1)
            if form == "plus":
                return f"{left} + {right}"
            if left[-1] not in "\"'" or right[0] not in "\"'urUR":
                return f"{left} + {right}"  # implicit concatenation needs two literals
            return f"({left}{d.choice([' ', '', chr(10) + '    '])}{right})"
        if form == "const":
            name = self.fresh("C_")
            self.constants.append(f"{name} = {self.string_expr(s, depth + 1)}")
            return name
        if form == "paren":
            return f"({self.string_expr(s, depth + 1)})"
        return self.literal(s)

    # ---- collections -------------------------------------------------------------------------

    def items(self, parts: list[str], open_: str, close: str, single_tuple: bool = False) -> str:
        d = self.d
        if not parts:
            return open_ + close
        if self.tight:
            body = ", ".join(parts)
            if single_tuple and len(parts) == 1 or d.chance(0.3):
                body += ","
            return open_ + body + close
        lines = []
        for p in parts:
            if d.chance(0.2):
                lines.append(d.choice(["    # a comment mentioning \"FAKE_KEY\"", "    # FAKE = ['X']", ""]))
            lines.append(f"    {p},{d.choice(['', '', '  # trailing comment'])}")
        return open_ + "\n" + "\n".join(lines) + "\n" + close

    def collection(self, kind: str, keys: list[str], depth: int = 0) -> str:
        """An expression of type `kind` whose elements (in order) are `keys`."""
        d = self.d
        if depth < 2 and len(keys) >= 2 and d.chance(0.15):
            at = d.int(1, len(keys) - 1)
            op = "|" if kind in ("set", "frozenset", "dict") else "+"
            if kind in ("set", "frozenset"):
                # set | frozenset keeps the left operand's type; the right may be either
                return (f"{self.collection(kind, keys[:at], depth + 1)} {op} "
                        f"{self.collection(d.choice(['set', 'frozenset']), keys[at:], depth + 1)}")
            return f"{self.collection(kind, keys[:at], depth + 1)} {op} {self.collection(kind, keys[at:], depth + 1)}"
        def elems() -> list[str]:
            return [self.string_expr(k) for k in keys]

        if kind == "list":
            form = d.weighted([(5, "display"), (2, "ctor"), (3, "split")])
            if form == "split" and self.splittable(keys):
                return self.split_expr(keys)
            if form == "ctor":
                return f"list({self.collection(d.choice(['tuple', 'list', 'dict']), keys, depth + 1)})"
            return self.items(elems(), "[", "]")
        if kind == "tuple":
            form = d.weighted([(6, "display"), (2, "ctor"), (1, "bare")])
            if form == "ctor":
                return f"tuple({self.collection(d.choice(['list', 'tuple', 'dict']), keys, depth + 1)})"
            if form == "bare" and keys and depth == 0:
                return ", ".join(elems()) + ("," if len(keys) == 1 or d.chance(0.3) else "")
            return self.items(elems(), "(", ")", single_tuple=True)
        if kind == "set":
            form = d.weighted([(5, "display"), (2, "ctor")])
            if not keys:
                return "set()"
            if form == "ctor":
                return f"set({self.collection(d.choice(['list', 'tuple', 'set', 'dict']), keys, depth + 1)})"
            return self.items(elems(), "{", "}")
        if kind == "frozenset":
            if not keys and d.chance(0.5):
                return "frozenset()"
            return f"frozenset({self.collection(d.choice(['list', 'tuple', 'set', 'dict']), keys, depth + 1)})"
        # dict
        values = ["None", "1", '"reason"', "True", "()"]
        pairs = [f"{e}: {d.choice(values)}" for e in elems()]
        return self.items(pairs, "{", "}")

    @staticmethod
    def splittable(keys: list[str]) -> bool:
        return bool(keys) and all(k and not any(c.isspace() for c in k) and "," not in k for k in keys)

    def split_expr(self, keys: list[str]) -> str:
        d = self.d
        if d.chance(0.5):
            seps = [" ", "  ", "\t", "\n", " \n    ", "\x0b", "\u00a0", "\u3000"]
            lead = d.choice(["", " ", "\n"])
            text = lead + "".join(k + (d.choice(seps) if i < len(keys) - 1 else "") for i, k in enumerate(keys))
            text += d.choice(["", " ", "\n"])
            return f"{self.receiver(text)}.split({d.choice(['', '', 'None', 'sep=None'])})"
        sep = d.choice([",", ";", ", ", "::"])
        text = sep.join(keys)
        if any(sep in k for k in keys):
            return self.items([self.string_expr(k) for k in keys], "[", "]")
        arg = self.literal(sep)
        return f"{self.receiver(text)}.split({d.choice([arg, 'sep=' + arg])})"

    def receiver(self, text: str) -> str:
        expr = self.string_expr(text, 1)
        return f"({expr})" if " + " in expr or self.d.chance(0.2) else expr


PY_KINDS = ["list", "tuple", "set", "frozenset", "dict"]


def py_case(d: Draw, name: str) -> Case:
    """A module defining a list in an accepted form (possibly grown by `+=`/`|=`)."""
    g = PyGen(d)
    kind = d.weighted([(4, "list"), (2, "tuple"), (3, "set"), (2, "frozenset"), (2, "dict")])
    symbol = d.choice(PY_SYMBOLS)
    count = d.weighted([(1, 0), (3, 1), (10, d.int(2, 6)), (4, d.int(7, 12))])
    keys = distinct_keys(d, count, PY_EXTRA)
    if kind in ("list", "tuple"):
        keys = with_duplicates(d, keys)
    augments: list[str] = []
    if keys and d.chance(0.25) and kind != "frozenset":
        at = d.int(0, len(keys) - 1)
        keys, extra = keys[:at], keys[at:]
        if kind == "list":
            augments.append(f"{symbol} += {g.collection(d.choice(['list', 'tuple']), extra)}")
        elif kind == "tuple":
            augments.append(f"{symbol} += {g.collection('tuple', extra, 1)}")
        elif kind == "set":
            augments.append(f"{symbol} |= {g.collection(d.choice(['set', 'frozenset']), extra)}")
        else:
            augments.append(f"{symbol} |= {g.collection('dict', extra)}")
    value = g.collection(kind, keys)
    annotation = d.weighted([(6, ""), (1, ": list[str]"), (1, ": \"frozenset[str]\""), (1, ": Final"),
                             (1, ": object")])
    head = []
    if d.chance(0.3):
        head.append(f'"""Generated module.\n\n{symbol} = ["FAKE_IN_DOCSTRING"]\n"""')
    if d.chance(0.3):
        head.append("from __future__ import annotations")
    if annotation == ": Final":
        head.append("from typing import Final")
    if d.chance(0.2):
        head.append("import os")
    if d.chance(0.3):
        head.append(f"# {symbol} = ['FAKE_IN_COMMENT']")
    body = list(g.constants)
    joiner = d.choice([" ", " \\\n    "]) if not value.startswith("\n") else " "
    body.append(f"{symbol}{annotation} ={joiner}{value}")
    body.extend(augments)
    tail = []
    if d.chance(0.2):
        tail.append(f"def local_shadow({symbol}=None):\n    {symbol} = []\n    {symbol}.append('X')\n"
                    f"    return {symbol}")
    if d.chance(0.2):
        tail.append(f"def reader():\n    return sorted({symbol})")
    if d.chance(0.15):
        tail.append(f"class Decoy:\n    {symbol} = ['FAKE_CLASS_ATTR']")
    if d.chance(0.15):
        tail.append(f"OTHER = 'x {symbol} = [1]'")
    text = "\n".join(head) + ("\n\n" if head else "") + "\n".join(body) + "\n"
    text += "".join("\n\n" + t + "\n" for t in tail)
    if d.chance(0.05):
        text = text.replace("\n", "\r\n")
    return Case(name=name, files={f"{name}.py": text.encode("utf-8")}, main=f"{name}.py", symbol=symbol,
                kind="auto")


PY_DECLINED = ["comprehension", "call", "fstring", "mutation", "mutation_in_function", "under_if", "under_try",
               "under_for", "only_in_function", "two_definitions", "chained", "global_rebind"]


def py_declined_case(d: Draw, name: str, form: str) -> Case:
    g = PyGen(d)
    symbol = d.choice(PY_SYMBOLS)
    kind = d.choice(PY_KINDS)
    keys = distinct_keys(d, d.int(1, 4), PY_EXTRA)
    value = g.collection(kind, keys)
    if kind == "frozenset" and not value.startswith("frozenset("):
        value = f"frozenset({value})"
    defn = f"{symbol} = {value}"
    codes: tuple[str, ...] = ("DC102",)
    extra: list[str] = []
    if form == "comprehension":
        defn = f"{symbol} = " + d.choice(["[k for k in ('A', 'B')]", "{k for k in ['A']}", "{k: 1 for k in 'AB'}",
                                          "tuple(k for k in ('A',))", "[*(k.upper() for k in 'ab')]"])
    elif form == "call":
        defn = f"{symbol} = " + d.choice(["sorted(['B', 'A'])", "make_keys()", "list(map(str.upper, ['a']))",
                                          "'a b'.upper().split()", "dict.fromkeys(['A'])", "os.environ.copy()"])
        extra.insert(0, "import os\n\ndef make_keys():\n    return ['A']\n")
    elif form == "fstring":
        const = g.fresh("C_")
        extra.insert(0, f"{const} = 'X'")
        bad = d.choice([f'f"A{{{const}}}"', 'f"PLAIN"', f'F"{{{const}!r}}"'])
        defn = f"{symbol} = [{', '.join([bad] + [g.string_expr(k) for k in keys])}]"
    elif form in ("mutation", "mutation_in_function"):
        stmt = d.choice([f"{symbol}.append('X')", f"{symbol}.add('X')", f"{symbol}.extend(['X'])",
                         f"{symbol}.update({{'X'}})", f"{symbol}.insert(0, 'X')", f"{symbol}.remove('X')",
                         f"{symbol}.discard('X')", f"{symbol}.pop()", f"{symbol}.clear()", f"{symbol}[0] = 'X'",
                         f"del {symbol}[0]", f"{symbol}.sort()", f"{symbol}.setdefault('X')"])
        codes = ("DC104",)
        if form == "mutation":
            extra.append(f"if False:\n    {stmt}" if d.chance(0.5) else f"def later():\n    {stmt}")
            if d.chance(0.5):
                extra[-1] = f"try:\n    {stmt}\nexcept Exception:\n    pass"
        else:
            extra.append(f"def grow():\n    {stmt}\n")
    elif form == "under_if":
        defn = f"if os.environ.get('X') is None:\n    {defn}\nelse:\n    {symbol} = []"
        extra.insert(0, "import os")
        codes = ("DC103",)
    elif form == "under_try":
        defn = f"try:\n    {defn}\nexcept Exception:\n    {symbol} = []"
        codes = ("DC103",)
    elif form == "under_for":
        defn = d.choice([f"for _i in range(1):\n    {defn}", f"while True:\n    {defn}\n    break",
                         f"with open(__file__) as _f:\n    {defn}"])
        codes = ("DC103",)
    elif form == "only_in_function":
        defn = f"def setup():\n    global {symbol}\n    {defn}\n\nsetup()"
        codes = ("DC103", "DC104")
    elif form == "two_definitions":
        defn = f"{defn}\n{symbol} = {g.collection(kind, keys[:1])}"
        codes = ("DC103",)
    elif form == "chained":
        defn = f"{symbol} = ALIAS = {value}"
        codes = ("DC103",)
    elif form == "global_rebind":
        extra.append(f"def reset():\n    global {symbol}\n    {symbol} = []")
        codes = ("DC104",)
    pre = [e for e in extra if e.startswith(("import", "C_"))]
    post = [e for e in extra if not e.startswith(("import", "C_"))]
    text = "\n".join(pre + g.constants) + "\n\n" + defn + "\n\n" + "\n\n".join(post) + "\n"
    return Case(name=name, files={f"{name}.py": text.encode("utf-8")}, main=f"{name}.py", symbol=symbol,
                kind="none", declined=form, codes=codes)


# =============================================================================================
# Bash

SH_UNQUOTED = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@%+,"
# Characters a key may hold that need quoting or a backslash. Glob characters, backslashes and control
# characters make driftcheck refuse a string list (DC102, by design): such cases may be declined.
SH_EXTRA = ["a", "z", "é", "日", "🔑", "-", ".", ":", "/", "@", "%", "+", ",", "=", "~", "#", "$", "`", '"', "'",
            ";", "&", "|", "<", ">", "(", ")", "!", "{", "}", "^"]
SH_RISKY = ["*", "?", "[", "]", "\\", "\x01", "\r", "\x0b"]
SH_SYMBOLS = ["BYOK_STRIP_KEYS", "NAME", "keys", "_K2", "STRIP"]
SH_WS = [(8, " "), (2, "  "), (2, "\n"), (1, "\t"), (1, " \n  "), (1, "\n\n")]
_SH_ANSI_NAMED = {"\n": "n", "\t": "t", "\r": "r", "\x07": "a", "\b": "b", "\x1b": "e", "\f": "f", "\x0b": "v",
                  "\\": "\\", "'": "'", '"': '"'}


def sh_risky(text: str) -> bool:
    """Would driftcheck refuse this text inside a list (glob character, backslash, control character)?"""
    return any(c in "*?[\\" or ord(c) < 32 and c not in " \t\n" or c == "\x7f" for c in text)


class ShGen:
    """One generated bash fragment (one case)."""

    def __init__(self, d: Draw, symbol: str, clean: bool = False) -> None:
        self.d = d
        self.symbol = symbol
        self.vars: list[str] = []  # statements defining helper variables, in order
        self.n = 0
        self.clean = clean  # never use a construct driftcheck refuses by design (for the declined forms)
        self.refusable = False  # uses a construct driftcheck refuses by design (DC101/DC102)

    def fresh(self) -> str:
        self.n += 1
        return f"V{self.n}_"

    # ---- words -------------------------------------------------------------------------------

    def unquoted(self, t: str) -> str:
        out = []
        for i, c in enumerate(t):
            if c in SH_UNQUOTED or (ord(c) > 127 and c.isalpha()):
                out.append(c)
            elif c == "\n":
                out.append("$'\\n'")  # a newline cannot be escaped outside quotes (\<newline> is removed)
            else:
                out.append("\\" + c)
                # An escaped blank outside quotes: tree-sitter-bash ends the word there; refused by design.
                self.refusable |= c in " \t"
            if not self.clean and i < len(t) - 1 and self.d.chance(0.01):
                # A line continuation inside an unquoted word: bash removes it; driftcheck refuses it by
                # design (tree-sitter-bash reads the next line as another word).
                out.append("\\\n")
                self.refusable = True
        return "".join(out)

    def double(self, t: str) -> str:
        out = ['"']
        for c in t:
            if c in '"\\$`':
                out.append("\\" + c)
            else:
                out.append(c)
            if self.d.chance(0.04):
                out.append("\\\n")  # removed inside double quotes too
        out.append('"')
        return "".join(out)

    def ansi(self, t: str) -> str:
        d = self.d
        out = ["$'"]
        for c in t:
            o = ord(c)
            if c == "\\":
                # not \\: tree-sitter-bash 0.25 mis-reads $'...\\' (see test_bash_valid_forms_*)
                out.append(d.choice(["\\x5c", "\\134"]))
            elif c in _SH_ANSI_NAMED and (c == "'" or d.chance(0.7)):
                out.append("\\" + _SH_ANSI_NAMED[c])
            elif o < 32 or o == 127:
                out.append(d.choice([f"\\x{o:02x}", f"\\{o:03o}", f"\\u{o:04x}"]))
            else:
                form = d.weighted([(10, "plain"), (1, "x"), (1, "o"), (1, "u"), (1, "U")])
                if form == "x" and o < 128:
                    out.append(f"\\x{o:02X}")
                elif form == "o" and o < 128:
                    out.append(f"\\{o:03o}")
                elif self.clean and o > 127:
                    out.append(c)  # \u/\U of a non-ASCII character is locale-dependent: refused by design
                elif form == "u" and o <= 0xFFFF:
                    out.append(f"\\u{o:04x}")
                    self.refusable |= o > 127
                elif form == "U":
                    out.append(f"\\U{o:08X}")
                    self.refusable |= o > 127
                else:
                    out.append(c)
        out.append("'")
        return "".join(out)

    def var_for(self, t: str) -> str:
        """Define a helper variable holding `t` (earlier, at top level); return its name."""
        name = self.fresh()
        word = self.word(t, expansions=False)
        style = self.d.weighted([(6, ""), (1, "declare -r "), (1, "export "), (1, "readonly ")])
        self.vars.append(f"{style}{name}={word}")
        return name

    def word(self, t: str, expansions: bool = True, split_context: bool = False) -> str:
        """A bash word whose value (quote removal, expansion, no word splitting) is `t`.

        split_context: the word is an array element, where unquoted expansions would be split/globbed.
        """
        d = self.d
        cuts = sorted({d.int(1, len(t) - 1) for _ in range(d.int(0, 2))}) if len(t) >= 2 else []
        bounds = [0, *cuts, len(t)]
        chunks = [t[a:b] for a, b in zip(bounds, bounds[1:])] or [""]
        out: list[str] = []
        previous = ""
        for i, chunk in enumerate(chunks):
            options = [(4, "unquoted"), (4, "double"), (3, "single"), (2, "ansi")]
            if expansions and chunk:
                options.append((2, "expansion"))
            form = d.weighted(options)
            control = any(ord(c) < 32 and c not in "\t\n" or c == "\x7f" for c in chunk)
            if form == "single" and "'" in chunk:
                form = "double"
            if form == "unquoted" and (not chunk or control):
                # a raw control character (e.g. \\<CR>) in the source: tree-sitter-bash chokes
                form = "ansi" if control else "double"
            if form == "double" and control:
                # bash doubles a literal \x01 inside "..." in an array assignment (its CTLESC quirk)
                form = "single" if "'" not in chunk else "ansi"
            if form == "unquoted" and (" " in chunk or "\t" in chunk) and (self.clean or d.chance(0.8)):
                form = "double"  # an escaped blank outside quotes is refused (DC102): keep most cases comparable
            if form == "unquoted" and (
                    "\n" in chunk  # unquoted() writes $'\n', a quoted part that escapes may follow
                    or (i == 0 and chunk[:1].isspace())  # NAME=\\<tab>
                    or (not split_context and i > 0 and previous != "unquoted"
                        and not (chunk[0] in SH_UNQUOTED or (ord(chunk[0]) > 127 and chunk[0].isalpha())))):
                # A backslash escape right after a quoted part or an expansion (NAME="x"\\ y), or at the very
                # start of the value: tree-sitter-bash ends the word there and driftcheck refuses (DC101/DC102).
                # Mostly quote the part instead, so most cases stay comparable.
                if self.clean or d.chance(0.8):
                    form = "double"
                else:
                    self.refusable = True
            if form == "expansion":
                follows = chunks[i + 1][:1] if i + 1 < len(chunks) else ""
                unquoted_ok = not (split_context and (any(c.isspace() for c in chunk) or sh_risky(chunk)
                                                      or any(c in "{}~" for c in chunk)))
                braced_only = follows.isalnum() or follows == "_"
                choice = d.choice(["quoted", "quoted_braced"] + (["bare", "braced"] if unquoted_ok else []))
                if choice == "bare" and braced_only:
                    choice = "braced"
                name = self.var_for(chunk)
                out.append({"quoted": f'"${name}"', "quoted_braced": f'"${{{name}}}"', "bare": f"${name}",
                            "braced": f"${{{name}}}"}[choice])
                form = "expansion" if choice in ("bare", "braced") else "double"
            elif form == "unquoted":
                out.append(self.unquoted(chunk))
            elif form == "double":
                out.append(self.double(chunk))
            elif form == "single":
                out.append("'" + chunk + "'")
            else:
                out.append(self.ansi(chunk))
            previous = form
        return "".join(out)


def _sh_flags(d: Draw, builtin: str, array: bool, appends: bool) -> str:
    if builtin in ("declare", "typeset"):
        letters = [c for c in "xg" if d.chance(0.3)] + (["r"] if not appends and d.chance(0.3) else [])
        if array and d.chance(0.7):
            letters.append("a")
        if not letters:
            return ""
        if len(letters) > 1 and d.chance(0.3):
            return " ".join("-" + c for c in letters) + " "
        return "-" + "".join(letters) + " "
    if builtin == "readonly" and array and d.chance(0.5):
        return "-a "
    return ""


def sh_case(d: Draw, name: str) -> Case:
    """A bash fragment defining the list as a string or an array, with appends, decoys and helpers."""
    symbol = d.choice(SH_SYMBOLS)
    g = ShGen(d, symbol)
    array = d.chance(0.45)
    extra = SH_EXTRA + (SH_RISKY if d.chance(0.15) else [])
    count = d.weighted([(1, 0), (3, 1), (10, d.int(2, 6)), (4, d.int(7, 14))])
    keys = with_duplicates(d, distinct_keys(d, count, extra))
    risky = any(sh_risky(k) for k in keys)
    builtin = d.weighted([(8, ""), (2, "declare"), (1, "typeset"), (1, "export"), (1, "readonly")])
    wants_appends = keys and d.chance(0.3) and builtin != "readonly"
    statements: list[str] = []
    appends: list[str] = []
    if array:
        at = d.int(0, len(keys)) if wants_appends else len(keys)
        groups = [keys[:at]] + ([keys[at:]] if at < len(keys) else [])
        rendered = []
        for group in groups:
            elems = [g.word(k, split_context=True) for k in group]
            body = ""
            for e in elems:
                body += d.weighted([(6, " "), (2, "\n  "), (1, " \\\n  "), (1, "\n  # a comment: FAKE_KEY\n  "),
                                    (1, "\t")]) + e
            body += d.choice(["", " ", "\n"])
            rendered.append("(" + body + ")")
        value, append_values = rendered[0], rendered[1:]
    else:
        text = ""
        for i, k in enumerate(keys):
            text += (d.weighted(SH_WS) if i or d.chance(0.2) else "") + k
        if d.chance(0.2):
            text += d.weighted(SH_WS)
        cuts = sorted({d.int(0, len(text)) for _ in range(d.int(1, 2))}) if wants_appends and text else []
        bounds = [0, *cuts, len(text)]
        parts = [text[a:b] for a, b in zip(bounds, bounds[1:])]
        value = g.word(parts[0]) if parts[0] else d.choice(['""', "''", ""])
        append_values = [g.word(p) if p else '""' for p in parts[1:]]
    flags = _sh_flags(d, builtin, array, bool(append_values)) if builtin else ""
    lead = f"{builtin} {flags}" if builtin else ""
    if lead and d.chance(0.15):
        lead = lead.rstrip() + " \\\n  "
    if builtin and d.chance(0.2):
        lead += "OTHER_FLAG=1 "
    definition = f"{lead}{symbol}={value}{d.choice(['', '', ';', '  # the list', ' # FAKE_IN_COMMENT'])}"
    for v in append_values:
        how = d.weighted([(6, ""), (1, "declare "), (1, "typeset -g "), (1, "declare -a " if array else "export ")])
        appends.append(f"{how}{symbol}+={v}")
    if not builtin and d.chance(0.1):
        # a value-less declaration first: `declare -a NAME` / `export NAME`, then the definition
        definition = ("declare -a " if array else d.choice(["export ", "declare "])) + symbol + "\n" + definition
    # decoys and unrelated statements
    before = []
    if d.chance(0.3):
        before.append("set -euo pipefail" if keys else "set -eo pipefail")  # -u: "$NAME" of an empty array
    if d.chance(0.4):
        before.append(f'# {symbol}="FAKE_IN_COMMENT OTHER_FAKE"')
    if d.chance(0.2):
        before.append(f"# Keep this BYTE-IN-SYNC with secrets.go\n# {symbol}=(FAKE)")
    if d.chance(0.25):
        before.append(f"cat >/dev/null <<'EOF'\n{symbol}=\"FAKE_IN_HEREDOC\"\n{symbol}+=(FAKE)\nEOF")
    if d.chance(0.15):
        before.append(f": <<EOF\n{symbol}=(FAKE_IN_UNQUOTED_HEREDOC)\nEOF")
    if d.chance(0.2):
        before.append(f"helper() {{\n  local other=\"{symbol}=FAKE_LOCAL\"\n  echo \"$1\" >/dev/null\n}}")
    if d.chance(0.2):
        before.append(f'{symbol}_EXTRA="FAKE_SIMILAR_NAME"\nX{symbol}=(FAKE)')
    after = []
    writable = builtin != "readonly" and "r" not in flags
    if d.chance(0.25) and writable:
        after.append(f'{symbol}="${symbol} FAKE_PREFIX" true')
    if d.chance(0.15) and writable:
        after.append(f"{symbol}=FAKE_PREFIX_2 printf ''")
    if d.chance(0.2):
        after.append(f'echo "{symbol}=FAKE_IN_STRING" >/dev/null')
    if d.chance(0.15):
        after.append(f"show() {{ printf '%s\\n' \"${symbol}\"; }}")
    if d.chance(0.1):
        after.append(f"if [ -n \"${{{symbol}:-}}\" ]; then\n  OTHER=1\nfi")
    if d.chance(0.1) and writable:
        after.append(f"export {symbol}")
    d_order = before + g.vars + [definition] + appends + after
    text = "#!/usr/bin/env bash\n" * d.chance(0.5) + "\n".join(d_order) + "\n"
    return Case(name=name, files={f"{name}.sh": text.encode("utf-8")}, main=f"{name}.sh", symbol=symbol,
                kind="auto", intended=keys, may_decline=risky or g.refusable)


SH_DECLINED = ["command_substitution", "unknown_expansion", "arithmetic", "unquoted_glob", "in_if", "in_function",
               "in_loop", "in_and_list", "in_subshell", "in_case", "append_in_if", "unset", "two_definitions",
               "attribute_flag", "indexed_element", "mixed_append", "read_into"]


def sh_declined_case(d: Draw, name: str, form: str) -> Case:
    """A valid bash fragment whose list driftcheck must refuse (exit 2)."""
    symbol = d.choice(SH_SYMBOLS)
    g = ShGen(d, symbol, clean=True)
    keys = distinct_keys(d, d.int(1, 4), SH_EXTRA)
    array = d.chance(0.5)
    elems = [g.word(k, split_context=True) for k in keys]
    value = "(" + " ".join(elems) + ")" if array else g.word(" ".join(keys))
    definition = f"{symbol}={value}"
    codes: tuple[str, ...] = ("DC102",)
    pre: list[str] = []
    post: list[str] = []

    def bad_word(word: str) -> str:
        return "(" + " ".join([word] + elems) + ")" if array else f'"{word} "{value}'

    if form == "command_substitution":
        definition = f"{symbol}=" + bad_word(d.choice(["$(echo CMD)", "`echo CMD`", '"$(printf %s CMD)"',
                                                         "$(<" + "/dev/null)"]))
    elif form == "unknown_expansion":
        pre.append("if true; then CONDVAR=A; fi")
        definition = f"{symbol}=" + bad_word(d.choice(["$UNDEFINED_X", "${HOME}", '"$1"', "${CONDVAR}",
                                                         '"${V_LATER:-x}"', "${#HOME}", '"$RANDOM"', '"$@"',
                                                         "${HOME/a/b}"]))
        post.append("V_LATER=A")
    elif form == "arithmetic":
        definition = f"{symbol}=" + bad_word(d.choice(["$((1+2))", '"$((40+2))"', "$[1+1]"]))
    elif form == "unquoted_glob":
        array = True
        definition = f"{symbol}=(" + " ".join([d.choice(["A*", "file?", "[ab]x", "A{B,C}", "~", "~/x"])] + elems) + ")"
    elif form == "in_if":
        definition = d.choice([f"if true; then\n  {definition}\nfi", f"if false; then :; else {definition}; fi"])
        codes = ("DC103",)
    elif form == "in_function":
        definition = f"setup() {{\n  {definition}\n}}\nsetup"
        codes = ("DC103",)
    elif form == "in_loop":
        definition = d.choice([f"for _i in 1; do\n  {definition}\ndone", f"while true; do {definition}; break; done",
                               f"until false; do {definition}; break; done"])
        codes = ("DC103",)
    elif form == "in_and_list":
        definition = d.choice([f"true && {definition}", f"false || {definition}", f"{definition} && true",
                               f"[ -n \"$HOME\" ] && {definition} || :"])
        codes = ("DC103",)
    elif form == "in_subshell":
        definition = d.choice([f"( {definition} )", f"{{ {definition}; }}", f"{definition} | cat"])
        codes = ("DC103",)
    elif form == "in_case":
        definition = f"case x in\n  x) {definition} ;;\nesac"
        codes = ("DC103",)
    elif form == "append_in_if":
        extra_word = "(EXTRA)" if array else '" EXTRA"'
        post.append(d.choice([f"if true; then {symbol}+={extra_word}; fi", f"true && {symbol}+={extra_word}",
                              f"f() {{ {symbol}+={extra_word}; }}"]))
        codes = ("DC103",)
    elif form == "unset":
        post.append(d.choice([f"unset {symbol}", f"unset -v {symbol}", f"unset OTHER {symbol}"]))
        codes = ("DC104",)
    elif form == "two_definitions":
        post.append(d.choice([f"{symbol}=SECOND", f"declare {symbol}=SECOND", f"{symbol}=(SECOND)",
                              f"export {symbol}=SECOND"]))
        codes = ("DC103",)
    elif form == "attribute_flag":
        flag = d.choice(["-l", "-u", "-i", "-A", "-n"] if not array else ["-l", "-u", "-A"])
        if flag == "-A":
            definition = f"declare -A {symbol}=([A]=1 [B]=2)"
        elif flag == "-n":
            pre.append(f"TARGET_={value}")
            definition = f"declare -n {symbol}=TARGET_"
        elif flag == "-i":
            definition = f"declare -i {symbol}=1+2"
        else:
            definition = f"declare {flag} {definition}"
    elif form == "indexed_element":
        definition = f"{symbol}=([3]=IDX {' '.join(elems)})"
    elif form == "mixed_append":
        post.append(f"{symbol}+=" + ('" MIXED"' if array else "(MIXED)"))
    elif form == "read_into":
        post.append(d.choice([f"read -r {symbol} <<< 'A B'", f"mapfile -t {symbol} < /dev/null",
                              f"printf -v {symbol} '%s' X", f"eval \"{symbol}=X\"", f"readarray {symbol} < /dev/null"]))
        codes = ("DC104", "DC103", "DC102")
    text = "\n".join(g.vars + pre + [definition] + post) + "\n"
    return Case(name=name, files={f"{name}.sh": text.encode("utf-8")}, main=f"{name}.sh", symbol=symbol,
                kind="none", declined=form, codes=codes)
