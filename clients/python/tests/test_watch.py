"""WatchJob through the client: resume across restarts without gap or duplicate, RESYNC, bookmarks."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import EventKind, JobSpec, JobStatus, Reason
from helpers import Server, wait_for

StartServer = Callable[..., Server]
#: Every event of such a job is larger than the 256 KiB of history the server keeps per job.
BIG = JobSpec(type="big", frequencies_list=tuple(float(n) for n in range(40_000)))


def test_a_watch_survives_a_drain_and_a_kill_with_no_gap_and_no_duplicate(server: Server) -> None:
    worker = server.client()
    watcher = server.client()
    job = worker.configure(JobSpec(type="t")).job
    received: list[jobwire.WatchEvent] = []
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            received.extend(watcher.watch(job.job_id, log_tail=5))
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)

    thread = threading.Thread(target=follow)
    thread.start()
    wait_for(lambda: received, what="the snapshot")
    worker.update(job.job_id, status=JobStatus.RUNNING)
    for step in range(1, 6):
        worker.update(job.job_id, progress=float(step), log_lines=[f"step {step}"])
    wait_for(lambda: received[-1].revision >= 7, what="revision 7")

    assert server.stop() == 0  # GoAway; the watch ends with UNAVAILABLE / SERVER_SHUTTING_DOWN
    server.start()  # the same port and data directory
    for step in range(6, 11):
        worker.update(job.job_id, progress=float(step), log_lines=[f"step {step}"])
    wait_for(lambda: received[-1].revision >= 12, what="revision 12")

    server.kill()  # no GoAway: the connections just vanish
    server.start()
    worker.get_metadata(job.job_id)  # reconnects first: an update is never resent after a lost connection
    worker.update(job.job_id, status=JobStatus.COMPLETED, progress=100.0)
    thread.join(15)
    assert not thread.is_alive() and failures == []
    assert [event.revision for event in received] == list(range(1, 14)), "every revision once, in order"
    assert received[0].kind is EventKind.SNAPSHOT and all(e.kind is EventKind.CHANGE for e in received[1:])
    assert [line for event in received for line in event.new_log_lines] == [f"step {n}" for n in range(1, 11)]
    assert received[-1].job is not None and received[-1].job.status is JobStatus.COMPLETED
    assert watcher.connections_opened == 3


def test_a_resume_point_the_server_no_longer_has_yields_a_resync(server: Server) -> None:
    client = server.client()
    job = client.configure(BIG).job
    events = client.watch(job.job_id)
    assert next(events).revision == 1
    # The consumer is not reading: the stream notices the restart only at the next next().
    server.stop()
    server.start()
    client.update(job.job_id, status=JobStatus.RUNNING)
    current = client.update(job.job_id, progress=50.0)
    resync = next(events)
    assert resync.kind is EventKind.RESYNC and resync.revision == 3 and resync.job == current
    client.update(job.job_id, status=JobStatus.COMPLETED)
    assert [(event.kind, event.revision) for event in events] == [(EventKind.CHANGE, 4)]


def test_resuming_after_a_revision_still_in_history_replays_it(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    for step in range(1, 4):
        client.update(job.job_id, progress=float(step))
    events = client.watch(job.job_id, after_revision=2)
    assert [(e.kind, e.revision) for e in (next(events), next(events))] == [(EventKind.CHANGE, 3),
                                                                         (EventKind.CHANGE, 4)]
    events.close()


def test_a_revision_the_job_never_had_yields_a_resync(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    current = client.update(job.job_id, progress=5.0)
    events = client.watch(job.job_id, after_revision=1000)
    first = next(events)
    assert first.kind is EventKind.RESYNC and first.revision == current.revision and first.job == current
    client.update(job.job_id, progress=6.0)
    assert next(events).revision == current.revision + 1, "the watch continues from the resync's revision"
    events.close()


def test_watching_a_terminal_job_sends_its_state_and_ends(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    done = client.cancel(job.job_id)
    assert [(e.kind, e.job) for e in client.watch(job.job_id)] == [(EventKind.SNAPSHOT, done)]
    assert list(client.watch(job.job_id, after_revision=done.revision)) == []


def test_log_tail_comes_with_the_snapshot(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    client.update(job.job_id, log_lines=["a", "b", "c"])
    snapshot = next(client.watch(job.job_id, log_tail=2))
    assert snapshot.job is not None and snapshot.job.log_tail == ("b", "c")


def test_bookmarks_on_idle_watches(start_server: StartServer) -> None:
    client = start_server("--bookmark-interval", "100ms").client()
    job = client.configure(JobSpec(type="t")).job
    with_bookmarks = client.watch(job.job_id, include_bookmarks=True)
    assert next(with_bookmarks).kind is EventKind.SNAPSHOT
    bookmark = next(with_bookmarks)
    assert bookmark.kind is EventKind.BOOKMARK and bookmark.revision == 1 and bookmark.job is None
    with_bookmarks.close()
    quiet = client.watch(job.job_id)
    assert next(quiet).kind is EventKind.SNAPSHOT
    time.sleep(0.35)  # lets the server send bookmarks, which this watch does not yield
    client.update(job.job_id, progress=1.0)
    change = next(quiet)
    assert change.kind is EventKind.CHANGE and change.revision == 2
    quiet.close()


def test_a_watch_gives_up_after_its_reconnect_window(server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id, reconnect_timeout=0.5)
    next(events)
    server.kill()
    started = time.monotonic()
    with pytest.raises(jobwire.DeadlineExceeded) as caught:
        next(events)
    assert caught.value.reason == Reason.CONNECT_FAILED
    assert 0.4 <= time.monotonic() - started < 5
