"""Tests for :mod:`smsgw.config`."""
