"""The dashboard in Debian's chromium against a real jobwired: what a user sees as jobs are created, worked on,
cancelled and finished."""
from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from browser_support import field, log_lines, measure, open_dashboard, report, row, timeline_revisions
from helpers import Server, run_cli, wait_for
from jobwire import JobSpec, JobStatus

StartServer = Callable[..., Server]


def test_the_page_loads_and_a_job_created_by_the_cli_appears(page: Page, start_server: StartServer) -> None:
    server = start_server()
    open_dashboard(page, server)
    expect(page.locator("#jobs-summary")).to_have_text("No jobs match.")
    expect(page).to_have_title("JobWire")

    created: dict[str, str] = {}

    def create() -> None:
        done = run_cli("configure", "--type", "das_stream", "--label", "site=haifa", "--json", port=server.port)
        created.update(json.loads(done.stdout))

    seconds = measure(create, lambda: expect(row(page, created["job_id"])).to_be_visible())
    report(f"a job created by the CLI was in the list {seconds * 1000:.0f} ms after the CLI started")
    job_row = row(page, created["job_id"])
    expect(job_row.locator("td.status")).to_have_text("Pending")
    expect(job_row.locator("td.type")).to_have_text("das_stream")
    expect(job_row.locator("td.labels")).to_have_text("site=haifa")
    expect(page.locator("#jobs-summary")).to_have_text("1 job")
    expect(page.locator('#status-counts button[data-status="pending"] .number')).to_have_text("1")


def test_progress_moves_in_the_list_and_the_job_view_as_a_worker_reports(page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="transcode", stream_url="rtsp://cam-7.local", stream_port=8554,
                                   channel_to_stream_index={3: 0, 5: 1}, frequencies_list=(1.5, 2.25))).job
    open_dashboard(page, server)
    job_row = row(page, job.job_id)
    expect(job_row.locator("td.stream-cell code")).to_have_text("rtsp://cam-7.local:8554")

    with client.worker(job.job_id, lease=30) as worker:
        worker.progress(25.0, task="decoding", eta=90.0, log=["opened the stream"])
        expect(job_row.locator("td.progress .value")).to_have_text("25%")
        expect(job_row.locator("td.task")).to_have_text("decoding")
        expect(job_row.locator("td.eta")).to_have_text("1 min 30 s")
        expect(job_row.locator("td.status")).to_have_text("Running")

        job_row.locator("td.type a").click()
        expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?job={job.job_id}")
        expect(page.locator("#job-progress-text")).to_have_text("Running — 25% — decoding — about 1 min 30 s left")
        channels = field(page, "channel_to_stream_index").locator("tbody tr")
        expect(channels).to_have_count(2)
        assert channels.all_inner_texts() == ["3\t0", "5\t1"], channels.all_inner_texts()
        expect(field(page, "frequencies_list")).to_have_text("1.5, 2.25")
        expect(field(page, "stream")).to_contain_text("rtsp://cam-7.local:8554")
        assert log_lines(page) == ["opened the stream"]

        worker.progress(60.0, task="encoding", log=["pass 1 done", "pass 2 started"])
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "60")
        expect(page.locator("#job-log li")).to_have_count(3)
        assert log_lines(page) == ["opened the stream", "pass 1 done", "pass 2 started"]
        worker.set_result({"frames": 9000})

    expect(page.locator("#job-status")).to_have_text("Completed")
    expect(field(page, "result")).to_contain_text('"frames": 9000')
    expect(page.locator("#cancel-job")).to_be_disabled()
    expect(page.locator("#connection")).to_have_attribute("data-state", "ended")
    revisions = timeline_revisions(page)
    assert revisions == list(range(revisions[0], job_at(client, job.job_id).revision + 1)), revisions

    page.locator("a[data-back]").click()
    expect(row(page, job.job_id).locator("td.status")).to_have_text("Completed")
    expect(row(page, job.job_id).locator("td.progress .value")).to_have_text("100%")


def test_cancel_on_the_page_reaches_the_worker_which_reports_cancelled(page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="ai_step")).job
    with client.worker(job.job_id, lease=30) as worker:
        worker.progress(40.0, task="inference")
        open_dashboard(page, server, f"?job={job.job_id}")
        expect(page.locator("#job-status")).to_have_text("Running")

        page.locator("#cancel-job").click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Keep it").click()
        expect(dialog).to_be_hidden()
        assert not worker.cancel_event.wait(0.3), "keeping the job must not cancel it"

        page.locator("#cancel-job").click()
        dialog.get_by_role("button", name="Cancel job").click()
        assert worker.cancel_event.wait(5), "the cancel from the page reached the worker"
        expect(page.locator("#job-status")).to_have_text("Cancelling")
        expect(page.locator("#cancel-job")).to_be_disabled()
        worker.acknowledge_cancel(log=["stopped at a frame boundary"])

    expect(page.locator("#job-status")).to_have_text("Cancelled")
    expect(field(page, "cancel_reason")).to_have_text("cancelled from the dashboard")
    expect(page.locator("#retry-job")).to_be_enabled()
    statuses = page.locator("#job-timeline li").all_inner_texts()
    assert any("Cancelling" in entry for entry in statuses) and "Cancelled" in statuses[-1], statuses
    assert client.get_metadata(job.job_id).status is JobStatus.CANCELLED

    page.locator("#retry-job").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Retry job").click()
    expect(page.locator("#job-status")).to_have_text("Pending")
    expect(field(page, "attempt")).to_have_text("2")
    expect(field(page, "previous_attempts")).to_contain_text("Cancelled")
    # The retry was seen through the reopened watch, in order.
    revisions = timeline_revisions(page)
    assert revisions == list(range(revisions[0], revisions[0] + len(revisions))), revisions


@pytest.mark.console_allows(r"status of 404 \(Not Found\) \(http://127\.0\.0\.1:\d+/v1/jobs/[0-9a-f-]+/events\?",
                            r"EventSource's response has a status of 404")
def test_an_unknown_job_says_so(page: Page, start_server: StartServer) -> None:
    server = start_server()
    page.goto(f"http://127.0.0.1:{server.http_port}/?job=0b8f3c52-3a55-4c1a-9d35-1a54bcd0f2a4")
    expect(page.locator("#page-error")).to_contain_text("No job 0b8f3c52-3a55-4c1a-9d35-1a54bcd0f2a4")
    expect(page.locator("#job-heading")).to_have_text("Job not found")


def job_at(client, job_id: str):
    return wait_for(lambda: client.get_metadata(job_id), what="the job")


def test_filters_and_sort_are_kept_in_the_url_and_applied_live(page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    encode = client.configure(JobSpec(type="encode", labels={"site": "haifa"}, priority=1)).job
    probe = client.configure(JobSpec(type="probe", labels={"site": "eilat"}, priority=9)).job
    client.update(encode.job_id, status=JobStatus.RUNNING, current_task="camera north")
    open_dashboard(page, server)
    expect(page.locator("#jobs-table tbody tr")).to_have_count(2)

    page.get_by_label("Running", exact=True).check()
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?status=running")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(1)
    expect(row(page, encode.job_id)).to_be_visible()
    page.get_by_label("Running", exact=True).uncheck()

    page.get_by_label("Search", exact=True).fill("north")
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?search=north")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(1)
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Type", exact=True).fill("probe")
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?type=probe")
    expect(row(page, probe.job_id)).to_be_visible()
    expect(page.locator("#jobs-table tbody tr")).to_have_count(1)
    # A job entering the filter while it is on shows at once.
    late = client.configure(JobSpec(type="probe")).job
    expect(row(page, late.job_id)).to_be_visible()
    page.get_by_role("button", name="Clear").click()
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(3)

    page.get_by_label("Sort", exact=True).select_option("priority")
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?sort=priority")
    order = page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(row => row.dataset.jobId)")
    assert order[0] == probe.job_id, "the highest priority first"

    page.locator('#status-counts button[data-status="running"]').click()
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?status=running&sort=priority")
    expect(page.get_by_label("Running", exact=True)).to_be_checked()
    page.go_back()
    expect(page).to_have_url(f"http://127.0.0.1:{server.http_port}/?sort=priority")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(3)


def test_the_stream_endpoint_is_one_click_to_copy(page: Page, start_server: StartServer) -> None:
    server = start_server()
    job = server.client().configure(JobSpec(type="das_stream", stream_url="rtsp://cam-3.local", stream_port=8554)).job
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_dashboard(page, server)
    copy = row(page, job.job_id).get_by_role("button", name="Copy stream endpoint rtsp://cam-3.local:8554")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == "rtsp://cam-3.local:8554"
