"""What the hostile HTTP scenarios share (test_http_requests.py, test_http_connections.py): the well-behaved HTTP
client and the scenario frame around it, and raw HTTP on sockets.

Why: the HTTP front end has its own connection handling (SwiftNIO's HTTP/1.1 codec, ``RequestTimeouts``, the
connection limit, event streams with their own output buffers), so the binary port's defences do not cover it. Each
scenario runs the suite's frame (``support.Scenario``: a well-behaved binary client, peak RSS, descriptors, a fresh
client at the end) plus a well-behaved *HTTP* client (:class:`HTTPProbe`: GET /v1/health, GET and PATCH of its own
job, 10 ms apart, on one keep-alive connection with a 2 s deadline per call) before, during and after the attack;
every call of both must succeed, and the HTTP one must never see its connection closed. Nothing asserts on speed:
waits are on conditions, with generous deadlines against hanging.
"""
from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from helpers import Server, _header_dict, error_of, wait_for

from support import (CALL_TIMEOUT_S, DEADLINE_SLACK_S, GONE_ERRNOS, CallRecord, Scenario, percentile, recv_available)

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
