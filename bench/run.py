#!/usr/bin/env python3
"""JobWire side by side with what users would pick instead (the benchmarks issue).

Runs every scenario against JobWire and its peers on loopback, prints one
Markdown table per scenario, writes them into docs/BENCHMARKS.md between the
`bench-results` markers, and ends with the SUMMARY line. `make bench` builds
everything first; `make bench-quick` passes --quick (short runs, small counts).

    bench/run.py [--quick] [--no-docs] [--only a,b,c,d,e,f,g,h,i,j]

Every server is started here on a free loopback port and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_support as support  # noqa: E402
import cluster  # noqa: E402
import http_get  # noqa: E402
import tls_get  # noqa: E402
import webhooks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".build" / "release"
LOADGEN = ROOT / "bench" / ".build" / "loadgen"
ECHO = ROOT / "bench" / ".build" / "echo"
GRPC_PEER = ROOT / "bench" / "peers" / "grpc" / ".build" / "release" / "jobwire-grpc-peer"
H2LOAD_SCRIPT = ROOT / "bench" / "peers" / "grpc" / "h2load-getmetadata"
REST_DIR = ROOT / "bench" / "peers" / "rest"


@dataclass
class Settings:
    seconds: float
    warmup: float
    connections: list[int]
    watchers: list[int]
    fanout_rate: float
    resident_jobs: int
    idle_connections: int
    durable_seconds: float
    durable_rounds: int


FULL = Settings(seconds=10, warmup=2, connections=[1, 16, 64], watchers=[1_000, 10_000], fanout_rate=1_000,
                resident_jobs=1_000_000, idle_connections=10_000, durable_seconds=10, durable_rounds=3)
QUICK = Settings(seconds=2, warmup=0.5, connections=[1, 16, 64], watchers=[1_000], fanout_rate=500,
                 resident_jobs=100_000, idle_connections=1_000, durable_seconds=2, durable_rounds=1)


@dataclass
class Row:
    """One measured run of one system."""

    system: str
    setting: str
    throughput: float
    p50_us: float | None = None
    p99_us: float | None = None
    p999_us: float | None = None
    max_us: float | None = None
    cpu_s: float | None = None
    peak_rss_mib: float | None = None
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def loadgen(*arguments: str | int | float) -> dict[str, float | int | str]:
    argv = [str(LOADGEN), "--quiet", *map(str, arguments)]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed no result:\n{result.stdout}\n{result.stderr[-2000:]}")
    return json.loads(lines[-1])


def measured(server: support.Server, run):  # type: ignore[no-untyped-def]
    """Runs `run()` and returns (its result, server CPU seconds, server peak RSS MiB)."""
    support.reset_peak_rss(server.pid)
    before = server.cpu()
    result = run()
    return result, server.cpu() - before, server.peak_rss()


def jobwired(*flags: str) -> support.Server:
    return support.start("jobwired", [str(BIN / "jobwired"), "--port", "0", "--no-http", "--log-level", "error", *flags],
                         r"jobwired listening on [^:]+:(\d+)")


def redis(*flags: str) -> support.Server:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed (make bench installs it)")
    port = support.free_port()
    directory = tempfile.mkdtemp(prefix="jobwire-bench-redis-")
    server = support.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--dir", directory, "--maxclients", "20000", *flags],
                           r"Ready to accept connections", port=port)
    return server


def latency_row(system: str, setting: str, result: dict, cpu: float, rss: float, note: str = "") -> Row:  # type: ignore[type-arg]
    return Row(system, setting, float(result["rps"]), float(result["p50_us"]), float(result["p99_us"]),
               float(result["p999_us"]), float(result["max_us"]), cpu, rss, note)


def measure_then_stop(server: support.Server, system: str, setting: str, run,  # type: ignore[no-untyped-def]
                      note: str = "") -> tuple[Row, dict]:  # type: ignore[type-arg]
    """Runs `run()` against `server` (started by the caller), stops the server whatever happens,
    and returns the latency row and the load tool's raw result."""
    try:
        log(f"{system}, {setting} connections")
        result, cpu, rss = measured(server, run)
        return latency_row(system, setting, result, cpu, rss, note), result
    finally:
        server.stop()


# MARK: Scenarios


def scenario_get(settings: Settings, rows: list[Row]) -> None:
    """(a) GetMetadata of random ids among 10,000 jobs, one call in flight per connection.

    For each connection count every system runs in turn, each on a freshly started server
    (so JobWire holds exactly the 10,000 jobs it seeds), and neighbours on a shared VM
    weigh on all of them alike."""
    work = Path(tempfile.mkdtemp(prefix="jobwire-bench-get-"))
    job_file = work / "job.bin"
    common = ["--seconds", settings.seconds, "--warmup", settings.warmup, "--depth", 1]
    for connections in settings.connections:
        setting = f"{connections}"
        server = jobwired("--store", "memory")
        row, result = measure_then_stop(server, "JobWire", setting, lambda: loadgen(
            "--protocol", "jobwire", "--mode", "get", "--port", server.port, "--connections", connections,
            "--jobs", 10_000, "--dump-job", job_file, *common))
        rows.append(row)
        request_bytes, response_bytes = int(result["request_bytes"]), int(result["response_bytes"])

        echo = support.start("echo", [str(ECHO), "--port", "0", "--response-bytes", str(response_bytes)],
                             r"echo listening on [^:]+:(\d+)")
        rows.append(measure_then_stop(echo, "echo limit (C, epoll)", setting, lambda: loadgen(
            "--protocol", "echo", "--port", echo.port, "--connections", connections,
            "--request-bytes", request_bytes, "--response-bytes", response_bytes, *common))[0])

        server = redis("--appendonly", "no")
        rows.append(measure_then_stop(server, "Redis GET", setting, lambda: loadgen(
            "--protocol", "resp", "--mode", "get", "--port", server.port, "--connections", connections,
            "--jobs", 10_000, "--value-file", job_file, *common))[0])

        if GRPC_PEER.exists() and shutil.which("h2load"):
            ids = work / "grpc-ids.txt"
            peer = support.start("grpc", [str(GRPC_PEER), "--port", "0", "--jobs", "10000", "--ids-file", str(ids)],
                                 r"grpc-peer listening on [^:]+:(\d+)")
            job_id = ids.read_text().split()[0]
            rows.append(measure_then_stop(peer, "grpc-swift 2", setting,
                                          lambda: h2load(peer.port, connections, job_id, settings),
                                          "h2load, one fixed id, no warm-up")[0])
        else:
            log("grpc peer or h2load missing: skipped (make bench builds them)")

        if (REST_DIR / ".venv" / "bin" / "uvicorn").exists() and shutil.which("wrk"):
            ids = work / "rest-ids.txt"
            peer = support.start("rest", [str(REST_DIR / "run"), "0", "--jobs", "10000", "--ids-file", str(ids)],
                                 r"rest-peer listening on [^:]+:(\d+)")
            rows.append(measure_then_stop(peer, "FastAPI + uvicorn (REST)", setting,
                                          lambda: wrk(peer.port, connections, ids, settings),
                                          "wrk; JSON encoded per request")[0])
        else:
            log("REST peer or wrk missing: skipped (make bench installs them)")
    systems = ["JobWire", "echo", "Redis", "grpc", "FastAPI"]
    rows.sort(key=lambda row: (next(index for index, name in enumerate(systems) if row.system.startswith(name)),
                               int(row.setting)))


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def h2load(port: int, connections: int, job_id: str, settings: Settings) -> dict[str, float]:
    """h2load, one call in flight per connection, through bench/peers/grpc's script, which
    adds percentiles from h2load's per-request log. h2load's 2xx count proves nothing for gRPC
    (a failed call is HTTP 200 too), so the bytes per reply are checked against the job's size."""
    result = subprocess.run([str(H2LOAD_SCRIPT), str(port), str(connections), "1", f"{settings.seconds:g}s", job_id],
                            capture_output=True, text=True)
    output = result.stdout
    if result.returncode != 0:
        raise RuntimeError(f"h2load failed:\n{output[-2000:]}\n{result.stderr[-2000:]}")
    failed = re.search(r"(\d+) failed, (\d+) errored", output)
    rate = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", output)
    latency = re.search(r"p50 (\d+) us, p90 \d+ us, p99 (\d+) us, p99.9 (\d+) us, max (\d+) us", output)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", output)
    data = re.search(r"traffic: .*?(\d+) \(\d+\) data", output)
    if failed is None or rate is None or latency is None or done is None:
        raise RuntimeError(f"h2load output not understood:\n{output[-2000:]}")
    if int(failed.group(1)) + int(failed.group(2)) > 0:
        raise RuntimeError(f"h2load reported failures:\n{output[-2000:]}")
    if data is not None and int(done.group(1)) > 0 and int(data.group(1)) / int(done.group(1)) < 1000:
        raise RuntimeError(f"gRPC replies are too small to be jobs (failed calls?):\n{output[-2000:]}")
    return {"rps": float(rate.group(1)), "p50_us": float(latency.group(1)), "p99_us": float(latency.group(2)),
            "p999_us": float(latency.group(3)), "max_us": float(latency.group(4))}


def wrk(port: int, connections: int, ids: Path, settings: Settings) -> dict[str, float]:
    """wrk through bench/peers/rest's script (random ids; --latency gives p50 and p99)."""
    result = subprocess.run([str(REST_DIR / "wrk-metadata"), str(port), str(connections), f"{settings.seconds:g}",
                             str(ids)], capture_output=True, text=True)
    output = result.stdout
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{output[-2000:]}\n{result.stderr[-2000:]}")
    return {**support.parse_wrk(output), "p999_us": float("nan")}


def scenario_fanout(settings: Settings, rows: list[Row]) -> None:
    """(b) One updater changing 100 jobs at a fixed rate; W watchers; delivery latency."""
    for watchers in settings.watchers:
        common = ["--watchers", watchers, "--jobs-watched", 100, "--rate", settings.fanout_rate,
                  "--seconds", settings.seconds, "--warmup", settings.warmup]
        server = jobwired("--store", "memory", "--max-connections", str(watchers + 100),
                          "--max-connections-per-address", "0")
        try:
            log(f"jobwire fan-out, {watchers} watchers")
            result, cpu, rss = measured(server, lambda: loadgen("--protocol", "jobwire", "--mode", "fanout",
                                                                "--port", server.port, *common))
        finally:
            server.stop()
        rows.append(fanout_row("JobWire WatchJob", watchers, result, cpu, rss))
        payload = int(result.get("event_bytes", 0)) or 512

        http_port = support.free_port()
        server = support.start("jobwired", [str(BIN / "jobwired"), "--port", "0", "--http-port", str(http_port),
                                            "--log-level", "error", "--store", "memory",
                                            "--http-max-connections", str(watchers + 100),
                                            "--max-connections-per-address", "0"],
                               r"jobwired listening on [^:]+:(\d+)")
        try:
            log(f"jobwire SSE fan-out, {watchers} event streams")
            result, cpu, rss = measured(server, lambda: loadgen("--protocol", "jobwire", "--mode", "ssefanout",
                                                                "--port", server.port, "--http-port", http_port,
                                                                *common))
        finally:
            server.stop()
        rows.append(fanout_row("JobWire SSE", watchers, result, cpu, rss))

        server = redis("--appendonly", "no")
        try:
            log(f"redis pub/sub, {watchers} subscribers")
            result, cpu, rss = measured(server, lambda: loadgen("--protocol", "resp", "--mode", "pubsub",
                                                                "--port", server.port, "--value-bytes", payload,
                                                                *common))
        finally:
            server.stop()
        rows.append(fanout_row("Redis PUBLISH/SUBSCRIBE", watchers, result, cpu, rss))


def scenario_list_watch(settings: Settings, rows: list[Row]) -> None:
    """(e) The fan-out of (b) at 1,000 watchers, each watcher once a WatchJob of its job and once a WatchJobs
    (list-watch) whose query names its job: the same events delivered, so CPU per event compares the two paths —
    the list-watch's filter checks every change against every watcher of the tenant."""
    watchers = settings.watchers[0]
    common = ["--watchers", watchers, "--jobs-watched", 100, "--rate", settings.fanout_rate,
              "--seconds", settings.seconds, "--warmup", settings.warmup]
    for mode, system in [("fanout", "JobWire WatchJob"), ("listfanout", "JobWire WatchJobs")]:
        server = jobwired("--store", "memory", "--max-connections", str(watchers + 100),
                          "--max-connections-per-address", "0")
        try:
            log(f"{system} fan-out, {watchers} watchers")
            result, cpu, rss = measured(server, lambda: loadgen("--protocol", "jobwire", "--mode", mode,
                                                                "--port", server.port, *common))
        finally:
            server.stop()
        row = fanout_row(system, watchers, result, cpu, rss)
        received = row.extra.get("received", 0)
        row.extra["cpu_us_per_event"] = cpu * 1e6 / received if received else 0
        rows.append(row)


def scenario_list(settings: Settings) -> tuple[str, float]:
    """(f) ListJobs with a status filter and a search among a million jobs against SQLite (bench/list_vs_sqlite.py)."""
    jobs = 100_000 if settings is QUICK else 1_000_000
    data_dir = Path(tempfile.gettempdir()) / f"jobwire-bench-list-{jobs}"
    log(f"ListJobs vs SQLite among {jobs:,} jobs")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "list_vs_sqlite.py"), "--jobs", str(jobs),
                             "--rounds", "10" if settings is QUICK else "30", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, check=True)
    table = result.stdout.rsplit("list_vs_sqlite=", 1)[0].strip()
    ratio_value = float(result.stdout.rsplit("list_vs_sqlite=", 1)[1].split()[0])
    return "(f) " + table, ratio_value


def fanout_row(system: str, watchers: int, result: dict, cpu: float, rss: float) -> Row:  # type: ignore[type-arg]
    row = Row(system, f"{watchers:,}", float(result["events_per_s"]), float(result["p50_us"]),
              float(result["p99_us"]), float(result["p999_us"]), float(result["max_us"]), cpu, rss)
    row.extra = {"expected": float(result.get("events_expected", 0)), "received": float(result.get("events_received", 0)),
                 "missed": float(result.get("events_missed", 0))}
    return row


def scenario_memory(settings: Settings, rows: list[Row]) -> None:
    """(c) RSS with N jobs resident, and per idle connection, against Redis."""
    jobs = settings.resident_jobs
    store = Path(tempfile.mkdtemp(prefix="jobwire-bench-store-"))
    log(f"writing {jobs:,} jobs into a store")
    written = subprocess.run([str(BIN / "jobwire-bench-store"), "--jobs", str(jobs), "--data-dir", str(store), "--keep"],
                             capture_output=True, text=True, check=True)
    job_bytes = next(int(line.split()[-1]) for line in written.stdout.splitlines() if line.startswith("encoded job bytes"))
    server = jobwired("--data-dir", str(store), "--max-connections", str(settings.idle_connections + 100),
                      "--max-connections-per-address", "0")
    try:
        time.sleep(1)
        rows.append(Row("JobWire", f"{jobs:,} jobs resident", server.rss(), note="RSS MiB after start-up from the store"))
        idle_rss = idle(server, "jobwire", settings.idle_connections)
        rows.append(Row("JobWire", f"{settings.idle_connections:,} idle connections", idle_rss,
                        note="KiB per connection (RSS delta)"))
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)

    server = redis("--appendonly", "no", "--enable-debug-command", "yes")
    try:
        log(f"redis: DEBUG POPULATE {jobs:,} keys of {job_bytes} bytes")
        populated = subprocess.run(["redis-cli", "-p", str(server.port), "DEBUG", "POPULATE", str(jobs), "job",
                                    str(job_bytes)], check=True, capture_output=True, text=True)
        size = subprocess.run(["redis-cli", "-p", str(server.port), "DBSIZE"], check=True, capture_output=True, text=True)
        if size.stdout.strip() != str(jobs):
            raise RuntimeError(f"Redis holds {size.stdout.strip()} keys, not {jobs}: {populated.stdout}{populated.stderr}")
        time.sleep(1)
        rows.append(Row("Redis", f"{jobs:,} jobs resident", server.rss(), note=f"{jobs:,} values of {job_bytes} bytes"))
        idle_rss = idle(server, "resp", settings.idle_connections)
        rows.append(Row("Redis", f"{settings.idle_connections:,} idle connections", idle_rss,
                        note="KiB per connection (RSS delta)"))
    finally:
        server.stop()


# A JobWire Hello frame (docs/PROTOCOL.md's wire example): length prefix, Frame.hello,
# protocol_version 1, client_name "jobwire-cli/0.1". Development mode needs no key.
JOBWIRE_HELLO = bytes.fromhex("000000150a1308011a0f") + b"jobwire-cli/0.1"


def idle(server: support.Server, protocol: str, connections: int) -> float:
    """KiB of server RSS per idle connection (JobWire: handshaken; Redis: connected)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, connections + 1024)), hard))
    time.sleep(0.5)
    before = server.rss()
    sockets: list[socket.socket] = []
    try:
        for _ in range(connections):
            connection = socket.create_connection(("127.0.0.1", server.port))
            if protocol == "jobwire":
                connection.sendall(JOBWIRE_HELLO)
            sockets.append(connection)
        if protocol == "jobwire":
            for connection in sockets:
                header = connection.recv(4, socket.MSG_WAITALL)
                if len(header) != 4 or header[4 - 1] == 0:
                    raise RuntimeError("a JobWire connection got no HelloAck")
                ack = connection.recv(int.from_bytes(header, "big"), socket.MSG_WAITALL)
                if not ack.startswith(b"\x12"):
                    raise RuntimeError(f"expected a HelloAck, got {ack[:16].hex()}")
        else:
            # Redis allocates a client at accept; one PING each proves they are all served.
            for connection in sockets:
                connection.sendall(b"PING\r\n")
            for connection in sockets:
                if connection.recv(7, socket.MSG_WAITALL) != b"+PONG\r\n":
                    raise RuntimeError("a Redis connection did not answer PING")
        time.sleep(1)
        return (server.rss() - before) * 1024 / connections
    finally:
        for connection in sockets:
            connection.close()


def scenario_durable(settings: Settings, rows: list[Row]) -> None:
    """(d) Acknowledged durable writes at 64 clients: Configure vs SET with appendfsync always.

    Both depend on the disk's sync latency, which moves a lot on a shared VM
    from one minute to the next, so the two alternate for several rounds and
    each is reported by its median round, with the spread in the note."""
    ours: list[Row] = []
    theirs: list[Row] = []
    for round_number in range(settings.durable_rounds):
        log(f"durable writes, round {round_number + 1} of {settings.durable_rounds}")
        data = Path(tempfile.mkdtemp(prefix="jobwire-bench-durable-"))
        server = jobwired("--data-dir", str(data))
        try:
            ours.append(measure_then_stop(
                server, "JobWire Configure (SQLite WAL, synchronous=FULL)", "64", lambda: loadgen(
                    "--protocol", "jobwire", "--mode", "create", "--port", server.port, "--connections", 64,
                    "--depth", 1, "--seconds", settings.durable_seconds, "--warmup", settings.warmup))[0])
        finally:
            shutil.rmtree(data, ignore_errors=True)

        server = redis("--appendonly", "yes", "--appendfsync", "always")
        theirs.append(measure_then_stop(
            server, "Redis SET (appendonly, appendfsync always)", "64", lambda: loadgen(
                "--protocol", "resp", "--mode", "set", "--port", server.port, "--connections", 64, "--depth", 1,
                "--jobs", 100_000, "--value-bytes", 256, "--seconds", settings.durable_seconds,
                "--warmup", settings.warmup))[0])
    rows.extend([median_row(ours), median_row(theirs)])


def median_row(runs: list[Row]) -> Row:
    """The run with the median throughput, noting every round's."""
    ordered = sorted(runs, key=lambda row: row.throughput)
    middle = ordered[len(ordered) // 2]
    if len(runs) > 1:
        middle.note = "median of " + ", ".join(f"{row.throughput:,.0f}" for row in runs) + " writes/s"
    return middle


# MARK: Report


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # missing, or NaN (a tool that does not measure it)
        return "–"
    return f"{value:,.{digits}f}"


def latency_table(title: str, unit: str, rows: list[Row], reference: str) -> str:
    lines = [f"#### {title}", "",
             f"| system | setting | {unit} | p50 µs | p99 µs | p99.9 µs | max µs | server CPU s | peak RSS MiB | JobWire ÷ this |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ours = next((r for r in rows if r.system.startswith(reference) and r.setting == row.setting), None)
        ratio = f"{ours.throughput / row.throughput:.2f}" if ours and row.throughput > 0 else "–"
        note = f" ({row.note})" if row.note else ""
        lines.append(f"| {row.system}{note} | {row.setting} | {fmt(row.throughput)} | {fmt(row.p50_us)} | {fmt(row.p99_us)} | "
                     f"{fmt(row.p999_us)} | {fmt(row.max_us)} | {fmt(row.cpu_s, 1)} | {fmt(row.peak_rss_mib, 1)} | {ratio} |")
    return "\n".join(lines)


def memory_table(rows: list[Row]) -> str:
    lines = ["#### (c) Memory", "", "| system | what | value | unit |", "|---|---|---:|---|"]
    for row in rows:
        lines.append(f"| {row.system} | {row.setting} | {fmt(row.throughput, 1)} | {row.note} |")
    return "\n".join(lines)


def ratio(rows: list[Row], ours: str, theirs: str, setting: str) -> float:
    mine = next((r for r in rows if r.system.startswith(ours) and r.setting == setting), None)
    peer = next((r for r in rows if r.system.startswith(theirs) and r.setting == setting), None)
    if mine is None or peer is None or peer.throughput <= 0:
        return float("nan")
    return mine.throughput / peer.throughput


def list_watch_cpu_ratio(rows: list[Row]) -> float:
    """WatchJob's server CPU per delivered event over WatchJobs': ≥ 1.0 means the list-watch costs no more."""
    per_event = {row.system: row.extra.get("cpu_us_per_event", 0) for row in rows}
    ours, single = per_event.get("JobWire WatchJobs", 0), per_event.get("JobWire WatchJob", 0)
    return single / ours if ours and single else float("nan")


def sse_fanout_p99_ms(rows: list[Row], watchers: str) -> float:
    for row in rows:
        if row.system == "JobWire SSE" and row.setting == watchers and row.p99_us is not None:
            return row.p99_us / 1000
    return float("nan")


def list_watch_p99_ms(rows: list[Row]) -> float:
    for row in rows:
        if row.system == "JobWire WatchJobs" and row.p99_us is not None:
            return row.p99_us / 1000
    return float("nan")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} CPUs ({cpu}), {memory / 1024 / 1024:.0f} GiB RAM, {platform.platform()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs and small counts (under 2 minutes)")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/BENCHMARKS.md")
    parser.add_argument("--only", default="a,b,c,d,e,f,g,h,i,j", help="scenarios to run (default a,b,c,d,e,f,g,h,i,j)")
    options = parser.parse_args()
    settings = QUICK if options.quick else FULL
    only = set(options.only.split(","))
    # Servers inherit this: 10,000 idle connections and 10,000 watchers need the room.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    started = time.monotonic()

    get_rows: list[Row] = []
    fanout_rows: list[Row] = []
    memory_rows: list[Row] = []
    durable_rows: list[Row] = []
    list_watch_rows: list[Row] = []
    list_table, list_ratio = "", float("nan")
    http_table, http_vs_nginx, http_vs_fastapi = "", float("nan"), float("nan")
    webhook_table, webhook_vs_wrk, webhook_p99_ms = "", float("nan"), float("nan")
    tls_table, tls_vs_redis = "", float("nan")
    cluster_table, pg_vs_pgbench, get_pg_vs_sqlite, pg_watch_p99_ms = "", float("nan"), float("nan"), float("nan")
    if "a" in only:
        scenario_get(settings, get_rows)
    if "b" in only:
        scenario_fanout(settings, fanout_rows)
    if "c" in only:
        scenario_memory(settings, memory_rows)
    if "d" in only:
        scenario_durable(settings, durable_rows)
    if "e" in only:
        scenario_list_watch(settings, list_watch_rows)
    if "f" in only:
        list_table, list_ratio = scenario_list(settings)
    if "g" in only:
        http_table, http_vs_nginx, http_vs_fastapi = http_get.measure(BIN, seconds=settings.seconds,
                                                                      rounds=1 if settings is QUICK else 3)
    if "h" in only:
        webhook_table, webhook_vs_wrk, webhook_p99_ms = webhooks.measure(BIN, quick=settings is QUICK)
    if "i" in only:
        tls_table, tls_vs_redis = tls_get.measure(BIN, quick=settings is QUICK)
    if "j" in only:
        cluster_table, pg_vs_pgbench, get_pg_vs_sqlite, pg_watch_p99_ms = cluster.measure(BIN, quick=settings is QUICK)

    sections = [f"Machine: {machine()}. Mode: {'quick' if options.quick else 'full'} "
                f"({settings.seconds:g} s per run after {settings.warmup:g} s warm-up). "
                f"Took {time.monotonic() - started:.0f} s."]
    if get_rows:
        sections.append(latency_table("(a) GetMetadata, random ids among 10,000 jobs, one call in flight per connection",
                                      "req/s", get_rows, "JobWire"))
    if fanout_rows:
        sections.append(latency_table(f"(b) Watch fan-out: 100 jobs updated {settings.fanout_rate:g} times/s in all; "
                                      "delivery latency update sent → event received (JobWire SSE: the updates are "
                                      "HTTP PATCHes, the watchers GET /v1/jobs/ID/events)", "events/s", fanout_rows,
                                      "JobWire"))
    if memory_rows:
        sections.append(memory_table(memory_rows))
    if durable_rows:
        sections.append(latency_table("(d) Acknowledged durable writes, 64 clients, one write in flight each",
                                      "writes/s", durable_rows, "JobWire"))
    if list_watch_rows:
        table = latency_table(f"(e) List-watch fan-out: {settings.watchers[0]:,} watchers, 100 jobs updated "
                              f"{settings.fanout_rate:g} times/s; WatchJob of one job vs WatchJobs filtered to it",
                              "events/s", list_watch_rows, "JobWire WatchJob")
        per_event = " ".join(f"{row.system}: {row.extra['cpu_us_per_event']:.1f} µs of server CPU per delivered event."
                             for row in list_watch_rows)
        sections.append(table + "\n\n" + per_event)
    if list_table:
        sections.append(list_table)
    if http_table:
        sections.append(http_table)
    if webhook_table:
        sections.append(webhook_table)
    if tls_table:
        sections.append(tls_table)
    if cluster_table:
        sections.append(cluster_table)
    report = "\n\n".join(sections)
    print(report)

    headline = str(settings.connections[-1])
    watchers = f"{settings.watchers[-1]:,}"
    summary = (f"SUMMARY get_vs_redis={ratio(get_rows, 'JobWire', 'Redis', headline):.2f} "
               f"get_vs_grpc={ratio(get_rows, 'JobWire', 'grpc-swift', headline):.2f} "
               f"get_vs_echo={ratio(get_rows, 'JobWire', 'echo', headline):.2f} "
               f"watch_vs_redis_pubsub={ratio(fanout_rows, 'JobWire', 'Redis', watchers):.2f} "
               f"durable_vs_redis_aof={ratio(durable_rows, 'JobWire', 'Redis', '64'):.2f} "
               f"list_vs_sqlite={list_ratio:.2f} "
               f"listwatch_cpu_vs_watch={list_watch_cpu_ratio(list_watch_rows):.2f} "
               f"listwatch_p99_ms={list_watch_p99_ms(list_watch_rows):.1f} "
               f"http_get_vs_nginx={http_vs_nginx:.2f} http_get_vs_fastapi={http_vs_fastapi:.2f} "
               f"sse_fanout_p99_ms={sse_fanout_p99_ms(fanout_rows, watchers):.1f} "
               f"webhook_vs_wrk={webhook_vs_wrk:.2f} webhook_p99_ms={webhook_p99_ms:.1f} "
               f"tls_get_vs_redis_tls={tls_vs_redis:.2f} "
               f"pg_vs_pgbench={pg_vs_pgbench:.2f} get_pg_vs_sqlite={get_pg_vs_sqlite:.2f} "
               f"pg_watch_p99_ms={pg_watch_p99_ms:.1f}")
    if not options.no_docs and not options.quick:
        subprocess.run([str(ROOT / "scripts" / "update-doc-block"), "--markdown", str(ROOT / "docs" / "BENCHMARKS.md"), "bench-results",
                        "cat", "/dev/stdin"], input=report + "\n\n" + summary, text=True, check=True)
    print()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
