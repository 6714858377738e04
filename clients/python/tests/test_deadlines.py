"""Deadlines: what the client sends, how it times out locally, and the server's DEADLINE_EXCEEDED."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobSpec, Reason, StatusCode
from jobwire._pb import jobwire_pb2 as pb
from helpers import FAST_BACKOFF, FakeConnection, FakeServer, Server, wait_for

StartServer = Callable[..., Server]


def test_a_call_sends_its_deadline_and_cancels_on_the_wire_when_it_passes() -> None:
    fake = FakeServer()  # answers nothing
    try:
        client = jobwire.Client("127.0.0.1", fake.port, timeout=10, backoff=FAST_BACKOFF)
        started = time.monotonic()
        with pytest.raises(jobwire.DeadlineExceeded) as caught:
            client.get_metadata("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", timeout=0.3)
        elapsed = time.monotonic() - started
        assert caught.value.code is StatusCode.DEADLINE_EXCEEDED and caught.value.reason == Reason.DEADLINE_EXCEEDED
        assert 0.3 <= elapsed < 2
        connection = fake.connections[0]
        [call] = connection.calls()
        assert call.method == "/jobwire.v1.JobService/GetMetadata" and 100 <= call.timeout_ms <= 300
        wait_for(lambda: connection.cancels() == [call.stream_id], what="the CancelCall")
        client.close()
    finally:
        fake.close()


def test_closing_the_client_ends_a_call_in_progress() -> None:
    fake = FakeServer()
    try:
        client = jobwire.Client("127.0.0.1", fake.port, timeout=None, backoff=FAST_BACKOFF)
        client.connect()
        failure: list[BaseException] = []

        def call() -> None:
            try:
                client.health()
            except BaseException as error:
                failure.append(error)

        thread = threading.Thread(target=call)
        thread.start()
        connection = fake.connections[0]
        [health] = wait_for(connection.calls, what="the call")
        assert health.timeout_ms == 0, "no deadline: timeout_ms 0"
        client.close()
        thread.join(5)
        assert isinstance(failure[0], jobwire.Cancelled) and failure[0].reason == Reason.CANCELLED
    finally:
        fake.close()


def test_closing_a_watch_generator_cancels_the_call_on_the_wire() -> None:
    snapshot = pb.WatchEvent(type=pb.WATCH_EVENT_TYPE_SNAPSHOT, revision=1,
                             job=pb.Job(job_id="j", status=pb.JOB_STATUS_PENDING))

    def answer(connection: FakeConnection, frame: pb.Frame) -> None:
        if frame.WhichOneof("kind") == "call":
            connection.send(pb.Frame(reply=pb.Reply(stream_id=frame.call.stream_id,
                                                    message=snapshot.SerializeToString())))

    fake = FakeServer(answer)
    try:
        client = jobwire.Client("127.0.0.1", fake.port, backoff=FAST_BACKOFF)
        events = client.watch("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b")
        first = next(events)
        assert first.kind is jobwire.EventKind.SNAPSHOT and first.job is not None and first.job.job_id == "j"
        connection = fake.connections[0]
        [call] = connection.calls()
        assert call.method.endswith("/WatchJob") and call.timeout_ms == 0
        events.close()
        wait_for(lambda: connection.cancels() == [call.stream_id], what="the CancelCall")
        client.close()
    finally:
        fake.close()


def test_a_watch_deadline_is_enforced_by_the_server(client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id, timeout=0.3)
    assert next(events).kind is jobwire.EventKind.SNAPSHOT
    started = time.monotonic()
    with pytest.raises(jobwire.DeadlineExceeded) as caught:
        next(events)
    assert caught.value.reason == Reason.DEADLINE_EXCEEDED and time.monotonic() - started < 2
    watch = next(m for m in client.stats().methods if m.method.endswith("/WatchJob"))
    assert watch.errors == 1, "the server ended the watch (End DEADLINE_EXCEEDED), not only the client"


def test_an_unreachable_server_fails_at_the_deadline() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once it is closed
    client = jobwire.Client("127.0.0.1", port, timeout=0.5, backoff=FAST_BACKOFF)
    started = time.monotonic()
    with pytest.raises(jobwire.DeadlineExceeded) as caught:
        client.health()
    assert caught.value.reason == Reason.CONNECT_FAILED and f"127.0.0.1:{port}" in caught.value.message
    assert 0.45 <= time.monotonic() - started < 3


def test_a_call_waits_for_the_server_to_come_up_within_its_deadline(server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    server.stop()
    result: list[jobwire.Job] = []
    thread = threading.Thread(target=lambda: result.append(client.get_metadata(job.job_id, timeout=10)))
    thread.start()
    time.sleep(0.3)  # the call is now waiting, reconnecting with backoff
    server.start()
    thread.join(10)
    assert result == [job] and client.connections_opened == 2
