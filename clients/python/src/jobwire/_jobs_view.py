"""The jobs a ``watch_jobs`` stream describes, kept up to date from its events (no I/O: sync and asyncio alike).

::

    view = jobwire.JobsView()
    for event in client.watch_jobs(statuses=[jobwire.JobStatus.RUNNING]):
        view.apply(event)
        if view.synced:
            render(view.jobs, view.counts_by_status())
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

from .models import Job, JobsEvent, JobsEventType, JobStatus

#: The events that carry jobs matching the filter, to keep as they are.
_UPSERTS = frozenset((JobsEventType.SNAPSHOT, JobsEventType.ENTERED, JobsEventType.CHANGED))


class JobsView:
    """The matching jobs by id, exact once ``synced``: what dashboards show and worker pools pick from.

    Feed it every event of one ``watch_jobs`` stream, in order, with
    :meth:`apply`. It does no I/O and takes no lock, so apply and read it from
    the thread (or task) that iterates the stream. The mapping :attr:`jobs` is
    a read-only live view; copy it (``dict(view.jobs)``) to keep a moment.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._read_only = MappingProxyType(self._jobs)
        #: False until the first SYNCED event, and again after a RESYNC: ``jobs`` may still miss jobs meanwhile.
        self.synced = False
        #: The cursor of the last event applied: pass it to ``watch_jobs(cursor=…)`` to continue from here.
        self.cursor = ""

    @property
    def jobs(self) -> Mapping[str, Job]:
        """The jobs held, by id (read-only, updated in place by :meth:`apply`)."""
        return self._read_only

    def apply(self, event: JobsEvent) -> None:
        """Updates the view with the next event of the stream.

        RESYNC forgets everything (the server could not resume; a snapshot
        follows); SNAPSHOT, ENTERED and CHANGED keep each job as the event
        has it; LEFT drops the job, whether it was held or not (after a resume
        the server names every job that no longer matches, held or not);
        SYNCED marks the view complete; BOOKMARK only moves the cursor.
        """
        if event.type is JobsEventType.RESYNC:
            self._jobs.clear()
            self.synced = False
        elif event.type in _UPSERTS:
            for job in event.jobs:
                self._jobs[job.job_id] = job
        elif event.type is JobsEventType.LEFT:
            self._jobs.pop(event.job_id, None)
        elif event.type is JobsEventType.SYNCED:
            self.synced = True
        if event.cursor:
            self.cursor = event.cursor

    def counts_by_status(self) -> dict[JobStatus, int]:
        """How many jobs held are in each status (statuses with none are left out)."""
        return dict(Counter(job.status for job in self._jobs.values()))
