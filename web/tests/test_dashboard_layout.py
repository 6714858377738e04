"""The dashboard for every user: a phone, a dark system theme, a keyboard without a mouse, a screen reader's landmarks
and live regions."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from browser_support import open_dashboard, row
from helpers import Server
from jobwire import JobSpec, JobStatus

StartServer = Callable[..., Server]


@pytest.mark.browser_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                             color_scheme="dark")
def test_on_a_phone_in_dark_mode_rows_become_cards_and_nothing_scrolls_sideways(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="transcode", labels={"site": "haifa", "camera": "north-gate"},
                                   stream_url="rtsp://camera-north-gate.haifa.example.com/live", stream_port=8554)).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=35.0, current_task="encoding the second pass")
    open_dashboard(page, server)
    expect(row(page, job.job_id)).to_be_visible()
    layout = page.evaluate("""() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      rowDisplay: getComputedStyle(document.querySelector("#jobs-table tbody tr")).display,
      background: getComputedStyle(document.body).backgroundColor,
      text: getComputedStyle(document.body).color,
    })""")
    assert layout["overflow"] <= 0, f"the page is {layout['overflow']} px wider than the phone"
    assert layout["rowDisplay"] == "block", "each job is a card"
    assert layout["background"] == "rgb(13, 17, 23)" and layout["text"] == "rgb(230, 237, 243)", layout

    row(page, job.job_id).locator("td.type a").tap()
    expect(page.locator("#job-status")).to_have_text("Running")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the job view is {overflow} px wider than the phone"


def test_everything_works_from_the_keyboard(page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="keyboard-only")).job
    open_dashboard(page, server)
    expect(row(page, job.job_id)).to_be_visible()

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.closest('tbody tr') !== null"):
            break
    else:
        raise AssertionError("Tab never reached the job's link")
    page.keyboard.press("Enter")
    expect(page.locator("#job-status")).to_have_text("Pending")

    page.locator("#cancel-job").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    assert client.get_metadata(job.job_id).status is JobStatus.PENDING, "Escape keeps the job"
    page.locator("#cancel-job").focus()
    page.keyboard.press("Enter")
    page.locator("#confirm-yes").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#job-status")).to_have_text("Cancelled")


def test_landmarks_labels_and_live_regions_are_there_for_assistive_technology(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="a11y")).job
    open_dashboard(page, server)
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("search", name="Filter jobs")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("role", "status")
    for name in ("Type", "Label", "Search", "Sort", "Pending", "Running"):
        expect(page.get_by_label(name, exact=True)).to_have_count(1)
    expect(page.get_by_role("progressbar", name="Progress of a11y")).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_role("button", name="Pending 1")).to_be_visible()

    page.goto(f"http://127.0.0.1:{server.http_port}/?job={job.job_id}")
    expect(page.locator("#job-progress-text")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("progressbar", name="Progress")).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_role("heading", level=1)).to_have_text("a11y")
