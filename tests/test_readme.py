"""The README's shell examples run as written, top to bottom, so the README cannot drift.

Every fenced block opened with ```` ```sh ```` is run, in order, by ``bash``
with ``-e -u -o pipefail``, against an ``ismg-sim`` and an ``sp`` this test
starts as real processes (``twistd smsgw``) on free loopback ports; each block
must exit 0 within :data:`BLOCK_TIMEOUT_S`.

What is changed before running, and why:

* ``127.0.0.1:8080`` (the gateway's HTTP API) and ``127.0.0.1:8081`` (the
  simulator's control API) become the free ports the processes listen on,
  and ``$SMSGW_URL`` points ``smsgw send`` there;
* ``curl`` is a shell function adding ``--fail-with-body``, so an HTTP error
  answer fails the block as a command failure would;
* the blocks run in a scratch folder where ``.venv`` is this interpreter's
  environment and ``examples``, ``tac`` and ``simulator`` are the checkout's.

A block is skipped only when the line just before its opening fence (blank
lines aside) is an HTML comment ``<!-- not-run: REASON -->``, for blocks that
start long-running processes (the gateway itself, the simulator, the
network, the benchmarks) or need a carrier; the reason must be given.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from smsgw.bench.http import BenchError, JsonHttp, TwistProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: Longest a block may run.
BLOCK_TIMEOUT_S = 120.0
#: The marker that skips the block after it.
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.*?)\s*-->")
#: The checkout's folders the README's commands name.
LINKED = ("examples", "tac", "simulator")
#: Run before every block.
PRELUDE = 'curl() { command curl --fail-with-body --max-time 60 "$@"; }\n'


@attrs.frozen
class Block:
    """One fenced block of the README.

    :ivar line: the line number of its opening fence (from 1).
    :ivar language: the fence's info string (``sh``, ``json``, empty).
    :ivar text: its lines.
    :ivar not_run: the reason given by a not-run marker, or ``None``.
    """

    line: int
    language: str
    text: str
    not_run: str | None


def blocks(markdown: str) -> list[Block]:
    """The fenced blocks of *markdown* (at any indentation), in order."""
    found: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = re.fullmatch(r"(\s*)```(\S*)\s*", lines[i])
        if opening is None:
            i += 1
            continue
        indent, language = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        previous = next((line for line in reversed(lines[:i]) if line.strip()), "")
        marker = NOT_RUN.fullmatch(previous.strip())
        body = "\n".join(line.removeprefix(indent) for line in lines[i + 1 : end])
        found.append(Block(i + 1, language, body, marker["reason"] if marker else None))
        i = end + 1
    return found


class ParseTests(SynchronousTestCase):
    """How blocks and markers are read."""

    def test_blocks_and_markers(self) -> None:
        """A marker skips only the block right after it; other blocks keep their language."""
        text = (
            "x\n<!-- not-run: long -->\n\n```sh\nsleep 1\n```\n```sh\necho a\n```\n"
            "  ```json\n  {}\n  ```\n"
        )
        self.assertEqual(
            blocks(text),
            [
                Block(4, "sh", "sleep 1", "long"),
                Block(7, "sh", "echo a", None),
                Block(10, "json", "{}", None),
            ],
        )

    def test_readme_markers_have_reasons(self) -> None:
        """Every not-run marker of the README gives a reason, and most shell blocks run."""
        sh = [b for b in blocks(README.read_text("utf-8")) if b.language == "sh"]
        self.assertTrue(all(b.not_run for b in sh if b.not_run is not None))
        self.assertGreaterEqual(len([b for b in sh if b.not_run is None]), 3)
        # A marker line before anything but an sh block would be a silent no-op.
        lines = README.read_text("utf-8").splitlines()
        markers = [line for line in lines if NOT_RUN.fullmatch(line.strip())]
        self.assertEqual(len(markers), len([b for b in sh if b.not_run]))


def _can_run() -> str | None:
    """Why the README cannot be run here, or ``None``."""
    bin_dir = Path(sys.prefix) / "bin"
    for tool in ("twistd", "smsgw"):
        if not (bin_dir / tool).exists():
            return f"{bin_dir / tool} is missing: run the tests from the project's virtualenv"
    for tool in ("bash", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


class ReadmeTests(SynchronousTestCase):
    """The README's sh blocks against a real gateway and simulator."""

    def setUp(self) -> None:
        why = _can_run()
        if why is not None:
            raise SkipTest(why)
        self.work = Path(tempfile.mkdtemp(prefix="smsgw-readme-"))
        self.addCleanup(shutil.rmtree, self.work, True)
        os.symlink(sys.prefix, self.work / ".venv")
        for name in LINKED:
            os.symlink(ROOT / name, self.work / name)
        self.sim_port, self.control_port, self.http_port = free_port(), free_port(), free_port()
        logs = self.work / "logs"
        logs.mkdir()
        self.sim = TwistProcess(
            "ismg-sim",
            [
                "--role=ismg-sim",
                f"--cmpp=tcp:{self.sim_port}:interface=127.0.0.1",
                f"--control=tcp:{self.control_port}:interface=127.0.0.1",
            ],
            str(logs / "ismg-sim.log"),
        )
        self.sp = TwistProcess(
            "sp",
            [
                "--role=sp",
                f"--upstream=cmpp://901234:123456@127.0.0.1:{self.sim_port}?src_id=1065012345",
                f"--http=tcp:{self.http_port}:interface=127.0.0.1",
                f"--db={self.work / 'smsgw.sqlite3'}",
            ],
            str(logs / "sp.log"),
        )
        for process in (self.sim, self.sp):
            self.addCleanup(process.stop)
        self.start(self.sim, self.control_port, lambda body: True)
        self.start(self.sp, self.http_port, lambda body: sum(body["links"].values()) > 0)

    def start(self, process: TwistProcess, port: int, ready: object) -> None:
        """Start *process* in the scratch folder and wait until /healthz says *ready*."""
        here = os.getcwd()
        os.chdir(self.work)
        try:
            process.start()
        finally:
            os.chdir(here)
        api = JsonHttp(f"http://127.0.0.1:{port}", timeout_s=5.0)
        self.addCleanup(api.close)

        def answered() -> bool:
            status, body = api.call("GET", "/healthz")
            return status == 200 and bool(ready(body))  # type: ignore[operator]

        try:
            process.wait_until(answered, "not ready", deadline_s=60.0)
        except BenchError as e:
            self.fail(str(e))

    def localised(self, text: str) -> str:
        """*text* with the README's ports replaced by the ones this test's processes use."""
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{self.http_port}")
        return text.replace("127.0.0.1:8081", f"127.0.0.1:{self.control_port}")

    def test_shell_blocks_run(self) -> None:
        """Every sh block not marked not-run exits 0, in README order."""
        env = dict(os.environ, SMSGW_URL=f"http://127.0.0.1:{self.http_port}", LC_ALL="C.UTF-8")
        env.pop("SMSGW_API_KEY", None)
        ran = 0
        for block in blocks(README.read_text("utf-8")):
            if block.language != "sh" or block.not_run is not None:
                continue
            script = PRELUDE + self.localised(block.text)
            try:
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", script],
                    cwd=self.work,
                    env=env,
                    capture_output=True,
                    timeout=BLOCK_TIMEOUT_S,
                    stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired:
                self.fail(f"README.md line {block.line}: still running after {BLOCK_TIMEOUT_S} s")
            ran += 1
            output = (done.stdout + done.stderr).decode("utf-8", "replace")
            self.assertEqual(
                done.returncode,
                0,
                f"README.md line {block.line}: the block exits {done.returncode}:\n"
                f"{block.text}\n--- output ---\n{output[-3000:]}\n--- sp log ---\n"
                f"{self.sp.log_tail(5)}",
            )
        self.assertGreaterEqual(ran, 3)
