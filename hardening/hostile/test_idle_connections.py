"""10,000 idle connections, each past its handshake.

Why: the cheapest attack is to open connections and do nothing. The server must (a) have the descriptors for them:
it raises its own soft RLIMIT_NOFILE to the hard limit at start, since the usual soft limit of 1,024 would run out at
about a thousand connections; (b) hold each for a few KiB (docs/OPERATIONS.md, "Limits and memory"); (c) keep
serving the others; (d) give every descriptor back when they go.

The server is started with a soft limit of 1,024 (what a shell or systemd hands a daemon by default) to check (a); the
test process raises its own soft limit to its hard limit to be able to open the 10,000 connections. Per-address
limits are off (``--max-connections-per-address 0``: every connection comes from 127.0.0.1), and ``--max-connections``
is raised a little above 10,000 so that the well-behaved clients fit beside them (the default is exactly 10,000).
The ping interval is long (60 s), so the idle connections are not pinged during the test.
"""
from __future__ import annotations

import errno
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from helpers import Server
from support import (IDLE_CONNECTION_KIB, PROCESS_ALLOWANCE_KIB, close_opened, FrameBuffer, hello_bytes, kind,
                     nofile_limits, recv_available, rss_kib, Scenario, StartServer)

CONNECTIONS = 10_000
#: Descriptors the test process needs besides the connections (pytest, the clients, /proc reads).
SPARE_DESCRIPTORS = 2_000
#: What the server is started with, as a default soft limit would be.
SERVER_SOFT_NOFILE = 1024
#: Connections being connected or handshaken at once (the server's listen backlog is 1,024).
IN_FLIGHT = 256
#: Time allowed to open and handshake them all: a bound against hanging, not a speed goal.
OPEN_WAIT_S = 60.0
#: Bound on what one idle connection costs, measured as RSS growth / 10,000: the documented ~4 KiB, with room for
#: the 10,000 connection timers and dictionary entries of a debug build; an output or read buffer kept per
#: connection (64 KiB) would be far above it.
PER_CONNECTION_BOUND_KIB = 16
#: The peak during the whole scenario: 10,000 x 16 KiB plus the process allowance.
RSS_BOUND_KIB = PROCESS_ALLOWANCE_KIB + CONNECTIONS * PER_CONNECTION_BOUND_KIB
HELLO = hello_bytes("idle")


@contextmanager
def soft_nofile(limit: int) -> Iterator[None]:
    """Runs the block with this process's soft RLIMIT_NOFILE at `limit` (children started inside inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass
class Opening:
    sock: socket.socket
    connected: bool = False
    buffer: FrameBuffer = field(default_factory=FrameBuffer)


def open_idle_connections(port: int, count: int, scenario: Scenario) -> list[socket.socket]:
    """`count` connections, each with a completed handshake, opened `IN_FLIGHT` at a time on non-blocking sockets."""
    selector = selectors.DefaultSelector()
    done: list[socket.socket] = []
    started = 0
    in_flight = 0
    deadline = time.monotonic() + OPEN_WAIT_S
    try:
        while len(done) < count:
            assert time.monotonic() < deadline, (f"only {len(done)} of {count} connections were handshaken after "
                                                 f"{OPEN_WAIT_S} s")
            while started < count and in_flight < IN_FLIGHT:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                code = sock.connect_ex(("127.0.0.1", port))
                assert code in (0, errno.EINPROGRESS), f"connect failed: {errno.errorcode.get(code, code)}"
                selector.register(sock, selectors.EVENT_WRITE, Opening(sock))
                started += 1
                in_flight += 1
            for key, _ in selector.select(1.0):
                opening: Opening = key.data
                if not opening.connected:
                    code = opening.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    assert code == 0, f"connection {started} failed: {errno.errorcode.get(code, code)}"
                    opening.sock.send(HELLO)  # 20-odd bytes into an empty send buffer: sent whole
                    opening.connected = True
                    selector.modify(opening.sock, selectors.EVENT_READ, opening)
                    continue
                data, gone = recv_available(opening.sock)
                frames = opening.buffer.feed(data)
                assert not gone or frames, (f"the server closed connection {len(done) + 1} during its handshake "
                                            f"(after {len(done)} were open)")
                if frames:
                    assert [kind(f) for f in frames] == ["hello_ack"], (
                        f"connection {len(done) + 1} got {frames[0]} instead of a HelloAck")
                    selector.unregister(opening.sock)
                    done.append(opening.sock)
                    in_flight -= 1
            scenario.rss.sample()
    except BaseException:
        close_opened(done, selector)
        raise
    finally:
        selector.close()
    return done


def test_ten_thousand_idle_connections(start_server: StartServer) -> None:
    """10,000 handshaken idle connections: the server has the descriptors (it raised its soft limit), holds each
    in a few KiB, keeps serving the well-behaved client, and releases every descriptor when they close."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < CONNECTIONS + SPARE_DESCRIPTORS:
        pytest.skip(f"the hard RLIMIT_NOFILE is {hard}; {CONNECTIONS + SPARE_DESCRIPTORS} descriptors are needed "
                    f"(raise it, e.g. `ulimit -Hn 20000` as root, or LimitNOFILE= in the unit)")
    flags = ("--max-connections-per-address", "0", "--max-connections", str(CONNECTIONS + 100),
             "--ping-interval", "60s")
    with soft_nofile(SERVER_SOFT_NOFILE):
        server: Server = start_server(*flags)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        run_scenario(server, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def run_scenario(server: Server, hard: int) -> None:
    assert server.process is not None
    server_soft, server_hard = nofile_limits(server.process.pid)
    assert server_hard == hard, (server_soft, server_hard)
    assert server_soft == server_hard, (
        f"jobwired kept the soft RLIMIT_NOFILE of {server_soft} it was started with (hard limit {server_hard}): it "
        f"should raise its soft limit to the hard one at start, or it cannot hold {CONNECTIONS} connections")

    with Scenario("idle_10k", server) as scenario:
        scenario.begin_attack()
        opened_at = time.monotonic()
        socks = open_idle_connections(server.port, CONNECTIONS, scenario)
        try:
            open_seconds = time.monotonic() - opened_at
            # The connections are all idle now: RSS settles once the last handshakes' garbage is freed.
            settled_rss = rss_kib(scenario.pid)
            fds_open = scenario.fds_now()
            assert fds_open >= scenario.fds_before + CONNECTIONS, (
                f"the server holds {fds_open} descriptors with {CONNECTIONS} connections open "
                f"(before: {scenario.fds_before})")
            # The well-behaved client beside 10,000 idle connections.
            calls_so_far = len(scenario.probe.calls("attack"))
            scenario.probe.wait_calls("attack", calls_so_far + 50, timeout=30)
            scenario.end_attack()
        finally:
            for sock in socks:
                sock.close()
        per_connection_kib = (settled_rss - scenario.rss.before_kib) / CONNECTIONS
        scenario.extra.update(connections=CONNECTIONS, open_s=round(open_seconds, 1),
                              per_connection_kib=round(per_connection_kib, 2), fds_with_all_open=fds_open,
                              server_nofile=f"{nofile_limits(scenario.pid)[0]}")
        assert per_connection_kib < PER_CONNECTION_BOUND_KIB, (
            f"each idle connection costs the server {per_connection_kib:.1f} KiB of RSS "
            f"(bound {PER_CONNECTION_BOUND_KIB} KiB; documented ~{IDLE_CONNECTION_KIB} KiB)")
        scenario.assert_rss_growth_below(RSS_BOUND_KIB, f"{CONNECTIONS} idle connections")
        scenario.wait_fds_released(timeout=30)
        scenario.finish()
