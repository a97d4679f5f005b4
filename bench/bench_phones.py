"""Emulated Snom phones DHCP-booting against one provd of a backend; JSON figures on stdout.

    python bench/bench_phones.py --backend embedded --phones 1000 --threads 8
    /path/to/venv-with-wazo-provd/bin/python bench/bench_phones.py --backend real --phones 1000

The same load for every backend: one provd (``--provd-backend`` NAME's), our sample family's
wazo-snom-10.1.215.13 installed, one config and one device per phone created first, then
*phones* D785 phones booted by *threads* concurrent boots (DHCP, then every file they fetch;
no firmware installed, so the upgrade ends on a 404 for every backend alike).  A phone counts
as provisioned when it ends with line 1 its own user and line 2.  ``--single N`` instead boots
N phones one after the other and gives the median of their DHCP-to-configured times.

The phones (the load generator) run in *workers* separate processes, the threads shared out
among them; provd and the DHCP server stay in this one.  That is how a real deployment is
loaded: phones are other machines, and provd does not share its interpreter (its GIL) or
its core with them.  The clock starts once every worker has imported the emulators;
``server_cpu_ms_per_phone`` is this process's CPU time (provd and the DHCP server) per phone,
``phones_cpu_ms_per_phone`` the workers' while booting phones.

provd's state (installed plugin, the files ``configure`` renders) lives under *state_root*,
by default tmpfs (``/dev/shm``) when there is one, for every backend alike: on a disk each
rendered file's atomic replace (rename over the old file) costs a journal flush that varies
with whatever else the host writes, which is not provd's work.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after PYTHONPATH: bench_all --pythonpath measures another checkout

SAMPLE = ROOT / "tests/data/current/plugins"
TARGET = "wazo-snom-10.1.215.13"
WORKER_TIMEOUT_S = 600.0
TMPFS = Path("/dev/shm")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _mac(n: int) -> str:
    return f"00:04:13:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"


def _boot(dhcp: tuple[str, int], n: int) -> tuple[int, float, bool]:
    """Boot phone *n*: ``(n, seconds, provisioned)``."""
    from emulators.snom import SnomPhone

    phone = SnomPhone("D785", _mac(n), version="10.1.215.13", dhcp_server=dhcp)
    began = time.perf_counter()
    try:
        state = phone.boot()
    finally:
        phone.close()
    seconds = time.perf_counter() - began
    line = state.lines.get(1)
    return n, seconds, bool(line and line.username == f"user{n}" and 2 in state.lines)


def _worker(conn: Connection) -> None:
    """A load-generating process: imports first, then boots the phones it is handed."""
    import emulators.snom  # noqa: F401  (imported before the clock starts)

    conn.send("ready")
    dhcp, numbers, threads = conn.recv()
    began = _cpu_seconds()
    if threads == 1:
        results = [_boot(dhcp, n) for n in numbers]
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(lambda n: _boot(dhcp, n), numbers))
    conn.send((results, _cpu_seconds() - began))
    conn.close()


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _load(
    dhcp: tuple[str, int], count: int, threads: int, workers: int
) -> tuple[float, float, float, list[tuple[int, float, bool]]]:
    """Boot phones 0..count-1 from *workers* processes sharing *threads* concurrent boots;
    ``(wall seconds, this process's CPU seconds, the workers' while booting, [(n, seconds,
    provisioned)...])``."""
    context = multiprocessing.get_context("spawn")
    workers = max(1, min(workers, threads, count))
    pipes = []
    procs = []
    for _ in range(workers):
        here, there = context.Pipe()
        proc = context.Process(target=_worker, args=(there,), daemon=True)
        proc.start()
        there.close()
        pipes.append(here)
        procs.append(proc)
    try:
        for conn in pipes:
            if not conn.poll(WORKER_TIMEOUT_S) or conn.recv() != "ready":
                raise RuntimeError("a phone worker did not start")
        began = time.perf_counter()
        cpu = _cpu_seconds()
        for w, conn in enumerate(pipes):
            share = threads // workers + (1 if w < threads % workers else 0)
            conn.send((dhcp, list(range(w, count, workers)), share))
        results: list[tuple[int, float, bool]] = []
        phones_cpu = 0.0
        for conn in pipes:
            if not conn.poll(WORKER_TIMEOUT_S):
                raise RuntimeError(f"a phone worker gave no answer in {WORKER_TIMEOUT_S:g} s")
            booted, seconds = conn.recv()
            results.extend(booted)
            phones_cpu += seconds
        wall = time.perf_counter() - began
        cpu = _cpu_seconds() - cpu
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
    return wall, cpu, phones_cpu, sorted(results)


def default_state_root() -> Path | None:
    """tmpfs when there is a writable one, else None (the system's temporary directory)."""
    return TMPFS if TMPFS.is_dir() and os.access(TMPFS, os.W_OK) else None


def run(
    backend_name: str,
    phones: int,
    threads: int,
    single: int,
    workers: int,
    state_root: Path | None = None,
) -> dict[str, Any]:
    """Boot the phones; the figures."""
    from emulators.dhcp import DhcpConfig, DhcpServer
    from pytest_provd import backends, tree
    from pytest_provd.backends.base import BackendUnavailable
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    count = single or phones
    threads = 1 if single else threads
    target = tree.discover(SAMPLE).targets[TARGET]
    with tempfile.TemporaryDirectory(prefix="bench-phones-", dir=state_root) as tmp:
        backend = backends.make_backend(backend_name, Path(tmp) / "state")
        try:
            endpoints = backend.start()
        except BackendUnavailable as exc:
            return {"backend": backend_name, "unavailable": str(exc)}
        try:
            driver = backend.driver()
            plugin_id = backend.install_plugin(tree.build(target, Path(tmp) / "built"))
            lines = sample_raw_config()["sip_lines"]
            for n in range(count):
                lines["1"]["username"] = f"user{n}"
                config = driver.add_config(
                    {"parent_ids": ["base"], "raw_config": {"sip_lines": lines}}
                )
                driver.add_device({"mac": _mac(n), "config": config, "plugin": plugin_id})
            dhcp = DhcpServer(
                DhcpConfig.parse(ROOT / "emulators/data/dhcpd-sample.conf"),
                http_url=endpoints.http_url,
                provd_url=endpoints.rest_url or None,
                provd_token=endpoints.token,
                on_commit=backend.dhcp_hook(),
            ).start()
            try:
                wall, cpu, phones_cpu, results = _load(dhcp.address, count, threads, workers)
            finally:
                dhcp.close()
        finally:
            backend.close()
    durations = [seconds for _, seconds, _ in results]
    return {
        "backend": backend_name,
        "phones": count,
        "threads": threads,
        "workers": max(1, min(workers, threads, count)),
        "wall_s": wall,
        "phones_per_s": count / wall,
        "p50_ms": statistics.median(durations) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
        "server_cpu_ms_per_phone": cpu / count * 1000,
        "phones_cpu_ms_per_phone": phones_cpu / count * 1000,
        "provisioned": sum(ok for _, _, ok in results),
        "state_root": str(state_root or tempfile.gettempdir()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", default="embedded", choices=["embedded", "real"])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8, help="phones booting at once")
    parser.add_argument("--workers", type=int, default=4, help="processes booting phones")
    parser.add_argument("--single", type=int, default=0, help="boot N phones one at a time")
    parser.add_argument(
        "--state-root",
        type=Path,
        default=default_state_root(),
        help="where provd's state goes (default: /dev/shm when writable, else the temp dir)",
    )
    opts = parser.parse_args()
    figures = run(
        opts.backend, opts.phones, opts.threads, opts.single, opts.workers, opts.state_root
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
