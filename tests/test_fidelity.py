"""The fidelity check: diff and report logic (always), the embedded side's worker, and a
comparison against a real wazo_provd where one is at hand.

The real comparison runs when this interpreter imports ``wazo_provd`` or
``PYTEST_PROVD_REAL_PYTHON`` names an interpreter that does (with pytest-provd installed
there too, e.g. ``pip install --no-deps -e .``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from pytest_provd import cli, compat, tree
from pytest_provd.fidelity._snapshot import stamp, written
from pytest_provd.fidelity.compare import (
    OUTSIDE,
    VOLATILE,
    compare,
    compare_files,
    format_report,
    mask,
    summary,
)
from pytest_provd.fidelity.job import (
    Job,
    Render,
    SideResult,
    config_docs,
    devices_for,
)
from pytest_provd.fidelity.matrix import (
    BASE_RAW_CONFIG,
    TIMEZONES,
    RenderConfig,
    check_labels,
    default_configs,
)
from pytest_provd.fidelity.run import FidelityUnavailable, check_real_python, load_configs

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SNOM = "wazo-snom-10.1.215.13"
NOW = time.time()
WINDOW = (NOW - 5, NOW + 5)


def _result(side: str, renders: list[Render], common: dict[str, bytes] | None = None) -> SideResult:
    return SideResult(side, started=NOW - 1, ended=NOW + 1, common=common or {}, renders=renders)


# --- volatile values ----------------------------------------------------------------------


def test_clock_readings_within_the_run_are_masked_and_named() -> None:
    epoch = str(int(NOW)).encode()
    sn = f"{NOW:012f}".encode()
    stamp = datetime.fromtimestamp(NOW).strftime("%d%m%y%H%M").encode()
    masked, names = mask(b"epoch=" + epoch + b" sn=" + sn + b" date=" + stamp + b"\n", WINDOW)
    assert masked == b"epoch=<epoch> sn=<epoch> date=<ddmmyyHHMM>\n"
    assert names == {"epoch", "ddmmyyHHMM"} == set(VOLATILE)


def test_numbers_outside_the_run_are_not_volatile() -> None:
    # A ten-digit number that is no clock reading of this run: a phone number, an old time.
    data = b"tel=0612345678 old=1000000000 long=12345678901\n"
    assert mask(data, WINDOW) == (data, set())


def test_compare_files_statuses_and_diff() -> None:
    epoch = str(int(NOW)).encode()
    real = {
        "same.cfg": b"a\n",
        "clock.cfg": b"t=" + epoch + b"\n",
        "tz.cfg": b"tz=Mexico\n",
        "only-real.cfg": b"r\n",
    }
    embedded = {
        "same.cfg": b"a\n",
        "clock.cfg": b"t=" + str(int(NOW) + 1).encode() + b"\n",
        "tz.cfg": b"tz=Central\n",
        "only-emb.cfg": b"e\n",
    }
    got = {f.path: f for f in compare_files("sample/M1", real, embedded, WINDOW)}
    assert {p: f.status for p, f in got.items()} == {
        "clock.cfg": "volatile",
        "only-emb.cfg": "only-embedded",
        "only-real.cfg": "only-real",
        "same.cfg": "identical",
        "tz.cfg": "differs",
    }
    assert got["clock.cfg"].volatile == {"epoch"}
    diff = got["tz.cfg"].diff
    assert "--- real/sample/M1/tz.cfg" in diff and "+++ embedded/sample/M1/tz.cfg" in diff
    assert "-tz=Mexico\n" in diff and "+tz=Central\n" in diff


def test_compare_reports_devices_configured_on_one_side_and_failed_sides() -> None:
    real = _result("real", [Render("sample", "M1", "00:0b:82:00:00:01", True, {"a": b"1"})])
    embedded = _result("embedded", [Render("sample", "M1", "00:0b:82:00:00:01", False, {}, "boom")])
    report = compare("p-1", real, embedded)
    assert not report.faithful
    assert report.problems == [
        "sample/M1 (00:0b:82:00:00:01): configured by real provd only; the other said: boom"
    ]
    assert [f.status for f in report.files] == ["only-real"]
    failed = compare("p-1", SideResult("real", error="Traceback: nope"), embedded)
    assert failed.problems == ["real side failed: Traceback: nope"] and not failed.files
    both = compare(
        "p-1",
        SideResult("real", error="Traceback...\nTemplateNotFound: x.tpl"),
        SideResult("embedded", error="Traceback...\nPluginConfigError: x.tpl missing"),
    )
    assert both.faithful and both.notes == [
        "both sides failed; real: TemplateNotFound: x.tpl; "
        "embedded: PluginConfigError: x.tpl missing"
    ]


def test_devices_no_side_configured_agree_on_the_exception_or_are_problems() -> None:
    real_errors = {
        "a": "Error while configuring device fid000001: KeyError: 'label'",
        "b": "Error while configuring device fid000002: KeyError: 'label'",
        "c": "Error while configuring device fid000003: AssertionError:",
        "d": "not configured",
        "e": "Error while configuring device fid000005: Exception: UUID needed",
        "f": "Error while configuring device fid000006: FileNotFoundError: [Errno 2] No such "
        "file or directory: '/s/real/storage/plugins/p-1/var/tftpboot/P/000B82000006.cfg.tmp'",
        "g": "Error while configuring device fid000007: FileNotFoundError: [Errno 2] No such "
        "file or directory: '/s/real/storage/plugins/p-1/var/tftpboot/P/000B82000007.cfg.tmp'",
    }
    ours = {
        "a": "/x/common.py:9: p-1: configure: KeyError: 'label'",
        "b": "/x/common.py:9: p-1: configure: KeyError: 'label'",
        "c": "/x/common.py:9: p-1: configure: TypeError: a bytes-like object is required",
        "d": "not configured",
        "e": "/x/entry.py:150: p-1: configure: Exception: UUID needed",
        "f": "/x/common.py:9: p-1: configure: FileNotFoundError: [Errno 2] No such file or "
        "directory: '/s/embedded/plugins/p-1/var/tftpboot/P/000B82000006.cfg.tmp'",
        "g": "/x/common.py:9: p-1: configure: FileNotFoundError: [Errno 2] No such file or "
        "directory: '/s/embedded/plugins/p-1/var/tftpboot/P/000B82000007.cfg.tmp'",
    }

    def renders(errors: dict[str, str]) -> list[Render]:
        return [Render(k, "M1", f"m{k}", False, {}, v) for k, v in errors.items()]

    report = compare(
        "p-1", _result("real", renders(real_errors)), _result("embedded", renders(ours))
    )
    assert (report.renders, report.models, report.neither) == (7, 1, 7)
    assert report.notes == [
        "configured by neither side, both raising KeyError: 'label' (2 render(s): a/M1, b/M1)",
        "configured by neither side, both saying not configured (1 render(s): d/M1)",
        "configured by neither side, both raising Exception: UUID needed (1 render(s): e/M1)",
        "configured by neither side, both raising FileNotFoundError: [Errno 2] No such file or "
        "directory: <path> (2 render(s): f/M1, g/M1)",
    ]
    assert report.problems == [
        "c/M1: configured by neither side, with different errors; real: Error while "
        "configuring device fid000003: AssertionError:; embedded: /x/common.py:9: p-1: "
        "configure: TypeError: a bytes-like object is required"
    ]
    assert summary([report])["configured by neither side"] == 7


def test_report_text_and_summary() -> None:
    renders = [Render("tz=UTC", "M1", "m", True, {"a.cfg": b"x\n", "b.cfg": b"y\n"})]
    other = [Render("tz=UTC", "M1", "m", True, {"a.cfg": b"x\n", "b.cfg": b"z\n"})]
    report = compare("p-1", _result("real", renders), _result("embedded", other))
    text = format_report(report)
    assert text.splitlines()[0] == (
        "p-1: 1 identical, 0 identical but for volatile values, 1 differ, 0 only real, "
        "0 only embedded; 1 model(s), 1 render(s), 0 configured by neither side"
    )
    assert "  differs: tz=UTC/M1/b.cfg" in text and "    +z" in text
    assert "+z" not in format_report(report, diffs=False)
    assert summary([report])["differs"] == 1 and summary([report])["identical"] == 1


def test_files_written_outside_tftpboot_are_compared_too(tmp_path: Path) -> None:
    plugin = tmp_path / "wazo-x-1"
    (plugin / "var" / "tftpboot").mkdir(parents=True)
    (plugin / "var" / "cache").mkdir()
    (plugin / "kept.txt").write_text("installed\n")
    before = stamp(plugin)
    (plugin / "var" / "tftpboot" / "a.cfg").write_text("rendered\n")
    (plugin / "var" / "cache" / "state.json").write_text("{}\n")
    (plugin / "__pycache__").mkdir()
    (plugin / "__pycache__" / "entry.cpython-311.pyc").write_bytes(b"\0")
    assert written(plugin, before, outside_tftpboot=True) == {"var/cache/state.json": b"{}\n"}
    real = _result("real", [])
    embedded = _result("embedded", [])
    real.outside, embedded.outside = {"var/cache/state.json": b"{}\n"}, {}
    report = compare("p-1", real, embedded)
    assert [(f.where, f.path, f.status) for f in report.files] == [
        (OUTSIDE, "var/cache/state.json", "only-real")
    ]


def test_side_results_travel_as_json(tmp_path: Path) -> None:
    result = _result(
        "embedded",
        [Render("sample", "M1", "m", True, {"bin": bytes(range(256))}, None)],
        {"common.cfg": b"\xff\x00"},
    )
    result.outside = {"var/cache/x": b"\x01"}
    result.dump(tmp_path / "out.json")
    assert SideResult.load(tmp_path / "out.json") == result


# --- the matrix and the devices -----------------------------------------------------------


def test_default_matrix_has_the_timezones_and_locales() -> None:
    configs = default_configs()
    check_labels(configs)
    zones = {c.raw_config["timezone"] for c in configs}
    assert set(TIMEZONES) <= zones
    assert {c.raw_config["locale"] for c in configs} >= {"fr_FR", "en_US", "de_DE", "fr_CA"}
    with pytest.raises(ValueError, match="given twice"):
        check_labels([configs[0], configs[0]])
    with pytest.raises(ValueError, match="label"):
        RenderConfig("has space", {})


def test_devices_are_the_same_for_both_sides_and_unique() -> None:
    configs = default_configs()[:3]
    caps = {"Snom, D785, 10.1.215.13": {}, "Snom, D7(1)(2), 10.1.215.13": {}}
    jobs = devices_for("p-1", ["D785", "D71", "X9"], caps, configs)
    assert jobs == devices_for("p-1", ["D785", "D71", "X9"], caps, configs)
    assert len({j.device["mac"] for j in jobs}) == len(jobs) == 9
    by_model = {j.model: j.device for j in jobs if j.label == "sample"}
    assert by_model["D71"]["version"] == "10.1.215.13" and by_model["D71"]["vendor"] == "Snom"
    assert "version" not in by_model["X9"] and by_model["X9"]["vendor"] == "Snom"
    assert {d["id"] for d in config_docs(configs)} == {j.device["config"] for j in jobs}


def test_config_files_are_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"label": "a", "raw_config": {"timezone": "UTC"}}]))
    assert load_configs(good) == [RenderConfig("a", {"timezone": "UTC"})]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"label": "a"}]))
    with pytest.raises(ValueError, match=r"bad.json: item 0"):
        load_configs(bad)


def test_an_interpreter_without_wazo_provd_is_told_what_to_install() -> None:
    # Not find_spec: this process imports our own wazo_provd even where a real one is there.
    if compat.real_installed():
        pytest.skip("this interpreter has a real wazo_provd")
    with pytest.raises(FidelityUnavailable, match="Install wazo-provd") as info:
        check_real_python(sys.executable)
    assert "--python" in str(info.value)


# --- the embedded side, for real ----------------------------------------------------------


def _job(tmp_path: Path, configs: list[RenderConfig]) -> Job:
    target = tree.discover(SAMPLES).targets[SNOM]
    built = tree.build_cached(target)
    package_dir = tmp_path / "packages"
    tree.package(built, package_dir)
    tree.write_plugins_db(package_dir)
    caps = tree.read_plugin_info(built)["capabilities"]
    devices = devices_for(SNOM, ["D785", "D717"], caps, configs)
    return Job(
        SNOM,
        str(package_dir),
        str(tmp_path / "state"),
        dict(BASE_RAW_CONFIG),
        config_docs(configs),
        devices,
    )


def test_the_embedded_worker_renders_every_device(tmp_path: Path) -> None:
    configs = [c for c in default_configs() if c.label in ("sample", "tz=Australia/Sydney")]
    job = _job(tmp_path, configs)
    job.dump(tmp_path / "job.json")
    subprocess.run(
        [sys.executable, "-m", "pytest_provd.fidelity.worker", "embedded", "job.json", "out.json"],
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    result = SideResult.load(tmp_path / "out.json")
    assert result.error is None
    assert [(r.label, r.model, r.configured) for r in result.renders] == [
        ("sample", "D785", True),
        ("sample", "D717", True),
        ("tz=Australia/Sydney", "D785", True),
        ("tz=Australia/Sydney", "D717", True),
    ]
    for render in result.renders:
        mac12 = render.mac.replace(":", "")
        assert any(mac12 in name.lower() for name in render.files), render.files.keys()


# --- against a real wazo_provd ------------------------------------------------------------


def _real_python() -> str | None:
    configured = os.environ.get("PYTEST_PROVD_REAL_PYTHON")
    if configured:
        return configured
    return sys.executable if compat.real_installed() else None


@pytest.mark.skipif(
    _real_python() is None,
    reason="wazo_provd is not importable here and PYTEST_PROVD_REAL_PYTHON is not set",
)
def test_sample_target_renders_identically_on_real_provd(tmp_path: Path) -> None:
    python = _real_python()
    assert python is not None
    configs = tmp_path / "configs.json"
    chosen = [c for c in default_configs() if c.label in ("sample", "tz=America/Chicago")]
    configs.write_text(json.dumps([{"label": c.label, "raw_config": c.raw_config} for c in chosen]))
    out = tmp_path / "report.json"
    argv = ["fidelity", "--plugins-dir", str(SAMPLES), "--plugin", SNOM, "--python", python]
    code = cli.main([*argv, "--configs", str(configs), "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["summary"]["differs"] == 0, report
    assert report["summary"]["identical"] > 0 and code == 0
