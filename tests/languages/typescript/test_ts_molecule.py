"""The real molecule-core canvas files: `extract` gives exactly what node computes for each list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftcheck.languages import detect_language
from driftcheck.languages.driver import extract_list
from driftcheck.model import ListRef
from driftcheck.sources import SourceFiles

from .node_oracle import NodeCase

ROOT = Path(__file__).resolve().parents[3] / "fixtures" / "molecule-layout"

REFS = [
    ("canvas/src/lib/services.ts", "KEY_NAME_SUGGESTIONS", "KEY_NAME_SUGGESTIONS"),
    ("canvas/src/lib/deploy-preflight.ts", "KEY_LABELS", "KEY_LABELS"),
    ("canvas/src/components/CreateWorkspaceDialog.tsx", "HERMES_PROVIDERS[].envVar",
     "HERMES_PROVIDERS.map(p => p.envVar)"),
]


@pytest.mark.parametrize(("path", "selector", "expr"), REFS)
def test_molecule_lists_read_as_node_evaluates_them(node_ts: Any, path: str, selector: str, expr: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    [verdict] = node_ts.evaluate([NodeCase(Path(path).name, source, expr)])
    assert "keys" in verdict and "threw" not in verdict, verdict
    language = detect_language(ROOT / path)
    result = extract_list(ListRef(f"{path}:{selector}", path, selector, language), SourceFiles(ROOT))  # type: ignore[arg-type]
    assert result.findings == ()
    assert list(result.key_names) == verdict["keys"]
    assert "OPENROUTER_API_KEY" in result.key_names


def test_the_cli_extracts_them(driftcheck: Any) -> None:
    run = driftcheck("extract", "--root", str(ROOT), "canvas/src/components/CreateWorkspaceDialog.tsx:HERMES_PROVIDERS[].envVar")
    assert run.code == 0, run.err
    assert run.out.split()[:3] == ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"]
