"""What the browser tests share: the console check, the page's URL on a server, and reading the page."""
from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Page, expect

from helpers import Server

#: The measurements the tests print (``BROWSER ...``), repeated at the end of the run whatever pytest captured.
REPORT_LINES: list[str] = []


def report(line: str) -> None:
    REPORT_LINES.append(f"BROWSER {line}")
    print(REPORT_LINES[-1])


# Chromium's own line for a request that failed or was refused: expected while a test stops the server on purpose.
_FAILED_LOAD = re.compile(r"^(Failed to load resource|.*net::ERR_|.*EventSource's response has a MIME type)")


class ConsoleLog:
    """Every console message and uncaught exception of a page; ``check()`` fails on any error."""

    def __init__(self, page: Page, network_errors_expected: bool = False, expected: tuple[str, ...] = ()) -> None:
        self.network_errors_expected = network_errors_expected
        #: Patterns of messages the test causes on purpose (matched against "text (url)").
        self.expected = [re.compile(pattern) for pattern in expected]
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        if self.network_errors_expected and _FAILED_LOAD.match(text):
            return
        line = f"{text} ({message.location.get('url', '')})"
        if any(pattern.search(line) for pattern in self.expected):
            return
        self.errors.append(f"{message.type}: {line}")

    def check(self) -> None:
        assert not self.errors, "the page logged:\n" + "\n".join(self.errors)


def dashboard_url(server: Server, query: str = "") -> str:
    return f"http://127.0.0.1:{server.http_port}/{query}"


def open_dashboard(page: Page, server: Server, query: str = "") -> None:
    """Opens the page and waits until its stream is live."""
    page.goto(dashboard_url(server, query))
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def row(page: Page, job_id: str):
    return page.locator(f'#jobs-table tbody tr[data-job-id="{job_id}"]')


def field(page: Page, name: str):
    return page.locator(f'#job-fields dd[data-field="{name}"]')


def timeline_revisions(page: Page) -> list[int]:
    return [int(value) for value in page.locator("#job-timeline li").evaluate_all(
        "items => items.map(item => item.dataset.revision)")]


def log_lines(page: Page) -> list[str]:
    return page.locator("#job-log li").all_inner_texts()


def measure(action: Callable[[], None], until: Callable[[], None]) -> float:
    """Seconds from `action` until `until` returns (it waits with Playwright's auto-retrying assertions)."""
    started = time.monotonic()
    action()
    until()
    return time.monotonic() - started
