"""JobsView fed by watch_jobs against the real server: always what ListJobs says once SYNCED, through drains and
restarts, random changes, slow readers (coalesced to each job's latest state) and expiry; a pool of workers that
watches PENDING jobs and claims them; and the view's own rules.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import jobwire
from jobwire import JobsEvent, JobsEventType, JobSpec, JobStatus, JobsView
from jobwire._convert import parse_jobs_event
from jobwire._pb import jobwire_pb2 as pb
from jobwire._rpc import WATCH_JOBS
from helpers import (QUICK_BOOKMARKS, RawConnection, Server, listed, next_event, until_synced, wait_for)

StartServer = Callable[..., Server]
SNAPSHOT, SYNCED, ENTERED, CHANGED, LEFT, RESYNC, BOOKMARK = (
    JobsEventType.SNAPSHOT, JobsEventType.SYNCED, JobsEventType.ENTERED, JobsEventType.CHANGED, JobsEventType.LEFT,
    JobsEventType.RESYNC, JobsEventType.BOOKMARK)
#: About 320 KiB encoded: a few of these fill a connection's output bound and the socket buffers.
BIG = JobSpec(type="big", frequencies_list=tuple(float(n) for n in range(40_000)))


@pytest.fixture
def server(start_server: StartServer) -> Server:
    """A development-mode server with an SQLite store and quick bookmarks (overrides conftest's)."""
    return start_server(*QUICK_BOOKMARKS)


def test_the_view_stays_exact_while_the_server_drains_and_restarts(server: Server) -> None:
    writer = server.client()
    watcher = server.client()
    live = [JobStatus.PENDING, JobStatus.RUNNING]
    view = JobsView()
    lock = threading.Lock()
    seen: list[JobsEventType] = []
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            for event in watcher.watch_jobs(statuses=live, page_size=2):
                with lock:
                    view.apply(event)
                    seen.append(event.type)
        except jobwire.Cancelled:
            pass  # watcher.close() below
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)

    def exact() -> bool:
        with lock:
            return view.synced and dict(view.jobs) == listed(writer, statuses=live)

    jobs = [writer.configure(JobSpec(type="drain", priority=n)).job for n in range(6)]
    thread = threading.Thread(target=follow)
    thread.start()
    wait_for(exact, 10, 0.02, "the view after the snapshot")
    writer.update(jobs[0].job_id, status=JobStatus.RUNNING)
    writer.cancel(jobs[1].job_id)
    wait_for(exact, 10, 0.02, "the view after live changes")

    server.restart()
    writer.health()  # reconnects first: an update is never resent after a lost connection
    writer.update(jobs[2].job_id, status=JobStatus.RUNNING)
    writer.delete(jobs[3].job_id)
    writer.configure(JobSpec(type="drain"))
    wait_for(exact, 10, 0.02, "the view after the drain")
    server.restart()
    writer.health()
    for job in jobs[4:]:
        writer.update(job.job_id, status=JobStatus.RUNNING, progress=30.0)
    writer.update(jobs[0].job_id, status=JobStatus.FAILED, error=jobwire.JobError("boom"))
    wait_for(exact, 10, 0.02, "the view after a second restart")

    watcher.close()
    thread.join(10)
    assert not thread.is_alive() and failures == []
    assert RESYNC not in seen and seen.count(SNAPSHOT) == 3 and watcher.connections_opened == 3


def test_a_view_fed_by_the_stream_equals_list_jobs_through_random_changes(client: jobwire.Client) -> None:
    filters: dict[str, Any] = {"statuses": [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.CANCELLING],
                               "labels": {"team": "a"}, "priority": (1, 5)}
    chance = random.Random(7)
    ids = [client.configure(JobSpec(type="mixed", labels={"team": chance.choice("ab")},
                                    priority=chance.randint(0, 6))).job.job_id for _ in range(12)]
    view = JobsView()
    events = client.watch_jobs(page_size=3, **filters)
    until_synced(events, view)
    assert dict(view.jobs) == listed(client, **filters)
    for step in range(60):
        job_id = chance.choice(ids)
        try:
            change = chance.randrange(7)
            if change == 0:
                client.update(job_id, status=JobStatus.RUNNING, lease=60)
            elif change == 1:
                client.update(job_id, progress=float(step))
            elif change == 2:
                client.cancel(job_id)
            elif change == 3:
                client.set_priority(job_id, chance.randint(0, 6))
            elif change == 4:
                client.retry(job_id)
            elif change == 5:
                client.update(job_id, status=JobStatus.COMPLETED)
            else:
                client.delete(job_id)
                ids.remove(job_id)
                ids.append(client.configure(JobSpec(type="mixed", labels={"team": "a"}, priority=3)).job.job_id)
        except (jobwire.FailedPrecondition, jobwire.NotFound):
            pass  # not allowed in the job's state: no change
    marker = client.configure(JobSpec(type="marker", labels={"team": "a"}, priority=3)).job
    while (event := next_event(events)).job_id != marker.job_id:
        view.apply(event)
    view.apply(event)
    expected = listed(client, **filters)
    assert event.type is ENTERED and dict(view.jobs) == expected
    assert view.counts_by_status() == dict(Counter(job.status for job in expected.values()))
    events.close()


def test_a_pool_of_watching_workers_runs_every_job_exactly_once(server: Server) -> None:
    names = ("first", "second", "third")
    runs: dict[str, list[str]] = {name: [] for name in names}
    ready = threading.Barrier(len(names) + 1, timeout=10)
    total = 12

    def work(name: str) -> None:
        client = server.client()
        view = JobsView()
        seen: set[str] = set()
        for event in client.watch_jobs(statuses=[JobStatus.PENDING], type="pool"):
            view.apply(event)
            seen.update([job.job_id for job in event.jobs] + ([event.job_id] if event.job_id else []))
            if event.type is SYNCED and len(seen) == 0:
                ready.wait()
            for job in sorted(view.jobs.values(), key=lambda job: -job.priority):
                worker = client.claim_worker(job.job_id, revision=job.revision, lease=30)
                if worker is None:
                    continue  # another worker was first
                with worker:
                    worker.progress(50.0, task=name)
                    worker.set_result({"worker": name})
                runs[name].append(job.job_id)
                break  # back to the stream: the view is older than this job now
            if len(seen) == total and view.synced and not view.jobs:
                return  # every job was claimed

    creator = server.client()
    with ThreadPoolExecutor(len(names)) as pool:
        workers = [pool.submit(work, name) for name in names]
        ready.wait()
        ids = [creator.configure(JobSpec(type="pool", priority=n % 3)).job.job_id for n in range(total)]
        for finished in workers:
            finished.result(timeout=30)
    ran = [job_id for claimed in runs.values() for job_id in claimed]
    assert sorted(ran) == sorted(ids), "every job once, none twice"
    for name, claimed in runs.items():
        for job_id in claimed:
            job = creator.get_metadata(job_id)
            assert job.status is JobStatus.COMPLETED and job.current_task == name


def raw_watch(server: Server, receive_buffer: int | None = None, **filters: Any) -> tuple[RawConnection, Iterator[JobsEvent]]:
    """A WatchJobs call on a socket read only as far as the test reads: a reader as slow as it likes. The events come
    decoded as the client decodes them."""
    raw = server.raw(receive_buffer=receive_buffer)
    raw.call(1, WATCH_JOBS, pb.WatchJobsRequest(filter=pb.ListJobsRequest(**filters)).SerializeToString())

    def events() -> Iterator[JobsEvent]:
        while True:
            frame = raw.read(timeout=10)
            assert frame is not None, "the server closed the connection"
            assert frame.WhichOneof("kind") != "end", f"the watch ended: {frame.end.status}"
            if frame.WhichOneof("kind") == "reply":
                yield parse_jobs_event(frame.reply.message)

    return raw, events()


def test_a_slow_reader_gets_the_latest_state_of_each_job_not_every_change(start_server: StartServer) -> None:
    server = start_server("--max-output-buffer-bytes", "65536", *QUICK_BOOKMARKS)
    client = server.client()
    ids = [client.configure(BIG).job.job_id for _ in range(6)]
    # A 4 KiB receive buffer: what waits unread is the server's to hold (its socket's send buffer, at most a few MiB
    # on loopback, then its own output bound), not the reader's kernel's.
    raw, events = raw_watch(server, receive_buffer=4096, type="big",
                            statuses=[pb.JOB_STATUS_PENDING, pb.JOB_STATUS_RUNNING], page_size=1)
    view = JobsView()
    until_synced(events, view)
    changes = 0
    for step in range(6):  # 30 changes of ~320 KB events: more than twice what the server's socket takes unread
        for job_id in ids[:5]:
            client.update(job_id, progress=float(step))
            changes += 1
    client.update(ids[0], status=JobStatus.RUNNING)
    client.update(ids[1], status=JobStatus.RUNNING)
    client.update(ids[1], status=JobStatus.COMPLETED)
    client.delete(ids[2])
    marker = client.configure(BIG).job
    received = 0
    while (event := next_event(events)).job_id != marker.job_id:
        view.apply(event)
        received += 1
    view.apply(event)
    assert dict(view.jobs) == listed(client, type="big", statuses=[JobStatus.PENDING, JobStatus.RUNNING], page_size=5)
    assert received < changes, "the server caught the reader up instead of queueing every change"
    raw.close()


def test_a_job_that_leaves_while_the_snapshot_is_paused_does_not_stay_in_the_view(start_server: StartServer) -> None:
    server = start_server("--store", "memory", "--max-output-buffer-bytes", "65536", *QUICK_BOOKMARKS)
    client = server.client()
    ids = [client.configure(BIG).job.job_id for _ in range(40)]  # 12 MiB of snapshot: it cannot all be in flight
    raw, events = raw_watch(server, type="big", statuses=[pb.JOB_STATUS_PENDING], page_size=1)
    view = JobsView()
    first = next(events)
    view.apply(first)
    assert first.type is SNAPSHOT and [job.job_id for job in first.jobs] == ids[:1]
    client.delete(ids[0])  # sent already
    client.cancel(ids[1])  # sent already or not: it leaves the filter
    until_synced(events, view)
    assert set(view.jobs) == set(listed(client, type="big", statuses=[JobStatus.PENDING], page_size=5))
    raw.close()


def test_jobs_that_expire_leave_without_a_job(start_server: StartServer) -> None:
    server = start_server("--retention", "300ms", "--reaper-interval", "20ms", *QUICK_BOOKMARKS)
    client = server.client()
    events = client.watch_jobs(statuses=[JobStatus.COMPLETED])
    assert until_synced(events) == []
    job = client.configure(JobSpec(type="short")).job
    client.update(job.job_id, status=JobStatus.RUNNING)
    done = client.update(job.job_id, status=JobStatus.COMPLETED)
    entered = next_event(events)
    assert (entered.type, entered.job_id, entered.jobs) == (ENTERED, job.job_id, (done,))
    expired = next_event(events)
    assert (expired.type, expired.job_id, expired.jobs) == (LEFT, job.job_id, ())
    with pytest.raises(jobwire.NotFound) as caught:
        client.get_metadata(job.job_id)
    assert caught.value.reason == jobwire.Reason.EXPIRED
    events.close()


def test_the_view_applies_each_kind_of_event() -> None:
    def job(job_id: str, status: JobStatus = JobStatus.PENDING) -> jobwire.Job:
        return jobwire.Job(job_id=job_id, status=status)

    view = JobsView()
    assert (view.synced, view.cursor, dict(view.jobs)) == (False, "", {})
    view.apply(JobsEvent(SNAPSHOT, "c1", (job("a"), job("b", JobStatus.RUNNING))))
    view.apply(JobsEvent(SNAPSHOT, "c2", (job("c"),)))
    assert not view.synced and set(view.jobs) == {"a", "b", "c"}
    view.apply(JobsEvent(SYNCED, "c3"))
    view.apply(JobsEvent(ENTERED, "c4", (job("d"),), "d"))
    view.apply(JobsEvent(CHANGED, "c5", (job("a", JobStatus.RUNNING),), "a"))
    view.apply(JobsEvent(LEFT, "c6", (job("b", JobStatus.COMPLETED),), "b"))
    view.apply(JobsEvent(LEFT, "c7", (), "c"))
    view.apply(JobsEvent(LEFT, "c8", (), "never-held"))
    view.apply(JobsEvent(BOOKMARK, "c9"))
    assert view.synced and view.cursor == "c9" and dict(view.jobs) == {"a": job("a", JobStatus.RUNNING), "d": job("d")}
    assert view.counts_by_status() == {JobStatus.RUNNING: 1, JobStatus.PENDING: 1}
    with pytest.raises(TypeError):
        view.jobs["x"] = job("x")  # type: ignore[index]
    view.apply(JobsEvent(RESYNC, "c10"))
    assert (view.synced, view.cursor, dict(view.jobs), view.counts_by_status()) == (False, "c10", {}, {})


