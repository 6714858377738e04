"""Retry: a FAILED or CANCELLED job starts a new attempt under the same id, the ended attempt kept (sync and
asyncio), against the real server."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobAttempt, JobError, JobSpec, JobStatus, Reason, StatusCode
from conftest import Keyring
from helpers import UNKNOWN_ID, Server

StartServer = Callable[..., Server]

SPEC = JobSpec(type="transcode", labels={"site": "haifa", "rack": "7"}, priority=5)
ERROR = JobError(message="disk full", failed_task="encoding", retry_count=2, reason="DISK_FULL")


def failed_job(client: jobwire.Client, spec: JobSpec = SPEC) -> jobwire.Job:
    """A job that ran (progress, task, ETA, lease, a log line) and failed with ERROR."""
    job = client.configure(spec).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=40.0, current_task="encoding", eta_seconds=30.0,
                  lease=30, log_lines=["started"])
    return client.update(job.job_id, status=JobStatus.FAILED, error=ERROR)


def test_a_failed_job_starts_a_new_attempt_under_the_same_id(start_server: StartServer) -> None:
    server = start_server("--stream-ports", "52300-52301", "--stream-host", "10.9.8.7")
    client = server.client()
    failed = failed_job(client)
    assert failed.attempt == 1 and failed.previous_attempts == () and failed.stream_port == 52300
    retried = client.retry(failed.job_id)
    assert retried.job_id == failed.job_id and retried.status is JobStatus.PENDING and retried.attempt == 2
    assert retried.revision > failed.revision, "the revision continues"
    assert retried.to_spec() == failed.to_spec(), "type, labels, priority and stream endpoint are kept"
    assert (retried.stream_url, retried.stream_port) == ("10.9.8.7", 52300)
    assert retried.previous_attempts == (JobAttempt(1, JobStatus.FAILED, ERROR, "", failed.completed_at_ms),)
    assert (retried.progress, retried.current_task, retried.eta_seconds, retried.result, retried.error,
            retried.cancel_reason) == (0.0, "", None, None, None, "")
    assert (retried.completed_at_ms, retried.expires_at_ms, retried.lease_expires_at_ms) == (0, 0, 0)
    assert retried.created_at_ms == failed.created_at_ms
    assert client.get_metadata(failed.job_id) == retried
    assert client.configure(JobSpec(type="other")).job.stream_port == 52301
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.configure(JobSpec(type="third"))
    assert caught.value.reason == Reason.NO_STREAM_PORT, "the retried job holds its port again"


def test_attempts_accumulate_oldest_first(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    cancelled = client.cancel(job.job_id, reason="user closed the tab")
    second = client.retry(job.job_id)
    assert second.attempt == 2
    assert second.previous_attempts == (
        JobAttempt(1, JobStatus.CANCELLED, None, "user closed the tab", cancelled.completed_at_ms),)
    client.update(job.job_id, status=JobStatus.RUNNING)
    failed = client.update(job.job_id, status=JobStatus.FAILED, error=ERROR)
    assert failed.attempt == 2 and failed.previous_attempts == second.previous_attempts
    third = client.retry(job.job_id, expected_revision=failed.revision)
    assert third.attempt == 3
    assert [(a.attempt, a.status, a.error, a.cancel_reason) for a in third.previous_attempts] == [
        (1, JobStatus.CANCELLED, None, "user closed the tab"), (2, JobStatus.FAILED, ERROR, "")]
    assert third.previous_attempts[1].completed_at_ms == failed.completed_at_ms


def test_only_the_last_16_attempts_are_kept_but_all_are_counted(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    for number in range(1, 19):
        client.cancel(job.job_id, reason=f"round {number}")
        job = client.retry(job.job_id)
    assert job.attempt == 19
    assert [a.attempt for a in job.previous_attempts] == list(range(3, 19))
    assert [a.cancel_reason for a in job.previous_attempts] == [f"round {n}" for n in range(3, 19)]


def test_only_failed_or_cancelled_jobs_can_be_retried(client: jobwire.Client) -> None:
    pending = client.configure(SPEC).job
    running = client.update(client.configure(SPEC).job.job_id, status=JobStatus.RUNNING)
    cancelling = client.cancel(client.configure(SPEC, lease=30).job.job_id)
    completed = client.configure(SPEC).job
    client.update(completed.job_id, status=JobStatus.RUNNING)
    completed = client.update(completed.job_id, status=JobStatus.COMPLETED)
    assert cancelling.status is JobStatus.CANCELLING
    for job in (pending, running, cancelling, completed):
        with pytest.raises(jobwire.FailedPrecondition) as caught:
            client.retry(job.job_id)
        assert caught.value.code is StatusCode.FAILED_PRECONDITION, job.status.name
        assert caught.value.reason == Reason.NOT_RETRYABLE, job.status.name
        assert client.get_metadata(job.job_id) == job, "a refused retry changes nothing"


def test_a_stale_expected_revision_and_unknown_jobs(client: jobwire.Client) -> None:
    failed = failed_job(client)
    with pytest.raises(jobwire.Aborted) as stale:
        client.retry(failed.job_id, expected_revision=failed.revision - 1)
    assert stale.value.code is StatusCode.ABORTED and stale.value.reason == Reason.REVISION_MISMATCH
    assert client.get_metadata(failed.job_id) == failed
    with pytest.raises(jobwire.NotFound) as unknown:
        client.retry(UNKNOWN_ID)
    assert unknown.value.reason == Reason.JOB_NOT_FOUND
    with pytest.raises(jobwire.InvalidArgument) as invalid:
        client.retry("not-a-uuid")
    assert invalid.value.reason == Reason.INVALID_JOB_ID


def test_an_expired_job_cannot_be_retried(start_server: StartServer) -> None:
    server = start_server("--retention", "1s", "--reaper-interval", "100ms")
    client = server.client()
    job = client.configure(SPEC).job
    client.cancel(job.job_id)
    time.sleep(1.3)
    with pytest.raises(jobwire.NotFound) as caught:
        client.retry(job.job_id)
    assert caught.value.reason == Reason.EXPIRED


def test_a_retry_needs_its_pooled_stream_port_back(start_server: StartServer) -> None:
    server = start_server("--stream-ports", "52310-52310", "--stream-host", "10.9.8.7")  # one port
    client = server.client()
    failed = failed_job(client)
    taker = client.configure(JobSpec(type="taker")).job
    assert failed.stream_port == taker.stream_port == 52310, "the failed job's port went back to the pool"
    with pytest.raises(jobwire.FailedPrecondition) as caught:
        client.retry(failed.job_id)
    assert caught.value.reason == Reason.STREAM_PORT_IN_USE
    assert client.get_metadata(failed.job_id) == failed
    client.cancel(taker.job_id)
    assert client.retry(failed.job_id).stream_port == 52310


def test_a_retried_job_goes_back_to_the_pool(client: jobwire.Client, server: Server) -> None:
    failed = failed_job(client)
    retried = client.retry(failed.job_id)
    assert [job.job_id for job in client.list_jobs(statuses=[JobStatus.PENDING])] == [failed.job_id]
    claimed = server.client().claim(retried.job_id, revision=retried.revision, lease=30)
    assert claimed.status is JobStatus.RUNNING and claimed.attempt == 2 and claimed.lease_expires_at_ms > 0
    done = client.update(failed.job_id, status=JobStatus.COMPLETED)
    assert done.attempt == 2 and done.previous_attempts == retried.previous_attempts
    with pytest.raises(jobwire.FailedPrecondition) as caught:
        client.retry(failed.job_id)
    assert caught.value.reason == Reason.NOT_RETRYABLE, "COMPLETED is final"


def test_retry_and_set_priority_need_a_client_key(keyed_server: Server, keyring: Keyring) -> None:
    worker = keyed_server.client(keyring["acme-worker"])
    reader = keyed_server.client(keyring["acme-reader"])
    client_role = keyed_server.client(keyring["acme-client"])
    failed = failed_job(worker)
    pending = client_role.configure(SPEC).job
    denied: list[Callable[[], object]] = [lambda: reader.retry(failed.job_id),
                                          lambda: reader.set_priority(pending.job_id, 1)]
    for call in denied:
        with pytest.raises(jobwire.PermissionDenied) as caught:
            call()
        assert caught.value.code is StatusCode.PERMISSION_DENIED and caught.value.reason == Reason.PERMISSION_DENIED
    assert reader.get_metadata(failed.job_id) == failed and reader.get_metadata(pending.job_id) == pending
    assert client_role.retry(failed.job_id).attempt == 2
    assert client_role.set_priority(pending.job_id, 9).priority == 9
    assert worker.set_priority(pending.job_id, 8).priority == 8, "every role above client may too"


def test_retry_on_the_async_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(SPEC)).job
            await client.update(job.job_id, status=JobStatus.RUNNING)
            failed = await client.update(job.job_id, status=JobStatus.FAILED, error=ERROR)
            with pytest.raises(jobwire.Aborted) as stale:
                await client.retry(job.job_id, expected_revision=job.revision)
            assert stale.value.reason == Reason.REVISION_MISMATCH
            retried = await client.retry(job.job_id, expected_revision=failed.revision)
            assert (retried.status, retried.attempt, retried.error) == (JobStatus.PENDING, 2, None)
            assert retried.previous_attempts == (JobAttempt(1, JobStatus.FAILED, ERROR, "", failed.completed_at_ms),)
            with pytest.raises(jobwire.FailedPrecondition) as caught:
                await client.retry(job.job_id)
            assert caught.value.reason == Reason.NOT_RETRYABLE

    asyncio.run(asyncio.wait_for(main(), 30))
