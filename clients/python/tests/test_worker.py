"""The blocking worker helper: lease heartbeats, progress, cancellation, and how the block ends the job."""
from __future__ import annotations

from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobSpec, JobStatus, Reason
from helpers import Server, wait_for

StartServer = Callable[..., Server]


def test_heartbeats_keep_the_lease_alive_and_the_block_completes_the_job(start_server: StartServer) -> None:
    server = start_server("--reaper-interval", "20ms")
    client = server.client()
    observer = server.client()
    job = client.configure(JobSpec(type="encode")).job
    with client.worker(job.job_id, lease=0.5, heartbeat_interval=0.1) as worker:
        assert worker.job.status is JobStatus.RUNNING
        first_lease = worker.job.lease_expires_at_ms
        worker.progress(10.0, task="encoding", eta=5.0, log=["started"])
        # Outlive the lease twice over: only the heartbeats keep the job from failing.
        wait_for(lambda: observer.get_metadata(job.job_id).lease_expires_at_ms > first_lease + 1000, timeout=5,
                 what="two lease lengths of heartbeats")
        assert observer.get_metadata(job.job_id).status is JobStatus.RUNNING
        assert worker.heartbeat_error is None
        worker.set_result({"frames": 1200})
    done = observer.get_metadata(job.job_id, log_tail=10)
    assert done.status is JobStatus.COMPLETED and done.progress == 100.0 and done.lease_expires_at_ms == 0
    assert done.result == jobwire.JobResult("application/json", b'{"frames":1200}')
    assert done.current_task == "encoding" and done.log_tail == ("started",)


def test_a_cancel_request_reaches_the_worker_through_its_watch(client: jobwire.Client, server: Server) -> None:
    job = client.configure(JobSpec(type="long")).job
    canceller = server.client()
    with client.worker(job.job_id, lease=30) as worker:  # heartbeats only every 10 s
        assert not worker.cancelled
        assert canceller.cancel(job.job_id, reason="user closed the tab").status is JobStatus.CANCELLING
        assert worker.cancel_event.wait(3), "the watch told the worker"
        with pytest.raises(jobwire.JobCancelled):
            worker.check_cancelled()
        worker.check_cancelled()  # raises again; the block swallows JobCancelled
    done = canceller.get_metadata(job.job_id)
    assert done.status is JobStatus.CANCELLED and done.cancel_reason == "user closed the tab"


def test_a_cancel_wins_over_a_block_that_ends_normally(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    with client.worker(job.job_id, lease=30) as worker:
        client.cancel(job.job_id)
        worker.cancel_event.wait(3)
    assert client.get_metadata(job.job_id).status is JobStatus.CANCELLED


def test_an_exception_fails_the_job_and_propagates(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    with pytest.raises(KeyError):
        with client.worker(job.job_id, lease=30) as worker:
            worker.progress(50.0, task="parsing")
            raise KeyError("missing column")
    failed = client.get_metadata(job.job_id)
    assert failed.status is JobStatus.FAILED and failed.error is not None
    assert (failed.error.reason, failed.error.failed_task, failed.error.message) == (
        "KEY_ERROR", "parsing", "'missing column'")


def test_explicit_outcomes_are_not_reported_twice(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    with client.worker(job.job_id, lease=30) as worker:
        failed = worker.fail("bad input", reason="BAD_INPUT", retry_count=2)
    assert failed.status is JobStatus.FAILED and failed.error == jobwire.JobError("bad input", "", 2, "BAD_INPUT")
    assert client.get_metadata(job.job_id) == failed
    other = client.configure(JobSpec(type="t")).job
    with client.worker(other.job_id, lease=30) as worker:
        completed = worker.complete("plain text result", log=["done"])
    assert completed.result == jobwire.JobResult("text/plain; charset=utf-8", b"plain text result")
    assert client.get_metadata(other.job_id).revision == completed.revision


def test_a_worker_for_a_finished_job_refuses_to_start(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    client.cancel(job.job_id)
    with pytest.raises(jobwire.FailedPrecondition) as caught:
        with client.worker(job.job_id):
            pass
    assert caught.value.reason == Reason.JOB_TERMINAL
