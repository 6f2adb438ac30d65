"""Where the SP keeps its state: ``sqlite:PATH`` or ``postgresql://…``, and the Redis of a cluster.

One SP process alone keeps everything in an SQLite file (the default).
Several SP processes (nodes) share a PostgreSQL store and coordinate their
speed limits and carrier sessions through Redis (``[cluster]``;
docs/scale-out.md).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import attrs

__all__ = ["StoreTarget", "default_node", "parse_redis_url", "parse_store_url"]


@attrs.frozen
class StoreTarget:
    """A parsed ``--store``: *kind* ``"sqlite"`` or ``"postgresql"``, and its file or URL."""

    kind: str
    location: str = attrs.field(repr=False)

    @property
    def shared(self) -> bool:
        """Whether several nodes can share it."""
        return self.kind == "postgresql"

    def redacted(self) -> str:
        """The target for logs: a PostgreSQL URL without its password."""
        if self.kind == "sqlite":
            return f"sqlite:{self.location}"
        parts = urlsplit(self.location)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def parse_store_url(text: str) -> StoreTarget:
    """``sqlite:PATH`` (or a bare path), or ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB``.

    :raises ValueError: naming what is wrong.
    """
    if text.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("the PostgreSQL URL's port is not a number") from None
        if not parts.hostname or parts.path in ("", "/"):
            raise ValueError("expected postgresql://USER@HOST:PORT/DATABASE")
        return StoreTarget("postgresql", text)
    if "://" in text:
        raise ValueError("expected sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE")
    path = text.removeprefix("sqlite:")
    if not path:
        raise ValueError("sqlite: needs a file path")
    return StoreTarget("sqlite", path)


def parse_redis_url(text: str) -> str:
    """A ``redis://HOST[:PORT][/DB]`` URL, as given.

    :raises ValueError: naming what is wrong.
    """
    parts = urlsplit(text)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("expected redis://HOST:PORT/DB")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError("the Redis URL's port is not a number") from None
    return text


def default_node(http: str) -> str:
    """A node name stable across restarts of one process: the host name and the HTTP port.

    A node's name marks the segments it claims; at start-up it takes back
    only its own (a peer's are taken back by the visibility timeout).
    """
    port = next((p.split("=", 1)[-1] for p in http.split(":")[1:2]), "")
    return f"{socket.gethostname()}:{port}" if port else socket.gethostname()
