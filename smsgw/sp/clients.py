"""The SP client contract and the protocol-neutral events its clients produce.

A :class:`~smsgw.sp.channel.Channel` is the same for every protocol
(sessions, window, TPS, reconnect, retries); its :class:`Client`, which
lives in the protocol's folder (``smsgw/protocols/<name>/client.py``) and
which :func:`client_for` finds through the protocol registry, knows the
protocol's login, how to build a SUBMIT for one segment, how to read the
message id and result, which results mean "slow down", and how to turn an
inbound DELIVER, Report or MO into a :class:`ReportEvent` or
:class:`MoEvent`.  Message ids are normalised as the HTTP API shows them (README).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs
from twisted.internet.defer import Deferred

from smsgw.config import UpstreamConfig
from smsgw.protocols.codec import Header
from smsgw.protocols.legality import Responder
from smsgw.protocols.registry import for_scheme
from smsgw.protocols.session import Session
from smsgw.text.longsms import PartLike

if TYPE_CHECKING:
    from smsgw.sp.channel import Channel


@attrs.frozen
class ReportEvent:
    """A delivery report for one segment sent earlier (correlate on ``msg_id``), protocol-neutral.

    The client reads its protocol's report and says what it means, so that
    the gateway parses no protocol's time format and knows no state words.

    :ivar stat: the carrier's own state word (``DELIVRD``, ``UNDELIV``…),
        kept as text for the application.
    :ivar delivered: whether the report says the handset got the message.
    :ivar final: False for an intermediate state (e.g. ``ACCEPTD``): more
        will come, and nothing is recorded for it.
    :ivar done_at: when the carrier says the state was reached (POSIX
        seconds), None when the report carries no (valid) time.
    :ivar err: the carrier's error code as text (``""`` when it has none).
    """

    channel: str
    msg_id: str
    stat: str
    dest: str
    delivered: bool = attrs.field(kw_only=True)
    final: bool = attrs.field(default=True, kw_only=True)
    done_at: float | None = attrs.field(default=None, kw_only=True)
    err: str = attrs.field(default="", kw_only=True)


@attrs.frozen
class MoEvent:
    """A message from a handset (one segment; long MOs carry their UDH)."""

    channel: str
    sender: str
    to: str
    content: bytes
    msg_fmt: int
    tp_udhi: int = 0
    msg_id: str = ""


Event = ReportEvent | MoEvent


class Client(Protocol):
    """The protocol-specific half of a channel."""

    scheme: ClassVar[str]
    #: Results that mean "flow control: back off and try again".
    flow_control: ClassVar[frozenset[int]]

    def adapter(self) -> Any:
        """A fresh session adapter."""

    def session_config_overrides(self) -> dict[str, Any]:
        """Protocol defaults for the session (e.g. SGIP has no keepalive)."""

    def login(self, session: Session) -> Deferred[Any]:
        """Log in on a fresh link."""

    def submit_pdu(
        self, dests: tuple[str, ...], segment: PartLike, *, report: bool, src: str
    ) -> object:
        """The SUBMIT for one segment to *dests*."""

    def outcome(self, response: Any, sequence: Hashable) -> tuple[str, int]:
        """``(normalised msg id, result)`` of a SUBMIT response."""

    def inbound_kinds(self) -> frozenset[type]:
        """The request classes the gateway sends the SP (answered by :meth:`ack`)."""

    def event(self, channel: str, pdu: Any) -> Event | None:
        """The event an inbound request carries, or ``None``."""

    def ack(self, pdu: Any, ok: bool) -> object | None:
        """The response to an inbound request (``ok`` = stored)."""

    # Optional: ``complete_submit(pdu) -> pdu``, a SUBMIT given as a PDU
    # (Channel.submit) with the account's defaults filled in where empty.
    # Optional: ``services(channel) -> list[IService]``, the services the
    # channel runs for links the carrier opens to the SP (SGIP's second
    # connection; SMPP's receiver binds and outbind).  They hand inbound
    # requests to ``channel.inbound(session, pdu)``.


#: The report Stat of a delivered message (CMPP 2.0 §8.4.5.1 Stat; SMGP 3.0 §8.2 ``stat:``).
DELIVERED = "DELIVRD"
#: Stats that are not final: the carrier accepted the message and a final report follows.
INTERMEDIATE = frozenset({"ACCEPTD"})


class InboundResponder(Responder):
    """Hands a channel's inbound requests to :meth:`Channel.inbound
    <smsgw.sp.channel.Channel.inbound>`, which answers them once stored.

    The responder table is the client's ``inbound_kinds()`` (DELIVER, SGIP's
    Report and UserRpt); any other request gets the protocol's "not served"
    answer.  The channel's own links and the links the carrier opens to the
    SP (SGIP's server) both use it.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._kinds = channel.client.inbound_kinds()

    def locate_responder(self, kind: type) -> Callable[[Session, Header, Any], Any] | None:
        """:meth:`Channel.inbound` for the client's inbound kinds, else nothing."""
        return self._inbound if kind in self._kinds else None

    def _inbound(self, session: Session, header: Header, pdu: Any) -> Any:
        return self.channel.inbound(session, pdu)


def client_for(config: UpstreamConfig) -> Client:
    """The client of *config*'s protocol (its registry spec's ``make_client``).

    :raises TypeError: for a protocol that builds its own channel (``make_channel``).
    """
    make_client = for_scheme(config.scheme).make_client
    if make_client is None:
        raise TypeError(f"{config.scheme} channels are not session channels")
    return make_client(config)  # type: ignore[return-value]
