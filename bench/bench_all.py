"""Every figure of the performance table beside its goal, in one run (median of --runs).

    python bench/bench_all.py --plugins-repo /path/to/wazo-provd-plugins \\
        [--real-python /path/to/venv-with-wazo-provd/bin/python] [--runs 3] [--skip P2,real]

Rows (``--skip`` takes their keys, comma separated):

- ``bare``: ``python -m pytest --version`` (the floor);
- ``P1``: all tiers of one target (``--target``), warm build cache; goal 10x the floor;
- ``P2``: ``--provd-plugin all -n 2``, all tiers; goal 40 s;
- ``static``: ``--provd-plugin all -m provd_static``, warm; goal 4 s;
- ``cold``: every target built into an empty build cache, beside the repository's own
  builder (``plugins/pgbuild.py --build``) with rsync, or with our rsync shim when rsync is
  not installed (said in the row);
- ``phone``: one phone, DHCP to configured (median of 20 single boots); goal 10 ms;
- ``load``: ``--phones`` phones on one embedded provd: throughput and p99; goal 200/s and
  250 ms;
- ``real``: the same load against ``--provd-backend real`` with ``--real-python``; goal:
  embedded at least twice its throughput.

Each pytest figure is the wall time of a fresh process, start-up included.  ``--pythonpath
DIR`` runs every figure with another checkout of pytest-provd first on the path (the
figures before a change).  Nothing here asserts a time: it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_TIMEOUT_S = 3600


_TEMPROOT = tempfile.mkdtemp(prefix="bench-temproot-")


def _env(pythonpath: str | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # pytest deletes its older numbered temp dirs at the end of a run (xdist's controller
    # makes one): a private root keeps other pytest runs' leftovers out of the figures.
    env["PYTEST_DEBUG_TEMPROOT"] = _TEMPROOT
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Wall time of *argv* and its last output line."""
    began = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    wall = time.perf_counter() - began
    lines = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    return wall, lines[-1] if lines else f"(no output, exit {proc.returncode})"


def median_of(runs: int, once: Callable[[], tuple[float, str]]) -> tuple[float, str, list[float]]:
    """Median wall time of *runs* calls, the last call's output line, every time."""
    results = [once() for _ in range(runs)]
    times = [t for t, _ in results]
    return statistics.median(times), results[-1][1], times


def pytest_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


_COLD_BUILD = """
import sys, time
from pathlib import Path
from pytest_provd import tree
found = tree.discover(Path(sys.argv[1]))
targets = list(found.targets.values())
began = time.perf_counter()
# Asked of the checkout measured (an editable install could lend a module it lacks).
if Path(tree.__file__).with_name("batch.py").is_file():
    from pytest_provd.tree.batch import build_all
    build_all(targets)
else:  # a checkout from before batch builds
    [tree.build_cached(t) for t in targets]
print(f"{len(targets)} targets in {time.perf_counter() - began:.2f} s")
"""


def cold_builds(opts: argparse.Namespace) -> tuple[float, str, float | None, str]:
    """Median wall of building every target into an empty cache, and of pgbuild."""
    plugins = opts.plugins_repo / "plugins"

    def ours() -> tuple[float, str]:
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as cache:
            env = _env(opts.pythonpath, PYTEST_PROVD_CACHE=cache)
            return timed([sys.executable, "-c", _COLD_BUILD, str(plugins)], ROOT, env)

    ours_s, ours_line, _ = median_of(opts.runs, ours)
    pgbuild = plugins / "pgbuild.py"
    if not pgbuild.is_file():
        return ours_s, ours_line, None, "no plugins/pgbuild.py"
    env = _env(None)
    how = "real rsync"
    if shutil.which("rsync") is None:
        from pytest_provd import tree  # our rsync shim, as the gate's builds use it

        env["PATH"] = os.pathsep.join([*tree.tool_path_prefix(), env.get("PATH", "")])
        how = "rsync not installed: with our rsync shim"

    def upstream() -> tuple[float, str]:
        with tempfile.TemporaryDirectory(prefix="bench-pgbuild-") as dest:
            argv = [sys.executable, str(pgbuild), "--build", "--source", ".", "--destination", dest]
            return timed(argv, plugins, env)

    up_s, _, _ = median_of(opts.runs, upstream)
    return ours_s, ours_line, up_s, how


def phones(opts: argparse.Namespace, python: str, *args: str) -> dict[str, Any]:
    """bench_phones.py's figures (the median run of --runs by throughput or p50)."""
    script = str(ROOT / "bench" / "bench_phones.py")
    found = []
    for _ in range(opts.runs):
        proc = subprocess.run(
            [python, script, *args],
            env=_env(opts.pythonpath),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
        try:
            found.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (IndexError, ValueError):
            return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    if "unavailable" in found[0]:
        return found[0]
    key = "p50_ms" if "--single" in args else "phones_per_s"
    found.sort(key=lambda f: f[key])
    return dict(found[len(found) // 2])


def row(name: str, figure: str, goal: str, met: bool | None, note: str = "") -> None:
    verdict = {True: "met", False: "NOT met", None: "-"}[met]
    print(f"{name:<8} {figure:<34} {goal:<30} {verdict:<8} {note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--plugins-repo", type=Path, required=True)
    parser.add_argument("--target", default="wazo-snom-10.1.215.13")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated row keys")
    parser.add_argument("--real-python", default=None, help="an interpreter with wazo_provd")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pythonpath", default=None, help="another pytest-provd checkout")
    opts = parser.parse_args()
    skip = set(filter(None, opts.skip.split(",")))
    repo = opts.plugins_repo.resolve()
    env = _env(opts.pythonpath)
    print(f"median of {opts.runs}; load average {os.getloadavg()[0]:.2f} at start; cwd {repo}")
    print(f"{'row':<8} {'figure':<34} {'goal':<30} {'verdict':<8} note")
    bare, _, _ = median_of(
        opts.runs, lambda: timed([sys.executable, "-m", "pytest", "--version"], repo, env)
    )
    row("bare", f"{bare:.3f} s", "(the floor)", None)
    if "P1" not in skip:
        args = pytest_argv(f"--provd-plugin={opts.target}")
        timed(args, repo, env)  # warms the build cache and the memo
        p1, last, times = median_of(opts.runs, lambda: timed(args, repo, env))
        ratio = p1 / bare
        row("P1", f"{p1:.2f} s = {ratio:.1f}x bare", "<= 10x bare", ratio <= 10, f"{last}; {times}")
    if "P2" not in skip:
        args = pytest_argv("--provd-plugin=all", "-n", "2")
        p2, last, times = median_of(opts.runs, lambda: timed(args, repo, env))
        row("P2", f"{p2:.1f} s", "<= 40 s", p2 <= 40, f"{last}; {times}")
    if "static" not in skip:
        args = pytest_argv("--provd-plugin=all", "-m", "provd_static")
        timed(args, repo, env)
        static, last, times = median_of(opts.runs, lambda: timed(args, repo, env))
        row("static", f"{static:.2f} s", "<= 4 s warm", static <= 4, f"{last}; {times}")
    if "cold" not in skip:
        ours, line, upstream, how = cold_builds(opts)
        goal = f"<= pgbuild ({upstream:.2f} s)" if upstream is not None else "<= pgbuild"
        met = None if upstream is None else ours <= upstream
        row("cold", f"{ours:.2f} s ({line})", goal, met, how)
    if "phone" not in skip:
        one = phones(opts, sys.executable, "--backend", "embedded", "--single", "20")
        if "p50_ms" in one:
            row("phone", f"{one['p50_ms']:.1f} ms (median of 20)", "<= 10 ms", one["p50_ms"] <= 10)
        else:
            row("phone", "-", "<= 10 ms", None, str(one))
    load: dict[str, Any] = {}
    counts = ["--phones", str(opts.phones), "--threads", str(opts.threads)]
    if "load" not in skip:
        load = phones(opts, sys.executable, "--backend", "embedded", *counts)
        if "phones_per_s" in load:
            met = load["phones_per_s"] >= 200 and load["p99_ms"] <= 250
            figure = f"{load['phones_per_s']:.0f}/s, p99 {load['p99_ms']:.0f} ms"
            note = (
                f"{load['provisioned']}/{load['phones']} provisioned, wall {load['wall_s']:.1f} s"
            )
            row("load", figure, ">= 200/s, p99 <= 250 ms", met, note)
        else:
            row("load", "-", ">= 200/s, p99 <= 250 ms", None, str(load))
    if "real" not in skip:
        if opts.real_python is None:
            row("real", "-", ">= 2x real's throughput", None, "no --real-python")
        else:
            real = phones(opts, opts.real_python, "--backend", "real", *counts)
            if "phones_per_s" in real and "phones_per_s" in load:
                ratio = load["phones_per_s"] / real["phones_per_s"]
                figure = f"real {real['phones_per_s']:.0f}/s, p99 {real['p99_ms']:.0f} ms"
                done = f"{real['provisioned']}/{real['phones']}"
                note = f"embedded/real {ratio:.2f}x; {done} provisioned"
                row("real", figure, ">= 2x real's throughput", ratio >= 2, note)
            else:
                row("real", "-", ">= 2x real's throughput", None, str(real))
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    shutil.rmtree(_TEMPROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
