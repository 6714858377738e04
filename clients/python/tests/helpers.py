"""Test support: real jobwired processes, keys made with the real CLI, and a raw protocol connection.

The binaries come from the environment: ``JOBWIRED`` (the server) and
``JOBWIRE_CLI`` (the ``jobwire`` command line), as `make test-python` sets them.
"""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

import jobwire
import jobwire.aio
from jobwire._pb import jobwire_pb2 as pb

T = TypeVar("T")

#: Reconnect quickly: the tests restart servers and expect clients to notice within a second.
FAST_BACKOFF = jobwire.Backoff(initial=0.05, multiplier=1.5, jitter=0.1, maximum=0.3)
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
_READY = re.compile(r"^jobwired listening on (.+):(\d+)$")
_HTTP_READY = re.compile(r"^jobwired http listening on (.+):(\d+)$")
#: Set by `make sanitize` when JOBWIRED is built with a sanitizer: servers are then stopped, not killed, at the end
#: of a test so that LeakSanitizer runs, and their logs are checked for reports either way.
SANITIZER = os.environ.get("JOBWIRE_SANITIZER", "")
SANITIZED = bool(SANITIZER)
_SANITIZER_REPORT = re.compile(r"^(?:==\d+==)?(?:ERROR|WARNING): (\w*Sanitizer: [^\n]*)$", re.M)


def binary(variable: str) -> str:
    path = os.environ.get(variable, "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"set {variable} to the path of the built binary (make test-python does); got {path!r}")
    return path


def wait_for(condition: Callable[[], T], timeout: float = 5.0, interval: float = 0.01, what: str = "condition") -> T:
    """Polls until `condition()` is truthy and returns it; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def run_cli(*args: str, port: int | None = None, api_key: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the ``jobwire`` CLI; global options go after the subcommand's arguments."""
    command = [binary("JOBWIRE_CLI"), *args]
    if port is not None:
        command += ["--port", str(port)]
    if api_key is not None:
        command += ["--api-key", api_key]
    environment = {**os.environ, "JOBWIRE_API_KEY": ""}
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=environment)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
    return done


def create_key(keys_file: pathlib.Path, tenant: str, role: str) -> str:
    """A new key made by ``jobwire keys create`` (which writes the file with mode 0600)."""
    done = run_cli("keys", "create", "--keys-file", str(keys_file), "--tenant", tenant, "--role", role)
    key = done.stdout.strip()
    assert key.startswith("jwk_"), done.stdout
    return key


def revoke_key(keys_file: pathlib.Path, key: str) -> None:
    key_id = key.split("_")[1]
    run_cli("keys", "revoke", key_id, "--keys-file", str(keys_file))


class Server:
    """One jobwired process on an ephemeral port, with its own data directory."""

    def __init__(self, directory: pathlib.Path, args: tuple[str, ...] = (), keys_file: pathlib.Path | None = None):
        #: When set, the server may write no file larger than this many KiB (RLIMIT_FSIZE, with SIGXFSZ
        #: ignored): a write that would grow the store past it fails as on a full disk.
        self.file_size_limit_kib: int | None = None
        self.directory = directory
        self.data_dir = directory / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.args = args
        self.keys_file = keys_file
        self.port = 0
        #: The HTTP/JSON and Server-Sent Events port (``--http-port``): 0 until the first start picks one.
        self.http_port = 0
        self.process: subprocess.Popen[str] | None = None
        self.log_path = directory / "jobwired.log"
        self._clients: list[jobwire.Client] = []
        self._raw: list[RawConnection] = []
        self._streams: list[EventStream] = []

    def start(self) -> None:
        """Starts jobwired (on the same ports as before, when restarting) and waits for its two ready lines."""
        command = [binary("JOBWIRED"), "--port", str(self.port), "--http-port", str(self.http_port),
                   "--data-dir", str(self.data_dir), "--log-level", "warning", *self.args]
        if self.keys_file is not None:
            command += ["--keys", str(self.keys_file)]
        if self.file_size_limit_kib is not None:
            if SANITIZER == "thread":
                # Reproduced with `--store memory` and no client at all: TSan's runtime itself faults (SIGBUS on a
                # read of its own) in a process whose file size is limited. These tests run unsanitized and
                # under AddressSanitizer.
                pytest.skip("ThreadSanitizer's runtime dies with SIGBUS under RLIMIT_FSIZE")
            command = ["bash", "-c", f'trap "" XFSZ; ulimit -f {self.file_size_limit_kib}; exec "$@"', "jobwired",
                       *command]
        log = self.log_path.open("a")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 15)
        line = self.process.stdout.readline().strip() if ready else ""
        match = _READY.match(line)
        if match is None:
            self.process.kill()
            raise AssertionError(f"jobwired did not start ({line!r}): {self.log_path.read_text()[-2000:]}")
        self.port = int(match.group(2))
        # The second line may already sit in the pipe's read buffer, where select() would not see it: read it in a
        # thread, with a deadline.
        line = _read_line(self.process.stdout, 15).strip()
        http_match = _HTTP_READY.match(line)
        if http_match is None:
            self.process.kill()
            raise AssertionError(f"jobwired printed no HTTP ready line ({line!r}): {self.log_path.read_text()[-2000:]}")
        self.http_port = int(http_match.group(2))

    def stop(self) -> int:
        """SIGTERM: the server drains (GoAway) and exits; returns its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self._reap()

    def kill(self) -> None:
        """SIGKILL: connections just vanish."""
        assert self.process is not None
        self.process.kill()
        self._reap()

    def _reap(self) -> int:
        assert self.process is not None
        status = self.process.wait(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def restart(self, graceful: bool = True) -> None:
        """Stops jobwired (SIGTERM: it drains, sending GoAway; or SIGKILL: connections vanish) and starts it again
        on the same port and data directory, as an operator's restart or a crash and a supervisor would."""
        if graceful:
            status = self.stop()
            assert status == 0, f"jobwired exited {status} when stopped: {self.log()[-3000:]}"
        else:
            self.kill()
        self.start()

    def reload_keys(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def log(self) -> str:
        return self.log_path.read_text()

    def client(self, api_key: str | None = None, **options: Any) -> jobwire.Client:
        options.setdefault("timeout", 10.0)
        options.setdefault("backoff", FAST_BACKOFF)
        client = jobwire.Client("127.0.0.1", self.port, api_key, **options)
        self._clients.append(client)
        return client

    def aclient(self, api_key: str | None = None, **options: Any) -> jobwire.aio.Client:
        options.setdefault("timeout", 10.0)
        options.setdefault("backoff", FAST_BACKOFF)
        return jobwire.aio.Client("127.0.0.1", self.port, api_key, **options)

    def raw(self, hello: bool = True, api_key: str = "", receive_buffer: int | None = None) -> RawConnection:
        """A raw connection; `receive_buffer` makes its kernel receive buffer that small (set before connecting, so
        the window is small from the start), for a reader whose unread bytes the kernel must not absorb."""
        sock = None
        if receive_buffer is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", self.port))
        connection = RawConnection(self.port, sock=sock)
        self._raw.append(connection)
        if hello:
            ack = connection.hello(api_key=api_key)
            assert ack.WhichOneof("kind") == "hello_ack", ack
        return connection

    # HTTP/JSON and Server-Sent Events (the --http-port front end).

    def http(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             api_key: str | None = None, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection: (status, headers with lower-case names, body bytes).

        A dict or list `body` is sent as JSON (content-type application/json unless `headers` name one); bytes and
        str as they are. `api_key` goes in ``Authorization: Bearer KEY``.
        """
        sent = dict(headers or {})
        if api_key is not None:
            sent["Authorization"] = f"Bearer {api_key}"
        payload: bytes | None
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
            if not any(name.lower() == "content-type" for name in sent):
                sent["Content-Type"] = "application/json"
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
            return response.status, _header_dict(response.getheaders()), data
        finally:
            connection.close()

    def json(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             api_key: str | None = None) -> tuple[int, dict[str, str], Any]:
        """:meth:`http` with the body parsed as JSON (None when empty)."""
        status, answer_headers, data = self.http(method, path, body, headers, api_key)
        if not data:
            return status, answer_headers, None
        try:
            return status, answer_headers, json.loads(data)
        except ValueError as failure:
            raise AssertionError(f"{method} {path} answered {status} with a body that is not JSON: {data[:300]!r}") \
                from failure

    def raw_http(self, data: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
        """Sends `data` as it is on a fresh connection and reads one response: for what http.client will not send."""
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=timeout)
        try:
            try:
                sock.sendall(data)
            except OSError:
                pass  # the server may answer and close before taking everything; its answer is still readable
            response = http.client.HTTPResponse(sock, method="GET")
            response.begin()
            body = response.read()
            return response.status, _header_dict(response.getheaders()), body
        finally:
            sock.close()

    def sse(self, path: str, headers: dict[str, str] | None = None, api_key: str | None = None,
            timeout: float = 5.0) -> EventStream:
        """Opens an event stream, checking for 200 and ``content-type: text/event-stream``; `timeout` bounds each
        wait for an event."""
        stream = EventStream.open(self.http_port, path, headers, api_key, timeout)
        self._streams.append(stream)
        if stream.status != 200 or not stream.headers.get("content-type", "").startswith("text/event-stream"):
            body = stream.rest()
            stream.close()
            raise AssertionError(f"GET {path} answered {stream.status} {stream.headers} {body[:500]!r}, "
                                 "not an event stream")
        return stream

    def cleanup(self) -> None:
        for client in self._clients:
            client.close()
        for connection in self._raw:
            connection.close()
        for stream in self._streams:
            stream.close()
        if self.process is not None:
            if self.process.poll() is None:
                if SANITIZED:
                    # A drained exit lets LeakSanitizer check the whole server run.
                    status = self.stop()
                    assert status == 0, f"jobwired exited {status} when stopped: {self.log()[-3000:]}"
                else:
                    self.process.kill()
            self._reap()
        if self.log_path.exists():
            reports = _SANITIZER_REPORT.findall(self.log())
            assert not reports, f"jobwired's sanitizer reported {reports}: {self.log()[-6000:]}"


def _read_line(stream: Any, timeout: float) -> str:
    """One line of a text stream, or "" when none came within `timeout` seconds."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def _header_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name; a repeated header's values joined with ", " (RFC 9110)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def error_of(body: Any) -> tuple[str, str]:
    """(code, reason) of the JSON error body every route answers, after checking its shape:
    ``{"error": {"code", "reason", "message"}}`` (and ``retry_after_ms`` when the server asks to wait)."""
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict) and list(error)[:3] == ["code", "reason", "message"], error
    assert set(error) <= {"code", "reason", "message", "retry_after_ms"}, error
    assert all(isinstance(error[name], str) for name in ("code", "reason", "message")), error
    assert error["message"], "every error says what went wrong"
    return error["code"], error["reason"]


class EventStream:
    """One Server-Sent Events response read off a raw socket: its status and headers, then its events.

    Each event is a dict: ``id`` (None when the event had no ``id:`` line), ``event`` (``message`` when unnamed)
    and ``data`` parsed as JSON. Comments (``: heartbeat``) and ``retry:`` lines are skipped. :meth:`next` returns
    None once the response ended: the chunked body's last chunk, or the connection closing.
    """

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.status = 0
        self.headers: dict[str, str] = {}
        #: Set when the body ended with the last chunk; `closed_by_server` when the connection closed instead.
        self.ended = False
        self.closed_by_server = False
        self.comments: list[str] = []
        self.retry_advice: list[int] = []
        self._raw = b""
        self._text = b""
        self._chunked = False
        self._remaining: int | None = None
        self._deadline = 0.0

    @classmethod
    def open(cls, port: int, path: str, headers: dict[str, str] | None, api_key: str | None,
             timeout: float) -> EventStream:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        stream = cls(sock, timeout)
        sent = {"Host": f"127.0.0.1:{port}", "Accept": "text/event-stream", **(headers or {})}
        if api_key is not None:
            sent["Authorization"] = f"Bearer {api_key}"
        head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in sent.items()) + "\r\n"
        sock.sendall(head.encode())
        stream._read_head()
        return stream

    def _receive(self) -> bytes:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no event within {self.timeout} s")
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"no event within {self.timeout} s") from None
        except ConnectionResetError:
            return b""

    def _read_head(self) -> None:
        self._deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self._raw:
            chunk = self._receive()
            if not chunk:
                raise AssertionError(f"the connection closed before a response head: {self._raw!r}")
            self._raw += chunk
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = _header_dict([tuple(line.split(":", 1)) for line in lines[1:]])  # type: ignore[misc]
        self.headers = {name: value.strip() for name, value in self.headers.items()}
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        if "content-length" in self.headers:
            self._remaining = int(self.headers["content-length"])
        elif self.status in (204, 304):
            self._remaining = 0

    def _more_body(self) -> bool:
        """Moves decoded body bytes into the event text; False once the body ended."""
        if self.ended or self.closed_by_server:
            return False
        while True:
            if self._chunked:
                if b"\r\n" in self._raw:
                    size_line, rest = self._raw.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if size == 0:
                        self.ended = True
                        return False
                    if len(rest) >= size + 2:
                        assert rest[size:size + 2] == b"\r\n", f"a chunk does not end with CRLF: {rest[:size + 8]!r}"
                        self._text += rest[:size]
                        self._raw = rest[size + 2:]
                        return True
            elif self._remaining is not None:
                if self._remaining == 0:
                    self.ended = True
                    return False
                if self._raw:
                    taken = self._raw[:self._remaining]
                    self._raw = self._raw[len(taken):]
                    self._remaining -= len(taken)
                    self._text += taken
                    return True
            elif self._raw:
                self._text += self._raw
                self._raw = b""
                return True
            chunk = self._receive()
            if not chunk:
                self.closed_by_server = True
                return False
            self._raw += chunk

    def next(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next event, or None once the response ended; fails after `timeout` (default: the stream's) s without
        one."""
        self._deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        fields: dict[str, Any] = {}
        data: list[str] = []
        while True:
            while b"\n" not in self._text:
                if not self._more_body():
                    if self._text:
                        raise AssertionError(f"the stream ended inside an event: {self._text!r}")
                    return None
            raw_line, self._text = self._text.split(b"\n", 1)
            line = raw_line.decode().rstrip("\r")
            if line == "":
                if data:
                    return {"id": fields.get("id"), "event": fields.get("event", "message"),
                            "data": json.loads("\n".join(data))}
                fields = {}
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name == "retry":
                self.retry_advice.append(int(value))
            elif name in ("id", "event"):
                fields[name] = value
            else:
                raise AssertionError(f"an unknown event stream field: {line!r}")

    def take(self, count: int, skip: tuple[str, ...] = ("bookmark",)) -> list[dict[str, Any]]:
        """The next `count` events other than those named in `skip`; fails if the stream ends first."""
        taken: list[dict[str, Any]] = []
        while len(taken) < count:
            event = self.next()
            assert event is not None, f"the stream ended after {taken}"
            if event["event"] not in skip:
                taken.append(event)
        return taken

    def until_end(self, skip: tuple[str, ...] = ("bookmark",)) -> list[dict[str, Any]]:
        """Every event up to the end of the response."""
        events: list[dict[str, Any]] = []
        while (event := self.next()) is not None:
            if event["event"] not in skip:
                events.append(event)
        return events

    def rest(self) -> bytes:
        """The body bytes left (for a response that is not an event stream), read until it ends."""
        self._deadline = time.monotonic() + self.timeout
        while self._more_body():
            pass
        text, self._text = self._text, b""
        return text

    def close(self) -> None:
        self.sock.close()


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


def status_of(status: pb.Status) -> tuple[str, str]:
    return pb.StatusCode.Name(status.code), status.reason


def cli_job(port: int, job_id: str, tail: int = 0, api_key: str | None = None) -> dict[str, Any]:
    """``jobwire get JOB_ID --json`` parsed."""
    done = run_cli("get", job_id, "--json", "--tail", str(tail), port=port, api_key=api_key)
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


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


# WatchJobs.

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
