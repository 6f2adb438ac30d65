"""Tests for :mod:`smsgw.gns`, the GNS simulator and its ISMG-side client."""
