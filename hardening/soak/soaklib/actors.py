"""The threads of a load process that write and read: workers that drive jobs, the canceller and deleter, the lister
and reader."""
from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

import jobwire
from jobwire.errors import JobWireError, Reason, StatusCode
from jobwire.models import Job, JobError, JobResult, JobSpec, JobStatus

from .common import LEASE_S, TERMINAL, batch_outcome, is_connection_error, mono, now_ms
from .ledger import Entry, evaluate
from .plumbing import JobEnded

if TYPE_CHECKING:  # load imports this module to start its threads
    from .load import Load


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
        self.slot = f"{load.origin}/c{number % load.CLIENT_SLOTS}"
        self.client = load.clients[number % load.CLIENT_SLOTS]
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
