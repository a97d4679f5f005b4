"""``--provd-backend url`` against a real wazo-provd daemon, not only against our own server.

The installed wazo_provd runs as its daemon does (``tests/real_daemon.py``: its services,
its authenticated REST API, wazo-auth stood in for on loopback) in a subprocess on
127.0.0.1; the gate then provisions emulated phones through that daemon's REST API.
Skipped, saying why, where wazo_provd and its dependencies are not importable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_provd import compat
from pytest_provd.client import ProvdClient

pytestmark = [
    pytest.mark.provd_real_daemon,
    pytest.mark.skipif(
        bool(compat.real_missing()),
        reason="no real wazo-provd daemon to start: wazo_provd and its dependencies are not "
        "importable here (pip install -r test-requirements.txt of wazo-provd-plugins)",
    ),
]

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
TARGET = "wazo-snom-10.1.215.13"
DAEMON = Path(__file__).parent / "real_daemon.py"


@pytest.fixture
def real_daemon(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real wazo-provd daemon on 127.0.0.1: its REST URL, HTTP URL, TFTP port, token."""
    ready = tmp_path / "ready.json"
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(DAEMON), str(tmp_path / "state"), str(ready)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "the wazo-provd daemon did not start:\n"
                    + (tmp_path / "daemon.log").read_text()[-3000:]
                )
            time.sleep(0.1)
        yield json.loads(ready.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def test_url_backend_provisions_phones_through_a_real_provd_daemon(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, real_daemon: dict[str, Any]
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    client = ProvdClient(real_daemon["rest_url"], real_daemon["token"])
    assert client.devices() == []
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(SAMPLES),
        "--provd-plugin",
        TARGET,
        "-m",
        "provd_provision",
        "--provd-backend",
        "url",
        "--provd-url",
        real_daemon["rest_url"],
        "--provd-token",
        real_daemon["token"],
        "--provd-http-url",
        real_daemon["http_url"],
        "--provd-tftp-port",
        str(real_daemon["tftp_port"]),
    )
    # Each provision item boots a phone on the daemon's HTTP and checks what it fetched and
    # registered: they pass only if the daemon provisioned them.
    result.assert_outcomes(passed=6)
    # The daemon's own fetchfw installed the (staged) firmware through our loopback proxy,
    # and its phones flashed it.
    result.stdout.fnmatch_lines(
        [f"{TARGET}: 6 passed | * phones provisioned, * firmware upgrades*"]
    )
    # What the run created there is gone; the daemon itself answers as before.
    assert client.devices() == []
    assert TARGET not in client.installed_plugins()


def test_the_daemon_refuses_a_token_its_auth_does_not_know(
    real_daemon: dict[str, Any],
) -> None:
    from pytest_provd.client import ProvdClientError

    with pytest.raises(ProvdClientError) as raised:
        ProvdClient(real_daemon["rest_url"], "not-the-token").devices()
    assert raised.value.status == 401
