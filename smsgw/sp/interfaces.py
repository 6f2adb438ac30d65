"""What the gateway and the HTTP API need from an upstream channel (zope.interface).

:class:`IChannel` is the seam between the protocol-neutral SP core
(:mod:`smsgw.sp.gateway`, :mod:`smsgw.web.api`) and whatever carries the
messages: :class:`smsgw.sp.channel.Channel` implements it for the binary
carrier protocols (CMPP, SGIP, SMGP); an HTTP vendor channel or SMPP
implements it too, without the core learning their config or sessions.

The values the interface hands out (:class:`SegmentResult`, :class:`Link`,
:class:`Balance`) are defined here, so that the core imports nothing of a
concrete channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from twisted.application.service import IService
from zope.interface import Attribute

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from smsgw.text.longsms import Part, PartLike


@attrs.frozen
class SegmentResult:
    """What the upstream answered for one segment (one SUBMIT).

    :ivar msg_id: the normalised message id, as text (CMPP's 64-bit Msg_Id in
        decimal, SGIP's ``node-time-seq``, SMGP's MsgID in hex).
    :ivar result: the protocol's result code; 0 is success.
    :ivar msg_ids: per destination, when they differ (an HTTP vendor giving
        consecutive ids, or a batch cut into requests); empty when every
        destination has :attr:`msg_id`.
    :ivar results: per destination, when they differ; empty when every
        destination has :attr:`result`.
    :ivar reason: the failure's text when :attr:`result` is not 0 and the
        protocol names its results (``result 69 (ESME_RSUBMITFAIL)``), else "".
    """

    dest: tuple[str, ...]
    pk_number: int
    pk_total: int
    msg_id: str
    result: int
    msg_ids: tuple[str, ...] = ()
    results: tuple[int, ...] = ()
    reason: str = ""

    def outcome(self, index: int) -> tuple[str, int]:
        """``(msg id, result)`` of destination *index*."""
        msg_id = self.msg_ids[index] if self.msg_ids else self.msg_id
        return msg_id, self.results[index] if self.results else self.result


@attrs.frozen
class Link:
    """One link of a channel, as ``/healthz`` shows it.

    :ivar peer: the far end (``host:port``), or ``""`` when unknown.
    :ivar direction: ``"out"`` for a link the channel opened, ``"in"`` for
        one the carrier opened to us (SGIP's second connection).
    """

    peer: str
    direction: str = "out"


@attrs.frozen
class Balance:
    """What a channel knows of its account's balance.

    :ivar protocol: the channel's protocol (its upstream URL scheme).
    :ivar balance: the balance in the vendor's unit, or None when unknown.
    :ivar reason: why *balance* is None (e.g. "cmpp has no balance query").
    :ivar products: a vendor's balance per product, when it has several.
    :ivar cached_at: when the vendor was asked (POSIX seconds), None when
        the answer is not a vendor's.
    """

    protocol: str
    balance: float | None = None
    reason: str | None = None
    products: dict[str, float] = attrs.field(factory=dict)
    cached_at: float | None = None


@attrs.frozen
class ChannelSetup:
    """What the SP role hands a protocol's ``make_channel`` besides its URL.

    :ivar name: the channel's name (routing, logs, the store).
    :ivar vendor_dirs: the ``[vendors] dirs`` / ``--plugins`` folders.
    :ivar http: a shared treq ``HTTPClient``, or None to make one.
    """

    name: str
    vendor_dirs: tuple[str, ...] = ()
    http: Any = None


class IChannel(IService):
    """One upstream account the SP sends through, whatever its protocol.

    It is an :class:`~twisted.application.service.IService`: the gateway
    parents it, so it starts (logs in, listens) and stops with the gateway.
    Its ``name`` is the channel's name in routing, logs and the store.
    """

    on_event = Attribute(
        """Called with every inbound report or MO, as a protocol-neutral event
        (:class:`smsgw.sp.clients.ReportEvent` / :class:`~smsgw.sp.clients.MoEvent`);
        the gateway sets it.  Its result (or Deferred) must come once the event
        is stored: the channel acknowledges upstream only then."""
    )

    def segments(text: str) -> list[Part]:
        """How this channel cuts *text* into what :meth:`submit_segment` takes.

        A binary carrier channel splits long text with a UDH in the Msg_Fmt it
        chooses (GBK for ``charset=gbk``); a vendor that splits itself gets
        one segment with the whole text.
        """

    def max_dests(report: bool) -> int:
        """The most destinations one :meth:`submit_segment` may name.

        CMPP/SGIP/SMGP: 1 when a report is wanted (group sends carry no
        reports), else 99; a vendor: its batch size.
        """

    def submit_segment(
        dests: tuple[str, ...], segment: PartLike, *, report: bool, src_ext: str
    ) -> Deferred[SegmentResult]:
        """Send *segment* to *dests*; fire with the upstream's answer.

        Retries, flow control and rate limits are the channel's business; the
        Deferred fails only once the segment cannot be sent.
        """

    def capacity() -> int:
        """How many segments the gateway may have in flight on this channel."""

    def ready() -> bool:
        """Whether the channel can send now (e.g. at least one link logged in)."""

    def links() -> list[Link]:
        """The channel's live (logged-in) links."""

    def balance() -> Deferred[Balance]:
        """What the channel knows of its account's balance."""
