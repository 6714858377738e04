"""Slowloris on the handshake: many connections that send a valid Hello one byte per second.

Why: a server that resets its handshake clock on every byte, or waits for a complete Hello without a deadline, can be
held open forever by a client sending almost nothing, until it runs out of descriptors. JobWire gives a new connection
``--handshake-timeout`` to deliver a *complete* Hello (docs/PROTOCOL.md, "Handshake"), then answers ``GoAway
DEADLINE_EXCEEDED / HANDSHAKE_TIMEOUT`` and closes.
"""
from __future__ import annotations

import selectors
import socket
import time
from dataclasses import dataclass, field

from support import (IDLE_CONNECTION_KIB, PROCESS_ALLOWANCE_KIB, FrameBuffer, Scenario, StartServer, goaway_status,
                     hello_bytes, kind, recv_available)

CONNECTIONS = 200
HANDSHAKE_TIMEOUT_S = 1.0
#: One byte per second per connection, the connections' bytes spread evenly over each second.
BYTE_INTERVAL_S = 1.0
#: A Hello padded to ~120 bytes: two minutes at one byte per second. Any connection the server closes within the
#: test's wait has therefore been closed before its Hello could have been complete.
HELLO = hello_bytes(client_name="slowloris/" + "x" * 100)
#: How long the test waits for the server to close them all: the timeout, plus generous room for a loaded debug
#: build on two cores (not a speed goal: only a server that never closes them fails).
CLOSE_WAIT_S = HANDSHAKE_TIMEOUT_S + 8.0
#: Lower bound of how early a connection may be closed, for the clock readings (ours start before the server's).
CLOCK_TOLERANCE_S = 0.05
#: Memory bound. Per connection: an idle connection's ~4 KiB, plus the partial Hello, which holds at most the bytes
#: received (< 128 bytes; round up to 4 KiB for the decoder's small buffer and the GoAway), so 8 KiB; 200 connections
#: are 1.6 MiB. On top, the process allowance (16 MiB). An unbounded server (say a 64 KiB buffer reserved and
#: filled per connection, or 4 MiB per promised frame) would blow through it.
RSS_BOUND_KIB = PROCESS_ALLOWANCE_KIB + CONNECTIONS * (IDLE_CONNECTION_KIB + 4)


@dataclass
class SlowConnection:
    sock: socket.socket
    opened_at: float
    next_send_at: float
    sent: int = 0
    received: FrameBuffer = field(default_factory=FrameBuffer)
    frames: list[str] = field(default_factory=list)
    goaways: list[tuple[str, str]] = field(default_factory=list)
    closed_at: float | None = None
    send_failed: bool = False


def test_slowloris_handshake(start_server: StartServer) -> None:
    """200 connections trickle a Hello at one byte per second; the server closes each once its handshake timeout
    passes (with a HANDSHAKE_TIMEOUT GoAway when one arrives first), releases their descriptors, keeps memory
    bounded, and serves the well-behaved client throughout."""
    server = start_server("--handshake-timeout", f"{int(HANDSHAKE_TIMEOUT_S * 1000)}ms", "--ping-interval", "1s")
    with Scenario("slowloris", server) as scenario:
        scenario.begin_attack()
        selector = selectors.DefaultSelector()
        connections: list[SlowConnection] = []
        start = time.monotonic()
        for index in range(CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.setblocking(False)
            now = time.monotonic()
            connection = SlowConnection(sock, now, start + BYTE_INTERVAL_S * index / CONNECTIONS)
            connections.append(connection)
            selector.register(sock, selectors.EVENT_READ, connection)

        deadline = start + CLOSE_WAIT_S
        open_count = CONNECTIONS
        while open_count and time.monotonic() < deadline:
            pending = [c for c in connections if c.closed_at is None and not c.send_failed]
            next_send = min((c.next_send_at for c in pending), default=deadline)
            wait = max(0.0, min(next_send, deadline) - time.monotonic())
            for key, _ in selector.select(wait):
                connection = key.data
                data, gone = recv_available(connection.sock)
                for frame in connection.received.feed(data):
                    connection.frames.append(kind(frame))
                    if kind(frame) == "goaway":
                        connection.goaways.append(goaway_status(frame))
                if gone:
                    connection.closed_at = time.monotonic()
                    selector.unregister(connection.sock)
                    open_count -= 1
            now = time.monotonic()
            for connection in connections:
                if connection.closed_at is not None or connection.send_failed or connection.next_send_at > now:
                    continue
                try:
                    connection.sock.send(HELLO[connection.sent:connection.sent + 1])
                    connection.sent += 1
                except OSError:
                    # The server closed it and our byte met its RST; the read side reports the close.
                    connection.send_failed = True
                connection.next_send_at += BYTE_INTERVAL_S
            scenario.rss.sample()
        scenario.end_attack()
        selector.close()

        still_open = [c for c in connections if c.closed_at is None]
        assert not still_open, (f"{len(still_open)} of {CONNECTIONS} slowloris connections were still open "
                                f"{CLOSE_WAIT_S} s after they started (handshake timeout {HANDSHAKE_TIMEOUT_S} s)")
        assert all(c.sent < len(HELLO) for c in connections), "a Hello was completed: the test did not trickle"
        early = [round(c.closed_at - c.opened_at, 3) for c in connections
                 if c.closed_at is not None and c.closed_at - c.opened_at < HANDSHAKE_TIMEOUT_S - CLOCK_TOLERANCE_S]
        assert not early, f"connections closed before the handshake timeout of {HANDSHAKE_TIMEOUT_S} s: {early[:10]}"
        for connection in connections:
            # Whatever arrived before the close must be exactly one GoAway saying why, and nothing else.
            assert connection.received.partial == 0, f"a truncated frame before the close: {connection.frames}"
            if connection.frames:
                assert connection.frames == ["goaway"], connection.frames
                assert connection.goaways == [("DEADLINE_EXCEEDED", "HANDSHAKE_TIMEOUT")], connection.goaways
        goaways = sum(1 for c in connections if c.goaways)
        scenario.assert_rss_growth_below(RSS_BOUND_KIB, "200 partial Hellos of a few bytes each")
        # The server closed them: its descriptors are back before the clients close their ends.
        scenario.wait_fds_released()
        for connection in connections:
            connection.sock.close()
        scenario.extra.update(goaways_seen=goaways, closed_after_max_s=round(
            max(c.closed_at - c.opened_at for c in connections if c.closed_at is not None), 2))
        scenario.finish()
