"""Extractors: (file, symbol) → an ordered key list with locations, or DC1xx findings.

One module per language, imported only when a list in that language is asked
for, so a Go/bash contract never pays for libcst (and vice versa).
"""

from __future__ import annotations

import importlib
from dataclasses import replace

from driftcheck.model import ExtractedList, ListRef
from driftcheck.sources import SourceFile, SourceFiles

_MODULES = {"go": "driftcheck.extract.go", "shell": "driftcheck.extract.shell", "python": "driftcheck.extract.python"}


def extract_list(ref: ListRef, files: SourceFiles) -> ExtractedList:
    """Extract one list; unreadable files become a DC105 finding with `keys=None`."""
    loaded = files.load(ref.path)
    if not isinstance(loaded, SourceFile):
        return ExtractedList(ref=ref, keys=None, findings=(loaded,))
    module = importlib.import_module(_MODULES[ref.language])
    extracted: ExtractedList = module.extract(ref, loaded, files)
    if extracted.keys is not None and any(f.exit_code == 2 for f in extracted.findings):
        # One rule for every language: a list with a could-not-decide finding has no keys to compare.
        extracted = replace(extracted, keys=None)
    return extracted
