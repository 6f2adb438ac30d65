"""No module of :mod:`smsgw` over 800 lines (600 in config/): small enough to read whole."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import smsgw

ROOT = Path(smsgw.__file__).parent

#: Most lines of a module under ``smsgw/config/``, and of any other module.
CONFIG_LIMIT = 600
LIMIT = 800


def too_long(root: Path = ROOT) -> list[tuple[str, int]]:
    """``(path under smsgw/, lines)`` of every module over its limit."""
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = CONFIG_LIMIT if name.startswith("config/") else LIMIT
        if lines > limit:
            found.append((name, lines))
    return found


class ModuleSizeTests(SynchronousTestCase):
    """Modules stay small enough to read whole."""

    def test_sizes(self) -> None:
        """No module is over its limit, but those being split."""
        self.assertEqual(too_long(), [])

    def test_config_limit(self) -> None:
        """A config/ module is held to the lower limit."""
        root = Path(self.mktemp())
        (root / "config").mkdir(parents=True)
        (root / "config" / "big.py").write_text("x = 1\n" * (CONFIG_LIMIT + 1))
        (root / "other.py").write_text("x = 1\n" * (CONFIG_LIMIT + 1))
        self.assertEqual(too_long(root), [("config/big.py", CONFIG_LIMIT + 1)])
