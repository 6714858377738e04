"""1,000 live jobs with 100 updates a second: the page keeps every row current and its main thread free. The
numbers are printed (BROWSER lines) and recorded in docs/BENCHMARKS.md; the test asserts what the page shows."""
from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from browser_support import open_dashboard, report
from helpers import Server
from jobwire import JobSpec, JobStatus

StartServer = Callable[..., Server]

JOBS = 1000
UPDATES_PER_SECOND = 100
SECONDS = 10

# Every main-thread task over 50 ms (the Long Tasks API) and the longest gap between two animation frames.
OBSERVE = """
window.longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.longTasks.push({ start: entry.startTime, duration: entry.duration });
}).observe({ type: "longtask", buffered: true });
window.frameGaps = { since: 0, longest: 0 };
(function frame(last) {
  requestAnimationFrame((now) => {
    if (window.frameGaps.since && last >= window.frameGaps.since) {
      window.frameGaps.longest = Math.max(window.frameGaps.longest, now - last);
    }
    frame(now);
  });
})(0);
"""


def test_a_thousand_live_jobs_at_a_hundred_updates_a_second(page: Page, start_server: StartServer) -> None:
    server = start_server()
    client = server.client()
    jobs = [client.configure(JobSpec(type=f"stream-{index:04}", labels={"site": "load"},
                                     stream_url=f"rtsp://cam-{index}.local", stream_port=50000 + index)).job.job_id
            for index in range(JOBS)]
    for job_id in jobs:
        client.update(job_id, status=JobStatus.RUNNING, progress=0.0, current_task="starting")

    page.add_init_script(OBSERVE)
    opened = time.monotonic()
    open_dashboard(page, server)
    expect(page.locator("#jobs-table tbody tr")).to_have_count(JOBS, timeout=30_000)
    first_render = time.monotonic() - opened
    initial = page.evaluate("() => window.longTasks.map((task) => task.duration)")
    page.evaluate("() => { window.frameGaps.since = performance.now(); window.updatesFrom = performance.now(); }")

    expected: dict[str, str] = {}
    started = time.monotonic()
    total = UPDATES_PER_SECOND * SECONDS
    for number in range(total):
        delay = started + number / UPDATES_PER_SECOND - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        job_id = jobs[(number * 7) % JOBS]
        progress = float(1 + number * 99 // total)
        client.update(job_id, progress=progress, current_task=f"segment {number}")
        expected[job_id] = f"{int(progress)}%"
    sending = time.monotonic() - started
    page.wait_for_function("""(expected) => Object.entries(expected).every(([id, text]) =>
        document.querySelector(`tr[data-job-id="${id}"] td.progress .value`)?.textContent === text)""",
                           arg=expected, timeout=30_000)
    caught_up = time.monotonic() - started - sending

    during = page.evaluate("""() => window.longTasks.filter((task) => task.start >= window.updatesFrom)
                                                   .map((task) => task.duration)""")
    longest_gap = page.evaluate("() => window.frameGaps.longest")
    report(f"load: {JOBS} jobs shown in {first_render * 1000:.0f} ms "
          f"(long tasks while loading: {len(initial)}, longest {max(initial, default=0):.0f} ms)")
    report(f"load: {total} updates in {sending:.1f} s ({total / sending:.0f}/s): "
          f"{len(during)} main-thread tasks over 50 ms (longest {max(during, default=0):.0f} ms), "
          f"longest frame gap {longest_gap:.0f} ms, last update on screen {caught_up * 1000:.0f} ms after it was sent")
    expect(page.locator("#jobs-summary")).to_have_text(f"{JOBS:,} jobs")
    expect(page.locator('#status-counts button[data-status="running"] .number')).to_have_text(f"{JOBS:,}")
