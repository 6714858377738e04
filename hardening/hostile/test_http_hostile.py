"""Hostile clients on the HTTP/JSON and Server-Sent Events port (``--http-port``, Sources/JobWireHTTP).

Why: the HTTP front end has its own connection handling (SwiftNIO's HTTP/1.1 codec, ``RequestTimeouts``, the
connection limit, event streams with their own output buffers), so the binary port's defences do not cover it. Each
scenario runs the suite's frame (``support.Scenario``: a well-behaved binary client, peak RSS, descriptors, a fresh
client at the end) plus a well-behaved *HTTP* client (:class:`HTTPProbe`: GET /v1/health, GET and PATCH of its own
job, 10 ms apart, on one keep-alive connection with a 2 s deadline per call) before, during and after the attack;
every call of both must succeed, and the HTTP one must never see its connection closed.

The attacks, one ``jobwired`` each (docs/HTTP.md, "Errors" and "Limits and options", has the promised answers):

- slowloris: 50 connections send a request head one byte every 200 ms; ``--http-request-timeout 1s`` answers each
  408 ``REQUEST_TIMEOUT`` and closes it, none before the timeout;
- oversized requests: a 17 KiB header, 101 header fields and an endless header block are 431 ``HEADERS_TOO_LARGE``;
  a declared body over ``--http-max-body`` is 413 ``MESSAGE_TOO_LARGE`` with no body byte sent, an endless chunked
  body is 413 once past the limit; each connection closed, the endless ones after the server stopped reading;
- malformed requests: garbage, a TLS ClientHello, a binary-protocol Hello, broken request lines and headers are 400
  ``MALFORMED_REQUEST`` and closed;
- pipelining: 50 requests in one ``send`` on one connection (GETs; then GETs and PATCHes mixed) are answered in
  order, each complete;
- event streams that are never read: 50 ``GET /v1/jobs/{id}/events`` with a 4 KiB receive buffer while the job gets
  2,000 updates of ~10 KiB events; memory stays within the documented per-stream bound, a reading watcher gets the
  terminal event, an unread stream that finally reads gets the transitions with the changes collapsed;
- 10,000 idle connections beside the well-behaved clients, then all closed;
- ``--http-idle-timeout 2s``: idle connections (silent, or after one answered request) are closed by the server;
- ``--http-max-connections 50``: the next connections are answered 503 ``TOO_MANY_CONNECTIONS`` and closed, and
  a freed slot is usable again.

Nothing asserts on speed: waits are on conditions, with generous deadlines against hanging.
"""
from __future__ import annotations

import errno
import http.client
import json
import random
import resource
import select
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

import jobwire
import pytest
from helpers import EventStream, Server, _header_dict, error_of, wait_for

from support import (CALL_TIMEOUT_S, DEADLINE_SLACK_S, GONE_ERRNOS, KIB, PROCESS_ALLOWANCE_KIB, CallRecord, Scenario,
                     StartServer, nofile_limits, percentile, recv_available, rss_kib)
from test_idle_connections import soft_nofile

#: Baseline calls of each well-behaved client before an attack (the suite's default is 60; these scenarios are many).
BASELINE_CALLS: Final = 30
#: How long a test waits for the server to answer or close a hostile connection: a bound against hanging, far above
#: anything a loaded debug build needs, not a speed goal.
ANSWER_WAIT_S: Final = 10.0
#: Lower bound of how early a timeout may fire, for the clock readings (ours start before the server's).
CLOCK_TOLERANCE_S: Final = 0.05
#: What one HTTP connection may cost the server, idle: SwiftNIO's channel, its pipeline (RequestTimeouts, the HTTP
#: decoder and encoder, the pipelining handler, the connection handler) and a timer. The 10,000-connection scenario
#: measures it (``per_connection_kib``); a buffer kept per connection (64 KiB reads, 1 MiB output) would be far above.
HTTP_CONNECTION_KIB: Final = 16


# ---------------------------------------------------------------------------------------------------------------------
# The well-behaved HTTP client and the scenario frame around it.


class HTTPProbe:
    """A polite HTTP client beside the attack: GET /v1/health, GET /v1/jobs/{its job}, PATCH /v1/jobs/{its job},
    in turn, 10 ms apart, on one keep-alive connection.

    Each call is recorded like :class:`support.WellBehavedClient`'s (phase, duration, error); :meth:`check` asserts
    every one succeeded within :data:`support.CALL_TIMEOUT_S`. A call that finds its connection closed by the server
    (a reset, an early EOF, or ``connection: close`` on an answer) is a failure too: the server must never drop a
    healthy client to make room, and a probe that reconnected silently would hide it.
    """

    def __init__(self, server: Server, name: str = "http-probe", pause_s: float = 0.01) -> None:
        self.server = server
        self.name = name
        self.pause_s = pause_s
        status, _, body = server.json("POST", "/v1/jobs", {"type": "hostile-http-probe"})
        assert status == 201, (status, body)
        self.job_id: str = body["job_id"]
        self.phase = "baseline"
        self.records: list[CallRecord] = []
        self.connections_opened = 0
        self._connection: http.client.HTTPConnection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"well-behaved-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=CALL_TIMEOUT_S)
            self._connection.connect()
            self.connections_opened += 1
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        self._connection.request(method, path, body=payload, headers=headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.will_close:
            self._reset()
            raise AssertionError(f"{method} {path}: the server closed the probe's keep-alive connection "
                                 f"({response.status}, connection: {response.getheader('connection')})")
        if response.status != 200:
            raise AssertionError(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data)

    def _reset(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            phase = self.phase
            kind = ("health", "get", "patch")[index % 3]
            started = time.monotonic()
            error = ""
            try:
                if kind == "health":
                    answer = self._call("GET", "/v1/health")
                    if answer.get("status") != "serving":
                        error = f"health answered {answer}"
                elif kind == "get":
                    answer = self._call("GET", f"/v1/jobs/{self.job_id}")
                    if answer.get("job_id") != self.job_id:
                        error = f"GET returned job {answer.get('job_id')}"
                else:
                    answer = self._call("PATCH", f"/v1/jobs/{self.job_id}", {"progress": index % 100})
                    if answer.get("job_id") != self.job_id:
                        error = f"PATCH returned job {answer.get('job_id')}"
            except Exception as failure:  # any failure is a failed call, not a dead probe thread
                error = f"{type(failure).__name__}: {failure}"
                self._reset()
            self.records.append(CallRecord(phase, kind, time.monotonic() - started, error))
            index += 1
            self._stop.wait(self.pause_s)
        self._reset()

    def calls(self, phase: str) -> list[CallRecord]:
        return [record for record in list(self.records) if record.phase == phase]

    def wait_calls(self, phase: str, count: int, timeout: float = 10.0) -> None:
        wait_for(lambda: len(self.calls(phase)) >= count, timeout=timeout,
                 what=f"{count} calls of the well-behaved HTTP client in phase {phase}")

    def latencies_ms(self, phase: str) -> list[float]:
        return [record.seconds * 1000 for record in self.calls(phase) if not record.error]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CALL_TIMEOUT_S * 3 + 5)
        assert not self._thread.is_alive(), f"the well-behaved client {self.name} is stuck in a call"

    def check(self, min_attack_calls: int = 5) -> None:
        records = list(self.records)
        failed = [record for record in records if record.error]
        assert not failed, (f"{len(failed)} of {len(records)} calls of the well-behaved HTTP client failed; first "
                            f"ones: {[(r.phase, r.method, round(r.seconds, 3), r.error) for r in failed[:5]]}")
        late = [record for record in records if record.seconds > CALL_TIMEOUT_S + DEADLINE_SLACK_S]
        assert not late, f"calls of {self.name} took longer than their {CALL_TIMEOUT_S} s deadline: {late[:5]}"
        attack = self.calls("attack")
        assert len(attack) >= min_attack_calls, (
            f"the well-behaved HTTP client finished only {len(attack)} calls during the attack: it was not served")
        assert self.connections_opened == 1, (
            f"the well-behaved HTTP client needed {self.connections_opened} connections: the server closed its "
            f"keep-alive connection")


class HTTPScenario(Scenario):
    """:class:`support.Scenario` with an :class:`HTTPProbe` beside the binary well-behaved client: both run through
    baseline, attack and after, both are checked, and the report line adds the HTTP client's latencies
    (``http_*``)."""

    def __init__(self, name: str, server: Server, baseline_calls: int = BASELINE_CALLS) -> None:
        super().__init__(name, server, baseline_calls)
        self.web = HTTPProbe(server)

    def __enter__(self) -> HTTPScenario:
        self.web.start()
        super().__enter__()
        self.web.wait_calls("baseline", self.baseline_calls)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> None:
        self.web.stop()
        super().__exit__(exc_type, exc, traceback)

    def begin_attack(self) -> None:
        super().begin_attack()
        self.web.phase = "attack"

    def end_attack(self) -> int:
        peak = super().end_attack()
        self.web.phase = "after"
        return peak

    def finish(self, min_attack_calls: int = 5) -> None:
        """Both well-behaved clients checked, a fresh HTTP connection and a fresh binary client served."""
        self.web.wait_calls("after", 3)
        self.web.stop()
        status, _, body = self.server.http("GET", "/v1/health", timeout=CALL_TIMEOUT_S)
        assert status == 200 and json.loads(body)["status"] == "serving", (status, body[:300])
        status, _, body = self.server.http("GET", f"/v1/jobs/{self.web.job_id}", timeout=CALL_TIMEOUT_S)
        assert status == 200 and json.loads(body)["job_id"] == self.web.job_id, (status, body[:300])
        super().finish(min_attack_calls)
        self.web.check(min_attack_calls)

    def report(self) -> str:
        attack = self.web.latencies_ms("attack")
        slowest = max((r for r in self.web.calls("attack") if not r.error), key=lambda r: r.seconds, default=None)
        self.extra.update(http_baseline_p50_ms=f"{percentile(self.web.latencies_ms('baseline'), 0.50):.1f}",
                          http_attack_p50_ms=f"{percentile(attack, 0.50):.1f}",
                          http_attack_p99_ms=f"{percentile(attack, 0.99):.1f}",
                          http_attack_max_ms=f"{max(attack, default=0.0):.1f}",
                          http_attack_slowest=slowest.method if slowest else "-",
                          http_attack_calls=len(attack))
        return super().report()


# ---------------------------------------------------------------------------------------------------------------------
# Raw HTTP on sockets.


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> tuple[str, str]:
        """(code, reason) of the JSON error body, its shape checked (helpers.error_of)."""
        assert self.headers.get("content-type", "").startswith("application/json"), self.headers
        return error_of(json.loads(self.body))

    def json(self) -> Any:
        return json.loads(self.body)


def parse_responses(data: bytes) -> tuple[list[Response], bytes]:
    """The complete responses at the start of `data` (bodies framed by content-length), and the bytes after them."""
    responses: list[Response] = []
    while (end := data.find(b"\r\n\r\n")) >= 0:
        lines = data[:end].decode("latin-1").split("\r\n")
        version, status, _ = (lines[0].split(" ", 2) + [""])[:3]
        assert version == "HTTP/1.1", f"not an HTTP/1.1 status line: {lines[0]!r}"
        headers = {name: value.strip() for name, value in
                   _header_dict([tuple(line.split(":", 1)) for line in lines[1:]]).items()}  # type: ignore[misc]
        rest = data[end + 4:]
        if int(status) in (204, 304):
            length = 0
        else:
            assert "content-length" in headers, f"a response without content-length: {lines}"
            length = int(headers["content-length"])
        if len(rest) < length:
            break
        responses.append(Response(int(status), headers, rest[:length]))
        data = rest[length:]
    return responses, data


def connect(port: int, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(ANSWER_WAIT_S)
    sock.connect(("127.0.0.1", port))
    return sock


def read_until_closed(sock: socket.socket, timeout: float = ANSWER_WAIT_S) -> bytes:
    """Everything the server sends until it closes the connection (EOF or reset); fails after `timeout` s."""
    sock.setblocking(False)
    received = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        data, gone = recv_available(sock)
        received += data
        if gone:
            return bytes(received)
        remaining = deadline - time.monotonic()
        assert remaining > 0, (f"the server did not close the connection within {timeout} s; "
                               f"got {bytes(received)[:300]!r}")
        wait_ready(sock, select.POLLIN, min(remaining, 0.2))


def wait_ready(sock: socket.socket, events: int, timeout: float) -> int:
    """poll() for `events` on one socket (select() cannot take descriptors above 1,023); the events that came."""
    poller = select.poll()
    poller.register(sock, events)
    ready = poller.poll(timeout * 1000)
    return ready[0][1] if ready else 0


def exchange(port: int, data: bytes) -> tuple[list[Response], bytes]:
    """Sends `data` on a new connection and reads until the server closes it: its responses, and any bytes after
    them (which should be none)."""
    sock = connect(port)
    try:
        try:
            sock.sendall(data)
        except OSError as failure:
            if failure.errno not in GONE_ERRNOS:
                raise
        return parse_responses(read_until_closed(sock))
    finally:
        sock.close()


@dataclass
class PushResult:
    responses: list[Response]
    leftover: bytes
    pushed: int
    server_closed: bool


def push_until_closed(port: int, head: bytes, piece: bytes, cap_bytes: int) -> PushResult:
    """Sends `head`, then `piece` over and over (at most `cap_bytes` in all), reading all the while, until the
    server closes the connection: an endless request. `pushed` counts the bytes the kernel took from us."""
    sock = connect(port)
    sock.sendall(head)
    sock.setblocking(False)
    received = bytearray()
    pushed = len(head)
    pushing = True
    closed = False
    deadline = time.monotonic() + ANSWER_WAIT_S
    try:
        while not closed and time.monotonic() < deadline:
            ready = wait_ready(sock, select.POLLIN | (select.POLLOUT if pushing and pushed < cap_bytes else 0), 0.1)
            readable = ready & (select.POLLIN | select.POLLHUP | select.POLLERR)
            writable = ready & select.POLLOUT
            if readable:
                data, closed = recv_available(sock)
                received += data
            if writable and not closed:
                try:
                    pushed += sock.send(piece)
                except BlockingIOError:
                    pass
                except OSError as failure:
                    if failure.errno not in GONE_ERRNOS:
                        raise
                    pushing = False  # the server is gone; what it sent before is still readable
        responses, leftover = parse_responses(bytes(received))
        return PushResult(responses, leftover, pushed, closed)
    finally:
        sock.close()


def assert_one_error(responses: list[Response], leftover: bytes, status: int, code: str, reason: str,
                     what: str) -> None:
    """Exactly one response, `status` with the JSON error (code, reason) and ``connection: close``, nothing after."""
    assert len(responses) == 1 and not leftover, f"{what}: expected one {status} response, got {responses} {leftover!r}"
    response = responses[0]
    assert response.status == status, f"{what}: answered {response.status} {response.body[:300]!r}, not {status}"
    assert response.error() == (code, reason), f"{what}: {response.body[:300]!r}"
    assert response.headers.get("connection", "").lower() == "close", f"{what}: {response.headers}"


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


# ---------------------------------------------------------------------------------------------------------------------
# Event streams that are never read.

UNREAD_STREAMS: Final = 50
UPDATES: Final = 2_000
UPDATER_THREADS: Final = 4
#: A bound against hanging for the updates and the watcher's reading, not a speed goal (they take ~8 s).
UPDATES_WAIT_S: Final = 45.0
SSE_OUTPUT_BUFFER_BYTES: Final = 64 * KIB
CLIENT_RCVBUF: Final = 4 * KIB
#: The job's labels: 16 of 63 + 256 bytes, in every event's job JSON.
LABELS: Final = {f"label-{index:02d}-" + "k" * 54: "v" * 256 for index in range(16)}
#: Each update: a 4 KiB current task (in the job JSON) and one 2 KiB log line (in new_log_lines).
TASK: Final = "t" * 4000
LOG_LINE: Final = "l" * 2048
#: One change event on the wire: the job JSON (labels ~5.3 KiB, task 4 KiB, the rest < 1 KiB) and the log line.
EVENT_KIB: Final = 12
#: What the job itself keeps per update, measured without any HTTP client: its 2 KiB log line (a job keeps up to
#: 10,000; docs/OPERATIONS.md) in the registry and its stored encoding, plus the allocator's slack.
JOB_KIB_PER_UPDATE: Final = 6
#: Memory bound, from docs/OPERATIONS.md ("Limits and memory") and docs/HTTP.md ("the server's memory per stream
#: stays bounded by --max-output-buffer-bytes"). Per stream (50 unread + the reading watcher): the output buffer
#: (64 KiB), one event past it, the held events (one per status transition plus one: pending to running, running to
#: completed, one change; 3 events) and the connection itself, so 64 + 4 x 12 + 16 = 128 KiB; the job's own growth
#: (6 KiB x 2,000 updates = ~11.7 MiB); its watch history (256 KiB); the process allowance (16 MiB). About 35 MiB. A
#: server that queued every event for every unread stream would need 50 x 2,000 x 12 KiB = 1.1 GiB; one that only
#: leaked events per update, not per stream, would grow without bound with the number of updates.
UNREAD_RSS_BOUND_KIB: Final = (PROCESS_ALLOWANCE_KIB + (UNREAD_STREAMS + 1) * (SSE_OUTPUT_BUFFER_BYTES // KIB
                                                                                + 4 * EVENT_KIB + HTTP_CONNECTION_KIB)
                               + UPDATES * JOB_KIB_PER_UPDATE + 256)


class LoadUpdaters:
    """Well-behaved workers: `threads` binary clients updating one job `total` times in all (progress, a 4 KiB task,
    a 2 KiB log line), as fast as their calls return; every call must succeed."""

    def __init__(self, server: Server, job_id: str, total: int, threads: int) -> None:
        self.job_id = job_id
        self.clients = [server.client(timeout=CALL_TIMEOUT_S, client_name=f"hostile-suite/updater-{index}")
                        for index in range(threads)]
        self.per_thread = total // threads
        self.done = [0] * threads
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(threads)]

    def _run(self, index: int) -> None:
        client = self.clients[index]
        for step in range(self.per_thread):
            try:
                client.update(self.job_id, progress=float(step % 100), current_task=f"{TASK}{index}/{step}",
                              log_lines=[LOG_LINE])
            except jobwire.JobWireError as failure:
                self.failures.append(f"{failure.code.name}/{failure.reason}: {failure.message}")
            self.done[index] += 1

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        for client in self.clients:
            client.close()

    @property
    def updates(self) -> int:
        return sum(self.done)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in self.threads), (
            f"the updaters did not finish {self.per_thread * len(self.threads)} updates within {timeout} s "
            f"({self.updates} done)")
        assert not self.failures, f"{len(self.failures)} updates failed: {self.failures[:5]}"


def open_unread_stream(server: Server, path: str) -> EventStream:
    """An event stream with a tiny receive buffer whose response head is read, and then nothing more."""
    sock = connect(server.http_port, receive_buffer=CLIENT_RCVBUF)
    stream = EventStream(sock, ANSWER_WAIT_S)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: hostile\r\nAccept: text/event-stream\r\n\r\n".encode())
    stream._read_head()
    assert stream.status == 200 and stream.headers.get("content-type", "").startswith("text/event-stream"), (
        stream.status, stream.headers)
    return stream


def test_http_event_streams_never_read(start_server: StartServer) -> None:
    """50 event streams on one job that never read (4 KiB receive buffers), while 2,000 updates make ~12 KiB events:
    the server's memory stays within the per-stream bound, a watcher that reads gets every status transition and the
    terminal event, one of the unread streams that finally reads gets the transitions with the plain changes
    collapsed, and once the rest close the server releases their descriptors and watches."""
    server = start_server("--max-output-buffer-bytes", str(SSE_OUTPUT_BUFFER_BYTES), "--http-heartbeat", "1s")
    setup = server.client(timeout=10)
    job_id = setup.configure(jobwire.JobSpec(type="sse-hostile", labels=LABELS)).job.job_id
    path = f"/v1/jobs/{job_id}/events"
    with HTTPScenario("http_unread_streams", server) as scenario:
        scenario.begin_attack()
        unread = [open_unread_stream(server, path) for _ in range(UNREAD_STREAMS)]
        try:
            watcher = server.sse(path, timeout=30)
            watched: list[dict[str, Any]] = []
            watcher_failure: list[BaseException] = []

            def watch() -> None:
                try:
                    watched.extend(watcher.until_end())
                except BaseException as failure:  # reported by the main thread
                    watcher_failure.append(failure)

            watching = threading.Thread(target=watch, name="sse-watcher", daemon=True)
            watching.start()
            setup.update(job_id, status=jobwire.JobStatus.RUNNING)
            updaters = LoadUpdaters(server, job_id, UPDATES, UPDATER_THREADS)
            updaters.start()
            updaters.join(timeout=UPDATES_WAIT_S)
            updaters.close()
            setup.update(job_id, status=jobwire.JobStatus.COMPLETED)
            watching.join(timeout=UPDATES_WAIT_S)
            assert not watching.is_alive(), (
                f"the reading watcher did not reach the end of its stream ({len(watched)} events)")
            assert not watcher_failure, f"the reading watcher failed: {watcher_failure[0]!r}"
            watcher.close()
            scenario.end_attack()
            scenario.extra.update(unread_streams=UNREAD_STREAMS, updates=updaters.updates, watcher_events=len(watched),
                                  rss_growth_per_update_kib=round(scenario.rss.growth_kib / updaters.updates, 1))
            assert watcher.ended, "the reading watcher's stream did not end with its last chunk"
            statuses = [event["data"]["job"]["status"] for event in watched if event["data"].get("job")]
            assert statuses and statuses[-1] == "completed", f"the watcher's last events: {watched[-2:]}"
            assert "running" in statuses, "the watcher did not see the transition to running"

            # One unread stream reads now: the held transitions arrive, the plain changes collapsed, then the end.
            late = unread.pop()
            late_events = late.until_end()
            late_statuses = [event["data"]["job"]["status"] for event in late_events if event["data"].get("job")]
            assert late_statuses and late_statuses[-1] == "completed" and "running" in late_statuses, late_statuses[-5:]
            late.close()
            scenario.extra.update(late_reader_events=len(late_events))
            assert len(late_events) < UPDATES, (
                f"the stream that did not read got {len(late_events)} events for {UPDATES} updates: nothing was "
                "collapsed, so every event was queued for it")

            ended_before = watch_calls_ended(scenario)
        finally:
            for stream in unread:
                stream.close()
        # The server sees each close: it ends the stream's call (counted in Stats as a WatchJob call, ended by the
        # connection's loss), which also removes its watch; and it releases the descriptor.
        wait_for(lambda: watch_calls_ended(scenario) >= ended_before + UNREAD_STREAMS - 1, timeout=ANSWER_WAIT_S,
                 interval=0.05, what=f"the {UNREAD_STREAMS - 1} closed event streams to end their WatchJob calls")
        scenario.wait_fds_released()
        scenario.finish()
        # The peak of the attack (read when it ended, before anything closed) against the per-stream bound; checked
        # last, so that a failure here still shows whether everything else held.
        scenario.assert_rss_growth_below(
            UNREAD_RSS_BOUND_KIB,
            f"{UNREAD_STREAMS} unread streams and one reader, {updaters.updates} updates of ~{EVENT_KIB} KiB events "
            f"({scenario.rss.growth_kib / updaters.updates:.1f} KiB per update)")


def watch_calls_ended(scenario: Scenario) -> int:
    """WatchJob calls the server has seen end (both ports), from Stats."""
    return sum(entry.calls for entry in scenario.stats().methods if entry.method.endswith("WatchJob"))


# ---------------------------------------------------------------------------------------------------------------------
# 10,000 idle connections.

IDLE_CONNECTIONS: Final = 10_000
SPARE_DESCRIPTORS: Final = 2_000
SERVER_SOFT_NOFILE: Final = 1024
IN_FLIGHT: Final = 256
OPEN_WAIT_S: Final = 60.0
#: Connections of the 10,000 that are asked for an answer at the end, to show they were held, not dropped.
SAMPLED: Final = 100
#: The peak of the whole scenario: 10,000 idle HTTP connections plus the allowance.
IDLE_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + IDLE_CONNECTIONS * HTTP_CONNECTION_KIB


def open_silent_connections(port: int, count: int, scenario: Scenario) -> list[socket.socket]:
    """`count` TCP connections to `port`, `IN_FLIGHT` connecting at a time on non-blocking sockets; nothing sent."""
    selector = selectors.DefaultSelector()
    done: list[socket.socket] = []
    started = 0
    deadline = time.monotonic() + OPEN_WAIT_S
    try:
        while len(done) < count:
            assert time.monotonic() < deadline, f"only {len(done)} of {count} connections opened in {OPEN_WAIT_S} s"
            while started < count and started - len(done) < IN_FLIGHT:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                code = sock.connect_ex(("127.0.0.1", port))
                assert code in (0, errno.EINPROGRESS), f"connect failed: {errno.errorcode.get(code, code)}"
                selector.register(sock, selectors.EVENT_WRITE)
                started += 1
            for key, _ in selector.select(1.0):
                sock = key.fileobj  # type: ignore[assignment]
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                assert code == 0, f"connection {len(done) + 1} failed: {errno.errorcode.get(code, code)}"
                selector.unregister(sock)
                done.append(sock)
            scenario.rss.sample()
    except BaseException:
        for sock in done:
            sock.close()
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        raise
    finally:
        selector.close()
    return done


def http_connections(server: Server) -> int:
    """The HTTP front end's own count of its open connections (/v1/health/detailed, component ``http``), over a
    fresh connection (counted too)."""
    status, _, body = server.http("GET", "/v1/health/detailed", timeout=CALL_TIMEOUT_S)
    assert status == 200, (status, body[:300])
    components = {component["name"]: component for component in json.loads(body)["components"]}
    return int(components["http"]["measures"]["connections"])


def test_http_ten_thousand_idle_connections(start_server: StartServer) -> None:
    """10,000 HTTP connections that send nothing: the server holds them all (a sample of them still answers at the
    end), keeps serving the well-behaved clients and fresh connections, and releases every descriptor when they
    close. The test raises its own soft RLIMIT_NOFILE to the hard limit, as test_idle_connections.py does; the server
    is started with a soft limit of 1,024 and must raise its own."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < IDLE_CONNECTIONS + SPARE_DESCRIPTORS:
        pytest.skip(f"the hard RLIMIT_NOFILE is {hard}; {IDLE_CONNECTIONS + SPARE_DESCRIPTORS} descriptors are "
                    f"needed (raise it, e.g. `ulimit -Hn 20000` as root, or LimitNOFILE= in the unit)")
    # --http-max-connections is raised: its default, exactly 10,000, leaves no room for the well-behaved clients.
    with soft_nofile(SERVER_SOFT_NOFILE):
        server = start_server("--http-max-connections", str(IDLE_CONNECTIONS + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        server_soft, _ = nofile_limits(server.process.pid)  # type: ignore[union-attr]
        assert server_soft >= IDLE_CONNECTIONS + 100, (
            f"jobwired kept a soft RLIMIT_NOFILE of {server_soft}: it cannot hold {IDLE_CONNECTIONS} connections")
        with HTTPScenario("http_idle_10k", server) as scenario:
            scenario.begin_attack()
            opened_at = time.monotonic()
            socks = open_silent_connections(server.http_port, IDLE_CONNECTIONS, scenario)
            try:
                # Connected is not accepted: wait until the server holds them all.
                wait_for(lambda: scenario.fds_now() >= scenario.fds_before + IDLE_CONNECTIONS, timeout=OPEN_WAIT_S,
                         interval=0.1, what=f"the server to accept {IDLE_CONNECTIONS} connections")
                open_seconds = time.monotonic() - opened_at
                settled_rss = rss_kib(scenario.pid)
                counted = http_connections(server)
                assert counted >= IDLE_CONNECTIONS + 2, f"the HTTP front end counts {counted} connections"
                calls_so_far = len(scenario.web.calls("attack"))
                scenario.web.wait_calls("attack", calls_so_far + 50, timeout=30)
                scenario.probe.wait_calls("attack", len(scenario.probe.calls("attack")) + 50, timeout=30)
                # A sample of the idle ones is still there: each answers a request.
                for sock in random.Random(11).sample(socks, SAMPLED):
                    sock.setblocking(True)
                    sock.settimeout(ANSWER_WAIT_S)
                    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: idle\r\nConnection: close\r\n\r\n")
                    responses, leftover = parse_responses(read_until_closed(sock))
                    assert [r.status for r in responses] == [200] and not leftover, (responses, leftover)
                scenario.end_attack()
            finally:
                for sock in socks:
                    sock.close()
            per_connection_kib = (settled_rss - scenario.rss.before_kib) / IDLE_CONNECTIONS
            scenario.extra.update(connections=IDLE_CONNECTIONS, open_s=round(open_seconds, 1),
                                  per_connection_kib=round(per_connection_kib, 2), http_connections_counted=counted)
            assert per_connection_kib < HTTP_CONNECTION_KIB, (
                f"each idle HTTP connection costs the server {per_connection_kib:.1f} KiB "
                f"(bound {HTTP_CONNECTION_KIB})")
            scenario.assert_rss_growth_below(IDLE_RSS_BOUND_KIB, f"{IDLE_CONNECTIONS} idle HTTP connections")
            scenario.wait_fds_released(timeout=30)
            scenario.finish()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---------------------------------------------------------------------------------------------------------------------
# The idle timeout.

IDLE_TIMEOUT_S: Final = 2.0
SILENT: Final = 100
SERVED_THEN_IDLE: Final = 100
IDLE_TIMEOUT_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + (SILENT + SERVED_THEN_IDLE) * HTTP_CONNECTION_KIB


@dataclass
class IdleConnection:
    sock: socket.socket
    served: bool
    #: A lower bound of when the server's idle clock started: before the connect (silent ones: the server starts it
    #: when it accepts) or before the request was sent (served ones: it starts once the answer went out).
    idle_since: float
    received: bytearray = field(default_factory=bytearray)
    closed_at: float | None = None


def test_http_idle_timeout(start_server: StartServer) -> None:
    """--http-idle-timeout 2s: 100 connections that never send and 100 that send one keep-alive request and then
    nothing are each closed by the server (EOF, no bytes for the silent ones), none before 2 s of idleness; the
    well-behaved HTTP client, whose keep-alive connection is never idle that long, is never closed."""
    server = start_server("--http-idle-timeout", f"{int(IDLE_TIMEOUT_S * 1000)}ms")
    with HTTPScenario("http_idle_timeout", server) as scenario:
        scenario.begin_attack()
        selector = selectors.DefaultSelector()
        connections: list[IdleConnection] = []
        try:
            for index in range(SILENT + SERVED_THEN_IDLE):
                served = index >= SILENT
                idle_since = time.monotonic()
                sock = connect(server.http_port)
                if served:
                    idle_since = time.monotonic()
                    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: idle\r\n\r\n")
                connection = IdleConnection(sock, served, idle_since)
                sock.setblocking(False)
                connections.append(connection)
                selector.register(sock, selectors.EVENT_READ, connection)
            deadline = time.monotonic() + IDLE_TIMEOUT_S + ANSWER_WAIT_S
            while any(c.closed_at is None for c in connections) and time.monotonic() < deadline:
                for key, _ in selector.select(0.05):
                    connection = key.data
                    data, gone = recv_available(connection.sock)
                    connection.received += data
                    if gone:
                        connection.closed_at = time.monotonic()
                        selector.unregister(connection.sock)
                scenario.rss.sample()
            open_ones = [c for c in connections if c.closed_at is None]
            assert not open_ones, f"{len(open_ones)} idle connections were not closed by the server"
            scenario.wait_fds_released()
            scenario.end_attack()
            closed = 0
            for index, connection in enumerate(connections):
                what = f"idle connection {index} ({'served once' if connection.served else 'silent'})"
                assert connection.closed_at is not None
                idle = connection.closed_at - connection.idle_since
                assert idle >= IDLE_TIMEOUT_S - CLOCK_TOLERANCE_S, (
                    f"{what} was closed after {idle:.3f} s idle, before the {IDLE_TIMEOUT_S} s idle timeout")
                responses, leftover = parse_responses(bytes(connection.received))
                if connection.served:
                    assert [r.status for r in responses] == [200] and not leftover, (what, responses, leftover)
                    assert "close" not in responses[0].headers.get("connection", ""), (what, responses[0].headers)
                else:
                    assert not connection.received, f"{what} got {bytes(connection.received)[:300]!r}"
                closed += 1
            idle_times = [c.closed_at - c.idle_since for c in connections if c.closed_at is not None]
            scenario.extra.update(closed_by_server=closed, idle_min_s=round(min(idle_times), 2),
                                  idle_max_s=round(max(idle_times), 2))
            assert closed == SILENT + SERVED_THEN_IDLE
        finally:
            selector.close()
            for connection in connections:
                connection.sock.close()
        scenario.assert_rss_growth_below(IDLE_TIMEOUT_RSS_BOUND_KIB, f"{SILENT + SERVED_THEN_IDLE} idle connections")
        scenario.finish()


# ---------------------------------------------------------------------------------------------------------------------
# The connection limit.

MAX_CONNECTIONS: Final = 50
OVER_LIMIT: Final = 20
LIMIT_RSS_BOUND_KIB: Final = PROCESS_ALLOWANCE_KIB + (MAX_CONNECTIONS + OVER_LIMIT) * HTTP_CONNECTION_KIB


def keep_alive_get(sock: socket.socket) -> Response:
    """One GET /v1/health on a held keep-alive connection (blocking, with the answer deadline)."""
    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: limit\r\n\r\n")
    received = b""
    while True:
        responses, _ = parse_responses(received)
        if responses:
            return responses[0]
        chunk = sock.recv(65536)
        assert chunk, f"the server closed a held connection; got {received[:300]!r}"
        received += chunk


def assert_turned_away(port: int, send_request: bool, what: str) -> None:
    sock = connect(port)
    try:
        if send_request:
            try:
                sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: limit\r\n\r\n")
            except OSError as failure:
                if failure.errno not in GONE_ERRNOS:
                    raise
        responses, leftover = parse_responses(read_until_closed(sock))
    finally:
        sock.close()
    assert_one_error(responses, leftover, 503, "UNAVAILABLE", "TOO_MANY_CONNECTIONS", what)
    assert responses[0].headers.get("retry-after") == "1", (what, responses[0].headers)


def test_http_connection_limit(start_server: StartServer) -> None:
    """--http-max-connections 50: with the well-behaved HTTP client's connection and 49 held ones, the next
    connections are answered 503 TOO_MANY_CONNECTIONS (with Retry-After) and closed, whether or not they sent a
    request; the held ones and the well-behaved clients go on being served; a slot freed is usable again."""
    server = start_server("--http-max-connections", str(MAX_CONNECTIONS))
    with HTTPScenario("http_connection_limit", server) as scenario:
        scenario.begin_attack()
        held: list[socket.socket] = []
        try:
            for _ in range(MAX_CONNECTIONS - 1):  # the well-behaved HTTP client holds the 50th
                sock = connect(server.http_port)
                held.append(sock)
                response = keep_alive_get(sock)
                assert response.status == 200, response
            for index in range(OVER_LIMIT):
                assert_turned_away(server.http_port, send_request=index % 2 == 1,
                                   what=f"connection {MAX_CONNECTIONS + 1 + index} over the limit")
            # The held connections are still served, each on its own connection.
            for sock in held:
                assert keep_alive_get(sock).status == 200
            # Ten slots freed: usable again once the server has seen the closes.
            for sock in held[:10]:
                sock.close()
            del held[:10]

            def admitted() -> bool:
                sock = connect(server.http_port)
                sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: limit\r\n\r\n")
                responses, _ = parse_responses(read_until_closed_or_answered(sock))
                if responses and responses[0].status == 200:
                    held.append(sock)
                    return True
                sock.close()
                return False

            wait_for(admitted, timeout=ANSWER_WAIT_S, interval=0.05, what="a freed connection slot to be usable")
            while len(held) < MAX_CONNECTIONS - 1:
                sock = connect(server.http_port)
                held.append(sock)
                assert keep_alive_get(sock).status == 200
            assert_turned_away(server.http_port, send_request=True, what="a connection over the limit again")
            scenario.end_attack()
        finally:
            for sock in held:
                sock.close()
        scenario.wait_fds_released()
        scenario.assert_rss_growth_below(LIMIT_RSS_BOUND_KIB, f"{MAX_CONNECTIONS + OVER_LIMIT} connections")
        scenario.finish(min_attack_calls=1)


def read_until_closed_or_answered(sock: socket.socket) -> bytes:
    """What the server sends until one whole response arrived or it closed the connection."""
    received = b""
    deadline = time.monotonic() + ANSWER_WAIT_S
    while time.monotonic() < deadline:
        responses, _ = parse_responses(received)
        if responses:
            return received
        try:
            chunk = sock.recv(65536)
        except OSError as failure:
            if failure.errno in GONE_ERRNOS:
                return received
            raise
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"no answer within {ANSWER_WAIT_S} s: {received[:300]!r}")
