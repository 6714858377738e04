"""Hostile HTTP connections, each beside the well-behaved clients of http_support.py:

- event streams that are never read: 50 ``GET /v1/jobs/{id}/events`` with a 4 KiB receive buffer while the job gets
  2,000 updates of ~10 KiB events; memory stays within the documented per-stream bound, a reading watcher gets the
  terminal event, an unread stream that finally reads gets the transitions with the changes collapsed;
- 10,000 idle connections beside the well-behaved clients, then all closed;
- ``--http-idle-timeout 2s``: idle connections (silent, or after one answered request) are closed by the server;
- ``--http-max-connections 50``: the next connections are answered 503 ``TOO_MANY_CONNECTIONS`` and closed, and
  a freed slot is usable again.
"""
from __future__ import annotations

import errno
import json
import random
import resource
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

import jobwire
import pytest
from helpers import EventStream, Server, wait_for

from support import (CALL_TIMEOUT_S, GONE_ERRNOS, KIB, PROCESS_ALLOWANCE_KIB, close_opened, nofile_limits,
                     recv_available, rss_kib, Scenario, StartServer)
from test_idle_connections import soft_nofile
from http_support import (ANSWER_WAIT_S, CLOCK_TOLERANCE_S, HTTPScenario, HTTP_CONNECTION_KIB, Response,
                          assert_one_error, connect, parse_responses, read_until_closed)


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
        close_opened(done, selector)
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
