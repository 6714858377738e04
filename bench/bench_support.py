"""Process and measurement helpers for bench/run.py: start a server, wait until
it is ready, sample its CPU time and peak RSS from /proc, stop it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Sequence

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces; fields after it are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    return sum(cpu_times(pid))


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Resets VmHWM so the next peak reading covers only what follows."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


@dataclass
class Server:
    """A server process started by the bench; stopped by stop()."""

    name: str
    process: subprocess.Popen[str]
    port: int
    workdir: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> float:
        return rss_mib(self.pid)

    def peak_rss(self) -> float:
        return rss_mib(self.pid, "VmHWM")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, argv: Sequence[str], ready: str, port: int | None = None,
          env: dict[str, str] | None = None, timeout: float = 120) -> Server:
    """Starts argv and waits for a stdout line matching `ready` (a regex whose
    group 1, if any, is the port). Fails loudly if the process exits first."""
    workdir = tempfile.mkdtemp(prefix=f"jobwire-bench-{name}-")
    log = open(os.path.join(workdir, "stderr.log"), "w")
    process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=log, text=True,
                               env={**os.environ, **(env or {})}, cwd=workdir)
    pattern = re.compile(ready)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = pattern.search(line)
        if match:
            found = int(match.group(1)) if match.groups() else port
            if found is None:
                raise RuntimeError(f"{name}: ready line without a port: {line!r}")
            # Keep draining stdout so the server never blocks on a full pipe.
            subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
            return Server(name, process, found, workdir)
    process.kill()
    process.wait()
    log.close()
    with open(os.path.join(workdir, "stderr.log")) as errors:
        tail = errors.read()[-2000:]
    raise RuntimeError(f"{name} did not become ready: {' '.join(argv)}\n{tail}")


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def parse_wrk(output: str) -> dict[str, float]:
    """wrk --latency's report as numbers: rps, p50_us, p99_us, max_us; fails on errors or an unknown format."""
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk got error responses:\n{output[-2000:]}")

    def microseconds(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[unit]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"\s50%\s+(\S+)", output)
    p99 = re.search(r"\s99%\s+(\S+)", output)
    top = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output)
    if rate is None or p50 is None or p99 is None or top is None:
        raise RuntimeError(f"wrk output not understood:\n{output[-2000:]}")
    return {"rps": float(rate.group(1)), "p50_us": microseconds(p50.group(1)), "p99_us": microseconds(p99.group(1)),
            "max_us": microseconds(top.group(1))}
