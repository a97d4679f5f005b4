"""``--provd-backend real``: an installed wazo_provd, run with production's configuration.

These run where wazo_provd is installed (the plugins repository's tox env, /tmp-style venvs
built from its test-requirements.txt) and skip, saying why, elsewhere.  Every run is a
subprocess: the test process uses our own ``wazo_provd`` (compat.activate("embedded")).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_provd import compat

pytestmark = pytest.mark.skipif(
    bool(compat.real_missing()),
    reason="the real backend needs wazo_provd and its dependencies installed here "
    "(pip install -r test-requirements.txt of wazo-provd-plugins)",
)

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
TARGET = "wazo-snom-10.1.215.13"

_PROBE = """
import json, sys
from pathlib import Path
from pytest_provd.backends.realprovd import RealProvd
provd = RealProvd(Path(sys.argv[1])).start()
try:
    print(json.dumps({"base": provd.app._base_raw_config, "http_url": provd.endpoints.http_url}))
finally:
    provd.close()
"""


def test_real_provd_runs_with_production_base_raw_config_and_no_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_PROVD_REAL_CONFIG_DIR", raising=False)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # nowhere near a wazo-provd checkout's etc/
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    base, http_url = seen["base"], seen["http_url"]
    # What wazo_provd.config derives in production from advertised_http_url and tftp_port.
    assert base["http_base_url"] == http_url.rstrip("/")
    assert base["ip"] == "127.0.0.1"
    assert str(base["http_port"]) == http_url.rstrip("/").rsplit(":", 1)[1]
    assert isinstance(base["tftp_port"], int) and base["tftp_port"] > 0


def test_a_bad_config_dir_override_is_said(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.setenv("PYTEST_PROVD_REAL_CONFIG_DIR", str(pytester.path))
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(SAMPLES),
        "--provd-plugin",
        TARGET,
        "--provd-backend",
        "real",
        "-m",
        "provd_provision",
    )
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines(
        [f"*PYTEST_PROVD_REAL_CONFIG_DIR={pytester.path}: no info_extractor.py.conf.default*"]
    )


def test_real_backend_boots_the_phones_on_the_installed_provd(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.delenv("PYTEST_PROVD_REAL_CONFIG_DIR", raising=False)
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(SAMPLES),
        "--provd-plugin",
        TARGET,
        "--provd-backend",
        "real",
        "-m",
        "provd_provision",
    )
    result.assert_outcomes(passed=6)
    # The library's import-time warnings (its legacy provd alias, twisted's TLS) are not shown.
    result.stdout.no_fnmatch_line("*warnings summary*")


def test_real_backend_firmware_tier_installs_with_real_fetchfw_from_staged_files(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(SAMPLES),
        "--provd-plugin",
        TARGET,
        "--provd-backend",
        "real",
        "-m",
        "provd_firmware or provd_provision",
    )
    result.assert_outcomes(passed=7)
    # Phones of the real provd flash what its fetchfw installed.
    result.stdout.fnmatch_lines([f"{TARGET}: 7 passed | *firmware upgrades, * firmware packages"])


_CONFIGURE = """
import sys
from pathlib import Path
from pytest_provd import compat
compat.activate("real")
from pytest_provd.provd.plugins.loader import LoadedPlugin
from pytest_provd.provd.plugins.errors import PluginConfigError

class Obj:
    def configure(self, device, raw):
        print("configured", raw["sip_transport"], raw["sip_srtp_mode"])

plugin = LoadedPlugin("acme", Path(sys.argv[1]), {}, Obj())
plugin.configure({"id": "d"}, {"ip": "127.0.0.1", "http_port": 8667, "tftp_port": 69})
try:
    plugin.configure({"id": "d"}, {"ip": "127.0.0.1", "http_port": 8667, "tftp_port": 69,
                                   "sip_dtmf_mode": "smoke-signals"})
except PluginConfigError as exc:
    print("rejected:", exc)
"""


def test_real_backend_configures_with_real_defaults_and_schema(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CONFIGURE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # wazo_provd.app's defaults, filled in by the installed library.
    assert lines[0] == "configured udp disabled"
    assert "wazo_provd rejects the harness's raw config (sip_dtmf_mode" in lines[1]
