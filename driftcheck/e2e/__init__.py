"""The bundled end-to-end runner, `driftcheck e2e` (docs/e2e.md).

- `cli`: the click command — usage checks, the gate (`driftcheck.gate`), the platform, the reports;
- `lifecycle`: steps 2-8 (split, create, opt-in, deferred writes, verify, child, probe, teardown);
- `client`: HTTP to the platform (httpx) with the one retry rule, and what an answer may show;
- `signals`: SIGINT/SIGTERM become `Interrupted`, deferred while teardown runs;
- `arms`: which vendor keys each arm provisions;
- `report`: step lines, the JSON summary and JUnit XML, all written through `StepPrinter`;
- `redact`: the choke point's test — a text whose decoded forms reveal a secret is withheld.

httpx and the platform are imported only when `driftcheck e2e` runs, so other commands
never pay for them.
"""
