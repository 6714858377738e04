#!/usr/bin/env python3
"""Server CPU per call of one or more jobwired builds, alternating, on scenario (a), (b) or (d)'s load.

On a shared VM, throughput and latency of one run move by ±20 % with the neighbours; the server's own user and system
CPU time per call moves far less, so this is how a change to the server is measured before and after:

    bench/cpu_per_call.py --scenario get --rounds 3 /tmp/before/jobwired .build/release/jobwired

Each round starts every build in turn on a fresh server (memory store; a fresh data directory for `create`), drives it
with bench/.build/loadgen as `make bench` does, and reads the server's CPU time from /proc when the load ends
(start-up and seeding included, which is small beside the run). Prints one Markdown row per run.

`--compare-scraping` runs each build twice per round, with its HTTP port open in both: once alone, once with
`GET /metrics` scraped every second during the load (what metrics cost a call; the goal is under 3 %)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import bench_support as support

LOADGEN = Path(__file__).resolve().parent / ".build" / "loadgen"


def scrape_every_second(port: int, stop: threading.Event, scrapes: list[int]) -> None:
    while not stop.wait(1.0):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            scrapes.append(len(response.read()))


def run(binary: str, scenario: str, seconds: float, http: bool = False, scrape: bool = False) -> dict[str, float]:
    flags = ["--store", "memory"]
    data = None
    if scenario == "create":
        data = tempfile.mkdtemp(prefix="jobwire-cpu-per-call-")
        flags = ["--data-dir", data]
    if scenario == "fanout":
        flags += ["--max-connections", "10100", "--max-connections-per-address", "0"]
    http_port = support.free_port()
    flags += ["--http-port", str(http_port)] if http else ["--no-http"]
    server = support.start("jobwired", [binary, "--port", "0", "--log-level", "error", *flags],
                           r"jobwired listening on [^:]+:(\d+)")
    stop = threading.Event()
    scrapes: list[int] = []
    scraper = threading.Thread(target=scrape_every_second, args=(http_port, stop, scrapes)) if scrape else None
    load = {
        "get": ["--mode", "get", "--connections", "64", "--depth", "1", "--jobs", "10000"],
        "create": ["--mode", "create", "--connections", "64", "--depth", "1"],
        "fanout": ["--mode", "fanout", "--watchers", "10000", "--jobs-watched", "100", "--rate", "1000"],
    }[scenario]
    try:
        if scraper:
            support.wait_for_port(http_port)
            scraper.start()
        result = subprocess.run([str(LOADGEN), "--protocol", "jobwire", "--port", str(server.port), *load,
                                 "--seconds", str(seconds), "--warmup", "1"],
                                capture_output=True, text=True, check=True)
        user, system = support.cpu_times(server.pid)
        if scraper:
            stop.set()
            scraper.join()
            if len(scrapes) < seconds - 1:
                raise RuntimeError(f"only {len(scrapes)} scrapes in {seconds} s")
    finally:
        stop.set()
        server.stop()
        if data:
            shutil.rmtree(data, ignore_errors=True)
    out = json.loads(result.stdout)
    # Calls the server handled, warm-up and seeding included, like its CPU time.
    if scenario == "fanout":
        calls = out["events_received"] * (seconds + 1) / seconds
    else:
        calls = out["rps"] * (out["seconds"] + out["warmup_s"]) + (10_000 if scenario == "get" else 0)
    return {"rate": out["events_received"] / seconds if scenario == "fanout" else out["rps"],
            "p50": out["p50_us"], "p99": out["p99_us"],
            "user": user * 1e6 / calls, "system": system * 1e6 / calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=("get", "create", "fanout"), default="get",
                        help="get: (a) at 64 connections; create: (d), durable; fanout: (b) at 10,000 watchers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--compare-scraping", action="store_true",
                        help="each build with its HTTP port open, without and with /metrics scraped every second")
    parser.add_argument("binaries", nargs="+", help="jobwired builds to compare")
    args = parser.parse_args()
    # Servers run in scratch directories of their own: hand them absolute paths.
    args.binaries = [os.path.abspath(binary) for binary in args.binaries]
    if not LOADGEN.exists():
        sys.exit("bench/.build/loadgen is missing: make -C bench/loadgen")
    unit = "events/s" if args.scenario == "fanout" else "calls/s"
    print(f"| build | {unit} | p50 µs | p99 µs | server user µs per call | server system µs per call |")
    print("|---|---:|---:|---:|---:|---:|")
    variants = [(False, False)] if not args.compare_scraping else [(True, False), (True, True)]
    for _ in range(args.rounds):
        for binary in args.binaries:
            for http, scrape in variants:
                r = run(binary, args.scenario, args.seconds, http=http, scrape=scrape)
                name = binary + (" (scraped every 1 s)" if scrape else " (HTTP port open)" if http else "")
                print(f"| {name} | {r['rate']:,.0f} | {r['p50']:,.0f} | {r['p99']:,.0f} | {r['user']:.2f} | "
                      f"{r['system']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
