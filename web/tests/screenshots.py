#!/usr/bin/env python3
"""Takes the README's pictures of the dashboard from the real page: a jobwired with demo jobs (some running with a
worker reporting, one cancelling, one failed, some done), Debian's chromium, light and dark, desktop and phone.

    web/tests/screenshots.py OUTPUT_DIRECTORY        (`make screenshots` writes docs/images)

JOBWIRED and JOBWIRE_CLI name the binaries, as for the tests; CHROMIUM the browser (default /usr/bin/chromium).
"""
from __future__ import annotations

import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "clients" / "python" / "tests"))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from helpers import Server  # noqa: E402
from jobwire import JobError, JobResult, JobSpec, JobStatus  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def demo_jobs(server: Server) -> str:
    """Creates the demo jobs; returns the id of the one the job view shows."""
    client = server.client()
    cameras = [("das_stream", "haifa-north", 8554, 62.5, "decoding channel 4 of 8", 95.0),
               ("das_stream", "haifa-south", 8555, 18.0, "calibrating", 410.0),
               ("transcode", "eilat-port", 8556, 87.0, "muxing segment 41", 22.0)]
    shown = ""
    for index, (kind, site, port, progress, task, eta) in enumerate(cameras):
        job = client.configure(JobSpec(
            type=kind, labels={"site": site, "env": "prod"}, priority=5 - index, stream_url=f"rtsp://{site}.cams.example",
            stream_port=port, frequencies_list=(1.5, 2.25, 4.0), channel_to_stream_index={1: 0, 2: 0, 3: 1, 4: 1},
            stream_amount=2, frequencies_amount=3, channel_amount=4, lines_dt=0.02)).job
        client.claim(job.job_id, revision=job.revision, lease=3600)
        client.update(job.job_id, progress=progress / 2, current_task="opening the stream",
                      log_lines=[f"connected to rtsp://{site}.cams.example:{port}", "4 channels, 3 frequencies"])
        client.update(job.job_id, progress=progress, current_task=task, eta_seconds=eta,
                      log_lines=[f"{task}: {progress:.0f}% done"])
        if index == 0:
            shown = job.job_id
    done = client.configure(JobSpec(type="thumbnail", labels={"site": "haifa-north"})).job
    client.claim(done.job_id, revision=done.revision, lease=60)
    client.update(done.job_id, progress=100.0, current_task="writing thumbnails")
    client.update(done.job_id, status=JobStatus.COMPLETED, result=JobResult("application/json", b"{\"frames\": 9000}"))
    failed = client.configure(JobSpec(type="ai_step", labels={"model": "detector-v2"})).job
    client.claim(failed.job_id, revision=failed.revision, lease=60)
    client.update(failed.job_id, status=JobStatus.FAILED, error=JobError("GPU out of memory", "inference", 2, "OOM"))
    stopping = client.configure(JobSpec(type="transcode", labels={"site": "eilat-port"})).job
    client.claim(stopping.job_id, revision=stopping.revision, lease=3600)
    client.update(stopping.job_id, progress=40.0, current_task="encoding")
    client.cancel(stopping.job_id, reason="operator request")
    client.configure(JobSpec(type="ai_step", labels={"model": "detector-v2"}, priority=1))
    return shown


def main(output: pathlib.Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        server = Server(pathlib.Path(directory))
        server.start()
        try:
            job_id = demo_jobs(server)
            base = f"http://127.0.0.1:{server.http_port}/"
            with sync_playwright() as playwright:
                args = ["--no-sandbox"] if os.geteuid() == 0 else []
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
                shots = [("dashboard-jobs.png", "", {"viewport": {"width": 1280, "height": 560}}),
                         ("dashboard-job.png", f"?job={job_id}", {"viewport": {"width": 1280, "height": 1000}}),
                         ("dashboard-jobs-dark.png", "", {"viewport": {"width": 1280, "height": 560}, "color_scheme": "dark"}),
                         ("dashboard-phone.png", "", {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                                                      "color_scheme": "dark"})]
                for name, query, options in shots:
                    context = browser.new_context(**options)
                    page = context.new_page()
                    page.goto(base + query)
                    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
                    if query:
                        expect(page.locator("#job-log li")).to_have_count(3)
                    else:
                        expect(page.locator("#jobs-table tbody tr")).to_have_count(7)
                    page.wait_for_timeout(400)  # the progress bars' transition
                    page.screenshot(path=str(output / name))
                    print(f"screenshots: wrote {output / name}")
                    context.close()
                browser.close()
        finally:
            server.kill()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    main(pathlib.Path(sys.argv[1]))
