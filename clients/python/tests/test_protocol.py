"""The wire contract of docs/PROTOCOL.md, byte by byte: framing, handshake, streams, connection errors.

These tests speak frames by hand (helpers.RawConnection) to send what no
well-behaved client would, and check the exact GoAway or End the server
answers, and that the server keeps serving everyone else.
"""
from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobSpec, Reason
from jobwire._pb import jobwire_pb2 as pb
from helpers import UNKNOWN_ID, Server, status_of, wait_for

GET = "/jobwire.v1.JobService/GetMetadata"
WATCH = "/jobwire.v1.JobService/WatchJob"
HEALTH = "/jobwire.v1.JobService/Health"
StartServer = Callable[..., Server]


def watch_request(job_id: str, after_revision: int = 0) -> bytes:
    return pb.WatchJobRequest(job_id=job_id, after_revision=after_revision).SerializeToString()


def test_hello_gets_the_connections_limits(server: Server) -> None:
    raw = server.raw(hello=False)
    ack = raw.hello(max_frame_bytes=1000).hello_ack
    assert ack.protocol_version == 1 and ack.server_name.startswith("jobwired/")
    assert ack.max_frame_bytes == 65_536, "a client limit below 64 KiB is raised to 64 KiB"
    assert (ack.max_concurrent_streams, ack.ping_interval_ms, ack.tenant, ack.role) == (100, 30_000, "default", "admin")
    assert server.raw(hello=False).hello().hello_ack.max_frame_bytes == 4 * 1024 * 1024


def test_calls_may_follow_the_hello_before_its_answer(server: Server) -> None:
    raw = server.raw(hello=False)
    hello = pb.Frame(hello=pb.Hello(protocol_version=1)).SerializeToString()
    call = pb.Frame(call=pb.Call(stream_id=1, method=HEALTH, request=b"")).SerializeToString()
    raw.send_bytes(struct.pack(">I", len(hello)) + hello + struct.pack(">I", len(call)) + call)
    kinds = [raw.read(), raw.read(), raw.read()]
    assert [frame.WhichOneof("kind") if frame else None for frame in kinds] == ["hello_ack", "reply", "end"]
    assert kinds[2] is not None and kinds[2].end.status.code == pb.OK


@pytest.mark.parametrize("first", [
    pb.Frame(ping=pb.Ping(payload=1)),
    pb.Frame(call=pb.Call(stream_id=1, method=HEALTH)),
])
def test_anything_before_hello_is_hello_required(server: Server, first: pb.Frame) -> None:
    raw = server.raw(hello=False)
    raw.send(first)
    assert status_of(raw.goaway_and_close()) == ("INVALID_ARGUMENT", Reason.HELLO_REQUIRED)


def test_an_unknown_protocol_version_is_refused(server: Server) -> None:
    raw = server.raw(hello=False)
    frame = raw.hello(version=2)
    assert frame.WhichOneof("kind") == "goaway"
    assert status_of(frame.goaway.status) == ("FAILED_PRECONDITION", Reason.UNSUPPORTED_PROTOCOL_VERSION)
    assert raw.read() is None


def test_a_client_that_never_says_hello_is_closed(start_server: StartServer) -> None:
    server = start_server("--handshake-timeout", "200ms")
    raw = server.raw(hello=False)
    assert status_of(raw.goaway_and_close()) == ("DEADLINE_EXCEEDED", Reason.HANDSHAKE_TIMEOUT)


def test_pings_are_answered_with_the_same_payload(server: Server) -> None:
    raw = server.raw()
    raw.send(pb.Frame(ping=pb.Ping(payload=0xDEADBEEF)))
    assert raw.read_kind("pong").pong.payload == 0xDEADBEEF


def test_a_connection_that_does_not_answer_pings_is_closed(start_server: StartServer) -> None:
    server = start_server("--ping-interval", "150ms")
    raw = server.raw()
    assert raw.read_kind("ping", timeout=3).ping.payload > 0
    assert status_of(raw.goaway_and_close()) == ("UNAVAILABLE", Reason.PING_TIMEOUT)


def test_the_client_answers_pings_and_keeps_its_connection(start_server: StartServer) -> None:
    server = start_server("--ping-interval", "250ms")
    client = server.client()
    client.health()
    core = client._manager._current._core  # type: ignore[union-attr]
    wait_for(lambda: core.pings_answered >= 2, what="two pings answered")
    assert client.health().status is jobwire.ServingStatus.SERVING
    assert client.connections_opened == 1 and client.stats().connections == 1


def framed(frame: pb.Frame) -> bytes:
    body = frame.SerializeToString()
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize(("data", "expected"), [
    (b"\x00\x00\x00\x00", ("INVALID_ARGUMENT", Reason.EMPTY_FRAME)),
    (struct.pack(">I", 4 * 1024 * 1024 + 1), ("RESOURCE_EXHAUSTED", Reason.FRAME_TOO_LARGE)),
    (struct.pack(">I", 3) + b"\xff\xff\xff", ("INVALID_ARGUMENT", Reason.MALFORMED_MESSAGE)),
    (struct.pack(">I", 2) + b"\x50\x01", ("UNIMPLEMENTED", Reason.UNKNOWN_FRAME_KIND)),
    (framed(pb.Frame(hello=pb.Hello(protocol_version=1))), ("INVALID_ARGUMENT", Reason.UNEXPECTED_FRAME)),
    (framed(pb.Frame(reply=pb.Reply(stream_id=1))), ("INVALID_ARGUMENT", Reason.UNEXPECTED_FRAME)),
    (framed(pb.Frame(hello_ack=pb.HelloAck())), ("INVALID_ARGUMENT", Reason.UNEXPECTED_FRAME)),
    (framed(pb.Frame(end=pb.End(stream_id=1))), ("INVALID_ARGUMENT", Reason.UNEXPECTED_FRAME)),
    (framed(pb.Frame(goaway=pb.GoAway())), ("INVALID_ARGUMENT", Reason.UNEXPECTED_FRAME)),
    (framed(pb.Frame(call=pb.Call(stream_id=0, method=HEALTH))), ("INVALID_ARGUMENT", Reason.INVALID_STREAM_ID)),
], ids=["empty-frame", "frame-too-large", "malformed-frame", "unknown-frame-kind", "second-hello",
        "server-only-reply", "server-only-hello-ack", "server-only-end", "server-only-goaway", "stream-id-0"])
def test_connection_errors_get_a_goaway_and_only_that_connection_closes(
        server: Server, data: bytes, expected: tuple[str, str]) -> None:
    bystander = server.client()
    bystander.health()
    raw = server.raw()
    raw.send_bytes(data)
    assert status_of(raw.goaway_and_close()) == expected
    assert bystander.health().status is jobwire.ServingStatus.SERVING
    assert bystander.connections_opened == 1
    server.raw()  # new connections are served


def test_a_stream_id_still_open_is_a_connection_error(server: Server) -> None:
    job = server.client().configure(JobSpec(type="t")).job
    raw = server.raw()
    raw.call(1, WATCH, watch_request(job.job_id))
    assert raw.read_kind("reply").reply.stream_id == 1
    raw.call(1, GET, pb.GetMetadataRequest(job_id=job.job_id).SerializeToString())
    goaway = raw.goaway_and_close()
    assert status_of(goaway) == ("INVALID_ARGUMENT", Reason.STREAM_ID_IN_USE)


def test_garbage_from_a_socket_is_refused_and_the_server_keeps_serving(server: Server) -> None:
    bystander = server.client()
    job = bystander.configure(JobSpec(type="t")).job
    raw = server.raw(hello=False)
    raw.send_bytes(b"GET / HTTP/1.1\r\nHost: jobwire\r\n\r\n")
    # "GET " read as a length prefix is 1,195,725,856 bytes: refused before any body is read.
    assert status_of(raw.goaway_and_close()) == ("RESOURCE_EXHAUSTED", Reason.FRAME_TOO_LARGE)
    assert bystander.get_metadata(job.job_id) == job
    assert server.client().get_metadata(job.job_id) == job


def test_per_call_errors_end_only_that_call(server: Server) -> None:
    raw = server.raw()
    raw.call(1, "/jobwire.v1.JobService/Nope")
    raw.call(3, GET, b"\xff")
    raw.call(5, GET, b"\x0a\x01\xff")  # job_id: one byte that is not UTF-8
    raw.call(7, "/jobwire.v1.JobService/ListJobs", b"\x08\x63")  # statuses: [99]
    raw.call(9, GET, pb.GetMetadataRequest(job_id="nope").SerializeToString())
    raw.call(11, GET, pb.GetMetadataRequest(job_id=UNKNOWN_ID).SerializeToString())
    raw.call(13, HEALTH)
    assert status_of(raw.end_of(1)) == ("UNIMPLEMENTED", Reason.UNKNOWN_METHOD)
    assert status_of(raw.end_of(3)) == ("INVALID_ARGUMENT", Reason.MALFORMED_MESSAGE)
    assert status_of(raw.end_of(5)) == ("INVALID_ARGUMENT", Reason.INVALID_UTF8)
    assert status_of(raw.end_of(7)) == ("INVALID_ARGUMENT", Reason.INVALID_ENUM_VALUE)
    assert status_of(raw.end_of(9)) == ("INVALID_ARGUMENT", Reason.INVALID_JOB_ID)
    assert status_of(raw.end_of(11)) == ("NOT_FOUND", Reason.JOB_NOT_FOUND)
    assert status_of(raw.end_of(13)) == ("OK", "")


def test_a_message_that_needs_too_much_memory_is_refused(server: Server) -> None:
    # 500,000 empty channel map entries: 2 bytes each on the wire, far more in memory.
    entries = b"\x7a\x00" * 500_000
    job = b"\x12" + _varint(len(entries)) + entries
    raw = server.raw()
    raw.call(1, "/jobwire.v1.JobService/Configure", job)
    assert status_of(raw.end_of(1)) == ("RESOURCE_EXHAUSTED", Reason.MESSAGE_TOO_COMPLEX)
    raw.call(3, HEALTH)
    assert status_of(raw.end_of(3)) == ("OK", "")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_more_open_calls_than_allowed_get_too_many_streams(start_server: StartServer) -> None:
    server = start_server("--max-streams-per-connection", "1")
    job = server.client().configure(JobSpec(type="t")).job
    raw = server.raw()
    raw.call(1, WATCH, watch_request(job.job_id))
    assert raw.read_kind("reply").reply.stream_id == 1
    raw.call(3, HEALTH)
    assert status_of(raw.end_of(3)) == ("RESOURCE_EXHAUSTED", Reason.TOO_MANY_STREAMS)
    raw.send(pb.Frame(cancel_call=pb.CancelCall(stream_id=1)))
    raw.call(5, HEALTH)
    assert status_of(raw.end_of(5)) == ("OK", ""), "the cancelled watch freed its stream"


def test_a_cancelled_call_gets_nothing_more_and_its_id_is_free(server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    raw = server.raw()
    raw.call(1, WATCH, watch_request(job.job_id))
    raw.read_kind("reply")
    raw.send(pb.Frame(cancel_call=pb.CancelCall(stream_id=1)))
    raw.send(pb.Frame(cancel_call=pb.CancelCall(stream_id=99)))  # not open: ignored
    raw.send(pb.Frame(ping=pb.Ping(payload=7)))
    assert raw.read_kind("pong").pong.payload == 7  # frames are processed in order: the cancel is done
    client.update(job.job_id, progress=50.0)
    raw.call(1, GET, pb.GetMetadataRequest(job_id=job.job_id).SerializeToString())
    frames = [raw.read(), raw.read()]
    assert [(f.WhichOneof("kind"), getattr(f, f.WhichOneof("kind") or "").stream_id) for f in frames if f] == [
        ("reply", 1), ("end", 1)], "no event of the cancelled watch, and stream 1 is usable again"
    assert pb.Job.FromString(frames[0].reply.message).progress == 50.0  # type: ignore[union-attr]


def test_a_server_reply_larger_than_the_frame_limit_ends_only_that_call(server: Server) -> None:
    writer = server.client()
    big = writer.configure(JobSpec(type="big", frequencies_list=tuple(float(n) for n in range(10_000)))).job
    small = writer.configure(JobSpec(type="small")).job
    client = server.client(max_frame_bytes=65_536)
    assert client.connect().max_frame_bytes == 65_536
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.get_metadata(big.job_id)
    assert caught.value.reason == Reason.FRAME_TOO_LARGE
    assert client.get_metadata(small.job_id) == small and client.connections_opened == 1


def test_the_client_refuses_to_send_a_frame_above_the_negotiated_limit(server: Server) -> None:
    client = server.client(max_frame_bytes=65_536)
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.configure(JobSpec(frequencies_list=tuple(float(n) for n in range(20_000))))
    assert caught.value.reason == Reason.FRAME_TOO_LARGE
    assert client.health().status is jobwire.ServingStatus.SERVING and client.connections_opened == 1
    assert list(client.list_jobs()) == []


def test_draining_sends_goaway_and_ends_watches_with_server_shutting_down(server: Server) -> None:
    job = server.client().configure(JobSpec(type="t")).job
    raw = server.raw()
    raw.call(1, WATCH, watch_request(job.job_id))
    raw.read_kind("reply")
    server.process.send_signal(15)  # type: ignore[union-attr]
    goaway = raw.read_kind("goaway").goaway
    assert status_of(goaway.status) == ("UNAVAILABLE", Reason.SERVER_SHUTTING_DOWN) and goaway.last_stream_id == 1
    assert status_of(raw.end_of(1)) == ("UNAVAILABLE", Reason.SERVER_SHUTTING_DOWN)
    assert raw.read() is None
    assert server.process.wait(timeout=10) == 0  # type: ignore[union-attr]
