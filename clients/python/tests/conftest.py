"""Fixtures: each test gets its own jobwired (port 0, temporary data directory, keys when needed)."""
from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator

import pytest

import jobwire
from cluster_support import Cluster
from helpers import STORE, Server, create_key
from postgres_server import PostgresServer


class Keyring:
    """A keys file made with the real CLI: one key per role for tenant ``acme``, a worker key for ``globex``."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.keys = {f"acme-{role}": create_key(path, "acme", role) for role in ("reader", "client", "worker", "admin")}
        self.keys["globex-worker"] = create_key(path, "globex", "worker")

    def __getitem__(self, name: str) -> str:
        return self.keys[name]


StartServer = Callable[..., Server]


#: ``JOBWIRE_TEST_STORE=postgres`` (`make test-python-postgres`) runs the suite's servers on the postgres store, each on
#: a database of its own; tests of what only the SQLite store does are marked ``sqlite_only``.
ON_POSTGRES = STORE == "postgres"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        skip = pytest.mark.skip(reason="the SQLite store's own behaviour (files, data directory, disk full)")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def start_server(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> Iterator[StartServer]:
    """Starts a jobwired with extra flags (``keys=`` a keys file); every one is killed after the test."""
    servers: list[Server] = []

    def start(*args: str, keys: pathlib.Path | None = None) -> Server:
        database_url = None
        if ON_POSTGRES and "--store" not in args:
            database_url = request.getfixturevalue("postgres").create_database()
        server = Server(tmp_path / f"server-{len(servers)}", tuple(args), keys, database_url)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.cleanup()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL for the session; each test that needs it takes a database of its own."""
    server = PostgresServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    """A new, empty database on the session's PostgreSQL."""
    return postgres.create_database()


@pytest.fixture
def server(start_server: StartServer) -> Server:
    """A development-mode server (no keys: tenant ``default``, role ``admin``) with an SQLite store."""
    return start_server()


@pytest.fixture
def client(server: Server) -> jobwire.Client:
    return server.client()


@pytest.fixture
def keyring(tmp_path: pathlib.Path) -> Keyring:
    return Keyring(tmp_path / "keys")


@pytest.fixture
def keyed_server(start_server: StartServer, keyring: Keyring) -> Server:
    """A server that requires the keys of `keyring`."""
    return start_server(keys=keyring.path)


@pytest.fixture
def cluster(tmp_path: pathlib.Path, database_url: str) -> Iterator[Cluster]:
    """Nodes on one new database (``cluster.add()``); every node and client is stopped after the test."""
    cluster = Cluster(tmp_path, database_url)
    yield cluster
    cluster.cleanup()
