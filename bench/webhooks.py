"""(h) Webhooks: how fast jobwired delivers, and how soon after a completion.

Throughput (SUMMARY webhook_vs_wrk). Debian's nginx on loopback answers every POST with 200 at once and logs when
each request ended. jobwired (release, SQLite store) first holds N `job.completed` messages for one endpoint whose
URL is nginx's port: they are made while a receiver there accepts connections and never answers, jobwired is killed
(SIGKILL) with all of them pending, nginx takes the port, and jobwired starts again, so every message is due at once.
jobwired's rate is N over the time from the first delivery to the last in nginx's log. wrk then POSTs a body of the
same size with the same headers to the same nginx, with as many connections as jobwired keeps in flight per endpoint
(4). The ratio is jobwired's deliveries per second over wrk's requests per second.

Latency (SUMMARY webhook_p99_ms). A receiver in a process of its own answers 200 and notes when each message
arrived. Jobs are completed at 500/s (`PATCH /v1/jobs/{id}` from four keep-alive connections on a fixed schedule);
each message's latency is its arrival less the moment its PATCH was answered (0 when it arrived first).

    python3 bench/webhooks.py BIN_DIR [--quick]
"""

from __future__ import annotations

import http.client
import http.server
import json
import multiprocessing
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_support as support  # noqa: E402 (bench/ is on sys.path when run from there)

#: jobwired's requests in flight per endpoint (WebhookDispatcher.Settings.maxInFlightPerEndpoint).
IN_FLIGHT_PER_ENDPOINT = 4


def start_jobwired(bin_dir: Path, data_dir: Path, http_port: int, *flags: str) -> support.Server:
    server = support.start("jobwired", [str(bin_dir / "jobwired"), "--port", "0", "--http-port", str(http_port),
                                        "--data-dir", str(data_dir), "--webhooks-allow-private", "--log-level", "error",
                                        *flags],
                           r"jobwired listening on [^:]+:(\d+)")
    support.wait_for_port(http_port)
    return server


class API:
    """One keep-alive HTTP connection to jobwired's API."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: object | None = None) -> dict:  # type: ignore[type-arg]
        payload = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=payload,
                                headers={"content-type": "application/json"} if payload is not None else {})
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else {}

    def close(self) -> None:
        self.connection.close()


def running_jobs(port: int, count: int, threads: int = 4) -> list[str]:
    """`count` RUNNING jobs, made from `threads` connections."""
    ids: list[str] = []
    lock = threading.Lock()

    def make(share: int) -> None:
        api = API(port)
        made = []
        for _ in range(share):
            job = api.call("POST", "/v1/jobs", {"type": "transcode", "labels": {"site": "north-7"}})
            api.call("PATCH", f"/v1/jobs/{job['job_id']}", {"status": "running", "progress": 50.0})
            made.append(job["job_id"])
        api.close()
        with lock:
            ids.extend(made)

    workers = [threading.Thread(target=make, args=(count // threads + (1 if i < count % threads else 0),))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ids


def complete_all(port: int, ids: list[str], threads: int = 4) -> None:
    shares = [ids[i::threads] for i in range(threads)]

    def complete(share: list[str]) -> None:
        api = API(port)
        for job_id in share:
            api.call("PATCH", f"/v1/jobs/{job_id}", {"status": "completed"})
        api.close()

    workers = [threading.Thread(target=complete, args=(share,)) for share in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def webhook_stats(port: int) -> dict:  # type: ignore[type-arg]
    api = API(port)
    try:
        return api.call("GET", "/v1/stats")["webhooks"]
    finally:
        api.close()


def wait(what: str, condition, timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class BlackHole:
    """Accepts connections on a port and never reads or answers: jobwired's attempts hang until their timeout."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port), backlog=64)
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def nginx(work: Path, port: int) -> support.Server:
    """Debian's nginx, two workers, answering every request with 200 and an empty body; one log line per request
    with the time it ended (`$msec`)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    config = work / "nginx.conf"
    config.write_text(f"""
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log error;
events {{ worker_connections 4096; }}
http {{
    log_format ended '$msec $request_length';
    access_log {work}/access.log ended;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200; }}
    }}
}}
""")
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(work)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    support.wait_for_port(port)
    return support.Server("nginx", process, port, str(work))


def log_times(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]


def wrk_post(url: str, body: bytes, seconds: float, work: Path) -> dict[str, float]:
    script = work / "post.lua"
    signature = "v1," + "A" * 43 + "="
    script.write_text(f"""
wrk.method = "POST"
wrk.body = {json.dumps(body.decode())}
wrk.headers["content-type"] = "application/json"
wrk.headers["user-agent"] = "JobWire-Webhooks/1"
wrk.headers["webhook-id"] = "msg_0123456789abcdef0123456789abcdef"
wrk.headers["webhook-timestamp"] = "{int(time.time())}"
wrk.headers["webhook-signature"] = "{signature}"
""")
    output = subprocess.run(["wrk", "-t2", f"-c{IN_FLIGHT_PER_ENDPOINT}", f"-d{seconds:g}s", "--latency", "-s", str(script),
                             url], capture_output=True, text=True, check=True).stdout
    return support.parse_wrk(output)


def throughput(bin_dir: Path, messages: int, seconds: float) -> tuple[float, float, float, int]:
    """(jobwired deliveries/s, server CPU µs per delivery, wrk requests/s, body bytes)."""
    work = Path(tempfile.mkdtemp(prefix="jobwire-bench-webhooks-"))
    work.chmod(0o755)  # nginx's workers drop root and write their log here
    data_dir = work / "data"
    receiver_port = support.free_port()
    http_port = support.free_port()
    hole = BlackHole(receiver_port)
    server = start_jobwired(bin_dir, data_dir, http_port, "--webhook-timeout", "5m")
    try:
        api = API(http_port)
        api.call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{receiver_port}/hook", "events": ["job.completed"]})
        api.close()
        ids = running_jobs(http_port, messages)
        complete_all(http_port, ids)
        wait("every message in the outbox", lambda: webhook_stats(http_port)["pending_messages"] == messages)
        api = API(http_port)
        job_json = json.dumps(api.call("GET", f"/v1/jobs/{ids[0]}"), separators=(",", ":"))
        api.close()
    finally:
        server.process.kill()
        server.process.wait()
        hole.close()

    static = nginx(work, receiver_port)
    try:
        http_port = support.free_port()
        server = start_jobwired(bin_dir, data_dir, http_port)
        try:
            before = server.cpu()
            wait("every message delivered", lambda: len(log_times(work / "access.log")) >= messages)
            cpu = server.cpu() - before
            times = log_times(work / "access.log")
            rate = (len(times) - 1) / (times[-1] - times[0])
            wait("the outbox empty", lambda: webhook_stats(http_port)["pending_messages"] == 0, timeout=60)
        finally:
            server.stop()
        body = ('{"type":"job.completed","timestamp":"2026-12-03T12:00:00.000Z","data":' + job_json + "}").encode()
        result = wrk_post(f"http://127.0.0.1:{receiver_port}/hook", body, seconds, work)
    finally:
        static.stop()
        shutil.rmtree(work, ignore_errors=True)
    return rate, cpu / len(times) * 1e6, result["rps"], len(body)


def receive(port: int, ready, stop, results) -> None:  # type: ignore[no-untyped-def]
    """The latency receiver's process: notes (arrival, job id) of every POST, answers 200."""
    arrivals: list[tuple[float, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived = time.monotonic()
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            arrivals.append((arrived, json.loads(body)["data"]["job_id"]))

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()
    results.put(arrivals)


def latency(bin_dir: Path, rate: float, seconds: float) -> dict[str, float]:
    """Completion acknowledged → message received, at `rate` completions per second for `seconds`."""
    work = Path(tempfile.mkdtemp(prefix="jobwire-bench-webhook-latency-"))
    receiver_port = support.free_port()
    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Event(), context.Event(), context.Queue()
    receiver = context.Process(target=receive, args=(receiver_port, ready, stop, results), daemon=True)
    receiver.start()
    ready.wait(30)
    http_port = support.free_port()
    server = start_jobwired(bin_dir, work / "data", http_port)
    count = int(rate * seconds)
    acknowledged: dict[str, float] = {}
    try:
        api = API(http_port)
        api.call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{receiver_port}/hook", "events": ["job.completed"]})
        api.close()
        ids = running_jobs(http_port, count)
        threads = 4
        lock = threading.Lock()
        start = time.monotonic() + 0.5
        before = server.cpu()

        def complete(index: int) -> None:
            api = API(http_port)
            noted: dict[str, float] = {}
            for n, job_id in enumerate(ids[index::threads]):
                due = start + (n * threads + index) / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                api.call("PATCH", f"/v1/jobs/{job_id}", {"status": "completed"})
                noted[job_id] = time.monotonic()
            api.close()
            with lock:
                acknowledged.update(noted)

        workers = [threading.Thread(target=complete, args=(index,)) for index in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        sent_for = time.monotonic() - start
        wait("every message delivered", lambda: webhook_stats(http_port)["pending_messages"] == 0, timeout=120)
        cpu = server.cpu() - before
    finally:
        server.stop()
        stop.set()
    arrivals = results.get(timeout=60)
    receiver.join(30)
    shutil.rmtree(work, ignore_errors=True)
    delays = sorted(max(0.0, arrived - acknowledged[job_id]) * 1000 for arrived, job_id in arrivals if job_id in acknowledged)
    if len(delays) != count:
        raise RuntimeError(f"{len(delays)} of {count} completions were delivered")

    def at(fraction: float) -> float:
        return delays[min(len(delays) - 1, int(fraction * len(delays)))]

    return {"rate": count / sent_for, "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": delays[-1],
            "mean_ms": statistics.fmean(delays), "cpu_us_per_completion": cpu / count * 1e6}


def measure(bin_dir: Path, quick: bool) -> tuple[str, float, float]:
    """The Markdown section and the two SUMMARY values (webhook_vs_wrk, webhook_p99_ms)."""
    if shutil.which("wrk") is None or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        return "(h) skipped: wrk or nginx missing (make bench installs them)", float("nan"), float("nan")
    messages = 2_000 if quick else 20_000
    seconds = 2.0 if quick else 10.0
    delivered, cpu_per_delivery, wrk_rate, body_bytes = throughput(bin_dir, messages, seconds)
    timing = latency(bin_dir, rate=500, seconds=seconds)
    lines = [
        f"(h) Webhooks. Throughput: {messages:,} due `job.completed` messages ({body_bytes} bytes each) to nginx "
        f"answering 200, {IN_FLIGHT_PER_ENDPOINT} requests in flight, against wrk -c{IN_FLIGHT_PER_ENDPOINT} POSTing "
        f"the same size of body with the same headers for {seconds:g} s. Latency: completions at 500/s "
        f"(PATCH /v1/jobs/ID), acknowledged PATCH → message received, SQLite store.",
        "",
        "| Measure | Value |",
        "|---|---:|",
        f"| jobwired deliveries/s | {delivered:,.0f} |",
        f"| wrk POSTs/s, same receiver | {wrk_rate:,.0f} |",
        f"| jobwired / wrk | {delivered / wrk_rate:.2f} |",
        f"| jobwired CPU per delivery | {cpu_per_delivery:,.0f} µs |",
        f"| completions/s sent | {timing['rate']:,.0f} |",
        f"| completion → delivery p50 | {timing['p50_ms']:.1f} ms |",
        f"| completion → delivery p99 | {timing['p99_ms']:.1f} ms |",
        f"| completion → delivery max | {timing['max_ms']:.1f} ms |",
        f"| jobwired CPU per completion (PATCH, store, delivery) | {timing['cpu_us_per_completion']:,.0f} µs |",
    ]
    return "\n".join(lines), delivered / wrk_rate, timing["p99_ms"]


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    section, versus_wrk, p99 = measure(Path(sys.argv[1]).resolve(), quick="--quick" in sys.argv)
    print(section)
    print(f"SUMMARY webhook_vs_wrk={versus_wrk:.2f} webhook_p99_ms={p99:.1f}")
