"""WatchJobs through the blocking client against the real server: the snapshot in pages, live ENTERED / CHANGED /
LEFT, resuming from a cursor (by hand, across drains and restarts), RESYNC, errors, limits, and the client's resume
rules against a scripted server. test_watch_jobs_views.py checks JobsView against ListJobs.

Servers here send a BOOKMARK every 200 ms to an idle watch, so a missing event fails a test within seconds instead of
blocking it: ``take_events`` skips bookmarks and gives up after 10 s of nothing else.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobsEventType, JobSpec, JobStatus, JobsView, Reason
from jobwire._pb import jobwire_pb2 as pb
from jobwire._rpc import WATCH_JOBS
from conftest import Keyring
from helpers import (EXPECTED_FILTER, FAST_BACKOFF, FILTERS, QUICK_BOOKMARKS, FakeConnection, FakeServer, Server,
                     listed, next_event, scripted_watch_server, snapshot_jobs, status_of, take_events, until_synced,
                     wait_for)

StartServer = Callable[..., Server]
SNAPSHOT, SYNCED, ENTERED, CHANGED, LEFT, RESYNC, BOOKMARK = (
    JobsEventType.SNAPSHOT, JobsEventType.SYNCED, JobsEventType.ENTERED, JobsEventType.CHANGED, JobsEventType.LEFT,
    JobsEventType.RESYNC, JobsEventType.BOOKMARK)


@pytest.fixture
def server(start_server: StartServer) -> Server:
    """A development-mode server with an SQLite store and quick bookmarks (overrides conftest's)."""
    return start_server(*QUICK_BOOKMARKS)


def test_the_snapshot_comes_in_pages_in_the_order_of_last_change_then_synced(client: jobwire.Client) -> None:
    running = [client.update(client.configure(JobSpec(type="snap")).job.job_id, status=JobStatus.RUNNING)
               for _ in range(5)]
    for _ in range(3):
        client.configure(JobSpec(type="snap"))  # PENDING: not in the filter
    running[1] = client.update(running[1].job_id, progress=10.0)  # now the latest change
    events = client.watch_jobs(statuses=[JobStatus.RUNNING], page_size=2)
    first = take_events(events, 4)
    assert [(event.type, len(event.jobs)) for event in first] == [(SNAPSHOT, 2), (SNAPSHOT, 2), (SNAPSHOT, 1),
                                                                  (SYNCED, 0)]
    assert all(event.cursor for event in first) and all(event.job_id == "" for event in first)
    assert snapshot_jobs(first[:3]) == [running[0], *running[2:], running[1]], "in the order they last changed"
    assert {job.job_id: job for job in snapshot_jobs(first[:3])} == listed(client, statuses=[JobStatus.RUNNING])
    events.close()

    for text in ("Needle in a haystack", "needles"):
        client.configure(JobSpec(type=text))
    client.configure(JobSpec(type="hay", labels={"where": "a NEEDLE here"}))
    searched = client.watch_jobs(query="needle")  # page_size 0: up to 100 per event, so one page
    pages = until_synced(searched)
    assert len(pages) == 1 and {job.job_id: job for job in snapshot_jobs(pages)} == listed(client, query="needle")
    assert len(pages[0].jobs) == 3
    searched.close()


def test_live_events_enter_change_and_leave_and_others_make_none(client: jobwire.Client) -> None:
    events = client.watch_jobs(statuses=[JobStatus.RUNNING], type="live")
    assert snapshot_jobs(until_synced(events)) == []
    job = client.configure(JobSpec(type="live")).job  # PENDING: not in the filter
    other = client.configure(JobSpec(type="other")).job
    client.update(other.job_id, status=JobStatus.RUNNING)  # RUNNING, but another type
    running = client.update(job.job_id, status=JobStatus.RUNNING)
    entered = next_event(events)
    assert (entered.type, entered.job_id, entered.jobs) == (ENTERED, job.job_id, (running,)) and entered.cursor
    client.update(other.job_id, progress=5.0)
    progressed = client.update(job.job_id, progress=50.0, current_task="encoding")
    changed = next_event(events)
    assert (changed.type, changed.job_id, changed.jobs) == (CHANGED, job.job_id, (progressed,))
    assert changed.cursor not in ("", entered.cursor)
    done = client.update(job.job_id, status=JobStatus.COMPLETED)
    left = next_event(events)
    assert (left.type, left.job_id, left.jobs) == (LEFT, job.job_id, (done,)), "LEFT with the state it left in"
    client.delete(job.job_id)  # no longer matching: nothing
    client.retry(client.cancel(client.configure(JobSpec(type="live")).job.job_id).job_id)
    marker = client.update(client.configure(JobSpec(type="live")).job.job_id, status=JobStatus.RUNNING)
    assert [(e.type, e.job_id) for e in take_events(events, 1)] == [(ENTERED, marker.job_id)]
    events.close()


def test_created_jobs_enter_and_deleted_ones_leave_without_a_job(client: jobwire.Client) -> None:
    events = client.watch_jobs(type="fresh", labels={"team": "a"})
    assert snapshot_jobs(until_synced(events)) == []
    client.configure(JobSpec(type="fresh", labels={"team": "b"}))
    created = client.configure(JobSpec(type="fresh", labels={"team": "a", "x": "y"})).job
    entered = next_event(events)
    assert (entered.type, entered.job_id, entered.jobs) == (ENTERED, created.job_id, (created,))
    prioritized = client.set_priority(created.job_id, 7)
    assert [(e.type, e.jobs) for e in take_events(events, 1)] == [(CHANGED, (prioritized,))]
    client.delete(created.job_id)
    gone = next_event(events)
    assert (gone.type, gone.job_id, gone.jobs) == (LEFT, created.job_id, ()), "deleted: LEFT without a job"
    logged = client.update(client.configure(JobSpec(type="fresh", labels={"team": "a"})).job.job_id,
                           log_lines=["one", "two"])
    [_, with_logs] = take_events(events, 2)
    assert with_logs.jobs[0].log_tail == () and with_logs.jobs[0].log_line_count == 2, "events carry no log lines"
    assert with_logs.jobs[0].revision == logged.revision
    events.close()


def test_resuming_from_a_saved_cursor_sends_what_changed_meanwhile_once_then_synced(client: jobwire.Client) -> None:
    live = [JobStatus.PENDING, JobStatus.RUNNING]
    a, b, c, g = (client.configure(JobSpec(type="resume")).job for _ in range(4))
    view = JobsView()
    events = client.watch_jobs(statuses=live, type="resume")
    until_synced(events, view)
    assert set(view.jobs) == {a.job_id, b.job_id, c.job_id, g.job_id} and view.synced
    client.update(a.job_id, status=JobStatus.RUNNING)
    view.apply(next_event(events))
    saved = view.cursor
    events.close()

    client.update(a.job_id, progress=10.0)
    a3 = client.update(a.job_id, progress=20.0)
    client.update(b.job_id, status=JobStatus.RUNNING)
    b3 = client.update(b.job_id, status=JobStatus.COMPLETED)
    client.delete(c.job_id)
    d = client.configure(JobSpec(type="resume")).job
    e = client.cancel(client.configure(JobSpec(type="resume")).job.job_id)
    f = client.configure(JobSpec(type="elsewhere")).job

    resumed = client.watch_jobs(statuses=live, type="resume", cursor=saved)
    catch_up = until_synced(resumed, view)
    ids = [event.job_id for event in catch_up]
    assert len(ids) == len(set(ids)), f"one event per changed job: {catch_up}"
    by_id = {event.job_id: (event.type, event.jobs) for event in catch_up}
    # Changed since the cursor and not matching, never held: the server may name them (LEFT) or not.
    assert by_id.pop(e.job_id, (LEFT, (e,))) == (LEFT, (e,))  # created and cancelled meanwhile
    assert by_id.pop(f.job_id, (LEFT, (f,))) in ((LEFT, ()), (LEFT, (f,)))  # another type
    assert by_id == {
        a.job_id: (CHANGED, (a3,)),  # changed twice: its latest state once
        b.job_id: (LEFT, (b3,)),  # changed out of the filter
        c.job_id: (LEFT, ()),  # deleted
        d.job_id: (CHANGED, (d,)),  # created meanwhile: CHANGED, held or not
    }, "g did not change: nothing from before the cursor comes again"
    assert view.synced and dict(view.jobs) == listed(client, statuses=live, type="resume")
    touched = client.update(g.job_id, progress=1.0)
    assert [(event.type, event.jobs) for event in take_events(resumed, 1)] == [(CHANGED, (touched,))]
    resumed.close()


def test_resuming_in_the_middle_of_the_snapshot_sends_the_rest(client: jobwire.Client) -> None:
    for _ in range(5):
        client.configure(JobSpec(type="paged"))
    view = JobsView()
    events = client.watch_jobs(type="paged", page_size=1)
    for event in take_events(events, 2):
        assert event.type is SNAPSHOT
        view.apply(event)
    events.close()
    rest = client.watch_jobs(type="paged", cursor=view.cursor)
    catch_up = until_synced(rest, view)
    assert {event.type for event in catch_up} == {CHANGED} and len(catch_up) == 3, catch_up
    assert dict(view.jobs) == listed(client, type="paged")
    rest.close()


def test_the_watch_resumes_by_itself_across_restarts_of_a_durable_server(server: Server) -> None:
    client = server.client()
    jobs = [client.configure(JobSpec(type="durable")).job for _ in range(3)]
    view = JobsView()
    events = client.watch_jobs(type="durable")
    until_synced(events, view)
    client.update(jobs[0].job_id, progress=1.0)
    view.apply(next_event(events))

    server.restart()  # drains: the watch ends with UNAVAILABLE / SERVER_SHUTTING_DOWN
    client.health()  # reconnects first: an update is never resent after a lost connection
    running = client.update(jobs[0].job_id, status=JobStatus.RUNNING)
    client.delete(jobs[1].job_id)
    created = client.configure(JobSpec(type="durable")).job
    catch_up = until_synced(events, view)  # the generator resumed from its last cursor
    assert sorted((e.type, e.job_id, e.jobs) for e in catch_up) == sorted([
        (CHANGED, jobs[0].job_id, (running,)), (LEFT, jobs[1].job_id, ()), (CHANGED, created.job_id, (created,))])
    assert dict(view.jobs) == listed(client, type="durable")

    server.restart(graceful=False)  # SIGKILL: the connection vanishes
    client.get_metadata(jobs[0].job_id)  # reconnects first: an update is never resent after a lost connection
    finished = client.update(jobs[0].job_id, status=JobStatus.COMPLETED)
    assert [(e.type, e.job_id, e.jobs) for e in until_synced(events, view)] == [
        (CHANGED, jobs[0].job_id, (finished,))]
    later = client.update(jobs[2].job_id, progress=3.0)
    event = next_event(events)
    view.apply(event)
    assert (event.type, event.jobs) == (CHANGED, (later,)) and dict(view.jobs) == listed(client, type="durable")
    assert client.connections_opened == 3
    events.close()

    server.restart()
    again = client.watch_jobs(type="durable", cursor=view.cursor)  # a saved cursor outlives the process too
    assert until_synced(again) == [], "nothing changed since: no RESYNC, no repeat"
    again.close()


def test_a_memory_store_restart_or_another_server_means_resync_and_a_new_snapshot(
        start_server: StartServer) -> None:
    server = start_server("--store", "memory", *QUICK_BOOKMARKS)
    client = server.client()
    client.configure(JobSpec(type="lost"))
    view = JobsView()
    events = client.watch_jobs()
    until_synced(events, view)
    assert len(view.jobs) == 1
    stale = view.cursor

    server.restart()  # every job and the history are gone
    client.health()
    kept = [client.configure(JobSpec(type="new")).job for _ in range(3)]
    resync = next_event(events)
    view.apply(resync)
    assert resync.type is RESYNC and resync.jobs == () and not view.synced and view.jobs == {}
    snapshot = until_synced(events, view)
    assert sorted(job.job_id for job in snapshot_jobs(snapshot)) == sorted(job.job_id for job in kept)
    assert view.synced and dict(view.jobs) == listed(client)
    events.close()

    fresh = client.watch_jobs(cursor=stale)
    assert next_event(fresh).type is RESYNC and len(snapshot_jobs(until_synced(fresh))) == 3
    fresh.close()
    elsewhere = start_server(*QUICK_BOOKMARKS).client()  # another server, another (SQLite) store
    elsewhere.configure(JobSpec(type="there"))
    foreign = elsewhere.watch_jobs(cursor=view.cursor)
    assert next_event(foreign).type is RESYNC and [j.type for j in snapshot_jobs(until_synced(foreign))] == ["there"]
    foreign.close()


def test_malformed_cursor_and_listing_fields_are_refused(client: jobwire.Client, server: Server,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for cursor in ("not a cursor", "\u00e9" * 10):
        with pytest.raises(jobwire.InvalidArgument) as caught:
            next(client.watch_jobs(cursor=cursor))
        assert caught.value.reason == Reason.INVALID_CURSOR, cursor
    with pytest.raises(jobwire.InvalidArgument) as too_big:
        next(client.watch_jobs(page_size=501))
    assert too_big.value.reason == Reason.VALUE_OUT_OF_RANGE

    for fields in ({"page_token": "x"}, {"order_by": pb.JOB_ORDER_PRIORITY}, {"ascending": True}):
        raw = server.raw()
        request = pb.WatchJobsRequest(filter=pb.ListJobsRequest(**fields))
        raw.call(1, WATCH_JOBS, request.SerializeToString())
        assert status_of(raw.end_of(1)) == ("INVALID_ARGUMENT", "FIELD_NOT_ALLOWED"), fields

    # Through the client: the error is final, raised, not retried.
    original = jobwire._rpc.watch_jobs_request

    def with_token(filters: jobwire._rpc.ListFilter, page_size: int, cursor: str) -> bytes:
        request = pb.WatchJobsRequest.FromString(original(filters, page_size, cursor))
        request.filter.page_token = "token"
        return request.SerializeToString()

    monkeypatch.setattr(jobwire._rpc, "watch_jobs_request", with_token)
    with pytest.raises(jobwire.InvalidArgument) as refused:
        next(client.watch_jobs())
    assert refused.value.reason == Reason.FIELD_NOT_ALLOWED and client.connections_opened == 1


def test_bookmarks_carry_a_cursor_to_resume_from(start_server: StartServer) -> None:
    client = start_server("--bookmark-interval", "100ms").client()
    client.configure(JobSpec(type="idle"))
    view = JobsView()
    events = client.watch_jobs()
    until_synced(events, view)
    bookmark = next(events)
    assert (bookmark.type, bookmark.jobs, bookmark.job_id) == (BOOKMARK, (), "") and bookmark.cursor
    view.apply(bookmark)
    assert view.cursor == bookmark.cursor and view.synced and len(view.jobs) == 1
    events.close()
    created = client.configure(JobSpec(type="later")).job
    resumed = client.watch_jobs(cursor=bookmark.cursor)
    assert [(e.type, e.jobs) for e in until_synced(resumed)] == [(CHANGED, (created,))]
    resumed.close()


def test_closing_the_generator_cancels_the_call_and_limits_raise(start_server: StartServer) -> None:
    server = start_server("--max-watches-per-tenant", "1", *QUICK_BOOKMARKS)
    client = server.client()
    events = client.watch_jobs()
    until_synced(events)
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        next(client.watch_jobs(type="second"))
    assert caught.value.reason == Reason.TOO_MANY_WATCHES
    events.close()  # CancelCall frees the tenant's only watch
    again = client.watch_jobs()
    assert until_synced(again) == []
    again.close()

    started = time.monotonic()
    with pytest.raises(jobwire.DeadlineExceeded):
        for _ in client.watch_jobs(timeout=0.5):
            pass
    assert 0.4 <= time.monotonic() - started < 3


def test_a_tenant_watches_only_its_own_jobs(keyed_server: Server, keyring: Keyring) -> None:
    acme = keyed_server.client(keyring["acme-client"])
    globex = keyed_server.client(keyring["globex-worker"])
    mine = acme.configure(JobSpec(type="t")).job
    globex.configure(JobSpec(type="t"))
    reader = keyed_server.client(keyring["acme-reader"])
    events = reader.watch_jobs()
    assert snapshot_jobs(until_synced(events)) == [mine]
    globex.configure(JobSpec(type="t"))
    created = acme.configure(JobSpec(type="t")).job
    assert [(e.type, e.job_id) for e in take_events(events, 1)] == [(ENTERED, created.job_id)]
    events.close()


def test_the_generator_resumes_with_the_last_cursor_it_yielded_and_cancels_on_close() -> None:
    fake = scripted_watch_server()
    try:
        client = jobwire.Client("127.0.0.1", fake.port, backoff=FAST_BACKOFF)
        events = client.watch_jobs(**FILTERS)
        received = [next(events) for _ in range(4)]
        assert [(e.type, e.cursor, e.job_id) for e in received] == [
            (SNAPSHOT, "c1", "j1"), (SYNCED, "c2", ""), (CHANGED, "c3", "j1"), (BOOKMARK, "c4", "")]
        events.close()
        calls = [call for connection in fake.connections for call in connection.calls()]
        requests = [pb.WatchJobsRequest.FromString(call.request) for call in calls]
        assert [call.method for call in calls] == [WATCH_JOBS] * 3 and {call.timeout_ms for call in calls} == {0}
        assert [request.cursor for request in requests] == ["", "c2", "c3"], "each resume after the last event"
        assert all(request.filter == EXPECTED_FILTER for request in requests)
        last = fake.connections[-1]
        wait_for(lambda: last.cancels() == [calls[-1].stream_id], what="the CancelCall")
        client.close()
    finally:
        fake.close()


def test_a_final_error_raises_at_once() -> None:
    def refuse(connection: FakeConnection, frame: pb.Frame) -> None:
        if frame.WhichOneof("kind") == "call":
            connection.send(pb.Frame(end=pb.End(stream_id=frame.call.stream_id, status=pb.Status(
                code=pb.INVALID_ARGUMENT, reason=Reason.INVALID_CURSOR, message="not a cursor"))))

    fake = FakeServer(refuse)
    try:
        client = jobwire.Client("127.0.0.1", fake.port, backoff=FAST_BACKOFF)
        with pytest.raises(jobwire.InvalidArgument) as caught:
            next(client.watch_jobs(cursor="x"))
        assert caught.value.reason == Reason.INVALID_CURSOR and len(fake.connections[0].calls()) == 1
        client.close()
    finally:
        fake.close()
