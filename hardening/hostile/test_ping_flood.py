"""A ping flood: Ping frames as fast as one connection can send them, its pongs read only some of the time.

Why: every Ping costs the server a Pong it must buffer until the client takes it. A server that answers without
bound lets one connection that floods and does not read grow the server's memory with pongs, and can starve every
other connection of the cores. JobWire bounds a connection's unsent output (``--max-output-buffer-bytes``, 65,536
here, plus one frame) and stops reading a connection over that bound, which throttles the flooder to the rate it
takes its pongs. Nothing is dropped: every ping is answered, once, in order.
"""
from __future__ import annotations

import random
import selectors
import socket
import time

from jobwire._pb import jobwire_pb2 as pb
from support import (PROCESS_ALLOWANCE_KIB, FrameBuffer, Scenario, StartServer, hello_bytes, kind, ping_bytes,
                     recv_available)

ATTACK_S = 3.0
OUTPUT_BUFFER_BYTES = 65_536
#: Pings per sendall-sized batch.
BATCH = 2_000
#: The flooder alternates between reading its pongs and ignoring them, for 0.1-0.4 s at a time: shorter than two
#: ping intervals (5 s here), so a connection that is not being read is not closed for silence in this scenario.
PHASE_S = (0.1, 0.4)
#: After the flood: time for the last pongs to arrive (a bound against hanging, not a speed goal).
DRAIN_WAIT_S = 15.0
#: Memory bound: the flooder's unsent output (64 KiB) plus one frame (the 64 KiB frame limit its Hello asks for), the
#: pool queues' read buffers (64 KiB per core, 2 cores), and the process allowance. Unbounded pong buffering would
#: grow by ~10 bytes per ping, i.e. tens of MiB for the millions of pings a few seconds of flooding can send.
RSS_BOUND_KIB = PROCESS_ALLOWANCE_KIB + 64 + 64 + 2 * 64


def test_ping_flood(start_server: StartServer) -> None:
    """A connection floods Pings, reading pongs only some of the time: the well-behaved client keeps working, the
    server's memory stays bounded, every ping gets exactly one pong, in order, and the descriptor is released."""
    server = start_server("--max-output-buffer-bytes", str(OUTPUT_BUFFER_BYTES), "--ping-interval", "5s")
    rng = random.Random(11)
    with Scenario("ping_flood", server) as scenario:
        scenario.begin_attack()
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(hello_bytes("flooder", max_frame_bytes=OUTPUT_BUFFER_BYTES))
        pongs = FrameBuffer()
        first: list[pb.Frame] = []
        while not first:
            chunk = sock.recv(4096)
            assert chunk, "the server closed the flooder during its handshake"
            first = pongs.feed(chunk)
        assert [kind(f) for f in first] == ["hello_ack"], first
        sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_WRITE)

        sent_pings = 0          # pings whose bytes are all out
        next_payload = 0        # the payload of the next ping to encode
        next_pong = 0           # the payload the next pong must carry
        batch = b""
        batch_sent = 0
        reading = True
        phases = 0
        flood_until = time.monotonic() + ATTACK_S
        phase_until = time.monotonic() + rng.uniform(*PHASE_S)

        def take_pongs() -> bool:
            """Reads and checks whatever pongs have arrived; True when the server closed the connection."""
            nonlocal next_pong
            data, gone = recv_available(sock, limit=4 << 20)
            for frame in pongs.feed(data):
                assert kind(frame) == "pong", f"expected only pongs, got {frame}"
                assert frame.pong.payload == next_pong, (
                    f"pong {frame.pong.payload} arrived where pong {next_pong} was due: pongs were dropped, repeated "
                    f"or reordered")
                next_pong += 1
            return gone

        while time.monotonic() < flood_until:
            if batch_sent == len(batch):
                sent_pings = next_payload
                batch = b"".join(ping_bytes(payload) for payload in range(next_payload, next_payload + BATCH))
                next_payload += BATCH
                batch_sent = 0
            try:
                batch_sent += sock.send(batch[batch_sent:])
            except BlockingIOError:
                selector.select(0.01)
            if reading:
                assert not take_pongs(), "the server closed the flooding connection"
            if time.monotonic() > phase_until:
                reading = not reading
                phases += 1
                phase_until = time.monotonic() + rng.uniform(*PHASE_S)
            scenario.rss.sample()

        # Finish the batch on the wire (a frame cut in half would be the test's fault), then take every pong.
        drain_until = time.monotonic() + DRAIN_WAIT_S
        while batch_sent < len(batch):
            assert time.monotonic() < drain_until, "the server stopped reading the flooder for good"
            try:
                batch_sent += sock.send(batch[batch_sent:])
            except BlockingIOError:
                selector.select(0.01)
            assert not take_pongs(), "the server closed the flooding connection"
        sent_pings = next_payload
        while next_pong < sent_pings:
            assert time.monotonic() < drain_until, (f"{sent_pings - next_pong} of {sent_pings} pings were never "
                                                    f"answered")
            selector.modify(sock, selectors.EVENT_READ)
            selector.select(0.05)
            assert not take_pongs(), "the server closed the flooding connection"
        scenario.end_attack()
        selector.close()
        assert pongs.partial == 0, "bytes after the last pong"

        scenario.assert_rss_growth_below(RSS_BOUND_KIB, "one flooding connection's bounded output")
        sock.close()
        scenario.wait_fds_released()
        scenario.extra.update(pings=sent_pings, pongs=next_pong, phases=phases)
        scenario.finish()
