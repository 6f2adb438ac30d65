"""Real Redis and PostgreSQL servers for the several-nodes tests and bench.

Each server is Debian's own binary (``redis-server``; PostgreSQL's ``initdb``
and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``), started in a temporary
folder on a free loopback port and stopped (the folder removed) by
:meth:`stop`.  Nothing here installs a package: ``./dev test`` installs
``redis-server`` and ``postgresql`` with apt when it runs as root, and
:func:`missing` says what is not there, so a test can skip with that reason.

PostgreSQL refuses to run as root; as root the cluster is created and run by
the ``postgres`` user the Debian package adds (through ``runuser``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

__all__ = ["PostgresServer", "RedisServer", "ServerError", "free_port", "missing"]

_LOOPBACK = "127.0.0.1"


class ServerError(Exception):
    """A server could not be started (its log's tail is in the message)."""


def free_port() -> int:
    """A TCP port free on the loopback interface now (another process may take it later)."""
    with socket.socket() as s:
        s.bind((_LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def _postgres_bin() -> str | None:
    """The folder holding the newest installed PostgreSQL's ``initdb`` and ``pg_ctl``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def missing() -> list[str]:
    """What the several-nodes tests need and this machine lacks, in words (empty: all there)."""
    lacks = []
    if shutil.which("redis-server") is None:
        lacks.append("redis-server (Debian package redis-server)")
    if _postgres_bin() is None:
        lacks.append("PostgreSQL's initdb/pg_ctl (Debian package postgresql)")
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        lacks.append("runuser (PostgreSQL cannot run as root)")
    for module, package in (("psycopg", "psycopg"), ("redis", "redis")):
        try:
            __import__(module)
        except ImportError:
            lacks.append(f"the Python package {package}")
    return lacks


def _wait_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((_LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


class RedisServer:
    """``redis-server`` on a free loopback port, without persistence (``save ""``).

    :meth:`restart` stops it and starts it again on the same port: what a
    Redis restart looks like to the nodes (every key is gone).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = tempfile.mkdtemp(prefix="smsgw-redis-")
        self.log_path = os.path.join(self.folder, "redis.log")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{_LOOPBACK}:{self.port}/0"

    def start(self, timeout_s: float = 20.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerError("redis-server is not installed")
        args = [binary, "--port", str(self.port), "--bind", _LOOPBACK, "--dir", self.folder,
                "--save", "", "--appendonly", "no", "--logfile", self.log_path,
                "--protected-mode", "yes"]  # fmt: skip
        quiet = subprocess.DEVNULL
        self._proc = subprocess.Popen(args, stdin=quiet, stdout=quiet, stderr=quiet)
        if not _wait_port(self.port, timeout_s, self._proc):
            self.stop()
            raise ServerError(f"redis-server did not start:\n{_tail(self.log_path)}")
        return self

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); with *remove*, delete its folder."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down *down_s* seconds, start again on the same port (keys are lost)."""
        self.stop(remove=False)
        time.sleep(down_s)
        self.start()


class PostgresServer:
    """A PostgreSQL cluster of its own in a temporary folder, on a free loopback port.

    Trust authentication on loopback only, user ``smsgw``, database ``smsgw``:
    :attr:`url` is what ``--store`` takes.  ``fsync`` stays on, so a kill -9
    test of a node tests the real thing.
    """

    user = "smsgw"
    database = "smsgw"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = tempfile.mkdtemp(prefix="smsgw-pg-")
        self.data = os.path.join(self.folder, "data")
        self.log_path = os.path.join(self.folder, "postgres.log")
        self._bin = _postgres_bin()
        self._started = False

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{_LOOPBACK}:{self.port}/{self.database}"

    def _run(self, *args: str, timeout_s: float = 120.0) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s, cwd=self.folder)  # fmt: skip
        if done.returncode != 0:
            out = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise ServerError(f"{os.path.basename(args[0])} failed:\n{out}\n{_tail(self.log_path)}")

    def start(self) -> PostgresServer:
        if self._bin is None:
            raise ServerError("PostgreSQL (initdb, pg_ctl) is not installed")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        initdb, pg_ctl = os.path.join(self._bin, "initdb"), os.path.join(self._bin, "pg_ctl")
        if not os.path.isdir(self.data):
            self._run(initdb, "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8",
                      "--no-instructions")  # fmt: skip
        options = (f"-p {self.port} -c listen_addresses={_LOOPBACK} -k {self.folder} "
                   "-c max_connections=200 -c shared_buffers=64MB")  # fmt: skip
        self._run(pg_ctl, "-D", self.data, "-o", options, "-l", self.log_path, "-w",
                  "-t", "60", "start")  # fmt: skip
        self._started = True
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg

        admin = f"postgresql://{self.user}@{_LOOPBACK}:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def reset(self) -> None:
        """Drop and create the database again: a fresh, empty store for the next test."""
        import psycopg

        admin = f"postgresql://{self.user}@{_LOOPBACK}:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self, *, remove: bool = True) -> None:
        """Stop the cluster (fast shutdown); with *remove*, delete its folder."""
        if self._started and self._bin is not None:
            self._started = False
            try:
                self._run(os.path.join(self._bin, "pg_ctl"), "-D", self.data, "-m", "fast",
                          "-w", "stop")  # fmt: skip
            except (ServerError, subprocess.TimeoutExpired):
                pass
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m smsgw.servers``: a Redis and a PostgreSQL for trying several nodes by hand.

    Prints the ``--store`` and ``--redis`` options to give each node, then runs
    until interrupted (Ctrl-C), and stops both servers and removes their folders.
    """
    import signal
    import sys

    lacks = missing()
    if lacks:
        print(f"missing: {', '.join(lacks)}", file=sys.stderr)
        return 1
    redis, postgres = RedisServer(), PostgresServer()
    stop = False

    def interrupted(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        redis.start()
        postgres.start()
        print(f"--store={postgres.url} --redis={redis.url}", flush=True)
        print("(Ctrl-C stops both servers and removes their data)", file=sys.stderr, flush=True)
        while not stop:
            time.sleep(0.2)
    finally:
        redis.stop()
        postgres.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
