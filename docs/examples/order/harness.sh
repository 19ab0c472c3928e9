#!/usr/bin/env bash
# Keep in sync with server/keys.go blockedKeys, in the same order.
STRIP_KEYS="ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY"
