"""HTTP vendors as upstreams (``http://`` and ``https://``): the registry entry.

The channel itself is :class:`smsgw.vendor.channel.VendorChannel`; what a
vendor's API looks like is its XML description (:mod:`smsgw.vendor`).
"""
