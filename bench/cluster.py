"""(j) Three jobwired nodes on one PostgreSQL (docs/OPERATIONS.md, "Several nodes on PostgreSQL").

A throwaway PostgreSQL (Debian's, as the tests run it: clients/python/tests/postgres_server.py) and three release
nodes on one database: one writes, two stand by and relay to it. Measured, alternating with their references:

- acknowledged creates per second at 64 clients spread over the three nodes (three load generators at once, 22, 21
  and 21 connections), against `pgbench` at 64 clients running a single-row INSERT of the same row (a copy of one row
  jobwired wrote, into a table shaped like its `jobs`) on the same database: SUMMARY `pg_vs_pgbench`, goal >= 0.8;
- GetMetadata at 64 connections through a standby (relayed to the writer) against a node on the SQLite store:
  `get_pg_vs_sqlite`, goal >= 0.9; the writer's own rate is shown beside it;
- watch delivery at 1,000 watchers with the watchers and the updater connected to a standby (every event crosses
  from the writer to the standby): `pg_watch_p99_ms`, goal < 50 ms.

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


def concurrently(*runs: list[str | int | float]) -> list[dict[str, float]]:
    """Several load generators at once; each one's result."""
    processes = [subprocess.Popen([str(LOADGEN), "--quiet", *map(str, run)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for run in runs]
    results = []
    for process in processes:
        output, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"loadgen failed ({process.returncode}): {errors[-2000:]}")
        results.append(json.loads([line for line in output.splitlines() if line.startswith("{")][-1]))
    return results


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
    writer_gets: list[float] = []
    sqlite_gets: list[float] = []
    watch_p99: list[float] = []
    try:
        for _ in range(rounds):
            url = database.create_database()
            writer = node(bin_dir, "--database-url", url)
            standbys = [node(bin_dir, "--database-url", url) for _ in range(2)]
            try:
                ports = [writer.port, *(standby.port for standby in standbys)]
                created = concurrently(*[["--protocol", "jobwire", "--mode", "create", "--port", port,
                                          "--connections", connections, "--depth", 1, "--seconds", seconds,
                                          "--warmup", warmup] for port, connections in zip(ports, [22, 21, 21])])
                creates.append(sum(float(result["rps"]) for result in created))
                inserts.append(pgbench(database, url, seconds))
                pg_gets.append(float(loadgen("--protocol", "jobwire", "--mode", "get", "--port", standbys[0].port,
                                             "--connections", CLIENTS, "--jobs", 10_000, "--depth", 1,
                                             "--seconds", seconds, "--warmup", warmup)["rps"]))
                writer_gets.append(float(loadgen("--protocol", "jobwire", "--mode", "get", "--port", writer.port,
                                                 "--connections", CLIENTS, "--jobs", 10_000, "--depth", 1,
                                                 "--seconds", seconds, "--warmup", warmup)["rps"]))
                fanout = loadgen("--protocol", "jobwire", "--mode", "fanout", "--port", standbys[1].port,
                                 "--watchers", WATCHERS, "--jobs-watched", 100, "--rate", 1_000,
                                 "--seconds", seconds, "--warmup", warmup)
                watch_p99.append(float(fanout["p99_us"]) / 1000)
            finally:
                for server in [*standbys, writer]:
                    server.stop()
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
    writer_get = statistics.median(writer_gets)
    p99 = statistics.median(watch_p99)
    def listed(values: list[float]) -> str:
        return ", ".join(f"{value:,.0f}" for value in values)
    table = "\n".join([
        f"(j) Three nodes on one PostgreSQL {database.version}: one writer, two standbys relaying to it; "
        f"{CLIENTS} clients; median of {rounds} round(s)",
        "",
        "| measure | JobWire | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| acknowledged creates/s, clients spread over the 3 nodes, vs pgbench single-row INSERT/s, same row | {create:,.0f} "
        f"({listed(creates)}) | {insert:,.0f} ({listed(inserts)}) | {create / insert:.2f} |",
        f"| GetMetadata/s through a standby vs a SQLite node | {pg_get:,.0f} ({listed(pg_gets)}) | "
        f"{sqlite_get:,.0f} ({listed(sqlite_gets)}) | {pg_get / sqlite_get:.2f} |",
        f"| GetMetadata/s on the writer itself vs a SQLite node | {writer_get:,.0f} ({listed(writer_gets)}) | "
        f"{sqlite_get:,.0f} | {writer_get / sqlite_get:.2f} |",
        f"| watch delivery p99 at {WATCHERS:,} watchers, watchers and updater on a standby, ms | {p99:.1f} | | |",
    ])
    return table, create / insert, pg_get / sqlite_get, p99


if __name__ == "__main__":
    table, *_ = measure(Path(sys.argv[1]), quick="--quick" in sys.argv)
    print(table)
