"""WatchJobs on the asyncio client: the main cases of test_watch_jobs.py (each test runs its own event loop)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

import jobwire
import jobwire.aio
from jobwire import JobsEvent, JobsEventType, JobSpec, JobStatus, JobsView, Reason
from jobwire._pb import jobwire_pb2 as pb
from helpers import FAST_BACKOFF, Server, wait_for
from jobwire._rpc import WATCH_JOBS
from helpers import EXPECTED_FILTER, FILTERS, QUICK_BOOKMARKS, scripted_watch_server

StartServer = Callable[..., Server]
AsyncEvents = AsyncIterator[JobsEvent]
SNAPSHOT, SYNCED, ENTERED, CHANGED, LEFT, RESYNC, BOOKMARK = (
    JobsEventType.SNAPSHOT, JobsEventType.SYNCED, JobsEventType.ENTERED, JobsEventType.CHANGED, JobsEventType.LEFT,
    JobsEventType.RESYNC, JobsEventType.BOOKMARK)


@pytest.fixture
def server(start_server: StartServer) -> Server:
    """A development-mode server with an SQLite store and quick bookmarks (overrides conftest's)."""
    return start_server(*QUICK_BOOKMARKS)


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 40))


async def take(events: AsyncEvents, count: int = 1) -> list[JobsEvent]:
    """The next `count` events other than BOOKMARKs; fails after 10 s without one."""
    taken: list[JobsEvent] = []
    async with asyncio.timeout(10):
        while len(taken) < count:
            event = await anext(events)
            if event.type is not BOOKMARK:
                taken.append(event)
    return taken


async def one(events: AsyncEvents) -> JobsEvent:
    return (await take(events))[0]


async def until_synced(events: AsyncEvents, view: JobsView | None = None) -> list[JobsEvent]:
    """The events up to the next SYNCED (consumed, not returned), each applied to `view` when given."""
    before: list[JobsEvent] = []
    while (event := await one(events)).type is not SYNCED:
        before.append(event)
        if view is not None:
            view.apply(event)
    if view is not None:
        view.apply(event)
    return before


async def listed(client: jobwire.aio.Client, **filters: Any) -> dict[str, jobwire.Job]:
    return {job.job_id: job async for job in client.list_jobs(**filters)}


def test_snapshot_pages_then_live_events(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            running = [await client.update((await client.configure(JobSpec(type="a"))).job.job_id,
                                           status=JobStatus.RUNNING) for _ in range(5)]
            await client.configure(JobSpec(type="a"))  # PENDING: not in the filter
            events = client.watch_jobs(statuses=[JobStatus.RUNNING], page_size=2)
            first = await take(events, 4)
            assert [(e.type, len(e.jobs)) for e in first] == [(SNAPSHOT, 2), (SNAPSHOT, 2), (SNAPSHOT, 1), (SYNCED, 0)]
            assert [job for event in first for job in event.jobs] == running

            job = (await client.configure(JobSpec(type="a"))).job
            other = (await client.configure(JobSpec(type="b"))).job
            await client.cancel(other.job_id)  # never matching: no event
            entered_as = await client.update(job.job_id, status=JobStatus.RUNNING)
            changed_to = await client.update(job.job_id, progress=40.0)
            left_as = await client.update(job.job_id, status=JobStatus.COMPLETED)
            await client.delete(running[0].job_id)
            assert [(e.type, e.job_id, e.jobs) for e in await take(events, 4)] == [
                (ENTERED, job.job_id, (entered_as,)), (CHANGED, job.job_id, (changed_to,)),
                (LEFT, job.job_id, (left_as,)), (LEFT, running[0].job_id, ())]
            await events.aclose()

    run(main())


def test_resuming_from_a_saved_cursor_after_aclose(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            kept, changed, dropped = [(await client.configure(JobSpec(type="r"))).job for _ in range(3)]
            view = JobsView()
            events = client.watch_jobs(type="r")
            await until_synced(events, view)
            await events.aclose()
            latest = await client.update(changed.job_id, progress=60.0)
            await client.delete(dropped.job_id)
            created = (await client.configure(JobSpec(type="r"))).job
            resumed = client.watch_jobs(type="r", cursor=view.cursor)
            catch_up = await until_synced(resumed, view)
            assert sorted((e.type, e.job_id, e.jobs) for e in catch_up) == sorted([
                (CHANGED, changed.job_id, (latest,)), (LEFT, dropped.job_id, ()),
                (CHANGED, created.job_id, (created,))]), f"{kept.job_id} did not change: not sent again"
            assert dict(view.jobs) == await listed(client, type="r")
            await resumed.aclose()

    run(main())


def test_the_watch_resumes_by_itself_across_a_drain_and_the_view_stays_exact(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            jobs = [(await client.configure(JobSpec(type="d"))).job for _ in range(4)]
            view = JobsView()
            events = client.watch_jobs(statuses=[JobStatus.PENDING, JobStatus.RUNNING])
            await until_synced(events, view)
            await asyncio.to_thread(server.restart)
            await client.health()  # reconnects before the (never resent) updates
            await client.update(jobs[0].job_id, status=JobStatus.RUNNING)
            await client.cancel(jobs[1].job_id)
            await client.configure(JobSpec(type="d"))
            catch_up = await until_synced(events, view)
            assert RESYNC not in {event.type for event in catch_up} and len(catch_up) == 3
            assert dict(view.jobs) == await listed(client, statuses=[JobStatus.PENDING, JobStatus.RUNNING])
            await client.update(jobs[2].job_id, progress=5.0)
            view.apply(await one(events))
            assert dict(view.jobs) == await listed(client, statuses=[JobStatus.PENDING, JobStatus.RUNNING])
            assert client.connections_opened == 2
            await events.aclose()

    run(main())


def test_a_memory_store_restart_means_resync_and_a_new_snapshot(start_server: StartServer) -> None:
    server = start_server("--store", "memory", *QUICK_BOOKMARKS)

    async def main() -> None:
        async with server.aclient() as client:
            await client.configure(JobSpec(type="gone"))
            view = JobsView()
            events = client.watch_jobs()
            await until_synced(events, view)
            await asyncio.to_thread(server.restart)
            await client.health()
            new = (await client.configure(JobSpec(type="new"))).job
            resync = await one(events)
            view.apply(resync)
            assert resync.type is RESYNC and view.jobs == {} and not view.synced
            snapshot = await until_synced(events, view)
            assert [event.type for event in snapshot] == [SNAPSHOT] and dict(view.jobs) == {new.job_id: new}
            await events.aclose()

    run(main())


def test_errors_raise_and_cancelling_the_task_frees_the_watch(start_server: StartServer) -> None:
    server = start_server("--max-watches-per-tenant", "1", *QUICK_BOOKMARKS)

    async def main() -> None:
        async with server.aclient() as client:
            with pytest.raises(jobwire.InvalidArgument) as malformed:
                await anext(client.watch_jobs(cursor="not a cursor"))
            assert malformed.value.reason == Reason.INVALID_CURSOR
            synced = asyncio.Event()

            async def follow() -> None:
                async for event in client.watch_jobs():
                    if event.type is SYNCED:
                        synced.set()

            task = asyncio.create_task(follow())
            await synced.wait()
            with pytest.raises(jobwire.ResourceExhausted) as caught:
                await anext(client.watch_jobs())
            assert caught.value.reason == Reason.TOO_MANY_WATCHES
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            again = client.watch_jobs()  # the CancelCall freed the tenant's only watch
            assert await until_synced(again) == []
            await again.aclose()

    run(main())


def test_an_async_pool_of_watching_workers_runs_every_job_once(server: Server) -> None:
    total = 9

    async def work(client: jobwire.aio.Client, name: str, ready: asyncio.Event, runs: list[tuple[str, str]]) -> None:
        view = JobsView()
        seen: set[str] = set()
        async for event in client.watch_jobs(statuses=[JobStatus.PENDING], type="pool"):
            view.apply(event)
            seen.update([job.job_id for job in event.jobs] + ([event.job_id] if event.job_id else []))
            if event.type is SYNCED:
                ready.set()
            for job in list(view.jobs.values()):
                worker = await client.claim_worker(job.job_id, revision=job.revision, lease=30)
                if worker is None:
                    continue
                async with worker:
                    await worker.progress(50.0, task=name)
                runs.append((name, job.job_id))
                break
            if len(seen) == total and view.synced and not view.jobs:
                return

    async def main() -> None:
        async with server.aclient() as creator:
            clients = [server.aclient() for _ in range(3)]
            readies = [asyncio.Event() for _ in clients]
            runs: list[tuple[str, str]] = []
            tasks = [asyncio.create_task(work(c, f"w{n}", readies[n], runs)) for n, c in enumerate(clients)]
            for ready in readies:
                await ready.wait()
            ids = [(await creator.configure(JobSpec(type="pool"))).job.job_id for _ in range(total)]
            await asyncio.gather(*tasks)
            assert sorted(job_id for _, job_id in runs) == sorted(ids), "every job once, none twice"
            for name, job_id in runs:
                job = await creator.get_metadata(job_id)
                assert job.status is JobStatus.COMPLETED and job.current_task == name
            for each in clients:
                await each.close()

    run(main())


def test_the_async_generator_resumes_with_the_last_cursor_and_cancels_on_close() -> None:
    fake = scripted_watch_server()

    async def main() -> None:
        async with jobwire.aio.Client("127.0.0.1", fake.port, backoff=FAST_BACKOFF) as client:
            events = client.watch_jobs(**FILTERS)
            received = [await anext(events) for _ in range(4)]
            assert [e.cursor for e in received] == ["c1", "c2", "c3", "c4"]
            await events.aclose()
            calls = [call for connection in fake.connections for call in connection.calls()]
            requests = [pb.WatchJobsRequest.FromString(call.request) for call in calls]
            assert [call.method for call in calls] == [WATCH_JOBS] * 3
            assert [(r.cursor, r.filter) for r in requests] == [(c, EXPECTED_FILTER) for c in ("", "c2", "c3")]
            last = fake.connections[-1]
            await asyncio.to_thread(wait_for, lambda: last.cancels() == [calls[-1].stream_id], 5, 0.01,
                                    "the CancelCall")

    try:
        run(main())
    finally:
        fake.close()
