"""Embedded provd start-up and phone boot figures.

    python bench/bench_embedded.py [--runs 20] [--phones 1000] [--threads 8] [--ready-only]

Prints the provd ready time (median of N starts: REST + HTTP + TFTP listening, default
configs loaded), the close time, then the time for emulated Snom phones to DHCP-boot and get
configured against one provd (sample family wazo-snom-10.1.215.13): per-phone p50/p99 and
lost or half-provisioned counts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_provd.client import ProvdClient  # noqa: E402
from pytest_provd.provd import EmbeddedProvd  # noqa: E402


def cold_start() -> float:
    """The first start in this process (imports of aiohttp, twisted, plugin code included)."""
    began = time.perf_counter()
    with EmbeddedProvd() as provd:
        ProvdClient(provd.rest_url).status()
        return time.perf_counter() - began


def ready_time(runs: int) -> tuple[float, float]:
    """Median start and close times over *runs* instances (each answers a REST call)."""
    starts, closes = [], []
    for _ in range(runs):
        began = time.perf_counter()
        provd = EmbeddedProvd().start()
        ProvdClient(provd.rest_url).status()
        starts.append(time.perf_counter() - began)
        began = time.perf_counter()
        provd.close()
        closes.append(time.perf_counter() - began)
    return statistics.median(starts), statistics.median(closes)


def boot_many(count: int, threads: int) -> None:
    from emulators.dhcp import DhcpConfig, DhcpServer
    from emulators.snom import SnomPhone
    from pytest_provd import tree
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    target = tree.discover(ROOT / "tests/data/current/plugins").targets["wazo-snom-10.1.215.13"]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedProvd() as provd:
        provd.install_plugin_from_tree(tree.build(target, Path(tmp)))
        client = ProvdClient(provd.rest_url)
        lines = sample_raw_config()["sip_lines"]
        macs = [
            f"00:04:13:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" for n in range(count)
        ]
        for n, mac in enumerate(macs):
            lines["1"]["username"] = f"user{n}"
            config = client.add_config({"parent_ids": ["base"], "raw_config": {"sip_lines": lines}})
            client.add_device({"mac": mac, "config": config})
        with DhcpServer(
            DhcpConfig.parse(ROOT / "emulators/data/dhcpd-sample.conf"),
            http_url=provd.http_url,
            provd_url=provd.rest_url,
        ) as dhcp:
            durations: list[float] = []

            def boot(n: int) -> bool:
                phone = SnomPhone("D785", macs[n], version="10.1.215.13", dhcp_server=dhcp.address)
                began = time.perf_counter()
                state = phone.boot()
                durations.append(time.perf_counter() - began)
                line = state.lines.get(1)
                return bool(line and line.username == f"user{n}" and 2 in state.lines)

            began = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(boot, range(count)))
            wall = time.perf_counter() - began
        ok = sum(results)
        configured = sum(1 for d in client.devices() if d.get("configured"))
    durations.sort()
    p50 = durations[len(durations) // 2]
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
    print(
        f"{count} phones, {threads} threads: wall {wall:.2f} s, {wall / count * 1000:.1f} ms/phone"
    )
    print(f"  per-phone DHCP->configured p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(f"  fully provisioned {ok}/{count}; configured devices {configured}; lost {count - ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ready-only", action="store_true")
    opts = parser.parse_args()
    print(f"embedded provd cold start: {cold_start() * 1000:.1f} ms")
    ready, close = ready_time(opts.runs)
    print(
        f"embedded provd ready: {ready * 1000:.1f} ms, close {close * 1000:.1f} ms "
        f"(median of {opts.runs})"
    )
    if opts.ready_only:
        return
    boot_many(1, 1)
    boot_many(100, opts.threads)
    boot_many(opts.phones, opts.threads)


if __name__ == "__main__":
    main()
