"""The asyncio client's main paths against the real server (each test runs its own event loop)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import jobwire
import jobwire.aio
from jobwire import EventKind, JobSpec, JobStatus, Reason, StatusCode
from jobwire._pb import jobwire_pb2 as pb
from helpers import FAST_BACKOFF, UNKNOWN_ID, FakeServer, Server, wait_for

StartServer = Callable[..., Server]


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 30))


def test_every_rpc(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            info = await client.connect()
            assert (info.tenant, info.role) == ("default", "admin")
            created = await client.configure(JobSpec(type="aio", labels={"k": "v"}), request_id="r1")
            job = created.job
            assert created.created and not (await client.configure(JobSpec(type="aio", labels={"k": "v"}),
                                                                   request_id="r1")).created
            assert await client.get_metadata(job.job_id) == job
            [found, missing] = await client.batch_get_metadata([job.job_id, UNKNOWN_ID])
            assert found.job == job and isinstance(missing.error, jobwire.NotFound)
            second = (await client.configure(JobSpec(type="aio"))).job
            assert [j.job_id async for j in client.list_jobs(page_size=1)] == [second.job_id, job.job_id]
            assert (await client.list_page(type="aio", page_size=1)).total_count == 2
            running = await client.update(job.job_id, status=JobStatus.RUNNING, progress=25.0, log_lines=["x"])
            assert running.status is JobStatus.RUNNING and running.log_line_count == 1
            assert (await client.cancel(second.job_id, reason="no")).status is JobStatus.CANCELLED
            assert await client.delete(second.job_id) == 2
            assert (await client.health()).status is jobwire.ServingStatus.SERVING
            stats = await client.stats()
            assert stats.jobs == {JobStatus.RUNNING: 1} and stats.connections == 1
            with pytest.raises(jobwire.InvalidArgument) as caught:
                await client.get_metadata("nope")
            assert caught.value.code is StatusCode.INVALID_ARGUMENT and caught.value.reason == Reason.INVALID_JOB_ID
            with pytest.raises(jobwire.FailedPrecondition) as illegal:
                await client.update(job.job_id, status=JobStatus.PENDING)
            assert illegal.value.reason == Reason.ILLEGAL_TRANSITION
            assert client.connections_opened == 1

    run(main())


def test_a_watch_and_many_concurrent_calls_share_one_connection(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="watched"))).job

            async def follow() -> list[jobwire.WatchEvent]:
                return [event async for event in client.watch(job.job_id)]

            watching = asyncio.create_task(follow())
            jobs = await asyncio.gather(*(client.configure(JobSpec(type="many", priority=n)) for n in range(50)))
            fetched = await asyncio.gather(*(client.get_metadata(result.job.job_id) for result in jobs))
            assert [f.job_id for f in fetched] == [result.job.job_id for result in jobs]
            for step in range(5):
                await client.update(job.job_id, progress=float(step))
            await client.update(job.job_id, status=JobStatus.CANCELLED)
            events = await watching
            assert [event.revision for event in events] == list(range(1, 8))
            assert events[0].kind is EventKind.SNAPSHOT and (await client.stats()).connections == 1

    run(main())


def test_a_watch_resumes_across_a_server_kill_without_gap_or_duplicate(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as watcher, server.aclient() as worker:
            job = (await worker.configure(JobSpec(type="t"))).job
            events = watcher.watch(job.job_id)
            assert (await anext(events)).revision == 1
            await worker.update(job.job_id, status=JobStatus.RUNNING)
            assert (await anext(events)).revision == 2
            await asyncio.to_thread(server.kill)
            await asyncio.to_thread(server.start)
            await worker.get_metadata(job.job_id)  # reconnects before the (never resent) update
            await worker.update(job.job_id, progress=50.0)
            await worker.update(job.job_id, status=JobStatus.COMPLETED)
            rest = [event async for event in events]
            assert [(event.kind, event.revision) for event in rest] == [(EventKind.CHANGE, 3), (EventKind.CHANGE, 4)]
            assert watcher.connections_opened == 2

    run(main())


def test_cancelling_the_task_cancels_the_watch_on_the_wire(start_server: StartServer) -> None:
    server = start_server("--max-watches-per-tenant", "1")

    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="t"))).job
            first = asyncio.Event()

            async def follow() -> None:
                async for _ in client.watch(job.job_id):
                    first.set()

            task = asyncio.create_task(follow())
            await first.wait()
            with pytest.raises(jobwire.ResourceExhausted) as caught:
                await anext(client.watch(job.job_id))
            assert caught.value.reason == Reason.TOO_MANY_WATCHES
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The CancelCall freed the tenant's only watch slot.
            second = client.watch(job.job_id)
            assert (await anext(second)).kind is EventKind.SNAPSHOT
            await second.aclose()

    run(main())


def test_a_local_deadline_cancels_on_the_wire_and_task_cancellation_too() -> None:
    fake = FakeServer()  # answers nothing

    async def main() -> None:
        async with jobwire.aio.Client("127.0.0.1", fake.port, backoff=FAST_BACKOFF) as client:
            with pytest.raises(jobwire.DeadlineExceeded) as caught:
                await client.health(timeout=0.2)
            assert caught.value.reason == Reason.DEADLINE_EXCEEDED
            call = asyncio.create_task(client.get_metadata(UNKNOWN_ID, timeout=30))
            connection = fake.connections[0]
            await asyncio.to_thread(wait_for, lambda: len(connection.calls()) == 2, 5, 0.01, "the second call")
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            [health, get] = connection.calls()
            assert health.timeout_ms <= 200 and 29_000 < get.timeout_ms <= 30_000
            await asyncio.to_thread(wait_for, lambda: connection.cancels() == [health.stream_id, get.stream_id],
                                    5, 0.01, "both CancelCalls")

    try:
        run(main())
    finally:
        fake.close()


def test_the_async_worker(start_server: StartServer) -> None:
    server = start_server("--reaper-interval", "20ms")

    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="t"))).job
            async with client.worker(job.job_id, lease=0.5, heartbeat_interval=0.1) as worker:
                first_lease = worker.job.lease_expires_at_ms
                await worker.progress(30.0, task="working")
                while (await client.get_metadata(job.job_id)).lease_expires_at_ms < first_lease + 1000:
                    await asyncio.sleep(0.02)
                worker.set_result(b"\x00\x01")
            done = await client.get_metadata(job.job_id)
            assert done.status is JobStatus.COMPLETED and done.result == jobwire.JobResult(
                "application/octet-stream", b"\x00\x01")

            cancelled = (await client.configure(JobSpec(type="t"))).job
            async with client.worker(cancelled.job_id, lease=30) as worker:
                await client.cancel(cancelled.job_id, reason="stop")
                await asyncio.wait_for(worker.cancel_event.wait(), 3)
                worker.check_cancelled()
            assert (await client.get_metadata(cancelled.job_id)).status is JobStatus.CANCELLED

            failing = (await client.configure(JobSpec(type="t"))).job
            with pytest.raises(RuntimeError):
                async with client.worker(failing.job_id, lease=30):
                    raise RuntimeError("boom")
            failed = await client.get_metadata(failing.job_id)
            assert failed.status is JobStatus.FAILED and failed.error is not None
            assert (failed.error.message, failed.error.reason) == ("boom", "RUNTIME_ERROR")

    run(main())


def test_resync_and_unknown_enum_handling_are_shared_with_the_sync_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="t"))).job
            current = await client.update(job.job_id, progress=1.0)
            events = client.watch(job.job_id, after_revision=99)
            first = await anext(events)
            assert first.kind is EventKind.RESYNC and first.job == current
            await events.aclose()
    run(main())
    with pytest.raises(jobwire.InvalidArgument) as caught:
        jobwire._convert.job_from_pb(pb.Job(status=42))  # type: ignore[arg-type]
    assert caught.value.reason == Reason.INVALID_ENUM_VALUE
