"""An independent SMSC for the interop test: PyPI ``smpp34``'s asyncio server, run as a subprocess.

``python interop_smsc.py PORT`` serves SMPP 3.4 on 127.0.0.1:PORT, prints
``READY`` once listening, then one JSON line per event on stdout: each
bind, each submit_sm (accepted with an upper-case hex message_id) and the
answer to each delivery receipt it sends back for a submit_sm that asked
for one (esm_class 0x04, the id written in decimal in the text and in
receipted_message_id, message_state DELIVERED).  It runs until killed.

Not a test module: :mod:`tests.protocols.smpp.test_interop` starts it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def serve(port: int) -> None:
    import smpp34

    server = smpp34.Server("127.0.0.1", port, system_id="SMPP34")
    await server.start()
    emit(event="ready")
    print("READY", flush=True)
    sessions: dict[str, Any] = {}
    ids = itertools.count(0xBEEF)
    pending: set[asyncio.Task[None]] = set()
    while True:
        event = await server.next()
        if isinstance(event, smpp34.Esme):
            sessions[event.session_id] = event
            emit(event="bind", system_id=event.system_id, can_receive=event.can_receive)
        elif isinstance(event, smpp34.SubmitSmEvent):
            number = next(ids)
            event.accept(message_id=f"{number:08X}")
            emit(
                event="submit",
                source_addr=event.source_addr,
                destination_addr=event.destination_addr,
                data_coding=event.data_coding,
                esm_class=event.esm_class,
                registered_delivery=event.registered_delivery,
                short_message=event.short_message.hex(),
                message_id=f"{number:08X}",
            )
            esme = sessions.get(event.session_id)
            if event.registered_delivery & 1 and esme is not None:
                task = asyncio.create_task(receipt(smpp34, esme, event, number))
                pending.add(task)
                task.add_done_callback(pending.discard)
        elif isinstance(event, smpp34.Unbound):
            sessions.pop(event.session_id, None)
            emit(event="unbound")


async def receipt(smpp34: Any, esme: Any, submit: Any, number: int) -> None:
    text = (
        f"id:{number} sub:001 dlvrd:001 submit date:2612071830 done date:2612071831"
        " stat:DELIVRD err:000 text:"
    )
    resp = await esme.deliver_sm(
        submit.source_addr,
        text.encode("ascii"),
        source_addr=submit.destination_addr,
        esm_class=0x04,
        tlvs=[
            smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, b"%d\x00" % number),
            smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, b"\x02"),
        ],
    )
    emit(event="receipt", command_status=resp.command_status)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
