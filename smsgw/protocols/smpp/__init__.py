"""SMPP 3.4: PDUs, codec, TLVs and the session rules; pure but for :mod:`.session`.

Not registered as a protocol yet: this package exports no ``SPECS`` (see
:mod:`smsgw.protocols.registry`) until the SP client and the simulator face
exist, so no ``smpp://`` URL or ``--smpp`` option appears to users.
"""
