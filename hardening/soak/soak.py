#!/usr/bin/env python3
"""Soak test of jobwired: a bounded mixed load for N minutes, with injected faults, checked end to end.

    clients/python/.venv/bin/python hardening/soak/soak.py --minutes 10 --jobwired PATH [--seed S]

What it does (hardening/soak/README.md has the details and the reasoning):

- starts jobwired on 127.0.0.1, port 0, with a temporary SQLite data directory and short retention
  (20 s + 20 s) so that the job population, and with it the server's memory, reaches a steady state;
- runs load processes (several threads each: workers that create and drive jobs, a canceller/deleter, a
  lister/reader, raw-socket watchers with churn and resume, a watcher on the official client, and a chaos
  thread that resets client connections), paced to a few hundred calls per second in total;
- injects faults: raw connections reset (RST) mid-call, mid-watch, mid-frame and mid-handshake, client
  connections reset mid-call, and exactly one SIGKILL of jobwired at a third of the run, restarted on the
  same port and data directory;
- keeps a ledger of every acknowledged write and checks it against the server after the restart and at the
  end (nothing acknowledged lost, revisions never go back, terminal stays terminal, retention honoured);
- samples the server's RSS and descriptor count; fails on RSS drift >= 5 % after warm-up and on descriptors
  that do not return to the idle baseline once every client is gone;
- classifies every error: connection errors must fall inside an injected fault's window, domain errors must
  have a cause the soak can name (and verify); anything else fails the run.

The last line is ``SOAK PASS ...`` or ``SOAK FAIL reason...``; the exit status is 0 or 1.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from typing import Any

from soaklib.coordinator import Soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    parser.add_argument("--jobwired", default=os.environ.get("JOBWIRED", ""),
                        help="path of the jobwired binary (default: $JOBWIRED)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    parser.add_argument("--workdir", default=None, help="where to create the temporary directory (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, server log)")
    parser.add_argument("--processes", type=int, default=2, help="load processes (default 2)")
    parser.add_argument("--workers", type=int, default=6, help="worker threads per load process (default 6)")
    parser.add_argument("--rate", type=float, default=800.0, help="cap on calls/s over all processes (default 800)")
    parser.add_argument("--server-log-level", default="info", help="jobwired's --log-level (debug logs each "
                        "connection's open and close, with its peer)")
    parser.add_argument("--heap-probe", action="store_true",
                        help="at warm-up end and at the end, read glibc's malloc_stats() in jobwired through gdb "
                        "(live vs held heap bytes; pauses the server about a second each time)")
    parser.add_argument("--malloc-arena-max", type=int, default=0,
                        help="run jobwired with MALLOC_ARENA_MAX=N (default: glibc's own, 8 per core)")
    parser.add_argument("--sample-interval", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--drift-window", type=int, default=6, help="samples averaged at warm-up end and at the end")
    parser.add_argument("--drift-limit", type=float, default=5.0, help="largest RSS drift allowed, in percent")
    args = parser.parse_args()
    if not args.jobwired or not os.access(args.jobwired, os.X_OK):
        parser.error(f"--jobwired (or $JOBWIRED) must name the jobwired binary; got {args.jobwired!r}")
    args.jobwired = os.path.abspath(args.jobwired)
    os.environ["JOBWIRED"] = args.jobwired

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT too: a shell starts background commands with SIGINT ignored, and Python keeps that.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    soak = Soak(args)
    try:
        return soak.run()
    except KeyboardInterrupt as stop:
        print(f"SOAK FAIL interrupted ({stop or 'Ctrl-C'})", flush=True)
        return 1
    except Exception:  # noqa: BLE001 - report, clean up (in run), fail
        traceback.print_exc()
        print("SOAK FAIL the soak itself crashed (traceback above)", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
