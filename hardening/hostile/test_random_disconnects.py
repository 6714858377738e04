"""Real calls on connections that are cut at random moments.

Why: the previous scenarios are scripted; this one is not. Several threads make real calls (Configure, UpdateJob,
GetMetadata, WatchJob) on raw connections and cut each connection at a random point: before a call, in the middle of
a frame, right after sending a call (before its reply), or after a reply, with a FIN or an RST. Whatever the server
*acknowledged* (an ``End{OK}`` that reached the client) must hold afterwards: every acknowledged job is readable, at
a revision no older than the last acknowledged one. And the server must not leak: descriptors, connections and
streams come back to where they were.
"""
from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field

from google.protobuf.message import Message
from helpers import status_of, wait_for
from jobwire._pb import jobwire_pb2 as pb
from support import (PROCESS_ALLOWANCE_KIB, FrameBuffer, Scenario, StartServer, call_bytes, close_socket,
                     encode, hello_bytes, kind, method)

THREADS = 4
ATTACK_S = 4.0
#: Longest a call may take to be answered on a connection that is not cut: a liveness bound, not a speed goal.
REPLY_WAIT_S = 5.0
#: Calls per connection before the connection ends anyway.
MAX_STEPS = 8
ABORTS = ("before_call", "mid_frame", "after_send", "after_reply")
#: Memory bound, per job the scenario created: 16 KiB, what a typical streaming job with 500 frequencies takes in
#: the registry (docs/OPERATIONS.md; these jobs are far smaller, and their watch history is a few small events);
#: plus the few connections open at any moment (one per thread) and the process allowance. Connections or watches
#: leaked by the ~2,500 cuts would not fit: a leaked 64 KiB buffer per cut alone is 150 MiB.
JOB_KIB = 16


@dataclass
class Ledger:
    """What the server acknowledged: job id -> the highest revision an acknowledged write returned."""

    revisions: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cuts: dict[str, int] = field(default_factory=dict)
    calls_acknowledged: int = 0
    watch_events: int = 0

    def acknowledge(self, job: pb.Job) -> None:
        with self.lock:
            self.revisions[job.job_id] = max(self.revisions.get(job.job_id, 0), job.revision)
            self.calls_acknowledged += 1

    def known(self, rng: random.Random) -> tuple[str, int] | None:
        with self.lock:
            if not self.revisions:
                return None
            job_id = rng.choice(list(self.revisions))
            return job_id, self.revisions[job_id]

    def cut(self, how: str) -> None:
        with self.lock:
            self.cuts[how] = self.cuts.get(how, 0) + 1


class Session:
    """One raw connection making calls one at a time (watches stay open beside them)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_WAIT_S)
        self.buffer = FrameBuffer()
        self.next_stream = 1
        self.watch_events = 0
        self.sock.sendall(hello_bytes("chaos"))
        ack = self.next_frame()
        assert kind(ack) == "hello_ack", ack

    def next_frame(self) -> pb.Frame:
        deadline = time.monotonic() + REPLY_WAIT_S
        while (frame := self.buffer.pop()) is None:
            assert time.monotonic() < deadline, f"no frame from the server within {REPLY_WAIT_S} s"
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed a connection the client had not cut"
            self.buffer.data += chunk
        return frame

    def answer(self, stream_id: int, watch: bool) -> tuple[list[bytes], tuple[str, str]]:
        """The replies and the End of call `stream_id` (of a watch: its first event); events of this connection's
        other watches are counted, pings answered."""
        replies: list[bytes] = []
        while True:
            frame = self.next_frame()
            what = kind(frame)
            if what == "ping":
                self.sock.sendall(encode(pb.Frame(pong=pb.Pong(payload=frame.ping.payload))))
            elif what == "reply" and frame.reply.stream_id == stream_id:
                replies.append(frame.reply.message)
                if watch:
                    return replies, ("OK", "")
            elif what == "reply":
                self.watch_events += 1
            elif what == "end" and frame.end.stream_id == stream_id:
                return replies, status_of(frame.end.status)
            elif what == "end":
                pass  # one of this connection's watches ended (its job finished or was deleted): fine
            else:
                raise AssertionError(f"unexpected frame on a live connection: {frame}")


def chaos(port: int, seed: int, until: float, ledger: Ledger, failures: list[str]) -> None:
    """One thread: connections with a random script of calls, each cut at a random moment."""
    rng = random.Random(seed)
    try:
        while time.monotonic() < until:
            session = Session(port)
            steps = rng.randint(1, MAX_STEPS)
            cut_at = rng.randint(0, steps)  # == steps: the script runs to its end, then the connection is closed
            how = rng.choice(ABORTS)
            reset = rng.random() < 0.5
            for step in range(steps):
                known = ledger.known(rng)
                if known is None:
                    op, job_id, acked_revision = "configure", "", 0
                else:
                    op = rng.choice(("configure", "update", "get", "watch"))
                    job_id, acked_revision = known
                stream_id = session.next_stream
                session.next_stream += 1
                if op == "configure":
                    request: Message = pb.ConfigureRequest(job=pb.Job(type="chaos", labels={"seed": str(seed)}))
                elif op == "update":
                    request = pb.UpdateJobRequest(job_id=job_id, progress=float(rng.randrange(100)))
                elif op == "get":
                    request = pb.GetMetadataRequest(job_id=job_id)
                else:
                    request = pb.WatchJobRequest(job_id=job_id)
                name = {"configure": "Configure", "update": "UpdateJob", "get": "GetMetadata", "watch": "WatchJob"}[op]
                # Unary calls carry a deadline; a watch has none (it stays open until the connection is cut).
                timeout_ms = 0 if op == "watch" else int(REPLY_WAIT_S * 1000)
                frame = call_bytes(stream_id, method(name), request, timeout_ms=timeout_ms)
                if step == cut_at and how == "before_call":
                    break
                if step == cut_at and how == "mid_frame":
                    session.sock.sendall(frame[:rng.randint(1, len(frame) - 1)])
                    break
                session.sock.sendall(frame)
                if step == cut_at and how == "after_send":
                    break
                replies, status = session.answer(stream_id, watch=op == "watch")
                assert status == ("OK", ""), f"{name} on a live connection ended with {status}"
                if op == "configure":
                    ledger.acknowledge(pb.ConfigureResponse.FromString(replies[0]).job)
                elif op == "update":
                    ledger.acknowledge(pb.Job.FromString(replies[0]))
                elif op == "get":
                    job = pb.Job.FromString(replies[0])
                    assert job.revision >= acked_revision, (
                        f"GetMetadata of {job_id} returned revision {job.revision}, older than the acknowledged "
                        f"{acked_revision}")
                else:
                    event = pb.WatchEvent.FromString(replies[0])
                    assert event.revision >= acked_revision, (f"a watch of {job_id} started at revision "
                                                              f"{event.revision}, older than the acknowledged "
                                                              f"{acked_revision}")
                if step == cut_at and how == "after_reply":
                    break
            ledger.cut(("rst-" if reset else "fin-") + (how if cut_at < steps else "end"))
            with ledger.lock:
                ledger.watch_events += session.watch_events
            close_socket(session.sock, reset=reset)
    except Exception as failure:  # reported by the main thread
        failures.append(f"thread {seed}: {type(failure).__name__}: {failure}")


def test_random_disconnects_under_load(start_server: StartServer) -> None:
    """Several threads make real calls on connections cut at random moments (FIN or RST); afterwards every
    acknowledged job is readable at its acknowledged revision, descriptors and streams are back, the server lives."""
    server = start_server("--ping-interval", "1s", "--handshake-timeout", "2s")
    with Scenario("random_disconnects", server) as scenario:
        before = scenario.stats()
        resting_streams = scenario.resting_streams()
        scenario.begin_attack()
        ledger = Ledger()
        failures: list[str] = []
        until = time.monotonic() + ATTACK_S
        threads = [threading.Thread(target=chaos, args=(server.port, seed, until, ledger, failures), daemon=True)
                   for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=ATTACK_S + 3 * REPLY_WAIT_S)
        assert not any(thread.is_alive() for thread in threads), "a chaos thread is stuck"
        assert not failures, "\n".join(failures)

        scenario.wait_fds_released()
        wait_for(lambda: scenario.stats().connections == before.connections, timeout=5,
                 what=f"Stats to show {before.connections} open connections again")
        scenario.wait_streams(resting_streams)
        scenario.end_attack()

        # Every acknowledged job, read back by a fresh client.
        assert ledger.revisions, "no call was acknowledged: the scenario tested nothing"
        reader = server.client(timeout=10)
        ids = list(ledger.revisions)
        for start in range(0, len(ids), 500):
            for result in reader.batch_get_metadata(ids[start:start + 500]):
                assert result.job is not None, f"an acknowledged job is not readable: {result}"
                assert result.job.revision >= ledger.revisions[result.job.job_id], (
                    f"job {result.job.job_id} is at revision {result.job.revision}, older than the acknowledged "
                    f"{ledger.revisions[result.job.job_id]}")
        reader.close()

        scenario.extra.update(acknowledged_jobs=len(ledger.revisions), acknowledged_writes=ledger.calls_acknowledged,
                              watch_events=ledger.watch_events,
                              cuts=",".join(f"{k}:{v}" for k, v in sorted(ledger.cuts.items())))
        scenario.assert_rss_growth_below(PROCESS_ALLOWANCE_KIB + JOB_KIB * len(ledger.revisions),
                                         f"{len(ledger.revisions)} jobs created, a few short-lived connections")
        scenario.finish()
