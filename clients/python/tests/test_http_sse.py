"""Server-Sent Events against the real server: ``GET /v1/jobs/{id}/events`` (WatchJob: a snapshot, each change, the
end after the terminal event, resuming by ``Last-Event-ID`` without gap or duplicate, across a SIGKILL too) and
``GET /v1/events`` (WatchJobs: snapshot, synced, entered / changed / left, resuming by cursor)."""
from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from jobwire import JobSpec, JobStatus
from helpers import UNKNOWN_ID, EventStream, Server, binary, error_of

StartServer = Callable[..., Server]


def create(server: Server, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    status, _, job = server.json("POST", "/v1/jobs", spec if spec is not None else {"type": "t"})
    assert status == 201, job
    return job


def patch(server: Server, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
    status, _, job = server.json("PATCH", f"/v1/jobs/{job_id}", body)
    assert status == 200, job
    return job


def get(server: Server, job_id: str) -> dict[str, Any]:
    status, _, job = server.json("GET", f"/v1/jobs/{job_id}")
    assert status == 200, job
    return job


def events_path(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/events"


def ids(events: list[dict[str, Any]]) -> list[str | None]:
    return [event["id"] for event in events]


def check_watch_event(event: dict[str, Any], name: str, revision: int) -> dict[str, Any]:
    """A WatchJob event: its SSE name and id, and its data's members; returns the job."""
    assert (event["event"], event["id"]) == (name, str(revision)), event
    data = event["data"]
    assert list(data) == ["type", "revision", "job", "new_log_lines"], data
    assert (data["type"], data["revision"]) == (name, revision), data
    assert data["job"]["revision"] == revision
    job: dict[str, Any] = data["job"]
    return job


@functools.cache
def heartbeat_option() -> bool:
    done = subprocess.run([binary("JOBWIRED"), "--help"], capture_output=True, text=True, timeout=30)
    return "--http-heartbeat" in done.stdout + done.stderr


# GET /v1/jobs/{id}/events.

def test_a_snapshot_then_each_change_then_the_stream_ends_after_the_terminal_event(server: Server) -> None:
    job = create(server)
    stream = server.sse(events_path(job["job_id"]))
    assert stream.headers["cache-control"] == "no-cache"
    snapshot = check_watch_event(stream.next(), "snapshot", 1)
    assert snapshot == job and stream.retry_advice == [2000]

    running = patch(server, job["job_id"], {"status": "running", "current_task": "encoding"})
    assert check_watch_event(stream.next(), "change", 2) == running
    client = server.client()
    client.update(job["job_id"], progress=50.0, log_lines=["half", "way"])
    change = stream.next()
    assert check_watch_event(change, "change", 3) == client.get_metadata(job["job_id"]).to_dict()
    assert change["data"]["new_log_lines"] == ["half", "way"]
    done = patch(server, job["job_id"], {"status": "completed", "progress": 100})
    assert check_watch_event(stream.next(), "change", 4) == done
    assert stream.next() is None and stream.ended, "the response ends (last chunk) after the terminal event"
    assert not stream.closed_by_server


def test_unknown_jobs_are_404_before_any_stream(server: Server) -> None:
    status, headers, body = server.json("GET", events_path(UNKNOWN_ID))
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert error_of(body) == ("NOT_FOUND", "JOB_NOT_FOUND")


def test_a_terminal_job_sends_its_snapshot_and_ends_and_after_its_last_revision_204(server: Server) -> None:
    job = create(server)
    status, _, cancelled = server.json("POST", f"/v1/jobs/{job['job_id']}:cancel", {"reason": "no"})
    assert status == 200
    stream = server.sse(events_path(job["job_id"]))
    [only] = stream.until_end()
    assert check_watch_event(only, "snapshot", cancelled["revision"]) == cancelled and stream.ended
    status, _, body = server.http("GET", events_path(job["job_id"]),
                                  headers={"Last-Event-ID": str(cancelled["revision"])})
    assert (status, body) == (204, b""), "nothing will follow: EventSource stops reconnecting on 204"


def test_last_event_id_resumes_with_exactly_the_missed_revisions(server: Server) -> None:
    job = create(server)
    job_id = job["job_id"]
    patch(server, job_id, {"status": "running"})
    patch(server, job_id, {"progress": 10.0, "log_lines": ["ten"]})
    stream = server.sse(events_path(job_id), headers={"Last-Event-ID": "1"})
    first = stream.take(2)
    assert ids(first) == ["2", "3"] and [event["event"] for event in first] == ["change", "change"]
    assert first[1]["data"]["new_log_lines"] == ["ten"]
    patch(server, job_id, {"progress": 20.0})
    assert check_watch_event(stream.next(), "change", 4)["progress"] == 20.0, "then live"
    stream.close()

    patch(server, job_id, {"progress": 30.0})
    last = patch(server, job_id, {"status": "completed"})
    resumed = server.sse(events_path(job_id), headers={"Last-Event-ID": "4"})
    missed = resumed.until_end()
    assert ids(missed) == ["5", "6"] and missed[-1]["data"]["job"] == last
    by_parameter = server.sse(f"{events_path(job_id)}?after_revision=2").until_end()
    assert ids(by_parameter) == ["3", "4", "5", "6"]
    header_wins = server.sse(f"{events_path(job_id)}?after_revision=2", headers={"Last-Event-ID": "5"}).until_end()
    assert ids(header_wins) == ["6"]
    for bad in ("abc", "-1", "1.5"):
        status, _, body = server.json("GET", events_path(job_id), headers={"Last-Event-ID": bad})
        assert status == 400 and error_of(body) == ("INVALID_ARGUMENT", "INVALID_PARAMETER"), bad


def test_a_resume_point_the_job_never_had_resyncs_with_its_current_state(server: Server) -> None:
    job = create(server)
    current = patch(server, job["job_id"], {"progress": 5.0})
    stream = server.sse(events_path(job["job_id"]), headers={"Last-Event-ID": "1000"})
    assert check_watch_event(stream.next(), "resync", current["revision"]) == current
    patch(server, job["job_id"], {"progress": 6.0})
    assert stream.next()["id"] == str(current["revision"] + 1), "then on from the resync's revision"


def test_resuming_after_a_sigkill_and_restart_misses_nothing_and_repeats_nothing(server: Server) -> None:
    job = create(server)
    job_id = job["job_id"]
    stream = server.sse(events_path(job_id))
    seen = [stream.next()]
    patch(server, job_id, {"status": "running"})
    patch(server, job_id, {"progress": 10.0})
    seen += stream.take(2)
    assert ids(seen) == ["1", "2", "3"]

    http_port = server.http_port
    server.kill()
    assert stream.next() is None and stream.closed_by_server and not stream.ended, "cut off, not ended"
    server.start()
    assert server.http_port == http_port, "restarted on the same HTTP port"
    for progress in (20.0, 30.0):
        patch(server, job_id, {"progress": progress})
    resumed = server.sse(events_path(job_id), headers={"Last-Event-ID": str(seen[-1]["id"])})
    seen += resumed.take(2)
    done = patch(server, job_id, {"status": "completed"})
    seen += resumed.until_end()
    assert ids(seen) == [str(revision) for revision in range(1, 7)], "every revision once, in order"
    assert [event["event"] for event in seen] == ["snapshot"] + ["change"] * 5
    assert seen[-1]["data"]["job"] == done and seen[3]["data"]["job"]["progress"] == 20.0


def test_deleting_a_watched_job_sends_an_error_event_and_ends_the_stream(server: Server) -> None:
    job = create(server)
    stream = server.sse(events_path(job["job_id"]))
    check_watch_event(stream.next(), "snapshot", 1)
    status, _, _ = server.json("DELETE", f"/v1/jobs/{job['job_id']}")
    assert status == 200
    error = stream.next()
    assert error is not None and (error["event"], error["id"]) == ("error", None)
    assert error_of(error["data"]) == ("NOT_FOUND", "JOB_DELETED")
    assert stream.next() is None and stream.ended


def test_log_tail_comes_with_the_snapshot_only(server: Server) -> None:
    job = create(server)
    patch(server, job["job_id"], {"log_lines": ["a", "b", "c"]})
    stream = server.sse(f"{events_path(job['job_id'])}?log_tail=2")
    assert check_watch_event(stream.next(), "snapshot", 2)["log_tail"] == ["b", "c"]
    patch(server, job["job_id"], {"log_lines": ["d"]})
    change = stream.next()
    assert change["data"]["new_log_lines"] == ["d"] and change["data"]["job"]["log_tail"] == []


def test_many_watchers_of_one_job_each_get_every_event(server: Server) -> None:
    job = create(server)
    streams = [server.sse(events_path(job["job_id"])) for _ in range(5)]
    for stream in streams:
        check_watch_event(stream.next(), "snapshot", 1)
    patch(server, job["job_id"], {"status": "running"})
    patch(server, job["job_id"], {"status": "failed", "error": {"message": "boom"}})
    for stream in streams:
        assert ids(stream.until_end()) == ["2", "3"]


@pytest.mark.skipif("not heartbeat_option()", reason="jobwired has no --http-heartbeat")
def test_idle_streams_get_a_heartbeat_comment_and_a_bookmark(start_server: StartServer) -> None:
    server = start_server("--http-heartbeat", "200ms")
    job = create(server)
    stream = server.sse(events_path(job["job_id"]))
    check_watch_event(stream.next(), "snapshot", 1)
    bookmark = stream.next(timeout=5)
    assert (bookmark["event"], bookmark["id"]) == ("bookmark", "1") and "heartbeat" in stream.comments
    assert bookmark["data"]["job"] is None
    patch(server, job["job_id"], {"progress": 1.0})
    assert stream.take(1)[0]["id"] == "2"

    watch_all = server.sse("/v1/events")
    until_synced(watch_all)
    idle = watch_all.next(timeout=5)
    assert idle["event"] == "bookmark" and idle["id"] and idle["id"] == idle["data"]["cursor"]
    assert "heartbeat" in watch_all.comments
    changed = patch(server, job["job_id"], {"progress": 2.0})
    resumed = server.sse("/v1/events", headers={"Last-Event-ID": idle["id"]})
    caught_up, _ = until_synced(resumed)
    assert [(event["event"], event["data"]["jobs"]) for event in caught_up] == [("changed", [changed])], \
        "a bookmark's cursor is a point to resume from"


# GET /v1/events.

def until_synced(stream: EventStream) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events before `synced`, and `synced` itself; every one with its cursor as its id."""
    before: list[dict[str, Any]] = []
    while True:
        event = stream.take(1)[0]
        check_jobs_event(event)
        if event["event"] == "synced":
            return before, event
        before.append(event)


def check_jobs_event(event: dict[str, Any]) -> None:
    data = event["data"]
    assert list(data) == ["type", "cursor", "job_id", "jobs"], data
    assert data["type"] == event["event"] and event["id"] and event["id"] == data["cursor"], event


def snapshot_jobs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all(event["event"] == "snapshot" for event in events), events
    return [job for event in events for job in event["data"]["jobs"]]


def test_the_list_watch_sends_a_snapshot_synced_then_entered_changed_and_left(server: Server) -> None:
    running = [create(server, {"type": "lw"}) for _ in range(3)]
    running = [patch(server, job["job_id"], {"status": "running"}) for job in running]
    create(server, {"type": "lw"})  # pending: outside the filter
    stream = server.sse("/v1/events?status=running&type=lw&page_size=2")
    before, synced = until_synced(stream)
    assert [len(event["data"]["jobs"]) for event in before] == [2, 1], "pages of page_size"
    assert sorted(snapshot_jobs(before), key=lambda job: job["job_id"]) == \
        sorted((get(server, job["job_id"]) for job in running), key=lambda job: job["job_id"])
    assert synced["data"]["jobs"] == [] and synced["data"]["job_id"] is None

    job = create(server, {"type": "lw"})  # pending: no event
    other = create(server, {"type": "other"})
    patch(server, other["job_id"], {"status": "running"})  # another type: no event
    entered = patch(server, job["job_id"], {"status": "running"})
    [event] = stream.take(1)
    check_jobs_event(event)
    assert (event["event"], event["data"]["job_id"], event["data"]["jobs"]) == ("entered", job["job_id"], [entered])
    changed = patch(server, job["job_id"], {"progress": 40.0})
    [event] = stream.take(1)
    check_jobs_event(event)
    assert (event["event"], event["data"]["jobs"]) == ("changed", [changed])
    left = patch(server, job["job_id"], {"status": "completed"})
    [event] = stream.take(1)
    check_jobs_event(event)
    assert (event["event"], event["data"]["job_id"], event["data"]["jobs"]) == ("left", job["job_id"], [left])
    status, _, _ = server.json("DELETE", f"/v1/jobs/{running[0]['job_id']}")
    assert status == 200
    [event] = stream.take(1)
    check_jobs_event(event)
    assert (event["event"], event["data"]["job_id"], event["data"]["jobs"]) == ("left", running[0]["job_id"], [])
    assert len({event["id"], synced["id"], before[0]["id"]}) == 3, "each event its own cursor"


def test_resuming_the_list_watch_from_a_cursor_sends_only_what_changed_then_synced(server: Server) -> None:
    a, b, c = (patch(server, create(server, {"type": "r"})["job_id"], {"status": "running"}) for _ in range(3))
    stream = server.sse("/v1/events?status=running")
    _, synced = until_synced(stream)
    stream.close()

    patch(server, a["job_id"], {"progress": 10.0})
    a_now = patch(server, a["job_id"], {"progress": 20.0})
    b_now = patch(server, b["job_id"], {"status": "completed"})
    new = patch(server, create(server, {"type": "r"})["job_id"], {"status": "running"})
    create(server, {"type": "r"})  # pending: outside the filter
    resumed = [server.sse("/v1/events?status=running", headers={"Last-Event-ID": synced["id"]}),
               server.sse(f"/v1/events?status=running&cursor={synced['id']}")]
    for stream in resumed:
        caught_up, again = until_synced(stream)
        by_job = {event["data"]["job_id"]: event for event in caught_up}
        assert len(by_job) == len(caught_up) == 3, "each changed job once, in its latest state"
        assert set(by_job) == {a["job_id"], b["job_id"], new["job_id"]}, "c did not change"
        assert by_job[a["job_id"]]["data"]["jobs"] == [a_now] and by_job[a["job_id"]]["event"] == "changed"
        assert by_job[b["job_id"]]["event"] == "left" and by_job[b["job_id"]]["data"]["jobs"] in ([b_now], [])
        assert by_job[new["job_id"]]["event"] in ("changed", "entered")
        assert by_job[new["job_id"]]["data"]["jobs"] == [new]
        assert again["id"] != synced["id"]
    changed = patch(server, c["job_id"], {"progress": 1.0})
    for stream in resumed:
        [live] = stream.take(1)
        assert (live["event"], live["data"]["jobs"]) == ("changed", [changed]), "then live"


def test_a_malformed_cursor_is_400_invalid_cursor(server: Server) -> None:
    for headers, path in (({"Last-Event-ID": "garbage"}, "/v1/events"), ({}, "/v1/events?cursor=garbage"),
                          ({"Last-Event-ID": "12"}, "/v1/events")):
        status, _, body = server.json("GET", path, headers=headers)
        assert status == 400 and error_of(body) == ("INVALID_ARGUMENT", "INVALID_CURSOR"), (headers, path)
    status, _, body = server.json("GET", "/v1/events?status=bogus")
    assert status == 400 and error_of(body)[1] == "INVALID_ENUM_VALUE"
    stream = server.sse("/v1/events")
    assert until_synced(stream)[0] == [], "the server goes on serving"


def test_the_list_watch_and_the_job_watch_agree_with_the_binary_client(server: Server) -> None:
    client = server.client()
    job = client.configure(JobSpec(type="both")).job
    watch_one = server.sse(events_path(job.job_id))
    watch_all = server.sse("/v1/events?type=both")
    check_watch_event(watch_one.next(), "snapshot", 1)
    until_synced(watch_all)
    updated = client.update(job.job_id, status=JobStatus.RUNNING, progress=3.0)
    assert check_watch_event(watch_one.next(), "change", 2) == updated.to_dict()
    [event] = watch_all.take(1)
    assert event["event"] == "changed" and event["data"]["jobs"] == [updated.to_dict()]
