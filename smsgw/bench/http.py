"""``smsgw bench --http``: N messages through the SP HTTP API, accept to report, end to end.

By default it starts two processes on free loopback ports in a temporary
directory: ``ismg-sim`` (reports at once, every one ``DELIVRD``) and the
``sp`` role (its own SQLite file, one CMPP channel to that simulator); with
``--target-http http://127.0.0.1:PORT`` it uses a running gateway instead
(loopback only: this is a load test).  It posts ``--count`` distinct numbers
in queue mode, ``--batch`` numbers per ``POST /v1/sms`` from
``--concurrency`` connections, and fetches ``GET /v1/inbound`` until every
status report is stored.  The last line of output is one JSON object:

* ``msgs_per_s`` — messages from the first POST to the last report stored
  (the report's ``created_at``), end to end;
* ``accept_per_s`` — messages from the first POST to the last 202;
* ``requests``, ``errors`` (failed requests by HTTP status or exception
  name, refused numbers, missing reports).

The process helpers (:func:`free_port`, :class:`JsonHttp`,
:class:`SimProcess`, :class:`SpProcess`) are shared with
:mod:`smsgw.bench.durability`.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from twisted.python import usage

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: The simulator account the started processes share.
ACCOUNT, SECRET = "900001", "bench"


class BenchError(Exception):
    """The benchmark could not run (a process did not start, a gateway is missing)."""


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, and not handed out before by this process.

    The port is closed again before a child process binds it, so the kernel may
    offer it twice; two of our own processes (a simulator's control API and the
    sp's HTTP API) must not both be given it.
    """
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def number(i: int) -> str:
    """The *i*-th distinct test number (China Mobile's 138 segment)."""
    return f"138{i:08d}"


class JsonHttp:
    """A persistent HTTP/1.1 connection speaking JSON (stdlib only, one thread at a time).

    :param base_url: ``http://HOST:PORT``.
    :param api_key: sent as ``Authorization: Bearer KEY`` when given.
    :param timeout_s: socket timeout of each request.
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0):
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise BenchError(f"expected an http://HOST:PORT URL, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request; ``(status, decoded JSON or None)``.  Reconnects once if the link closed.

        :raises OSError: when the gateway cannot be reached.
        """
        data = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, self.timeout_s)
            try:
                self._conn.request(method, self.prefix + path, data, self.headers)
                resp = self._conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if resp.getheader("connection", "").lower() == "close":
                self.close()
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, {"error": "not_json", "message": raw[:200].decode("latin-1")}
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# -- processes ----------------------------------------------------------------------------


class TwistProcess:
    """``python -m twisted smsgw …`` in a subprocess, its log in a file.

    :param name: for messages (``sp``, ``ismg-sim``).
    :param args: the arguments after ``smsgw``.
    :param log_path: stdout and stderr go there (appended across restarts).
    """

    def __init__(self, name: str, args: list[str], log_path: str) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Spawn it (the previous run, if any, must have ended)."""
        cmd = [sys.executable, "-m", "twisted", "smsgw", *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or ``kill -9``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM (``twist`` stops its services in order), SIGKILL after *timeout_s*."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def check_alive(self) -> None:
        """:raises BenchError: with the log's tail when the process has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"{self.name} exited with {self.proc.returncode}; its log ends with:\n"
                + self.log_tail()
            )

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read()[-20000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Any, what: str, deadline_s: float = 30.0) -> Any:
        """Call *ready* until it returns something true; :raises BenchError: after *deadline_s*."""
        end = time.monotonic() + deadline_s
        while True:
            self.check_alive()
            try:
                value = ready()
            except (OSError, http.client.HTTPException):
                value = None
            if value:
                return value
            if time.monotonic() > end:
                raise BenchError(
                    f"{self.name}: {what} within {deadline_s:.0f} s; log:\n" + self.log_tail()
                )
            time.sleep(0.05)


class SimProcess(TwistProcess):
    """``ismg-sim`` on fixed loopback ports (a restart listens on the same ones).

    :param workdir: where its config and log go.
    :param account_extra: more TOML lines for the account (e.g. ``tps = 500``).
    :param max_sessions: the account's session cap (the carrier's).
    """

    def __init__(
        self,
        workdir: str,
        account_extra: str = "",
        *,
        vendor_http: bool = False,
        protocol: str = "cmpp",
        max_sessions: int = 10000,
    ) -> None:
        self.protocol = protocol
        self.cmpp_port = free_port()
        #: The port of *protocol*'s listener (the CMPP one for cmpp).
        self.port = self.cmpp_port if protocol == "cmpp" else free_port()
        self.control_port = free_port()
        self.vendor_port = free_port() if vendor_http else None
        config = os.path.join(workdir, "ismg-sim.toml")
        with open(config, "w") as f:
            f.write(
                f'[[simulator.account]]\nid = "{ACCOUNT}"\nsecret = "{SECRET}"\n'
                f"max_sessions = {max_sessions}\n{account_extra}"
            )
        super().__init__(
            "ismg-sim",
            [
                "--role=ismg-sim",
                f"--config={config}",
                f"--cmpp=tcp:{self.cmpp_port}:interface=127.0.0.1",
                *(
                    [f"--{protocol}=tcp:{self.port}:interface=127.0.0.1"]
                    if protocol != "cmpp"
                    else []
                ),
                f"--control=tcp:{self.control_port}:interface=127.0.0.1",
                *(
                    [f"--vendor-http=tcp:{self.vendor_port}:interface=127.0.0.1"]
                    if self.vendor_port
                    else []
                ),
            ],
            os.path.join(workdir, "ismg-sim.log"),
        )
        self.control = JsonHttp(f"http://127.0.0.1:{self.control_port}")

    def upstream_url(self, **settings: Any) -> str:
        """The URL of its account for *protocol*, with URL settings (``window=``, ``tps=``…)."""
        query = "&".join(f"{k}={v}" for k, v in {"src_id": "1065012345", **settings}.items())
        return f"{self.protocol}://{ACCOUNT}:{SECRET}@127.0.0.1:{self.port}?{query}"

    def start_ready(self, deadline_s: float = 30.0) -> None:
        """Start and wait until the control API answers and its protocol's port accepts."""
        self.start()
        self.control.close()
        self.wait_until(
            lambda: self.control.call("GET", "/healthz")[0] == 200,
            "control API not answering",
            deadline_s,
        )
        self.wait_until(lambda: _connectable(self.port), "its port is not listening", deadline_s)

    def stats(self) -> dict[str, Any]:
        status, body = self.control.call("GET", "/v1/stats")
        if status != 200:
            raise BenchError(f"ismg-sim /v1/stats answered {status}: {body}")
        return dict(body)

    def submits(self, limit: int = 100_000) -> list[dict[str, Any]]:
        status, body = self.control.call("GET", f"/v1/submits?limit={limit}")
        if status != 200:
            raise BenchError(f"ismg-sim /v1/submits answered {status}: {body}")
        return list(body["submits"])

    def set_policy(self, policy: dict[str, Any]) -> None:
        status, body = self.control.call("PUT", "/v1/policy", policy)
        if status != 200:
            raise BenchError(f"ismg-sim PUT /v1/policy answered {status}: {body}")


def _connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class SpProcess(TwistProcess):
    """The ``sp`` role with one upstream, its own database and HTTP port (fixed across restarts).

    :param upstream: the ``[[upstream]]`` URL; the channel is called ``sim``.
    :param http_port: its HTTP port (a free one by default).
    :param routes: the channel's ``routes`` (an HTTP vendor takes numbers only through them).
    :param store: ``--store`` (a ``postgresql://`` URL); default: an SQLite file in *workdir*.
    :param args: more ``twistd smsgw`` options (``--redis=…``, ``--node=…``).
    """

    channel = "sim"

    def __init__(
        self,
        workdir: str,
        upstream: str,
        *,
        http_port: int | None = None,
        routes: tuple[str, ...] = (),
        store: str | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.http_port = http_port or free_port()
        self.db = os.path.join(workdir, "sp.sqlite3")
        config = os.path.join(workdir, "sp.toml")
        with open(config, "w") as f:
            f.write(f'[[upstream]]\nname = "{self.channel}"\nurl = "{upstream}"\n')
            if routes:
                f.write(f"routes = {json.dumps(list(routes))}\n")
        super().__init__(
            "sp",
            [
                "--role=sp",
                f"--config={config}",
                f"--store={store}" if store else f"--db={self.db}",
                f"--http=tcp:{self.http_port}:interface=127.0.0.1",
                *args,
            ],
            os.path.join(workdir, "sp.log"),
        )
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.api = JsonHttp(self.url)

    def start_ready(self, deadline_s: float = 30.0, linked: bool = True) -> None:
        """Start and wait for ``/healthz`` (and, with *linked*, a logged-in link)."""
        self.start()
        self.api.close()

        def ready() -> bool:
            status, body = self.api.call("GET", "/healthz")
            return status == 200 and (not linked or body["links"].get(self.channel, 0) > 0)

        self.wait_until(
            ready, "no logged-in channel" if linked else "HTTP API not answering", deadline_s
        )


@contextmanager
def local_gateway(
    workdir: str | None = None, **upstream_settings: Any
) -> Iterator[tuple[SimProcess, SpProcess]]:
    """A started ``ismg-sim`` and ``sp`` pair, both stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="smsgw-bench-") as tmp:
        where = workdir or tmp
        sim = SimProcess(where)
        with _started(sim, SpProcess(where, sim.upstream_url(**upstream_settings))) as pair:
            yield pair


@contextmanager
def _started(sim: SimProcess, sp: SpProcess) -> Iterator[tuple[SimProcess, SpProcess]]:
    """*sim* then *sp* started and ready; both stopped on exit."""
    try:
        sim.start_ready()
        sp.start_ready()
        yield sim, sp
    finally:
        sp.stop()
        sim.stop()


@contextmanager
def vendor_gateway(
    vendor: str, workdir: str | None = None
) -> Iterator[tuple[SimProcess, SpProcess]]:
    """An ``ismg-sim`` playing *vendor* (``--vendor-http``) and an ``sp`` sending through it.

    A vendor with a pull operation is pulled every second (seed 001's ``/mo`` gives up to
    2,000 records an answer); the others push each report to the SP's ``/push/sim/report``.
    Both ends' rate limits are lifted and the channel makes 16 requests at once (the files
    say 5): this measures the gateway, not a vendor's budget.
    """
    from smsgw.vendor.catalogue import load_vendors
    from smsgw.vendor.description import Kind

    desc = load_vendors().get(vendor)
    if desc is None:
        raise BenchError(f"no vendor file {vendor!r} (known: {', '.join(sorted(load_vendors()))})")
    pulled = desc.operation(Kind.PULL) is not None
    with tempfile.TemporaryDirectory(prefix="smsgw-bench-") as tmp:
        where = workdir or tmp
        sp_port = free_port()
        push = f"http://127.0.0.1:{sp_port}/push/{SpProcess.channel}"
        account = "tps = 1000000\nbalance = 1000000000\n"
        if not pulled:
            account += f'report_url = "{push}/report"\nmo_url = "{push}/mo"\n'
        sim = SimProcess(where, account, vendor_http=True)
        upstream = (
            f"http://{ACCOUNT}:{SECRET}@127.0.0.1:{sim.vendor_port}/{vendor}"
            f"?vendor={vendor}&tps=1000000&pull=1&concurrency=16"
        )
        with _started(sim, SpProcess(where, upstream, http_port=sp_port, routes=("1",))) as pair:
            yield pair


# -- the benchmark --------------------------------------------------------------------------


class Options(usage.Options):
    synopsis = (
        "usage: smsgw bench --http [--count N] [--batch B] [--concurrency C]"
        " [--target-http URL | --vendor NAME]\n\n"
        "Messages through the HTTP API of an sp (and ismg-sim) it starts, or of --target-http,"
        "\nuntil their reports are stored; then one JSON line. --vendor NAME sends through an"
        "\nHTTP channel to the ismg-sim playing that vendor."
    )
    optParameters = [
        ["count", "n", 10_000, "messages to send", int],
        ["batch", "b", 100, "numbers per POST /v1/sms (1..100)", int],
        ["concurrency", "c", 8, "HTTP connections posting at once", int],
        ["window", "w", 16, "window per session of the started sp's channel", int],
        ["sessions", "s", 1, "sessions of the started sp's channel", int],
        ["target-http", None, None, "http://127.0.0.1:PORT of a running sp gateway"],
        ["vendor", None, None, "through an HTTP channel to this vendor, played by the ismg-sim"],
        ["api-key", None, None, "with --target-http: its API key"],
        ["timeout", None, 600.0, "give up after this many seconds", float],
    ]
    optFlags = [["quiet", "q", "no progress line"]]

    def postOptions(self) -> None:
        if not 1 <= self["count"] <= 1_000_000:
            raise usage.UsageError("--count must be 1..1000000")
        if not 1 <= self["batch"] <= 100:
            raise usage.UsageError("--batch must be 1..100")
        if not 1 <= self["concurrency"] <= 64:
            raise usage.UsageError("--concurrency must be 1..64")
        if not 1 <= self["sessions"] <= 64 or not 1 <= self["window"] <= 1024:
            raise usage.UsageError("--sessions must be 1..64 and --window 1..1024")
        target = self["target-http"]
        if target is not None and urlsplit(target).hostname not in LOOPBACK:
            raise usage.UsageError("--target-http must be an http:// URL on a loopback address")


class _State:
    """Counters shared by the posting threads and the report poller."""

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.count = count
        self.accepted = 0
        self.requests = 0
        self.errors: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.reports = 0
        self.last_accept = 0.0
        self.last_report_at = 0.0
        self.posting_done = threading.Event()


def _post_all(opts: Options, url: str, state: _State, t0_box: list[float]) -> None:
    count, batch = opts["count"], opts["batch"]
    local = threading.local()

    def client() -> JsonHttp:
        if not hasattr(local, "http"):
            local.http = JsonHttp(url, opts["api-key"])
        http: JsonHttp = local.http
        return http

    def post(start: int) -> None:
        numbers = [number(i) for i in range(start, min(start + batch, count))]
        body = {
            "to": numbers if batch > 1 else numbers[0],
            "content": "smsgw bench http",
            "mode": "queue",
        }
        try:
            status, answer = client().call("POST", "/v1/sms", body)
        except (OSError, http.client.HTTPException) as e:
            with state.lock:
                state.requests += 1
                state.errors[type(e).__name__] += 1
            return
        now = time.time()
        with state.lock:
            state.requests += 1
            if status != 202:
                state.errors[str(status)] += 1
                return
            state.ids.add(answer["id"])
            state.accepted += len(answer["recipients"])
            if answer.get("rejected"):
                state.errors["rejected_numbers"] += len(answer["rejected"])
            state.last_accept = max(state.last_accept, now)

    t0_box.append(time.time())
    with ThreadPoolExecutor(opts["concurrency"]) as pool:
        list(pool.map(post, range(0, count, batch)))
    state.posting_done.set()


def _fetch_reports(url: str, api_key: str | None, state: _State, deadline: float) -> None:
    api = JsonHttp(url, api_key)
    early: list[dict[str, Any]] = []  # reports fetched before their POST's answer was read
    while time.monotonic() < deadline:
        try:
            status, body = api.call("GET", "/v1/inbound?limit=1000")
        except (OSError, http.client.HTTPException) as e:
            raise BenchError(f"cannot reach the gateway at {url}: {e}") from None
        if status != 200:
            raise BenchError(f"GET /v1/inbound answered {status}: {body}")
        items = [i for i in body["items"] if i.get("type") == "report"] + early
        early = []
        with state.lock:
            for item in items:
                if item.get("message_id") in state.ids:
                    state.reports += 1
                    state.last_report_at = max(state.last_report_at, float(item["created_at"]))
                elif not state.posting_done.is_set():
                    early.append(item)
            done = state.posting_done.is_set() and state.reports >= state.accepted
        if done:
            return
        if not body["items"]:
            time.sleep(0.02)


def _progress(state: _State, t0_box: list[float], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        elapsed = time.time() - (t0_box[0] if t0_box else time.time())
        sys.stderr.write(
            f"\r{state.accepted}/{state.count} accepted, {state.reports} reports, "
            f"{state.reports / max(elapsed, 1e-9):,.0f} msg/s "
        )
        sys.stderr.flush()
    sys.stderr.write("\n")


def run(opts: Options, url: str) -> dict[str, Any]:
    """Post every message, wait for every report; the summary."""
    state = _State(opts["count"])
    t0_box: list[float] = []
    deadline = time.monotonic() + opts["timeout"]
    stop = threading.Event()
    bar = None
    if not opts["quiet"] and sys.stderr.isatty():
        bar = threading.Thread(target=_progress, args=(state, t0_box, stop), daemon=True)
        bar.start()
    poster = threading.Thread(target=_post_all, args=(opts, url, state, t0_box), daemon=True)
    poster.start()
    try:
        _fetch_reports(url, opts["api-key"], state, deadline)
    finally:
        poster.join(max(0.0, deadline - time.monotonic()))
        stop.set()
        if bar is not None:
            bar.join(2)
    t0 = t0_box[0] if t0_box else time.time()
    errors = dict(state.errors)
    missing = state.accepted - state.reports
    if missing > 0:
        errors["missing_reports"] = missing
    return {
        "count": opts["count"],
        "batch": opts["batch"],
        "concurrency": opts["concurrency"],
        "accepted": state.accepted,
        "reports": state.reports,
        "msgs_per_s": round(state.reports / max(state.last_report_at - t0, 1e-9), 1),
        "accept_per_s": round(state.accepted / max(state.last_accept - t0, 1e-9), 1),
        "elapsed_s": round(max(state.last_report_at, state.last_accept) - t0, 3),
        "requests": state.requests,
        "errors": errors,
    }


def main(argv: list[str]) -> int:
    """``smsgw bench --http …`` (the ``--http`` flag already removed)."""
    opts = Options()
    try:
        opts.parseOptions(argv)
    except usage.UsageError as e:
        print(f"smsgw bench --http: {e}\n{opts}", file=sys.stderr)
        return 2
    try:
        if opts["target-http"]:
            summary = run(opts, opts["target-http"].rstrip("/"))
        elif opts["vendor"]:
            with vendor_gateway(opts["vendor"]) as (_, sp):
                summary = run(opts, sp.url)
            summary["vendor"] = opts["vendor"]
        else:
            with local_gateway(window=opts["window"], sessions=opts["sessions"]) as (_, sp):
                summary = run(opts, sp.url)
    except BenchError as e:
        print(f"smsgw bench --http: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 1 if summary["errors"] else 0
