"""Benchmarks: ``python -m smsgw.bench codec`` and the ``smsgw bench`` load generator."""
