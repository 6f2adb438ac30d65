"""SMPP 3.4: PDUs, codec, TLVs and the session rules; pure but for :mod:`.session`.

Registered through :mod:`.spec` (``smpp://`` upstreams, whose client is
:mod:`.client`).
"""
