"""The jobwired process under test: start, SIGKILL, restart, RSS and descriptors, the store check."""
from __future__ import annotations

import collections
import os
import pathlib
import re
import select
import shutil
import signal
import subprocess
import time

from .common import mono


_READY = re.compile(r"^jobwired listening on (.+):(\d+)$")


class ServerProcess:
    """jobwired on loopback with a data directory; restartable on the same port.

    Not helpers.Server: that one shares the soak's process group (a terminal Ctrl-C would reach jobwired and
    start its drain under the soak's feet) and cannot ask the kernel to kill jobwired if the soak itself dies.
    """

    def __init__(self, binary: str, workdir: pathlib.Path, args: list[str], env: dict[str, str] | None = None
                 ) -> None:
        self.binary = binary
        self.env = env
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "jobwired.log"
        self.args = args
        self.port = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Starts jobwired (on the same port when restarting) and waits for its ready line."""
        command = [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
                   *self.args]
        if shutil.which("setpriv"):
            # jobwired gets SIGKILL if the soak dies without cleaning up (even from SIGKILL); setpriv execs, so the
            # pid stays jobwired's.
            command = ["setpriv", "--pdeathsig", "KILL", "--", *command]
        with self.log_path.open("a") as log:
            log.write(f"==== soak: starting {' '.join(command)}\n")
            log.flush()
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                            start_new_session=True, env={**os.environ, **(self.env or {})})
        assert self.process.stdout is not None
        line = ""
        deadline = mono() + 30
        while mono() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline().strip()
                break
            if self.process.poll() is not None:
                break
        match = _READY.match(line)
        if match is None:
            self.kill()
            raise RuntimeError(f"jobwired did not start ({line!r}); log tail:\n{self.log_tail(20)}")
        self.port = int(match.group(2))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (graceful drain); returns the exit status (SIGKILL and -9 after `timeout`)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def memory_kib(self) -> dict[str, int]:
        """VmRSS and its parts (RssAnon: the heap, where a leak shows; RssFile: the mapped binary and libraries)."""
        values = {}
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    name, _, rest = line.partition(":")
                    if name in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                        values[name] = int(rest.split()[0])
        except OSError:
            pass
        return values

    def rss_kib(self) -> int | None:
        return self.memory_kib().get("VmRSS")

    def fds(self, inodes: bool = False) -> list[str] | None:
        """The targets of the server's open descriptors (sockets and pipes without their inode numbers unless
        `inodes`)."""
        try:
            names = os.listdir(f"/proc/{self.pid}/fd")
        except OSError:
            return None
        targets = []
        for name in names:
            try:
                target = os.readlink(f"/proc/{self.pid}/fd/{name}")
            except OSError:
                continue
            targets.append(target if inodes else re.sub(r":\[\d+\]$", "", target))
        return sorted(targets)

    def sockets(self) -> list[str]:
        """Each TCP socket the server holds: state, local and remote address, queues (from /proc/PID/net/tcp*)."""
        states = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
                  "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
                  "0B": "CLOSING"}
        held = {m.group(1) for t in self.fds(inodes=True) or [] if (m := re.match(r"socket:\[(\d+)\]", t))}
        found = []
        for table in ("tcp", "tcp6"):
            try:
                lines = pathlib.Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 9 and fields[9] in held:
                    held.discard(fields[9])
                    local, remote = (f"{int(a.split(':')[1], 16)}" for a in (fields[1], fields[2]))
                    found.append(f"{states.get(fields[3], fields[3])} local port {local} remote port {remote} "
                                 f"queues {fields[4]} inode {fields[9]}")
        found += [f"non-TCP socket inode {inode}" for inode in sorted(held)]
        return found

    def log_tail(self, lines: int) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def malloc_stats(self) -> tuple[int, int] | None:
        """(bytes glibc holds from the system, bytes in live allocations), from malloc_stats() called in jobwired
        through gdb (it prints to jobwired's stderr, our log); None without gdb. Pauses the server about a second.

        Tells a leak (live bytes grow) from allocator retention (only the held bytes grow), which RSS cannot."""
        gdb = shutil.which("gdb")
        if gdb is None:
            return None
        mark = self.log_path.stat().st_size
        subprocess.run([gdb, "-p", str(self.pid), "-batch", "-ex", "call (void)malloc_stats()"],
                       capture_output=True, timeout=120)
        time.sleep(0.5)
        with self.log_path.open("rb") as log:
            log.seek(mark)
            text = log.read().decode(errors="replace")
        totals = re.findall(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)", text)
        return (int(totals[-1][0]), int(totals[-1][1])) if totals else None

    def check_store(self) -> tuple[int, str]:
        done = subprocess.run([self.binary, "--check-store", "--data-dir", str(self.data_dir)],
                              capture_output=True, text=True, timeout=300)
        return done.returncode, (done.stdout + done.stderr).strip()


#: Store descriptors a restarted jobwired holds beyond a fresh one's, by design and bounded (one each per start):
#: - jobwire.sqlite: start-up on an existing file runs quick_check on a second, read-only connection; SQLite's unix
#:   VFS cannot close that connection's descriptor while the main connection holds its WAL-mode lock on the same
#:   file (closing would drop the process's POSIX locks), so it stays open for the life of the process;
#: - jobwire.sqlite + jobwire.sqlite-wal: the details reader (SQLiteJobStore.reader), a second connection opened on
#:   the first read of a restored job's log lines or watch history.
#: A fresh data directory (the idle baseline) has neither. The soak also checks that the store's descriptor count
#: stays constant from warm-up to the end, so a growing leak cannot hide in this allowance.
RESTART_STORE_FDS = collections.Counter({"jobwire.sqlite": 2, "jobwire.sqlite-wal": 1})
