"""The gateway's MOs: each stored once, a long one whole from its parts (CMPP 2.0 notes §10).

Every part of a long MO is committed (``mo_parts``) before its DELIVER is
answered; the whole message's inbound item is added in the transaction that
deletes its group's parts, and only if it deleted some (the parts are its
ticket, :meth:`~smsgw.store.interface.IMessageStore.add_inbound`).

One node: a :class:`~smsgw.text.Reassembler` joins the parts it receives;
at start it reads back the held ones.  Several nodes on one store
(``IClusterStore``): a carrier sends the parts on any session of the
account, so after committing a part a node also reads its group's parts as
the store holds them (every node's) and stores the message once they are all
there.  Its reassembler still times the group out: on expiry the parts the
store holds then (every node's) make the incomplete MO, unless a peer stored
the group already (no parts left, no ticket).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from smsgw.sp.clients import MoEvent
from smsgw.store.interface import IMessageStore
from smsgw.store.model import Inbound, InboundKind, MoGroup, MoPart
from smsgw.store.payload import mo_payload
from smsgw.text import Incomplete, Reassembled, Reassembler, UdhError, concat_info, decode_text

#: Seconds after its first part (on this node) that a long MO is given up on.
MO_TIMEOUT_S = 600.0


class MoInbox:
    """Store the MOs of a gateway's channels (:meth:`part`, :meth:`expire`, :meth:`restore`).

    :param store: the gateway's store.
    :param clock: the reactor.
    :param callback_url: where items of a kind are pushed (None: nowhere).
    :param shared: whether other nodes hold parts in *store* too.
    """

    log = Logger()

    def __init__(
        self,
        store: IMessageStore,
        clock: IReactorTime,
        callback_url: Callable[[InboundKind], str | None],
        *,
        shared: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.callback_url = callback_url
        self.shared = shared
        self.reassembler = Reassembler(timeout_s=MO_TIMEOUT_S)

    async def part(self, event: MoEvent, now: float) -> None:
        """One MO segment: a whole message is stored; a part of a long one is held first.

        The part is committed before the channel answers the DELIVER, so a
        restart finds it (:meth:`restore`).
        """
        key = (event.channel, event.sender, event.to)
        try:
            info = concat_info(event.content, event.tp_udhi)
        except UdhError as e:
            self.log.warn("gateway: MO with a malformed UDH kept as it is: {error}", error=str(e))
            text = decode_text(event.content, event.msg_fmt)
            await self.store_mo(key, text, now, msg_id=event.msg_id)
            return
        if info is not None and info.total > 1:
            group = MoGroup(event.channel, event.sender, event.to, info.reference, info.total)
            part = MoPart(group, info.number, event.content, event.tp_udhi, event.msg_fmt, now,
                          event.msg_id)  # fmt: skip
            await self.store.add_mo_part(part)
            if not await self._reassemble(part) and self.shared:
                await self._whole_in_store(group, now, event.msg_id)
            return
        # A whole message (a UDH without concatenation stripped by the reassembler): never held.
        await self._reassemble(MoPart(MoGroup(*key, 0, 1), 1, event.content, event.tp_udhi,
                                      event.msg_fmt, now, event.msg_id))  # fmt: skip

    async def _reassemble(self, part: MoPart) -> bool:
        """Give a segment to the reassembler; store the message it completes (True then)."""
        g = part.group
        key = (g.channel, g.sender, g.to)
        done = self.reassembler.add(key, part.content, part.tp_udhi, part.msg_fmt,
                                    part.received_at)  # fmt: skip
        if done is None:
            return False
        group = MoGroup(*key, done.reference, done.total) if done.total > 1 else None
        await self.store_mo(key, done.text, part.received_at, msg_id=part.msg_id, parts=group)
        return True

    async def _whole_in_store(self, group: MoGroup, now: float, msg_id: str) -> None:
        """Several nodes: store *group*'s message if the store holds all its parts."""
        joined = join(await self.store.mo_group_parts(group))
        if isinstance(joined, Reassembled):
            key = (group.channel, group.sender, group.to)
            await self.store_mo(key, joined.text, now, msg_id=msg_id, parts=group)

    async def restore(self) -> None:
        """Read the held parts of long MOs back into the reassembler (at start)."""
        parts = await self.store.mo_parts()
        for part in parts:
            await self._reassemble(part)
        if parts:
            self.log.info("gateway: {n} parts of long MOs read back", n=len(parts))

    async def expire(self, now: float) -> None:
        """Store the long MOs given up on, with the numbers of their missing parts.

        Several nodes: the parts held in the store now (every node's) make
        the message; none left means a peer stored it, and nothing more is.
        """
        for incomplete in self.reassembler.expire(now):
            key = cast(tuple[str, str, str], incomplete.key)
            group = MoGroup(*key, incomplete.reference, incomplete.total)
            if self.shared:
                parts = await self.store.mo_group_parts(group)
                joined = join(parts)
                if joined is None:
                    continue
                if isinstance(joined, Reassembled):  # a peer's read of the last part failed
                    await self.store_mo(key, joined.text, now, msg_id=parts[-1].msg_id,
                                        parts=group)  # fmt: skip
                    continue
                incomplete = joined
            text = decode_text(b"".join(incomplete.payloads), incomplete.msg_fmt)
            await self.store_mo(key, text, now, missing=list(incomplete.missing), parts=group)

    async def store_mo(
        self,
        key: Any,
        text: str,
        now: float,
        *,
        msg_id: str = "",
        missing: Sequence[int] = (),
        parts: MoGroup | None = None,
    ) -> None:
        """Store a whole (or timed-out) MO and its push, in one transaction.

        With *parts*, only if that transaction deletes some of the group's
        held parts (a peer that stored the group first leaves none).
        """
        channel, sender, to = key
        fields = mo_payload(
            channel=channel,
            sender=sender,
            to=to,
            text=text,
            received_at=now,
            msg_id=msg_id,
            missing_parts=missing,
        )
        await self.store.add_inbound(
            Inbound(InboundKind.MO, channel, fields, now, dedup_key=msg_id or None),
            callback_url=self.callback_url(InboundKind.MO),
            parts=parts,
        )


def join(parts: Sequence[MoPart]) -> Reassembled | Incomplete | None:
    """The message *parts* (one group's, as the store holds them) make: whole or not.

    None for no parts.  The first copy of a number counts, and the
    ``Msg_Fmt`` of the first part received.
    """
    reassembler = Reassembler(timeout_s=0.0)
    for part in parts:
        done = reassembler.add("", part.content, part.tp_udhi, part.msg_fmt, 0.0)
        if done is not None:
            return done
    expired = reassembler.expire(0.0)
    return expired[0] if expired else None
