"""Load process plumbing: counters, pacing, the write gate, the set of active jobs, framed raw sockets."""
from __future__ import annotations

import collections
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jobwire._pb import jobwire_pb2 as pb
from jobwire.errors import JobWireError

from .common import code_reason, mono, rst_close, violation_kind


class Stats:
    """Counters of one process (thread-safe), sent to the coordinator as plain data."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()
        #: (method, code/reason, class) -> count; class is "fault", "expected: why" or "unexpected".
        self.errors: collections.Counter[tuple[str, str, str]] = collections.Counter()
        #: connection errors, to be matched with the injected faults: (monotonic time, slot, method, code/reason).
        self.faults: list[tuple[float, str, str, str]] = []
        #: client connections this process reset on purpose: (monotonic time, slot).
        self.injections: list[tuple[float, str]] = []
        self.violations: list[str] = []
        self.violation_count = 0
        self.violation_kinds: collections.Counter[str] = collections.Counter()
        self.unexpected: list[str] = []
        self.harness: list[str] = []
        self.counters: collections.Counter[str] = collections.Counter()

    def call(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1

    def error(self, method: str, error: JobWireError, klass: str, slot: str, detail: str = "") -> None:
        with self._lock:
            self.errors[(method, code_reason(error), klass)] += 1
            if klass == "fault":
                self.faults.append((mono(), slot, method, code_reason(error)))
            elif klass == "unexpected" and len(self.unexpected) < 50:
                self.unexpected.append(f"{method} {code_reason(error)} {detail}: {error.message}")

    def fault(self, method: str, slot: str, what: str) -> None:
        """A connection problem seen outside the client library (raw sockets)."""
        with self._lock:
            self.errors[(method, what, "fault")] += 1
            self.faults.append((mono(), slot, method, what))

    def injection(self, slot: str) -> None:
        """A client connection reset on purpose, now: connection errors on `slot` just after it are explained."""
        with self._lock:
            self.injections.append((mono(), slot))

    def violation(self, text: str) -> None:
        """Records a broken promise; by kind (the text without ids and numbers), with the first examples."""
        kind = violation_kind(text)
        with self._lock:
            self.violation_count += 1
            self.violation_kinds[kind] += 1
            if self.violation_kinds[kind] <= 3 and len(self.violations) < 200:
                self.violations.append(text)

    def harness_error(self, text: str) -> None:
        with self._lock:
            if len(self.harness) < 20:
                self.harness.append(text)
            self.counters["harness errors"] += 1

    def bump(self, name: str, count: int = 1) -> None:
        with self._lock:
            self.counters[name] += count

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": dict(self.calls), "errors": dict(self.errors), "faults": list(self.faults),
                    "injections": list(self.injections), "violations": list(self.violations),
                    "violation_count": self.violation_count, "violation_kinds": dict(self.violation_kinds),
                    "unexpected": list(self.unexpected),
                    "harness": list(self.harness), "counters": dict(self.counters)}


class TokenBucket:
    """Caps a process's call rate: a soak on a 2-core machine, not a benchmark."""

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._last = mono()
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            now = mono()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


class Gate:
    """Lets the checkpoints stop every write (and wait for those in flight) while reads go on.

    A checkpoint compares the ledger with the server; a write landing in between would make the comparison
    racy, so writes (and the ledger update that follows each) pass through here.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._active = 0

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._paused:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def pause(self, timeout: float) -> bool:
        deadline = mono() + timeout
        with self._cond:
            self._paused = True
            while self._active:
                left = deadline - mono()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()


class ActiveJobs:
    """Jobs a worker of this process is driving right now: what cancels, deletes and watches aim at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, None] = {}

    def add(self, job_id: str) -> None:
        with self._lock:
            self._jobs[job_id] = None

    def discard(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def pick(self, rng: random.Random) -> str | None:
        with self._lock:
            jobs = list(self._jobs)
        return rng.choice(jobs) if jobs else None


class JobEnded(Exception):
    """The worker is done with this job (terminal, deleted, or the soak is stopping)."""


class HandshakeFailed(Exception):
    pass


class FrameSocket:
    """A raw protocol connection with buffered frame reading (a read timeout never loses bytes) that answers
    pings: what the raw watchers use to control exactly when and how their connection goes away."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def send(self, frame: pb.Frame) -> None:
        body = frame.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def read(self, timeout: float) -> pb.Frame | None:
        """The next frame other than a Ping (answered here); None after `timeout`; ConnectionError on EOF."""
        deadline = mono() + timeout
        while True:
            if len(self._buffer) >= 4:
                (length,) = struct.unpack(">I", self._buffer[:4])
                if len(self._buffer) >= 4 + length:
                    frame: pb.Frame = pb.Frame.FromString(bytes(self._buffer[4:4 + length]))
                    del self._buffer[:4 + length]
                    if frame.WhichOneof("kind") == "ping":
                        self.send(pb.Frame(pong=pb.Pong(payload=frame.ping.payload)))
                        continue
                    return frame
            left = deadline - mono()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise ConnectionResetError("the server closed the connection")
            self._buffer += data

    def hello(self) -> None:
        self.send(pb.Frame(hello=pb.Hello(protocol_version=1, client_name="jobwire-soak/raw-watch")))
        frame = self.read(5.0)
        if frame is None or frame.WhichOneof("kind") != "hello_ack":
            raise HandshakeFailed(f"no HelloAck: {frame}")

    def rst(self) -> None:
        rst_close(self.sock)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
