"""(j) Three jobwired nodes on one PostgreSQL (docs/OPERATIONS.md, "Several nodes on PostgreSQL").

A throwaway PostgreSQL (Debian's, as the tests run it: clients/python/tests/postgres_server.py) and three release
nodes on one database: one writes, two wait as standbys. Measured, alternating with their references in one run:

- acknowledged creates per second at 64 clients, each given all three addresses (all land on the writer: standbys
  do not serve), against `pgbench` at 64 clients running a single-row INSERT of the same row (a copy of one row
  jobwired wrote, into a table shaped like its `jobs`) on the same database: SUMMARY `pg_vs_pgbench`, goal >= 0.8;
- GetMetadata at 64 connections on the postgres writer against a node on the SQLite store: `get_pg_vs_sqlite`,
  goal >= 0.9 (reads are served from memory on both);
- watch delivery at 1,000 watchers on the postgres writer: `pg_watch_p99_ms`, goal < 50 ms.

    python3 bench/cluster.py BIN_DIR [--quick]
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_support as support  # noqa: E402 (bench/ is on sys.path when run from there)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "clients" / "python" / "tests"))
from postgres_server import PostgresServer  # noqa: E402

LOADGEN = Path(__file__).resolve().parent / ".build" / "loadgen"
CLIENTS = 64
WATCHERS = 1_000


def loadgen(*arguments: str | int | float) -> dict[str, float]:
    done = subprocess.run([str(LOADGEN), "--quiet", *map(str, arguments)], capture_output=True, text=True, check=True)
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def node(bin_dir: Path, *flags: str) -> support.Server:
    return support.start("jobwired", [str(bin_dir / "jobwired"), "--port", "0", "--no-http", "--log-level", "error",
                                      "--max-connections-per-address", "0", "--max-connections", "5000", *flags],
                         r"jobwired listening on [^:]+:(\d+)")


def standby(bin_dir: Path, url: str) -> subprocess.Popen[str]:
    """A node that waits for the writer lock (it prints nothing until it has it)."""
    return subprocess.Popen([str(bin_dir / "jobwired"), "--port", "0", "--no-http", "--log-level", "error",
                             "--database-url", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pgbench(database: PostgresServer, url: str, seconds: float) -> float:
    """Transactions per second of the single-row INSERT at CLIENTS clients."""
    name = url.rsplit("/", 1)[1]
    database.sql("CREATE TABLE IF NOT EXISTS bench_jobs (LIKE jobs INCLUDING ALL)", name)
    database.sql("CREATE SEQUENCE IF NOT EXISTS bench_sequence", name)
    script = Path(tempfile.mkdtemp(prefix="jobwire-bench-pgbench-")) / "insert.sql"
    script.write_text("INSERT INTO bench_jobs SELECT nextval('bench_sequence'), job_id, job, request_id, "
                      "request_fingerprint, lease_ttl_ms, tenant, type, labels, priority, status, created_at_ms, "
                      "expires_at_ms, lease_expires_at_ms, stream_port, log_line_count, revision, current_task, "
                      "updated_at_ms, completed_at_ms, change_sequence FROM jobs WHERE sequence = 1;\n")
    done = subprocess.run([str(database.bin / "pgbench"), "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(int(seconds)),
                           "-f", str(script), url], capture_output=True, text=True, check=True)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))


def measure(bin_dir: Path, quick: bool = False) -> tuple[str, float, float, float]:
    """The Markdown table and (pg_vs_pgbench, get_pg_vs_sqlite, pg_watch_p99_ms)."""
    seconds, warmup, rounds = (2, 0.5, 1) if quick else (10, 2, 3)
    database = PostgresServer()
    database.start()
    creates: list[float] = []
    inserts: list[float] = []
    pg_gets: list[float] = []
    sqlite_gets: list[float] = []
    watch_p99: list[float] = []
    try:
        for _ in range(rounds):
            url = database.create_database()
            writer = node(bin_dir, "--database-url", url)
            standbys = [standby(bin_dir, url) for _ in range(2)]
            try:
                creates.append(float(loadgen("--protocol", "jobwire", "--mode", "create", "--port", writer.port,
                                             "--connections", CLIENTS, "--depth", 1, "--seconds", seconds,
                                             "--warmup", warmup)["rps"]))
                inserts.append(pgbench(database, url, seconds))
                pg_gets.append(float(loadgen("--protocol", "jobwire", "--mode", "get", "--port", writer.port,
                                             "--connections", CLIENTS, "--jobs", 10_000, "--depth", 1,
                                             "--seconds", seconds, "--warmup", warmup)["rps"]))
                fanout = loadgen("--protocol", "jobwire", "--mode", "fanout", "--port", writer.port,
                                 "--watchers", WATCHERS, "--jobs-watched", 100, "--rate", 1_000,
                                 "--seconds", seconds, "--warmup", warmup)
                watch_p99.append(float(fanout["p99_us"]) / 1000)
            finally:
                writer.stop()
                for process in standbys:
                    process.terminate()
                    process.wait(15)
            data = tempfile.mkdtemp(prefix="jobwire-bench-sqlite-")
            sqlite = node(bin_dir, "--data-dir", data)
            try:
                sqlite_gets.append(float(loadgen("--protocol", "jobwire", "--mode", "get", "--port", sqlite.port,
                                                 "--connections", CLIENTS, "--jobs", 10_000, "--depth", 1,
                                                 "--seconds", seconds, "--warmup", warmup)["rps"]))
            finally:
                sqlite.stop()
    finally:
        database.cleanup()
    create, insert = statistics.median(creates), statistics.median(inserts)
    pg_get, sqlite_get = statistics.median(pg_gets), statistics.median(sqlite_gets)
    p99 = statistics.median(watch_p99)
    def listed(values: list[float]) -> str:
        return ", ".join(f"{value:,.0f}" for value in values)
    table = "\n".join([
        f"(j) Three nodes on one PostgreSQL {database.version}: one writer, two standbys; {CLIENTS} clients; "
        f"median of {rounds} round(s)",
        "",
        "| measure | JobWire | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| acknowledged creates/s (all on the writer) vs pgbench single-row INSERT/s, same row | {create:,.0f} "
        f"({listed(creates)}) | {insert:,.0f} ({listed(inserts)}) | {create / insert:.2f} |",
        f"| GetMetadata/s on the postgres writer vs a SQLite node | {pg_get:,.0f} ({listed(pg_gets)}) | "
        f"{sqlite_get:,.0f} ({listed(sqlite_gets)}) | {pg_get / sqlite_get:.2f} |",
        f"| watch delivery p99 at {WATCHERS:,} watchers on the writer, ms | {p99:.1f} | | |",
    ])
    return table, create / insert, pg_get / sqlite_get, p99


if __name__ == "__main__":
    table, *_ = measure(Path(sys.argv[1]), quick="--quick" in sys.argv)
    print(table)
