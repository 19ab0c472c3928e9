"""Secret redaction by decoding: text that could carry a secret is withheld whole.

A server can echo a value back in any encoding a body may carry, and enumerating the
encodings of each secret always misses the next one. So we go the other way: every text
the runner shows is decoded through each decoding a body can carry — JSON string escapes
(`\\uXXXX`, `\\/`, ...; Go's encoding/json writes `&<>` as `\\u0026\\u003c\\u003e`),
`\\xHH` escapes, percent-encoding in either case, HTML entities (named and numeric) —
repeatedly, in every order, then normalised (NFKC, invisible format characters and
whitespace dropped, case folded). When any decoded form holds `FRAGMENT` or more
consecutive characters of a secret, the whole text is withheld.

Fragments, not just whole values: a server that splits a value over a header and a body,
or a message clipped in the middle of a value, must not reveal half of it. Secrets must be
at least `MIN_SECRET_LENGTH` long (the runner refuses shorter ones), so no output holds
as much as half of one. Out of scope, and said so in the README: base64 and other
encodings that are not escapes (hex dumps, encryption, a server that spells a value one
character per message).
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote, unquote_plus

# The runner refuses an admin token or key value shorter than this (exit 2, before any
# request); `platform serve` refuses a shorter token too.
MIN_SECRET_LENGTH = 16
# Any run of this many consecutive characters of a secret (after decoding and case folding)
# withholds a text. Half of the shortest secret: a text never shows half of one.
FRAGMENT = MIN_SECRET_LENGTH // 2
WITHHELD = "withheld: it contained a secret"
# Decoding rounds: each round applies every decoder to every form found so far, so
# JSON-in-JSON, double percent-encoding and mixes of them (e.g. `%5Cu0026`) come apart.
_ROUNDS = 4
_MAX_FORMS = 256  # a text that keeps yielding new forms is withheld (fail closed)

_JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})
_ASCII_INVISIBLE = {c: None for c in (*range(0x21), 0x7F)}  # controls and the space
_ANCHOR = 4  # every FRAGMENT-long run of a secret holds one of its 4-grams at a multiple of 4


def _json_unescape(text: str) -> str:
    if "\\" not in text:
        return text
    decoded = _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else _SIMPLE[m[2]], text)
    # Surrogate pairs (`\ud83d\ude00`) became two lone surrogates: join them.
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _x_unescape(text: str) -> str:
    return _X_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "\\x" in text else text


def _percent(text: str) -> str:
    return unquote(text, errors="replace") if "%" in text else text


def _percent_plus(text: str) -> str:
    return unquote_plus(text, errors="replace") if "+" in text or "%" in text else text


def _html(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)  # fullwidth `％４１` is `%41`


_DECODERS = (_json_unescape, _x_unescape, _percent, _percent_plus, _html, _nfkc)


def normalise(text: str) -> str:
    """Compatibility forms folded (fullwidth letters), invisible characters and whitespace dropped,
    case folded: what is left is what a reader would read."""
    if text.isascii():  # the common case, in C
        return text.translate(_ASCII_INVISIBLE).lower()
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) not in _INVISIBLE).casefold()


def decoded_forms(text: str) -> set[str] | None:
    """`text` and everything it decodes to, normalised; None when decoding does not settle."""
    forms = {text}
    frontier = {text}
    for _ in range(_ROUNDS):
        found = {decode(form) for form in frontier for decode in _DECODERS} - forms
        if not found:
            break
        forms |= found
        if len(forms) > _MAX_FORMS:
            return None
        frontier = found
    return {normalise(form) for form in forms}


class Redactor:
    """The secret values of one run; `scrub(text)` withholds any text that reveals one."""

    def __init__(self, values: list[str] | tuple[str, ...] = ()) -> None:
        # Normalised secrets by their 4-grams at offsets 0, 4, 8, ...: a text holding FRAGMENT characters
        # of a secret holds one of these, so str.find (in C) finds the few places worth comparing.
        self._anchors: dict[str, list[tuple[str, int]]] = {}
        self._whole: set[str] = set()  # secrets shorter than FRAGMENT (settings read from the environment)
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register a secret value: the run's token, a key value, anything read from the environment."""
        if not value:
            return
        form = normalise(value)
        if len(form) < FRAGMENT:
            if form:
                self._whole.add(form)
            return
        for offset in range(0, len(form) - _ANCHOR + 1, _ANCHOR):
            places = self._anchors.setdefault(form[offset:offset + _ANCHOR], [])
            if (form, offset) not in places:
                places.append((form, offset))

    def leaks(self, text: str) -> bool:
        """True when any decoded form of `text` holds a secret, or a long enough piece of one."""
        if not text or not (self._anchors or self._whole):
            return False
        forms = decoded_forms(text)
        if forms is None:
            return True
        return any(any(whole in form for whole in self._whole) or self._holds_fragment(form) for form in forms)

    def _holds_fragment(self, form: str) -> bool:
        for anchor, places in self._anchors.items():
            at = form.find(anchor)
            while at != -1:
                for secret, offset in places:
                    # Grow the match around the anchor, both ways, as far as text and secret agree.
                    left = 0
                    while left < offset and left < at and form[at - left - 1] == secret[offset - left - 1]:
                        left += 1
                    right = 0
                    tail, secret_tail = at + _ANCHOR, offset + _ANCHOR
                    while (secret_tail + right < len(secret) and tail + right < len(form)
                           and form[tail + right] == secret[secret_tail + right]):
                        right += 1
                    if left + _ANCHOR + right >= FRAGMENT:
                        return True
                at = form.find(anchor, at + 1)
        return False

    def scrub(self, text: str, withheld: str = WITHHELD) -> str:
        """`text` itself, or `withheld` in its place when it reveals a secret."""
        return withheld if self.leaks(text) else text
