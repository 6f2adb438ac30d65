"""Tests for :mod:`smsgw.sp`: upstream channels."""
