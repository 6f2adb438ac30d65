"""An independent ESME: PyPI's smpplib (sync sockets), run as a subprocess by test_face_interop.

``python smpplib_esme.py PORT SYSTEM_ID PASSWORD SRC DEST [DEST_MO]`` binds as
transceiver to 127.0.0.1:PORT, submits one message to DEST asking for a
receipt (and one to DEST_MO, whose trigger answers with an MO), queries
the first, reads deliver_sm until it has the receipt (and the MO), unbinds
and prints what it saw as one JSON object.  Every socket wait is bounded.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import smpplib.client
import smpplib.consts


def main(argv: list[str]) -> dict[str, Any]:
    port, system_id, password, src, dest = argv[:5]
    mo_dest = argv[5] if len(argv) > 5 else None
    seen: dict[str, Any] = {"submit_resps": [], "delivers": [], "queries": []}
    client = smpplib.client.Client("127.0.0.1", int(port), timeout=5, allow_unknown_opt_params=True)

    def sent(pdu: Any, **_: Any) -> None:
        seen["submit_resps"].append({"status": pdu.status, "message_id": _text(pdu.message_id)})

    def received(pdu: Any, **_: Any) -> int:
        seen["delivers"].append(
            {
                "esm_class": pdu.esm_class,
                "source_addr": _text(pdu.source_addr),
                "short_message": _text(pdu.short_message),
                "receipted_message_id": _text(getattr(pdu, "receipted_message_id", None)),
                "message_state": getattr(pdu, "message_state", None),
            }
        )
        return smpplib.consts.SMPP_ESME_ROK

    def query(pdu: Any, **_: Any) -> None:
        seen["queries"].append({"status": pdu.status, "message_state": pdu.message_state})

    client.set_message_sent_handler(sent)
    client.set_message_received_handler(received)
    client.set_query_resp_handler(query)
    client.connect()
    bound = client.bind_transceiver(system_id=system_id, password=password)
    seen["bind"] = {"status": bound.status, "system_id": _text(bound.system_id)}
    client.send_message(
        source_addr=src,
        destination_addr=dest,
        short_message=b"hello from smpplib",
        registered_delivery=1,
    )
    wanted = 1
    if mo_dest is not None:
        client.send_message(
            source_addr=src, destination_addr=mo_dest, short_message=b"sub", registered_delivery=0
        )
        wanted = 2
    while len(seen["submit_resps"]) < wanted:
        client.read_once()
    first = seen["submit_resps"][0]["message_id"]
    client.query_message(message_id=first, source_addr_ton=0, source_addr_npi=0, source_addr=src)
    while not seen["queries"] or len(seen["delivers"]) < wanted:
        client.read_once(auto_send_enquire_link=False)
    resp = client.unbind()
    seen["unbind"] = {"command": resp.command, "status": resp.status}
    client.disconnect()
    return seen


def _text(value: Any) -> Any:
    return value.decode("latin-1") if isinstance(value, bytes) else value


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
