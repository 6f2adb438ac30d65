#!/usr/bin/env python3
"""Mutation testing with cosmic-ray: ``./dev mutate [PATH ...]`` (docs/mutation.md).

Each module under the given paths (files or folders; by default
``smsgw/protocols``, ``smsgw/store`` and ``smsgw/sp``, which takes hours) is
mutated one small change at a time, and the module's own tests run against
each mutant: ``smsgw/a/b.py`` is tested by ``tests/a/test_b.py`` when it
exists, else by the whole ``tests/a`` package (``--tests`` overrides).  A
mutant the tests pass "survives"; the script prints the kill rate per module
and every survivor as a diff.

It never touches the working tree: the tracked files (uncommitted edits
included) and the built C accelerator are copied to a temporary folder,
which comes first on ``PYTHONPATH``, and cosmic-ray mutates the copy.  The
tests run in pure Python (``SMSGW_PURE_PYTHON=1``: the C accelerator is not
what is mutated) under the derandomised ``mutate`` hypothesis profile (25
examples a property), so a run is repeatable and quick.  cosmic-ray lives
in its own virtualenv, ``.venv/cosmic-ray``, made on first use.  Lines
marked ``# pragma: no mutate`` are skipped.  ``--budget-min`` bounds the
run: what was not run by then is reported as not run.

Run it with the project's interpreter (``./dev mutate`` does)::

    .venv/bin/python scripts/mutate.py smsgw/protocols/framing.py
    .venv/bin/python scripts/mutate.py smsgw/protocols/smgp/tlv.py --tests tests.protocols.smgp
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL_VENV = ROOT / ".venv" / "cosmic-ray"
TOOL_REQUIREMENT = "cosmic-ray >= 8.7, < 9"
DEFAULT_PATHS = ("smsgw/protocols", "smsgw/store", "smsgw/sp")


def tool(name: str) -> str:
    """The path of cosmic-ray's *name* command, installing cosmic-ray on first use."""
    exe = TOOL_VENV / "bin" / name
    if not exe.exists():
        print(f"mutate: installing {TOOL_REQUIREMENT} into {TOOL_VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(TOOL_VENV)], check=True)
        pip = [str(TOOL_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, TOOL_REQUIREMENT], check=True)
    return str(exe)


def modules(paths: list[str]) -> list[Path]:
    """The ``.py`` files under *paths*, relative to the repository, ``__init__`` excluded."""
    found: list[Path] = []
    for arg in paths:
        path = (ROOT / arg).resolve()
        if not path.exists():
            sys.exit(f"mutate: no such file or folder: {arg}")
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found.extend(f.relative_to(ROOT) for f in files if f.name != "__init__.py")
    return found


def tests_for(module: Path) -> str:
    """The trial name of *module*'s tests: its mirror module, else its package's tests."""
    parts = module.with_suffix("").parts[1:]  # without "smsgw"
    mirror = ROOT.joinpath("tests", *parts[:-1], f"test_{parts[-1]}.py")
    if mirror.exists():
        return ".".join(("tests", *parts[:-1], f"test_{parts[-1]}"))
    for depth in range(len(parts) - 1, 0, -1):
        if ROOT.joinpath("tests", *parts[:depth], "__init__.py").exists():
            return ".".join(("tests", *parts[:depth]))
    return "tests"


def copy_tree(target: Path) -> None:
    """The tracked files as they are on disk, plus the built accelerator, into *target*."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    built = [str(p.relative_to(ROOT)) for p in (ROOT / "smsgw" / "protocols").glob("_wire*.so")]
    for name in [*listed, *built]:
        source = ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_module(
    module: Path, tests: str, copy: Path, env: dict[str, str], work: Path, deadline: float
) -> dict:
    """Mutate *module* in *copy*, running *tests* for each mutant; its counts and survivors.

    At *deadline* (``time.monotonic()``) the run stops; the mutants not run yet
    are counted as ``not run`` and the result says ``stopped``.
    """
    trial = f"{sys.executable} -m twisted.trial --temp-directory {work / '_trial_temp'} {tests}"
    started = time.monotonic()
    baseline = subprocess.run(trial.split(), cwd=copy, env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    if baseline.returncode != 0:
        print(baseline.stdout[-3000:], file=sys.stderr)
        sys.exit(f"mutate: {tests} fails before any mutation; fix that first")
    timeout = max(30.0, 5 * took)
    name = str(module).replace("/", ".").removesuffix(".py")
    config = work / f"{name}.toml"
    session = work / f"{name}.sqlite"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f'test-command = "{trial}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    subprocess.run([tool("cosmic-ray"), "init", str(config), str(session)], cwd=copy, check=True)
    subprocess.run([tool("cr-filter-pragma"), str(session)], cwd=copy, check=True)
    print(f"mutate: {module}: tests {tests} ({took:.1f} s a run, timeout {timeout:.0f} s)")
    runner = subprocess.Popen(
        [tool("cosmic-ray"), "exec", str(config), str(session)],
        cwd=copy, env=env, start_new_session=True,
    )  # fmt: skip
    stopped = False
    try:
        runner.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
        stopped = True
    dump = subprocess.run(
        [tool("cosmic-ray"), "dump", str(session)],
        cwd=copy, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    counts = {"killed": 0, "survived": 0, "skipped": 0, "incompetent": 0, "not run": 0}
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            counts["not run"] += 1
            continue
        if result.get("worker_outcome") == "skipped":
            counts["skipped"] += 1
            continue
        outcome = result.get("test_outcome") or "incompetent"
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "survived":
            [mutation] = item["mutations"]
            survivors.append(
                {
                    "where": f"{mutation['module_path']}:{mutation['start_pos'][0]}",
                    "operator": mutation["operator_name"],
                    "diff": result.get("diff") or "",
                }
            )
    return {"module": str(module), "tests": tests, "stopped": stopped, **counts,
            "survivors": survivors}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS),
                        help="modules or folders to mutate (default: %(default)s)")  # fmt: skip
    parser.add_argument("--tests", help="the trial test name(s) to run, for every module")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--budget-min", type=float, default=30.0,
                        help="stop after this many minutes (default %(default)s)")  # fmt: skip
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="smsgw-mutate-"))
    copy = work / "tree"
    copy_tree(copy)
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "SMSGW_PURE_PYTHON": "1",
        "HYPOTHESIS_PROFILE": "mutate",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import smsgw; print(smsgw.__file__)"],
        cwd=copy, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not where.startswith(str(copy)):
        sys.exit(f"mutate: the copy is not what Python imports ({where})")
    results = []
    deadline = time.monotonic() + 60 * args.budget_min
    try:
        for module in modules(args.paths):
            tests = args.tests or tests_for(module)
            results.append(run_module(module, tests, copy, env, work, deadline))
            if results[-1]["stopped"]:
                # cosmic-ray was stopped mid-mutant: the copy may still hold it.
                print(f"mutate: budget of {args.budget_min} min spent; stopping", file=sys.stderr)
                break
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    total_killed = total_survived = 0
    for r in results:
        for s in r["survivors"]:
            print(f"SURVIVED {s['where']} {s['operator']}\n{s['diff']}")
    for r in results:
        judged = r["killed"] + r["survived"]
        rate = 100.0 * r["killed"] / judged if judged else 100.0
        total_killed += r["killed"]
        total_survived += r["survived"]
        print(
            f"{r['module']}: {r['killed']} killed, {r['survived']} survived ({rate:.1f} %),"
            f" {r['incompetent']} incompetent, {r['skipped']} skipped, {r['not run']} not run;"
            f" tests {r['tests']}"
        )
    judged = total_killed + total_survived
    if judged:
        print(f"total: {total_killed}/{judged} killed ({100.0 * total_killed / judged:.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
