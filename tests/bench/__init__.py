"""Tests for :mod:`smsgw.bench`: the load generators (functional only, never timed)."""
