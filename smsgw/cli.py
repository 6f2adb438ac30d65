"""The ``smsgw`` console script: ``smsgw send …``, ``smsgw balance`` and ``smsgw bench …``."""

from __future__ import annotations

import sys

USAGE = """\
usage: smsgw bench [options]               (smsgw bench --help)
       smsgw bench --http [options]        (smsgw bench --http --help)
       smsgw bench codec [N]
       smsgw send [--url URL] --to NUMBER... (--content TEXT | --template NAME) [options]
       smsgw send --file numbers.csv ...   (smsgw send --help)
       smsgw balance [--channel NAME] [--url URL]   (smsgw balance --help)"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE, file=sys.stderr)
        return 2 if not args else 0
    if args[0] == "send":
        from smsgw import sendcli

        return sendcli.main(args[1:])
    if args[0] == "balance":
        from smsgw import balancecli

        return balancecli.main(args[1:])
    if args[0] == "bench":
        if args[1:2] == ["codec"]:
            from smsgw.bench import codec

            return codec.main(args[2:])
        from smsgw.bench import load
        from smsgw.runtime import tune_gc

        tune_gc()  # as in the processes it drives
        return load.main(args[1:])
    print(f"smsgw: unknown command {args[0]!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
