"""One load process: its clients, ledger, counters and threads, and the entry point the coordinator spawns."""
from __future__ import annotations

import collections
import os
import random
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

import jobwire
from helpers import FAST_BACKOFF
from jobwire import _rpc
from jobwire.errors import JobWireError, Reason, StatusCode
from jobwire.models import Job

from .actors import Canceller, Reader, Worker
from .common import (CALL_TIMEOUT_S, SHORT, Options, T, batch_outcome, is_connection_error, mono, now_ms,
                     start_guarded)
from .ledger import Entry, Ledger, evaluate
from .plumbing import ActiveJobs, Gate, JobEnded, Stats, TokenBucket
from .watchers import ClientWatcher, RawWatcher


class Load:
    """One load process: its clients, ledger, counters and threads."""

    CLIENT_SLOTS = 3

    def __init__(self, index: int, options: Options) -> None:
        self.index = index
        self.options = options
        self.origin = f"p{index}"
        self.stats = Stats()
        self.ledger = Ledger()
        self.gate = Gate()
        self.active = ActiveJobs()
        self.bucket = TokenBucket(options.rate, max(5.0, options.rate / 10))
        self.stopping = threading.Event()
        self.clients = [self._client() for _ in range(self.CLIENT_SLOTS)]
        self.watch_client = self._client()
        self.check_client = self._client(timeout=30.0)
        self.threads: list[threading.Thread] = []

    def _client(self, timeout: float = CALL_TIMEOUT_S) -> jobwire.Client:
        return jobwire.Client("127.0.0.1", self.options.port, timeout=timeout, backoff=FAST_BACKOFF,
                              client_name=f"jobwire-soak/{self.origin}")

    def rng(self, name: str) -> random.Random:
        """A generator per thread, from the seed: the same seed makes the same choices (timing aside)."""
        return random.Random(f"{self.options.seed}/{self.index}/{name}")

    # Calls and their errors.

    def rpc(self, method: str, slot: str, call: Callable[[], T],
            cause: Callable[[JobWireError], str | None] | None = None, detail: str = "") -> T:
        """Makes one call (paced, counted); classifies its error, if any, before re-raising it.

        Connection errors are "fault" (checked later against the injected faults' windows); other errors are
        "expected: <cause>" when `cause` names one, otherwise "unexpected" (which fails the soak).
        """
        self.bucket.take()
        self.stats.call(method)
        try:
            return call()
        except JobWireError as error:
            if is_connection_error(error):
                self.stats.error(method, error, "fault", slot)
            else:
                why = cause(error) if cause is not None else None
                self.stats.error(method, error, f"expected: {why}" if why else "unexpected", slot, detail)
            raise

    def write_cause(self, job_id: str, error: JobWireError, before: Entry | None, t0_ms: int) -> str | None:
        """Why a write on `job_id` may legitimately fail with `error`, or None.

        - JOB_TERMINAL / ILLEGAL_TRANSITION / REVISION_MISMATCH: another writer changed the job under its worker:
          a Cancel (CANCELLED at once, or CANCELLING where only CANCELLED may follow), the lease running out
          (FAILED / LEASE_EXPIRED), or an earlier write of the worker whose reply was lost with its connection.
          The worker then reads the job and checks that the state it finds matches the cause
          (Worker.after_failed_update).
        - NOT_FOUND: judged like a read (deleted, or retention over; see evaluate).
        """
        if error.code == StatusCode.NOT_FOUND and before is not None:
            return self.read_cause(before, job_id, error, t0_ms)
        entry = self.ledger.get(job_id)
        if entry is None:
            return None
        causes = {"cancel": bool(entry.cancel_attempt_ms), "lease": bool(entry.lease_ttl_ms),
                  "unacknowledged write": bool(entry.uncertain_ms)}
        allowed = {
            Reason.JOB_TERMINAL: ("cancel", "lease", "unacknowledged write"),
            Reason.ILLEGAL_TRANSITION: ("cancel", "unacknowledged write"),
            Reason.REVISION_MISMATCH: ("cancel", "lease", "unacknowledged write"),
        }.get(error.reason, ())
        found = [name for name in allowed if causes[name]]
        return f"{error.reason} after {' or '.join(found)}" if found else None

    def read_cause(self, before: Entry, job_id: str, error: JobWireError, t0_ms: int) -> str | None:
        """Why a read (or a write answering like one) may say NOT_FOUND: judged by evaluate(); a violation
        otherwise."""
        after = self.ledger.get(job_id) or before
        kind, violation = evaluate(before, after, error, t0_ms, now_ms(), self.options.retention_ms,
                                   self.options.expired_retention_ms)
        if violation:
            self.stats.violation(violation)
            return None
        return f"{error.reason} ({kind})"

    def check_read(self, before: Entry | None, job: Job, t0_ms: int) -> None:
        """Read-your-writes: a job read after an acknowledgement must reflect it."""
        if before is None:
            return
        after = self.ledger.get(job.job_id) or before
        _, violation = evaluate(before, after, job, t0_ms, now_ms(), self.options.retention_ms,
                                self.options.expired_retention_ms)
        if violation:
            self.stats.violation(violation)

    def record(self, violations: list[str]) -> None:
        for violation in violations:
            self.stats.violation(violation)

    # Threads.

    def start(self) -> None:
        bodies: list[tuple[str, Callable[[], None]]] = []
        for number in range(self.options.workers):
            bodies.append((f"worker-{number}", Worker(self, number).run))
        bodies.append(("canceller", Canceller(self).run))
        bodies.append(("reader", Reader(self).run))
        for number in range(2):
            bodies.append((f"raw-watch-{number}", RawWatcher(self, number).run))
        bodies.append(("client-watch", ClientWatcher(self).run))
        bodies.append(("chaos", self.chaos))
        self.threads += start_guarded(bodies, lambda name, trace: self.stats.harness_error(
            f"{self.origin}/{name} died: {trace}"))

    def sleep(self, seconds: float) -> None:
        """Sleeps, waking when the soak stops; raises JobEnded then."""
        if self.stopping.wait(seconds):
            raise JobEnded()

    def chaos(self) -> None:
        """Resets (RST) one of this process's client connections now and then, mid-call: calls in flight fail with
        CONNECTION_LOST, updates and deletes with an unknown outcome, and the client must reconnect."""
        rng = self.rng("chaos")
        while not self.stopping.wait(rng.uniform(6.0, 15.0)):
            slot = rng.randrange(self.CLIENT_SLOTS)
            # The client has no public way to break its connection: reach in (private attributes, on purpose).
            connection = self.clients[slot]._manager._current  # noqa: SLF001
            if connection is None or not connection.usable:
                continue
            sock = connection._sock  # noqa: SLF001
            self.stats.injection(f"{self.origin}/c{slot}")
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # SHUT_RD wakes the client's reader thread (recv returns 0) without sending anything; the reader
                # then closes the socket, which sends an RST because of SO_LINGER 0.
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                continue
            self.stats.bump("client connections reset (injected)")

    # Checkpoints and the end.

    def checkpoint(self, label: str) -> dict[str, Any]:
        """Pauses the writes, checks every ledger entry against the server, resumes."""
        started = mono()
        if not self.gate.pause(timeout=45):
            self.stats.violation(f"{self.origin}: checkpoint {label}: writes did not pause within 45 s")
        try:
            result = self.check_ledger(label)
        finally:
            self.gate.resume()
        result["seconds"] = round(mono() - started, 1)
        return result

    def check_ledger(self, label: str) -> dict[str, Any]:
        entries = self.ledger.snapshot()
        kinds: collections.Counter[str] = collections.Counter()
        violations: list[str] = []
        give_up = mono() + 120  # a dead server must not hold the soak for ever
        for start in range(0, len(entries), 500):
            chunk = entries[start:start + 500]
            results = None
            while mono() < give_up:
                t0 = now_ms()
                try:
                    results = self.rpc(SHORT[_rpc.BATCH_GET_METADATA], "check",
                                       lambda: self.check_client.batch_get_metadata([e.job_id for e in chunk]))
                    break
                except JobWireError as error:
                    if not is_connection_error(error):
                        violations.append(f"checkpoint {label}: BatchGetMetadata failed: {error}")
                        break
                    time.sleep(0.5)
            if results is None:
                violations.append(f"checkpoint {label}: could not read {len(chunk)} jobs")
                kinds["unchecked"] += len(chunk)
                continue
            t1 = now_ms()
            for entry, result in zip(chunk, results):
                if result.job_id != entry.job_id:
                    violations.append(f"checkpoint {label}: BatchGetMetadata answered {result.job_id} for "
                                      f"{entry.job_id}")
                    continue
                outcome = batch_outcome(result)
                kind, violation = evaluate(entry, entry, outcome, t0, t1, self.options.retention_ms,
                                           self.options.expired_retention_ms)
                kinds[kind] += 1
                if violation:
                    violations.append(f"checkpoint {label}: {violation}")
        for violation in violations:
            self.stats.violation(violation)
        return {"label": label, "origin": self.origin, "entries": len(entries), "kinds": dict(kinds),
                "violations": violations[:20], "violation_count": len(violations)}

    def stop(self) -> dict[str, Any]:
        self.stopping.set()
        self.gate.resume()
        deadline = mono() + 60
        for thread in self.threads:
            thread.join(max(0.1, deadline - mono()))
            if thread.is_alive():
                self.stats.harness_error(f"{self.origin}/{thread.name} did not stop within 60 s")
        final = self.check_ledger("final")
        for client in [*self.clients, self.watch_client, self.check_client]:
            client.close()
        report = self.stats.snapshot()
        report["final_check"] = final
        report["ledger"] = len(self.ledger)
        return report


def load_main(index: int, options: Options, pipe: Pipe) -> None:
    """A load process: runs the threads; answers the coordinator's commands (stats, check, stop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    parent = os.getppid()
    load = Load(index, options)
    load.start()
    while True:
        if os.getppid() != parent:
            os._exit(3)  # the coordinator is gone: do not linger
        try:
            if not pipe.poll(0.5):
                continue
            command = pipe.recv()
        except (EOFError, OSError):
            os._exit(3)  # the coordinator is gone
        if command[0] == "stats":
            snapshot = load.stats.snapshot()
            pipe.send({"calls": snapshot["calls"], "errors": snapshot["errors"],
                       "violation_count": snapshot["violation_count"], "ledger": len(load.ledger),
                       "counters": snapshot["counters"]})
        elif command[0] == "check":
            pipe.send(load.checkpoint(command[1]))
        elif command[0] == "stop":
            pipe.send(load.stop())
            return
