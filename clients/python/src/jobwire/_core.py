"""The protocol state of one connection, without I/O (shared by the sync and asyncio clients).

The I/O layer feeds received bytes to :meth:`ConnectionCore.receive`, writes
whatever :meth:`ConnectionCore.data_to_send` returns, and reports a dropped
socket with :meth:`ConnectionCore.connection_lost`. The core does the rest
(docs/PROTOCOL.md): the Hello/HelloAck handshake, the negotiated frame limit,
stream ids, routing each ``Reply`` and ``End`` to its call's sink, answering
pings, ``CancelCall``, and GoAway — calls above ``last_stream_id`` end with
``UNAVAILABLE`` / ``NOT_PROCESSED`` so the caller may send them again on a new
connection. It is not thread-safe: the sync client guards it with a lock, the
asyncio client uses it from the event loop only.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from google.protobuf.message import DecodeError

from ._convert import server_info_from_pb, status_from_pb
from ._framing import DEFAULT_MAX_FRAME_BYTES, MIN_MAX_FRAME_BYTES, FrameDecoder, encode_frame
from ._pb import jobwire_pb2 as pb
from .errors import JobWireError, Reason, Status, StatusCode, Unavailable
from .models import ServerInfo

PROTOCOL_VERSION: Final = 1
_MAX_STREAM_ID: Final = 0xFFFF_FFFF

CANCELLED: Final = Status(StatusCode.CANCELLED, Reason.CANCELLED, "cancelled by the caller")
NOT_PROCESSED: Final = Status(StatusCode.UNAVAILABLE, Reason.NOT_PROCESSED,
                              "the server is draining and did not process the call")


class CallSink(Protocol):
    """Where a call's frames go: each reply message, then exactly one end."""

    def on_reply(self, message: bytes) -> None: ...

    def on_end(self, status: Status) -> None: ...


class Phase(enum.Enum):
    HANDSHAKE = "handshake"
    #: HelloAck received: calls may be opened.
    OPEN = "open"
    #: GoAway received while draining: open calls finish, no new ones.
    DRAINING = "draining"
    CLOSED = "closed"


@dataclass(frozen=True)
class HelloOptions:
    """What the client says in its Hello."""

    api_key: str = ""
    client_name: str = ""
    #: The largest frame the client accepts; 0 for the default (4 MiB).
    max_frame_bytes: int = 0
    protocol_version: int = PROTOCOL_VERSION


class ConnectionCore:
    """One connection's protocol state machine (see the module docstring)."""

    def __init__(self, hello: HelloOptions, on_change: Callable[[], None] | None = None) -> None:
        #: Called after the phase changes or a call ends (the asyncio client wakes waiters with it).
        self.on_change = on_change
        self._phase = Phase.HANDSHAKE
        self._output = bytearray()
        self._streams: dict[int, CallSink] = {}
        self._next_stream_id = 1
        announced = hello.max_frame_bytes
        incoming = DEFAULT_MAX_FRAME_BYTES if announced == 0 else max(announced, MIN_MAX_FRAME_BYTES)
        self._decoder = FrameDecoder(incoming)
        self._send_limit = DEFAULT_MAX_FRAME_BYTES
        self.server_info: ServerInfo | None = None
        #: Why the connection closed (None while it is open).
        self.close_status: Status | None = None
        #: Pings from the server answered with a Pong.
        self.pings_answered = 0
        self._output += encode_frame(pb.Frame(hello=pb.Hello(
            protocol_version=hello.protocol_version, api_key=hello.api_key, client_name=hello.client_name,
            max_frame_bytes=hello.max_frame_bytes)), self._send_limit)

    # State.

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def closed(self) -> bool:
        return self._phase is Phase.CLOSED

    @property
    def usable(self) -> bool:
        """True while new calls may be opened."""
        return self._phase is Phase.OPEN

    def has_capacity(self) -> bool:
        """True while fewer calls are open than the HelloAck's ``max_concurrent_streams``."""
        limit = self.server_info.max_concurrent_streams if self.server_info else 0
        return limit == 0 or len(self._streams) < limit

    def data_to_send(self) -> bytes:
        """Bytes to write, in order; each call takes them."""
        if self._phase is Phase.CLOSED or not self._output:
            self._output.clear()
            return b""
        data = bytes(self._output)
        self._output.clear()
        return data

    def has_output(self) -> bool:
        return bool(self._output) and self._phase is not Phase.CLOSED

    # Calls.

    def start_call(self, method: str, request: bytes, timeout_ms: int, tenant: str, sink: CallSink) -> int:
        """Opens a call and returns its stream id.

        Raises ``UNAVAILABLE`` / ``NOT_PROCESSED`` when the connection takes no
        new calls (safe to send elsewhere) and ``RESOURCE_EXHAUSTED`` /
        ``FRAME_TOO_LARGE`` when the request does not fit in a frame.
        """
        if self._phase is not Phase.OPEN:
            raise Unavailable(StatusCode.UNAVAILABLE, Reason.NOT_PROCESSED, "the connection takes no new calls")
        stream_id = self._allocate_stream_id()
        call = pb.Call(stream_id=stream_id, method=method, request=request, timeout_ms=timeout_ms, tenant=tenant)
        self._output += encode_frame(pb.Frame(call=call), self._send_limit)
        self._streams[stream_id] = sink
        return stream_id

    def cancel_call(self, stream_id: int) -> None:
        """Gives up on a call: sends ``CancelCall`` and ends its sink with ``CANCELLED``. Ignored when not open."""
        sink = self._streams.pop(stream_id, None)
        if sink is None:
            return
        if self._phase in (Phase.OPEN, Phase.DRAINING):
            self._output += encode_frame(pb.Frame(cancel_call=pb.CancelCall(stream_id=stream_id)), self._send_limit)
        sink.on_end(CANCELLED)
        self._changed()

    def _allocate_stream_id(self) -> int:
        while True:
            stream_id = self._next_stream_id
            self._next_stream_id = 1 if stream_id >= _MAX_STREAM_ID else stream_id + 1
            if stream_id not in self._streams:
                return stream_id

    # Input.

    def receive(self, data: bytes) -> None:
        """Handles bytes read from the socket: every complete frame they finish."""
        if self._phase is Phase.CLOSED:
            return
        try:
            bodies = self._decoder.feed(data)
        except JobWireError as failure:
            self.close(failure.status)
            return
        for body in bodies:
            if self.closed:
                return
            try:
                frame = pb.Frame.FromString(body)
            except DecodeError:
                self.close(Status(StatusCode.INVALID_ARGUMENT, Reason.MALFORMED_MESSAGE,
                                  "the server sent a frame that does not decode"))
                return
            self._handle(frame)

    def _handle(self, frame: pb.Frame) -> None:
        kind = frame.WhichOneof("kind")
        if kind is None:
            # Every field of Frame is a kind: a frame without one carries only fields this version does not know.
            self.close(Status(StatusCode.UNIMPLEMENTED, Reason.UNKNOWN_FRAME_KIND,
                              "the server sent a frame kind this client does not know"))
        elif self._phase is Phase.HANDSHAKE:
            self._handle_handshake(frame, kind)
        elif kind == "reply":
            sink = self._streams.get(frame.reply.stream_id)
            if sink is not None:  # else: cancelled by us; the reply crossed the CancelCall
                sink.on_reply(frame.reply.message)
        elif kind == "end":
            ended = self._streams.pop(frame.end.stream_id, None)
            if ended is not None:
                ended.on_end(status_from_pb(frame.end.status))
                self._changed()
        elif kind == "ping":
            self._output += encode_frame(pb.Frame(pong=pb.Pong(payload=frame.ping.payload)), self._send_limit)
            self.pings_answered += 1
        elif kind == "pong":
            pass
        elif kind == "goaway":
            self._handle_goaway(frame.goaway)
        else:
            self.close(Status(StatusCode.INVALID_ARGUMENT, Reason.UNEXPECTED_FRAME,
                              f"the server sent a {kind} frame, which only clients send"))

    def _handle_handshake(self, frame: pb.Frame, kind: str) -> None:
        if kind == "hello_ack":
            info = server_info_from_pb(frame.hello_ack)
            self.server_info = info
            if info.max_frame_bytes > 0:
                self._send_limit = info.max_frame_bytes
                self._decoder.max_frame_bytes = max(info.max_frame_bytes, MIN_MAX_FRAME_BYTES)
            self._phase = Phase.OPEN
            self._changed()
        elif kind == "goaway":
            status = status_from_pb(frame.goaway.status)
            self.close(status if not status.ok else Status(StatusCode.UNAVAILABLE, Reason.SERVER_SHUTTING_DOWN,
                                                         "the server refused the connection"))
        else:
            self.close(Status(StatusCode.INVALID_ARGUMENT, Reason.UNEXPECTED_FRAME,
                              f"expected a HelloAck, the server sent a {kind} frame"))

    def _handle_goaway(self, goaway: pb.GoAway) -> None:
        status = status_from_pb(goaway.status)
        if not status.ok and status.reason != Reason.SERVER_SHUTTING_DOWN:
            # A connection error: the server closes; calls end with its status.
            self.close(status)
            return
        if self._phase is Phase.OPEN:
            self._phase = Phase.DRAINING
        for stream_id in [stream_id for stream_id in self._streams if stream_id > goaway.last_stream_id]:
            self._streams.pop(stream_id).on_end(NOT_PROCESSED)
        self._changed()

    # Closing.

    def connection_lost(self, status: Status) -> None:
        """The socket closed or failed; calls still open end with `status`."""
        self.close(status)

    def close(self, status: Status) -> None:
        """Closes the connection: every open call ends with `status`. Idempotent."""
        if self._phase is Phase.CLOSED:
            return
        self._phase = Phase.CLOSED
        self.close_status = status
        self._output.clear()
        streams, self._streams = self._streams, {}
        for sink in streams.values():
            sink.on_end(status)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
