"""One PostgreSQL server per test process, started on first use and stopped at exit.

Starting a cluster costs about 1.5 s; tests :meth:`~smsgw.servers.PostgresServer.reset`
it instead (a fresh empty database each).  Trial has no ``setUpClass``, so
the server lives for the process (each ``trial -j`` worker has its own).
"""

from __future__ import annotations

import atexit

from smsgw import servers

__all__ = ["SKIP", "postgres"]

_MISSING = servers.missing()

#: A test class's ``skip``: why these tests cannot run here, or None.
SKIP: str | None = f"missing: {', '.join(_MISSING)}" if _MISSING else None

_postgres: servers.PostgresServer | None = None


def postgres() -> servers.PostgresServer:
    """The process's PostgreSQL server, reset to an empty database."""
    global _postgres
    if _postgres is None:
        _postgres = servers.PostgresServer().start()
        atexit.register(_postgres.stop)
    _postgres.reset()
    return _postgres
