"""Secret redaction: every known secret value (and the admin token) becomes `***`.

Everything the runner prints or writes — step messages, server error bodies,
exception texts, JUnit and JSON reports — passes through one `Redactor`
first. A server may echo a value back in an error body, JSON-escaped or
URL-encoded, so each value is registered in those encodings too.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

MASK = "***"

# Shorter values are not real credentials, and masking them would wreck unrelated text
# (masking "1" would mask every digit). Generated dummy values and real keys are far longer.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Holds the secret values of one run; `redact(text)` masks all of them."""

    def __init__(self, values: list[str] | tuple[str, ...] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register a secret value (and the forms a server might echo it in)."""
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, value.strip(), quote(value, safe=""), quote_plus(value)}
        # JSON-escaped once (a body field) and twice (a raw request body echoed inside a JSON string).
        for ascii_only in (True, False):
            once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
            forms |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
        new = {f for f in forms if len(f) >= MIN_SECRET_LENGTH} - self._values
        if new:
            self._values |= new
            # Longest first, so a value containing another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def leaks(self, text: str) -> bool:
        """True when `text` still contains a registered value (used by checks, never printed)."""
        return self._pattern is not None and self._pattern.search(text) is not None
