#!/usr/bin/env python3
"""Cluster soak: three jobwired nodes on one PostgreSQL for N minutes, the writer SIGKILLed again and again.

    clients/python/.venv/bin/python hardening/soak/cluster_soak.py --minutes 5 --jobwired PATH

What it does (`make cluster-soak`; docs/OPERATIONS.md, "Several nodes on PostgreSQL"):

- starts a throwaway PostgreSQL (Debian's, as clients/python/tests/postgres_server.py runs it) and three nodes on one
  database: one writes, two stand by and relay to it;
- runs writer threads, each with a client given every node's address, creating jobs (half with a request id, sent
  again after every move), taking them through RUNNING to COMPLETED,;
- every ``--kill-every`` seconds SIGKILLs the node that writes and starts it again (it comes back as a standby), and
  checks that exactly one standby took over (one "now writes" line in all the nodes' logs per kill);
- keeps a ledger of every acknowledged write and checks it at the end against what PostgreSQL holds: no
  acknowledged job missing, no revision behind what was acknowledged.

The last line is ``CLUSTER SOAK PASS ...`` or ``CLUSTER SOAK FAIL reason...``; the exit status is 0 or 1.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import threading
import time

TESTS = pathlib.Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"
sys.path.insert(0, str(TESTS))

import jobwire  # noqa: E402
from jobwire import JobSpec, JobStatus, StatusCode  # noqa: E402
from cluster_support import Cluster, is_standby  # noqa: E402
from postgres_server import PostgresServer  # noqa: E402


class Ledger:
    """Every acknowledged write: the revision each job reached, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.revisions: dict[str, int] = {}
        self.request_ids: dict[str, str] = {}
        self.unexpected: list[str] = []

    def acknowledged(self, job: jobwire.Job) -> None:
        with self.lock:
            self.revisions[job.job_id] = max(job.revision, self.revisions.get(job.job_id, 0))


def writer(cluster: Cluster, ledger: Ledger, stop: threading.Event, index: int) -> None:
    client = cluster.client()
    sequence = 0
    while not stop.is_set():
        sequence += 1
        request_id = f"w{index}-{sequence}" if sequence % 2 == 0 else ""
        try:
            created = client.configure(JobSpec(type="soak", labels={"writer": str(index)}), request_id=request_id)
            ledger.acknowledged(created.job)
            if request_id:
                with ledger.lock:
                    known = ledger.request_ids.setdefault(request_id, created.job.job_id)
                if known != created.job.job_id:
                    ledger.unexpected.append(f"request id {request_id} made two jobs")
            for status in (JobStatus.RUNNING, JobStatus.COMPLETED):
                ledger.acknowledged(client.update(created.job.job_id, status=status))
        except jobwire.JobWireError as error:
            # A write in flight when its node died may or may not have landed: the client says CONNECTION_LOST
            # rather than resend it. Those, and calls that found no node during a move, are expected.
            if error.code not in (StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED):
                ledger.unexpected.append(f"writer {index}: {error!r}")
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--jobwired", default=os.environ.get("JOBWIRED", ""))
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=15.0, help="seconds between SIGKILLs of the writer")
    args = parser.parse_args()
    if not args.jobwired or not os.access(args.jobwired, os.X_OK):
        print("CLUSTER SOAK FAIL give --jobwired (or JOBWIRED)")
        return 1
    os.environ["JOBWIRED"] = args.jobwired
    database = PostgresServer()
    database.start()
    directory = pathlib.Path(tempfile.mkdtemp(prefix="jobwire-cluster-soak-"))
    cluster = Cluster(directory, database.create_database())
    ledger = Ledger()
    stop = threading.Event()
    failures: list[str] = []
    try:
        nodes = [cluster.add() for _ in range(3)]
        def takeovers() -> list[int]:
            return [node.log().count("this node now writes") for node in nodes]

        threads = [threading.Thread(target=writer, args=(cluster, ledger, stop, index)) for index in range(args.writers)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + args.minutes * 60
        kills = 0
        writer_node = nodes[0]
        while time.monotonic() + args.kill_every < deadline:
            time.sleep(args.kill_every)
            writer_node.kill()
            kills += 1
            # One of the standbys takes over; the killed node comes back as a standby.
            before = takeovers()
            started = time.monotonic()
            while sum(takeovers()) == sum(before):
                if time.monotonic() - started > 30:
                    failures.append(f"no standby took over within 30 s after kill {kills}")
                    raise RuntimeError(failures[-1])
                time.sleep(0.02)
            time.sleep(0.5)  # a second takeover would show by now
            after = takeovers()
            if sum(after) != sum(before) + 1:
                failures.append(f"kill {kills}: {sum(after) - sum(before)} nodes took over")
            print(f"kill {kills}: a standby took over after {time.monotonic() - started - 0.5:.2f} s; "
                  f"{len(ledger.revisions)} jobs acknowledged", flush=True)
            writer_node.start()
            writer_node = nodes[next(index for index in range(len(nodes)) if after[index] > before[index])]
        time.sleep(max(0.0, deadline - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(60)
        failures += ledger.unexpected
        # The truth is the database's: read every job's revision there (ListJobs of a few hundred thousand jobs
        # through a node takes minutes).
        name = cluster.database_url.rsplit("/", 1)[1]
        rows = database.sql("SELECT job_id || ' ' || revision FROM jobs WHERE type = 'soak'", name).splitlines()
        stored = {job_id: int(revision) for job_id, revision in (row.split() for row in rows)}
        with ledger.lock:
            missing = [job_id for job_id in ledger.revisions if job_id not in stored]
            behind = [job_id for job_id, revision in ledger.revisions.items()
                      if job_id in stored and stored[job_id] < revision]
        if missing:
            failures.append(f"{len(missing)} acknowledged jobs missing, e.g. {missing[:3]}")
        if behind:
            failures.append(f"{len(behind)} jobs behind an acknowledged revision, e.g. {behind[:3]}")
        if not any(is_standby(node) for node in nodes):
            failures.append("no node ever waited as a standby")
        summary = f"{len(ledger.revisions)} jobs acknowledged, {kills} writer kills, {len(stored)} jobs stored"
        if failures:
            print("CLUSTER SOAK FAIL " + "; ".join(failures[:10]) + f" ({summary})")
            return 1
        print(f"CLUSTER SOAK PASS {summary}")
        return 0
    finally:
        stop.set()
        cluster.cleanup()
        database.cleanup()


if __name__ == "__main__":
    sys.exit(main())
