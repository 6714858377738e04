"""A throwaway PostgreSQL for the postgres store's tests: Debian's server, ``initdb`` into a temporary directory, run as
the unprivileged ``postgres`` user when the tests run as root (PostgreSQL refuses to run as root), on a free loopback
port, stopped at the end. Each test gets a database of its own (``CREATE DATABASE``), so nothing leaks between tests.
"""
from __future__ import annotations

import glob
import itertools
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bin_directory() -> pathlib.Path:
    """The newest installed server's binaries (Debian keeps them under /usr/lib/postgresql/VERSION/bin)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if not candidates:
        raise RuntimeError("Debian's postgresql is not installed: run `make test-deps` (it installs it)")
    return pathlib.Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server in its own directory. ``url(name)`` is a database's connection URL."""

    _names = itertools.count(1)

    def __init__(self) -> None:
        self.bin = _bin_directory()
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="jobwire-postgres-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.log = self.directory / "postgres.log"
        # initdb and postgres refuse to run as root: as root, run them as the package's `postgres` user.
        self._user = "postgres" if os.getuid() == 0 else None
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "jobwire", "--auth=trust", "-E", "UTF8", "--no-instructions")

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=self.directory)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session and stops; ``immediate`` is a crash (recovery runs at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def version(self) -> str:
        """The server's major version, from its directory (e.g. ``15``)."""
        return self.bin.parent.name

    def url(self, database: str = "postgres") -> str:
        return f"postgres://jobwire@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Runs one statement with psql; returns its unaligned output."""
        done = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", statement],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr}")
        return done.stdout.strip()

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"jobwire_test_{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
