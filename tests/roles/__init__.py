"""Tests for :mod:`smsgw.roles`: the service tree of each role."""
