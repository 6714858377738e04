"""Long-running reproduction (not part of the pytest suite): connections reset while new ones reuse their descriptors.

Each round opens 10 connections and completes their handshakes, resets them all (RST), then opens 10 new
connections, which the server accepts on the descriptors just freed, and checks that each new connection's Hello,
sent at once, is answered with a HelloAck. A server that closes a connection's descriptor while one of its Dispatch
sources is still registered for it can lose the new connection's read events (its Hello is never read: GoAway
HANDSHAKE_TIMEOUT) or trip libdispatch's own checks (the process dies with SIGILL in
``_dispatch_source_refs_finalize_unregistration``). Both are rare per connection, so this takes tens of thousands of
handshakes; it runs one jobwired of its own and prints every failure.

    JOBWIRED=/tmp/jw-bin/jobwired clients/python/.venv/bin/python hardening/hostile/repro_descriptor_reuse.py 4000
"""
from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from support import FrameBuffer, hello_bytes, kind, set_reset_on_close  # noqa: E402

HELLO = hello_bytes("reuse")
BATCH = 10


def handshake(sock: socket.socket) -> str:
    """'hello_ack', or what came instead."""
    try:
        sock.sendall(HELLO)
        buffer = FrameBuffer()
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed without an answer"
            frames = buffer.feed(chunk)
            if frames:
                frame = frames[0]
                return "hello_ack" if kind(frame) == "hello_ack" else f"GoAway {frame.goaway.status.reason}"
    except OSError as failure:
        return type(failure).__name__


def run_round(port: int, round_number: int) -> int:
    """One round; returns the failures seen."""
    failures = 0
    victims = []
    for _ in range(BATCH):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if (result := handshake(sock)) != "hello_ack":
            print(f"round {round_number}: a connection to be reset got {result!r}", flush=True)
            failures += 1
        victims.append(sock)
    for sock in victims:
        set_reset_on_close(sock)
        sock.close()
    for _ in range(BATCH):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if (result := handshake(sock)) != "hello_ack":
            print(f"round {round_number}: a new connection got {result!r} instead of a HelloAck", flush=True)
            failures += 1
        set_reset_on_close(sock)
        sock.close()
    return failures


def main(rounds: int) -> int:
    binary = os.environ["JOBWIRED"]
    directory = pathlib.Path(tempfile.mkdtemp(prefix="jw-reuse-"))
    (directory / "data").mkdir()
    log = (directory / "jobwired.log").open("w")
    server = subprocess.Popen([binary, "--port", "0", "--data-dir", str(directory / "data"), "--log-level", "warning",
                               "--handshake-timeout", "2s"], stdout=subprocess.PIPE, stderr=log, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
    failures = 0
    rounds_run = 0
    started = time.monotonic()
    try:
        for round_number in range(rounds):
            rounds_run = round_number + 1
            if server.poll() is not None:
                print(f"round {round_number}: jobwired exited with status {server.poll()}")
                failures += 1
                break
            try:
                failures += run_round(port, round_number)
            except OSError as failure:
                print(f"round {round_number}: {type(failure).__name__}: {failure}", flush=True)
                failures += 1
                time.sleep(0.2)
    finally:
        alive = server.poll() is None
        server.kill()
        server.wait()
        log.close()
    print(f"{failures} failures in {rounds_run * BATCH * 2} handshakes, {time.monotonic() - started:.0f} s; "
          f"server alive at the end: {alive}")
    if not alive:
        print((directory / "jobwired.log").read_text()[-3000:])
    shutil.rmtree(directory, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000))
