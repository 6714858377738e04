"""SetPriority: the priority of a job that has not ended, seen by watchers and by the priority order (sync and
asyncio), against the real server."""
from __future__ import annotations

import asyncio

import pytest

import jobwire
from jobwire import EventKind, JobOrder, JobSpec, JobStatus, Reason
from helpers import UNKNOWN_ID, Server


def test_set_priority_changes_the_job_and_a_watcher_sees_it(client: jobwire.Client, server: Server) -> None:
    job = client.configure(JobSpec(type="t", priority=1)).job
    events = server.client().watch(job.job_id)
    assert next(events).kind is EventKind.SNAPSHOT
    changed = client.set_priority(job.job_id, 7)
    assert changed.priority == 7 and changed.revision == job.revision + 1 and changed.status is JobStatus.PENDING
    event = next(events)
    assert (event.kind, event.revision, event.job) == (EventKind.CHANGE, changed.revision, changed)
    assert client.set_priority(job.job_id, 7) == changed, "the same priority again makes no new revision"
    running = client.update(job.job_id, status=JobStatus.RUNNING)
    assert next(events).revision == running.revision == changed.revision + 1, "and no event"
    lowered = client.set_priority(job.job_id, -3)
    assert lowered.priority == -3 and lowered.status is JobStatus.RUNNING
    event = next(events)
    assert event.job is not None and event.job.priority == -3 and event.revision == lowered.revision
    events.close()
    cancelling = client.cancel(client.configure(JobSpec(type="t"), lease=30).job.job_id)
    assert client.set_priority(cancelling.job_id, 4).priority == 4, "CANCELLING has not ended"


def test_set_priority_on_a_job_that_ended(client: jobwire.Client) -> None:
    completed = client.configure(JobSpec(type="t")).job
    client.update(completed.job_id, status=JobStatus.RUNNING)
    completed = client.update(completed.job_id, status=JobStatus.COMPLETED)
    failed = client.update(client.configure(JobSpec(type="t")).job.job_id, status=JobStatus.FAILED,
                           error=jobwire.JobError("boom"))
    cancelled = client.cancel(client.configure(JobSpec(type="t")).job.job_id)
    for job in (completed, failed, cancelled):
        with pytest.raises(jobwire.FailedPrecondition) as caught:
            client.set_priority(job.job_id, 9)
        assert caught.value.reason == Reason.JOB_TERMINAL, job.status.name
        assert client.get_metadata(job.job_id) == job


def test_a_conditional_set_priority_and_bad_arguments(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    moved = client.update(job.job_id, progress=1.0)
    with pytest.raises(jobwire.Aborted) as stale:
        client.set_priority(job.job_id, 2, expected_revision=job.revision)
    assert stale.value.reason == Reason.REVISION_MISMATCH
    assert client.set_priority(job.job_id, 2, expected_revision=moved.revision).priority == 2
    with pytest.raises(jobwire.NotFound) as unknown:
        client.set_priority(UNKNOWN_ID, 2)
    assert unknown.value.reason == Reason.JOB_NOT_FOUND
    with pytest.raises(jobwire.InvalidArgument) as too_high:
        client.set_priority(job.job_id, 2**31)  # Job.priority is an int32: refused before it is sent
    assert too_high.value.reason == Reason.VALUE_OUT_OF_RANGE
    assert client.get_metadata(job.job_id).priority == 2


def test_a_new_priority_moves_the_job_in_the_priority_order(client: jobwire.Client) -> None:
    low, middle, high = (client.configure(JobSpec(type="t", priority=p)).job for p in (1, 2, 3))

    def by_priority() -> list[str]:
        return [job.job_id for job in client.list_jobs(order_by=JobOrder.PRIORITY, page_size=2)]

    assert by_priority() == [high.job_id, middle.job_id, low.job_id]
    client.set_priority(low.job_id, 10)
    assert by_priority() == [low.job_id, high.job_id, middle.job_id]
    assert [job.job_id for job in client.list_jobs(priority=(3, 100))] == [high.job_id, low.job_id], "newest first"


def test_set_priority_on_the_async_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="t", priority=1))).job
            events = client.watch(job.job_id)
            assert (await anext(events)).kind is EventKind.SNAPSHOT
            changed = await client.set_priority(job.job_id, 5, expected_revision=job.revision)
            event = await anext(events)
            assert changed.priority == 5 and event.job == changed
            await events.aclose()
            await client.cancel(job.job_id)
            with pytest.raises(jobwire.FailedPrecondition) as caught:
                await client.set_priority(job.job_id, 6)
            assert caught.value.reason == Reason.JOB_TERMINAL

    asyncio.run(asyncio.wait_for(main(), 30))
