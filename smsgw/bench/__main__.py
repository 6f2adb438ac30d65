"""``python -m smsgw.bench codec`` (and the other benchmarks as they come)."""

from __future__ import annotations

import sys


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0] not in {"codec"}:
        print("usage: python -m smsgw.bench codec [N]", file=sys.stderr)
        return 2
    from smsgw.bench import codec

    return codec.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
