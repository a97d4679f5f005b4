"""What the harness keeps to pay for expensive steps once gives the same answers as working
them out again (no timing here: bench/ measures)."""

from __future__ import annotations

import importlib
import ipaddress
import os
import random
from pathlib import Path

import pytest

from emulators.dhcp import server as dhcp_server
from pytest_provd.tree import memo
from pytest_provd.tree.model import Family

# The module, not the function tree/__init__ hands on under the same name.
build_mod = importlib.import_module("pytest_provd.tree.build")


@pytest.mark.parametrize(
    "network",
    ["127.1.0.0/16", "10.0.0.0/29", "10.0.0.0/30", "10.0.0.0/31", "10.0.0.1/32", "fe80::/120"],
)
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_lease_order_is_that_of_listing_the_hosts(network: str, seed: int) -> None:
    net = ipaddress.ip_network(network)
    random.seed(seed)
    hosts = list(net.hosts())
    start = random.randrange(len(hosts)) if hosts else 0
    listed = [str(h) for h in hosts[start:] + hosts[:start]]
    after_listed = random.random()
    random.seed(seed)
    found = dhcp_server._hosts_from(net)
    # The draw happens when the server is made, not at the first lease.
    assert random.random() == after_listed
    assert list(found) == listed


def test_dhcp_server_closes_without_waiting_for_its_receive_timeout() -> None:
    server = dhcp_server.DhcpServer().start()
    thread = server._thread
    assert thread is not None
    server.close()
    assert not thread.is_alive()
    assert server.stats["received"] == 0  # the wake-up datagram is not counted


def test_remembered_computes_once_per_key_and_shares_through_the_cache(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, list[int]]:
        calls.append(1)
        return {"refs": [len(calls)]}

    key = memo.content_key("jinja2", "x", "{% if a %}b{% endif %}")
    assert memo.remembered("t-test", key, compute, cache_dir=tmp_path) == {"refs": [1]}
    assert memo.remembered("t-test", key, compute, cache_dir=tmp_path) == {"refs": [1]}
    memo._MEMORY.clear()  # another process: read from the cache, not computed
    assert memo.remembered("t-test", key, compute, cache_dir=tmp_path) == {"refs": [1]}
    assert len(calls) == 1
    other = memo.content_key("jinja2", "x", "{% if a %}c{% endif %}")
    assert memo.remembered("t-test", other, compute, cache_dir=tmp_path) == {"refs": [2]}
    assert memo.content_key("ab", "c") != memo.content_key("a", "bc")


def test_a_corrupt_memo_entry_is_computed_again(tmp_path: Path) -> None:
    key = memo.content_key("k")
    path = tmp_path / "memo" / "t-bad" / key[:2] / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    memo._MEMORY.clear()
    assert memo.remembered("t-bad", key, lambda: [1, 2], cache_dir=tmp_path) == [1, 2]
    memo._MEMORY.clear()
    assert memo.remembered("t-bad", key, lambda: [3], cache_dir=tmp_path) == [1, 2]


def test_family_digest_follows_content_changes_it_remembered(tmp_path: Path) -> None:
    family_dir = tmp_path / "wazo_x"
    family_dir.mkdir()
    (family_dir / "build.py").write_text("# build\n")
    data = family_dir / "common.txt"
    data.write_text("one")
    family = Family(name="wazo_x", path=family_dir, layout="current")
    first = build_mod.family_digest(family)
    assert build_mod.family_digest(family) == first
    data.write_text("two")  # same size, maybe the same mtime: within the racy second
    second = build_mod.family_digest(family)
    assert second != first
    old = data.stat().st_mtime_ns - 5_000_000_000
    os.utime(data, ns=(old, old))  # settled: hashed from the memo now
    build_mod._HASHED.clear()
    assert build_mod.family_digest(family) == second
    data.write_text("six")
    os.utime(data, ns=(old, old))  # same size and mtime: the change time still differs
    assert build_mod.family_digest(family) != second
