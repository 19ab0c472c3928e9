"""`fix` for a dotenv mirror: refused, because a missing variable needs a value driftcheck cannot invent."""

from __future__ import annotations

from driftcheck.fix.layout import Refused
from driftcheck.model import ExtractedList
from driftcheck.sources import SourceFile


def rewrite(source: SourceFile, extracted: ExtractedList, desired: list[str]) -> bytes:
    raise Refused("it is a dotenv file: fix cannot invent a variable's value (add `KEY=` lines, or remove them, "
                  "by hand)")
