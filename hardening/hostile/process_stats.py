"""The server process as the hostile scenarios measure it: resident memory (and its peak during an attack), private
writable address space, open descriptors, descriptor limits, and whether it is still alive. Read from /proc."""
from __future__ import annotations

import os
import threading

from helpers import Server



def _status_field_kib(pid: int, name: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {name}")


def rss_kib(pid: int) -> int:
    """Resident memory of the process (``VmRSS``), in KiB."""
    return _status_field_kib(pid, "VmRSS")


def writable_kib(pid: int) -> int:
    """Private writable address space of the process, in KiB: the sum of its ``rw-p`` mappings.

    Memory a process reserved (malloc'd) but never touched is not resident, so RSS does not see it; it is still in
    these mappings, and it is what the kernel charges the process under strict overcommit
    (``vm.overcommit_memory=2``). Unlike ``VmSize`` it leaves out the allocator's reserved-but-inaccessible arena
    space (``---p``, 64 MiB per arena), which comes and goes with threads and says nothing about the program.
    """
    total = 0
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith("rw") and fields[1].endswith("p"):
                start, end = fields[0].split("-")
                total += (int(end, 16) - int(start, 16)) // 1024
    return total


def fd_count(pid: int) -> int:
    """Open descriptors of the process: the entries of /proc/PID/fd."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def nofile_limits(pid: int) -> tuple[int, int]:
    """The process's (soft, hard) RLIMIT_NOFILE, from /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError(f"/proc/{pid}/limits has no 'Max open files'")


def pid_of(server: Server) -> int:
    assert server.process is not None, "the server was not started"
    return server.process.pid


def assert_alive(server: Server) -> None:
    assert server.process is not None
    code = server.process.poll()
    assert code is None, f"jobwired exited with status {code}; log tail:\n{server.log()[-3000:]}"


class PeakRss:
    """The highest resident memory of a process from :meth:`start` to :meth:`stop`.

    The kernel's own high-water mark (``VmHWM``) is reset at the start by writing ``5`` to /proc/PID/clear_refs, so
    even a spike between two samples is seen; where that is not allowed, a 20 ms sampler alone is used.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before_kib = 0
        self.peak_kib = 0
        self._hwm_reset = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.before_kib = rss_kib(self.pid)
        self.peak_kib = self.before_kib
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as clear:
                clear.write("5")
            self._hwm_reset = True
        except OSError:
            self._hwm_reset = False
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def sample(self) -> int:
        """Reads VmRSS now (and folds it into the peak); returns it."""
        try:
            now = rss_kib(self.pid)
        except (OSError, AssertionError):
            return self.peak_kib
        self.peak_kib = max(self.peak_kib, now)
        return now

    def stop(self) -> int:
        """Stops sampling; returns the peak in KiB. Later calls return the same peak."""
        if self._thread is None:
            return self.peak_kib
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.sample()
        if self._hwm_reset:
            self.peak_kib = max(self.peak_kib, _status_field_kib(self.pid, "VmHWM"))
        return self.peak_kib

    @property
    def growth_kib(self) -> int:
        return self.peak_kib - self.before_kib
