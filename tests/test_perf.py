"""What the harness keeps to pay for expensive steps once gives the same answers as working
them out again (no timing here: bench/ measures)."""

from __future__ import annotations

import importlib
import ipaddress
import os
import random
import subprocess
import sys
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


@pytest.mark.parametrize(
    ("nodeid", "scope"),
    [
        ("wazo-snom-10.1.215.13::D785::provision", "wazo-snom-10.1.215.13"),
        ("wazo-snom-10.1.215.13::load", "wazo-snom-10.1.215.13"),
        ("wazo_snom::build.py", "wazo_snom"),
        ("dhcp::snom::D785", "dhcp"),
        ("tests/test_mine.py::TestA::test_b", "tests/test_mine.py"),
    ],
)
def test_xdist_scopes_are_whole_targets(nodeid: str, scope: str) -> None:
    pytest.importorskip("xdist")
    from pytest_provd.tiers._schedule import TargetScheduling

    assert TargetScheduling._split_scope(None, nodeid) == scope


def test_an_xdist_worker_skips_the_failure_summary_its_null_terminal_would_show() -> None:
    pytest.importorskip("xdist")
    from types import SimpleNamespace

    from pytest_provd.tiers._schedule import quiet_worker

    controller = SimpleNamespace(option=SimpleNamespace(tbstyle="auto"))
    quiet_worker(controller)
    assert controller.option.tbstyle == "auto"
    worker = SimpleNamespace(option=SimpleNamespace(tbstyle="auto"), workerinput={})
    quiet_worker(worker)
    assert worker.option.tbstyle == "no"


def test_template_helper_walks_the_search_path_once_per_template_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_provd import compat

    if compat.activate() != "compat":
        pytest.skip("the real wazo_provd is active")
    from wazo_provd import loaders
    from wazo_provd.plugins import TemplatePluginHelper

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.tpl").write_text(
        "{% for n in range(50) %}{% include 'line.tpl' %}{% endfor %}"
    )
    (tmp_path / "templates" / "line.tpl").write_text("d")
    walks = []
    real = loaders._snapshot
    monkeypatch.setattr(loaders, "_snapshot", lambda dirs: walks.append(1) or real(dirs))
    helper = TemplatePluginHelper(str(tmp_path))
    assert helper.get_template("base.tpl").render() == "d" * 50
    assert len(walks) == 1  # not once per include
    (tmp_path / "var" / "templates").mkdir(parents=True)
    (tmp_path / "var" / "templates" / "line.tpl").write_text("c")  # a custom template
    assert helper.get_template("base.tpl").render() == "c" * 50
    assert len(walks) == 2


def test_provd_hypothesis_profiles_are_registered() -> None:
    from hypothesis import settings

    from pytest_provd.profiles import PROFILES

    local, ci = settings.get_profile("provd"), settings.get_profile("provd-ci")
    assert ci.max_examples == 10 * local.max_examples
    assert ci.derandomize and not local.derandomize
    assert PROFILES["provd"]["max_examples"] == local.max_examples


def test_provd_hypothesis_profiles_are_registered_when_hypothesis_is_imported_later() -> None:
    code = (
        "import sys\n"
        "import pytest_provd.plugin, pytest_provd.tiers.hostile\n"
        "assert 'hypothesis' not in sys.modules, 'imported at start-up'\n"
        "assert 'pytest_provd.profiles' not in sys.modules\n"
        "from hypothesis import settings\n"  # its entry points register the profiles
        "print(settings.get_profile('provd-ci').max_examples)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["500"]


def test_hostile_examples_are_hypothesis_draws_kept_in_the_build_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_provd.rendering.matrix import sample_raw_config
    from pytest_provd.tiers import hostile

    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path))
    base = sample_raw_config()
    drawn = hostile._drawn(hostile.field_plan(base), 6)
    assert len(drawn) == 6 and all("sip_lines.1.password" in changes for changes in drawn)
    assert hostile._drawn(hostile.field_plan(base), 6) == drawn  # seeded: the same twice
    assert hostile.hostile_examples(base, 6) == drawn
    monkeypatch.setattr(memo, "_MEMORY", {})
    monkeypatch.setattr(hostile, "_drawn", lambda *_: pytest.fail("drawn again"))
    assert hostile.hostile_examples(base, 6) == drawn  # read back from the cache
    other = dict(base, sip_dtmf_mode="RTP-in-band")  # another base: other choices
    monkeypatch.setattr(memo, "_MEMORY", {})
    with pytest.raises(pytest.fail.Exception, match="drawn again"):
        hostile.hostile_examples(other, 6)


SAMPLE_PLUGINS = Path(__file__).parent / "data" / "current" / "plugins"


def test_batch_builds_equal_single_builds(tmp_path: Path) -> None:
    from pytest_provd import tree
    from pytest_provd.tree.batch import build_all

    targets = list(tree.discover(SAMPLE_PLUGINS).targets.values())
    assert len({t.family.name for t in targets}) > 1
    build_all(targets, cache_dir=tmp_path / "batch")
    for target in targets:
        entry = build_mod.cache_entry(target, tmp_path / "batch")
        assert (entry / ".complete").is_file(), target.plugin_id
        single = tree.build_cached(target, cache_dir=tmp_path / "single")
        assert build_mod.built_files(entry / target.plugin_id) == build_mod.built_files(single)
    assert not list((tmp_path / "batch").rglob(".staging-*"))
    assert not list((tmp_path / "batch").rglob(".status-*"))


def test_a_target_failing_in_a_batch_is_built_alone_with_its_own_error(tmp_path: Path) -> None:
    from pytest_provd import tree
    from pytest_provd.tree.batch import build_all

    family = tmp_path / "plugins" / "wazo_x"
    (family / "v1").mkdir(parents=True)
    (family / "v1" / "plugin-info").write_text("{}")
    (family / "build.py").write_text(
        "import shutil\n"
        "@target('1', 'wazo-x-1')\n"
        "def build_1(path):\n"
        "    shutil.copy('v1/plugin-info', path)\n"
        "@target('2', 'wazo-x-2')\n"
        "def build_2(path):\n"
        "    raise RuntimeError('no second target here')\n"
    )
    targets = tree.discover(tmp_path / "plugins").targets
    cache = tmp_path / "cache"
    build_all(targets.values(), cache_dir=cache)
    assert (build_mod.cache_entry(targets["wazo-x-1"], cache) / ".complete").is_file()
    assert not build_mod.cache_entry(targets["wazo-x-2"], cache).exists()
    with pytest.raises(build_mod.BuildError, match="no second target here"):
        tree.build_cached(targets["wazo-x-2"], cache_dir=cache)
