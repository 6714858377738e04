"""The shared protocol core without a network: what it does with each frame a server may send."""
from __future__ import annotations

import struct

import pytest

from jobwire import Reason, Status, StatusCode, Unavailable
from jobwire._core import ConnectionCore, HelloOptions, Phase
from jobwire._framing import FrameDecoder
from jobwire._pb import jobwire_pb2 as pb


class Sink:
    def __init__(self) -> None:
        self.replies: list[bytes] = []
        self.ends: list[Status] = []

    def on_reply(self, message: bytes) -> None:
        self.replies.append(message)

    def on_end(self, status: Status) -> None:
        self.ends.append(status)


def framed(frame: pb.Frame) -> bytes:
    body = frame.SerializeToString()
    return struct.pack(">I", len(body)) + body


def sent_frames(core: ConnectionCore) -> list[pb.Frame]:
    data = core.data_to_send()
    return [pb.Frame.FromString(body) for body in FrameDecoder().feed(data)]


def open_core(max_streams: int = 100) -> ConnectionCore:
    core = ConnectionCore(HelloOptions(api_key="jwk_x", client_name="test/1"))
    [hello] = sent_frames(core)
    assert hello.hello.protocol_version == 1 and hello.hello.api_key == "jwk_x"
    core.receive(framed(pb.Frame(hello_ack=pb.HelloAck(protocol_version=1, max_frame_bytes=65_536,
                                                       max_concurrent_streams=max_streams))))
    assert core.phase is Phase.OPEN
    return core


def test_frames_split_across_reads_are_put_back_together() -> None:
    core = open_core()
    sink = Sink()
    stream_id = core.start_call("/m", b"", 0, "", sink)
    data = framed(pb.Frame(reply=pb.Reply(stream_id=stream_id, message=b"abc"))) + framed(
        pb.Frame(end=pb.End(stream_id=stream_id, status=pb.Status())))
    for index in range(len(data)):
        core.receive(data[index:index + 1])
    assert sink.replies == [b"abc"] and sink.ends == [Status(StatusCode.OK)]


def test_stream_ids_increase_and_the_stream_limit_is_known() -> None:
    core = open_core(max_streams=2)
    first, second = Sink(), Sink()
    assert [core.start_call("/m", b"", 0, "", first), core.start_call("/m", b"", 0, "", second)] == [1, 2]
    assert not core.has_capacity()
    core.cancel_call(1)
    assert core.has_capacity() and first.ends[0].reason == Reason.CANCELLED
    calls = sent_frames(core)
    assert [f.WhichOneof("kind") for f in calls] == ["call", "call", "cancel_call"]
    assert calls[2].cancel_call.stream_id == 1
    assert core.start_call("/m", b"", 0, "", Sink()) == 3


def test_an_end_without_a_status_is_ok_and_unknown_streams_are_ignored() -> None:
    core = open_core()
    sink = Sink()
    stream_id = core.start_call("/m", b"", 0, "", sink)
    core.receive(framed(pb.Frame(reply=pb.Reply(stream_id=99, message=b"stray"))))
    core.receive(framed(pb.Frame(end=pb.End(stream_id=stream_id))))
    assert sink.ends == [Status(StatusCode.OK)] and sink.replies == [] and core.usable


def test_pings_are_answered() -> None:
    core = open_core()
    sent_frames(core)
    core.receive(framed(pb.Frame(ping=pb.Ping(payload=42))))
    [pong] = sent_frames(core)
    assert pong.pong.payload == 42 and core.pings_answered == 1


def test_a_draining_goaway_ends_only_the_calls_it_did_not_accept() -> None:
    core = open_core()
    accepted, refused = Sink(), Sink()
    core.start_call("/m", b"", 0, "", accepted)
    core.start_call("/m", b"", 0, "", refused)
    core.receive(framed(pb.Frame(goaway=pb.GoAway(last_stream_id=1, status=pb.Status(
        code=pb.UNAVAILABLE, reason="SERVER_SHUTTING_DOWN")))))
    assert core.phase is Phase.DRAINING and not core.usable
    assert accepted.ends == [] and refused.ends[0].reason == Reason.NOT_PROCESSED
    core.receive(framed(pb.Frame(end=pb.End(stream_id=1, status=pb.Status()))))
    assert accepted.ends == [Status(StatusCode.OK)]


@pytest.mark.parametrize(("data", "code", "reason"), [
    (framed(pb.Frame(goaway=pb.GoAway(status=pb.Status(code=pb.UNAUTHENTICATED, reason="INVALID_API_KEY")))),
     StatusCode.UNAUTHENTICATED, "INVALID_API_KEY"),
    (b"\x00\x00\x00\x00", StatusCode.INVALID_ARGUMENT, Reason.EMPTY_FRAME),
    (struct.pack(">I", 65_537), StatusCode.RESOURCE_EXHAUSTED, Reason.FRAME_TOO_LARGE),
    (struct.pack(">I", 2) + b"\xff\xff", StatusCode.INVALID_ARGUMENT, Reason.MALFORMED_MESSAGE),
    (struct.pack(">I", 2) + b"\x50\x01", StatusCode.UNIMPLEMENTED, Reason.UNKNOWN_FRAME_KIND),
    (framed(pb.Frame(call=pb.Call(stream_id=1))), StatusCode.INVALID_ARGUMENT, Reason.UNEXPECTED_FRAME),
], ids=["goaway-error", "empty-frame", "frame-too-large", "malformed", "unknown-kind", "client-only-frame"])
def test_a_connection_error_ends_every_call_with_its_status(data: bytes, code: StatusCode, reason: str) -> None:
    core = open_core()
    sinks = [Sink(), Sink()]
    for sink in sinks:
        core.start_call("/m", b"", 0, "", sink)
    core.receive(data)
    assert core.phase is Phase.CLOSED and core.close_status is not None
    assert (core.close_status.code, core.close_status.reason) == (code, reason)
    assert all(sink.ends == [core.close_status] for sink in sinks)
    with pytest.raises(Unavailable) as caught:
        core.start_call("/m", b"", 0, "", Sink())
    assert caught.value.reason == Reason.NOT_PROCESSED


def test_a_refused_handshake_closes_with_the_goaway_status() -> None:
    core = ConnectionCore(HelloOptions())
    core.receive(framed(pb.Frame(goaway=pb.GoAway(status=pb.Status(code=pb.FAILED_PRECONDITION,
                                                                   reason="UNSUPPORTED_PROTOCOL_VERSION")))))
    assert core.close_status == Status(StatusCode.FAILED_PRECONDITION, "UNSUPPORTED_PROTOCOL_VERSION")
