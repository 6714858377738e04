"""clients/js/jobwire.js, the module the dashboard imports, called from a real page as a front end would."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from browser_support import dashboard_url
from cluster_support import Cluster, is_standby, wait_writer
from helpers import Server, wait_for
from jobwire import JobSpec, JobStatus

StartServer = Callable[..., Server]

# Runs `body` (an async function of the module and a client) in the page and returns what it returns.
RUN = """async ([body, args]) => {
  const jobwire = await import("/ui/jobwire.js");
  const client = new jobwire.JobWire();
  return await (new Function("jobwire", "client", "args", `return (async () => { ${body} })();`))(jobwire, client, args);
}"""


def run(page: Page, body: str, *args: object) -> object:
    return page.evaluate(RUN, [body, list(args)])


@pytest.fixture
def server(page: Page, start_server: StartServer) -> Server:
    started = start_server()
    # A page of the server's origin (the module's own text): the module, and nothing of the dashboard running beside it.
    page.goto(dashboard_url(started, "ui/jobwire.js"))
    return started


def test_calls_answer_the_one_json_shape(page: Page, server: Server) -> None:
    result = run(page, """
      const created = await client.create({ type: "encode", labels: { site: "haifa" } }, { idempotencyKey: "order-1" });
      const again = await client.create({ type: "encode", labels: { site: "haifa" } }, { idempotencyKey: "order-1" });
      await client.create({ type: "other" });
      const page = await client.list({ status: ["pending"], labels: { site: "haifa" } });
      const all = [];
      for await (const job of client.listAll({ pageSize: 1 })) all.push(job.job_id);
      const got = await client.get(created.job_id);
      const updated = await client.update(created.job_id, { status: "running", progress: 50, log_lines: ["a"] }, { ifRevision: 1 });
      const withLog = await client.get(created.job_id, { logTail: 5 });
      const cancelled = await client.cancel(created.job_id, { reason: "test" });
      return { created, again, page, all, got, updated, withLog, cancelled };
    """)
    assert result["again"]["job_id"] == result["created"]["job_id"], "the idempotency key made one job"
    assert result["page"]["totalCount"] == 1 and result["page"]["jobs"][0]["job_id"] == result["created"]["job_id"]
    assert len(result["all"]) == 2 and len(set(result["all"])) == 2, "listAll walked both pages"
    assert result["got"] == result["created"]
    assert result["updated"]["progress"] == 50 and result["updated"]["revision"] == 2
    assert result["withLog"]["log_tail"] == ["a"]
    assert result["cancelled"]["status"] == "cancelled" and result["cancelled"]["cancel_reason"] == "test"
    assert server.client().get_metadata(result["created"]["job_id"]).status is JobStatus.CANCELLED


@pytest.mark.network_errors  # every call here is refused on purpose, and Chromium logs each refusal
def test_failures_are_job_wire_errors_with_code_and_reason(page: Page, server: Server) -> None:
    job = server.client().configure(JobSpec(type="t")).job
    errors = run(page, """
      const failures = {};
      const attempt = async (name, call) => {
        try { await call(); failures[name] = "no error"; }
        catch (error) {
          failures[name] = { name: error.name, isError: error instanceof jobwire.JobWireError,
                             httpStatus: error.httpStatus, code: error.code, reason: error.reason, message: error.message };
        }
      };
      await attempt("badId", () => client.get("not-a-uuid"));
      await attempt("unknown", () => client.get("0b8f3c52-3a55-4c1a-9d35-1a54bcd0f2a4"));
      await attempt("staleRevision", () => client.update(args[0], { progress: 1 }, { ifRevision: 7 }));
      await attempt("notRetryable", () => client.retry(args[0]));
      await attempt("unreachable", () => new jobwire.JobWire({ baseURL: "http://127.0.0.1:9" }).health());
      try { jobwire.filterQuery({ colour: "red" }); failures.filter = "no error"; }
      catch (error) { failures.filter = { name: error.name, message: error.message }; }
      return failures;
    """, job.job_id)
    assert errors["badId"] == {"name": "JobWireError", "isError": True, "httpStatus": 400, "code": "INVALID_ARGUMENT",
                               "reason": "INVALID_JOB_ID", "message": errors["badId"]["message"]}
    assert (errors["unknown"]["httpStatus"], errors["unknown"]["reason"]) == (404, "JOB_NOT_FOUND")
    assert (errors["staleRevision"]["httpStatus"], errors["staleRevision"]["reason"]) == (412, "REVISION_MISMATCH")
    assert (errors["notRetryable"]["httpStatus"], errors["notRetryable"]["code"]) == (409, "FAILED_PRECONDITION")
    assert (errors["unreachable"]["httpStatus"], errors["unreachable"]["reason"]) == (0, "NETWORK")
    assert errors["filter"] == {"name": "TypeError", "message": 'unknown job filter "colour"'}


def test_watch_resumes_after_a_revision_and_ends_with_the_job(page: Page, server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    for progress in (10.0, 20.0, 30.0):
        client.update(job.job_id, status=JobStatus.RUNNING, progress=progress, log_lines=[f"at {progress:.0f}"])
    page.evaluate("""async (jobId) => {
      const jobwire = await import("/ui/jobwire.js");
      window.seen = [];
      window.states = [];
      window.watch = new jobwire.JobWire().watch(jobId, {
        after: 2,
        onEvent: (event) => window.seen.push([event.type, event.revision, event.new_log_lines]),
        onState: (state) => window.states.push(state),
      });
    }""", job.job_id)
    page.wait_for_function("() => window.seen.length === 2")
    client.update(job.job_id, status=JobStatus.COMPLETED)
    page.wait_for_function("() => window.states.includes('ended')")
    assert page.evaluate("() => window.seen") == [
        ["change", 3, ["at 20"]], ["change", 4, ["at 30"]], ["change", 5, []]]
    assert page.evaluate("() => window.states") == ["live", "ended"]


def test_watch_jobs_keeps_the_matching_jobs_current(page: Page, server: Server) -> None:
    client = server.client()
    first = client.configure(JobSpec(type="t", labels={"site": "haifa"})).job
    client.configure(JobSpec(type="t", labels={"site": "eilat"}))
    page.evaluate("""async () => {
      const jobwire = await import("/ui/jobwire.js");
      window.snapshots = [];
      window.watch = new jobwire.JobWire().watchJobs({ labels: { site: "haifa" } }, {
        onChange: (watch, event) => window.snapshots.push({ type: event.type, synced: watch.synced,
          jobs: [...watch.jobs.values()].map((job) => [job.job_id, job.progress]) }),
      });
    }""")
    page.wait_for_function("() => window.snapshots.some((s) => s.type === 'synced')")
    second = client.configure(JobSpec(type="t", labels={"site": "haifa"})).job
    client.update(first.job_id, progress=42.0)
    client.delete(second.job_id)
    page.wait_for_function("() => window.snapshots.at(-1).type === 'left'")
    snapshots = page.evaluate("() => window.snapshots")
    assert [snapshot["type"] for snapshot in snapshots] == ["snapshot", "synced", "entered", "changed", "left"]
    assert snapshots[1]["jobs"] == [[first.job_id, 0]] and snapshots[1]["synced"]
    assert sorted(snapshots[2]["jobs"]) == sorted([[first.job_id, 0], [second.job_id, 0]])
    assert snapshots[-1]["jobs"] == [[first.job_id, 42]]


@pytest.mark.network_errors  # the first node is killed under the page on purpose
def test_a_client_given_every_node_moves_on_and_its_watch_resumes_with_no_gap(page: Page, cluster: Cluster) -> None:
    first = cluster.add()
    origin = f"http://127.0.0.1:{first.http_port}"
    # The page is the first node's; the second answers it across origins.
    second = cluster.add("--http-cors-origin", origin)
    wait_for(lambda: is_standby(second), what="the standby")
    worker = cluster.client(first)
    job = worker.configure(JobSpec(type="t")).job
    page.goto(dashboard_url(first, "ui/jobwire.js"))
    page.evaluate("""async ([urls, jobId]) => {
      const jobwire = await import("/ui/jobwire.js");
      window.client = new jobwire.JobWire({ baseURLs: urls });
      window.revisions = [];
      window.states = [];
      window.client.watch(jobId, { onEvent: (event) => window.revisions.push(event.revision),
                                   onState: (state) => window.states.push(state) });
    }""", [[origin, f"http://127.0.0.1:{second.http_port}"], job.job_id])
    page.wait_for_function("window.revisions.length === 1")
    worker.update(job.job_id, status=JobStatus.RUNNING)
    page.wait_for_function("window.revisions.length === 2")

    first.kill()
    wait_writer(second)
    for step in range(1, 4):
        worker.update(job.job_id, progress=float(step))
    worker.update(job.job_id, status=JobStatus.COMPLETED)
    page.wait_for_function("window.states.includes('ended')", timeout=20_000)
    assert page.evaluate("window.revisions") == [1, 2, 3, 4, 5, 6], "every revision once, in order, across nodes"
    # A read after the move goes to the node that answers.
    fetched = page.evaluate("async (jobId) => (await window.client.get(jobId)).status", job.job_id)
    assert fetched == "completed"
