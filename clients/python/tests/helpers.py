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
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

import jobwire
import jobwire.aio
from jobwire._pb import jobwire_pb2 as pb

# Re-exported: the tests import every helper from here.
from http_helpers import EventStream, _header_dict, error_of  # noqa: E402,F401
from raw_helpers import FakeConnection, FakeServer, RawConnection  # noqa: E402,F401
from watch_jobs_helpers import (EXPECTED_FILTER, FILTERS, QUICK_BOOKMARKS, fake_event, listed, next_event,  # noqa: F401
                                scripted_watch_server, snapshot_jobs, take_events, until_synced)

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
#: The store the suite's servers run on: ``postgres`` under `make test-python-postgres`, else ``sqlite``.
STORE = "postgres" if os.environ.get("JOBWIRE_TEST_STORE", "") == "postgres" else "sqlite"
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

    def __init__(self, directory: pathlib.Path, args: tuple[str, ...] = (), keys_file: pathlib.Path | None = None,
                 database_url: str | None = None):
        #: When set, the server may write no file larger than this many KiB (RLIMIT_FSIZE, with SIGXFSZ
        #: ignored): a write that would grow the store past it fails as on a full disk.
        self.file_size_limit_kib: int | None = None
        self.directory = directory
        self.data_dir = directory / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.args = args
        self.keys_file = keys_file
        #: With a URL, the node runs on the postgres store there instead of SQLite in ``data_dir``.
        self.database_url = database_url
        self.port = 0
        #: The HTTP/JSON and Server-Sent Events port (``--http-port``): 0 until the first start picks one.
        self.http_port = 0
        self.process: subprocess.Popen[str] | None = None
        self.log_path = directory / "jobwired.log"
        self._clients: list[jobwire.Client] = []
        self._raw: list[RawConnection] = []
        self._streams: list[EventStream] = []

    def start(self, wait: bool = True) -> None:
        """Starts jobwired (on the same ports as before, when restarting) and waits for its two ready lines (unless
        ``wait`` is false: a postgres standby prints them only once it writes; see :meth:`wait_ready`)."""
        store = (["--store", "postgres", "--database-url", self.database_url] if self.database_url
                 else ["--data-dir", str(self.data_dir)])
        command = [binary("JOBWIRED"), "--port", str(self.port), "--http-port", str(self.http_port),
                   *store, "--log-level", "warning", *self.args]
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
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 15) -> None:
        """Waits for the ready lines of the process :meth:`start` began, and learns its ports."""
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
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


def status_of(status: pb.Status) -> tuple[str, str]:
    return pb.StatusCode.Name(status.code), status.reason


def cli_job(port: int, job_id: str, tail: int = 0, api_key: str | None = None) -> dict[str, Any]:
    """``jobwire get JOB_ID --json`` parsed."""
    done = run_cli("get", job_id, "--json", "--tail", str(tail), port=port, api_key=api_key)
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed
