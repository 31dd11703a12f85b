"""Benchmark suites, one module each; run them with ``python -m playground.bench SUITE``."""
