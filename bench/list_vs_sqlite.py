#!/usr/bin/env python3
"""ListJobs among a million jobs against SQLite answering the same query (issue 19).

The first page of ListJobs with a status filter and a search (`--status`,
`--query`), with its exact total, from a release jobwired whose store holds
`--jobs` jobs (made by `jobwire-bench-store --varied`), against SQLite answering
the same question over the same rows: a copy of that store's own database with
an index on (tenant, status, sequence), selecting the page (the 100 newest
matching jobs' encoded bytes) and counting every match, in this process.

Both sides are timed end to end from Python, alternating, `--rounds` times:
JobWire's call over loopback (a prebuilt Call frame sent, the reply frames read
until the End; the jobs are not decoded), SQLite's two statements with their
rows fetched. Prints one Markdown table and `list_vs_sqlite=<SQLite median /
JobWire median>` (≥ 1.0: JobWire at least as fast).

    bench/list_vs_sqlite.py [--jobs 1000000] [--rounds 30] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))
import bench_support as support  # noqa: E402
from jobwire._framing import FrameDecoder  # noqa: E402
from jobwire._pb import jobwire_pb2 as pb  # noqa: E402

BIN = ROOT / ".build" / "release"
PREFIX = struct.Struct(">I")

# The query's statuses by their numbers in jobwire.proto and in the store's status column.
STATUSES = {"pending": pb.JOB_STATUS_PENDING, "running": pb.JOB_STATUS_RUNNING, "completed": pb.JOB_STATUS_COMPLETED,
            "failed": pb.JOB_STATUS_FAILED, "cancelled": pb.JOB_STATUS_CANCELLED}

SQL_MATCH = """
    tenant = ?1 AND status = ?2 AND (
        instr(lower(type), ?3) > 0 OR instr(lower(current_task), ?3) > 0 OR lower(job_id) LIKE ?3 || '%'
        OR EXISTS (SELECT 1 FROM job_labels AS l WHERE l.sequence = jobs.sequence AND instr(lower(l.value), ?3) > 0))
"""


def frame(message: pb.Frame) -> bytes:
    body = message.SerializeToString()
    return PREFIX.pack(len(body)) + body


class RawJobWire:
    """One connection speaking the protocol by hand: enough to time a call without decoding its jobs."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = FrameDecoder()
        self.pending: list[bytes] = []
        self.stream = 1
        self.socket.sendall(frame(pb.Frame(hello=pb.Hello(protocol_version=1, client_name="list-bench"))))
        self.next_frame()

    def next_frame(self) -> pb.Frame:
        while not self.pending:
            data = self.socket.recv(1 << 20)
            if not data:
                raise RuntimeError("jobwired closed the connection")
            self.pending += self.decoder.feed(data)
        parsed = pb.Frame()
        parsed.ParseFromString(self.pending.pop(0))
        return parsed

    def call(self, method: str, request: bytes) -> tuple[int, int, int]:
        """(reply bytes, End code, total_count) of one call."""
        stream = self.stream
        self.stream += 1
        self.socket.sendall(frame(pb.Frame(call=pb.Call(stream_id=stream, method=method, request=request))))
        reply_bytes = 0
        total = 0
        while True:
            received = self.next_frame()
            if received.HasField("reply"):
                reply_bytes += len(received.reply.message)
                page = pb.ListJobsResponse()
                # Only the total: the jobs stay bytes (a lazy field would be as costly to skip).
                page.MergeFromString(received.reply.message)
                total = page.total_count
            elif received.HasField("end"):
                return reply_bytes, received.end.status.code, total
            elif received.HasField("ping"):
                self.socket.sendall(frame(pb.Frame(pong=pb.Pong(payload=received.ping.payload))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--status", default="running", choices=sorted(STATUSES))
    parser.add_argument("--query", default="north")
    parser.add_argument("--data-dir", help="a kept `jobwire-bench-store --varied` store of --jobs jobs (made if missing)")
    options = parser.parse_args()

    data_dir = Path(options.data_dir or tempfile.mkdtemp(prefix="jobwire-list-bench-"))
    database = data_dir / "jobwire.sqlite"
    if not database.exists():
        print(f"[list] writing {options.jobs:,} varied jobs into {data_dir}", file=sys.stderr, flush=True)
        subprocess.run([str(BIN / "jobwire-bench-store"), "--jobs", str(options.jobs), "--data-dir", str(data_dir),
                        "--keep", "--varied"], check=True, stdout=subprocess.DEVNULL)

    # SQLite's side: the same rows, indexed for the query (a copy, so jobwired's store stays as it was).
    peer_dir = Path(tempfile.mkdtemp(prefix="jobwire-list-sqlite-"))
    try:
        source = sqlite3.connect(database)
        peer = sqlite3.connect(peer_dir / "peer.sqlite")
        source.backup(peer)
        source.close()
        peer.execute("CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (tenant, status, sequence)")
        peer.execute("ANALYZE")
        page_sql = f"SELECT job FROM jobs WHERE {SQL_MATCH} ORDER BY sequence DESC LIMIT 100"
        count_sql = f"SELECT count(*) FROM jobs WHERE {SQL_MATCH}"
        arguments = ("default", STATUSES[options.status], options.query.lower())

        server = support.start("jobwired", [str(BIN / "jobwired"), "--port", "0", "--no-http", "--log-level", "error",
                                            "--data-dir", str(data_dir)], r"jobwired listening on [^:]+:(\d+)")
        try:
            client = RawJobWire(server.port)
            request = pb.ListJobsRequest(statuses=[STATUSES[options.status]], query=options.query,
                                         page_size=100).SerializeToString()
            method = "/jobwire.v1.JobService/ListJobs"
            ours: list[float] = []
            theirs: list[float] = []
            total = sqlite_total = 0
            for _ in range(options.rounds):
                started = time.perf_counter()
                _, code, total = client.call(method, request)
                ours.append(time.perf_counter() - started)
                if code != 0:
                    raise RuntimeError(f"ListJobs ended with status {code}")
                started = time.perf_counter()
                rows = peer.execute(page_sql, arguments).fetchall()
                (sqlite_total,) = peer.execute(count_sql, arguments).fetchone()
                theirs.append(time.perf_counter() - started)
                if len(rows) != min(100, sqlite_total):
                    raise RuntimeError("SQLite returned a short page")
            if total != sqlite_total:
                raise RuntimeError(f"the two disagree on the total: JobWire {total}, SQLite {sqlite_total}")
        finally:
            server.stop()
    finally:
        shutil.rmtree(peer_dir, ignore_errors=True)
        if not options.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    def ms(values: list[float], fraction: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    print(f"ListJobs first page (100 jobs) and exact total among {options.jobs:,} jobs: status {options.status}, "
          f"query \"{options.query}\", {total:,} matching; {options.rounds} rounds, alternating.\n")
    print("| system | median ms | p90 ms | min ms |")
    print("|---|---:|---:|---:|")
    print(f"| JobWire ListJobs over loopback | {statistics.median(ours) * 1000:.2f} | {ms(ours, 0.9):.2f} | "
          f"{min(ours) * 1000:.2f} |")
    print(f"| SQLite, indexed (tenant, status, sequence), page + count | {statistics.median(theirs) * 1000:.2f} | "
          f"{ms(theirs, 0.9):.2f} | {min(theirs) * 1000:.2f} |")
    print()
    print(f"list_vs_sqlite={statistics.median(theirs) / statistics.median(ours):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
