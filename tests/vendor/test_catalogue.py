"""Which vendor files a process reads (:mod:`smsgw.vendor.catalogue`)."""

from __future__ import annotations

import os

from twisted.trial.unittest import SynchronousTestCase

from smsgw.vendor.catalogue import checkout_plugins, load_vendors, vendor_folders
from smsgw.vendor.loader import VendorFileError, builtin_dir

_FIFTH = b"""<?xml version="1.0" encoding="UTF-8"?>
<vendor name="fifth">
  <title>A fifth vendor</title>
  <password form="plain"/>
  <encoding transfer="url-utf8"/>
  <operation name="send" kind="send" path="/send" method="GET">
    <param name="u" role="account"/>
    <param name="p" role="password"/>
    <param name="m" role="mobiles"/>
    <param name="c" role="content"/>
    <answer format="kv" code="r" id="id"/>
  </operation>
  <codes>
    <code value="0" outcome="accepted">ok</code>
  </codes>
</vendor>
"""


class CatalogueTests(SynchronousTestCase):
    """Shipped files, the checkout's plugins/ folder, then the configured folders."""

    def test_shipped_and_checkout(self) -> None:
        """The four shipped vendors and the checkout's example are there."""
        vendors = load_vendors()
        for name in ("somp", "batchsm", "kx1680", "generic", "example"):
            self.assertIn(name, vendors)
        self.assertEqual(vendor_folders()[0], builtin_dir())
        self.assertIn(checkout_plugins(), vendor_folders())

    def test_folder_added(self) -> None:
        """A vendor file in a configured folder is one more vendor, no code."""
        folder = self.mktemp()
        os.mkdir(folder)
        with open(os.path.join(folder, "fifth.xml"), "wb") as f:
            f.write(_FIFTH)
        self.assertEqual(load_vendors([folder])["fifth"].operations[0].path, "/send")

    def test_redefined(self) -> None:
        """A folder may not redefine a shipped vendor."""
        folder = self.mktemp()
        os.mkdir(folder)
        with open(os.path.join(folder, "x.xml"), "wb") as f:
            f.write(_FIFTH.replace(b'name="fifth"', b'name="somp"'))
        error = self.assertRaises(VendorFileError, load_vendors, [folder])
        self.assertIn("also defined", str(error))

    def test_missing_folder(self) -> None:
        """A configured folder that is not there is refused by name."""
        missing = self.mktemp()
        error = self.assertRaises(VendorFileError, load_vendors, [missing])
        self.assertEqual(error.path, missing)
