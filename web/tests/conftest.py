"""Fixtures of the browser tests: a real jobwired per test (the Python client's test servers), Debian's chromium
driven headless by Playwright, and a page that fails its test on any console error.

clients/python/tests holds ``helpers.py`` (``Server``, ``wait_for``, ``run_cli``) and the ``start_server`` and
``keyring`` fixtures; this file loads that conftest under another module name, as hardening/hostile does. The
binaries come from ``JOBWIRED`` and ``JOBWIRE_CLI``; the browser from ``CHROMIUM`` (default ``/usr/bin/chromium``).
Every test leaves a screenshot of its page in ``BROWSER_ARTIFACTS`` (default ``web/tests/artifacts``).
"""
from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CLIENT_TESTS = pathlib.Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"
if str(CLIENT_TESTS) not in sys.path:
    sys.path.insert(0, str(CLIENT_TESTS))

from client_suite import client_conftest  # noqa: E402

_client_conftest = client_conftest()

#: ``start_server(*flags, keys=None) -> Server``: a jobwired, killed after the test.
start_server = _client_conftest.start_server
#: A keys file made with the real CLI: ``keyring["acme-reader"]``, ``keyring["globex-worker"]``, …
keyring = _client_conftest.keyring
#: A throwaway PostgreSQL for the session, a new database on it, and nodes on that database (``cluster.add()``).
postgres = _client_conftest.postgres
database_url = _client_conftest.database_url
cluster = _client_conftest.cluster

import browser_support  # noqa: E402
from browser_support import ConsoleLog  # noqa: E402

ARTIFACTS = pathlib.Path(os.environ.get("BROWSER_ARTIFACTS", pathlib.Path(__file__).parent / "artifacts"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: `make browser-deps` installs Debian's chromium")
    # Chromium's sandbox needs user namespaces, refused to root: the tests run as root in CI containers.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, start_server, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: ANN001
    """A fresh tab in its own context (its own sessionStorage), 1280×800 unless ``browser_context(...)`` says
    otherwise, whose console errors fail the test.

    It depends on ``start_server`` so that it closes before the test's servers stop: a server stopping under an
    open page is a scenario of its own (``network_errors``), not something every teardown should cause."""
    options = request.node.get_closest_marker("browser_context")
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **(options.kwargs if options else {})})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    allowed = request.node.get_closest_marker("console_allows")
    console = ConsoleLog(opened, network_errors_expected=request.node.get_closest_marker("network_errors") is not None,
                         expected=tuple(allowed.args) if allowed else ())
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, tab in enumerate(context.pages):
        suffix = "" if index == 0 else f"-tab{index + 1}"
        try:
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"), full_page=True)
        except Exception as failure:  # noqa: BLE001 (a closed tab has no screenshot; the test's outcome stands)
            print(f"no screenshot of {request.node.name}{suffix}: {failure}")
    context.close()
    console.check()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeats the tests' measurements (``BROWSER ...`` lines) at the end of the run."""
    if browser_support.REPORT_LINES:
        terminalreporter.section("browser measurements")
        for line in browser_support.REPORT_LINES:
            terminalreporter.write_line(line)
