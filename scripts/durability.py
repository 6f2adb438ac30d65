#!/usr/bin/env python3
"""Issue 4's durability check: kill -9 the sp, then the simulator, mid-send; nothing is lost.

Run it with the project's interpreter (the processes it starts need Twisted)::

    .venv/bin/python scripts/durability.py                  # 10,000 messages, both scenarios
    .venv/bin/python scripts/durability.py --count 1000 --scenario sp --workdir /tmp/dur

It prints a report per scenario and exits 1 if a message was lost (or a
number was sent twice that was not in flight at the kill).  The logic is in
:mod:`smsgw.bench.durability`, which ``tests/test_durability.py`` runs too.
"""

from __future__ import annotations

import os
import sys

try:
    from smsgw.bench.durability import main
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from smsgw.bench.durability import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
