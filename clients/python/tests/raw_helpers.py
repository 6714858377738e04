"""Raw binary-protocol sockets for the tests: a client that speaks frames by hand, and a fake server."""
from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

from jobwire._pb import jobwire_pb2 as pb


class RawConnection:
    """A socket speaking frames by hand, to send what no well-behaved client would."""

    def __init__(self, port: int | None = None, sock: socket.socket | None = None) -> None:
        self.sock = sock if sock is not None else socket.create_connection(("127.0.0.1", port or 0), timeout=5)

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_body(self, body: bytes) -> None:
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def send(self, frame: pb.Frame) -> None:
        self.send_body(frame.SerializeToString())

    def hello(self, api_key: str = "", version: int = 1, max_frame_bytes: int = 0) -> pb.Frame:
        self.send(pb.Frame(hello=pb.Hello(protocol_version=version, api_key=api_key, client_name="conformance-raw",
                                          max_frame_bytes=max_frame_bytes)))
        frame = self.read()
        assert frame is not None, "the server closed the connection without answering the Hello"
        return frame

    def call(self, stream_id: int, method: str, request: bytes = b"", timeout_ms: int = 0, tenant: str = "") -> None:
        self.send(pb.Frame(call=pb.Call(stream_id=stream_id, method=method, request=request, timeout_ms=timeout_ms,
                                        tenant=tenant)))

    def _exactly(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def read(self, timeout: float = 5.0) -> pb.Frame | None:
        """The next frame, or None when the server closed the connection."""
        self.sock.settimeout(timeout)
        prefix = self._exactly(4)
        if prefix is None:
            return None
        (length,) = struct.unpack(">I", prefix)
        body = self._exactly(length)
        return None if body is None else pb.Frame.FromString(body)

    def frames(self, timeout: float = 5.0) -> Iterator[pb.Frame]:
        while (frame := self.read(timeout)) is not None:
            yield frame

    def read_kind(self, kind: str, timeout: float = 5.0) -> pb.Frame:
        """The next frame of `kind`, skipping frames of other kinds in between."""
        for frame in self.frames(timeout):
            if frame.WhichOneof("kind") == kind:
                return frame
        raise AssertionError(f"the connection closed before a {kind} frame")

    def end_of(self, stream_id: int) -> pb.Status:
        for frame in self.frames():
            if frame.WhichOneof("kind") == "end" and frame.end.stream_id == stream_id:
                return frame.end.status
        raise AssertionError(f"no End for stream {stream_id}")

    def goaway_and_close(self) -> pb.Status:
        """The GoAway the server sends before closing, after checking that it does close."""
        goaway = self.read_kind("goaway")
        assert self.read() is None, "the connection stayed open after the GoAway"
        return goaway.goaway.status

    def close(self) -> None:
        self.sock.close()


class FakeConnection:
    """One accepted connection of :class:`FakeServer`: the frames it received, and a way to answer."""

    def __init__(self, sock: socket.socket, index: int) -> None:
        self.sock = sock
        self.index = index
        self.frames: list[pb.Frame] = []

    def send(self, frame: pb.Frame) -> None:
        body = frame.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def reply(self, stream_id: int, message: bytes) -> None:
        self.send(pb.Frame(reply=pb.Reply(stream_id=stream_id, message=message)))
        self.send(pb.Frame(end=pb.End(stream_id=stream_id, status=pb.Status(code=pb.OK))))

    def calls(self) -> list[pb.Call]:
        return [frame.call for frame in list(self.frames) if frame.WhichOneof("kind") == "call"]

    def cancels(self) -> list[int]:
        return [frame.cancel_call.stream_id for frame in list(self.frames) if frame.WhichOneof("kind") == "cancel_call"]

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeServer:
    """A scripted JobWire server in a thread, for what a real one will not do on cue.

    It answers every Hello with a HelloAck and hands each later frame to
    ``on_frame(connection, frame)``; the default answers nothing at all.
    """

    def __init__(self, on_frame: Callable[[FakeConnection, pb.Frame], None] | None = None,
                 max_concurrent_streams: int = 100) -> None:
        self.on_frame = on_frame or (lambda connection, frame: None)
        self.max_concurrent_streams = max_concurrent_streams
        self.connections: list[FakeConnection] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            connection = FakeConnection(sock, len(self.connections))
            self.connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: FakeConnection) -> None:
        raw = RawConnection(sock=connection.sock)
        try:
            while (frame := raw.read(timeout=30)) is not None:
                if frame.WhichOneof("kind") == "hello":
                    connection.send(pb.Frame(hello_ack=pb.HelloAck(
                        protocol_version=1, server_name="fake/1", max_frame_bytes=4 * 1024 * 1024,
                        max_concurrent_streams=self.max_concurrent_streams, ping_interval_ms=30_000,
                        tenant="default", role="admin")))
                    continue
                connection.frames.append(frame)
                self.on_frame(connection, frame)
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()
