"""Tests for :mod:`smsgw.ismg`: the simulator's policy and control API."""
