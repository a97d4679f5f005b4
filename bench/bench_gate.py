"""Measure the gate end to end and print a table.

    python bench/bench_gate.py --plugins-dir /path/to/wazo-provd-plugins/plugins

P1: one target (default wazo-snom-10.1.215.13), all tiers, warm build cache.
P2: every target with ``-n 2`` (pytest-xdist), warm build cache.
S:  the static tier only (``-m provd_static``) for every target, single process.
Each figure is the wall time of a fresh ``pytest`` process, so start-up is included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def run(args: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    elapsed = time.perf_counter() - start
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return elapsed, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugins-dir", required=True, type=Path)
    parser.add_argument("--target", default="wazo-snom-10.1.215.13")
    parser.add_argument("--skip", action="append", default=[], help="P1, P2 or S")
    opts = parser.parse_args()
    cwd = Path.cwd()
    base = [f"--provd-plugins-dir={opts.plugins_dir}"]
    cases = {
        "S": ("static tier, all targets", [*base, "--provd-plugin=all", "-m", "provd_static"]),
        "P1": (f"{opts.target}, all tiers", [*base, f"--provd-plugin={opts.target}"]),
        "P2": ("all targets, all tiers, -n 2", [*base, "--provd-plugin=all", "-n", "2"]),
    }
    # Warm the build cache first so the figures measure the gate, not the first build.
    run([*base, "--provd-plugin=all", "-m", "provd_static", "-k", "build"], cwd)
    print(f"{'case':<4} {'what':<34} {'seconds':>8}  result")
    for name, (what, args) in cases.items():
        if name in opts.skip:
            continue
        elapsed, last = run(args, cwd)
        print(f"{name:<4} {what:<34} {elapsed:8.2f}  {last}")


if __name__ == "__main__":
    main()
