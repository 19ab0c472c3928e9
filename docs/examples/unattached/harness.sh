#!/usr/bin/env bash
# driftcheck: allow-missing=OPENAI_API_KEY -- sent at create time

STRIP_KEYS="ANTHROPIC_API_KEY GEMINI_API_KEY"
