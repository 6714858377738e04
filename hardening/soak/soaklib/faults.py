"""The coordinator's fault injection: raw connections reset at awkward moments, each followed by a Health check, and
the sweep of jobs they left."""
from __future__ import annotations

import random
import socket
import struct
import time

import jobwire
from helpers import RawConnection
from jobwire import _rpc
from jobwire._pb import jobwire_pb2 as pb
from jobwire.errors import JobWireError

from .common import mono, rst_close


class FaultInjection:
    """Part of ``Soak``: the faults it injects (uses its server, ledger and stop event)."""

    def fault_injector(self) -> None:
        """Raw connections reset at awkward moments; after each, the server must still answer Health."""
        rng = random.Random(f"{self.args.seed}/faults")
        kinds = ["mid-call-list", "mid-call-gets", "mid-watch", "partial-frame", "mid-handshake",
                 "after-configure", "unread-replies"]
        next_sweep = mono() + 20
        while not self.stop.wait(rng.uniform(1.5, 4.0)):
            if mono() >= self.t_end:
                return
            self.server_up.wait()
            kind = rng.choice(kinds)
            try:
                self.raw_fault(kind, rng)
                self.raw_faults[kind] += 1
            except OSError as failure:
                self.stats.fault(f"raw:{kind}", "coordinator/raw", f"{type(failure).__name__}")
            try:
                health = self.coordinator_call("Health", lambda: self.client.health())
                if health.status != jobwire.ServingStatus.SERVING:
                    self.violation(f"Health after a raw {kind} fault: {health.status.name}")
            except JobWireError:
                pass
            if mono() >= next_sweep:
                next_sweep = mono() + 20
                self.sweep_raw_jobs()

    def known_job(self, rng: random.Random) -> str:
        try:
            page = self.coordinator_call("ListJobs", lambda: self.client.list_page(page_size=50))
            if page.jobs:
                return rng.choice(page.jobs).job_id
        except JobWireError:
            pass
        return "00000000-0000-4000-8000-000000000000"

    def raw_fault(self, kind: str, rng: random.Random) -> None:
        port = self.server.port
        if kind == "mid-handshake":
            raw = RawConnection(port)
            self.raw_ports.append((mono(), raw.sock.getsockname()[1], kind))
            hello = pb.Frame(hello=pb.Hello(protocol_version=1, client_name="soak-raw")).SerializeToString()
            raw.send_bytes(struct.pack(">I", len(hello)) + hello[:rng.randint(1, len(hello) - 1)])
            rst_close(raw.sock)
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        raw = RawConnection(sock=sock)
        self.raw_ports.append((mono(), sock.getsockname()[1], kind))
        try:
            ack = raw.hello()
            if ack.WhichOneof("kind") != "hello_ack":
                self.violation(f"raw fault {kind}: Hello answered {ack}")
                return
            if kind == "mid-call-list":
                raw.call(1, _rpc.LIST_JOBS, pb.ListJobsRequest(page_size=500).SerializeToString(), 10_000)
            elif kind == "mid-call-gets":
                job_id = self.known_job(rng)
                for stream in range(1, 40, 2):
                    raw.call(stream, _rpc.GET_METADATA, pb.GetMetadataRequest(job_id=job_id,
                                                                              log_tail=100).SerializeToString())
            elif kind == "mid-watch":
                job_id = self.known_job(rng)
                raw.call(1, _rpc.WATCH_JOB, pb.WatchJobRequest(job_id=job_id).SerializeToString())
                try:
                    raw.read(timeout=2.0)
                except OSError:
                    pass
                time.sleep(rng.uniform(0.0, 0.5))
            elif kind == "partial-frame":
                body = pb.Frame(call=pb.Call(stream_id=1, method=_rpc.LIST_JOBS, request=pb.ListJobsRequest(
                    page_size=100).SerializeToString())).SerializeToString()
                raw.send_bytes(struct.pack(">I", len(body)) + body[:rng.randint(0, len(body) - 1)])
            elif kind == "after-configure":
                job = pb.Job(type="soak-raw", labels={"origin": "raw", "soak": "1"})
                raw.call(1, _rpc.CONFIGURE, pb.ConfigureRequest(job=job).SerializeToString())
            elif kind == "unread-replies":
                # Replies pile up in the server for a client that does not read (its receive buffer is tiny), then
                # the RST. Kept well under --max-output-buffer-bytes (1 MiB): jobwired answers every call of a batch
                # it has read before it checks that bound, so a bigger burst measures that (known) overshoot in the
                # RSS instead of looking for leaks.
                for stream in range(1, 16, 2):
                    raw.call(stream, _rpc.LIST_JOBS, pb.ListJobsRequest(page_size=25).SerializeToString())
                time.sleep(rng.uniform(0.0, 0.5))
            self.stats.call(f"raw:{kind}")
        finally:
            rst_close(raw.sock)

    def sweep_raw_jobs(self) -> None:
        """Deletes the jobs raw Configures left behind (PENDING for ever otherwise)."""
        client = self.client
        try:
            page = self.coordinator_call("ListJobs", lambda: client.list_page(labels={"origin": "raw"},
                                                                             page_size=500))
            for job in page.jobs:
                try:
                    self.coordinator_call("DeleteJob", lambda: client.delete(job.job_id))
                    self.stats.bump("raw jobs swept")
                except JobWireError:
                    pass
        except JobWireError:
            pass
