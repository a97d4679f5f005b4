"""``provd-harness serve`` prints the three addresses and serves the working tree's plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.test_tree import make_family


def test_serve_prints_addresses_and_answers(tmp_path: Path) -> None:
    make_family(tmp_path / "plugins")
    env = {**os.environ, "PYTEST_PROVD_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_provd.cli",
            "serve",
            "--plugins-dir",
            str(tmp_path / "plugins"),
            "--plugin",
            "acme-phone-1.0",
            "--duration",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert re.fullmatch(r"REST http://127\.0\.0\.1:\d+/provd", lines[0]), lines
        assert re.fullmatch(r"HTTP http://127\.0\.0\.1:\d+/", lines[1]), lines
        assert re.fullmatch(r"TFTP tftp://127\.0\.0\.1:\d+/", lines[2]), lines
        rest = lines[0].split()[1]
        with urllib.request.urlopen(rest + "/status", timeout=5) as resp:
            assert b"acme-phone-1.0" in resp.read()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_serve_unknown_plugin_is_an_error(tmp_path: Path) -> None:
    make_family(tmp_path / "plugins")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_provd.cli",
            "serve",
            "--plugins-dir",
            str(tmp_path / "plugins"),
            "--plugin",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "no plugin nope in" in proc.stderr


@pytest.mark.parametrize("port_option", ["--rest-port", "--http-port", "--tftp-port"])
def test_serve_help_lists_port_options(port_option: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_provd.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert port_option in proc.stdout and "--bind" in proc.stdout
