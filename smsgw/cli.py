"""The ``smsgw`` console script: ``smsgw bench …`` (and ``smsgw send`` later)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print("usage: smsgw bench [options]   (smsgw bench --help)\n"
              "       smsgw bench codec [N]", file=sys.stderr)  # fmt: skip
        return 2 if not args else 0
    if args[0] == "bench":
        if args[1:2] == ["codec"]:
            from smsgw.bench import codec

            return codec.main(args[2:])
        from smsgw.bench import load

        return load.main(args[1:])
    print(f"smsgw: unknown command {args[0]!r} (the send command is not available yet)",
          file=sys.stderr)  # fmt: skip
    return 2


if __name__ == "__main__":
    sys.exit(main())
