"""Length prefixes that promise more than is ever sent.

Why: after a completed handshake, a client announces a frame of 4,000,000 bytes (under the 4 MiB limit, so it is not
refused as FRAME_TOO_LARGE), sends a few bytes of it, then trickles one byte every 0.3 s. Two ways a server can lose
here:

- memory: reserving the promised length up front makes 200 such connections cost ~800 MB. The partial frame must hold
  only what arrived (docs/OPERATIONS.md, "Limits and memory": "a partial frame holds at most the bytes received").
- liveness: counting every received byte as activity keeps the connection open forever. Only a *complete* frame is
  activity: after one ``--ping-interval`` without one the server pings, and when no complete frame arrives within
  another interval it sends ``GoAway UNAVAILABLE / PING_TIMEOUT`` and closes (docs/PROTOCOL.md, "Keep-alive"). The
  trickling client cannot answer the ping: whatever it sends is more of the 4 MB frame.
"""
from __future__ import annotations

import selectors
import socket
import struct
import time
from dataclasses import dataclass, field

from jobwire._pb import jobwire_pb2 as pb
from support import (IDLE_CONNECTION_KIB, KIB, PROCESS_ALLOWANCE_KIB, FrameBuffer, Scenario, StartServer,
                     goaway_status, hello_bytes, kind, recv_available)

CONNECTIONS = 200
PROMISED_BYTES = 4_000_000
PING_INTERVAL_S = 1.0
TRICKLE_INTERVAL_S = 0.3
#: The first bytes of the promised frame (sent at once with the prefix).
FIRST_BYTES = b"\x3a\x10" + b"y" * 14
#: Ping after one interval, GoAway after a second one; the rest is room for a loaded debug build on two cores.
#: Only a server that never closes them fails.
CLOSE_WAIT_S = 2 * PING_INTERVAL_S + 8.0
#: Memory bound. What the server may hold per connection: an idle connection's ~4 KiB, plus the partial frame,
#: which grows with the bytes received (16 + at most ~35 trickled bytes), not with the 4,000,000 promised. The
#: decoder may reserve a first 64 KiB buffer for a split frame (FrameDecoder.initialReserveBytes), so allow that:
#: 200 x (4 + 64) KiB = 13.3 MiB, plus the process allowance of 16 MiB: under 30 MiB, "well under 64 MiB". A server
#: that reserves and touches the promised length would need 200 x 3.8 MiB = 763 MiB.
RSS_BOUND_KIB = PROCESS_ALLOWANCE_KIB + CONNECTIONS * (IDLE_CONNECTION_KIB + 64)
#: RSS does not see memory that is reserved and never touched, so the private writable address space is bounded too
#: (support.writable_kib): 200 promised frames reserved up front would add 200 x 3.8 MiB = 763 MiB to it. Allowed:
#: the decoder's first 64 KiB per connection (12.5 MiB), the 8 MiB stacks of up to 16 Dispatch worker threads the
#: load may start (128 MiB), and the process allowance (16 MiB): about 157 MiB.
WRITABLE_BOUND_KIB = CONNECTIONS * 64 + 16 * 8 * KIB + PROCESS_ALLOWANCE_KIB


@dataclass
class Promiser:
    sock: socket.socket
    next_send_at: float
    trickled: int = 0
    received: FrameBuffer = field(default_factory=FrameBuffer)
    frames: list[str] = field(default_factory=list)
    goaways: list[tuple[str, str]] = field(default_factory=list)
    started_at: float = 0.0
    closed_at: float | None = None
    send_failed: bool = False


def test_length_prefix_promising_more_than_is_sent(start_server: StartServer) -> None:
    """200 handshaken connections each promise a 4,000,000-byte frame and trickle it; the server pings them and,
    with no complete frame in answer, closes them with PING_TIMEOUT, while its memory stays far below what the
    promises add up to."""
    server = start_server("--ping-interval", f"{int(PING_INTERVAL_S * 1000)}ms", "--handshake-timeout", "2s")
    with Scenario("partial_frames", server) as scenario:
        scenario.begin_attack()
        # 200 completed Hellos first.
        socks: list[socket.socket] = []
        for _ in range(CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(hello_bytes("promiser"))
            socks.append(sock)
        for sock in socks:
            buffer = FrameBuffer()
            frames: list[pb.Frame] = []
            while not frames:
                chunk = sock.recv(4096)
                assert chunk, "the server closed a connection during its handshake"
                frames = buffer.feed(chunk)
            assert [kind(f) for f in frames] == ["hello_ack"], frames

        selector = selectors.DefaultSelector()
        promisers: list[Promiser] = []
        start = time.monotonic()
        for index, sock in enumerate(socks):
            sock.setblocking(False)
            sock.send(struct.pack(">I", PROMISED_BYTES) + FIRST_BYTES)
            promiser = Promiser(sock, start + TRICKLE_INTERVAL_S * (1 + index / CONNECTIONS), started_at=start)
            promisers.append(promiser)
            selector.register(sock, selectors.EVENT_READ, promiser)

        deadline = start + CLOSE_WAIT_S
        open_count = CONNECTIONS
        while open_count and time.monotonic() < deadline:
            pending = [p for p in promisers if p.closed_at is None and not p.send_failed]
            next_send = min((p.next_send_at for p in pending), default=deadline)
            for key, _ in selector.select(max(0.0, min(next_send, deadline) - time.monotonic())):
                promiser = key.data
                data, gone = recv_available(promiser.sock)
                for frame in promiser.received.feed(data):
                    promiser.frames.append(kind(frame))
                    if kind(frame) == "goaway":
                        promiser.goaways.append(goaway_status(frame))
                if gone:
                    promiser.closed_at = time.monotonic()
                    selector.unregister(promiser.sock)
                    open_count -= 1
            now = time.monotonic()
            for promiser in promisers:
                if promiser.closed_at is not None or promiser.send_failed or promiser.next_send_at > now:
                    continue
                try:
                    promiser.sock.send(b"z")
                    promiser.trickled += 1
                except OSError:
                    promiser.send_failed = True
                promiser.next_send_at += TRICKLE_INTERVAL_S
            scenario.sample_writable()
        scenario.end_attack()
        selector.close()

        scenario.extra.update(writable_growth_kib=scenario.writable_growth_kib,
                              trickled_max=max(p.trickled for p in promisers),
                              pinged=sum(1 for p in promisers if "ping" in p.frames),
                              ping_timeouts=sum(1 for p in promisers if p.goaways == [("UNAVAILABLE", "PING_TIMEOUT")]))
        # Two independent properties are checked here (memory, and closing); collect both verdicts so that a
        # failure of one does not hide the other.
        problems: list[str] = []
        try:
            scenario.assert_rss_growth_below(RSS_BOUND_KIB, f"{CONNECTIONS} promised frames of {PROMISED_BYTES} "
                                                            f"bytes, of which at most ~50 bytes each were sent")
        except AssertionError as failure:
            problems.append(str(failure))
        if scenario.writable_growth_kib >= WRITABLE_BOUND_KIB:
            problems.append(f"the server's private writable address space grew by {scenario.writable_growth_kib} KiB "
                            f"(bound {WRITABLE_BOUND_KIB} KiB): it reserved memory for the promised frames, not for "
                            f"the bytes received")
        still_open = [p for p in promisers if p.closed_at is None]
        if still_open:
            problems.append(
                f"{len(still_open)} of {CONNECTIONS} connections trickling a never-complete frame were still open "
                f"{CLOSE_WAIT_S} s later (ping interval {PING_INTERVAL_S} s): bytes that do not complete a frame "
                f"were counted as activity; frames one of them received: {still_open[0].frames}")
        for promiser in promisers:
            if promiser.closed_at is None:
                continue
            if promiser.received.partial:
                problems.append(f"a truncated frame before the close: {promiser.frames}")
            elif (promiser.frames[-1:] != ["goaway"] or set(promiser.frames[:-1]) != {"ping"}
                  or promiser.goaways != [("UNAVAILABLE", "PING_TIMEOUT")]):
                problems.append(f"expected one or more Pings, then GoAway UNAVAILABLE/PING_TIMEOUT, then the close; "
                                f"got {promiser.frames} {promiser.goaways}")
                break
        assert not problems, "\n".join(problems)
        # The server closed them: its descriptors are back before the clients close their ends.
        scenario.wait_fds_released()
        for promiser in promisers:
            promiser.sock.close()
        scenario.finish()
