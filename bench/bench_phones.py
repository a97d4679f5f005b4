"""Emulated Snom phones DHCP-booting against one provd of a backend; JSON figures on stdout.

    python bench/bench_phones.py --backend embedded --phones 1000 --threads 8
    /path/to/venv-with-wazo-provd/bin/python bench/bench_phones.py --backend real --phones 1000

The same load for every backend: one provd (``--provd-backend`` NAME's), our sample family's
wazo-snom-10.1.215.13 installed, one config and one device per phone created first, then
*phones* D785 phones booted by a pool of *threads* (DHCP, then every file they fetch; no
firmware installed, so the upgrade ends on a 404 for every backend alike).  A phone counts as
provisioned when it ends with line 1 its own user and line 2.  ``--single N`` instead boots N
phones one after the other and gives the median of their DHCP-to-configured times.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after PYTHONPATH: bench_all --pythonpath measures another checkout

SAMPLE = ROOT / "tests/data/current/plugins"
TARGET = "wazo-snom-10.1.215.13"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run(backend_name: str, phones: int, threads: int, single: int) -> dict[str, Any]:
    """Boot the phones; the figures."""
    from emulators.dhcp import DhcpConfig, DhcpServer
    from emulators.snom import SnomPhone
    from pytest_provd import backends, tree
    from pytest_provd.backends.base import BackendUnavailable
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    count = single or phones
    target = tree.discover(SAMPLE).targets[TARGET]
    with tempfile.TemporaryDirectory(prefix="bench-phones-") as tmp:
        backend = backends.make_backend(backend_name, Path(tmp) / "state")
        try:
            endpoints = backend.start()
        except BackendUnavailable as exc:
            return {"backend": backend_name, "unavailable": str(exc)}
        try:
            driver = backend.driver()
            plugin_id = backend.install_plugin(tree.build(target, Path(tmp) / "built"))
            lines = sample_raw_config()["sip_lines"]
            macs = [
                f"00:04:13:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
                for n in range(count)
            ]
            for n, mac in enumerate(macs):
                lines["1"]["username"] = f"user{n}"
                config = driver.add_config(
                    {"parent_ids": ["base"], "raw_config": {"sip_lines": lines}}
                )
                driver.add_device({"mac": mac, "config": config, "plugin": plugin_id})
            dhcp = DhcpServer(
                DhcpConfig.parse(ROOT / "emulators/data/dhcpd-sample.conf"),
                http_url=endpoints.http_url,
                provd_url=endpoints.rest_url or None,
                provd_token=endpoints.token,
                on_commit=backend.dhcp_hook(),
            ).start()
            durations: list[float] = []

            def boot(n: int) -> bool:
                phone = SnomPhone("D785", macs[n], version="10.1.215.13", dhcp_server=dhcp.address)
                began = time.perf_counter()
                try:
                    state = phone.boot()
                finally:
                    phone.close()
                durations.append(time.perf_counter() - began)
                line = state.lines.get(1)
                return bool(line and line.username == f"user{n}" and 2 in state.lines)

            began = time.perf_counter()
            if single:
                results = [boot(n) for n in range(count)]
            else:
                with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                    results = list(pool.map(boot, range(count)))
            wall = time.perf_counter() - began
            dhcp.close()
        finally:
            backend.close()
    return {
        "backend": backend_name,
        "phones": count,
        "threads": 1 if single else threads,
        "wall_s": wall,
        "phones_per_s": count / wall,
        "p50_ms": statistics.median(durations) * 1000,
        "p99_ms": _percentile(durations, 0.99) * 1000,
        "provisioned": sum(results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="embedded", choices=["embedded", "real"])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--single", type=int, default=0, help="boot N phones one at a time")
    opts = parser.parse_args()
    print(json.dumps(run(opts.backend, opts.phones, opts.threads, opts.single)))


if __name__ == "__main__":
    main()
