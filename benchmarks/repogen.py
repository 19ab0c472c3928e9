"""Generate repositories shaped like the real one, at any size.

Used by the benchmark (real-sized, 10x, 100x; 1/10/100 contracts) and by tests
that need a realistic repository. The Go file is a handlers package with many
functions around the map; the harness is a long bash script with functions,
heredocs, case statements and a command-prefix assignment around the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

CANONICAL_KEYS = (
    "ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN CLAUDE_CODE_OAUTH_TOKEN OPENAI_API_KEY OPENAI_BASE_URL "
    "HERMES_CUSTOM_API_KEY HERMES_CUSTOM_BASE_URL GEMINI_API_KEY GOOGLE_API_KEY GOOGLE_GENERATIVE_AI_API_KEY "
    "MINIMAX_API_KEY OPENROUTER_API_KEY DEEPSEEK_API_KEY GROQ_API_KEY MISTRAL_API_KEY TOGETHER_API_KEY "
    "FIREWORKS_API_KEY COHERE_API_KEY PERPLEXITY_API_KEY AZURE_OPENAI_API_KEY AZURE_OPENAI_ENDPOINT "
    "MOONSHOT_API_KEY DASHSCOPE_API_KEY"
).split()

GO_PATH = "workspace-server/internal/handlers/secrets.go"
SH_PATH = "tests/e2e/test_staging_full_saas.sh"
GO_SYMBOL = "platformManagedDirectLLMBypassKeys"
SH_SYMBOL = "BYOK_STRIP_KEYS"


def _go_map(symbol: str, keys: list[str]) -> str:
    width = max(len(k) for k in keys) + 3
    entries = "".join(f'\t{(chr(34) + k + chr(34) + ":").ljust(width)} {{}},\n' for k in keys)
    return f"var {symbol} = map[string]struct{{}}{{\n{entries}}}\n\n"


def go_source(keys: list[str], symbol: str = GO_SYMBOL, filler_functions: int = 47,
              extra: Sequence[tuple[str, str, list[str]]] = ()) -> str:
    parts = [
        "package handlers\n\n",
        'import (\n\t"encoding/json"\n\t"net/http"\n\t"strings"\n)\n\n',
        "// Keys that platform-managed workspaces may not write directly; the harness keeps\n",
        "// BYOK_STRIP_KEYS in sync (e.g. ANTHROPIC_API_KEY is mentioned here but is not a key).\n",
        _go_map(symbol, keys),
        *(_go_map(go, subset) for go, _, subset in extra),
    ]
    symbols = [symbol, *(go for go, _, _ in extra)]
    for index in range(filler_functions):
        symbol = symbols[index % len(symbols)]
        parts.append(
            f"// handleSecretWrite{index} validates a secret write (variant {index}).\n"
            f"func handleSecretWrite{index}(w http.ResponseWriter, r *http.Request) {{\n"
            "\tvar body struct {\n\t\tKey   string `json:\"key\"`\n\t\tValue string `json:\"value\"`\n\t}\n"
            "\tif err := json.NewDecoder(r.Body).Decode(&body); err != nil {\n"
            "\t\thttp.Error(w, \"bad json\", http.StatusBadRequest)\n\t\treturn\n\t}\n"
            "\tkey := strings.ToUpper(strings.TrimSpace(body.Key))\n"
            f"\tif _, blocked := {symbol}[key]; blocked {{\n"
            "\t\tw.WriteHeader(http.StatusBadRequest)\n"
            "\t\t_ = json.NewEncoder(w).Encode(map[string]string{\"error\": \"set billing mode to byok\", \"key\": key})\n"
            "\t\treturn\n\t}\n"
            f"\tfor candidate := range {symbol} {{\n\t\tif strings.HasPrefix(key, candidate+\"_\") {{\n"
            "\t\t\thttp.Error(w, \"prefix of a blocked key\", http.StatusBadRequest)\n\t\t\treturn\n\t\t}\n\t}\n"
            "\tw.WriteHeader(http.StatusCreated)\n}\n\n"
        )
    return "".join(parts)


def sh_source(keys: list[str], symbol: str = SH_SYMBOL, filler_functions: int = 252,
              extra: Sequence[tuple[str, str, list[str]]] = ()) -> str:
    listed = " \\\n".join(keys)
    parts = [
        "#!/usr/bin/env bash\n",
        "# Staging full-SaaS end-to-end harness (generated for benchmarks and tests).\n",
        "set -euo pipefail\n\n",
        'PLATFORM_URL="${PLATFORM_URL:-http://127.0.0.1:8080}"\n',
        "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n",
        f'{symbol}="{listed}"\n\n',
        *(f'{sh}="{" ".join(subset)}"\n' for _, sh, subset in extra),
        "strip_keys() {\n"
        f'  {symbol}="${symbol}" python3 -c \'import os,sys; print(os.environ["{symbol}"])\'\n'
        "}\n\n",
        "cat <<'EOF' > /dev/null\n"
        f"{symbol}=\"NOT_A_KEY ALSO_NOT_A_KEY\"  # inside a heredoc: never a definition\nEOF\n\n",
    ]
    symbols = [symbol, *(sh for _, sh, _ in extra)]
    for index in range(filler_functions):
        symbol = symbols[index % len(symbols)]
        parts.append(
            f"provision_arm_{index}() {{\n"
            "  local ws_id=$1 arm=$2 key\n"
            f"  for key in ${symbol}; do\n"
            '    case "$arm" in\n'
            '      platform) : ;;\n'
            '      *) curl -fsS -X POST "$PLATFORM_URL/workspaces/$ws_id/secrets" \\\n'
            '           -H "Authorization: Bearer $DRIFTCHECK_ADMIN_TOKEN" \\\n'
            '           -d "{\\"key\\":\\"$key\\",\\"value\\":\\"redacted\\"}" >/dev/null ;;\n'
            "    esac\n"
            "  done\n"
            f'  if [[ "$arm" == "openai" ]]; then echo "arm {index}: OPENAI_API_KEY deferred"; fi\n'
            "}\n\n"
        )
    return "".join(parts)


def shared_symbols(contracts: int) -> list[tuple[str, str, list[str]]]:
    """(Go map, bash list, keys) of each contract when all live in the same two files.

    The first is the real list; the others hold five keys each, a rotating slice of the real ones.
    """
    pairs = [(GO_SYMBOL, SH_SYMBOL, list(CANONICAL_KEYS))]
    for index in range(1, contracts):
        start = index % len(CANONICAL_KEYS)
        subset = [CANONICAL_KEYS[(start + k) % len(CANONICAL_KEYS)] for k in range(5)]
        pairs.append((f"{GO_SYMBOL}{index}", f"{SH_SYMBOL}_{index}", subset))
    return pairs


def write_repo(root: Path, keys: list[str] | None = None, scale: int = 1, contracts: int = 1,
               mirror_keys: list[str] | None = None, shared: bool = False) -> Path:
    """A repository with `contracts` contracts, `scale` times the real size.

    Contracts are over copies of the two files (one pair per contract), or with `shared`, all in
    the same two files: the Go file holds every map and the harness every list, which each
    filler function uses in turn.
    """
    keys = list(keys or CANONICAL_KEYS)
    mirror = list(mirror_keys if mirror_keys is not None else keys)
    go_dir = root / Path(GO_PATH).parent
    sh_dir = root / Path(SH_PATH).parent
    go_dir.mkdir(parents=True, exist_ok=True)
    sh_dir.mkdir(parents=True, exist_ok=True)
    if shared and contracts > 1:
        pairs = shared_symbols(contracts)
        (root / GO_PATH).write_text(go_source(keys, filler_functions=47 * scale, extra=pairs[1:]))
        (root / SH_PATH).write_text(sh_source(mirror, filler_functions=252 * scale, extra=pairs[1:]))
        (root / "driftcheck.toml").write_text("\n".join(
            f'[[contract]]\nname = "c{index}"\nsource = "{GO_PATH}:{go}"\nmirrors = ["{SH_PATH}:{sh}"]\n'
            for index, (go, sh, _) in enumerate(pairs)))
        return root
    (root / GO_PATH).write_text(go_source(keys, filler_functions=47 * scale))
    (root / SH_PATH).write_text(sh_source(mirror, filler_functions=252 * scale))
    if contracts > 1:
        lines = []
        for index in range(contracts):
            go_rel = f"svc{index}/secrets.go"
            sh_rel = f"e2e/harness{index}.sh"
            (root / go_rel).parent.mkdir(parents=True, exist_ok=True)
            (root / sh_rel).parent.mkdir(parents=True, exist_ok=True)
            (root / go_rel).write_text((root / GO_PATH).read_text())
            (root / sh_rel).write_text((root / SH_PATH).read_text())
            lines.append(f'[[contract]]\nname = "c{index}"\nsource = "{go_rel}:{GO_SYMBOL}"\n'
                         f'mirrors = ["{sh_rel}:{SH_SYMBOL}"]\n')
        (root / "driftcheck.toml").write_text("\n".join(lines))
    return root
