"""Every RPC through the sync client, against the real server."""
from __future__ import annotations

from collections.abc import Callable

import pytest

import jobwire
from jobwire import EventKind, JobResult, JobSpec, JobStatus, Reason, StatusCode, StreamMetadata
from helpers import STORE, UNKNOWN_ID, Server

SPEC = JobSpec(type="das_stream", labels={"site": "haifa", "rack": "7"}, priority=5, stream_url="10.0.0.5",
               stream_port=50051, view_type=2, frequencies_list=(0.0, 1.5, 3.0), lines_dt=0.5,
               channel_to_stream_index={1: 0, 2: 1}, stream_amount=2, frequencies_amount=3, channel_amount=2,
               metadata=StreamMetadata(dx=1.02, prr=2000.0, fiber_start_meters=10.0, fiber_length_meters=5000.0,
                                       sw_version="1.0.0"))


def test_configure_returns_every_field_as_get_metadata_does(client: jobwire.Client) -> None:
    result = client.configure(SPEC)
    job = result.job
    assert result.created
    assert job.status is JobStatus.PENDING and job.revision == 1 and job.tenant == "default"
    assert job.to_spec() == SPEC
    assert job.created_at_ms > 0 and job.updated_at_ms == job.created_at_ms and job.completed_at_ms == 0
    assert client.get_metadata(job.job_id) == job
    assert client.get_metadata(job.job_id.upper()) == job, "ids are accepted in either case"


def test_configure_with_a_request_id_is_idempotent(client: jobwire.Client) -> None:
    first = client.configure(SPEC, request_id="run-42")
    again = client.configure(SPEC, request_id="run-42")
    assert first.created and not again.created and again.job == first.job
    with pytest.raises(jobwire.AlreadyExists) as caught:
        client.configure(JobSpec(type="other"), request_id="run-42")
    assert caught.value.code is StatusCode.ALREADY_EXISTS and caught.value.reason == Reason.REQUEST_ID_REUSED


def test_configure_with_a_lease_makes_the_caller_the_worker(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="leased"), lease=30).job
    assert job.lease_expires_at_ms - job.created_at_ms == 30_000


def test_get_metadata_log_tail_and_line_count(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    client.update(job.job_id, status=JobStatus.RUNNING, log_lines=[f"line {n}" for n in range(5)])
    assert client.get_metadata(job.job_id).log_tail == ()
    tail = client.get_metadata(job.job_id, log_tail=2)
    assert tail.log_tail == ("line 3", "line 4") and tail.log_line_count == 5
    assert client.get_metadata(job.job_id, log_tail=100).log_tail == tuple(f"line {n}" for n in range(5))


def test_batch_get_metadata_answers_each_id_in_order(client: jobwire.Client) -> None:
    one = client.configure(SPEC).job
    two = client.configure(JobSpec(type="second")).job
    results = client.batch_get_metadata([two.job_id, "not-a-uuid", UNKNOWN_ID, one.job_id, two.job_id])
    assert [result.job_id for result in results] == [two.job_id, "not-a-uuid", UNKNOWN_ID, one.job_id, two.job_id]
    assert results[0].job == two and results[3].job == one and results[4].job == two
    assert isinstance(results[1].error, jobwire.InvalidArgument) and results[1].error.reason == Reason.INVALID_JOB_ID
    assert isinstance(results[2].error, jobwire.NotFound) and results[2].error.reason == Reason.JOB_NOT_FOUND
    assert results[1].job is None and results[0].error is None


def test_list_jobs_walks_every_page_newest_first(client: jobwire.Client) -> None:
    ids = [client.configure(JobSpec(type="paged", priority=n)).job.job_id for n in range(7)]
    assert [job.job_id for job in client.list_jobs(page_size=3)] == ids[::-1]
    pages: list[list[str]] = []
    token = ""
    while True:
        page = client.list_page(page_size=3, page_token=token)
        assert page.total_count == 7
        pages.append([job.job_id for job in page.jobs])
        token = page.next_page_token
        if not token:
            break
    assert pages == [ids[6:3:-1], ids[3:0:-1], ids[:1]]


def test_list_jobs_filters(client: jobwire.Client) -> None:
    running = client.configure(JobSpec(type="a", labels={"site": "haifa"}, priority=1)).job
    client.update(running.job_id, status=JobStatus.RUNNING)
    pending = client.configure(JobSpec(type="b", labels={"site": "haifa", "x": "y"}, priority=9)).job
    other = client.configure(JobSpec(type="a", labels={"site": "eilat"}, priority=5)).job

    def ids(**filters: object) -> list[str]:
        return [job.job_id for job in client.list_jobs(**filters)]  # type: ignore[arg-type]

    assert ids(statuses=[JobStatus.RUNNING]) == [running.job_id]
    assert ids(statuses=[JobStatus.PENDING, JobStatus.RUNNING]) == [other.job_id, pending.job_id, running.job_id]
    assert ids(type="a") == [other.job_id, running.job_id]
    assert ids(labels={"site": "haifa"}) == [pending.job_id, running.job_id]
    assert ids(labels={"site": "haifa", "x": "y"}) == [pending.job_id]
    assert ids(priority=(4, 9)) == [other.job_id, pending.job_id]
    everything = [other.job_id, pending.job_id, running.job_id]
    assert ids(created_after_ms=running.created_at_ms) == everything
    assert ids(created_after_ms=other.created_at_ms + 1) == []
    assert ids(created_before_ms=other.created_at_ms + 1) == everything
    assert ids(created_before_ms=running.created_at_ms) == []
    page = client.list_page(type="a")
    assert page.total_count == 2 and all(job.log_tail == () for job in page.jobs)


def test_list_page_token_is_tied_to_its_filters(client: jobwire.Client) -> None:
    for _ in range(3):
        client.configure(JobSpec(type="t"))
    token = client.list_page(type="t", page_size=1).next_page_token
    assert client.list_page(type="t", page_size=1, page_token=token).jobs
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.list_page(type="u", page_size=1, page_token=token)
    assert caught.value.reason == Reason.INVALID_PAGE_TOKEN
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.list_page(page_token="not a token")
    assert caught.value.reason == Reason.INVALID_PAGE_TOKEN


def test_watch_snapshot_then_every_change_then_the_end(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    events = client.watch(job.job_id)
    first = next(events)
    assert first.kind is EventKind.SNAPSHOT and first.job == job and first.revision == 1
    client.update(job.job_id, status=JobStatus.RUNNING, progress=10.0, log_lines=["started"])
    client.update(job.job_id, progress=60.0, current_task="encoding")
    done = client.update(job.job_id, status=JobStatus.COMPLETED, result=JobResult("text/plain", b"ok"))
    rest = list(events)
    assert [(event.kind, event.revision) for event in rest] == [(EventKind.CHANGE, 2), (EventKind.CHANGE, 3),
                                                               (EventKind.CHANGE, 4)]
    assert rest[0].new_log_lines == ("started",) and rest[1].job is not None and rest[1].job.current_task == "encoding"
    assert rest[-1].job == done


def test_cancel_without_a_lease_cancels_at_once_and_is_idempotent(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    cancelled = client.cancel(job.job_id, reason="user closed the tab")
    assert cancelled.status is JobStatus.CANCELLED and cancelled.cancel_reason == "user closed the tab"
    assert cancelled.completed_at_ms > 0 and cancelled.expires_at_ms > cancelled.completed_at_ms
    assert client.cancel(job.job_id, reason="again") == cancelled


def test_cancel_with_a_live_lease_asks_the_worker(client: jobwire.Client) -> None:
    job = client.configure(SPEC, lease=30).job
    assert client.cancel(job.job_id, reason="stop").status is JobStatus.CANCELLING
    assert client.cancel(job.job_id).status is JobStatus.CANCELLING
    done = client.update(job.job_id, status=JobStatus.CANCELLED)
    assert done.status is JobStatus.CANCELLED and done.cancel_reason == "stop"


def test_update_applies_present_fields_only(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    running = client.update(job.job_id, status=JobStatus.RUNNING, progress=40.0, current_task="encoding",
                            eta_seconds=90.0, lease=20)
    assert (running.status, running.progress, running.current_task, running.eta_seconds) == (
        JobStatus.RUNNING, 40.0, "encoding", 90.0)
    assert running.lease_expires_at_ms == running.updated_at_ms + 20_000
    # The oneofs: zero and empty values are applied; a negative ETA clears it.
    zeroed = client.update(job.job_id, progress=0.0, current_task="", eta_seconds=-1)
    assert (zeroed.progress, zeroed.current_task, zeroed.eta_seconds) == (0.0, "", None)
    untouched = client.update(job.job_id, log_lines=["x"])
    assert untouched.progress == 0.0 and untouched.revision == zeroed.revision + 1 and untouched.log_line_count == 1
    conditional = client.update(job.job_id, progress=5.0, expected_revision=untouched.revision)
    assert conditional.progress == 5.0


def test_update_failed_carries_the_error(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    error = jobwire.JobError(message="disk full", failed_task="encoding", retry_count=3, reason="DISK_FULL")
    failed = client.update(job.job_id, status=JobStatus.FAILED, error=error)
    assert failed.status is JobStatus.FAILED and failed.error == error and failed.result is None


def test_delete_forgets_the_job(client: jobwire.Client) -> None:
    job = client.configure(SPEC).job
    client.update(job.job_id, progress=1.0)
    assert client.delete(job.job_id) == 2
    with pytest.raises(jobwire.NotFound) as caught:
        client.get_metadata(job.job_id)
    assert caught.value.reason == Reason.JOB_NOT_FOUND
    assert list(client.list_jobs()) == []


def test_health(client: jobwire.Client) -> None:
    health = client.health()
    assert health.status is jobwire.ServingStatus.SERVING
    assert health.store == STORE and health.store_state == "ok" and health.server_version
    assert health.uptime_ms >= 0


def test_stats_counts_jobs_connections_and_methods(client: jobwire.Client) -> None:
    client.configure(SPEC)
    running = client.configure(SPEC).job
    client.update(running.job_id, status=JobStatus.RUNNING)
    stats = client.stats()
    assert stats.jobs == {JobStatus.PENDING: 1, JobStatus.RUNNING: 1}
    assert stats.connections == 1 and stats.streams == 0
    configure = next(m for m in stats.methods if m.method == "/jobwire.v1.JobService/Configure")
    assert configure.calls == 2 and configure.errors == 0 and configure.p50_us > 0


def test_stream_ports_come_from_the_pool(start_server: Callable[..., Server]) -> None:
    server = start_server("--stream-ports", "52100-52101", "--stream-host", "10.1.2.3")
    client = server.client()
    first = client.configure(JobSpec(type="a")).job
    assert (first.stream_url, first.stream_port) == ("10.1.2.3", 52100)
    second = client.configure(JobSpec(type="b", stream_url="stream.example")).job
    assert (second.stream_url, second.stream_port) == ("stream.example", 52101)
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.configure(JobSpec(type="c"))
    assert caught.value.reason == Reason.NO_STREAM_PORT
    client.update(first.job_id, status=JobStatus.RUNNING)
    client.update(first.job_id, status=JobStatus.COMPLETED)
    assert client.configure(JobSpec(type="d")).job.stream_port == 52100, "a terminal job's port returns to the pool"
    with pytest.raises(jobwire.AlreadyExists) as taken:
        client.configure(JobSpec(type="e", stream_port=52101))
    assert taken.value.reason == Reason.STREAM_PORT_IN_USE
