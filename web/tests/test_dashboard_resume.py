"""The dashboard survives a reload, a closed tab and a server restart: it resumes its streams from the points kept in
sessionStorage, with no event lost, none shown twice, and nothing created."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Request, expect

from browser_support import ConsoleLog, dashboard_url, field, log_lines, open_dashboard, row, timeline_revisions
from helpers import Server, run_cli
from jobwire import JobSpec, JobStatus

StartServer = Callable[..., Server]


def assert_contiguous(revisions: list[int], last: int) -> None:
    """Every revision from the first seen to `last`, once each, in order."""
    assert revisions == list(range(revisions[0], last + 1)), revisions


def test_a_reload_in_the_middle_of_a_job_still_shows_every_later_change_and_the_completion(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="transcode")).job
    with client.worker(job.job_id, lease=30) as worker:
        worker.progress(10.0, task="probe", log=["line 1"])
        open_dashboard(page, server, f"?job={job.job_id}")
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "10")
        worker.progress(20.0, task="decode", log=["line 2"])
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "20")
        first_snapshot = timeline_revisions(page)[0]

        page.reload()
        worker.progress(30.0, log=["line 3"])  # while the page reloads: before, during or after its resume
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "30")

        page.goto("about:blank")  # the tab leaves: these changes happen with no page watching
        worker.progress(40.0, task="encode", log=["line 4"])
        worker.progress(50.0, log=["line 5", "line 6"])
        page.goto(dashboard_url(server, f"?job={job.job_id}"))
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "50")
        expect(page.locator("#job-progress-text")).to_contain_text("encode")
        worker.complete({"ok": True}, log=["line 7"])

    expect(page.locator("#job-status")).to_have_text("Completed")
    final = client.get_metadata(job.job_id)
    assert log_lines(page) == [f"line {number}" for number in range(1, 8)]
    revisions = timeline_revisions(page)
    assert revisions[0] == first_snapshot, "the page resumed its saved state rather than starting over"
    assert_contiguous(revisions, final.revision)
    kinds = page.locator("#job-timeline li").evaluate_all("items => items.map(item => item.dataset.type)")
    assert kinds.count("snapshot") == 1 and "resync" not in kinds, kinds
    assert len(list(client.list_jobs())) == 1, "the page created nothing"


def test_the_jobs_view_resumes_from_its_cursor_with_its_filters_after_the_tab_comes_back(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    kept = client.configure(JobSpec(type="encode", labels={"site": "haifa"})).job
    deleted = client.configure(JobSpec(type="encode", labels={"site": "haifa"})).job
    elsewhere = client.configure(JobSpec(type="encode", labels={"site": "eilat"})).job
    query = "?label=site%3Dhaifa&sort=updated"
    open_dashboard(page, server, query)
    expect(page.locator("#jobs-table tbody tr")).to_have_count(2)
    expect(page.locator("input[name=label]")).to_have_value("site=haifa")

    page.goto("about:blank")
    client.update(kept.job_id, status=JobStatus.RUNNING, progress=70.0, current_task="mux")
    client.delete(deleted.job_id)
    added = client.configure(JobSpec(type="thumbnail", labels={"site": "haifa"})).job
    client.update(elsewhere.job_id, progress=5.0)

    streams: list[str] = []
    page.on("request", lambda request: streams.append(request.url) if "/v1/events" in request.url else None)
    page.goto(dashboard_url(server, query))
    expect(row(page, added.job_id)).to_be_visible()
    expect(row(page, kept.job_id).locator("td.progress .value")).to_have_text("70%")
    expect(row(page, deleted.job_id)).to_have_count(0)
    expect(row(page, elsewhere.job_id)).to_have_count(0)
    # Sorted by update time: the job updated last is first.
    order = page.locator("#jobs-table tbody tr").evaluate_all("rows => rows.map(row => row.dataset.jobId)")
    assert order == [added.job_id, kept.job_id], order
    expect(page.locator("select[name=sort]")).to_have_value("updated")
    assert streams and "cursor=" in streams[0], f"the list-watch resumed from its saved cursor: {streams}"


@pytest.mark.network_errors
def test_a_server_restart_in_the_middle_of_a_watch_shows_reconnecting_then_catches_up(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="das_stream", labels={"site": "haifa"})).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=10.0, log_lines=["before"])
    open_dashboard(page, server, f"?job={job.job_id}")
    jobs_tab = page.context.new_page()
    jobs_console = ConsoleLog(jobs_tab, network_errors_expected=True)
    open_dashboard(jobs_tab, server)
    expect(row(jobs_tab, job.job_id).locator("td.progress .value")).to_have_text("10%")

    for graceful in (True, False):
        if graceful:
            server.stop()  # SIGTERM: the streams end with SERVER_SHUTTING_DOWN
        else:
            server.kill()  # SIGKILL: the connections vanish
        for tab in (page, jobs_tab):
            expect(tab.locator("#connection")).to_have_attribute("data-state", "reconnecting")
            expect(tab.locator("#connection")).to_contain_text("Reconnecting")
        server.start()
        progress = 40.0 if graceful else 80.0
        client.update(job.job_id, progress=progress, log_lines=[f"after restart {int(graceful)}"])
        for tab in (page, jobs_tab):
            expect(tab.locator("#connection")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", str(int(progress)))
        expect(row(jobs_tab, job.job_id).locator("td.progress .value")).to_have_text(f"{int(progress)}%")

    assert log_lines(page) == ["before", "after restart 1", "after restart 0"]
    assert_contiguous(timeline_revisions(page), client.get_metadata(job.job_id).revision)
    expect(field(page, "revision")).to_have_text(str(client.get_metadata(job.job_id).revision))
    jobs_console.check()


def test_an_ended_job_reloads_from_its_saved_state_and_comes_alive_when_retried_elsewhere(
        page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    job = client.configure(JobSpec(type="ai_step")).job
    open_dashboard(page, server, f"?job={job.job_id}")
    client.cancel(job.job_id, reason="first try")
    expect(page.locator("#job-status")).to_have_text("Cancelled")
    expect(page.locator("#connection")).to_have_attribute("data-state", "ended")

    page.reload()  # resumes after the terminal revision: the server answers 204 and the saved state stands
    expect(page.locator("#job-status")).to_have_text("Cancelled")
    expect(page.locator("#connection")).to_have_attribute("data-state", "ended")
    assert_contiguous(timeline_revisions(page), 2)

    run_cli("retry", job.job_id, port=server.port)  # from elsewhere; the page looks again at an ended job
    expect(page.locator("#job-status")).to_have_text("Pending", timeout=15_000)
    expect(field(page, "attempt")).to_have_text("2")
    client.update(job.job_id, status=JobStatus.RUNNING, progress=12.0)
    expect(page.locator("#job-progress")).to_have_attribute("aria-valuenow", "12")
    assert_contiguous(timeline_revisions(page), client.get_metadata(job.job_id).revision)
