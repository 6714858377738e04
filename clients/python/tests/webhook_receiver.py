"""A webhook receiver on loopback for the tests: answers each message with the next status of its script (then 200),
optionally only once released, and verifies every message's signature as Standard Webhooks says (docs/WEBHOOKS.md)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Message:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def signatures(self) -> list[str]:
        return [value for version, _, value in (part.partition(",") for part in self.headers["webhook-signature"].split(" "))
                if version == "v1"]

    def signed_by(self, secret: str) -> bool:
        """Whether one v1 signature is the HMAC of this message with `secret` (the signature check a receiver makes)."""
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.id}.{self.headers['webhook-timestamp']}.".encode() + self.body
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        return any(hmac.compare_digest(base64.b64decode(value), expected) for value in self.signatures())

    def recent(self, tolerance: float = 300) -> bool:
        return abs(time.time() - int(self.headers["webhook-timestamp"])) <= tolerance


class Receiver:
    def __init__(self, statuses: tuple[int, ...] = (), held: bool = False, port: int = 0) -> None:
        self.statuses = list(statuses)
        self.messages: list[Message] = []
        self.answered = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        if not held:
            self.release.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.messages.append(Message({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.release.wait(30)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver.lock:
                    receiver.answered += 1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def received(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver got {len(self.received())} messages, not {count}, in {timeout} s")
            time.sleep(0.01)
        return self.received()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
