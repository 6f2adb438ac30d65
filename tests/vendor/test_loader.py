"""The vendor description loader (:mod:`smsgw.vendor.loader`): the shipped files,
and each kind of broken file refused with its file, line and element."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from smsgw.vendor.description import Kind, Outcome, PasswordForm, Transfer
from smsgw.vendor.loader import (
    VendorFileError,
    builtin_dir,
    find_vendor,
    java_time_format,
    load_dir,
    load_dirs,
    load_file,
    load_string,
)

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<vendor name="mini">
  <title>Minimal</title>
  <password form="plain"/>
  <encoding transfer="url-utf8"/>
  <operation name="send" kind="send" path="/send">
    <param name="u" role="account"/>
    <param name="p" role="password"/>
    <param name="m" role="mobiles"/>
    <param name="c" role="content"/>
    <answer format="delimited"/>
  </operation>
  <codes>
    <code value="0" outcome="accepted">ok</code>
  </codes>
</vendor>
"""


class ShippedFilesTests(SynchronousTestCase):
    """The four shipped vendor files and the example in plugins/."""

    def test_all_load(self) -> None:
        """The shipped folder holds the four seed vendors."""
        self.assertEqual(sorted(load_dir(builtin_dir())), ["batchsm", "generic", "kx1680", "somp"])

    def test_example_loads(self) -> None:
        """plugins/example-vendor.xml is a valid file."""
        example = Path(__file__).parents[2] / "plugins" / "example-vendor.xml"
        desc = load_file(example)
        self.assertEqual(desc.name, "example")

    def test_somp_model(self) -> None:
        """somp: the digest password, HEX content, tf/dc tables, pull of reports and MOs."""
        desc = load_dir(builtin_dir())["somp"]
        self.assertEqual(desc.password, PasswordForm.MD5_TS_BASE64)
        self.assertEqual(desc.encoding.transfer, Transfer.HEX)
        self.assertEqual(desc.encoding.transfer_for("2"), Transfer.URL_BYTES)
        self.assertEqual(desc.encoding.codec_for("8"), "utf-16-be")
        assert desc.reports is not None and desc.mos is not None
        self.assertEqual((desc.reports.pull, desc.mos.pull, desc.reports.push), ("mo", "mo", True))
        op = desc.operation(Kind.SEND)
        assert op is not None
        self.assertEqual((op.max_numbers, op.separator), (100, ";"))
        code = desc.code_for(op, "9032")
        assert code is not None
        self.assertEqual((code.outcome, code.text), (Outcome.THROTTLED, "发送速度太快"))

    def test_kx1680_flow_control(self) -> None:
        """1680 §4.3: a request costs numbers × ceil(length / 70)."""
        limits = load_dir(builtin_dir())["kx1680"].limits
        self.assertEqual(limits.cost(3, "x" * 70), 3)
        self.assertEqual(limits.cost(3, "x" * 71), 6)

    def test_batchsm_limit(self) -> None:
        """Seed 002: up to 50,000 numbers, comma separated."""
        op = load_dir(builtin_dir())["batchsm"].operation(Kind.SEND)
        assert op is not None
        self.assertEqual((op.max_numbers, op.separator), (50000, ","))

    def test_find_vendor(self) -> None:
        """A URL picks its vendor by the files' declared host and path."""
        vendors = load_dir(builtin_dir()).values()
        found = find_vendor(vendors, "http://api.1680.me/sendXSms.do?username=u")
        self.assertEqual(found.name if found else None, "kx1680")
        found = find_vendor(vendors, "http://222.73.117.158/msg/HttpBatchSendSM")
        self.assertEqual(found.name if found else None, "batchsm")
        found = find_vendor(vendors, "http://10.10.10.5:8088/mt?un=star")
        self.assertEqual(found.name if found else None, "somp")
        self.assertIsNone(find_vendor(vendors, "http://example.com/other"))
        # A simulator (or proxy) serving a vendor under a path of its own.
        found = find_vendor(vendors, "http://127.0.0.1:8088/kx1680/sendXSms.do")
        self.assertEqual(found.name if found else None, "kx1680")
        found = find_vendor(vendors, "http://api.1680.me/")
        self.assertEqual(found.name if found else None, "kx1680")

    def test_time_format(self) -> None:
        """yyyyMMddHHmmss and yyyy-MM-dd HH:mm:ss as strftime formats."""
        self.assertEqual(java_time_format("yyyyMMddHHmmss"), "%Y%m%d%H%M%S")
        self.assertEqual(java_time_format("yyyy-MM-dd HH:mm:ss"), "%Y-%m-%d %H:%M:%S")
        with self.assertRaises(ValueError):
            java_time_format("yyyyQQ")


class BrokenFileTests(SynchronousTestCase):
    """Each kind of broken file names the file, the line and the element."""

    def refused(self, text: str) -> VendorFileError:
        with self.assertRaises(VendorFileError) as e:
            load_string(text.encode(), "vendors/broken.xml")
        self.assertIn("vendors/broken.xml:", str(e.exception))
        return e.exception

    def test_minimal_is_fine(self) -> None:
        """The base document of these tests loads."""
        self.assertEqual(load_string(MINIMAL.encode()).name, "mini")

    def test_bad_xml(self) -> None:
        """A tag mismatch: the line and the element."""
        e = self.refused(MINIMAL.replace("</title>", "</titel>"))
        self.assertEqual((e.line, e.element), (3, "title"))

    def test_schema_violation(self) -> None:
        """A missing required element is a schema error at its parent."""
        e = self.refused(MINIMAL.replace('  <password form="plain"/>\n', ""))
        self.assertEqual((e.line, e.element), (4, "encoding"))

    def test_unknown_enum(self) -> None:
        """An unknown role is refused at its param."""
        e = self.refused(MINIMAL.replace('role="mobiles"', 'role="mobile-numbers"'))
        self.assertEqual((e.line, e.element), (9, "param"))
        self.assertIn("mobile-numbers", e.message)

    def test_unknown_outcome(self) -> None:
        """An unknown outcome is refused at its code."""
        e = self.refused(MINIMAL.replace('outcome="accepted"', 'outcome="great"'))
        self.assertEqual((e.line, e.element), (14, "code"))

    def test_duplicate_operation(self) -> None:
        """Two operations with one name: the second one's line."""
        op = MINIMAL[MINIMAL.index("  <operation") : MINIMAL.index("  <codes>")]
        e = self.refused(MINIMAL.replace(op, op + op))
        self.assertEqual((e.line, e.element), (13, "operation"))

    def test_duplicate_kind(self) -> None:
        """Two send operations under different names."""
        op = MINIMAL[MINIMAL.index("  <operation") : MINIMAL.index("  <codes>")]
        e = self.refused(MINIMAL.replace(op, op + op.replace('name="send"', 'name="send2"')))
        self.assertEqual((e.line, e.element), (13, "operation"))
        self.assertIn("second send operation", e.message)

    def test_send_without_content(self) -> None:
        """A send operation needs a content param."""
        e = self.refused(MINIMAL.replace('    <param name="c" role="content"/>\n', ""))
        self.assertEqual((e.line, e.element), (6, "operation"))

    def test_param_role_and_value(self) -> None:
        """A param with both role= and value= is refused at the param."""
        e = self.refused(MINIMAL.replace('role="account"', 'role="account" value="x"'))
        self.assertEqual((e.line, e.element), (7, "param"))

    def test_get_with_json(self) -> None:
        """A JSON body needs POST."""
        e = self.refused(MINIMAL.replace('path="/send"', 'path="/send" body="json"'))
        self.assertEqual(e.element, "operation")

    def test_entities_refused(self) -> None:
        """A DOCTYPE (entities, external DTDs) is refused outright."""
        text = MINIMAL.replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0"?><!DOCTYPE vendor [<!ENTITY t "Minimal">]>',
        ).replace("<title>Minimal</title>", "<title>&t;</title>")
        e = self.refused(text)
        self.assertIn("DOCTYPE", e.message)

    def test_unreadable_file(self) -> None:
        """A file that cannot be read names itself."""
        e = self.assertRaises(VendorFileError, load_file, Path(self.mktemp()))
        self.assertEqual(e.line, 0)

    def test_vendor_defined_twice(self) -> None:
        """Two folders defining one vendor name the second file."""
        one, two = Path(self.mktemp()), Path(self.mktemp())
        for folder in (one, two):
            folder.mkdir()
            (folder / "mini.xml").write_text(MINIMAL)
        e = self.assertRaises(VendorFileError, load_dirs, [one, two])
        self.assertEqual(e.path, str(two / "mini.xml"))


class LayerTests(SynchronousTestCase):
    """The description, loader and codec layer stays free of Twisted."""

    def test_no_twisted(self) -> None:
        """description.py, loader.py and codec.py import nothing from twisted."""
        import ast

        import smsgw.vendor

        folder = Path(smsgw.vendor.__file__).parent
        for name in ("description.py", "loader.py", "codec.py", "answers.py"):
            tree = ast.parse((folder / name).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                for imported in names:
                    self.assertFalse(imported.startswith("twisted"), f"{name} imports {imported}")
