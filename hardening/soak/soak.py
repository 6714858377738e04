#!/usr/bin/env python3
"""Soak test of jobwired: a bounded mixed load for N minutes, with injected faults, checked end to end.

    clients/python/.venv/bin/python hardening/soak/soak.py --minutes 10 --jobwired PATH [--seed S]

What it does (hardening/soak/README.md has the details and the reasoning):

- starts jobwired on 127.0.0.1, port 0, with a temporary SQLite data directory and short retention
  (20 s + 20 s) so that the job population, and with it the server's memory, reaches a steady state;
- runs load processes (several threads each: workers that create and drive jobs, a canceller/deleter, a
  lister/reader, raw-socket watchers with churn and resume, a watcher on the official client, and a chaos
  thread that resets client connections), paced to a few hundred calls per second in total;
- injects faults: raw connections reset (RST) mid-call, mid-watch, mid-frame and mid-handshake, client
  connections reset mid-call, and exactly one SIGKILL of jobwired at a third of the run, restarted on the
  same port and data directory;
- keeps a ledger of every acknowledged write and checks it against the server after the restart and at the
  end (nothing acknowledged lost, revisions never go back, terminal stays terminal, retention honoured);
- samples the server's RSS and descriptor count; fails on RSS drift >= 5 % after warm-up and on descriptors
  that do not return to the idle baseline once every client is gone;
- classifies every error: connection errors must fall inside an injected fault's window, domain errors must
  have a cause the soak can name (and verify); anything else fails the run.

The last line is ``SOAK PASS ...`` or ``SOAK FAIL reason...``; the exit status is 0 or 1.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import multiprocessing
import os
import pathlib
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection as Pipe
from typing import Any, TypeVar

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
# The checkout's client (not a possibly older installed copy) and the Python tests' helpers.
sys.path.insert(0, str(REPO / "clients" / "python" / "src"))
sys.path.insert(1, str(REPO / "clients" / "python" / "tests"))

try:
    import jobwire
    from jobwire import _rpc
    from jobwire._pb import jobwire_pb2 as pb
    from jobwire.errors import JobWireError, Reason, StatusCode
    from jobwire.models import Job, JobError, JobResult, JobSpec, JobStatus
    from helpers import FAST_BACKOFF, RawConnection
except ImportError as failure:  # pragma: no cover - a setup problem, said plainly
    sys.exit(f"soak.py: cannot import the jobwire client ({failure}); run it with "
             f"clients/python/.venv/bin/python (make test-python creates it)")

T = TypeVar("T")

# ----------------------------------------------------------------------------------------------------------------
# Small shared definitions
# ----------------------------------------------------------------------------------------------------------------

TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

#: Every status a job may show later, given the status it had (docs/PROTOCOL.md, "The job model and lifecycle"),
#: transitively: acknowledgements and reads may skip intermediate states, but nothing may ever go back.
REACHABLE: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.CANCELLING, JobStatus.COMPLETED,
                                  JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLING, JobStatus.COMPLETED, JobStatus.FAILED,
                                  JobStatus.CANCELLED}),
    JobStatus.CANCELLING: frozenset({JobStatus.CANCELLING, JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset({JobStatus.COMPLETED}),
    JobStatus.FAILED: frozenset({JobStatus.FAILED}),
    JobStatus.CANCELLED: frozenset({JobStatus.CANCELLED}),
}

#: A terminal job may still be served this long after its ``expires_at_ms`` (the reaper runs every second).
RETENTION_SLACK_MS = 3_000
#: ... and must not answer EXPIRED more than this long before it (the same clock, one machine).
EARLY_SLACK_MS = 1_000
#: How long after an injected fault a connection error is still blamed on it.
INJECTED_WINDOW_S = 3.0
#: How long after the restarted server is ready connection errors are still blamed on the SIGKILL.
KILL_WINDOW_AFTER_READY_S = 5.0
#: Per-call deadline of every client the soak uses: far above any latency on a healthy server.
CALL_TIMEOUT_S = 10.0
#: How long the descriptors get to come back to the baseline once every client is gone: jobwired's ping interval
#: (30 s, when a connection reset after an incomplete frame is finally closed) plus a margin.
FD_SETTLE_S = 45.0
#: The lease of leased jobs; their worker renews it with every update (a few times per second).
LEASE_S = 15.0

SHORT = {name: name.rsplit("/", 1)[1] for name in (_rpc.CONFIGURE, _rpc.GET_METADATA, _rpc.BATCH_GET_METADATA,
                                                   _rpc.LIST_JOBS, _rpc.WATCH_JOB, _rpc.CANCEL, _rpc.UPDATE_JOB,
                                                   _rpc.DELETE_JOB, _rpc.HEALTH, _rpc.STATS)}


def mono() -> float:
    """The monotonic clock: CLOCK_MONOTONIC is system-wide on Linux, so the load processes' times compare."""
    return time.monotonic()


def now_ms() -> int:
    """Wall-clock epoch milliseconds, the clock of the server's ``expires_at_ms`` (same machine)."""
    return int(time.time() * 1000)


def is_connection_error(error: JobWireError) -> bool:
    """An error that says "the connection or the server went away", never "the server said no".

    These are the only errors an injected fault may cause; each one is checked afterwards to fall inside the
    window of a fault the soak injected (the SIGKILL, or a reset of that very client's connection).
    """
    if error.code == StatusCode.UNAVAILABLE:
        return error.reason in (Reason.CONNECTION_LOST, Reason.NOT_PROCESSED)
    if error.code == StatusCode.DEADLINE_EXCEEDED:
        return error.reason in (Reason.CONNECT_FAILED, Reason.DEADLINE_EXCEEDED)
    return False


def code_reason(error: JobWireError) -> str:
    return f"{error.code.name}/{error.reason}"


def batch_outcome(result: jobwire.BatchResult) -> Job | JobWireError:
    """One BatchGetMetadata entry as what GetMetadata would have given: the job or its error."""
    if result.job is not None:
        return result.job
    assert result.error is not None, result
    return result.error


def violation_kind(text: str) -> str:
    """A violation's text without job ids and numbers: what the summary counts them by."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<job>", text)
    return re.sub(r"\d+", "N", text)[:110]


def start_guarded(bodies: list[tuple[str, Callable[[], None]]],
                  died: Callable[[str, str], None]) -> list[threading.Thread]:
    """Starts each body in a daemon thread of its name. A thread that dies of a bug in the soak fails the soak (not
    silently): `died(name, traceback)` reports it."""
    def guard(name: str, body: Callable[[], None]) -> None:
        try:
            body()
        except BaseException:
            died(name, traceback.format_exc())

    threads = []
    for name, body in bodies:
        thread = threading.Thread(target=guard, args=(name, body), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def rst_close(sock: socket.socket) -> None:
    """Closes `sock` with a TCP RST (SO_LINGER 0) instead of a FIN: the server sees "connection reset by peer"."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


@dataclasses.dataclass(frozen=True)
class Options:
    """What the coordinator hands each load process (picklable)."""

    port: int
    seed: int
    workers: int
    rate: float
    retention_ms: int
    expired_retention_ms: int


# ----------------------------------------------------------------------------------------------------------------
# The server process
# ----------------------------------------------------------------------------------------------------------------

_READY = re.compile(r"^jobwired listening on (.+):(\d+)$")


class ServerProcess:
    """jobwired on loopback with a data directory; restartable on the same port.

    Not helpers.Server: that one shares the soak's process group (a terminal Ctrl-C would reach jobwired and
    start its drain under the soak's feet) and cannot ask the kernel to kill jobwired if the soak itself dies.
    """

    def __init__(self, binary: str, workdir: pathlib.Path, args: list[str], env: dict[str, str] | None = None
                 ) -> None:
        self.binary = binary
        self.env = env
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "jobwired.log"
        self.args = args
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Starts jobwired (on the same port when restarting) and waits for its ready line."""
        command = [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
                   *self.args]
        if shutil.which("setpriv"):
            # jobwired gets SIGKILL if the soak dies without cleaning up (even from SIGKILL); setpriv execs, so the
            # pid stays jobwired's.
            command = ["setpriv", "--pdeathsig", "KILL", "--", *command]
        with self.log_path.open("a") as log:
            log.write(f"==== soak: starting {' '.join(command)}\n")
            log.flush()
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                            start_new_session=True, env={**os.environ, **(self.env or {})})
        assert self.process.stdout is not None
        line = ""
        deadline = mono() + 30
        while mono() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline().strip()
                break
            if self.process.poll() is not None:
                break
        match = _READY.match(line)
        if match is None:
            self.kill()
            raise RuntimeError(f"jobwired did not start ({line!r}); log tail:\n{self.log_tail(20)}")
        self.port = int(match.group(2))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (graceful drain); returns the exit status (SIGKILL and -9 after `timeout`)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def memory_kib(self) -> dict[str, int]:
        """VmRSS and its parts (RssAnon: the heap, where a leak shows; RssFile: the mapped binary and libraries)."""
        values = {}
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    name, _, rest = line.partition(":")
                    if name in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                        values[name] = int(rest.split()[0])
        except OSError:
            pass
        return values

    def rss_kib(self) -> int | None:
        return self.memory_kib().get("VmRSS")

    def fds(self, inodes: bool = False) -> list[str] | None:
        """The targets of the server's open descriptors (sockets and pipes without their inode numbers unless
        `inodes`)."""
        try:
            names = os.listdir(f"/proc/{self.pid}/fd")
        except OSError:
            return None
        targets = []
        for name in names:
            try:
                target = os.readlink(f"/proc/{self.pid}/fd/{name}")
            except OSError:
                continue
            targets.append(target if inodes else re.sub(r":\[\d+\]$", "", target))
        return sorted(targets)

    def sockets(self) -> list[str]:
        """Each TCP socket the server holds: state, local and remote address, queues (from /proc/PID/net/tcp*)."""
        states = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
                  "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
                  "0B": "CLOSING"}
        held = {m.group(1) for t in self.fds(inodes=True) or [] if (m := re.match(r"socket:\[(\d+)\]", t))}
        found = []
        for table in ("tcp", "tcp6"):
            try:
                lines = pathlib.Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 9 and fields[9] in held:
                    held.discard(fields[9])
                    local, remote = (f"{int(a.split(':')[1], 16)}" for a in (fields[1], fields[2]))
                    found.append(f"{states.get(fields[3], fields[3])} local port {local} remote port {remote} "
                                 f"queues {fields[4]} inode {fields[9]}")
        found += [f"non-TCP socket inode {inode}" for inode in sorted(held)]
        return found

    def log_tail(self, lines: int) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def malloc_stats(self) -> tuple[int, int] | None:
        """(bytes glibc holds from the system, bytes in live allocations), from malloc_stats() called in jobwired
        through gdb (it prints to jobwired's stderr, our log); None without gdb. Pauses the server about a second.

        Tells a leak (live bytes grow) from allocator retention (only the held bytes grow), which RSS cannot."""
        gdb = shutil.which("gdb")
        if gdb is None:
            return None
        mark = self.log_path.stat().st_size
        subprocess.run([gdb, "-p", str(self.pid), "-batch", "-ex", "call (void)malloc_stats()"],
                       capture_output=True, timeout=120)
        time.sleep(0.5)
        with self.log_path.open("rb") as log:
            log.seek(mark)
            text = log.read().decode(errors="replace")
        totals = re.findall(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)", text)
        return (int(totals[-1][0]), int(totals[-1][1])) if totals else None

    def check_store(self) -> tuple[int, str]:
        done = subprocess.run([self.binary, "--check-store", "--data-dir", str(self.data_dir)],
                              capture_output=True, text=True, timeout=300)
        return done.returncode, (done.stdout + done.stderr).strip()


# ----------------------------------------------------------------------------------------------------------------
# The ledger of acknowledged writes
# ----------------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Entry:
    """What the soak knows for certain about one job: only what a reply acknowledged, plus the marks needed to
    account honestly for writes whose outcome is unknown and for retention."""

    job_id: str
    revision: int                    # the highest acknowledged revision
    status: JobStatus                # the status at that revision
    expires_at_ms: int               # expires_at_ms at that revision (0 while not terminal)
    lease_ttl_ms: int                # the worker lease (0: none)
    lease_renewed_ms: int            # last acknowledged write of the worker (each one renews the lease)
    revisions: list[int]             # every acknowledged revision (for the watch gap check)
    deleted: bool = False            # DeleteJob acknowledged
    delete_revision: int = 0
    delete_attempts: int = 0         # DeleteJob sent (acknowledged or not)
    cancel_attempt_ms: int = 0       # first Cancel sent
    uncertain_ms: int = 0            # a write whose outcome is unknown, since the last acknowledgement
    uncertain_terminal_ms: int = 0   # first unacknowledged write that may have ended the job

    def copy(self) -> Entry:
        return dataclasses.replace(self, revisions=list(self.revisions))

    def earliest_expiry_ms(self, retention_ms: int) -> int | None:
        """The earliest time the job may have stopped being served, or None if it cannot have ended."""
        if self.status in TERMINAL:
            return self.expires_at_ms
        ends = []
        if self.cancel_attempt_ms:
            ends.append(self.cancel_attempt_ms)  # a job without a lease is CANCELLED at once
        if self.uncertain_terminal_ms:
            ends.append(self.uncertain_terminal_ms)
        if self.lease_ttl_ms:
            ends.append(self.lease_renewed_ms + self.lease_ttl_ms)  # FAILED / LEASE_EXPIRED (later after a restart)
        return min(ends) + retention_ms if ends else None


def evaluate(before: Entry, after: Entry, outcome: Job | JobWireError, t0_ms: int, t1_ms: int,
             retention_ms: int, expired_retention_ms: int) -> tuple[str, str | None]:
    """Judges one read of a ledger job: returns (what it was, violation or None).

    `before` is the ledger entry taken before the read was sent (what the server must reflect: every
    acknowledgement in it arrived before the read left), `after` the entry once the answer came (marks of
    deletes and cancels sent meanwhile, which may explain a missing job). [t0_ms, t1_ms] is when the read was
    in flight. Used by the checkpoints (where both are the same, the load being paused) and by live reads.
    """
    job_id = before.job_id
    if isinstance(outcome, Job):
        job = outcome
        if before.deleted:
            return "resurrected", (f"{job_id}: DeleteJob was acknowledged (revision {before.delete_revision}) but "
                                   f"the job is served again: revision {job.revision}, {job.status.name}")
        if job.revision < before.revision:
            return "lost", (f"{job_id}: lost acknowledged write: served revision {job.revision} "
                            f"({job.status.name}) < acknowledged revision {before.revision} ({before.status.name})")
        if job.revision == before.revision and job.status != before.status:
            return "diverged", (f"{job_id}: revision {job.revision} is served as {job.status.name} but was "
                                f"acknowledged as {before.status.name}")
        if job.status not in REACHABLE[before.status]:
            what = "terminal status changed" if before.status in TERMINAL else "status went back"
            return "backwards", (f"{job_id}: {what}: acknowledged {before.status.name} at revision "
                                 f"{before.revision}, served {job.status.name} at revision {job.revision}")
        if job.status in TERMINAL:
            if job.expires_at_ms == 0:
                return "no-expiry", f"{job_id}: terminal ({job.status.name}) without expires_at_ms"
            if t0_ms > job.expires_at_ms + RETENTION_SLACK_MS:
                return "overdue", (f"{job_id}: still served {t0_ms - job.expires_at_ms} ms after its retention "
                                   f"ended (expires_at_ms {job.expires_at_ms})")
        return "served", None
    error = outcome
    expiry = after.earliest_expiry_ms(retention_ms)
    if error.code == StatusCode.NOT_FOUND and error.reason == Reason.JOB_NOT_FOUND:
        if before.deleted:
            return "deleted", None
        if after.delete_attempts:
            return "deleted (delete unacknowledged)", None
        if expiry is not None and t1_ms >= expiry + expired_retention_ms - RETENTION_SLACK_MS:
            return "forgotten after retention", None
        return "lost", (f"{job_id}: acknowledged job is gone (JOB_NOT_FOUND): acknowledged {before.status.name} "
                        f"at revision {before.revision}, never deleted"
                        + (f", retention could not have ended before {expiry + expired_retention_ms}"
                           if expiry is not None else ", never terminal"))
    if error.code == StatusCode.NOT_FOUND and error.reason == Reason.EXPIRED:
        if before.deleted:
            return "resurrected", f"{job_id}: DeleteJob was acknowledged but the job answers EXPIRED"
        if expiry is not None and t1_ms >= expiry - EARLY_SLACK_MS:
            return "expired", None
        return "early-expiry", (f"{job_id}: EXPIRED although "
                                + (f"its retention ends only at {expiry} (now {t1_ms})" if expiry is not None
                                   else f"it was never terminal (acknowledged {before.status.name})"))
    return "error", f"{job_id}: read answered {code_reason(error)}: {error.message}"


class Ledger:
    """Every acknowledged write of one load process, by job id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def create(self, job: Job, lease_ttl_ms: int) -> list[str]:
        with self._lock:
            if job.job_id in self._entries:
                return [f"{job.job_id}: Configure created a job id that already exists"]
            self._entries[job.job_id] = Entry(job.job_id, job.revision, job.status, job.expires_at_ms, lease_ttl_ms,
                                              now_ms(), [job.revision])
        return [] if job.status == JobStatus.PENDING else [f"{job.job_id}: created as {job.status.name}"]

    def ack(self, job: Job, renews_lease: bool) -> list[str]:
        """Records an acknowledged write; returns violations of what acknowledgements may say."""
        violations = []
        with self._lock:
            entry = self._entries.get(job.job_id)
            if entry is None:
                return [f"{job.job_id}: acknowledgement for a job this process never created"]
            if entry.deleted and job.revision > entry.delete_revision:
                violations.append(f"{job.job_id}: write acknowledged at revision {job.revision} after DeleteJob "
                                  f"was acknowledged at revision {entry.delete_revision}")
            if job.revision > entry.revision:
                if job.status not in REACHABLE[entry.status]:
                    violations.append(f"{job.job_id}: acknowledged {entry.status.name} at revision {entry.revision},"
                                      f" then {job.status.name} at revision {job.revision}")
                entry.revision, entry.status, entry.expires_at_ms = job.revision, job.status, job.expires_at_ms
                entry.uncertain_ms = 0
            elif job.revision == entry.revision and job.status != entry.status:
                violations.append(f"{job.job_id}: revision {job.revision} acknowledged twice, as "
                                  f"{entry.status.name} and as {job.status.name}")
            elif job.revision < entry.revision and entry.status not in REACHABLE[job.status]:
                violations.append(f"{job.job_id}: acknowledged {job.status.name} at revision {job.revision} "
                                  f"but {entry.status.name} at the later revision {entry.revision}")
            if job.revision not in entry.revisions:
                entry.revisions.append(job.revision)
            if renews_lease:
                entry.lease_renewed_ms = now_ms()
            if job.status in TERMINAL and job.expires_at_ms == 0:
                violations.append(f"{job.job_id}: acknowledged {job.status.name} without expires_at_ms")
        return violations

    def ack_delete(self, job_id: str, revision: int) -> list[str]:
        with self._lock:
            entry = self._entries[job_id]
            entry.deleted = True
            entry.delete_revision = revision
            if revision < entry.revision:
                return [f"{job_id}: DeleteJob acknowledged revision {revision} < acknowledged {entry.revision}"]
        return []

    def mark(self, job_id: str, *, cancel: bool = False, delete: bool = False, uncertain_terminal: bool | None = None
             ) -> None:
        """Notes a write about to be sent (cancel, delete) or one whose outcome is unknown (uncertain_…)."""
        with self._lock:
            entry = self._entries.get(job_id)
            if entry is None:
                return
            if cancel and not entry.cancel_attempt_ms:
                entry.cancel_attempt_ms = now_ms()
            if delete:
                entry.delete_attempts += 1
            if uncertain_terminal is not None:
                entry.uncertain_ms = now_ms()
                if uncertain_terminal and not entry.uncertain_terminal_ms:
                    entry.uncertain_terminal_ms = now_ms()

    def get(self, job_id: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(job_id)
            return entry.copy() if entry is not None else None

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def recent_ids(self, count: int, present_only: bool = False) -> list[str]:
        """The `count` newest jobs; with `present_only`, those of them not known to be deleted."""
        with self._lock:
            ids = list(self._entries)[-count:]
            if present_only:
                ids = [job_id for job_id in ids if not self._entries[job_id].deleted]
        return ids

    def snapshot(self) -> list[Entry]:
        with self._lock:
            return [entry.copy() for entry in self._entries.values()]


# ----------------------------------------------------------------------------------------------------------------
# Load process plumbing: counters, pacing, the write gate
# ----------------------------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------------------------
# The load process
# ----------------------------------------------------------------------------------------------------------------

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
          The worker then reads the job and checks that the state it finds matches the cause (Worker.after_failed_update).
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


@dataclasses.dataclass
class Ctx:
    """A worker's view of its job (from acknowledgements and reads)."""

    job_id: str
    revision: int
    status: JobStatus
    lease: float | None

    def follow(self, job: Job) -> None:
        self.revision, self.status = job.revision, job.status


class Worker:
    """Creates jobs and drives each one to its end, as a real worker would, then deletes most of them."""

    def __init__(self, load: Load, number: int) -> None:
        self.load = load
        self.number = number
        self.rng = load.rng(f"worker-{number}")
        self.slot = f"{load.origin}/c{number % Load.CLIENT_SLOTS}"
        self.client = load.clients[number % Load.CLIENT_SLOTS]
        self.sequence = 0

    def run(self) -> None:
        while not self.load.stopping.is_set():
            try:
                self.one_job()
            except JobEnded:
                pass
            except Exception:  # noqa: BLE001 - a soak bug must not stop the load; it fails the run instead
                self.load.stats.harness_error(traceback.format_exc())
                time.sleep(0.5)

    def pace(self) -> None:
        """Think time between a worker's calls (the token bucket caps the total)."""
        self.load.sleep(self.rng.uniform(0.005, 0.06))

    def spec(self) -> JobSpec:
        rng = self.rng
        frequencies = rng.randint(4, 48)
        channels = rng.randint(1, 32)
        return JobSpec(
            type=rng.choice(["das_stream", "transcode", "export"]),
            labels={"origin": self.load.origin, "shard": str(rng.randrange(8)), "soak": "1"},
            priority=rng.randint(-3, 3), view_type=rng.randint(0, 3),
            frequencies_list=tuple(round(rng.uniform(0.0, 500.0), 2) for _ in range(frequencies)),
            lines_dt=0.5, channel_to_stream_index={channel: channel % 4 for channel in range(channels)},
            stream_amount=4, frequencies_amount=frequencies, channel_amount=channels,
            metadata=jobwire.StreamMetadata(dx=1.02, prr=2000.0, fiber_length_meters=5000.0, sw_version="soak/1"))

    def one_job(self) -> None:
        ctx = self.create()
        if ctx is None:
            return
        self.load.active.add(ctx.job_id)
        try:
            self.drive(ctx)
            self.finish(ctx)
        finally:
            self.load.active.discard(ctx.job_id)

    def create(self) -> Ctx | None:
        load, rng = self.load, self.rng
        self.sequence += 1
        spec = self.spec()
        request_id = f"soak-{load.options.seed}-{load.index}-{self.number}-{self.sequence}" if rng.random() < 0.5 \
            else ""
        lease = LEASE_S if rng.random() < 0.3 else None
        self.pace()
        result = None
        for attempt in range(3 if request_id else 1):
            try:
                with load.gate.write():
                    result = load.rpc("Configure", self.slot,
                                      lambda: self.client.configure(spec, request_id=request_id, lease=lease))
                    load.record(load.ledger.create(result.job, int((lease or 0) * 1000)))
                break
            except JobWireError as error:
                if not is_connection_error(error):
                    return None
                if not request_id:
                    # Created or not, nobody will know its id: the reader's orphan sweep deletes it later.
                    load.stats.bump("Configure outcome unknown (no request id)")
                    return None
                load.stats.bump("Configure retried with its request id")
        if result is None:
            return None
        if not result.created:
            # A fresh request id answered "created before": the call was sent twice, which only a lost connection
            # justifies (the client resends Configure with a request id by itself after one). Matched with the
            # injected faults like a connection error.
            load.stats.fault("Configure", self.slot, "replayed: created=false for a fresh request id")
        load.stats.bump("jobs created")
        if request_id and rng.random() < 0.3:
            # Idempotency (AIP-155): the same request id and job must give back the same job, created=false.
            try:
                again = load.rpc("Configure", self.slot,
                                 lambda: self.client.configure(spec, request_id=request_id, lease=lease))
                if again.job.job_id != result.job.job_id or again.created:
                    load.stats.violation(f"Configure replay with request id {request_id!r} answered "
                                         f"{again.job.job_id} created={again.created}, first {result.job.job_id}")
                load.stats.bump("Configure replays checked")
            except JobWireError:
                pass
        return Ctx(result.job.job_id, result.job.revision, result.job.status, lease)

    def drive(self, ctx: Ctx) -> None:
        """PENDING -> RUNNING -> progress... -> COMPLETED | FAILED (sometimes FAILED/CANCELLED from PENDING),
        following a cancel (CANCELLING -> CANCELLED) whenever one shows up."""
        rng = self.rng
        plan = rng.random()
        if plan < 0.1:
            self.update(ctx, progress=0.0, task="queued")  # a report without a status change, in PENDING
        if plan < 0.06:
            self.until_terminal(ctx, lambda: self.update(ctx, status=JobStatus.FAILED, error=JobError(
                "could not start", "setup", 0, "SOAK_SETUP")))
        elif plan < 0.09:
            self.until_terminal(ctx, lambda: self.update(ctx, status=JobStatus.CANCELLED))
        else:
            self.ensure_running(ctx)
            for step in range(rng.randint(1, 6)):
                self.ensure_running(ctx)
                self.update(ctx, progress=min(99.0, (step + 1) * rng.uniform(5, 16)), task=f"step {step}",
                            eta=rng.uniform(0, 60), logs=[f"step {step} ok {rng.getrandbits(32):08x}"]
                            * rng.randint(0, 3))
            frames = rng.randint(1, 10**6)
            completed = rng.random() < 0.8

            def end() -> None:
                self.ensure_running(ctx)
                if completed:
                    self.update(ctx, status=JobStatus.COMPLETED, progress=100.0,
                                result=JobResult("application/json", b'{"frames": %d}' % frames))
                else:
                    self.update(ctx, status=JobStatus.FAILED, error=JobError("soak says no", "final", 1,
                                                                             "SOAK_FAILED"))

            self.until_terminal(ctx, end)

    @staticmethod
    def until_terminal(ctx: Ctx, send: Callable[[], object]) -> None:
        """Sends the final update until the job is terminal: one lost with its connection leaves the job where it
        was, and a job nobody ends would stay for ever (retention only applies to terminal jobs)."""
        for _ in range(4):
            if ctx.status in TERMINAL:
                return
            send()

    def ensure_running(self, ctx: Ctx) -> None:
        """PENDING -> RUNNING, again if the first try was lost with its connection (the worker reads the job after
        an unknown outcome, so ctx.status says where it really is)."""
        for _ in range(4):
            if ctx.status != JobStatus.PENDING:
                return
            self.update(ctx, status=JobStatus.RUNNING, task="starting")

    def update(self, ctx: Ctx, *, status: JobStatus | None = None, progress: float | None = None,
               task: str | None = None, eta: float | None = None, logs: list[str] | None = None,
               result: JobResult | None = None, error: JobError | None = None) -> None:
        """One UpdateJob; on a cancel, the worker acknowledges it instead (CANCELLED) and the job ends."""
        load = self.load
        if ctx.status in TERMINAL:
            return
        if ctx.status == JobStatus.CANCELLING:
            status, progress, task, eta, logs, result, error = JobStatus.CANCELLED, None, None, None, None, None, None
        self.pace()
        expected = ctx.revision if self.rng.random() < 0.3 else 0
        before = load.ledger.get(ctx.job_id)
        t0 = now_ms()
        try:
            with load.gate.write():
                job = load.rpc("UpdateJob", self.slot, lambda: self.client.update(
                    ctx.job_id, status=status, progress=progress, current_task=task, eta_seconds=eta,
                    log_lines=logs or (), result=result, error=error, lease=ctx.lease, expected_revision=expected),
                    cause=lambda e: load.write_cause(ctx.job_id, e, before, t0), detail=ctx.job_id)
                load.record(load.ledger.ack(job, renews_lease=True))
        except JobWireError as failure:
            self.after_failed_update(ctx, failure, expected, status)
            return
        ctx.follow(job)
        if job.status == JobStatus.CANCELLING:
            self.update(ctx)  # acknowledge the cancel right away

    def after_failed_update(self, ctx: Ctx, failure: JobWireError, expected: int, status: JobStatus | None) -> None:
        load = self.load
        if is_connection_error(failure):
            # The update may or may not have landed: the ledger notes it; the worker reads where the job is.
            load.ledger.mark(ctx.job_id, uncertain_terminal=status in TERMINAL)
            load.stats.bump("UpdateJob outcome unknown")
            self.resync(ctx)
            return
        before = load.ledger.get(ctx.job_id)
        job = self.resync(ctx)  # raises JobEnded if the job is gone (judged there)
        assert before is not None
        # Verify the cause the error was excused with: the state found must be what that cause produces.
        if failure.reason == Reason.JOB_TERMINAL:
            if job.status not in TERMINAL:
                load.stats.violation(f"{ctx.job_id}: UpdateJob answered JOB_TERMINAL but the job reads "
                                     f"{job.status.name} (revision {job.revision})")
            elif not self.explained_end(job, before):
                load.stats.violation(f"{ctx.job_id}: became {job.status.name} (error {job.error}) with no cancel, "
                                     f"lease expiry or unacknowledged write to explain it")
        elif failure.reason == Reason.ILLEGAL_TRANSITION:
            ok = (job.status == JobStatus.CANCELLING and before.cancel_attempt_ms) or before.uncertain_ms or (
                job.status in TERMINAL and self.explained_end(job, before))
            if not ok:
                load.stats.violation(f"{ctx.job_id}: UpdateJob to {status.name if status else '-'} answered "
                                     f"ILLEGAL_TRANSITION; the job reads {job.status.name}, no cancel to explain it")
        elif failure.reason == Reason.REVISION_MISMATCH:
            if job.revision == expected:
                load.stats.violation(f"{ctx.job_id}: REVISION_MISMATCH for expected revision {expected}, but the "
                                     f"job still reads revision {expected}")
        if job.status in TERMINAL:
            load.stats.bump(f"jobs ended by others ({job.status.name})")

    @staticmethod
    def explained_end(job: Job, before: Entry) -> bool:
        if job.status == JobStatus.CANCELLED and before.cancel_attempt_ms:
            return True
        if job.status == JobStatus.FAILED and before.lease_ttl_ms and job.error is not None \
                and job.error.reason == Reason.LEASE_EXPIRED:
            return True
        return bool(before.uncertain_terminal_ms) or (before.status == job.status and before.revision <= job.revision)

    def resync(self, ctx: Ctx) -> Job:
        """Reads the job (retrying through outages); raises JobEnded when it is gone (a delete or retention)."""
        load = self.load
        for attempt in range(10):
            before = load.ledger.get(ctx.job_id)
            assert before is not None
            t0 = now_ms()
            try:
                job = load.rpc("GetMetadata", self.slot, lambda: self.client.get_metadata(ctx.job_id),
                               cause=lambda e: load.read_cause(before, ctx.job_id, e, t0), detail=ctx.job_id)
            except JobWireError as failure:
                if is_connection_error(failure):
                    load.sleep(0.2 * (attempt + 1))
                    continue
                raise JobEnded() from None
            load.check_read(before, job, t0)
            if job.error is not None and job.error.reason == Reason.LEASE_EXPIRED:
                load.stats.bump("jobs failed by lease expiry")
            ctx.follow(job)
            return job
        load.stats.violation(f"{ctx.job_id}: could not read the job for 10 attempts")
        raise JobEnded()

    def finish(self, ctx: Ctx) -> None:
        load, rng = self.load, self.rng
        if ctx.status not in TERMINAL:
            return
        load.stats.bump(f"jobs ended {ctx.status.name}")
        if rng.random() < 0.25:
            self.pace()
            self.resync(ctx)  # read-your-writes on the terminal state
        if rng.random() < 0.75:
            self.pace()
            delete(load, self.client, self.slot, ctx.job_id)


def delete(load: Load, client: jobwire.Client, slot: str, job_id: str) -> None:
    """DeleteJob, with the ledger told before (the attempt) and after (the acknowledgement). A delete whose
    reply was lost is sent once more: NOT_FOUND then means the first one landed."""
    for attempt in range(2):
        load.ledger.mark(job_id, delete=True)
        before = load.ledger.get(job_id)
        assert before is not None
        t0 = now_ms()

        def cause(error: JobWireError) -> str | None:
            if error.code == StatusCode.NOT_FOUND and error.reason == Reason.JOB_NOT_FOUND and \
                    before.delete_attempts > 1:
                return "JOB_NOT_FOUND (an earlier DeleteJob)"
            return load.read_cause(dataclasses.replace(before, delete_attempts=before.delete_attempts - 1), job_id,
                                   error, t0) if error.code == StatusCode.NOT_FOUND else None

        try:
            with load.gate.write():
                revision = load.rpc("DeleteJob", slot, lambda: client.delete(job_id), cause=cause, detail=job_id)
                load.record(load.ledger.ack_delete(job_id, revision))
            load.stats.bump("jobs deleted")
            return
        except JobWireError as failure:
            if not is_connection_error(failure):
                return
            load.stats.bump("DeleteJob outcome unknown")


class Canceller:
    """Cancels (and sometimes deletes) jobs while their workers drive them: the races a real system has."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.rng = load.rng("canceller")
        self.slot = f"{load.origin}/c0"
        self.client = load.clients[0]

    def run(self) -> None:
        load, rng = self.load, self.rng
        try:
            while True:
                load.sleep(rng.uniform(0.1, 0.5))
                job_id = load.active.pick(rng)
                if job_id is None:
                    continue
                if rng.random() < 0.8:
                    self.cancel(job_id)
                else:
                    delete(load, self.client, self.slot, job_id)
                    load.stats.bump("live jobs deleted")
        except JobEnded:
            return

    def cancel(self, job_id: str) -> None:
        load = self.load
        load.ledger.mark(job_id, cancel=True)
        before = load.ledger.get(job_id)
        assert before is not None
        t0 = now_ms()
        try:
            with load.gate.write():
                job = load.rpc("Cancel", self.slot, lambda: self.client.cancel(job_id, reason="soak: cancelled"),
                               cause=lambda e: load.read_cause(before, job_id, e, t0) if e.code ==
                               StatusCode.NOT_FOUND else None, detail=job_id)
                load.record(load.ledger.ack(job, renews_lease=False))
        except JobWireError:
            return
        load.stats.bump("cancels acknowledged")
        if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
            load.stats.violation(f"{job_id}: Cancel answered OK with the job still {job.status.name}")
        elif job.status == JobStatus.CANCELLING and not before.lease_ttl_ms:
            load.stats.violation(f"{job_id}: Cancel made a job without a lease CANCELLING (must be CANCELLED)")


class Reader:
    """Lists pages (checking them), reads jobs against the ledger, and sweeps orphans."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.rng = load.rng("reader")
        self.slot = f"{load.origin}/c1"
        self.client = load.clients[1]
        self.next_sweep = mono() + 20

    def run(self) -> None:
        load, rng = self.load, self.rng
        try:
            while True:
                load.sleep(rng.uniform(0.05, 0.25))
                choice = rng.random()
                try:
                    if choice < 0.35:
                        self.list_walk()
                    elif choice < 0.85:
                        self.get_one()
                    else:
                        self.batch_get()
                    if mono() >= self.next_sweep:
                        self.next_sweep = mono() + 15
                        self.sweep_orphans()
                except JobWireError:
                    pass  # classified and counted in rpc()
        except JobEnded:
            return

    def list_walk(self) -> None:
        """Walks up to 4 pages: no job twice, every job matching the filters, acknowledged writes reflected."""
        load, rng = self.load, self.rng
        statuses = tuple(rng.sample([JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED,
                                     JobStatus.CANCELLED, JobStatus.CANCELLING], rng.randint(0, 3)))
        labels = {"origin": load.origin}
        if rng.random() < 0.3:
            labels["shard"] = str(rng.randrange(8))
        page_size = rng.choice([20, 50, 100, 200])
        token = ""
        seen: set[str] = set()
        for _ in range(4):
            befores = {job_id: load.ledger.get(job_id) for job_id in load.ledger.recent_ids(200)}
            t0 = now_ms()
            page = load.rpc("ListJobs", self.slot, lambda: self.client.list_page(
                statuses=statuses, labels=labels, page_size=page_size, page_token=token))
            load.stats.bump("list pages checked")
            for job in page.jobs:
                if job.job_id in seen:
                    load.stats.violation(f"ListJobs repeated {job.job_id} across pages (filters {statuses}, "
                                         f"{labels})")
                seen.add(job.job_id)
                if any(job.labels.get(key) != value for key, value in labels.items()):
                    load.stats.violation(f"ListJobs {labels} returned {job.job_id} with labels {dict(job.labels)}")
                if statuses and job.status not in statuses:
                    load.stats.violation(f"ListJobs {[s.name for s in statuses]} returned {job.job_id} "
                                         f"{job.status.name}")
                before = befores.get(job.job_id)
                if before is not None and not before.deleted:
                    load.check_read(before, job, t0)
            if len(page.jobs) > page_size:
                load.stats.violation(f"ListJobs page of {len(page.jobs)} jobs for page_size {page_size}")
            token = page.next_page_token
            if not token:
                return

    def get_one(self) -> None:
        """Read-your-writes on one job, mostly one that is still there (a deleted one must stay NOT_FOUND)."""
        load, rng = self.load, self.rng
        ids = load.ledger.recent_ids(300)
        if rng.random() < 0.8:
            ids = load.ledger.recent_ids(300, present_only=True)
        if not ids:
            return
        job_id = rng.choice(ids)
        before = load.ledger.get(job_id)
        assert before is not None
        t0 = now_ms()
        job = load.rpc("GetMetadata", self.slot, lambda: self.client.get_metadata(job_id, log_tail=5),
                       cause=lambda e: load.read_cause(before, job_id, e, t0), detail=job_id)
        load.check_read(before, job, t0)
        load.stats.bump("reads checked against the ledger")

    def batch_get(self) -> None:
        load, rng = self.load, self.rng
        ids = load.ledger.recent_ids(2000)
        if not ids:
            return
        chosen = rng.sample(ids, min(len(ids), 50))
        befores = {job_id: load.ledger.get(job_id) for job_id in chosen}
        t0 = now_ms()
        results = load.rpc("BatchGetMetadata", self.slot, lambda: self.client.batch_get_metadata(chosen))
        t1 = now_ms()
        for job_id, result in zip(chosen, results):
            before = befores[job_id]
            assert before is not None
            after = load.ledger.get(job_id) or before
            outcome = batch_outcome(result)
            kind, violation = evaluate(before, after, outcome, t0, t1, load.options.retention_ms,
                                       load.options.expired_retention_ms)
            if violation:
                load.stats.violation(violation)
            load.stats.bump("reads checked against the ledger")

    def sweep_orphans(self) -> None:
        """Deletes PENDING jobs of this process that the ledger does not know: Configures without a request id
        whose reply was lost with the connection. Without this they would never end (no retention for PENDING)."""
        load = self.load
        cutoff = now_ms() - 30_000
        known = set(load.ledger.ids())
        orphans = []
        token = ""
        while True:
            page = load.rpc("ListJobs", self.slot, lambda: self.client.list_page(
                statuses=[JobStatus.PENDING], labels={"origin": load.origin}, page_size=500, page_token=token))
            orphans += [job.job_id for job in page.jobs if job.job_id not in known and job.created_at_ms < cutoff]
            token = page.next_page_token
            if not token:
                break
        for job_id in orphans:
            try:
                with load.gate.write():
                    load.rpc("DeleteJob", self.slot, lambda: self.client.delete(job_id))
                load.stats.bump("orphan jobs swept")
            except JobWireError:
                pass


class RawWatcher:
    """Watches jobs over raw sockets, disconnecting on purpose (RST, FIN, CancelCall) and resuming with
    after_revision; checks every event: no duplicate, no gap, no RESYNC, legal statuses, End after terminal."""

    def __init__(self, load: Load, number: int) -> None:
        self.load = load
        self.rng = load.rng(f"raw-watch-{number}")
        self.slot = f"{load.origin}/raw-watch"

    def run(self) -> None:
        try:
            while True:
                self.load.sleep(self.rng.uniform(0.05, 0.4))
                job_id = self.load.active.pick(self.rng)
                if job_id is not None:
                    self.session(job_id)
        except JobEnded:
            return

    def connect(self) -> FrameSocket | None:
        for attempt in range(200):
            if self.load.stopping.is_set():
                return None
            try:
                connection = FrameSocket(self.load.options.port)
                try:
                    connection.hello()
                except BaseException:
                    connection.close()
                    raise
                return connection
            except (OSError, HandshakeFailed) as failure:
                self.load.stats.fault("WatchJob(raw)", self.slot, f"connect: {type(failure).__name__}")
                self.load.sleep(min(0.05 * (attempt + 1), 0.3))
        self.load.stats.violation(f"{self.load.origin}: raw watcher could not connect for a minute")
        return None

    def session(self, job_id: str) -> None:
        load, rng = self.load, self.rng
        first_revision = 0
        last = 0
        seen: list[int] = []
        status: JobStatus | None = None
        terminal_seen = False
        segments = rng.randint(1, 4)
        segment = 0
        while segment < segments and not load.stopping.is_set():
            segment += 1
            connection = self.connect()
            if connection is None:
                return
            load.bucket.take()
            load.stats.call("WatchJob(raw)")
            if last:
                load.stats.bump("raw watch resumes")
            connection.send(pb.Frame(call=pb.Call(stream_id=1, method=_rpc.WATCH_JOB, request=pb.WatchJobRequest(
                job_id=job_id, after_revision=last).SerializeToString())))
            until = mono() + rng.uniform(0.3, 3.0)
            ended = False
            first_of_segment = True
            try:
                while mono() < until and not ended:
                    frame = connection.read(min(0.5, max(0.01, until - mono())))
                    if frame is None:
                        continue
                    kind = frame.WhichOneof("kind")
                    if kind == "reply":
                        event = pb.WatchEvent.FromString(frame.reply.message)
                        problem = self.check_event(job_id, event, last, first_of_segment, status, terminal_seen)
                        first_of_segment = False
                        if problem:
                            load.stats.violation(problem)
                        if event.type == pb.WATCH_EVENT_TYPE_BOOKMARK:
                            continue
                        if not first_revision:
                            first_revision = event.revision
                        last = max(last, event.revision)
                        seen.append(event.revision)
                        status = JobStatus(event.job.status)
                        terminal_seen = status in TERMINAL
                        load.stats.bump("watch events checked")
                    elif kind == "end":
                        ended = True
                        self.on_end(job_id, frame.end.status, terminal_seen)
                    elif kind == "goaway":
                        load.stats.violation(f"raw watch got a GoAway: {frame.goaway}")
                        ended = True
            except (OSError, ConnectionError):
                # Not our doing: the server went away (only the SIGKILL may explain it); resume on a new one.
                load.stats.fault("WatchJob(raw)", self.slot, "connection dropped by the server")
                connection.close()
                segments += 1 if segments < 8 else 0
                continue
            if ended:
                connection.close()
                break
            mode = rng.choice(["rst", "rst", "fin", "cancel"])
            try:
                if mode == "cancel":
                    connection.send(pb.Frame(cancel_call=pb.CancelCall(stream_id=1)))
                    connection.close()
                elif mode == "rst":
                    connection.rst()
                else:
                    connection.close()
            except OSError:
                pass
            load.stats.bump(f"raw watch disconnects ({mode})")
        self.check_against_ledger(job_id, first_revision, last, seen)

    def check_event(self, job_id: str, event: pb.WatchEvent, last: int, first_of_segment: bool,
                    status: JobStatus | None, terminal_seen: bool) -> str | None:
        where = f"{job_id} watch (after {last})"
        if terminal_seen:
            return f"{where}: event {event.revision} after the terminal one"
        kind = event.type
        if kind == pb.WATCH_EVENT_TYPE_BOOKMARK:
            return None if event.revision >= last else f"{where}: BOOKMARK revision {event.revision} < {last}"
        if kind == pb.WATCH_EVENT_TYPE_RESYNC:
            # Our jobs have a few dozen events at most, far below the 256 events / 256 KiB of history the server
            # keeps (and restores after a restart), and we resume only from revisions the server sent us.
            return f"{where}: RESYNC at revision {event.revision} (history should cover it)"
        if kind == pb.WATCH_EVENT_TYPE_SNAPSHOT:
            if not (first_of_segment and last == 0):
                return f"{where}: SNAPSHOT in the middle of a watch"
        elif kind == pb.WATCH_EVENT_TYPE_CHANGE:
            if last and event.revision <= last:
                return f"{where}: duplicate: CHANGE revision {event.revision} <= {last}"
            # Every commit adds exactly one to the revision and one event; events only collapse while more than
            # --max-output-buffer-bytes (1 MiB) wait unsent on the connection, which a watcher that reads at
            # once never comes near: so a jump is a lost event.
            if last and event.revision != last + 1:
                return f"{where}: gap: CHANGE revision {event.revision} after {last}"
        else:
            return f"{where}: event of unknown type {kind}"
        if event.job.revision != event.revision or event.job.job_id != job_id:
            return f"{where}: event revision {event.revision} carries job {event.job.job_id} rev {event.job.revision}"
        new_status = JobStatus(event.job.status)
        if status is not None and new_status not in REACHABLE[status]:
            return f"{where}: status went from {status.name} to {new_status.name} at revision {event.revision}"
        return None

    def on_end(self, job_id: str, status: pb.Status, terminal_seen: bool) -> None:
        load = self.load
        code = StatusCode.from_wire(status.code)
        if code == StatusCode.OK:
            if not terminal_seen:
                load.stats.violation(f"{job_id}: watch ended OK before any terminal event")
            return
        error = jobwire.errors.error(code, status.reason, status.message)
        entry = load.ledger.get(job_id)
        if code == StatusCode.NOT_FOUND and entry is not None:
            if status.reason == Reason.JOB_DELETED:
                why = "JOB_DELETED (deleted)" if entry.delete_attempts else None
                if why is None:
                    load.stats.violation(f"{job_id}: watch ended JOB_DELETED but nobody deleted it")
            else:
                why = load.read_cause(entry, job_id, error, now_ms())
            load.stats.error("WatchJob(raw)", error, f"expected: {why}" if why else "unexpected", self.slot, job_id)
            return
        load.stats.error("WatchJob(raw)", error, "unexpected", self.slot, job_id)

    def check_against_ledger(self, job_id: str, first: int, last: int, seen: list[int]) -> None:
        """Every acknowledged revision inside the watched range must have been delivered."""
        entry = self.load.ledger.get(job_id)
        if entry is None or not first:
            return
        seen_set = set(seen)
        missed = sorted(r for r in entry.revisions if first < r <= last and r not in seen_set)
        if missed:
            self.load.stats.violation(f"{job_id}: watch covering revisions {first}..{last} missed acknowledged "
                                      f"revisions {missed}")
        self.load.stats.bump("watch sessions checked")


class ClientWatcher:
    """Watches through the official client (which resumes by itself across drops and the restart) for a few
    seconds at a time; checks that revisions come one by one."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.rng = load.rng("client-watch")
        self.slot = f"{load.origin}/w"

    def run(self) -> None:
        load, rng = self.load, self.rng
        try:
            while True:
                load.sleep(rng.uniform(0.1, 0.5))
                job_id = load.active.pick(rng)
                if job_id is None:
                    continue
                load.bucket.take()
                load.stats.call("WatchJob(client)")
                last = 0
                try:
                    for event in load.watch_client.watch(job_id, timeout=rng.uniform(1.0, 6.0),
                                                         reconnect_timeout=40.0):
                        if last and event.revision != last + 1:
                            load.stats.violation(f"{job_id}: client watch: revision {event.revision} after {last}"
                                                 f" ({event.kind.name})")
                        last = event.revision
                        load.stats.bump("watch events checked")
                        if load.stopping.is_set():
                            break
                except JobWireError as error:
                    if error.code == StatusCode.DEADLINE_EXCEEDED and error.reason == Reason.DEADLINE_EXCEEDED:
                        load.stats.bump("client watches ended by their timeout")  # the watch's own time is up
                        continue
                    entry = load.ledger.get(job_id)
                    why = None
                    if entry is not None and error.code == StatusCode.NOT_FOUND:
                        why = ("JOB_DELETED (deleted)" if error.reason == Reason.JOB_DELETED and entry.delete_attempts
                               else load.read_cause(entry, job_id, error, now_ms())
                               if error.reason != Reason.JOB_DELETED else None)
                    klass = "fault" if is_connection_error(error) else (f"expected: {why}" if why else "unexpected")
                    load.stats.error("WatchJob(client)", error, klass, self.slot, job_id)
        except JobEnded:
            return


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


# ----------------------------------------------------------------------------------------------------------------
# The coordinator
# ----------------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Sample:
    t: float
    pid: int
    rss_kib: int
    anon_kib: int  # RssAnon, for the summary: VmRSS is mostly the mapped binary, the heap is the part that leaks
    threads: int
    fds: int
    store_fds: int  # descriptors on the store's files (data directory)


#: Store descriptors a restarted jobwired holds beyond a fresh one's, by design and bounded (one each per start):
#: - jobwire.sqlite: start-up on an existing file runs quick_check on a second, read-only connection; SQLite's unix
#:   VFS cannot close that connection's descriptor while the main connection holds its WAL-mode lock on the same
#:   file (closing would drop the process's POSIX locks), so it stays open for the life of the process;
#: - jobwire.sqlite + jobwire.sqlite-wal: the details reader (SQLiteJobStore.reader), a second connection opened on
#:   the first read of a restored job's log lines or watch history.
#: A fresh data directory (the idle baseline) has neither. The soak also checks that the store's descriptor count
#: stays constant from warm-up to the end, so a growing leak cannot hide in this allowance.
RESTART_STORE_FDS = collections.Counter({"jobwire.sqlite": 2, "jobwire.sqlite-wal": 1})


class Soak:
    """Starts the server and the load, injects the faults, samples, checks, reports."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.duration = args.minutes * 60.0
        self.rng = random.Random(f"{args.seed}/coordinator")
        self.retention_ms = 20_000
        self.expired_retention_ms = 20_000
        base = pathlib.Path(args.workdir) if args.workdir else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="jobwire-soak-", dir=base))
        self.server = ServerProcess(args.jobwired, self.workdir, [
            "--retention", "20s", "--expired-retention", "20s", "--reaper-interval", "1s",
            "--stream-ports", "40000-40999", "--log-level", args.server_log_level],
            env={"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else None)
        #: malloc_stats() at warm-up end and at the end (--heap-probe): (held, live) bytes.
        self.heap: dict[str, tuple[int, int] | None] = {}
        self._client: jobwire.Client | None = None
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Pipe]] = []
        self.samples: list[Sample] = []
        self.violations: list[str] = []
        self.stats = Stats()  # the coordinator's own calls and faults
        self.stop = threading.Event()
        self.server_up = threading.Event()
        self.killing = False
        self.kill_t: float | None = None
        self.ready_t: float | None = None
        self.t_start = 0.0
        self.t_end = 0.0
        self.baseline_fds: list[str] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.threads: list[threading.Thread] = []
        self.raw_faults: collections.Counter[str] = collections.Counter()
        #: (monotonic time, local port, kind) of every raw fault connection, to name a socket the server keeps.
        self.raw_ports: list[tuple[float, int, str]] = []
        self.sockets_end: list[str] = []
        self.fd_settle_s = 0.0
        self.last_calls = 0
        self.last_progress_t = 0.0

    @property
    def client(self) -> jobwire.Client:
        """The coordinator's own client (Stats, Health, ListJobs for raw faults, sweeping raw jobs)."""
        assert self._client is not None
        return self._client

    def say(self, text: str) -> None:
        elapsed = mono() - self.t_start if self.t_start else 0.0
        print(f"[soak {int(elapsed) // 60:2d}:{int(elapsed) % 60:02d}] {text}", flush=True)

    def violation(self, text: str) -> None:
        self.violations.append(text)
        self.say(f"VIOLATION: {text}")

    # The run.

    def run(self) -> int:
        try:
            self.setup()
            self.main_loop()
            return self.finish()
        finally:
            self.cleanup()

    def setup(self) -> None:
        self.say(f"workdir {self.workdir}; jobwired {self.args.jobwired}; seed {self.args.seed}; "
                 f"{self.args.minutes:g} min; {self.args.processes} load processes x {self.args.workers} workers; "
                 f"rate cap {self.args.rate:g} calls/s")
        self.server.start()
        self.server_up.set()
        # The idle baseline: listening socket, store files, event loop descriptors... before any client.
        time.sleep(1.0)
        self.baseline_fds = self.server.fds() or []
        self.say(f"jobwired pid {self.server.pid} on port {self.server.port}; idle: {len(self.baseline_fds)} fds, "
                 f"RSS {(self.server.rss_kib() or 0) / 1024:.1f} MiB")
        self._client = jobwire.Client("127.0.0.1", self.server.port, timeout=CALL_TIMEOUT_S, backoff=FAST_BACKOFF,
                                     client_name="jobwire-soak/coordinator")
        options = Options(self.server.port, self.args.seed, self.args.workers, self.args.rate / self.args.processes,
                          self.retention_ms, self.expired_retention_ms)
        context = multiprocessing.get_context("spawn")
        for index in range(self.args.processes):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=load_main, args=(index, options, child_end), name=f"soak-load-{index}",
                                      daemon=True)
            process.start()
            self.processes.append((process, parent_end))
        self.t_start = mono()
        self.t_end = self.t_start + self.duration
        self.last_progress_t = self.t_start
        self.threads += start_guarded([("sampler", self.sampler), ("faults", self.fault_injector)],
                                      lambda name, trace: self.violation(f"soak thread {name} died: {trace}"))

    def main_loop(self) -> None:
        kill_at = self.t_start + self.duration / 3
        next_progress = self.t_start + 30
        killed = False
        warm_end: float | None = None
        while mono() < self.t_end and not self.stop.is_set():
            if not killed and mono() >= kill_at:
                killed = True
                self.kill_and_restart()
                assert self.ready_t is not None
                warm_end = self.ready_t + max(60.0, (self.t_end - self.ready_t) / 3)
                time.sleep(3.0)  # let the clients find the new server
                self.checkpoint("after restart")
            if self.args.heap_probe and warm_end is not None and "warm" not in self.heap and mono() >= warm_end:
                self.heap["warm"] = self.server.malloc_stats()
                self.say(f"heap probe at warm-up end: {self.format_heap(self.heap['warm'])}")
            if mono() >= next_progress:
                next_progress += 30
                self.progress()
            for process, _ in self.processes:
                if not process.is_alive():
                    self.violation(f"load process {process.name} exited ({process.exitcode})")
                    self.stop.set()
            time.sleep(0.2)
        if not killed and not self.stop.is_set():
            self.violation("the run ended before the SIGKILL")

    def kill_and_restart(self) -> None:
        downtime = self.rng.uniform(0.5, 2.0)
        self.killing = True
        self.server_up.clear()
        self.kill_t = mono()
        old_pid = self.server.pid
        self.server.kill()
        self.say(f"SIGKILL jobwired (pid {old_pid}); restarting in {downtime:.1f} s on port {self.server.port}")
        time.sleep(downtime)
        self.server.start()
        self.ready_t = mono()
        self.killing = False
        self.server_up.set()
        self.say(f"jobwired restarted: pid {self.server.pid}, ready {self.ready_t - self.kill_t:.1f} s after the "
                 f"kill; {len(self.server.fds() or [])} fds")

    def ask(self, command: tuple[Any, ...], timeout: float) -> list[dict[str, Any]]:
        """Sends `command` to every load process and collects the answers (all work in parallel)."""
        asked = []
        for process, pipe in self.processes:
            try:
                pipe.send(command)
                asked.append((process, pipe))
            except OSError:
                self.violation(f"{process.name} is gone (exit code {process.exitcode})")
        answers = []
        deadline = mono() + timeout
        for process, pipe in asked:
            try:
                if pipe.poll(max(0.0, deadline - mono())):
                    answers.append(pipe.recv())
                    continue
            except (OSError, EOFError):
                pass
            self.violation(f"{process.name} did not answer {command[0]} within {timeout:.0f} s")
        return answers

    def checkpoint(self, label: str) -> None:
        self.say(f"checkpoint '{label}': pausing writes, checking every acknowledged write...")
        answers = self.ask(("check", label), timeout=180)
        kinds: collections.Counter[str] = collections.Counter()
        entries = 0
        count = 0
        for answer in answers:
            kinds.update(answer["kinds"])
            entries += answer["entries"]
            count += answer["violation_count"]
            for violation in answer["violations"]:
                self.say(f"VIOLATION: {violation}")
        self.checkpoints.append({"label": label, "entries": entries, "kinds": dict(kinds), "violations": count})
        self.say(f"checkpoint '{label}': {entries:,} ledger entries: {self.format_counter(kinds)}; "
                 f"{count} violations")

    def progress(self) -> None:
        answers = self.ask(("stats",), timeout=30)
        calls = sum(sum(answer["calls"].values()) for answer in answers) + sum(self.stats.calls.values())
        now = mono()
        rate = (calls - self.last_calls) / max(0.001, now - self.last_progress_t)
        self.last_calls, self.last_progress_t = calls, now
        classes: collections.Counter[str] = collections.Counter()
        for answer in answers:
            for (_, _, klass), count in answer["errors"].items():
                classes[klass.split(":")[0]] += count
        violations = sum(answer["violation_count"] for answer in answers) + len(self.violations)
        ledger = sum(answer["ledger"] for answer in answers)
        server = ""
        try:
            stats = self.coordinator_call("Stats", lambda: self.client.stats())
            jobs = {status.name[:4]: count for status, count in stats.jobs.items() if count}
            server = f" | server jobs {jobs} conns {stats.connections} streams {stats.streams}"
        except JobWireError:
            pass
        sample = self.samples[-1] if self.samples else None
        memory = (f" | rss {sample.rss_kib / 1024:.1f} MiB (heap {sample.anon_kib / 1024:.1f}) threads "
                  f"{sample.threads} fds {sample.fds}" if sample else "")
        self.say(f"calls {calls:,} ({rate:.0f}/s) | errors {self.format_counter(classes) or 'none'} | "
                 f"violations {violations} | ledger {ledger:,}{server}{memory}")

    def coordinator_call(self, method: str, call: Callable[[], T]) -> T:
        self.stats.call(method)
        try:
            return call()
        except JobWireError as error:
            klass = "fault" if is_connection_error(error) else "unexpected"
            self.stats.error(method, error, klass, "coordinator")
            raise

    # Background threads.

    def sampler(self) -> None:
        """RSS and descriptors every few seconds; notices a server that died without our SIGKILL."""
        while not self.stop.wait(self.args.sample_interval):
            if self.killing:
                continue
            if not self.server.alive():
                if self.killing:
                    continue
                code = self.server.process.poll() if self.server.process else None
                self.violation(f"jobwired exited by itself (status {code}); log tail:\n{self.server.log_tail(15)}")
                self.stop.set()
                return
            memory = self.server.memory_kib()
            fds = self.server.fds()
            if "VmRSS" in memory and fds is not None:
                self.samples.append(Sample(mono(), self.server.pid, memory["VmRSS"], memory.get("RssAnon", 0),
                                           memory.get("Threads", 0), len(fds), sum(self.store_fds(fds).values())))

    def non_store(self, fds: list[str]) -> collections.Counter[str]:
        """The descriptors that are not on the store's files."""
        prefix = str(self.server.data_dir) + "/"
        return collections.Counter(fd for fd in fds if not fd.startswith(prefix))

    def store_fds(self, fds: list[str]) -> collections.Counter[str]:
        """The descriptors on files of the data directory, by file name."""
        prefix = str(self.server.data_dir) + "/"
        return collections.Counter(fd[len(prefix):] for fd in fds if fd.startswith(prefix))

    def fault_injector(self) -> None:
        """Raw connections reset at awkward moments; after each, the server must still answer Health."""
        rng = random.Random(f"{self.args.seed}/faults")
        kinds = ["mid-call-list", "mid-call-gets", "mid-watch", "partial-frame", "mid-handshake",
                 "after-configure", "unread-replies"]
        next_sweep = mono() + 20
        while not self.stop.wait(rng.uniform(1.5, 4.0)):
            if mono() >= self.t_end:
                return
            self.server_up.wait()
            kind = rng.choice(kinds)
            try:
                self.raw_fault(kind, rng)
                self.raw_faults[kind] += 1
            except OSError as failure:
                self.stats.fault(f"raw:{kind}", "coordinator/raw", f"{type(failure).__name__}")
            try:
                health = self.coordinator_call("Health", lambda: self.client.health())
                if health.status != jobwire.ServingStatus.SERVING:
                    self.violation(f"Health after a raw {kind} fault: {health.status.name}")
            except JobWireError:
                pass
            if mono() >= next_sweep:
                next_sweep = mono() + 20
                self.sweep_raw_jobs()

    def known_job(self, rng: random.Random) -> str:
        try:
            page = self.coordinator_call("ListJobs", lambda: self.client.list_page(page_size=50))
            if page.jobs:
                return rng.choice(page.jobs).job_id
        except JobWireError:
            pass
        return "00000000-0000-4000-8000-000000000000"

    def raw_fault(self, kind: str, rng: random.Random) -> None:
        port = self.server.port
        if kind == "mid-handshake":
            raw = RawConnection(port)
            self.raw_ports.append((mono(), raw.sock.getsockname()[1], kind))
            hello = pb.Frame(hello=pb.Hello(protocol_version=1, client_name="soak-raw")).SerializeToString()
            raw.send_bytes(struct.pack(">I", len(hello)) + hello[:rng.randint(1, len(hello) - 1)])
            rst_close(raw.sock)
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        raw = RawConnection(sock=sock)
        self.raw_ports.append((mono(), sock.getsockname()[1], kind))
        try:
            ack = raw.hello()
            if ack.WhichOneof("kind") != "hello_ack":
                self.violation(f"raw fault {kind}: Hello answered {ack}")
                return
            if kind == "mid-call-list":
                raw.call(1, _rpc.LIST_JOBS, pb.ListJobsRequest(page_size=500).SerializeToString(), 10_000)
            elif kind == "mid-call-gets":
                job_id = self.known_job(rng)
                for stream in range(1, 40, 2):
                    raw.call(stream, _rpc.GET_METADATA, pb.GetMetadataRequest(job_id=job_id,
                                                                              log_tail=100).SerializeToString())
            elif kind == "mid-watch":
                job_id = self.known_job(rng)
                raw.call(1, _rpc.WATCH_JOB, pb.WatchJobRequest(job_id=job_id).SerializeToString())
                try:
                    raw.read(timeout=2.0)
                except OSError:
                    pass
                time.sleep(rng.uniform(0.0, 0.5))
            elif kind == "partial-frame":
                body = pb.Frame(call=pb.Call(stream_id=1, method=_rpc.LIST_JOBS, request=pb.ListJobsRequest(
                    page_size=100).SerializeToString())).SerializeToString()
                raw.send_bytes(struct.pack(">I", len(body)) + body[:rng.randint(0, len(body) - 1)])
            elif kind == "after-configure":
                job = pb.Job(type="soak-raw", labels={"origin": "raw", "soak": "1"})
                raw.call(1, _rpc.CONFIGURE, pb.ConfigureRequest(job=job).SerializeToString())
            elif kind == "unread-replies":
                # Replies pile up in the server for a client that does not read (its receive buffer is tiny), then
                # the RST. Kept well under --max-output-buffer-bytes (1 MiB): jobwired answers every call of a batch
                # it has read before it checks that bound, so a bigger burst measures that (known) overshoot in the
                # RSS instead of looking for leaks.
                for stream in range(1, 16, 2):
                    raw.call(stream, _rpc.LIST_JOBS, pb.ListJobsRequest(page_size=25).SerializeToString())
                time.sleep(rng.uniform(0.0, 0.5))
            self.stats.call(f"raw:{kind}")
        finally:
            rst_close(raw.sock)

    def sweep_raw_jobs(self) -> None:
        """Deletes the jobs raw Configures left behind (PENDING for ever otherwise)."""
        client = self.client
        try:
            page = self.coordinator_call("ListJobs", lambda: client.list_page(labels={"origin": "raw"},
                                                                             page_size=500))
            for job in page.jobs:
                try:
                    self.coordinator_call("DeleteJob", lambda: client.delete(job.job_id))
                    self.stats.bump("raw jobs swept")
                except JobWireError:
                    pass
        except JobWireError:
            pass

    # The end.

    def finish(self) -> int:
        load_end = mono()
        if self.args.heap_probe and self.server.alive():
            self.heap["end"] = self.server.malloc_stats()
            self.say(f"heap probe at the end: {self.format_heap(self.heap['end'])}")
        self.say("stopping the load; final check of every acknowledged write...")
        final_stats = None
        try:
            final_stats = self.coordinator_call("Stats", lambda: self.client.stats())
        except JobWireError:
            pass
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        reports = self.ask(("stop",), timeout=300)
        for process, _ in self.processes:
            process.join(30)
        if self._client is not None:
            self._client.close()
        # Descriptors: with every client gone the server must be back to its idle set.
        # jobwired closes a connection that was reset right after an incomplete frame only when its next ping
        # (--ping-interval, 30 s) or the handshake timeout (10 s) fails on it: so give the last raw faults that
        # long, and say how long it took.
        fds_end: list[str] = []
        clients_gone = mono()
        deadline = clients_gone + FD_SETTLE_S
        while self.server.alive():
            fds_end = self.server.fds() or []
            if self.non_store(fds_end) == self.non_store(self.baseline_fds) or mono() > deadline:
                break
            time.sleep(0.5)
        self.fd_settle_s = mono() - clients_gone
        self.sockets_end = self.server.sockets() if self.server.alive() else []
        rss_end = self.server.rss_kib()
        exit_status = self.server.terminate() if self.server.alive() else None
        store_status, store_output = self.server.check_store()
        return self.report(reports, load_end, fds_end, rss_end, exit_status, store_status, store_output, final_stats)

    def report(self, reports: list[dict[str, Any]], load_end: float, fds_end: list[str], rss_end: int | None,
               exit_status: int | None, store_status: int, store_output: str, final_stats: Any) -> int:
        calls: collections.Counter[str] = collections.Counter(self.stats.calls)
        errors: collections.Counter[tuple[str, str, str]] = collections.Counter(self.stats.errors)
        faults = list(self.stats.faults)
        injections: list[tuple[float, str]] = []
        counters: collections.Counter[str] = collections.Counter(self.stats.counters)
        violation_count = len(self.violations)
        violations = list(self.violations)
        violation_kinds: collections.Counter[str] = collections.Counter(violation_kind(v) for v in self.violations)
        unexpected: list[str] = []
        harness: list[str] = []
        final_kinds: collections.Counter[str] = collections.Counter()
        final_entries = 0
        for report in reports:
            calls.update(report["calls"])
            errors.update(report["errors"])
            faults += report["faults"]
            injections += report["injections"]
            counters.update(report["counters"])
            violation_count += report["violation_count"]
            violations += report["violations"]
            violation_kinds.update(report["violation_kinds"])
            unexpected += report["unexpected"]
            harness += report["harness"]
            final_kinds.update(report["final_check"]["kinds"])
            final_entries += report["final_check"]["entries"]
        self.checkpoints.append({"label": "final", "entries": final_entries, "kinds": dict(final_kinds),
                                 "violations": sum(r["final_check"]["violation_count"] for r in reports)})
        failures: list[str] = []
        if len(reports) != len(self.processes):
            failures.append(f"{len(self.processes) - len(reports)} load processes sent no report")

        # Connection errors: each must fall in the window of an injected fault.
        by_slot: dict[str, list[float]] = collections.defaultdict(list)
        for t, slot in injections:
            by_slot[slot].append(t)
        fault_classes: collections.Counter[str] = collections.Counter()
        unexplained: list[str] = []
        for t, slot, method, what in faults:
            if self.kill_t is not None and self.ready_t is not None and \
                    self.kill_t - 0.1 <= t <= self.ready_t + KILL_WINDOW_AFTER_READY_S:
                fault_classes["SIGKILL"] += 1
            elif any(s - 0.05 <= t <= s + INJECTED_WINDOW_S for s in by_slot.get(slot, ())):
                fault_classes["injected RST"] += 1
            else:
                unexplained.append(f"{slot} {method} {what} at +{t - self.t_start:.1f}s")
        if unexplained:
            failures.append(f"{len(unexplained)} connection errors outside every injected fault's window")
        unexpected_count = sum(count for (_, _, klass), count in errors.items() if klass == "unexpected")
        if unexpected_count:
            failures.append(f"{unexpected_count} unexpected errors")
        if violation_count:
            failures.append(f"{violation_count} violations")
        if harness:
            failures.append(f"{len(harness)} soak harness errors")

        # Memory: drift after warm-up.
        restarted = [s for s in self.samples if self.ready_t is not None and s.t >= self.ready_t]
        drift_text = "n/a"
        warm_mean = end_mean = 0.0
        if self.ready_t is not None and restarted:
            warm_end = self.ready_t + max(60.0, (load_end - self.ready_t) / 3)
            window = self.args.drift_window
            warm = [s for s in restarted if s.t <= warm_end][-window:]
            end = [s for s in restarted if s.t <= load_end][-window:]
            if len(warm) < 3 or len(end) < 3:
                failures.append(f"too few RSS samples for the drift ({len(warm)} at warm-up end, {len(end)} at end)")
            elif end[0].t <= warm[-1].t:
                # Both windows would share samples: a development run of a couple of minutes. Said, not hidden.
                drift_text = ("not measured: the run is too short for separate warm-up and end windows "
                              "(--minutes 2.5 or more)")
            else:
                warm_mean = sum(s.rss_kib for s in warm) / len(warm)
                end_mean = sum(s.rss_kib for s in end) / len(end)
                drift = (end_mean - warm_mean) / warm_mean * 100
                drift_text = (f"{drift:+.2f} % (warm-up end +{warm[-1].t - self.t_start:.0f}s: "
                              f"{[round(s.rss_kib / 1024, 1) for s in warm]} MiB, mean {warm_mean / 1024:.2f}; "
                              f"end +{end[-1].t - self.t_start:.0f}s: {[round(s.rss_kib / 1024, 1) for s in end]} "
                              f"MiB, mean {end_mean / 1024:.2f})")
                if drift >= self.args.drift_limit:
                    failures.append(f"RSS drift {drift:+.2f} % >= {self.args.drift_limit:g} %")
                warm_anon = sum(s.anon_kib for s in warm) / len(warm)
                end_anon = sum(s.anon_kib for s in end) / len(end)
                drift_text += (f"; heap (RssAnon) {warm_anon / 1024:.2f} -> {end_anon / 1024:.2f} MiB "
                               f"({(end_anon - warm_anon) / max(1.0, warm_anon) * 100:+.1f} %, "
                               f"{(end_anon - warm_anon) / 1024 / max(1e-9, (end[-1].t - warm[-1].t) / 60):+.2f} "
                               f"MiB/min)")
        else:
            failures.append("no RSS samples after the restart")

        # Descriptors: everything but the store's files exactly as at the idle start; the store's files within
        # what a restarted server opens by design (RESTART_STORE_FDS), and not growing after warm-up.
        base_store, end_store = self.store_fds(self.baseline_fds), self.store_fds(fds_end)
        base_other, end_other = self.non_store(self.baseline_fds), self.non_store(fds_end)
        fd_text = (f"idle baseline {len(self.baseline_fds)} ({sum(base_store.values())} store), end "
                   f"{len(fds_end)} ({sum(end_store.values())} store: {dict(end_store)}) "
                   f"{self.fd_settle_s:.1f} s after the last client left")
        if end_other != base_other:
            failures.append(f"descriptors other than the store's at the end differ from the idle baseline: extra "
                            f"{dict(end_other - base_other)}, missing {dict(base_other - end_other)} "
                            f"{FD_SETTLE_S:.0f} s after the last client left")
        over = end_store - (base_store + RESTART_STORE_FDS)
        if over:
            failures.append(f"store descriptors beyond the baseline and the restart's by-design ones: {dict(over)}")
        late = [s.store_fds for s in restarted if self.ready_t is not None and
                s.t >= self.ready_t + max(60.0, (load_end - self.ready_t) / 3)]
        if late and max(late + [sum(end_store.values())]) != min(late + [sum(end_store.values())]):
            failures.append(f"store descriptors changed after warm-up: {sorted(set(late))} then "
                            f"{sum(end_store.values())} at the end")
        if exit_status != 0:
            failures.append(f"jobwired exited with status {exit_status} after SIGTERM (expected 0)")
        if store_status != 0:
            failures.append(f"--check-store: {store_status}: {store_output[:300]}")

        # Server log.
        log_levels: collections.Counter[str] = collections.Counter()
        notable: list[str] = []
        for line in self.server.log_path.read_text(errors="replace").splitlines():
            match = re.match(r"^\S+ (trace|debug|info|notice|warning|error|critical) ", line)
            if match is None:
                continue
            level = match.group(1)
            log_levels[level] += 1
            if level in ("warning", "error", "critical") and "development mode" not in line:
                notable.append(line)
        if log_levels["critical"]:
            failures.append(f"{log_levels['critical']} critical lines in the server log")

        # Summary.
        elapsed = load_end - self.t_start
        total = sum(calls.values())
        print()
        print("=" * 100)
        print(f"SOAK SUMMARY  seed {self.args.seed}  load {elapsed / 60:.1f} min  workdir {self.workdir}")
        print(f"calls: {total:,} in {elapsed:.0f} s = {total / max(1, elapsed):.0f} calls/s")
        for method, count in sorted(calls.items(), key=lambda item: -item[1]):
            print(f"  {method:<28} {count:>10,}")
        print("errors by class:")
        by_class: collections.Counter[str] = collections.Counter()
        for (method, what, klass), count in errors.items():
            by_class[klass] += count
        for klass, count in sorted(by_class.items()):
            print(f"  {klass:<70} {count:>8,}")
            for (method, what, k), n in sorted(errors.items(), key=lambda item: -item[1]):
                if k == klass:
                    print(f"      {method:<24} {what:<44} {n:>8,}")
        print(f"  connection errors matched to faults: {self.format_counter(fault_classes) or 'none'}; "
              f"unexplained: {len(unexplained)}")
        for line in unexplained[:10]:
            print(f"      unexplained: {line}")
        for line in unexpected[:10]:
            print(f"      unexpected: {line}")
        print(f"faults injected: SIGKILL 1 (at +{(self.kill_t or 0) - self.t_start:.0f}s, ready again "
              f"{(self.ready_t or 0) - (self.kill_t or 0):.1f} s later); raw RSTs {sum(self.raw_faults.values())} "
              f"({self.format_counter(self.raw_faults)}); client connection RSTs {len(injections)}")
        print(f"ledger: {final_entries:,} jobs")
        for checkpoint in self.checkpoints:
            print(f"  check '{checkpoint['label']}': {checkpoint['entries']:,} entries: "
                  f"{self.format_counter(collections.Counter(checkpoint['kinds']))}; "
                  f"{checkpoint['violations']} violations")
        interesting = sorted(counters.items())
        print("counters: " + "; ".join(f"{name} {count:,}" for name, count in interesting))
        print(f"RSS drift after warm-up: {drift_text} (limit {self.args.drift_limit:g} %)")
        if self.args.heap_probe:
            warm_heap, end_heap = self.heap.get("warm"), self.heap.get("end")
            change = (f"; live {(end_heap[1] - warm_heap[1]) / warm_heap[1] * 100:+.1f} %, held "
                      f"{(end_heap[0] - warm_heap[0]) / warm_heap[0] * 100:+.1f} %" if warm_heap and end_heap else "")
            print(f"heap probe (glibc malloc_stats): warm-up end {self.format_heap(warm_heap)}; end "
                  f"{self.format_heap(end_heap)}{change}")
        if self.args.malloc_arena_max:
            print(f"jobwired ran with MALLOC_ARENA_MAX={self.args.malloc_arena_max}")
        if self.samples:
            print(f"RSS samples: first {self.samples[0].rss_kib / 1024:.1f} MiB, max "
                  f"{max(s.rss_kib for s in self.samples) / 1024:.1f} MiB, last {self.samples[-1].rss_kib / 1024:.1f} "
                  f"MiB (after the clients left: {(rss_end or 0) / 1024:.1f} MiB); {len(self.samples)} samples")
        print(f"fds: {fd_text}; max under load {max((s.fds for s in self.samples), default=0)}")
        if end_other != base_other:
            for line in self.sockets_end:
                match = re.search(r"remote port (\d+)", line)
                raw = [f"raw fault '{kind}' at +{t - self.t_start:.1f}s" for t, port, kind in self.raw_ports
                       if match and port == int(match.group(1))]
                print(f"  server socket at the end: {line}{' <- ' + raw[-1] if raw else ''}")
        print(f"jobwired exit status after SIGTERM: {exit_status}; --check-store: {store_output[:80]!r}")
        if final_stats is not None:
            print("server stats (since the restart):")
            for method in final_stats.methods:
                if method.calls:
                    print(f"  {method.method.rsplit('/', 1)[-1]:<20} calls {method.calls:>9,} errors "
                          f"{method.errors:>6,}  p50 {method.p50_us:>6} us  p99 {method.p99_us:>7} us  "
                          f"p99.9 {method.p999_us:>7} us")
        print(f"server log lines by level: {dict(log_levels)}")
        for line in notable[:15]:
            print(f"  log: {line[:220]}")
        if violation_kinds:
            print("violations by kind:")
            for kind, count in violation_kinds.most_common():
                print(f"  {count:>7,}  {kind}")
                example = next((v for v in violations if violation_kind(v) == kind), None)
                if example:
                    print(f"           e.g. {example[:400]}")
        for text in harness[:5]:
            print(f"  harness: {text[:2000]}")
        if failures:
            print(f"SOAK FAIL {'; '.join(failures)}")
            return 1
        print(f"SOAK PASS {total:,} calls ({total / max(1, elapsed):.0f}/s) in {elapsed / 60:.1f} min; "
              f"{final_entries:,} ledger jobs checked twice; RSS drift {drift_text.split(' (')[0]}; "
              f"fds {len(fds_end)}/{len(self.baseline_fds)}")
        return 0

    @staticmethod
    def format_heap(stats: tuple[int, int] | None) -> str:
        if stats is None:
            return "unavailable (no gdb, or malloc_stats printed nothing)"
        return f"malloc holds {stats[0] / 2**20:.2f} MiB, {stats[1] / 2**20:.2f} MiB in live allocations"

    @staticmethod
    def format_counter(counter: collections.Counter[str]) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in sorted(counter.items(), key=lambda kv: -kv[1]))

    def cleanup(self) -> None:
        """Runs on every exit: no process of ours survives, the temporary directory goes unless --keep."""
        self.stop.set()
        self.server_up.set()
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()
        for process, _ in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        if self._client is not None:
            self._client.close()
        if self.server.alive():
            self.server.kill()
        if self.args.keep:
            print(f"kept {self.workdir} (data/ and jobwired.log)", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    parser.add_argument("--jobwired", default=os.environ.get("JOBWIRED", ""),
                        help="path of the jobwired binary (default: $JOBWIRED)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    parser.add_argument("--workdir", default=None, help="where to create the temporary directory (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, server log)")
    parser.add_argument("--processes", type=int, default=2, help="load processes (default 2)")
    parser.add_argument("--workers", type=int, default=6, help="worker threads per load process (default 6)")
    parser.add_argument("--rate", type=float, default=800.0, help="cap on calls/s over all processes (default 800)")
    parser.add_argument("--server-log-level", default="info", help="jobwired's --log-level (debug logs each "
                        "connection's open and close, with its peer)")
    parser.add_argument("--heap-probe", action="store_true",
                        help="at warm-up end and at the end, read glibc's malloc_stats() in jobwired through gdb "
                        "(live vs held heap bytes; pauses the server about a second each time)")
    parser.add_argument("--malloc-arena-max", type=int, default=0,
                        help="run jobwired with MALLOC_ARENA_MAX=N (default: glibc's own, 8 per core)")
    parser.add_argument("--sample-interval", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--drift-window", type=int, default=6, help="samples averaged at warm-up end and at the end")
    parser.add_argument("--drift-limit", type=float, default=5.0, help="largest RSS drift allowed, in percent")
    args = parser.parse_args()
    if not args.jobwired or not os.access(args.jobwired, os.X_OK):
        parser.error(f"--jobwired (or $JOBWIRED) must name the jobwired binary; got {args.jobwired!r}")
    args.jobwired = os.path.abspath(args.jobwired)
    os.environ["JOBWIRED"] = args.jobwired

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT too: a shell starts background commands with SIGINT ignored, and Python keeps that.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    soak = Soak(args)
    try:
        return soak.run()
    except KeyboardInterrupt as stop:
        print(f"SOAK FAIL interrupted ({stop or 'Ctrl-C'})", flush=True)
        return 1
    except Exception:  # noqa: BLE001 - report, clean up (in run), fail
        traceback.print_exc()
        print("SOAK FAIL the soak itself crashed (traceback above)", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
