"""The simulator's protocol-neutral model: accounts, MTs, refusals, the face contract.

Every protocol's face (``smsgw/protocols/<name>/face.py``) and the
simulator core (:mod:`smsgw.ismg.simulator`) depend on this module, and
the faces never on the simulator itself, so there is no import circle
between the simulator and its faces.
"""

from __future__ import annotations

import enum
import functools
from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs
from twisted.internet.defer import Deferred

from smsgw.protocols.session import Session
from smsgw.protocols.times import BEIJING
from smsgw.ratelimit import TokenBucket
from smsgw.text.longsms import Part

__all__ = ["Account", "Face", "Mt", "Refusal", "beijing", "beijing_day", "text"]


@attrs.define
class Account:
    """An SP account on the simulator, shared by every protocol's listener.

    :ivar sgip_callback: SGIP only: the client endpoint of the SP's own
        server, where the simulator sends Deliver and Report (sgip12.md §2).
    """

    id: str
    secret: bytes
    max_sessions: int = 8
    allowed_ips: tuple[str, ...] = ()
    tps: float | None = None
    src_prefix: str = ""
    sgip_callback: str | None = None
    #: SMPP: the bind's system_type must equal it when not empty.
    system_type: str = ""
    sessions: list[Session] = attrs.field(factory=list)
    bucket: TokenBucket | None = None
    outbox: dict[str, deque[Any]] = attrs.field(factory=dict)
    counters: dict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    next_session: int = 0


@attrs.frozen
class Mt:
    """One SUBMIT as the simulator sees it, whatever the protocol.

    :ivar msg_id: the id the SP correlates reports with, in its JSON form
        (CMPP decimal, SGIP ``node-time-seq``, SMGP hex).
    :ivar report_keys: per destination, the value the face puts in that
        destination's report (CMPP: Msg_Id + i; SGIP: the Submit's sequence).
    """

    protocol: str
    msg_id: str
    src: str
    dests: tuple[str, ...]
    content: bytes
    msg_fmt: int
    tp_udhi: int = 0
    pk_total: int = 1
    pk_number: int = 1
    report: bool = False
    service_id: str = ""
    report_keys: tuple[Any, ...] = ()
    #: SGIP ReportFlag 0: report only when the message failed.
    report_failures_only: bool = False
    #: The longest content the protocol carries in one SUBMIT (SMPP's
    #: message_payload); ``None`` for the SMS limits (159 ASCII, else 140).
    max_content: int | None = None


class Refusal(enum.Enum):
    """Why :meth:`Simulator.check` refused an MT; each face maps it to its code."""

    STRUCTURE = "structure"
    TOO_LONG = "too_long"
    SRC_ID = "src_id"
    THROTTLED = "throttled"
    FORCED = "forced"


class Face(Protocol):
    """What the simulator needs from one protocol's listener."""

    protocol: str

    def report_pdu(
        self, account: Account, mt: Mt, index: int, stat: str, submitted: float, done: float
    ) -> object:
        """The PDU that reports *stat* for ``mt.dests[index]``."""

    def mo_pdus(self, account: Account, sender: str, to: str, segments: list[Part]) -> list[Any]:
        """The PDUs that carry an MO (one per segment)."""

    def live_sessions(self, account: Account) -> list[Session]:
        """Bound sessions of *account* that may carry reports and MOs."""

    def connect(self, account: Account) -> Deferred[Session] | None:
        """Open a link to the SP for reports and MOs (SGIP), or ``None``."""


def beijing_day(epoch_s: float) -> bytes:
    """The Beijing day ``YYYYMMDD`` of *epoch_s* (QUERY's Time field)."""
    return _day_of_second(int(epoch_s))


@functools.lru_cache(maxsize=64)
def _day_of_second(second: int) -> bytes:
    return datetime.fromtimestamp(second, UTC).astimezone(BEIJING).strftime("%Y%m%d").encode()


def beijing(epoch_s: float, fmt: str) -> bytes:
    """*epoch_s* formatted in Beijing time, to the whole second (*fmt* has no ``%f``).

    Cached: every report carries two of these, and most share their second.
    """
    return _beijing_second(int(epoch_s), fmt)


@functools.lru_cache(maxsize=256)
def _beijing_second(second: int, fmt: str) -> bytes:
    return datetime.fromtimestamp(second, UTC).astimezone(BEIJING).strftime(fmt).encode()


def text(data: bytes) -> str:
    """An octet-string field as text (numbers, codes)."""
    return data.decode("ascii", "replace")
