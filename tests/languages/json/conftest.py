"""Prints the differential counts of the data-language oracles after the run."""

from tests.languages.yaml.oracle import terminal_summary as pytest_terminal_summary

__all__ = ["pytest_terminal_summary"]
