"""The dashboard on a server with keys: it asks for a key once, keeps it in sessionStorage only, never puts it in a
URL, and shows a tenant its own jobs and nothing else."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from browser_support import dashboard_url, row

from helpers import Server
from jobwire import JobSpec

StartServer = Callable[..., Server]

# The page learns that the server wants a key from a refused call (401), that a reader may not cancel from a refused
# call (403), and that another tenant's job is not there from a refused stream (404): Chromium logs each. Anything
# else in the console still fails the test.
REFUSALS = (r"status of 401 \(Unauthorized\) \(http://127\.0\.0\.1:\d+/v1/stream-tokens\)",
            r"status of 403 \(Forbidden\) \(http://127\.0\.0\.1:\d+/v1/jobs/[0-9a-f-]+:cancel\)",
            r"status of 404 \(Not Found\) \(http://127\.0\.0\.1:\d+/v1/jobs/[0-9a-f-]+/events\?(log_tail=\d+&)?stream_token=jwst_",
            r"EventSource's response has a status of 404")


@pytest.mark.console_allows(*REFUSALS)
def test_a_tenant_signs_in_once_and_sees_only_its_own_jobs(page: Page, start_server: StartServer, keyring) -> None:  # noqa: ANN001
    server = start_server(keys=keyring.path)
    acme = server.client(keyring["acme-worker"])
    globex = server.client(keyring["globex-worker"])
    acme_jobs = [acme.configure(JobSpec(type=f"acme-{number}")).job for number in range(2)]
    globex_job = globex.configure(JobSpec(type="globex-secret")).job
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    page.goto(dashboard_url(server))
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=key]").fill("jwk_wrong_key")
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog.locator("#key-error")).to_be_visible()
    expect(dialog).to_be_visible()

    reader_key = keyring["acme-reader"]
    dialog.locator("input[name=key]").fill(reader_key)
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#tenant")).to_have_text("Tenant: acme")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(2)
    for job in acme_jobs:
        expect(row(page, job.job_id)).to_be_visible()

    # Live: another tenant's new job never shows; this tenant's does (and arrives after it, so the check is fair).
    globex.configure(JobSpec(type="globex-late"))
    late = acme.configure(JobSpec(type="acme-late")).job
    expect(row(page, late.job_id)).to_be_visible()
    expect(page.locator("#jobs-table tbody tr")).to_have_count(3)
    expect(page.locator("#jobs-table")).not_to_contain_text("globex")

    storage = page.evaluate("() => ({ session: {...sessionStorage}, local: {...localStorage} })")
    assert storage["session"]["jobwire.apiKey"] == reader_key
    assert storage["local"] == {}, "nothing in localStorage"
    assert not [url for url in urls if reader_key in url or "api_key" in url], "the key never goes into a URL"
    assert any("stream_token=jwst_" in url for url in urls), "event streams open with stream tokens"

    # A reader may look but not cancel: the page says why, and the job is unchanged.
    page.goto(dashboard_url(server, f"?job={late.job_id}"))
    expect(page.locator("#job-status")).to_have_text("Pending")
    page.locator("#cancel-job").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel job").click()
    expect(page.locator("#action-error")).to_contain_text("PERMISSION_DENIED")
    assert acme.get_metadata(late.job_id).status.name == "PENDING"

    # Another tenant's job reads as unknown, as on every port.
    page.goto(dashboard_url(server, f"?job={globex_job.job_id}"))
    expect(page.locator("#page-error")).to_contain_text("another tenant")
    expect(page.locator("#job-view")).not_to_contain_text("globex-secret")

    # The key lasts the tab's session: a reload asks nothing; forgetting it asks again.
    page.goto(dashboard_url(server))
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(dialog).to_be_hidden()
    page.locator("#sign-out").click()
    expect(dialog).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('jobwire.apiKey')") is None


@pytest.mark.console_allows(*REFUSALS)
def test_a_revoked_key_is_asked_for_again(page: Page, start_server: StartServer, keyring) -> None:  # noqa: ANN001
    from helpers import revoke_key

    server = start_server(keys=keyring.path)
    page.goto(dashboard_url(server))
    page.locator("#key-dialog input[name=key]").fill(keyring["acme-client"])
    page.locator("#key-dialog").get_by_role("button", name="Use this key").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    revoke_key(keyring.path, keyring["acme-client"])
    server.reload_keys()
    # The open stream ends with the key; the next connection is refused and the page asks for a key.
    expect(page.locator("#key-dialog")).to_be_visible(timeout=20_000)
