"""Embedded provd start-up and phone boot figures.

    python bench/bench_embedded.py [--phones 1000] [--threads 8]

Prints: provd ready time (median of 20 starts, REST + HTTP + TFTP listening), then the time
for N emulated Snom phones to DHCP-boot and get configured against one provd (sample family
wazo-snom-10.1.215.13), with per-phone p50/p99 and lost/half-provisioned counts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import tempfile
import time
from pathlib import Path

from emulators.dhcp import DhcpConfig, DhcpServer
from emulators.snom import SnomPhone
from pytest_provd import tree
from pytest_provd.client import ProvdClient
from pytest_provd.embedded.plugin_rawconfig import sample_raw_config
from pytest_provd.embedded.server import EmbeddedProvd

ROOT = Path(__file__).resolve().parents[1]


def ready_time(runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        provd = EmbeddedProvd().start()
        times.append(time.perf_counter() - start)
        provd.close()
    return statistics.median(times)


def boot_many(count: int, threads: int) -> None:
    target = tree.discover(ROOT / "tests/data/current/plugins").targets["wazo-snom-10.1.215.13"]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedProvd() as provd:
        provd.install_plugin_dir(tree.build(target, Path(tmp)))
        client = ProvdClient(provd.rest_url)
        lines = sample_raw_config()["sip_lines"]
        macs = [
            f"00:04:13:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" for n in range(count)
        ]
        for n, mac in enumerate(macs):
            lines["1"]["username"] = f"user{n}"
            config = client.add_config({"parent_ids": ["base"], "raw_config": {"sip_lines": lines}})
            client.add_device({"mac": mac, "config": config})
        config_dir = ROOT / "emulators/data/dhcpd-sample.conf"
        with DhcpServer(
            DhcpConfig.parse(config_dir), http_url=provd.http_url, provd_url=provd.rest_url
        ) as dhcp:
            durations: list[float] = []

            def boot(n: int) -> tuple[int, bool]:
                phone = SnomPhone("D785", macs[n], version="10.1.215.13", dhcp_server=dhcp.address)
                start = time.perf_counter()
                state = phone.boot()
                durations.append(time.perf_counter() - start)
                line = state.lines.get(1)
                return n, bool(line and line.username == f"user{n}" and 2 in state.lines)

            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(boot, range(count)))
            wall = time.perf_counter() - start
        ok = sum(1 for _, good in results if good)
        devices = client.devices()
        configured = sum(1 for d in devices if d.get("configured"))
    durations.sort()
    p50 = durations[len(durations) // 2]
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
    print(
        f"{count} phones, {threads} threads: wall {wall:.2f} s, {wall / count * 1000:.1f} ms/phone"
    )
    print(f"  per-phone DHCP->configured p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(
        f"  fully provisioned {ok}/{count}; provd devices {len(devices)}, configured {configured}"
    )
    print(f"  lost or half-provisioned: {count - ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    opts = parser.parse_args()
    print(f"embedded provd ready: {ready_time() * 1000:.1f} ms (median of 20)")
    boot_many(1, 1)
    boot_many(100, opts.threads)
    boot_many(opts.phones, opts.threads)


if __name__ == "__main__":
    main()
