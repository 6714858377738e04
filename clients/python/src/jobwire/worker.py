"""The worker's side of a job (blocking): progress reports, a lease kept alive, cancellation noticed.

::

    with client.worker(job_id, lease=30) as w:
        for i, chunk in enumerate(chunks):
            w.check_cancelled()              # raises JobCancelled once a cancel was requested
            process(chunk)
            w.progress(100 * (i + 1) / len(chunks), task="encoding", log=[f"chunk {i} done"])
        w.set_result({"frames": 1200})
    # leaving the block: COMPLETED with the result; FAILED if the block raised; CANCELLED after a cancel
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from . import _rpc
from . import _worker_logic as logic
from ._rpc import Update
from ._worker_logic import ExitAction, JobCancelled
from .errors import FailedPrecondition, JobWireError, NotFound, Reason
from .models import Job, JobError, JobResult, JobStatus, WatchEvent

if TYPE_CHECKING:
    from ._watch_stream import WatchStream
    from .client import Client

__all__ = ["JobCancelled", "Worker"]


class Worker:
    """Reports for one job as its worker; see the module docstring. Made by ``Client.worker``, or by
    ``Client.claim_worker`` for a worker of a pool (started already: the claim is its start).

    On entry it takes the lease (``lease`` seconds, renewed every
    ``heartbeat_interval``, default a third of it, by a background thread) and
    moves a PENDING job to RUNNING. A second background thread watches the job
    so ``cancelled`` turns True, and ``cancel_event`` is set, as soon as
    someone cancels it.
    """

    def __init__(self, client: Client, job_id: str, lease: float = 30.0,
                 heartbeat_interval: float | None = None, *, claim_revision: int | None = None) -> None:
        if lease <= 0:
            raise ValueError("lease must be positive")
        self.job_id = job_id
        self.lease = lease
        #: Set for a worker of a pool: start() claims the job only if its revision is still this one.
        self.claim_revision = claim_revision
        self.heartbeat_interval = heartbeat_interval if heartbeat_interval is not None else lease / 3
        self._client = client
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._task = ""
        self._result: JobResult | None = None
        self._finished = False
        self._started = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watch: WatchStream[WatchEvent] | None = None
        #: Set once the server reports a cancel request (the job is CANCELLING).
        self.cancel_event = threading.Event()
        #: The last error of a background heartbeat, if the latest one failed.
        self.heartbeat_error: JobWireError | None = None

    # Context manager.

    def __enter__(self) -> Worker:
        if not self._started:  # claim_worker has started it already
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        self._stop_background()
        action = logic.exit_action(self._finished, self.cancelled, exc)
        if action is ExitAction.ACKNOWLEDGE_CANCEL:
            self.acknowledge_cancel()
        elif action is ExitAction.FAIL:
            assert exc is not None
            self.fail_with(logic.error_for_exception(exc, self._task))
        elif action is ExitAction.COMPLETE:
            self._complete_or_acknowledge()
        return isinstance(exc, JobCancelled)

    # State.

    @property
    def job(self) -> Job:
        """The job as of the last report, heartbeat or watch event."""
        with self._lock:
            if self._job is None:
                raise RuntimeError("the worker has not started")
            return self._job

    @property
    def cancelled(self) -> bool:
        """True once a cancel was requested: stop working and leave the block (or call ``acknowledge_cancel``)."""
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raises :class:`JobCancelled` once a cancel was requested (the ``with`` block then reports CANCELLED)."""
        if self.cancelled:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    # Reports.

    def start(self) -> Job:
        """Takes the lease, moves a PENDING job to RUNNING and starts the background threads.

        With ``claim_revision`` both happen in one conditional update, which
        raises (``Aborted`` / ``REVISION_MISMATCH``, …) when another worker was first.
        """
        if self.claim_revision is not None:
            job = self._send(_rpc.claim_update(self.claim_revision, self.lease))
        else:
            job = self._send(Update())
            if job.status == JobStatus.PENDING:
                job = self._send(Update(status=JobStatus.RUNNING))
        self._started = True
        self._start_background(job.revision)
        return job

    def progress(self, percent: float | None = None, *, task: str | None = None, eta: float | None = None,
                 log: Iterable[str] = ()) -> Job:
        """Reports progress (0-100), the current task, the ETA in seconds (negative clears it) and log lines."""
        if task is not None:
            self._task = task
        return self._send(Update(progress=percent, current_task=task, eta_seconds=eta, log_lines=tuple(log)))

    def log(self, *lines: str) -> Job:
        """Appends log lines."""
        return self._send(Update(log_lines=lines))

    def set_result(self, result: JobResult | bytes | str | dict[str, object] | list[object],
                   content_type: str | None = None) -> None:
        """The result the ``with`` block completes the job with (bytes, text, or a JSON value)."""
        self._result = logic.as_result(result, content_type)

    def complete(self, result: JobResult | bytes | str | dict[str, object] | list[object] | None = None, *,
                 content_type: str | None = None, log: Iterable[str] = ()) -> Job:
        """Ends the job COMPLETED (progress 100) with its result."""
        final = logic.as_result(result, content_type) if result is not None else self._result
        return self._finish(Update(status=JobStatus.COMPLETED, progress=100.0, result=final, log_lines=tuple(log)))

    def fail(self, message: str, *, reason: str = "", failed_task: str | None = None, retry_count: int = 0,
             log: Iterable[str] = ()) -> Job:
        """Ends the job FAILED with what went wrong."""
        error = JobError(message, self._task if failed_task is None else failed_task, retry_count, reason)
        return self.fail_with(error, log=log)

    def fail_with(self, error: JobError, *, log: Iterable[str] = ()) -> Job:
        """Ends the job FAILED with `error`."""
        return self._finish(Update(status=JobStatus.FAILED, error=error, log_lines=tuple(log)))

    def acknowledge_cancel(self, *, log: Iterable[str] = ()) -> Job:
        """Ends the job CANCELLED (the answer to a cancel request); nothing to do if it already is."""
        if self._job is not None and self._job.status == JobStatus.CANCELLED:
            self._finished = True
            self._stop_background()
            return self._job
        return self._finish(Update(status=JobStatus.CANCELLED, log_lines=tuple(log)))

    # Internals.

    def _complete_or_acknowledge(self) -> None:
        try:
            self.complete()
        except FailedPrecondition as failure:
            # A cancel request raced with the end of the work: the job is CANCELLING.
            if failure.reason != Reason.ILLEGAL_TRANSITION:
                raise
            self._observe(self._client.get_metadata(self.job_id))
            if not self.cancelled:
                raise
            self.acknowledge_cancel()

    def _finish(self, update: Update) -> Job:
        self._stop_background()
        job = self._send(update, lease=False)
        self._finished = True
        return job

    def _send(self, update: Update, lease: bool = True) -> Job:
        job = self._client._update(self.job_id, dataclasses.replace(update, lease=self.lease if lease else None))
        self._observe(job)
        return job

    def _observe(self, job: Job) -> None:
        with self._lock:
            if logic.newer(self._job, job):
                self._job = job
        if logic.cancel_requested(job):
            self.cancel_event.set()

    def _start_background(self, revision: int) -> None:
        self._watch = self._client._watch_stream(self.job_id, after_revision=revision)
        for target, name in ((self._heartbeat, "heartbeat"), (self._follow, "watch")):
            thread = threading.Thread(target=target, name=f"jobwire-worker-{name}-{self.job_id}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _stop_background(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.cancel()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join()
        self._threads = []

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_interval):
            try:
                self._send(Update())
                self.heartbeat_error = None
            except JobWireError as failure:
                self.heartbeat_error = failure
                if isinstance(failure, (NotFound, FailedPrecondition)):
                    return  # the job is gone or over: nothing left to keep alive

    def _follow(self) -> None:
        watch = self._watch
        assert watch is not None
        try:
            while (event := watch.next()) is not None:
                if event.job is not None:
                    self._observe(event.job)
        except JobWireError:
            return  # the heartbeat still learns of a cancel from its replies
