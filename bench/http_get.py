"""(g) HTTP GET of one job's JSON: JobWire's `GET /v1/jobs/{id}` against Debian's
nginx serving the same bytes as a static file, and against the FastAPI peer's
`GET /metadata/{id}`, all with wrk at 64 connections on loopback, alternating
rounds, the median kept. Used by bench/run.py (SUMMARY keys http_get_vs_nginx,
http_get_vs_fastapi); runs alone too: `python3 bench/http_get.py BIN_DIR`.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import bench_support as support  # noqa: E402 (bench/ is on sys.path when run from there)

ROOT = Path(__file__).resolve().parent.parent
REST_DIR = ROOT / "bench" / "peers" / "rest"

#: The typical job of docs/BENCHMARKS.md: a stream job with its metadata, labels and a few frequencies.
TYPICAL_JOB = {
    "type": "das_stream", "labels": {"site": "north-7", "fiber": "f-12"}, "priority": 1,
    "stream_url": "tcp://10.0.0.7", "stream_port": 50001, "view_type": 2,
    "frequencies_list": [10.0, 50.0, 100.0, 200.0], "lines_dt": 0.25,
    "channel_to_stream_index": {"1": 0, "2": 1}, "stream_amount": 2, "frequencies_amount": 4, "channel_amount": 2,
    "metadata": {"dx": 1.02, "prr": 2000.0, "fiber_start_meters": 0.0, "fiber_length_meters": 40000.0,
                 "sw_version": "4.2.1"},
}


def wrk(url: str, connections: int, seconds: float) -> dict[str, float]:
    output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
                            capture_output=True, text=True, check=True).stdout
    return support.parse_wrk(output)


def nginx(root: Path) -> support.Server:
    """Debian's nginx, two workers (one per core, as jobwired's two event loops), serving `root` with keep-alive."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = support.free_port()
    config = root / "nginx.conf"
    config.write_text(f"""
worker_processes 2;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    default_type application/json;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
""")
    # nginx says nothing on stdout when ready: wait for its port instead of a line.
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(root)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    support.wait_for_port(port)
    return support.Server("nginx", process, port, str(root))


def measure(bin_dir: Path, seconds: float, rounds: int, connections: int = 64) -> tuple[str, float, float]:
    """The Markdown table and the two ratios (JobWire req/s over nginx's and over FastAPI's)."""
    if shutil.which("wrk") is None or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        return "(g) skipped: wrk or nginx missing (make bench installs them)", float("nan"), float("nan")
    work = Path(tempfile.mkdtemp(prefix="jobwire-bench-http-"))
    work.chmod(0o755)  # nginx's workers drop root and must read the file
    http_port = support.free_port()
    jobwired = support.start("jobwired", [str(bin_dir / "jobwired"), "--port", "0", "--http-port", str(http_port),
                                          "--store", "memory", "--log-level", "error"],
                             r"jobwired listening on [^:]+:(\d+)")
    results: dict[str, list[dict[str, float]]] = {"JobWire": [], "nginx": [], "FastAPI": []}
    rest = None
    try:
        support.wait_for_port(http_port)
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/jobs", data=json.dumps(TYPICAL_JOB).encode(),
                                         headers={"content-type": "application/json"})
        job = json.load(urllib.request.urlopen(request))
        job_url = f"http://127.0.0.1:{http_port}/v1/jobs/{job['job_id']}"
        body = urllib.request.urlopen(job_url).read()
        (work / "www" / "v1" / "jobs").mkdir(parents=True)
        (work / "www" / "v1" / "jobs" / job["job_id"]).write_bytes(body)
        static = nginx(work)
        static_url = f"http://127.0.0.1:{static.port}/v1/jobs/{job['job_id']}"
        if urllib.request.urlopen(static_url).read() != body:
            raise RuntimeError("nginx does not serve the same bytes")
        if (REST_DIR / "run").exists():
            ids = work / "rest-ids.txt"
            rest = support.start("rest", [str(REST_DIR / "run"), "0", "--jobs", "1", "--ids-file", str(ids)],
                                 r"rest-peer listening on [^:]+:(\d+)")
            rest_url = f"http://127.0.0.1:{rest.port}/metadata/{ids.read_text().split()[0]}"
        try:
            wrk(job_url, connections, 1)  # warm-up
            for _ in range(rounds):
                results["JobWire"].append(wrk(job_url, connections, seconds))
                results["nginx"].append(wrk(static_url, connections, seconds))
                if rest is not None:
                    results["FastAPI"].append(wrk(rest_url, connections, seconds))
        finally:
            static.stop()
    finally:
        jobwired.stop()
        if rest is not None:
            rest.stop()

    def median(system: str, key: str) -> float:
        values = [run[key] for run in results[system]]
        return statistics.median(values) if values else float("nan")

    lines = [f"(g) HTTP GET of one typical job's JSON ({len(body)} bytes), wrk -t2 -c{connections}, "
             f"{rounds} alternating rounds of {seconds:g} s, median",
             "", "| System | req/s | p50 µs | p99 µs |", "|---|---:|---:|---:|"]
    for system in results:
        if results[system]:
            lines.append(f"| {system} | {median(system, 'rps'):,.0f} | {median(system, 'p50_us'):,.0f} | "
                         f"{median(system, 'p99_us'):,.0f} |")
    ours = median("JobWire", "rps")
    return "\n".join(lines), ours / median("nginx", "rps"), ours / median("FastAPI", "rps")


if __name__ == "__main__":
    table, versus_nginx, versus_fastapi = measure(Path(sys.argv[1]), seconds=10, rounds=3)
    print(table)
    print(f"SUMMARY http_get_vs_nginx={versus_nginx:.2f} http_get_vs_fastapi={versus_fastapi:.2f}")
