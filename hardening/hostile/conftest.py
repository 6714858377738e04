"""Fixtures of the hostile-network suite: the Python client's own test servers, reused as they are.

clients/python/tests holds ``helpers.py`` (``Server``, ``RawConnection``, ``wait_for``) and the ``start_server``
fixture (a real jobwired per test: port 0, its own data directory, so the SQLite store, killed after the test). This
file puts that directory on ``sys.path`` and loads its conftest under another module name — two modules named
``conftest`` cannot both be imported — so that ``start_server`` is a fixture here too. The binaries come from
``JOBWIRED`` and ``JOBWIRE_CLI``, as for that suite.
"""
from __future__ import annotations

import pathlib
import sys

import pytest

CLIENT_TESTS = pathlib.Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"
if str(CLIENT_TESTS) not in sys.path:
    sys.path.insert(0, str(CLIENT_TESTS))

from client_suite import client_conftest  # noqa: E402

_client_conftest = client_conftest()

#: ``start_server(*flags) -> Server``: a jobwired with extra flags, killed (and its clients closed) after the test.
start_server = _client_conftest.start_server

import support  # noqa: E402  (needs CLIENT_TESTS on sys.path for helpers)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeats every scenario's ``HOSTILE ...`` line at the end of the run, whatever pytest captured."""
    if support.HOSTILE_LINES:
        terminalreporter.section("hostile scenarios")
        for line in support.HOSTILE_LINES:
            terminalreporter.write_line(line)
