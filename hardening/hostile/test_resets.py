"""Connections reset (RST) in the middle of a frame and in the middle of watch streams.

Why: a reset is the abrupt end a server sees from crashed clients, NAT timeouts and load balancers. recv() then fails
with ECONNRESET, possibly with a partial frame buffered or with watches registered in the job registry. Every such
path must release the descriptor, the partial frame and the watch registrations; a leak of any of them is invisible
per connection and fatal after enough rounds. Checked: the descriptors and the server's own counts of open
connections and streams (Stats) return to where they were, and the well-behaved client is served throughout.
"""
from __future__ import annotations

import socket
import time

import jobwire
from helpers import wait_for
from jobwire._pb import jobwire_pb2 as pb
from support import (IDLE_CONNECTION_KIB, PROCESS_ALLOWANCE_KIB, FrameBuffer, Scenario, StartServer, Updater,
                     call_bytes, close_socket, hello_bytes, kind, method)

ROUNDS = 12
#: Per round: connections reset in the middle of their Hello, in the middle of a Call frame after the handshake,
#: and after opening watches and receiving some of their events.
MID_HELLO = 10
MID_FRAME = 10
WATCHERS = 10
WATCHES_PER_CONNECTION = 5
#: Events (Reply frames) a watcher waits for before it resets: the snapshots and some changes.
EVENTS_BEFORE_RESET = WATCHES_PER_CONNECTION + 3
JOBS = 5
#: Memory bound: the attack holds at most one round's 30 connections at a time, each an idle connection plus a
#: partial frame of a few hundred bytes and 5 watches (~1 KiB each): 30 x (4 + 1 + 5) KiB = 300 KiB; the jobs' watch
#: history the updater fills (5 x 256 KiB); the process allowance. A leak of 64 KiB per reset connection (a read
#: buffer) would add 360 x 64 KiB = 22 MiB; a leaked watch keeps an event per update.
RSS_BOUND_KIB = (PROCESS_ALLOWANCE_KIB + (MID_HELLO + MID_FRAME + WATCHERS) * (IDLE_CONNECTION_KIB + 1 + 5)
                 + JOBS * 256)
WAIT_S = 5.0


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def handshake(sock: socket.socket) -> None:
    sock.sendall(hello_bytes("resetter"))
    buffer = FrameBuffer()
    frames: list[pb.Frame] = []
    while not frames:
        chunk = sock.recv(4096)
        assert chunk, "the server closed a connection during its handshake"
        frames = buffer.feed(chunk)
    assert kind(frames[0]) == "hello_ack", (
        f"a new connection's Hello, sent at once, was answered with {frames[0]} instead of a HelloAck (a "
        f"HANDSHAKE_TIMEOUT here means the server never read it: see repro_descriptor_reuse.py)")


def watch_then_reset(port: int, job_ids: list[str]) -> int:
    """Opens watches, reads until it has some events, resets; returns the events received."""
    sock = connect(port)
    handshake(sock)
    sock.sendall(b"".join(
        call_bytes(stream_id, method("WatchJob"), pb.WatchJobRequest(job_id=job_ids[stream_id % JOBS]))
        for stream_id in range(1, WATCHES_PER_CONNECTION + 1)))
    buffer = FrameBuffer()
    events = 0
    deadline = time.monotonic() + WAIT_S
    sock.settimeout(WAIT_S)
    while events < EVENTS_BEFORE_RESET:
        assert time.monotonic() < deadline, f"only {events} watch events within {WAIT_S} s"
        chunk = sock.recv(65536)
        assert chunk, "the server closed a watching connection"
        for frame in buffer.feed(chunk):
            assert kind(frame) in ("reply", "ping"), frame
            events += kind(frame) == "reply"
    close_socket(sock, reset=True)
    return events


def test_resets_mid_frame_and_mid_stream(start_server: StartServer) -> None:
    """Rounds of connections reset mid-Hello, mid-frame and mid-watch: the server keeps serving, and its descriptors,
    open connections and open streams (Stats) come back to their baseline."""
    server = start_server("--ping-interval", "1s", "--handshake-timeout", "2s")
    setup = server.client(timeout=10)
    job_ids = [setup.configure(jobwire.JobSpec(type="reset-target")).job.job_id for _ in range(JOBS)]
    setup.close()
    updater = Updater(server, job_ids, pause_s=0.002)
    updater.start()
    hello = hello_bytes("resetter")
    half_call = call_bytes(1, method("GetMetadata"), pb.GetMetadataRequest(job_id=job_ids[0]))
    half_call = half_call[:len(half_call) // 2]
    try:
        with Scenario("resets", server) as scenario:
            before = scenario.stats()
            resting_streams = scenario.resting_streams()
            scenario.begin_attack()
            events = 0
            for _ in range(ROUNDS):
                victims: list[socket.socket] = []
                for _ in range(MID_HELLO):
                    sock = connect(server.port)
                    sock.sendall(hello[:len(hello) // 2])
                    victims.append(sock)
                for _ in range(MID_FRAME):
                    sock = connect(server.port)
                    handshake(sock)
                    sock.sendall(half_call)
                    victims.append(sock)
                # Let the server read the partial frames before the resets, so they are buffered when the RST lands.
                wait_for(lambda: scenario.fds_now() >= scenario.fds_before + len(victims), timeout=WAIT_S,
                         what="the server to accept this round's connections")
                time.sleep(0.02)
                for sock in victims:
                    close_socket(sock, reset=True)
                for _ in range(WATCHERS):
                    events += watch_then_reset(server.port, job_ids)
                scenario.rss.sample()

            scenario.wait_fds_released()
            wait_for(lambda: scenario.stats().connections == before.connections, timeout=WAIT_S,
                     what=f"Stats to show {before.connections} open connections again")
            scenario.wait_streams(resting_streams)
            scenario.end_attack()
            scenario.extra.update(reset_connections=ROUNDS * (MID_HELLO + MID_FRAME + WATCHERS),
                                  watch_events_read=events, resting_streams=resting_streams,
                                  stats_connections=before.connections)
            scenario.assert_rss_growth_below(RSS_BOUND_KIB, "reset connections hold nothing once gone")
            scenario.finish()
    finally:
        updater.stop()
    updater.check()
