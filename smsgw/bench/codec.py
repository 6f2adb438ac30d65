"""Codec throughput next to a bare ``struct`` loop of the same layout.

``python -m smsgw.bench codec`` prints, for a SUBMIT (one destination, 70
Chinese characters in UCS2), a DELIVER carrying a status report and a
SUBMIT_RESP, the encode and decode rates of :mod:`smsgw.protocols.cmpp` and
of a hand-written ``struct.Struct`` pack/unpack of the same bytes, each the
median of several rounds measured in the same run.

It measures the C accelerator when it is built and enabled
(:data:`smsgw.protocols.wire.ACCELERATED`) and says so; ``--pure`` (or
``SMSGW_PURE_PYTHON=1``) measures the pure-Python code instead.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import struct
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

USAGE = """\
usage: smsgw bench codec [--pure] [N]      (or python -m smsgw.bench codec [--pure] [N])

Encode and decode N PDUs (default 100000) of each kind, 7 rounds, next to a bare
struct pack/unpack loop; --pure without the C accelerator."""


def _cases() -> dict[str, tuple[Any, str, tuple[Any, ...]]]:
    """``name → (pdu, bare struct format, the same values in wire order)``."""
    # Imported here so that main() can turn the accelerator off first.
    from smsgw.protocols import cmpp
    from smsgw.protocols.cmpp import Deliver, Report, Submit, SubmitResp

    text = ("短信网关性能测试" * 9)[:70].encode("utf-16-be")
    submit = Submit(
        registered_delivery=1,
        service_id=b"MBENCH",
        msg_fmt=8,
        msg_src=b"901234",
        fee_type=b"01",
        fee_code=b"000000",
        src_id=b"1065012345",
        dest_terminal_ids=(b"13800138000",),
        msg_content=text,
    )
    sub_fmt = ">IIIQBBBB10sB21sBBB6s2s6s17s17s21sB21sB140s8s"
    sub_vals = (
        12 + 126 + 21 + 140, 4, 1, 0, 1, 1, 1, 0, b"MBENCH", 0, b"", 0, 0, 8, b"901234",
        b"01", b"000000", b"", b"", b"1065012345", 1, b"13800138000", 140, text, b"",
    )  # fmt: skip
    report = cmpp.encode_report(
        Report(
            msg_id=0x37B1E3C003E9002A,
            stat=b"DELIVRD",
            submit_time=b"2503151230",
            done_time=b"2503151231",
            dest_terminal_id=b"13800138000",
            smsc_sequence=7,
        )
    )
    deliver = Deliver(
        msg_id=0x37B1E3C003E9002B,
        dest_id=b"1065012345",
        service_id=b"MBENCH",
        src_terminal_id=b"13800138000",
        registered_delivery=1,
        msg_content=report,
    )
    del_fmt = ">IIIQ21s10sBBB21sBB60s8s"
    del_vals = (
        145, 5, 2, deliver.msg_id, b"1065012345", b"MBENCH", 0, 0, 0, b"13800138000", 1, 60,
        report, b"",
    )  # fmt: skip
    resp = SubmitResp(msg_id=0x37B1E3C003E9002A, result=0)
    return {
        "submit": (submit, sub_fmt, sub_vals),
        "deliver_report": (deliver, del_fmt, del_vals),
        "submit_resp": (resp, ">IIIQB", (21, 0x80000004, 1, resp.msg_id, 0)),
    }


def _time(fn: Callable[[], object], n: int) -> float:
    """Seconds for *n* calls of *fn*."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - t0


def run(n: int = 100_000, rounds: int = 7) -> dict[str, Any]:
    """Measure every case; return ops/s and ratios, each the median over *rounds*.

    Each round times the codec and the bare loop back to back, and the ratio
    is taken per round: on a shared machine the load changes from one round
    to the next, and this compares like with like.
    """
    from smsgw.protocols import cmpp

    results: dict[str, Any] = {}
    for name, (pdu, fmt, values) in _cases().items():
        bare = struct.Struct(fmt)
        frame = cmpp.encode(pdu, values[2])
        assert bare.pack(*values) == frame, f"{name}: bare layout differs from the codec"
        assert cmpp.decode(frame)[1] == pdu
        seq = values[2]
        fns: dict[str, Callable[[], object]] = {
            "encode": partial(cmpp.CMPP20.encode, pdu, seq),
            "decode": partial(cmpp.CMPP20.decode, frame),
            "bare_pack": partial(bare.pack, *values),
            "bare_unpack": partial(bare.unpack, frame),
        }
        samples: dict[str, list[float]] = {
            k: [] for k in (*fns, "encode_vs_bare", "decode_vs_bare")
        }
        for _ in range(rounds):
            t = {k: _time(fn, n) for k, fn in fns.items()}
            for k, seconds in t.items():
                samples[k].append(n / seconds)
            samples["encode_vs_bare"].append(t["encode"] / t["bare_pack"])
            samples["decode_vs_bare"].append(t["decode"] / t["bare_unpack"])
        results[name] = {k: statistics.median(v) for k, v in samples.items()}
    return results


def implementation() -> str:
    """``"c"`` when the measured codec runs on the C accelerator, else ``"python"``."""
    from smsgw.protocols import cmpp

    codec = cmpp.CMPP20
    measured = (cmpp.Submit, cmpp.Deliver, cmpp.SubmitResp)
    if codec.accelerated and all(codec.layouts[cls].accelerated for cls in measured):
        return "c"
    return "python"


def main(argv: list[str] | None = None) -> int:
    """Print a table and a final JSON line."""
    args = list(argv if argv is not None else sys.argv[1:])
    if "-h" in args or "--help" in args:
        print(USAGE)
        return 0
    pure = "--pure" in args
    args = [a for a in args if a != "--pure"]
    if len(args) > 1 or (args and not args[0].isdigit()):
        print(USAGE, file=sys.stderr)
        return 2
    if pure:
        os.environ["SMSGW_PURE_PYTHON"] = "1"
        wire = sys.modules.get("smsgw.protocols.wire")
        if wire is not None and wire.ACCELERATED:
            hint = "SMSGW_PURE_PYTHON=1 python -m smsgw.bench codec"
            print(f"--pure: the codecs are already loaded in C; run {hint}", file=sys.stderr)
            return 2
    n = int(args[0]) if args else 100_000
    impl = implementation()
    label = "C accelerator (smsgw.protocols._wire)" if impl == "c" else "pure Python"
    print(f"python {platform.python_version()} on {platform.machine()}, {n} ops x 7 rounds")
    print(f"codec implementation: {label}")
    res = run(n)
    print(f"{'case':16} {'encode/s':>10} {'bare pack/s':>12} {'x':>5} "
          f"{'decode/s':>10} {'bare unpack/s':>14} {'x':>5}")  # fmt: skip
    for name, r in res.items():
        print(
            f"{name:16} {r['encode']:10,.0f} {r['bare_pack']:12,.0f} {r['encode_vs_bare']:5.2f} "
            f"{r['decode']:10,.0f} {r['bare_unpack']:14,.0f} {r['decode_vs_bare']:5.2f}"
        )
    out: dict[str, Any] = {"implementation": impl}
    out.update({k: {m: round(v, 2) for m, v in r.items()} for k, r in res.items()})
    print(json.dumps(out))
    return 0
