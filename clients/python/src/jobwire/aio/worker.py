"""The worker's side of a job on asyncio (the behaviour of :class:`jobwire.Worker`, with tasks).

::

    async with client.worker(job_id, lease=30) as w:
        for i, chunk in enumerate(chunks):
            w.check_cancelled()
            await process(chunk)
            await w.progress(100 * (i + 1) / len(chunks), task="encoding")
        w.set_result(b"...")
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from .. import _rpc
from .. import _worker_logic as logic
from .._rpc import Update
from .._worker_logic import ExitAction, JobCancelled
from ..errors import FailedPrecondition, JobWireError, NotFound, Reason
from ..models import Job, JobError, JobResult, JobStatus, WatchEvent

if TYPE_CHECKING:
    from ._watch_stream import WatchStream
    from .client import Client

__all__ = ["JobCancelled", "Worker"]


class Worker:
    """Reports for one job as its worker; made by ``jobwire.aio.Client.worker`` (or ``claim_worker``, started).

    On entry it takes the lease and moves a PENDING job to RUNNING; a
    heartbeat task renews the lease every ``heartbeat_interval`` (default a
    third of ``lease``) and a watch task sets ``cancel_event`` as soon as the
    job is cancelled. Leaving the ``async with`` block ends the job COMPLETED,
    FAILED (the block raised) or CANCELLED (a cancel was requested).
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
        self._job: Job | None = None
        self._task = ""
        self._result: JobResult | None = None
        self._finished = False
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        #: Set once the server reports a cancel request (the job is CANCELLING).
        self.cancel_event = asyncio.Event()
        #: The last error of a background heartbeat, if the latest one failed.
        self.heartbeat_error: JobWireError | None = None

    async def __aenter__(self) -> Worker:
        if not self._started:  # claim_worker has started it already
            await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> bool:
        await self._stop_background()
        action = logic.exit_action(self._finished, self.cancelled, exc)
        if action is ExitAction.ACKNOWLEDGE_CANCEL:
            await self.acknowledge_cancel()
        elif action is ExitAction.FAIL:
            assert exc is not None
            await self.fail_with(logic.error_for_exception(exc, self._task))
        elif action is ExitAction.COMPLETE:
            await self._complete_or_acknowledge()
        return isinstance(exc, JobCancelled)

    @property
    def job(self) -> Job:
        """The job as of the last report, heartbeat or watch event."""
        if self._job is None:
            raise RuntimeError("the worker has not started")
        return self._job

    @property
    def cancelled(self) -> bool:
        """True once a cancel was requested."""
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raises :class:`JobCancelled` once a cancel was requested."""
        if self.cancelled:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    async def start(self) -> Job:
        """Takes the lease, moves a PENDING job to RUNNING and starts the background tasks.

        With ``claim_revision`` both happen in one conditional update, which
        raises (``Aborted`` / ``REVISION_MISMATCH``, …) when another worker was first.
        """
        if self.claim_revision is not None:
            job = await self._send(_rpc.claim_update(self.claim_revision, self.lease))
        else:
            job = await self._send(Update())
            if job.status == JobStatus.PENDING:
                job = await self._send(Update(status=JobStatus.RUNNING))
        self._started = True
        watch = self._client._watch_stream(self.job_id, after_revision=job.revision)
        self._tasks = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._follow(watch))]
        return job

    async def progress(self, percent: float | None = None, *, task: str | None = None, eta: float | None = None,
                       log: Iterable[str] = ()) -> Job:
        """Reports progress (0-100), the current task, the ETA in seconds (negative clears it) and log lines."""
        if task is not None:
            self._task = task
        return await self._send(Update(progress=percent, current_task=task, eta_seconds=eta, log_lines=tuple(log)))

    async def log(self, *lines: str) -> Job:
        """Appends log lines."""
        return await self._send(Update(log_lines=lines))

    def set_result(self, result: JobResult | bytes | str | dict[str, object] | list[object],
                   content_type: str | None = None) -> None:
        """The result the block completes the job with."""
        self._result = logic.as_result(result, content_type)

    async def complete(self, result: JobResult | bytes | str | dict[str, object] | list[object] | None = None, *,
                       content_type: str | None = None, log: Iterable[str] = ()) -> Job:
        """Ends the job COMPLETED (progress 100) with its result."""
        final = logic.as_result(result, content_type) if result is not None else self._result
        return await self._finish(Update(status=JobStatus.COMPLETED, progress=100.0, result=final,
                                         log_lines=tuple(log)))

    async def fail(self, message: str, *, reason: str = "", failed_task: str | None = None, retry_count: int = 0,
                   log: Iterable[str] = ()) -> Job:
        """Ends the job FAILED with what went wrong."""
        error = JobError(message, self._task if failed_task is None else failed_task, retry_count, reason)
        return await self.fail_with(error, log=log)

    async def fail_with(self, error: JobError, *, log: Iterable[str] = ()) -> Job:
        """Ends the job FAILED with `error`."""
        return await self._finish(Update(status=JobStatus.FAILED, error=error, log_lines=tuple(log)))

    async def acknowledge_cancel(self, *, log: Iterable[str] = ()) -> Job:
        """Ends the job CANCELLED; nothing to do if it already is."""
        if self._job is not None and self._job.status == JobStatus.CANCELLED:
            self._finished = True
            await self._stop_background()
            return self._job
        return await self._finish(Update(status=JobStatus.CANCELLED, log_lines=tuple(log)))

    async def _complete_or_acknowledge(self) -> None:
        try:
            await self.complete()
        except FailedPrecondition as failure:
            if failure.reason != Reason.ILLEGAL_TRANSITION:
                raise
            self._observe(await self._client.get_metadata(self.job_id))
            if not self.cancelled:
                raise
            await self.acknowledge_cancel()

    async def _finish(self, update: Update) -> Job:
        await self._stop_background()
        job = await self._send(update, lease=False)
        self._finished = True
        return job

    async def _send(self, update: Update, lease: bool = True) -> Job:
        job = await self._client._update(self.job_id, dataclasses.replace(update, lease=self.lease if lease else None))
        self._observe(job)
        return job

    def _observe(self, job: Job) -> None:
        if logic.newer(self._job, job):
            self._job = job
        if logic.cancel_requested(job):
            self.cancel_event.set()

    async def _stop_background(self) -> None:
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        self._tasks = []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self._send(Update())
                self.heartbeat_error = None
            except JobWireError as failure:
                self.heartbeat_error = failure
                if isinstance(failure, (NotFound, FailedPrecondition)):
                    return

    async def _follow(self, watch: WatchStream[WatchEvent]) -> None:
        try:
            while (event := await watch.next()) is not None:
                if event.job is not None:
                    self._observe(event.job)
        except JobWireError:
            return
