"""Tests of :mod:`smsgw.store`."""
