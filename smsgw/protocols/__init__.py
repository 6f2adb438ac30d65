"""The carrier protocols: framing, layout-compiled codecs, dispatch, the session engine."""
