"""Hostile HTTP requests (docs/HTTP.md, "Errors" and "Limits and options", has the promised answers), each beside the
well-behaved clients of http_support.py:

- slowloris: 50 connections send a request head one byte every 200 ms; ``--http-request-timeout 1s`` answers each
  408 ``REQUEST_TIMEOUT`` and closes it, none before the timeout;
- oversized requests: a 17 KiB header, 101 header fields and an endless header block are 431 ``HEADERS_TOO_LARGE``;
  a declared body over ``--http-max-body`` is 413 ``MESSAGE_TOO_LARGE`` with no body byte sent, an endless chunked
  body is 413 once past the limit; each connection closed, the endless ones after the server stopped reading;
- malformed requests: garbage, a TLS ClientHello, a binary-protocol Hello, broken request lines and headers are 400
  ``MALFORMED_REQUEST`` and closed;
- pipelining: 50 requests in one ``send`` on one connection (GETs; then GETs and PATCHes mixed) are answered in
  order, each complete.
"""
from __future__ import annotations

import errno
import json
import random
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Final

import jobwire

from support import GONE_ERRNOS, KIB, PROCESS_ALLOWANCE_KIB, StartServer, recv_available
from http_support import (ANSWER_WAIT_S, CLOCK_TOLERANCE_S, HTTPScenario, HTTP_CONNECTION_KIB, Response,
                          assert_one_error, connect, exchange, parse_responses, push_until_closed, read_until_closed)


# ---------------------------------------------------------------------------------------------------------------------
# Slowloris.

SLOW_CONNECTIONS: Final = 50
REQUEST_TIMEOUT_S: Final = 1.0
SLOW_BYTE_INTERVAL_S: Final = 0.2
#: ~600 bytes of head: two minutes at five bytes a second, so a connection the server closes within the test's wait
#: has not sent a whole request.
SLOW_REQUEST: Final = (b"GET /v1/health HTTP/1.1\r\nHost: slowloris\r\nX-Slow: " + b"s" * 550 + b"\r\n\r\n")
#: Memory: per connection an idle HTTP connection and its partial head (< 1 KiB; NIO's read buffer is released
#: between reads, round it to 8 KiB); plus the process allowance.
SLOWLORIS_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + SLOW_CONNECTIONS * (HTTP_CONNECTION_KIB + 8)


@dataclass
class SlowConnection:
    sock: socket.socket
    first_byte_at: float
    next_send_at: float
    sent: int = 0
    received: bytearray = field(default_factory=bytearray)
    closed_at: float | None = None


def test_http_slowloris_headers(start_server: StartServer) -> None:
    """50 connections send a request head one byte every 200 ms: each is answered 408 REQUEST_TIMEOUT and closed
    once --http-request-timeout (1 s) has passed since its first byte, never before; the well-behaved clients are
    served throughout; descriptors come back before the clients close their ends."""
    server = start_server("--http-request-timeout", f"{int(REQUEST_TIMEOUT_S * 1000)}ms")
    with HTTPScenario("http_slowloris", server) as scenario:
        scenario.begin_attack()
        selector = selectors.DefaultSelector()
        connections: list[SlowConnection] = []
        for index in range(SLOW_CONNECTIONS):
            sock = connect(server.http_port)
            sock.setblocking(False)
            now = time.monotonic()  # before the send: the server's clock starts at its first read, after it
            sock.send(SLOW_REQUEST[:1])
            connection = SlowConnection(sock, now, now + SLOW_BYTE_INTERVAL_S, sent=1)
            connections.append(connection)
            selector.register(sock, selectors.EVENT_READ, connection)
        try:
            deadline = time.monotonic() + REQUEST_TIMEOUT_S + ANSWER_WAIT_S
            while any(c.closed_at is None for c in connections) and time.monotonic() < deadline:
                for key, _ in selector.select(0.02):
                    connection = key.data
                    data, gone = recv_available(connection.sock)
                    connection.received += data
                    if gone:
                        connection.closed_at = time.monotonic()
                        selector.unregister(connection.sock)
                now = time.monotonic()
                for connection in connections:
                    if connection.closed_at is None and now >= connection.next_send_at:
                        try:
                            connection.sent += connection.sock.send(SLOW_REQUEST[connection.sent:connection.sent + 1])
                        except OSError as failure:
                            if failure.errno not in GONE_ERRNOS and failure.errno != errno.EAGAIN:
                                raise
                        connection.next_send_at = now + SLOW_BYTE_INTERVAL_S
                scenario.rss.sample()
            open_ones = [c for c in connections if c.closed_at is None]
            assert not open_ones, (f"{len(open_ones)} of {SLOW_CONNECTIONS} trickling connections were still open "
                                   f"{REQUEST_TIMEOUT_S + ANSWER_WAIT_S} s after their first byte")
            # The server closed them all: its descriptors come back before the clients close their ends.
            scenario.wait_fds_released()
            scenario.end_attack()
            lifetimes = [c.closed_at - c.first_byte_at for c in connections if c.closed_at is not None]
            scenario.extra.update(connections=SLOW_CONNECTIONS, closed_after_min_s=round(min(lifetimes), 2),
                                  closed_after_max_s=round(max(lifetimes), 2),
                                  bytes_sent_max=max(c.sent for c in connections))
            for index, connection in enumerate(connections):
                what = f"slow connection {index} (sent {connection.sent} bytes)"
                assert connection.sent < len(SLOW_REQUEST), f"{what}: its request was complete"
                responses, leftover = parse_responses(bytes(connection.received))
                assert_one_error(responses, leftover, 408, "DEADLINE_EXCEEDED", "REQUEST_TIMEOUT", what)
                assert connection.closed_at is not None
                assert connection.closed_at - connection.first_byte_at >= REQUEST_TIMEOUT_S - CLOCK_TOLERANCE_S, (
                    f"{what} was closed {connection.closed_at - connection.first_byte_at:.3f} s after its first byte, "
                    f"before the {REQUEST_TIMEOUT_S} s request timeout")
        finally:
            selector.close()
            for connection in connections:
                connection.sock.close()
        scenario.assert_rss_growth_below(SLOWLORIS_RSS_BOUND_KIB, f"{SLOW_CONNECTIONS} trickling connections")
        scenario.finish()


# ---------------------------------------------------------------------------------------------------------------------
# Oversized heads and bodies.

MAX_BODY_BYTES: Final = 64 * KIB
#: What an endless request may push before the test gives up on the server ever answering: a server that kept
#: reading would take all of it; one that stops at its limit takes the limit plus what the two kernels buffer.
ENDLESS_CAP_BYTES: Final = 64 * 1024 * KIB
#: The most an endless request may get into the server before its answer: the limit (16 KiB of head, or the body
#: limit) plus one 64 KiB read, plus both sockets' kernel buffers on loopback (autotuned up to ~6 MiB receive and
#: ~4 MiB send): an upper bound, so a server that stops reading at its limit passes with room to spare.
ENDLESS_PUSHED_BOUND: Final = MAX_BODY_BYTES + 64 * KIB + 12 * 1024 * KIB
#: Memory: the largest request the server holds is one body of --http-max-body (64 KiB) or one head of 16 KiB,
#: plus a read buffer; 4 MiB on top of the allowance covers that many times over, where a server buffering the
#: endless requests would hold up to 64 MiB each.
OVERSIZED_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + 4 * 1024


def test_http_oversized_requests(start_server: StartServer) -> None:
    """Heads over 16 KiB or 100 fields are 431 HEADERS_TOO_LARGE; a body over --http-max-body is 413
    MESSAGE_TOO_LARGE: declared (answered with no body byte sent) or chunked without end (answered once past the
    limit, the server no longer reading); every such connection is closed, and everyone else is served."""
    server = start_server("--http-max-body", str(MAX_BODY_BYTES))
    with HTTPScenario("http_oversized", server) as scenario:
        scenario.begin_attack()
        port = server.http_port
        head = b"GET /v1/health HTTP/1.1\r\nHost: hostile\r\n"

        responses, leftover = exchange(port, head + b"X-Big: " + b"a" * (17 * KIB) + b"\r\n\r\n")
        assert_one_error(responses, leftover, 431, "RESOURCE_EXHAUSTED", "HEADERS_TOO_LARGE", "a 17 KiB header")

        many = b"".join(b"X-Field-%d: %d\r\n" % (index, index) for index in range(101))
        responses, leftover = exchange(port, head + many + b"\r\n")
        assert_one_error(responses, leftover, 431, "RESOURCE_EXHAUSTED", "HEADERS_TOO_LARGE", "101 header fields")

        # Many fields, each small, that add up to more than 16 KiB (below 100 fields).
        wide = b"".join(b"X-Wide-%d: %s\r\n" % (index, b"w" * 400) for index in range(50))
        responses, leftover = exchange(port, head + wide + b"\r\n")
        assert_one_error(responses, leftover, 431, "RESOURCE_EXHAUSTED", "HEADERS_TOO_LARGE",
                         "50 fields of 400 bytes")

        endless_head = push_until_closed(port, head + b"X-Endless: ", b"e" * (16 * KIB), ENDLESS_CAP_BYTES)
        assert endless_head.server_closed, f"an endless header: not closed; pushed {endless_head.pushed} bytes"
        assert_one_error(endless_head.responses, endless_head.leftover, 431, "RESOURCE_EXHAUSTED",
                         "HEADERS_TOO_LARGE", "an endless header")
        assert endless_head.pushed < ENDLESS_PUSHED_BOUND, (
            f"an endless header: the server took {endless_head.pushed} bytes before answering")

        # A declared body over the limit: the answer comes although no byte of the body was sent.
        declared = (b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000000\r\n\r\n")
        responses, leftover = exchange(port, declared)
        assert_one_error(responses, leftover, 413, "INVALID_ARGUMENT", "MESSAGE_TOO_LARGE",
                         "a declared 100 MB body (none of it sent)")

        # Just over the limit, declared and sent whole: 413 too (the limit is the limit, not a round number).
        body = b"[" + b" " * MAX_BODY_BYTES + b"]"
        responses, leftover = exchange(port, b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Type: "
                                       b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert_one_error(responses, leftover, 413, "INVALID_ARGUMENT", "MESSAGE_TOO_LARGE",
                         f"a {len(body)}-byte body")

        chunk = b"%x\r\n%s\r\n" % (8 * KIB, b"c" * (8 * KIB))
        endless_body = push_until_closed(port, b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Type: "
                                         b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n", chunk,
                                         ENDLESS_CAP_BYTES)
        assert endless_body.server_closed, f"an endless chunked body: not closed; pushed {endless_body.pushed} bytes"
        assert_one_error(endless_body.responses, endless_body.leftover, 413, "INVALID_ARGUMENT", "MESSAGE_TOO_LARGE",
                         "an endless chunked body")
        assert endless_body.pushed < ENDLESS_PUSHED_BOUND, (
            f"an endless chunked body: the server took {endless_body.pushed} bytes before answering")

        scenario.extra.update(endless_head_pushed_kib=endless_head.pushed // KIB,
                              endless_body_pushed_kib=endless_body.pushed // KIB)
        scenario.wait_fds_released()
        scenario.end_attack()
        scenario.assert_rss_growth_below(OVERSIZED_RSS_BOUND_KIB, "oversized heads and bodies")
        scenario.finish(min_attack_calls=1)


# ---------------------------------------------------------------------------------------------------------------------
# Malformed requests.

MALFORMED: Final = {
    "garbage bytes": bytes(random.Random(3).randrange(256) for _ in range(512)),
    "a TLS ClientHello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),
    "a binary-protocol Hello": b"\x00\x00\x00\x10\x0a\x0e\x08\x01\x12\x0ahostile-hello",
    "no HTTP version": b"GET /v1/health\r\n\r\n",
    "HTTP/7.3": b"GET /v1/health HTTP/7.3\r\nHost: hostile\r\n\r\n",
    "a space in the target": b"GET /v1/he alth HTTP/1.1\r\nHost: hostile\r\n\r\n",
    "a NUL in the method": b"G\x00T /v1/health HTTP/1.1\r\nHost: hostile\r\n\r\n",
    "a target that is not a path": b"GET nopath HTTP/1.1\r\nHost: hostile\r\n\r\n",
    "a header line without a colon": b"GET /v1/health HTTP/1.1\r\nHost: hostile\r\nno colon here\r\n\r\n",
    "a content-length that is no number": b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Length: abc\r\n\r\n",
    "two content-lengths": b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "content-length and chunked": (b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nTransfer-Encoding: chunked\r\n"
                                   b"Content-Length: 3\r\n\r\n0\r\n\r\n"),
    "a chunk size that is no number": (b"POST /v1/jobs HTTP/1.1\r\nHost: hostile\r\nContent-Type: application/json\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
    "CRLFs and text": b"\r\n\r\nhello world\r\n\r\n",
}
MALFORMED_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + 4 * 1024


def test_http_malformed_requests(start_server: StartServer) -> None:
    """Bytes that are not HTTP/1.1 are answered 400 MALFORMED_REQUEST and the connection closed, also after a valid
    request on the same connection and for a megabyte of garbage; everyone else is served."""
    server = start_server()
    with HTTPScenario("http_malformed", server) as scenario:
        scenario.begin_attack()
        port = server.http_port
        for what, data in MALFORMED.items():
            responses, leftover = exchange(port, data)
            assert_one_error(responses, leftover, 400, "INVALID_ARGUMENT", "MALFORMED_REQUEST", what)

        # A valid request, then garbage, in one send: the first is answered, then the 400, then the close.
        responses, leftover = exchange(port, b"GET /v1/health HTTP/1.1\r\nHost: hostile\r\n\r\n"
                                             b"\x00\x01junk\r\n\r\n")
        assert [r.status for r in responses] == [200, 400] and not leftover, (responses, leftover)
        assert responses[0].json()["status"] == "serving"
        assert_one_error(responses[1:], b"", 400, "INVALID_ARGUMENT", "MALFORMED_REQUEST", "garbage after a request")

        # Garbage without end: answered at its first bytes, the rest never read.
        noise = bytes(random.Random(5).randrange(256) for _ in range(64 * KIB))
        flood = push_until_closed(port, b"\x00", noise, ENDLESS_CAP_BYTES)
        assert flood.server_closed, f"endless garbage: not closed; pushed {flood.pushed} bytes"
        assert_one_error(flood.responses, flood.leftover, 400, "INVALID_ARGUMENT", "MALFORMED_REQUEST",
                         "endless garbage")
        assert flood.pushed < ENDLESS_PUSHED_BOUND, f"endless garbage: the server took {flood.pushed} bytes"

        scenario.extra.update(variants=len(MALFORMED) + 2, flood_pushed_kib=flood.pushed // KIB)
        scenario.wait_fds_released()
        scenario.end_attack()
        scenario.assert_rss_growth_below(MALFORMED_RSS_BOUND_KIB, "malformed requests")
        scenario.finish(min_attack_calls=1)


# ---------------------------------------------------------------------------------------------------------------------
# Pipelining.

PIPELINED: Final = 50


def test_http_pipelining(start_server: StartServer) -> None:
    """50 requests written in one send on one connection are answered in order, each whole: GETs of the health,
    of 50 different jobs and of unknown routes; then GETs and PATCHes (answered once their commit is done) mixed.
    The last request says ``Connection: close``, so the server closes after the 50th answer."""
    server = start_server()
    setup = server.client(timeout=10)
    job_ids = [setup.configure(jobwire.JobSpec(type="pipelined")).job.job_id for _ in range(PIPELINED)]
    setup.close()
    with HTTPScenario("http_pipelining", server) as scenario:
        scenario.begin_attack()

        def request(index: int, method: str, path: str, body: bytes = b"") -> bytes:
            close = b"Connection: close\r\n" if index == PIPELINED - 1 else b""
            length = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body) if body else b""
            return f"{method} {path} HTTP/1.1\r\nHost: hostile\r\n".encode() + close + length + b"\r\n" + body

        def check(index: int, kind: str, response: Response) -> None:
            what = f"pipelined request {index} ({kind})"
            if kind == "health":
                assert response.status == 200 and response.json()["status"] == "serving", (what, response)
            elif kind == "get":
                assert response.status == 200 and response.json()["job_id"] == job_ids[index], (what, response)
            elif kind == "patch":
                answer = response.json()
                assert response.status == 200 and answer["job_id"] == job_ids[index], (what, response)
                assert answer["progress"] == index, (what, answer["progress"])
            else:
                assert response.status == 404 and response.error() == ("NOT_FOUND", "ROUTE_NOT_FOUND"), (what, response)
                assert f"/v1/nope/{index}" in response.json()["error"]["message"], (what, response.body)

        rounds = {
            "gets": [("health", "get", "missing")[index % 3] for index in range(PIPELINED)],
            "mixed": [("patch", "get", "health", "patch", "missing")[index % 5] for index in range(PIPELINED)],
        }
        for name, kinds in rounds.items():
            data = b""
            for index, kind in enumerate(kinds):
                if kind == "health":
                    data += request(index, "GET", "/v1/health")
                elif kind == "get":
                    data += request(index, "GET", f"/v1/jobs/{job_ids[index]}")
                elif kind == "patch":
                    data += request(index, "PATCH", f"/v1/jobs/{job_ids[index]}",
                                    json.dumps({"progress": index}).encode())
                else:
                    data += request(index, "GET", f"/v1/nope/{index}")
            sock = connect(server.http_port)
            try:
                sock.sendall(data)  # one send: ~5 KiB, taken whole by an empty socket buffer
                responses, leftover = parse_responses(read_until_closed(sock))
            finally:
                sock.close()
            assert len(responses) == PIPELINED and not leftover, (
                f"round {name}: {len(responses)} whole responses to {PIPELINED} pipelined requests, "
                f"then {leftover[:300]!r}")
            for index, (kind, response) in enumerate(zip(kinds, responses)):
                check(index, kind, response)
            assert responses[-1].headers.get("connection", "").lower() == "close"

        scenario.extra.update(pipelined=PIPELINED, rounds=len(rounds))
        scenario.wait_fds_released()
        scenario.end_attack()
        scenario.assert_rss_growth_below(PROCESS_ALLOWANCE_KIB, "two pipelined connections")
        scenario.finish(min_attack_calls=1)
