"""A crash of the embedded provd's own code fails the test that caused it; bad input does not.

The servers record every unexpected exception (``server_errors``) and ``check()`` raises them,
as pytest-httpserver's ``check()`` does; the ``provd`` fixture calls it at teardown.  These
tests use ``provd_factory`` servers, which nothing checks behind their back.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.fixtures import ProvdFactory
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.domain.errors import DeviceError
from pytest_provd.provd.domain.faults import MAX_FAULTS, FaultLog, ServerFaultError
from pytest_provd.provd.plugins.errors import PluginError


def broken(message: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(message)

    return fail


def http_get(provd: EmbeddedProvd, path: str) -> int:
    host, port = provd.http_url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def tftp_answer(provd: EmbeddedProvd, name: bytes, timeout: float) -> bytes | None:
    """The first datagram answering a read request for *name*, None if none came."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(b"\x00\x01" + name + b"\0octet\0", provd.tftp_address)
        try:
            return sock.recvfrom(70000)[0]
        except TimeoutError:
            return None


def wait_for_faults(provd: EmbeddedProvd, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(provd.server_errors) < count and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def server(provd_factory: ProvdFactory) -> EmbeddedProvd:
    return provd_factory()


def test_a_crashing_rest_handler_is_a_server_error_that_check_raises(
    server: EmbeddedProvd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.app, "describe_params", broken("harness bug in describe"))
    with pytest.raises(ProvdClientError) as answer:
        ProvdClient(server.rest_url).params()
    assert answer.value.status == 500
    assert "harness bug" not in str(answer.value)  # the phone/client never sees a traceback
    [fault] = server.server_errors
    assert fault.where == "REST GET /provd/configure"
    assert fault.error == "RuntimeError: harness bug in describe"
    assert "in fail" in fault.traceback  # the innermost frames, where it was raised
    with pytest.raises(ServerFaultError) as raised:
        server.check()
    text = str(raised.value)
    assert "failed 1 time(s)" in text
    assert "REST GET /provd/configure: RuntimeError: harness bug in describe" in text
    assert "raise RuntimeError(message)" in text


def test_bad_input_is_the_clients_fault_not_the_servers(server: EmbeddedProvd) -> None:
    client = ProvdClient(server.rest_url)
    for bad in (
        lambda: client.add_device({"mac": "not a mac"}),
        lambda: client.add_config({"raw_config": {}}),
        lambda: client.get_device("nobody"),
        lambda: client.set_param("NAT", 7),
    ):
        with pytest.raises(ProvdClientError) as answer:
            bad()
        assert 400 <= answer.value.status < 500
    assert http_get(server, "/%2e%2e/etc/passwd") == 403
    assert http_get(server, "/nobody.cfg") == 404
    assert tftp_answer(server, b"../etc/passwd", 3) is not None
    assert server.server_errors == []
    server.check()


def test_a_crash_in_the_pipeline_is_a_server_error_a_plugin_error_is_not(
    server: EmbeddedProvd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.app.pipeline, "extract", broken("harness bug in extract"))
    assert http_get(server, "/phone.cfg") == 500
    [fault] = server.server_errors
    assert (fault.where, fault.error) == (
        "HTTP GET /phone.cfg",
        "RuntimeError: harness bug in extract",
    )

    def plugin_failure(*args: Any) -> Any:
        raise PluginError("acme-1.0", "the plugin's own bug")

    def refused(*args: Any) -> Any:
        raise DeviceError("device provd refuses")

    for failure in (plugin_failure, refused):
        monkeypatch.setattr(server.app.pipeline, "extract", failure)
        assert http_get(server, "/phone.cfg") == 500
    assert len(server.server_errors) == 1, server.server_errors
    assert server.pipeline.log[-1]["error"] == "DeviceError: device provd refuses"


def test_a_dropped_tftp_transfer_is_a_server_error(
    server: EmbeddedProvd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside the pipeline's own guard: the transfer task itself dies.
    monkeypatch.setattr(server.app.pipeline, "tftp", broken("harness bug in a transfer"))
    assert tftp_answer(server, b"SEP000000000000.cnf.xml", 1.0) is None
    wait_for_faults(server, 1)
    [fault] = server.server_errors
    assert fault.where.startswith("TFTP SEP000000000000.cnf.xml for 127.0.0.1:")
    assert fault.error == "RuntimeError: harness bug in a transfer"
    assert server.tftp is not None and server.tftp.stats.crashed == 1
    # The server still answers the next request.
    monkeypatch.undo()
    answer = tftp_answer(server, b"nothing-routes-here.cfg", 3)
    assert answer is not None and answer[:2] == b"\x00\x05"  # an ERROR packet: not found


def test_a_failed_operation_of_ours_is_a_server_error(
    server: EmbeddedProvd, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ProvdClient(server.rest_url)
    client.set_param("plugin_server", "http://127.0.0.1:9/")
    monkeypatch.setattr(server.app, "pg_update", broken("harness bug in update"))
    with pytest.raises(ProvdClientError):
        client.update_plugins()
    wait_for_faults(server, 1)
    [fault] = server.server_errors
    assert fault.where.startswith("operation update (/provd/pg_mgr/install/update/")
    assert fault.error == "RuntimeError: harness bug in update"


def test_reset_clears_the_server_errors(
    server: EmbeddedProvd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.app, "describe_params", broken("once"))
    with pytest.raises(ProvdClientError):
        ProvdClient(server.rest_url).params()
    assert len(server.server_errors) == 1
    server.reset()
    assert server.server_errors == []
    server.check()


def test_the_fault_log_keeps_the_first_faults_and_counts_the_rest() -> None:
    log = FaultLog()
    for number in range(MAX_FAULTS + 3):
        log.record(f"request {number}", ValueError(number))
    assert len(log.items()) == MAX_FAULTS
    assert log.items()[0].where == "request 0" and log.dropped == 3
    error = ServerFaultError(log.items(), log.dropped)
    assert f"failed {MAX_FAULTS + 3} time(s)" in str(error) and "... and 3 more" in str(error)
    log.clear()
    assert log.items() == [] and log.dropped == 0


INNER_TESTS = """
import pytest

from pytest_provd.client import ProvdClient, ProvdClientError


def test_forced_crash(provd):
    def fail(*args):
        raise RuntimeError("forced crash of a route")

    provd.app.describe_params = fail
    with pytest.raises(ProvdClientError):
        ProvdClient(provd.rest_url).params()


def test_bad_input(provd):
    with pytest.raises(ProvdClientError) as answer:
        ProvdClient(provd.rest_url).add_device({"mac": "not a mac"})
    assert answer.value.status == 400


def test_after_the_crash(provd):
    assert provd.server_errors == []
"""


def test_the_provd_fixture_fails_the_test_that_crashed_the_server_at_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_forced_crash*",
            "E *ServerFaultError: the embedded provd failed 1 time(s) while serving:",
            "*[[]1] REST GET /provd/configure: RuntimeError: forced crash of a route",
        ]
    )
    out = result.stdout.str()
    assert "teardown of test_bad_input" not in out
    # The harness's own frames are hidden: the report is the fault list, not fixture source.
    assert "def provd(" not in out
