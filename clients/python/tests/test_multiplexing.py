"""Many calls and watches on one connection, the server's stream limit, GoAway and dropped connections."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobSpec, JobStatus, Reason
from jobwire._pb import jobwire_pb2 as pb
from helpers import FAST_BACKOFF, FakeConnection, FakeServer, Server, wait_for

StartServer = Callable[..., Server]
HEALTHY = pb.HealthResponse(status=pb.SERVING_STATUS_SERVING, store="fake").SerializeToString()


def run_threads(count: int, target: Callable[[int], None]) -> None:
    failures: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as failure:  # re-raised below, in the test's thread
            failures.append(failure)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if failures:
        raise failures[0]


def test_a_watch_and_unary_calls_from_many_threads_share_one_connection(client: jobwire.Client) -> None:
    watched = client.configure(JobSpec(type="watched")).job
    received: list[jobwire.WatchEvent] = []
    watcher = threading.Thread(target=lambda: received.extend(client.watch(watched.job_id)))
    watcher.start()
    wait_for(lambda: received, what="the snapshot")
    own_jobs: dict[int, list[str]] = {}

    def work(index: int) -> None:
        mine = own_jobs.setdefault(index, [])
        for step in range(10):
            job = client.configure(JobSpec(type=f"thread-{index}", priority=step)).job
            mine.append(job.job_id)
            assert client.get_metadata(job.job_id) == job
            client.update(watched.job_id, log_lines=[f"{index}:{step}"])
        assert [found.job_id for found in client.list_jobs(type=f"thread-{index}")] == mine[::-1]

    run_threads(8, work)
    client.update(watched.job_id, status=JobStatus.CANCELLED)
    watcher.join(10)
    assert [event.revision for event in received] == list(range(1, 83)), "1 + 80 log updates + the end, in order"
    lines = sorted(line for event in received for line in event.new_log_lines)
    assert lines == sorted(f"{index}:{step}" for index in range(8) for step in range(10))
    stats = client.stats()
    assert stats.connections == 1 and client.connections_opened == 1


def test_the_client_keeps_to_the_servers_stream_limit(start_server: StartServer) -> None:
    server = start_server("--max-streams-per-connection", "2")
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id)
    next(events)  # one of the two streams is held by the watch
    results: list[jobwire.Job] = []
    run_threads(6, lambda index: results.extend(client.get_metadata(job.job_id) for _ in range(10)))
    assert len(results) == 60 and client.connections_opened == 1
    stats = client.stats()
    get = next(method for method in stats.methods if method.method.endswith("/GetMetadata"))
    assert (get.calls, get.errors) == (60, 0), "no call was refused with TOO_MANY_STREAMS"
    second = client.watch(job.job_id)
    next(second)  # both streams are in use now: a call waits for one, until its deadline
    with pytest.raises(jobwire.DeadlineExceeded) as caught:
        client.health(timeout=0.3)
    assert caught.value.reason == Reason.DEADLINE_EXCEEDED
    second.close()
    assert client.health().status is jobwire.ServingStatus.SERVING
    events.close()


def test_calls_above_a_goaways_last_stream_id_are_sent_again_on_a_new_connection() -> None:
    lock = threading.Lock()

    def script(connection: FakeConnection, frame: pb.Frame) -> None:
        if frame.WhichOneof("kind") != "call":
            return
        if connection.index > 0:
            connection.reply(frame.call.stream_id, HEALTHY)
            return
        with lock:
            calls = connection.calls()
            if len(calls) < 2:
                return
            # Two calls in flight: accept the first, drain, answer it, close.
            first, _ = sorted(call.stream_id for call in calls)
            connection.send(pb.Frame(goaway=pb.GoAway(last_stream_id=first, status=pb.Status(
                code=pb.UNAVAILABLE, reason="SERVER_SHUTTING_DOWN", message="draining"))))
            connection.reply(first, HEALTHY)
            connection.close()

    fake = FakeServer(script)
    try:
        client = jobwire.Client("127.0.0.1", fake.port, timeout=10, backoff=FAST_BACKOFF)
        client.connect()
        results: list[jobwire.Health] = []
        run_threads(2, lambda index: results.append(client.health()))
        assert [health.store for health in results] == ["fake", "fake"]
        assert client.connections_opened == 2 and len(fake.connections) == 2
        assert len(fake.connections[0].calls()) == 2 and len(fake.connections[1].calls()) == 1
    finally:
        fake.close()


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_dropped_connection_resends_only_idempotent_calls(idempotent: bool) -> None:
    job = pb.Job(job_id="3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", status=pb.JOB_STATUS_RUNNING, revision=2)

    def script(connection: FakeConnection, frame: pb.Frame) -> None:
        if frame.WhichOneof("kind") != "call":
            return
        if connection.index == 0:
            connection.close()  # the outcome of the call is unknown to the client
        else:
            connection.reply(frame.call.stream_id, job.SerializeToString())

    fake = FakeServer(script)
    try:
        client = jobwire.Client("127.0.0.1", fake.port, timeout=10, backoff=FAST_BACKOFF)
        if idempotent:
            assert client.get_metadata(job.job_id).revision == 2
            assert [len(connection.calls()) for connection in fake.connections] == [1, 1]
        else:
            with pytest.raises(jobwire.Unavailable) as caught:
                client.update(job.job_id, progress=1.0)
            assert caught.value.reason == Reason.CONNECTION_LOST
            assert [len(connection.calls()) for connection in fake.connections] == [1], "an update is never resent"
    finally:
        fake.close()


def test_a_watch_resumes_when_its_connection_drops(server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id)
    next(events)
    client._manager._current.close()  # type: ignore[union-attr]  # as if the network dropped it
    client.update(job.job_id, progress=10.0)
    change = next(events)
    assert change.kind is jobwire.EventKind.CHANGE and change.revision == 2 and client.connections_opened == 2
