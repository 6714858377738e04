"""The coordinator: starts the server and the load processes, kills and restarts the server once, samples, checks the
ledgers, and hands the end of the run to the report."""
from __future__ import annotations

import argparse
import collections
import dataclasses
import multiprocessing
import pathlib
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

import jobwire
from helpers import FAST_BACKOFF
from jobwire.errors import JobWireError

from .common import CALL_TIMEOUT_S, FD_SETTLE_S, Options, T, is_connection_error, mono, start_guarded
from .faults import FaultInjection
from .load import load_main
from .plumbing import Stats
from .report import Reporting
from .server import ServerProcess


@dataclasses.dataclass
class Sample:
    t: float
    pid: int
    rss_kib: int
    anon_kib: int  # RssAnon, for the summary: VmRSS is mostly the mapped binary, the heap is the part that leaks
    threads: int
    fds: int
    store_fds: int  # descriptors on the store's files (data directory)




class Soak(FaultInjection, Reporting):
    """Starts the server and the load, injects the faults, samples, checks, reports."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.duration = args.minutes * 60.0
        self.rng = random.Random(f"{args.seed}/coordinator")
        self.retention_ms = 20_000
        self.expired_retention_ms = 20_000
        base = pathlib.Path(args.workdir) if args.workdir else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="jobwire-soak-", dir=base))
        self.server = ServerProcess(args.jobwired, self.workdir, [
            "--retention", "20s", "--expired-retention", "20s", "--reaper-interval", "1s",
            "--stream-ports", "40000-40999", "--log-level", args.server_log_level],
            env={"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else None)
        #: malloc_stats() at warm-up end and at the end (--heap-probe): (held, live) bytes.
        self.heap: dict[str, tuple[int, int] | None] = {}
        self._client: jobwire.Client | None = None
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Pipe]] = []
        self.samples: list[Sample] = []
        self.violations: list[str] = []
        self.stats = Stats()  # the coordinator's own calls and faults
        self.stop = threading.Event()
        self.server_up = threading.Event()
        self.killing = False
        self.kill_t: float | None = None
        self.ready_t: float | None = None
        self.t_start = 0.0
        self.t_end = 0.0
        self.baseline_fds: list[str] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.threads: list[threading.Thread] = []
        self.raw_faults: collections.Counter[str] = collections.Counter()
        #: (monotonic time, local port, kind) of every raw fault connection, to name a socket the server keeps.
        self.raw_ports: list[tuple[float, int, str]] = []
        self.sockets_end: list[str] = []
        self.fd_settle_s = 0.0
        self.last_calls = 0
        self.last_progress_t = 0.0

    @property
    def client(self) -> jobwire.Client:
        """The coordinator's own client (Stats, Health, ListJobs for raw faults, sweeping raw jobs)."""
        assert self._client is not None
        return self._client

    def say(self, text: str) -> None:
        elapsed = mono() - self.t_start if self.t_start else 0.0
        print(f"[soak {int(elapsed) // 60:2d}:{int(elapsed) % 60:02d}] {text}", flush=True)

    def violation(self, text: str) -> None:
        self.violations.append(text)
        self.say(f"VIOLATION: {text}")

    # The run.

    def run(self) -> int:
        try:
            self.setup()
            self.main_loop()
            return self.finish()
        finally:
            self.cleanup()

    def setup(self) -> None:
        self.say(f"workdir {self.workdir}; jobwired {self.args.jobwired}; seed {self.args.seed}; "
                 f"{self.args.minutes:g} min; {self.args.processes} load processes x {self.args.workers} workers; "
                 f"rate cap {self.args.rate:g} calls/s")
        self.server.start()
        self.server_up.set()
        # The idle baseline: listening socket, store files, event loop descriptors... before any client.
        time.sleep(1.0)
        self.baseline_fds = self.server.fds() or []
        self.say(f"jobwired pid {self.server.pid} on port {self.server.port}; idle: {len(self.baseline_fds)} fds, "
                 f"RSS {(self.server.rss_kib() or 0) / 1024:.1f} MiB")
        self._client = jobwire.Client("127.0.0.1", self.server.port, timeout=CALL_TIMEOUT_S, backoff=FAST_BACKOFF,
                                     client_name="jobwire-soak/coordinator")
        options = Options(self.server.port, self.args.seed, self.args.workers, self.args.rate / self.args.processes,
                          self.retention_ms, self.expired_retention_ms)
        context = multiprocessing.get_context("spawn")
        for index in range(self.args.processes):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=load_main, args=(index, options, child_end), name=f"soak-load-{index}",
                                      daemon=True)
            process.start()
            self.processes.append((process, parent_end))
        self.t_start = mono()
        self.t_end = self.t_start + self.duration
        self.last_progress_t = self.t_start
        self.threads += start_guarded([("sampler", self.sampler), ("faults", self.fault_injector)],
                                      lambda name, trace: self.violation(f"soak thread {name} died: {trace}"))

    def main_loop(self) -> None:
        kill_at = self.t_start + self.duration / 3
        next_progress = self.t_start + 30
        killed = False
        warm_end: float | None = None
        while mono() < self.t_end and not self.stop.is_set():
            if not killed and mono() >= kill_at:
                killed = True
                self.kill_and_restart()
                assert self.ready_t is not None
                warm_end = self.ready_t + max(60.0, (self.t_end - self.ready_t) / 3)
                time.sleep(3.0)  # let the clients find the new server
                self.checkpoint("after restart")
            if self.args.heap_probe and warm_end is not None and "warm" not in self.heap and mono() >= warm_end:
                self.heap["warm"] = self.server.malloc_stats()
                self.say(f"heap probe at warm-up end: {self.format_heap(self.heap['warm'])}")
            if mono() >= next_progress:
                next_progress += 30
                self.progress()
            for process, _ in self.processes:
                if not process.is_alive():
                    self.violation(f"load process {process.name} exited ({process.exitcode})")
                    self.stop.set()
            time.sleep(0.2)
        if not killed and not self.stop.is_set():
            self.violation("the run ended before the SIGKILL")

    def kill_and_restart(self) -> None:
        downtime = self.rng.uniform(0.5, 2.0)
        self.killing = True
        self.server_up.clear()
        self.kill_t = mono()
        old_pid = self.server.pid
        self.server.kill()
        self.say(f"SIGKILL jobwired (pid {old_pid}); restarting in {downtime:.1f} s on port {self.server.port}")
        time.sleep(downtime)
        self.server.start()
        self.ready_t = mono()
        self.killing = False
        self.server_up.set()
        self.say(f"jobwired restarted: pid {self.server.pid}, ready {self.ready_t - self.kill_t:.1f} s after the "
                 f"kill; {len(self.server.fds() or [])} fds")

    def ask(self, command: tuple[Any, ...], timeout: float) -> list[dict[str, Any]]:
        """Sends `command` to every load process and collects the answers (all work in parallel)."""
        asked = []
        for process, pipe in self.processes:
            try:
                pipe.send(command)
                asked.append((process, pipe))
            except OSError:
                self.violation(f"{process.name} is gone (exit code {process.exitcode})")
        answers = []
        deadline = mono() + timeout
        for process, pipe in asked:
            try:
                if pipe.poll(max(0.0, deadline - mono())):
                    answers.append(pipe.recv())
                    continue
            except (OSError, EOFError):
                pass
            self.violation(f"{process.name} did not answer {command[0]} within {timeout:.0f} s")
        return answers

    def checkpoint(self, label: str) -> None:
        self.say(f"checkpoint '{label}': pausing writes, checking every acknowledged write...")
        answers = self.ask(("check", label), timeout=180)
        kinds: collections.Counter[str] = collections.Counter()
        entries = 0
        count = 0
        for answer in answers:
            kinds.update(answer["kinds"])
            entries += answer["entries"]
            count += answer["violation_count"]
            for violation in answer["violations"]:
                self.say(f"VIOLATION: {violation}")
        self.checkpoints.append({"label": label, "entries": entries, "kinds": dict(kinds), "violations": count})
        self.say(f"checkpoint '{label}': {entries:,} ledger entries: {self.format_counter(kinds)}; "
                 f"{count} violations")

    def progress(self) -> None:
        answers = self.ask(("stats",), timeout=30)
        calls = sum(sum(answer["calls"].values()) for answer in answers) + sum(self.stats.calls.values())
        now = mono()
        rate = (calls - self.last_calls) / max(0.001, now - self.last_progress_t)
        self.last_calls, self.last_progress_t = calls, now
        classes: collections.Counter[str] = collections.Counter()
        for answer in answers:
            for (_, _, klass), count in answer["errors"].items():
                classes[klass.split(":")[0]] += count
        violations = sum(answer["violation_count"] for answer in answers) + len(self.violations)
        ledger = sum(answer["ledger"] for answer in answers)
        server = ""
        try:
            stats = self.coordinator_call("Stats", lambda: self.client.stats())
            jobs = {status.name[:4]: count for status, count in stats.jobs.items() if count}
            server = f" | server jobs {jobs} conns {stats.connections} streams {stats.streams}"
        except JobWireError:
            pass
        sample = self.samples[-1] if self.samples else None
        memory = (f" | rss {sample.rss_kib / 1024:.1f} MiB (heap {sample.anon_kib / 1024:.1f}) threads "
                  f"{sample.threads} fds {sample.fds}" if sample else "")
        self.say(f"calls {calls:,} ({rate:.0f}/s) | errors {self.format_counter(classes) or 'none'} | "
                 f"violations {violations} | ledger {ledger:,}{server}{memory}")

    def coordinator_call(self, method: str, call: Callable[[], T]) -> T:
        self.stats.call(method)
        try:
            return call()
        except JobWireError as error:
            klass = "fault" if is_connection_error(error) else "unexpected"
            self.stats.error(method, error, klass, "coordinator")
            raise

    # Background threads.

    def sampler(self) -> None:
        """RSS and descriptors every few seconds; notices a server that died without our SIGKILL."""
        while not self.stop.wait(self.args.sample_interval):
            if self.killing:
                continue
            if not self.server.alive():
                if self.killing:
                    continue
                code = self.server.process.poll() if self.server.process else None
                self.violation(f"jobwired exited by itself (status {code}); log tail:\n{self.server.log_tail(15)}")
                self.stop.set()
                return
            memory = self.server.memory_kib()
            fds = self.server.fds()
            if "VmRSS" in memory and fds is not None:
                self.samples.append(Sample(mono(), self.server.pid, memory["VmRSS"], memory.get("RssAnon", 0),
                                           memory.get("Threads", 0), len(fds), sum(self.store_fds(fds).values())))

    def non_store(self, fds: list[str]) -> collections.Counter[str]:
        """The descriptors that are not on the store's files."""
        prefix = str(self.server.data_dir) + "/"
        return collections.Counter(fd for fd in fds if not fd.startswith(prefix))

    def store_fds(self, fds: list[str]) -> collections.Counter[str]:
        """The descriptors on files of the data directory, by file name."""
        prefix = str(self.server.data_dir) + "/"
        return collections.Counter(fd[len(prefix):] for fd in fds if fd.startswith(prefix))

    # The end.

    def finish(self) -> int:
        load_end = mono()
        if self.args.heap_probe and self.server.alive():
            self.heap["end"] = self.server.malloc_stats()
            self.say(f"heap probe at the end: {self.format_heap(self.heap['end'])}")
        self.say("stopping the load; final check of every acknowledged write...")
        final_stats = None
        try:
            final_stats = self.coordinator_call("Stats", lambda: self.client.stats())
        except JobWireError:
            pass
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        reports = self.ask(("stop",), timeout=300)
        for process, _ in self.processes:
            process.join(30)
        if self._client is not None:
            self._client.close()
        # Descriptors: with every client gone the server must be back to its idle set.
        # jobwired closes a connection that was reset right after an incomplete frame only when its next ping
        # (--ping-interval, 30 s) or the handshake timeout (10 s) fails on it: so give the last raw faults that
        # long, and say how long it took.
        fds_end: list[str] = []
        clients_gone = mono()
        deadline = clients_gone + FD_SETTLE_S
        while self.server.alive():
            fds_end = self.server.fds() or []
            if self.non_store(fds_end) == self.non_store(self.baseline_fds) or mono() > deadline:
                break
            time.sleep(0.5)
        self.fd_settle_s = mono() - clients_gone
        self.sockets_end = self.server.sockets() if self.server.alive() else []
        rss_end = self.server.rss_kib()
        exit_status = self.server.terminate() if self.server.alive() else None
        store_status, store_output = self.server.check_store()
        return self.report(reports, load_end, fds_end, rss_end, exit_status, store_status, store_output, final_stats)

    def cleanup(self) -> None:
        """Runs on every exit: no process of ours survives, the temporary directory goes unless --keep."""
        self.stop.set()
        self.server_up.set()
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()
        for process, _ in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        if self._client is not None:
            self._client.close()
        if self.server.alive():
            self.server.kill()
        if self.args.keep:
            print(f"kept {self.workdir} (data/ and jobwired.log)", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
