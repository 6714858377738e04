"""Measurements and raw-socket tools shared by the hostile-network scenarios.

What a scenario needs beside the hostile clients themselves:

- the server's memory (``VmRSS`` of /proc/PID/status, and its peak during an attack: :class:`PeakRss`),
- its open descriptors (the entries of /proc/PID/fd: :func:`fd_count`),
- a *well-behaved client* (:class:`WellBehavedClient`) that keeps calling the server beside the attack and records
  whether every call succeeded and how long it took,
- :class:`Scenario`, which strings these together in the same order for every test and prints the one
  ``HOSTILE <name> ...`` line per scenario,
- small helpers to speak frames on plain non-blocking sockets (:func:`encode`, :class:`FrameBuffer`,
  :func:`set_reset_on_close`).

The server processes themselves, ``wait_for`` and the raw protocol connection come from the Python client's test
helpers (clients/python/tests/helpers.py), which conftest.py puts on ``sys.path``.
"""
from __future__ import annotations

import errno
import os
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Final

import jobwire
from google.protobuf.message import Message
from helpers import Server, status_of, wait_for
from jobwire._pb import jobwire_pb2 as pb

# ---------------------------------------------------------------------------------------------------------------------
# Memory bounds. Each scenario derives its own bound from these documented numbers (docs/OPERATIONS.md, "Limits and
# memory") and states the derivation next to its constant.

#: What one idle, handshaken connection costs the server: about 4 KiB, measured (the 10,000-connection scenario
#: prints the current figure as ``per_connection_kib``).
IDLE_CONNECTION_KIB: Final = 4
#: Growth that has nothing to do with the attack: the allocator's per-thread arenas and the stacks of Dispatch worker
#: threads that start once two cores are busy, SQLite's page cache filling with the jobs the scenario writes, and the
#: well-behaved client's own job history (at most 256 events and 256 KiB). A debug jobwired idles at ~25 MiB RSS and
#: grows by a few MiB under the well-behaved client alone; 16 MiB leaves room for that, and is still far below what
#: any of the attacks would cost an unbounded server (each scenario says how much).
PROCESS_ALLOWANCE_KIB: Final = 16 * 1024

#: Deadline of every call of the well-behaved clients. A liveness bound, not a speed goal.
CALL_TIMEOUT_S: Final = 2.0
#: A call that succeeds has met its deadline (the client enforces it locally); this much is allowed on top for the
#: test's own clock readings around the call, so only a client that ignored its deadline fails the check.
DEADLINE_SLACK_S: Final = 0.25

#: One ``HOSTILE ...`` line per scenario, printed again in the terminal summary (conftest.py).
HOSTILE_LINES: list[str] = []

KIB: Final = 1024

#: The ``start_server`` fixture: ``start_server(*flags) -> Server``.
StartServer = Callable[..., Server]

# ---------------------------------------------------------------------------------------------------------------------
# The server process: process_stats.py, re-exported here for the scenarios.

from process_stats import (PeakRss, assert_alive, fd_count, nofile_limits, pid_of, rss_kib,  # noqa: E402,F401
                           writable_kib)


# ---------------------------------------------------------------------------------------------------------------------
# The well-behaved client.


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


@dataclass
class CallRecord:
    phase: str
    method: str
    seconds: float
    error: str = ""


class WellBehavedClient:
    """A polite client beside the attack: GetMetadata and UpdateJob on its own job, alternately, in a loop.

    Each call has a :data:`CALL_TIMEOUT_S` deadline. Every call is recorded with the phase it started in
    (``baseline``, ``attack``, ``after``), its duration and its error if it failed; :meth:`check` then asserts that
    every call succeeded within its deadline. A short pause between calls keeps the load it adds bounded (the
    machine has two cores). UpdateJob is never retried by the client after a dropped connection, so a connection
    the server drops under attack shows up as a failure here.
    """

    def __init__(self, server: Server, name: str = "probe", pause_s: float = 0.01, **client_options: object) -> None:
        self.name = name
        self.client: jobwire.Client = server.client(timeout=CALL_TIMEOUT_S, client_name=f"hostile-suite/{name}",
                                                    **client_options)
        self.job_id = self.client.configure(jobwire.JobSpec(type="hostile-probe")).job.job_id
        self.pause_s = pause_s
        self.phase = "baseline"
        self.records: list[CallRecord] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"well-behaved-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            phase = self.phase
            method = "GetMetadata" if index % 2 == 0 else "UpdateJob"
            started = time.monotonic()
            error = ""
            try:
                if method == "GetMetadata":
                    job = self.client.get_metadata(self.job_id)
                    if job.job_id != self.job_id:
                        error = f"GetMetadata returned job {job.job_id}"
                else:
                    self.client.update(self.job_id, progress=float(index % 100))
            except jobwire.JobWireError as failure:
                error = f"{failure.code.name}/{failure.reason}: {failure.message}"
            except Exception as failure:  # a bug in the client counts as a failed call, not a dead probe thread
                error = f"{type(failure).__name__}: {failure}"
            self.records.append(CallRecord(phase, method, time.monotonic() - started, error))
            index += 1
            self._stop.wait(self.pause_s)

    def calls(self, phase: str) -> list[CallRecord]:
        return [record for record in list(self.records) if record.phase == phase]

    def wait_calls(self, phase: str, count: int, timeout: float = 10.0) -> None:
        """Waits until `count` calls of `phase` have finished (successfully or not)."""
        wait_for(lambda: len(self.calls(phase)) >= count, timeout=timeout,
                 what=f"{count} calls of the well-behaved client ({self.name}) in phase {phase}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CALL_TIMEOUT_S + 5)
        assert not self._thread.is_alive(), f"the well-behaved client {self.name} is stuck in a call"

    def latencies_ms(self, phase: str) -> list[float]:
        return [record.seconds * 1000 for record in self.calls(phase) if not record.error]

    def check(self, min_attack_calls: int = 5) -> None:
        """Every call succeeded within its deadline, and enough of them ran while the attack was on."""
        records = list(self.records)
        failed = [record for record in records if record.error]
        assert not failed, (f"{len(failed)} of {len(records)} calls of the well-behaved client {self.name} failed; "
                            f"first ones: {[(r.phase, r.method, round(r.seconds, 3), r.error) for r in failed[:5]]}")
        late = [record for record in records if record.seconds > CALL_TIMEOUT_S + DEADLINE_SLACK_S]
        assert not late, f"calls of {self.name} returned after their {CALL_TIMEOUT_S} s deadline: {late[:5]}"
        attack = self.calls("attack")
        assert len(attack) >= min_attack_calls, (
            f"the well-behaved client {self.name} finished only {len(attack)} calls during the attack: "
            f"it was not served while the attack ran")


# ---------------------------------------------------------------------------------------------------------------------
# One scenario's bookkeeping.


class Scenario:
    """The common frame of every scenario: baseline, attack, release, report.

    Usage::

        with Scenario("slowloris", server) as scenario:   # well-behaved client running, baseline measured
            scenario.begin_attack()                       # fds and RSS before; peak tracking starts
            ...                                           # the hostile clients do their worst
            scenario.end_attack()                         # peak RSS read
            scenario.assert_rss_growth_below(BOUND_KIB)
            ...                                           # hostile clients go away
            scenario.wait_fds_released()
            scenario.finish()                             # all calls ok, server alive, fresh client works, report
    """

    def __init__(self, name: str, server: Server, baseline_calls: int = 60, **client_options: object) -> None:
        self.name = name
        self.server = server
        self.pid = pid_of(server)
        self.baseline_calls = baseline_calls
        self.client_options = client_options
        self.probe = WellBehavedClient(server, **client_options)
        self.rss = PeakRss(self.pid)
        self.fds_before = 0
        self.fds_after = -1
        self.writable_before_kib = 0
        self.writable_peak_kib = 0
        self.extra: dict[str, object] = {}
        self._attack_started = False
        self._reported = False

    def __enter__(self) -> Scenario:
        self.probe.start()
        # The baseline: the server warmed up (SQLite files open, WAL written, client connected) and latencies of an
        # undisturbed server to compare with.
        self.probe.wait_calls("baseline", self.baseline_calls)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.rss.stop()
        self.probe.stop()
        if exc is not None and not self._reported:
            # The numbers of a failed scenario help to read its failure; a dead server explains it outright.
            self.extra["outcome"] = "FAILED"
            assert self.server.process is not None
            if self.server.process.poll() is not None:
                self.extra["server_exit"] = self.server.process.poll()
                print(f"jobwired exited with status {self.server.process.poll()}; log tail:\n"
                      f"{self.server.log()[-4000:]}", flush=True)
            self.report()

    def begin_attack(self) -> None:
        """Records the descriptors and memory before the attack and starts tracking the peak."""
        self.fds_before = fd_count(self.pid)
        self.writable_before_kib = writable_kib(self.pid)
        self.rss.start()
        self.probe.phase = "attack"
        self._attack_started = True

    def sample_writable(self) -> None:
        """Folds the current private writable address space into its peak (see :func:`writable_kib`)."""
        self.writable_peak_kib = max(self.writable_peak_kib, writable_kib(self.pid))

    @property
    def writable_growth_kib(self) -> int:
        return self.writable_peak_kib - self.writable_before_kib

    def end_attack(self) -> int:
        """Reads the peak memory of the attack; the well-behaved client goes on (phase ``after``)."""
        assert self._attack_started
        self.sample_writable()
        peak = self.rss.stop()
        self.probe.phase = "after"
        return peak

    def assert_rss_growth_below(self, bound_kib: int, why: str = "") -> None:
        growth = self.rss.growth_kib
        assert growth < bound_kib, (
            f"{self.name}: the server's RSS grew by {growth} KiB (from {self.rss.before_kib} to {self.rss.peak_kib} "
            f"KiB) during the attack; the bound is {bound_kib} KiB{': ' + why if why else ''}")

    def fds_now(self) -> int:
        return fd_count(self.pid)

    def wait_fds_released(self, timeout: float = 10.0, what: str = "") -> None:
        """Waits until the server holds exactly the descriptors it held before the attack."""
        try:
            wait_for(lambda: fd_count(self.pid) == self.fds_before, timeout=timeout, interval=0.05,
                     what=what or f"the server's descriptors to return to {self.fds_before}")
        except AssertionError as failure:
            raise AssertionError(f"{self.name}: {failure}; it holds {fd_count(self.pid)} "
                                 f"(before the attack: {self.fds_before})") from None
        self.fds_after = fd_count(self.pid)

    def finish(self, min_attack_calls: int = 5) -> None:
        """Stops the well-behaved client and checks it, the process and a fresh client; prints the report line."""
        self.probe.wait_calls("after", 3)
        self.probe.stop()
        assert_alive(self.server)
        fresh = self.server.client(timeout=CALL_TIMEOUT_S, client_name="hostile-suite/fresh", **self.client_options)
        assert fresh.health().status.name == "SERVING"
        assert fresh.get_metadata(self.probe.job_id).job_id == self.probe.job_id
        fresh.close()
        self.report()
        self.probe.check(min_attack_calls)

    def report(self) -> str:
        baseline = self.probe.latencies_ms("baseline")
        attack = self.probe.latencies_ms("attack")
        fields: dict[str, object] = {
            "baseline_p50_ms": f"{percentile(baseline, 0.50):.1f}",
            "baseline_p99_ms": f"{percentile(baseline, 0.99):.1f}",
            "attack_p50_ms": f"{percentile(attack, 0.50):.1f}",
            "attack_p99_ms": f"{percentile(attack, 0.99):.1f}",
            "attack_max_ms": f"{max(attack, default=0.0):.1f}",
            "attack_calls": len(attack),
            "rss_before_kib": self.rss.before_kib,
            "rss_growth_kib": self.rss.growth_kib,
            "fds_before": self.fds_before,
            "fds_after": self.fds_after,
            **self.extra,
        }
        self._reported = True
        line = f"HOSTILE {self.name} " + " ".join(f"{key}={value}" for key, value in fields.items())
        print(line, flush=True)
        HOSTILE_LINES.append(line)
        return line

    def stats(self) -> jobwire.Stats:
        """The server's Stats (open connections and streams), over the well-behaved client's connection."""
        return self.probe.client.stats(timeout=CALL_TIMEOUT_S)

    def resting_streams(self, samples: int = 10) -> int:
        """Open streams when no well-behaved call is in flight: the least of a few samples.

        The well-behaved clients' writes count as open streams while they wait for their commit, so a single
        sample may be one or two higher than the resting value; watches leaked by the attack would stay.
        """
        return min(self.stats().streams for _ in range(samples))

    def wait_streams(self, resting: int, timeout: float = 5.0) -> None:
        """Waits until Stats shows the resting number of open streams again (polling across in-flight writes)."""
        seen: list[int] = []

        def back() -> bool:
            seen.append(self.stats().streams)
            return seen[-1] <= resting

        try:
            wait_for(back, timeout=timeout, interval=0.01, what=f"Stats to show {resting} open streams again")
        except AssertionError as failure:
            raise AssertionError(f"{self.name}: {failure}; it showed between {min(seen)} and {max(seen)}") from None


# ---------------------------------------------------------------------------------------------------------------------
# Frames on raw sockets.


def encode(frame: pb.Frame) -> bytes:
    """One frame on the wire: the 4-byte big-endian length, then the encoded ``Frame``."""
    body = frame.SerializeToString()
    return struct.pack(">I", len(body)) + body


def hello_bytes(client_name: str = "hostile", max_frame_bytes: int = 0) -> bytes:
    return encode(pb.Frame(hello=pb.Hello(protocol_version=1, client_name=client_name,
                                          max_frame_bytes=max_frame_bytes)))


def call_bytes(stream_id: int, method: str, request: Message, timeout_ms: int = 0) -> bytes:
    return encode(pb.Frame(call=pb.Call(stream_id=stream_id, method=method, request=request.SerializeToString(),
                                        timeout_ms=timeout_ms)))


def ping_bytes(payload: int) -> bytes:
    return encode(pb.Frame(ping=pb.Ping(payload=payload)))


def method(name: str) -> str:
    return f"/jobwire.v1.JobService/{name}"


class FrameBuffer:
    """Splits received bytes into frames, like the server's decoder, for sockets read in arbitrary pieces.

    Consumed bytes are dropped in one go when the buffer runs dry, not frame by frame, so that megabytes of small
    frames (a ping flood's pongs) parse in linear time.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.offset = 0

    def feed(self, data: bytes) -> list[pb.Frame]:
        """Adds `data`; returns every frame now complete, in order."""
        self.data += data
        frames: list[pb.Frame] = []
        while (frame := self.pop()) is not None:
            frames.append(frame)
        return frames

    def pop(self) -> pb.Frame | None:
        """The next complete frame, or None until more bytes arrive (add them to :attr:`data`)."""
        if len(self.data) - self.offset >= 4:
            (length,) = struct.unpack_from(">I", self.data, self.offset)
            end = self.offset + 4 + length
            if len(self.data) >= end:
                frame = pb.Frame.FromString(bytes(self.data[self.offset + 4:end]))
                self.offset = end
                return frame
        if self.offset:
            del self.data[:self.offset]
            self.offset = 0
        return None

    @property
    def partial(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self.data) - self.offset


def kind(frame: pb.Frame) -> str:
    return frame.WhichOneof("kind") or ""


def goaway_status(frame: pb.Frame) -> tuple[str, str]:
    assert kind(frame) == "goaway", frame
    return status_of(frame.goaway.status)


def set_reset_on_close(sock: socket.socket) -> None:
    """SO_LINGER on with a zero timeout: close() sends RST instead of FIN and drops unsent data."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def close_socket(sock: socket.socket, reset: bool) -> None:
    if reset:
        try:
            set_reset_on_close(sock)
        except OSError:
            pass
    sock.close()


#: recv()/send() errors that mean "the peer is gone" rather than a test bug.
GONE_ERRNOS: Final = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN})


def recv_available(sock: socket.socket, limit: int = 1 << 20) -> tuple[bytes, bool]:
    """Reads what a non-blocking socket has (at most `limit` bytes); returns (bytes, peer closed)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return b"".join(chunks), False
        except OSError as failure:
            if failure.errno in GONE_ERRNOS:
                return b"".join(chunks), True
            raise
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks), False


class Updater:
    """A second well-behaved client that keeps changing a set of jobs (UpdateJob progress, round robin) as fast as
    its calls return, so that watchers of those jobs get a steady stream of events. Its calls have the same
    deadline as the probe's; :meth:`check` asserts that every one succeeded."""

    def __init__(self, server: Server, job_ids: list[str], name: str = "updater", pause_s: float = 0.0) -> None:
        self.job_ids = job_ids
        self.name = name
        self.pause_s = pause_s
        self.updates = 0
        self.failures: list[str] = []
        self.client: jobwire.Client = server.client(timeout=CALL_TIMEOUT_S, client_name=f"hostile-suite/{name}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        rng = random.Random(7)
        while not self._stop.is_set():
            job_id = self.job_ids[self.updates % len(self.job_ids)]
            started = time.monotonic()
            try:
                self.client.update(job_id, progress=float(rng.randrange(100)))
            except jobwire.JobWireError as failure:
                self.failures.append(f"{failure.code.name}/{failure.reason} after "
                                     f"{time.monotonic() - started:.3f} s: {failure.message}")
            self.updates += 1
            if self.pause_s:
                self._stop.wait(self.pause_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CALL_TIMEOUT_S + 5)
        assert not self._thread.is_alive(), f"{self.name} is stuck in a call"

    def check(self) -> None:
        assert not self.failures, f"{len(self.failures)} updates of {self.name} failed: {self.failures[:5]}"


def close_opened(done: list[socket.socket], selector: selectors.BaseSelector) -> None:
    """After a failure while opening many connections: closes those open and those still connecting, so a failed
    scenario leaves no descriptor behind for the next."""
    for sock in done:
        sock.close()
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
