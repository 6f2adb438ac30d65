"""The ``smsgw`` console script: ``smsgw send …``, ``smsgw balance`` and ``smsgw bench …``.

Help goes to stdout with exit code 0 (``smsgw --help``, ``smsgw COMMAND --help``);
a bad command line prints the usage to stderr with exit code 2.  The daemons
are not commands here: they run under ``twistd`` (``twistd -n smsgw --role=…``).
"""

from __future__ import annotations

import sys

from smsgw import __version__

USAGE = """\
usage: smsgw send [--url URL] (--to NUMBER... | --file PATH) (--content TEXT | --template NAME)
                  [--param KEY=VALUE]... [options]
       smsgw bench [--protocol cmpp|cmpp3|sgip|smgp|smpp] [--count N] [--reports] [options]
       smsgw bench --http [--count N] [--batch B] [--concurrency C] [options]
       smsgw bench --durability [--count N] [--scenario sp|sim|both] [--protocol cmpp|smpp]
       smsgw bench --vendor NAME [--count N] [--batch B] [options]
       smsgw bench --floor [--protocol cmpp|smpp] [--count N] [--window W] [--reports]
       smsgw bench --nodes N [--count N] [--tps T] [--sessions S]
       smsgw bench --soak SECONDS [--share 0.7] [--drop 0.01] [--disconnect-every 50000]
       smsgw bench codec [--pure] [N]
       smsgw balance [--channel NAME] [--url URL] [--json]
       smsgw --version

commands:
  send                 send SMS through a running gateway's HTTP API (smsgw send --help)
  bench                SUBMITs through a channel to an ismg-sim process (smsgw bench --help)
  bench --http         messages through the HTTP API of an sp it starts (smsgw bench --http --help)
  bench --durability   kill -9 the sp and the simulator mid-send; nothing accepted is lost
                       (smsgw bench --durability --help)
  bench --vendor NAME  the same through an HTTP channel to the ismg-sim playing vendor NAME
  bench --nodes N      N sp nodes on a PostgreSQL store and a Redis they share (both
                       started here), one ismg-sim: msg/s and each node's share
  bench --soak SECONDS a steady run with reports and faults, a line a minute, memory watched
  bench --floor        the bare floor: an asyncio + struct CMPP or SMPP client and server
  bench codec          codec encode/decode rates next to a bare struct loop
  balance              each channel's balance, as a running gateway knows it
                       (smsgw balance --help)

The gateway and the simulators run under twistd: twistd -n smsgw --role=sp|ismg-sim|gns-sim
(twistd smsgw --help)."""


def _bench(args: list[str]) -> int:
    if args[:1] == ["codec"]:
        from smsgw.bench import codec

        return codec.main(args[1:])
    if "--soak" in args:
        from smsgw.bench import soak

        at = args.index("--soak")
        return soak.main(args[at + 1 :] + args[:at])
    if "--floor" in args:
        from smsgw.bench import floor

        return floor.main([a for a in args if a != "--floor"])
    if "--nodes" in args:
        from smsgw.bench import nodes

        return nodes.main(args)
    if "--durability" in args:
        from smsgw.bench import durability

        return durability.main([a for a in args if a != "--durability"])
    from smsgw.bench import load
    from smsgw.runtime import tune_gc

    tune_gc()  # as in the processes it drives
    return load.main(args)


def main(argv: list[str] | None = None) -> int:
    """Run ``smsgw ARGS``; the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    if args[0] in {"-V", "--version"}:
        print(f"smsgw {__version__}")
        return 0
    try:
        if args[0] == "send":
            from smsgw import sendcli

            return sendcli.main(args[1:])
        if args[0] == "balance":
            from smsgw import balancecli

            return balancecli.main(args[1:])
        if args[0] == "bench":
            return _bench(args[1:])
    except SystemExit as e:  # argparse and usage.Options exit after --help or a usage error
        return e.code if isinstance(e.code, int) else 2
    print(f"smsgw: unknown command {args[0]!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
