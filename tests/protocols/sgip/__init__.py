"""Tests for :mod:`smsgw.protocols.sgip` (SGIP 1.2)."""
