"""Every documented code and reason a client can provoke through the client API, as typed exceptions."""
from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Iterator

import pytest

import jobwire
from jobwire import JobSpec, JobStatus, Reason, StatusCode, WatchEvent
from helpers import UNKNOWN_ID, Server, wait_for

StartServer = Callable[..., Server]


def check(error: jobwire.JobWireError, kind: type[jobwire.JobWireError], code: StatusCode, reason: str) -> None:
    assert type(error) is kind, f"{type(error).__name__}: {error}"
    assert error.code is code and error.code.name == code.name and int(error.code) == code.value
    assert error.reason == reason and error.message, str(error)
    assert str(error).startswith(f"{code.name} ({reason}): ")


def test_the_error_type_carries_code_reason_message_and_retry_after() -> None:
    error = jobwire.errors.error_from_status(jobwire.Status(StatusCode.RESOURCE_EXHAUSTED, Reason.RATE_LIMITED,
                                                            "slow down", 1500))
    assert isinstance(error, jobwire.ResourceExhausted) and isinstance(error, jobwire.JobWireError)
    assert (error.code, error.reason, error.message, error.retry_after) == (
        StatusCode.RESOURCE_EXHAUSTED, Reason.RATE_LIMITED, "slow down", 1.5)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is jobwire.ResourceExhausted and copy.status == error.status
    assert StatusCode.from_wire(99) is StatusCode.UNKNOWN, "a code a client does not know reads as UNKNOWN"
    assert jobwire.errors.error(StatusCode.from_wire(99), "", "x").code is StatusCode.UNKNOWN


def test_invalid_and_unknown_job_ids(client: jobwire.Client) -> None:
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.get_metadata("not-a-uuid")
    check(caught.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT, Reason.INVALID_JOB_ID)
    for call in (client.get_metadata, client.cancel, client.delete, lambda job_id: client.update(job_id, progress=1.0)):
        with pytest.raises(jobwire.NotFound) as missing:
            call(UNKNOWN_ID)
        check(missing.value, jobwire.NotFound, StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND)
        assert missing.value.message == f"job {UNKNOWN_ID} not found"
    with pytest.raises(jobwire.NotFound) as watched:
        next(client.watch(UNKNOWN_ID))
    check(watched.value, jobwire.NotFound, StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND)


def test_validation_errors(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: client.cancel(job.job_id, reason="x" * 1025), Reason.FIELD_TOO_LONG),
        (lambda: client.configure(JobSpec(type="x" * 4097)), Reason.FIELD_TOO_LONG),
        (lambda: client.configure(JobSpec(), request_id="r" * 129), Reason.FIELD_TOO_LONG),
        (lambda: client.configure(JobSpec(labels={"": "empty key"})), Reason.FIELD_TOO_LONG),
        (lambda: client.configure(JobSpec(labels={f"k{n}": "v" for n in range(65)})), Reason.TOO_MANY_ELEMENTS),
        (lambda: client.update(job.job_id, log_lines=["l"] * 1001), Reason.TOO_MANY_ELEMENTS),
        (lambda: client.batch_get_metadata([UNKNOWN_ID] * 1001), Reason.TOO_MANY_ELEMENTS),
        (lambda: client.update(job.job_id, progress=101.0), Reason.VALUE_OUT_OF_RANGE),
        (lambda: client.update(job.job_id, progress=float("nan")), Reason.VALUE_OUT_OF_RANGE),
        (lambda: client.get_metadata(job.job_id, log_tail=10_001), Reason.VALUE_OUT_OF_RANGE),
        (lambda: client.configure(JobSpec(stream_port=70_000)), Reason.VALUE_OUT_OF_RANGE),
        (lambda: client.list_page(page_size=501), Reason.VALUE_OUT_OF_RANGE),
    ]
    for call, reason in cases:
        with pytest.raises(jobwire.InvalidArgument) as caught:
            call()
        check(caught.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT, reason)
    assert client.get_metadata(job.job_id) == job, "no rejected request changed the job"


def test_strings_python_cannot_encode_are_refused_before_sending(client: jobwire.Client) -> None:
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.get_metadata("\ud800")
    check(caught.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT, Reason.INVALID_UTF8)
    with pytest.raises(jobwire.InvalidArgument) as negative:
        client.configure(JobSpec(stream_port=-1))
    check(negative.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT, Reason.VALUE_OUT_OF_RANGE)
    assert client.stats().methods == (), "nothing reached the server"


def test_lifecycle_errors(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    with pytest.raises(jobwire.FailedPrecondition) as illegal:
        client.update(job.job_id, status=JobStatus.COMPLETED)
    check(illegal.value, jobwire.FailedPrecondition, StatusCode.FAILED_PRECONDITION, Reason.ILLEGAL_TRANSITION)
    with pytest.raises(jobwire.InvalidArgument) as result_without_completed:
        client.update(job.job_id, status=JobStatus.RUNNING, result=jobwire.JobResult("text/plain", b"x"))
    check(result_without_completed.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT,
          Reason.FIELD_NOT_ALLOWED)
    with pytest.raises(jobwire.InvalidArgument) as error_without_failed:
        client.update(job.job_id, error=jobwire.JobError(message="x"))
    check(error_without_failed.value, jobwire.InvalidArgument, StatusCode.INVALID_ARGUMENT, Reason.FIELD_NOT_ALLOWED)
    running = client.update(job.job_id, status=JobStatus.RUNNING)
    with pytest.raises(jobwire.Aborted) as stale:
        client.update(job.job_id, progress=5.0, expected_revision=running.revision - 1)
    check(stale.value, jobwire.Aborted, StatusCode.ABORTED, Reason.REVISION_MISMATCH)
    with pytest.raises(jobwire.FailedPrecondition) as back:
        client.update(job.job_id, status=JobStatus.PENDING)
    check(back.value, jobwire.FailedPrecondition, StatusCode.FAILED_PRECONDITION, Reason.ILLEGAL_TRANSITION)
    client.update(job.job_id, status=JobStatus.COMPLETED)
    with pytest.raises(jobwire.FailedPrecondition) as terminal:
        client.update(job.job_id, progress=1.0)
    check(terminal.value, jobwire.FailedPrecondition, StatusCode.FAILED_PRECONDITION, Reason.JOB_TERMINAL)


def test_a_watched_job_that_is_deleted_ends_the_watch_with_job_deleted(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id)
    assert next(events).kind is jobwire.EventKind.SNAPSHOT
    client.delete(job.job_id)
    with pytest.raises(jobwire.NotFound) as caught:
        next(events)
    check(caught.value, jobwire.NotFound, StatusCode.NOT_FOUND, Reason.JOB_DELETED)


def test_retention_then_expired_then_forgotten(start_server: StartServer) -> None:
    server = start_server("--retention", "100ms", "--expired-retention", "400ms", "--reaper-interval", "20ms")
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    done = client.cancel(job.job_id)
    assert done.expires_at_ms == done.completed_at_ms + 100

    def reason() -> str:
        try:
            client.get_metadata(job.job_id)
        except jobwire.NotFound as missing:
            return missing.reason
        return ""

    wait_for(lambda: reason() == Reason.EXPIRED, what="EXPIRED")
    with pytest.raises(jobwire.NotFound) as caught:
        client.get_metadata(job.job_id)
    check(caught.value, jobwire.NotFound, StatusCode.NOT_FOUND, Reason.EXPIRED)
    wait_for(lambda: reason() == Reason.JOB_NOT_FOUND, what="JOB_NOT_FOUND after the expired period")


def test_a_lease_that_runs_out_fails_the_job_with_lease_expired(start_server: StartServer) -> None:
    server = start_server("--reaper-interval", "20ms")
    client = server.client()
    job = client.configure(JobSpec(type="t"), lease=0.2).job
    client.update(job.job_id, status=JobStatus.RUNNING, current_task="encoding")
    wait_for(lambda: client.get_metadata(job.job_id).status is JobStatus.FAILED, what="the lease to run out")
    failed = client.get_metadata(job.job_id)
    assert failed.error is not None and failed.error.reason == Reason.LEASE_EXPIRED
    assert failed.error.failed_task == "encoding" and failed.lease_expires_at_ms == 0


def test_tenant_job_limit(start_server: StartServer) -> None:
    client = start_server("--max-jobs-per-tenant", "2").client()
    first = client.configure(JobSpec(type="t")).job
    client.configure(JobSpec(type="t"))
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.configure(JobSpec(type="t"))
    check(caught.value, jobwire.ResourceExhausted, StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_JOBS)
    client.delete(first.job_id)
    client.configure(JobSpec(type="t"))


def test_tenant_watch_limit_and_a_closed_watch_frees_its_slot(start_server: StartServer) -> None:
    client = start_server("--max-watches-per-tenant", "1").client()
    job = client.configure(JobSpec(type="t")).job
    first = client.watch(job.job_id)
    next(first)
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        next(client.watch(job.job_id))
    check(caught.value, jobwire.ResourceExhausted, StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_WATCHES)
    first.close()  # sends CancelCall: the server drops the watch and its slot
    second = client.watch(job.job_id)
    assert next(second).kind is jobwire.EventKind.SNAPSHOT
    second.close()


def damage_one_job(server: Server) -> tuple[jobwire.Client, jobwire.Job, jobwire.Job]:
    """Two jobs; with the server stopped, one's stored bytes are overwritten through sqlite3.
    Returns a client of the restarted server, the healthy job and the damaged one."""
    client = server.client()
    healthy = client.configure(JobSpec(type="healthy")).job
    damaged = client.configure(JobSpec(type="damaged")).job
    client.close()
    server.stop()
    with sqlite3.connect(server.data_dir / "jobwire.sqlite") as database:
        database.execute("UPDATE jobs SET job = x'ff' WHERE job_id = ?", (damaged.job_id,))
    server.start()
    return server.client(), healthy, damaged


@pytest.mark.sqlite_only
def test_a_damaged_stored_job_is_data_loss_for_writes(server: Server) -> None:
    client, healthy, damaged = damage_one_job(server)
    writes: list[Callable[[], object]] = [lambda: client.update(damaged.job_id, progress=1.0),
                                          lambda: client.cancel(damaged.job_id)]
    for write in writes:
        with pytest.raises(jobwire.DataLoss) as caught:
            write()
        check(caught.value, jobwire.DataLoss, StatusCode.DATA_LOSS, Reason.STORE_DAMAGED)
    assert client.get_metadata(healthy.job_id) == healthy, "other jobs are served"


def store_that_fills_up(server: Server) -> jobwire.Client:
    """The server restarted with a 300 KiB limit on the size of its files: a big write cannot be committed."""
    server.stop()
    server.file_size_limit_kib = 300
    server.start()
    return server.client()


BIG = JobSpec(type="big", frequencies_list=tuple(float(n) for n in range(60_000)))  # ~480 KB per write


def exited(server: Server) -> int:
    """The exit status of a server that stops by itself."""
    assert server.process is not None
    return wait_for(lambda: server.process.poll() if server.process is not None else None, timeout=15,
                    what="jobwired to exit")


def restart_without_limit(server: Server) -> None:
    server.file_size_limit_kib = None
    server.start()


@pytest.mark.sqlite_only
def test_a_write_the_store_cannot_commit_stops_the_server(server: Server) -> None:
    client = store_that_fills_up(server)
    small = client.configure(JobSpec(type="small")).job
    with pytest.raises(jobwire.Unavailable) as caught:
        client.configure(BIG)
    check(caught.value, jobwire.Unavailable, StatusCode.UNAVAILABLE, Reason.STORE_UNAVAILABLE)
    # Memory now holds a change the store does not: the server refuses everything, drains and exits 75
    # (EX_TEMPFAIL). A call right after is refused, or finds the server already gone.
    with pytest.raises((jobwire.Unavailable, jobwire.DeadlineExceeded)):
        client.update(small.job_id, progress=5.0, timeout=1.0)
    assert exited(server) == 75
    assert "the store could not commit" in server.log()
    client.close()
    restart_without_limit(server)
    restarted = server.client().get_metadata(small.job_id)
    assert restarted.revision == 1 and restarted.progress == 0.0, "the refused update was never applied"


@pytest.mark.sqlite_only
def test_a_retried_configure_after_store_unavailable_is_durable(server: Server) -> None:
    client = store_that_fills_up(server)
    with pytest.raises(jobwire.Unavailable):
        client.configure(BIG, request_id="render-1")
    assert exited(server) == 75
    client.close()
    restart_without_limit(server)
    client = server.client()
    retried = client.configure(BIG, request_id="render-1")  # the documented way to retry (OPERATIONS.md)
    assert retried.created, "the failed attempt left nothing behind"
    client.close()
    server.stop()
    server.start()
    # An acknowledged write survives a restart (OPERATIONS.md, "Durability").
    assert server.client().get_metadata(retried.job.job_id).type == "big"


@pytest.mark.sqlite_only
def test_a_revision_seen_by_a_watcher_is_never_reused(server: Server) -> None:
    client = store_that_fills_up(server)
    job = client.configure(JobSpec(type="small")).job
    watcher = server.client()
    events = watcher.watch(job.job_id, reconnect_timeout=0.5)
    first = next(events)
    with pytest.raises(jobwire.Unavailable):
        client.update(job.job_id, progress=7.0, log_lines=["x" * 8000] * 100)  # ~800 KB: cannot be committed
    assert exited(server) == 75
    # The watcher was never told of the write that was not acknowledged: its stream ends without it.
    seen = [event.revision for event in _drain(events)]
    assert seen == [], f"a watcher saw unacknowledged revisions {seen}"
    client.close()
    watcher.close()
    restart_without_limit(server)
    later = server.client().update(job.job_id, progress=8.0)
    assert later.revision == first.revision + 1


def _drain(events: Iterator[WatchEvent]) -> list[WatchEvent]:
    """The events a watch yields until it gives up (the server is gone)."""
    received: list[WatchEvent] = []
    try:
        for event in events:
            received.append(event)
    except jobwire.JobWireError:
        pass
    return received


@pytest.mark.sqlite_only
def test_a_damaged_stored_job_is_data_loss_for_reads(server: Server) -> None:
    client, healthy, damaged = damage_one_job(server)
    with pytest.raises(jobwire.DataLoss) as caught:
        client.get_metadata(damaged.job_id)
    check(caught.value, jobwire.DataLoss, StatusCode.DATA_LOSS, Reason.STORE_DAMAGED)
    # One damaged job costs its own entry of a batch, not the whole reply.
    results = client.batch_get_metadata([healthy.job_id, damaged.job_id])
    assert results[0].job == healthy and results[0].error is None
    assert isinstance(results[1].error, jobwire.DataLoss) and results[1].job is None
    with pytest.raises(jobwire.DataLoss):
        next(client.watch(damaged.job_id))
    with pytest.raises(jobwire.DataLoss) as listing:
        list(client.list_jobs())
    assert damaged.job_id in listing.value.message, "the failed page names the damaged job"
    assert client.get_metadata(healthy.job_id) == healthy
