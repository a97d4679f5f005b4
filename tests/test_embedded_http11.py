"""The provisioning port's HTTP/1.1 connections: framing, keep-alive, bodies, refusals."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from pytest_provd.provd.servers.http11 import Http11Server, RawReply, RawRequest, parse_head

LIMIT = 1000


def _echo(request: RawRequest) -> RawReply:
    if request.target == "/boom":
        raise RuntimeError("boom")
    seen = {
        "method": request.method,
        "target": request.target,
        "headers": request.headers,
        "remote": request.remote,
        "body": request.body.decode("latin-1"),
    }
    return RawReply(200, {"Content-Type": "application/json"}, json.dumps(seen).encode())


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    faults: list[str] = []
    before = set(threading.enumerate())  # other tests' servers may still be running
    http = Http11Server(_echo, lambda where, exc: faults.append(where), max_body=LIMIT, threads=2)
    port = http.start("127.0.0.1", 0)
    started = [t for t in set(threading.enumerate()) - before if t.name.startswith("provd-http-")]
    assert len(started) == 2
    try:
        yield port, faults
    finally:
        http.close()
    assert not [t for t in started if t.is_alive()]


def _exchange(
    port: int, data: bytes, answers: int = 1, *, head_last: bool = False
) -> list[tuple[str, dict[str, str], bytes]]:
    """Send *data*, read *answers* responses (status line, headers, body); the last one
    without a body when *head_last* (the answer to a HEAD)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        buffer = b""
        replies = []
        for _ in range(answers):
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return replies
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:])
            length = int(headers.get("Content-Length", "0"))
            if head_last and len(replies) == answers - 1:
                while chunk := sock.recv(65536):  # all the server sent until it closed
                    buffer += chunk
                replies.append((lines[0], headers, buffer))
                break
            while len(buffer) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
            replies.append((lines[0], headers, buffer[:length]))
            buffer = buffer[length:]
        return replies


def test_a_request_reaches_respond_as_sent(server: tuple[int, list[str]]) -> None:
    port, _ = server
    [(status, headers, body)] = _exchange(
        port,
        b"GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: AVAYA/SIP12x0\x14/4\r\n"
        b"X-Twice: 1\r\nx-twice: 2\r\nConnection: close\r\n\r\n",
    )
    seen = json.loads(body)
    assert status == "HTTP/1.1 200 OK" and headers["Connection"] == "close"
    assert seen["method"] == "GET" and seen["target"] == "/a%20b?x=1"
    assert seen["headers"]["User-Agent"] == "AVAYA/SIP12x0\x14/4"
    assert seen["headers"]["X-Twice"] == seen["headers"]["x-twice"] == "1"
    assert seen["remote"] == "127.0.0.1"


def test_keep_alive_and_pipelined_requests(server: tuple[int, list[str]]) -> None:
    port, _ = server
    one = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
    two = b"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    three = b"HEAD /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    replies = _exchange(port, one + two + three, answers=3, head_last=True)
    assert [json.loads(b)["target"] for _, _, b in replies[:2]] == ["/1", "/2"]
    assert json.loads(replies[1][2])["body"] == "abc"
    assert replies[2][0] == "HTTP/1.1 200 OK" and int(replies[2][1]["Content-Length"]) > 0
    assert replies[2][2] == b""  # HEAD: no body


def test_pipelined_requests_before_eof_are_all_answered(server: tuple[int, list[str]]) -> None:
    port, _ = server
    requests = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" * 3
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        for _ in range(100):  # bounded: the server closes after the third answer
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 3


def test_chunked_body_and_expect_continue(server: tuple[int, list[str]]) -> None:
    port, _ = server
    request = (
        b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    continued, answer = _exchange(port, request, answers=2)
    assert continued[0] == "HTTP/1.1 100 Continue"
    assert json.loads(answer[2])["body"] == "abcde"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /x HTTP/1.1\r\nUser-Agent: a\x00b\r\n\r\n", "400 Bad Request"),
        (b"GET /x\r\n\r\n", "400 Bad Request"),
        (b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n", "400 Bad Request"),
        (b"GET /x HTTP/1.1\r\nContent-Length: 9999\r\n\r\n", "413 Request Entity Too Large"),
        (b"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400 Bad Request"),
        (b"GET /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented"),
        (b"GET /x HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", "400 Bad Request"),
        (
            b"PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + b"t" * 40000,
            "400 Bad Request",
        ),
    ],
)
def test_bad_requests_are_refused_and_closed(
    server: tuple[int, list[str]], request_bytes: bytes, status: str
) -> None:
    port, faults = server
    [(line, headers, _)] = _exchange(port, request_bytes)
    assert line == f"HTTP/1.1 {status}" and headers["Connection"] == "close"
    assert faults == []


def test_a_crash_of_respond_is_a_500_and_a_fault(server: tuple[int, list[str]]) -> None:
    port, faults = server
    [(line, _, body)] = _exchange(port, b"GET /boom HTTP/1.0\r\n\r\n")
    assert line == "HTTP/1.1 500 Internal Server Error" and b"boom" not in body
    assert faults == ["HTTP GET /boom"]


def test_parse_head_rejects_a_bad_version() -> None:
    with pytest.raises(Exception, match="invalid HTTP version"):
        parse_head(b"GET / HTTP/x")
