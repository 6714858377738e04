"""The threads of a load process that watch: raw-socket watchers that disconnect on purpose and resume, and a watcher
on the official client."""
from __future__ import annotations

from typing import TYPE_CHECKING

import jobwire
from jobwire import _rpc
from jobwire._pb import jobwire_pb2 as pb
from jobwire.errors import JobWireError, Reason, StatusCode
from jobwire.models import JobStatus

from .common import REACHABLE, TERMINAL, is_connection_error, mono, now_ms
from .plumbing import FrameSocket, HandshakeFailed, JobEnded

if TYPE_CHECKING:  # load imports this module to start its threads
    from .load import Load


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
