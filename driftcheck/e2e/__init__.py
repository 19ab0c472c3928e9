"""The bundled end-to-end runner, `driftcheck e2e` (DESIGN.md section 8).

- `runner`: the lifecycle (gate, split, create, opt-in, deferred writes, verify, child,
  probe, teardown) as pure logic over an `httpx.Client`;
- `arms`: which vendor keys each arm provisions;
- `report`: step lines, the JSON summary and JUnit XML;
- `redact`: masking every secret value and the token before anything is shown;
- `cli`: the click command.

httpx and the platform are imported only when `driftcheck e2e` runs, so other commands
never pay for them.
"""
