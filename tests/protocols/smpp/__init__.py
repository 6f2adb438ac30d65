"""Tests for :mod:`smsgw.protocols.smpp`."""
