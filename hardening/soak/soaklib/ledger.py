"""The ledger of acknowledged writes, and how a read or watch event is judged against it."""
from __future__ import annotations

import dataclasses
import threading

from jobwire.errors import JobWireError, Reason, StatusCode
from jobwire.models import Job, JobStatus

from .common import EARLY_SLACK_MS, REACHABLE, RETENTION_SLACK_MS, TERMINAL, code_reason, now_ms


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
