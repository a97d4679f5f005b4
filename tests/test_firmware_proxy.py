"""The loopback proxy given to real fetchfw: cache hits served, everything else refused."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pytest_provd.firmware.proxy import FirmwareProxy


def opener(proxy: FirmwareProxy) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxy.proxies))


def test_cached_file_is_served_by_name_whatever_the_vendor_url(tmp_path: Path) -> None:
    (tmp_path / "snomD785-10.1.215.13-SIP-r.bin").write_bytes(b"\x00firmware" * 1000)
    with FirmwareProxy(tmp_path) as proxy:
        url = "http://downloads.snom.example/fw/snomD785-10.1.215.13-SIP-r.bin"
        with opener(proxy).open(url, timeout=5) as resp:
            assert resp.read() == b"\x00firmware" * 1000
        assert proxy.served == [url]


@pytest.mark.parametrize("cache", [True, False])
def test_anything_else_is_refused_and_recorded(tmp_path: Path, cache: bool) -> None:
    with FirmwareProxy(tmp_path if cache else None) as proxy:
        with pytest.raises(urllib.error.HTTPError) as info:
            opener(proxy).open("http://vendor.example/fw/missing.bin", timeout=5)
        info.value.close()
        assert info.value.code == 403
        assert proxy.refused == ["http://vendor.example/fw/missing.bin"]


def test_https_tunnels_are_refused(tmp_path: Path) -> None:
    with FirmwareProxy(tmp_path) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        conn.request("CONNECT", "vendor.example:443")
        resp = conn.getresponse()
        assert resp.status == 403
        conn.close()
        assert proxy.refused == ["CONNECT vendor.example:443"]


def test_proxy_binds_loopback_only(tmp_path: Path) -> None:
    with FirmwareProxy(tmp_path) as proxy:
        assert proxy.url.startswith("http://127.0.0.1:")
        assert set(proxy.proxies) == {"http", "https", "ftp"}
