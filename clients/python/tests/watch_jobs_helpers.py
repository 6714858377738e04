"""WatchJobs test helpers: a scripted fake server, the filters every client sends, and readers of event streams."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jobwire
from jobwire._pb import jobwire_pb2 as pb

from raw_helpers import FakeConnection, FakeServer


#: Idle watches get a bookmark this often, which bounds how long a test waits for an event that never comes.
QUICK_BOOKMARKS = ("--bookmark-interval", "200ms")


def fake_event(kind: jobwire.JobsEventType, cursor: str, job_id: str = "") -> bytes:
    """An encoded ``JobsEvent``, with a RUNNING job when `job_id` is given."""
    jobs = [pb.Job(job_id=job_id, status=pb.JOB_STATUS_RUNNING)] if job_id else []
    return pb.JobsEvent(type=int(kind), cursor=cursor, job_id=job_id, jobs=jobs).SerializeToString()


def scripted_watch_server() -> FakeServer:
    """A fake server whose first WatchJobs call gets two events and ends as a draining server's does, whose second
    gets one event and loses its connection, and whose later ones get a BOOKMARK: what resuming must survive."""

    def answer(connection: FakeConnection, frame: pb.Frame) -> None:
        if frame.WhichOneof("kind") != "call":
            return
        stream_id = frame.call.stream_id
        number = sum(len(each.calls()) for each in fake.connections)

        def reply(message: bytes) -> None:
            connection.send(pb.Frame(reply=pb.Reply(stream_id=stream_id, message=message)))

        if number == 1:
            reply(fake_event(jobwire.JobsEventType.SNAPSHOT, "c1", "j1"))
            reply(fake_event(jobwire.JobsEventType.SYNCED, "c2"))
            connection.send(pb.Frame(end=pb.End(stream_id=stream_id, status=pb.Status(
                code=pb.UNAVAILABLE, reason=jobwire.Reason.SERVER_SHUTTING_DOWN))))
        elif number == 2:
            reply(fake_event(jobwire.JobsEventType.CHANGED, "c3", "j1"))
            connection.close()
        else:
            reply(fake_event(jobwire.JobsEventType.BOOKMARK, "c4"))

    fake = FakeServer(answer)
    return fake


#: Every filter of watch_jobs, and the request's filter they make.
FILTERS: dict[str, Any] = {"statuses": [jobwire.JobStatus.RUNNING], "type": "t", "labels": {"k": "v"},
                           "created_after_ms": 5, "created_before_ms": 9, "priority": (1, 2), "query": "q",
                           "page_size": 7}
EXPECTED_FILTER = pb.ListJobsRequest(statuses=[pb.JOB_STATUS_RUNNING], type="t", labels={"k": "v"},
                                     created_after_ms=5, created_before_ms=9, priority=pb.PriorityRange(min=1, max=2),
                                     query="q", page_size=7)


def take_events(events: Iterator[jobwire.JobsEvent], count: int = 1) -> list[jobwire.JobsEvent]:
    """The next `count` events of a ``watch_jobs`` other than BOOKMARKs; fails after 10 s without one (with quick
    bookmarks, a missing event fails the test instead of blocking it)."""
    taken: list[jobwire.JobsEvent] = []
    deadline = time.monotonic() + 10
    while len(taken) < count:
        event = next(events)
        if event.type is not jobwire.JobsEventType.BOOKMARK:
            taken.append(event)
        elif time.monotonic() > deadline:
            raise AssertionError(f"no further event after {taken}")
    return taken


def next_event(events: Iterator[jobwire.JobsEvent]) -> jobwire.JobsEvent:
    """The next event other than a BOOKMARK."""
    return take_events(events)[0]


def until_synced(events: Iterator[jobwire.JobsEvent], view: jobwire.JobsView | None = None) -> list[jobwire.JobsEvent]:
    """The events up to the next SYNCED (consumed, not returned), each applied to `view` when given."""
    before: list[jobwire.JobsEvent] = []
    while (event := next_event(events)).type is not jobwire.JobsEventType.SYNCED:
        before.append(event)
        if view is not None:
            view.apply(event)
    if view is not None:
        view.apply(event)
    return before


def snapshot_jobs(events: list[jobwire.JobsEvent]) -> list[jobwire.Job]:
    """The jobs of SNAPSHOT events, in order (failing on any other event)."""
    assert all(event.type is jobwire.JobsEventType.SNAPSHOT for event in events), events
    return [job for event in events for job in event.jobs]


def listed(client: jobwire.Client, **filters: Any) -> dict[str, jobwire.Job]:
    """What ListJobs says matches, by id: what a synced JobsView must hold."""
    return {job.job_id: job for job in client.list_jobs(**filters)}
