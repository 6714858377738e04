"""Several jobwired nodes on one PostgreSQL database, for the cluster tests here and the browser's (web/tests)."""
from __future__ import annotations

import pathlib
import socket

import jobwire
from helpers import FAST_BACKOFF, Server, wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """Nodes on one database, each on ports picked before it starts (a standby has not bound them yet)."""

    def __init__(self, directory: pathlib.Path, database_url: str) -> None:
        self.directory = directory
        self.database_url = database_url
        self.nodes: list[Server] = []
        self._clients: list[jobwire.Client] = []

    def add(self, *args: str, wait: bool = True) -> Server:
        # Notices too: a standby says so at that level.
        node = Server(self.directory / f"node-{len(self.nodes)}", ("--reaper-interval", "50ms", "--log-level", "notice", *args),
                      database_url=self.database_url)
        node.port, node.http_port = free_port(), free_port()
        self.nodes.append(node)
        node.start(wait=wait)
        return node

    def client(self, first: Server | None = None) -> jobwire.Client:
        """A client given every node's address (``first`` first)."""
        ordered = sorted(self.nodes, key=lambda node: node is not first)
        client = jobwire.Client("127.0.0.1", ordered[0].port, timeout=20.0, backoff=FAST_BACKOFF,
                                fallbacks=[("127.0.0.1", node.port) for node in ordered[1:]])
        self._clients.append(client)
        return client

    def cleanup(self) -> None:
        """Closes every client and stops every node, even when stopping one fails (a sanitizer report, an exit status
        other than 0): the first failure is raised once all are stopped, so no node outlives its test."""
        for client in self._clients:
            client.close()
        failures: list[BaseException] = []
        for node in self.nodes:
            try:
                node.cleanup()
            except BaseException as failure:  # raised below, after the other nodes are stopped
                failures.append(failure)
        if failures:
            raise failures[0]


def is_writer(node: Server) -> bool:
    """Whether the node took the writer lock after standing by (the first writer never stood by)."""
    return "this node now writes: the writer lock is taken" in node.log()


def wait_writer(node: Server, timeout: float = 20) -> None:
    """Waits until a standby has taken over (it loaded every job and serves on its own ports)."""
    wait_for(lambda: is_writer(node), timeout=timeout, what="the standby to take over")


def is_standby(node: Server) -> bool:
    return "standby: another jobwired writes to this database" in node.log()
