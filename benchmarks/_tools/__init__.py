"""Helpers for ``benchmarks/throughput.py`` (not part of the grader package)."""
