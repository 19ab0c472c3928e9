"""Robustness tests: whole-check mutation testing and crash-freedom fuzzing (see test_mutation.py, test_fuzz.py)."""
