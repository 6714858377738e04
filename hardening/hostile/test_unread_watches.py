"""Watches that are never read.

Why: one connection opens 1,000 WatchJob streams over 100 jobs and then never reads a byte, while a well-behaved
updater changes those jobs as fast as it can. A server that queues every event for every watcher grows without
bound. JobWire bounds it (docs/PROTOCOL.md, WatchJob; docs/OPERATIONS.md, "Limits and memory"):

- output waiting on one connection is bounded by ``--max-output-buffer-bytes`` (65,536 here) plus one frame; past
  it the server stops reading that connection and the watches collapse their pending changes into the latest one;
- the connection is pinged after ``--ping-interval`` (1 s) without a frame from it; it cannot answer (the server is
  not reading it, and the client never answers anyway), so one interval later it gets ``GoAway UNAVAILABLE /
  PING_TIMEOUT``;
- a connection that was sent a GoAway and does not take its output is closed at the latest one ping interval later,
  so its descriptor is released by the server even though the client never closes its end.
"""
from __future__ import annotations

import socket
import time

import math
import select
import socket
import time

import jobwire
from helpers import RawConnection, wait_for
from jobwire._pb import jobwire_pb2 as pb
from support import KIB, PROCESS_ALLOWANCE_KIB, Scenario, StartServer, Updater, call_bytes, kind, method, recv_available

JOBS = 100
WATCHES = 1_000
OUTPUT_BUFFER_BYTES = 65_536
PING_INTERVAL_S = 1.0
#: Every job carries 1,000 frequencies (8 KB encoded), so every event a watcher is due is ~9 KiB: a server that
#: queued them all would hold 1,000 watches x every update x 9 KiB (with the ~600 updates the updater makes before
#: the connection is closed, some 50 MiB; ~200 per second more for as long as it keeps the connection).
FREQUENCIES = tuple(float(i) for i in range(1_000))
#: One WatchEvent carrying such a job, rounded up (the job's other fields are well under 1 KiB).
EVENT_KIB = math.ceil((pb.Job(frequencies_list=FREQUENCIES).ByteSize() + 1024) / KIB)
#: Ping after one interval, PING_TIMEOUT after another, closed at the latest one more interval later; the rest is
#: room for a loaded debug build on two cores. Only a server that keeps the connection fails.
RELEASE_WAIT_S = 3 * PING_INTERVAL_S + 7.0
#: How long the hostile client goes on sending its 1,000 calls (the server may stop reading before it has them all).
SEND_WAIT_S = 3.0
#: The client's receive buffer: small, so the server's output backs up quickly.
CLIENT_RCVBUF = 4096


def rss_bound_kib(updates: int) -> int:
    """The memory bound, from docs/OPERATIONS.md, "Limits and memory", for `updates` updates during the attack:

    - the hostile connection: unsent output up to 64 KiB plus one frame (64 KiB: its Hello asks for the smallest
      frame limit); per watch one held event per status transition plus one (the updater changes no status, so one
      event of EVENT_KIB, counted per watch even though watchers of a job may share it) and ~1 KiB of watch state;
    - the watch history the updates add to their jobs, with or without the attack: one event each, at most 256 KiB
      per job;
    - the process allowance.
    """
    history = min(updates * EVENT_KIB, JOBS * 256)
    return PROCESS_ALLOWANCE_KIB + 2 * 64 + WATCHES * (EVENT_KIB + 1) + history


def test_watches_that_are_never_read(start_server: StartServer) -> None:
    """1,000 watches on one connection that never reads: bounded memory, the well-behaved clients keep working, and
    the server closes and releases the connection on its own, then its watches; the client closing later changes
    nothing."""
    server = start_server("--max-streams-per-connection", str(WATCHES),
                          "--max-output-buffer-bytes", str(OUTPUT_BUFFER_BYTES),
                          "--ping-interval", f"{int(PING_INTERVAL_S * 1000)}ms")
    setup = server.client(timeout=10)
    job_ids = [setup.configure(jobwire.JobSpec(type="watched", frequencies_list=FREQUENCIES)).job.job_id
               for _ in range(JOBS)]
    setup.close()
    updater = Updater(server, job_ids)
    updater.start()
    try:
        with Scenario("unread_watches", server) as scenario:
            streams_before = scenario.resting_streams()
            scenario.begin_attack()
            updates_before = updater.updates

            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
            sock.connect(("127.0.0.1", server.port))
            ack = RawConnection(sock=sock).hello(max_frame_bytes=OUTPUT_BUFFER_BYTES)
            assert kind(ack) == "hello_ack", ack
            calls = b"".join(call_bytes(stream_id, method("WatchJob"),
                                        pb.WatchJobRequest(job_id=job_ids[stream_id % JOBS]))
                             for stream_id in range(1, WATCHES + 1))
            sock.setblocking(False)
            sent = 0
            send_until = time.monotonic() + SEND_WAIT_S
            while sent < len(calls) and time.monotonic() < send_until:
                try:
                    sent += sock.send(calls[sent:sent + 65536])
                except BlockingIOError:
                    select.select([], [sock], [], 0.05)
            attack_started = time.monotonic()

            # The watches open (not necessarily all: the server may stop reading once its output is over the
            # bound). From here the client never reads and never closes; the server must let go of it by itself.
            # While waiting for that, note the most watches seen open at once.
            most_open = 0

            def hostile_released() -> bool:
                nonlocal most_open
                most_open = max(most_open, scenario.stats().streams - streams_before)
                return most_open > 0 and scenario.fds_now() == scenario.fds_before

            try:
                wait_for(hostile_released, timeout=RELEASE_WAIT_S, interval=0.05,
                         what="the server to close the connection that never reads")
            finally:
                scenario.extra.update(calls_sent_bytes=sent, watches_open_max=most_open)
            released_after = time.monotonic() - attack_started
            scenario.wait_fds_released(timeout=0.5)
            scenario.wait_streams(streams_before)
            scenario.end_attack()
            updates = updater.updates - updates_before
            scenario.extra.update(updates=updates, released_after_s=round(released_after, 2))

            # Now the client looks: whatever the server managed to send it, then the end of the connection.
            received = 0
            gone = False
            read_until = time.monotonic() + 5
            while not gone and time.monotonic() < read_until:
                select.select([sock], [], [], 0.1)
                data, gone = recv_available(sock)
                received += len(data)
            assert gone, "the server's side is closed, yet the client's socket does not see the end of it"
            sock.close()
            assert scenario.fds_now() == scenario.fds_before, "the client's close changed the server's descriptors"

            scenario.extra.update(client_received_kib=received // KIB)
            scenario.assert_rss_growth_below(rss_bound_kib(updates),
                                             f"{WATCHES} unread watches, {updates} updates of {EVENT_KIB} KiB events")
            scenario.finish()
    finally:
        updater.stop()
    updater.check()
