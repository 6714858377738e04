#!/usr/bin/env python3
"""Seconds from exec to serving for one or more jobwired builds on the same data directory, alternating.

The start-up goal (issue 5) is about `jobwired` itself: open the store, check it, load every job, listen. This
times exactly that — from starting the process to its "jobwired listening on" line — for each build in turn, round
after round, so a slow minute on a shared VM hits every build alike. Make the store first, e.g. with a million jobs:

    swift build -c release
    .build/release/jobwire-bench-store --jobs 1000000 --data-dir /tmp/bs --keep
    bench/startup_time.py --data-dir /tmp/bs --rounds 5 /tmp/before/jobwired .build/release/jobwired

Each server is stopped with SIGTERM once it listens. A start may change the store as any start does (the reaper
expires jobs past their retention), so point it at a store made for the purpose. Prints each round's times and every
build's median."""

from __future__ import annotations

import argparse
import os
import statistics
import time

import bench_support as support


def time_start(binary: str, data_dir: str) -> float:
    started = time.monotonic()
    server = support.start("jobwired", [binary, "--port", "0", "--no-http", "--log-level", "error", "--data-dir", data_dir],
                           r"jobwired listening on [^:]+:(\d+)", timeout=600)
    seconds = time.monotonic() - started
    server.stop()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="a jobwired data directory (it is opened, not changed)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("binaries", nargs="+", help="jobwired builds to compare")
    args = parser.parse_args()
    # The server runs in a scratch directory of its own: hand it absolute paths.
    args.data_dir = os.path.abspath(args.data_dir)
    args.binaries = [os.path.abspath(binary) for binary in args.binaries]
    times: dict[str, list[float]] = {binary: [] for binary in args.binaries}
    for round_number in range(args.rounds):
        row = []
        for binary in args.binaries:
            seconds = time_start(binary, args.data_dir)
            times[binary].append(seconds)
            row.append(f"{seconds:.2f}")
        print(f"round {round_number + 1}: " + "  ".join(row), flush=True)
    for binary, values in times.items():
        print(f"| {binary} | {', '.join(f'{v:.2f}' for v in values)} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
