"""The HTTP/JSON front end (``--http-port``) against the real server: every ``/v1`` route and the one JSON shape of a
job (the same as ``Job.to_dict()`` and ``jobwire get --json``).

test_http_errors.py has the error answers, test_http_sse.py the event streams, test_http_security.py keys, tenants,
stream tokens and CORS.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import pytest

from jobwire import JobError, JobResult, JobSpec, JobStatus
from helpers import STORE, UNKNOWN_ID, Server, cli_job, error_of, run_cli
from http_api_support import (CSV_COLUMNS, EVERY_SPEC_FIELD, EVERY_SPEC_JSON, StartServer, after_clock_passes,
                              assert_same_json, create, failure, get, health_still_works, listed_ids, patch, q)


# POST /v1/jobs.

def test_create_answers_201_with_location_and_etag_and_an_idempotency_key_replays_it(server: Server) -> None:
    spec = {"type": "encode", "labels": {"site": "haifa"}, "priority": 3}
    status, headers, job = server.json("POST", "/v1/jobs", spec, {"Idempotency-Key": "request-1"})
    assert status == 201, job
    assert headers["content-type"].startswith("application/json")
    assert headers["location"] == f"/v1/jobs/{job['job_id']}"
    assert headers["etag"] == '"1"' and job["revision"] == 1
    assert (job["status"], job["type"], job["labels"], job["priority"], job["attempt"], job["tenant"]) == (
        "pending", "encode", {"site": "haifa"}, 3, 1, "default")
    assert job["created_at"] is not None and job["completed_at"] is None and job["result"] is None

    status, headers, again = server.json("POST", "/v1/jobs", spec, {"Idempotency-Key": "request-1"})
    assert status == 200, "a replayed request is answered, not created again"
    assert again == job and headers["location"] == f"/v1/jobs/{job['job_id']}"

    status, code, reason, _ = failure(server, "POST", "/v1/jobs", {**spec, "priority": 4},
                                      {"Idempotency-Key": "request-1"})
    assert (status, code, reason) == (409, "ALREADY_EXISTS", "REQUEST_ID_REUSED")

    other = create(server, spec)
    assert other["job_id"] != job["job_id"], "without the key the same body is a new job"
    assert listed_ids(server, "") == [other["job_id"], job["job_id"]]


def test_a_job_posted_as_json_has_every_field_and_its_own_json_can_be_posted_back(
        start_server: StartServer) -> None:
    server = start_server("--stream-ports", "52300-52310", "--stream-host", "stream.local")
    job = create(server, EVERY_SPEC_JSON)
    for name, value in EVERY_SPEC_JSON.items():
        assert job[name] == value, name
    assert (job["stream_url"], job["stream_port"]) == ("stream.local", 52300), "allocated from the pool"
    assert_same_json(job, server.client().get_metadata(job["job_id"]).to_dict())

    # Output-only members (job_id, status, revision, …) are ignored; the stream port is the job's, so ask for another.
    copy = create(server, {**job, "stream_url": "", "stream_port": 0})
    assert copy["job_id"] != job["job_id"] and copy["stream_port"] == 52301
    assert {name: copy[name] for name in EVERY_SPEC_JSON} == EVERY_SPEC_JSON


# GET /v1/jobs/{id}.

def test_get_answers_the_job_with_its_etag_and_304_while_it_is_unchanged(server: Server) -> None:
    job = create(server)
    path = f"/v1/jobs/{job['job_id']}"
    status, headers, body = server.json("GET", path)
    assert status == 200 and body == job and headers["etag"] == '"1"'

    for tag in ('"1"', 'W/"1"', "*"):
        status, headers, raw = server.http("GET", path, headers={"If-None-Match": tag})
        assert (status, raw, headers["etag"]) == (304, b"", '"1"'), tag
    status, _, raw = server.http("GET", path, headers={"If-None-Match": '"7"'})
    assert status == 200 and raw

    server.client().update(job["job_id"], progress=5.0)
    status, headers, body = server.json("GET", path, headers={"If-None-Match": '"1"'})
    assert status == 200 and headers["etag"] == '"2"'
    assert (body["revision"], body["progress"]) == (2, 5.0)
    status, _, raw = server.http("GET", path, headers={"If-None-Match": '"2"'})
    assert (status, raw) == (304, b"")


def test_log_tail_brings_the_last_log_lines(server: Server) -> None:
    job = create(server)
    patch(server, job["job_id"], {"log_lines": ["one", "two", "three"]})
    status, headers, tailed = server.json("GET", f"/v1/jobs/{job['job_id']}?log_tail=2")
    assert status == 200 and headers["etag"] == '"2"'
    assert (tailed["log_tail"], tailed["log_line_count"]) == (["two", "three"], 3)
    assert get(server, job["job_id"])["log_tail"] == [], "no log lines unless asked for"
    status, code, reason, message = failure(server, "GET", f"/v1/jobs/{job['job_id']}?log_tail=many")
    assert (status, code, reason) == (400, "INVALID_ARGUMENT", "INVALID_PARAMETER") and "log_tail" in message


# POST /v1/jobs:batchGet.

def test_batch_get_answers_each_id_in_order_with_its_job_or_its_error(server: Server) -> None:
    known = create(server)
    server.client().update(known["job_id"], log_lines=["a", "b"])
    known = get(server, known["job_id"])
    status, _, body = server.json("POST", "/v1/jobs:batchGet",
                                  {"job_ids": [known["job_id"], UNKNOWN_ID, "not-a-uuid", known["job_id"]]})
    assert status == 200, body
    results = body["results"]
    assert [result["job_id"] for result in results] == [known["job_id"], UNKNOWN_ID, "not-a-uuid", known["job_id"]]
    assert results[0] == {"job_id": known["job_id"], "job": known} and results[3] == results[0]
    assert set(results[1]) == {"job_id", "error"} and set(results[2]) == {"job_id", "error"}
    # Each result's error is the error object itself, {"code", "reason", "message"}, not wrapped in {"error": …}.
    assert "code" in results[1]["error"], f"a result's error is wrapped: {results[1]}"
    assert error_of({"error": results[1]["error"]}) == ("NOT_FOUND", "JOB_NOT_FOUND")
    assert error_of({"error": results[2]["error"]}) == ("INVALID_ARGUMENT", "INVALID_JOB_ID")

    status, _, tailed = server.json("POST", "/v1/jobs:batchGet", {"job_ids": [known["job_id"]], "log_tail": 1})
    assert status == 200 and tailed["results"][0]["job"]["log_tail"] == ["b"]
    status, code, reason, _ = failure(server, "POST", "/v1/jobs:batchGet", {"log_tail": 1})
    assert (status, code, reason) == (400, "INVALID_ARGUMENT", "MISSING_FIELD")
    status, code, reason, message = failure(server, "POST", "/v1/jobs:batchGet", {"job_ids": [], "ids": []})
    assert (status, reason) == (400, "FIELD_NOT_ALLOWED") and "ids" in message


# GET /v1/jobs.

def test_list_filters_search_and_orders(server: Server) -> None:
    a = create(server, {"type": "alpha", "labels": {"team": "a"}, "priority": 1})
    b = create(server, {"type": "beta", "labels": {"team": "b"}, "priority": 3})
    after_clock_passes(b["created_at"])
    c = create(server, {"type": "alpha", "labels": {"team": "a", "where": "a NEEDLE here"}, "priority": 2})
    d = create(server, {"type": "Needle in a haystack", "priority": 0})
    patch(server, a["job_id"], {"status": "running"})
    patch(server, b["job_id"], {"status": "running"})
    patch(server, b["job_id"], {"status": "completed"})
    A, B, C, D = (job["job_id"] for job in (a, b, c, d))

    assert listed_ids(server, "") == [D, C, B, A], "newest first"
    assert listed_ids(server, "status=running") == [A]
    assert listed_ids(server, "status=running,completed") == [B, A]
    assert listed_ids(server, "status=running&status=pending") == [D, C, A]
    assert listed_ids(server, "type=alpha") == [C, A]
    assert listed_ids(server, "label=team=a") == [C, A]
    assert listed_ids(server, q(label="where=a NEEDLE here")) == [C]
    assert listed_ids(server, "label=team=a&label=team=b") == [B], "the last value of a repeated label key wins"
    assert listed_ids(server, "search=needle") == [D, C]
    assert listed_ids(server, q(search=A[:13])) == [A], "an id prefix"
    assert listed_ids(server, "search=NEEDLE+in") == [D], "+ is a space in a query"
    assert listed_ids(server, "order_by=priority") == [B, C, A, D]
    assert listed_ids(server, "order_by=priority&ascending=true") == [D, A, C, B]
    assert listed_ids(server, "ascending=true") == [A, B, C, D]
    assert listed_ids(server, "order_by=updated") == [B, A, D, C]
    assert listed_ids(server, "priority_min=2") == [C, B]
    assert listed_ids(server, "priority_min=1&priority_max=2") == [C, A]
    assert listed_ids(server, q(created_after=c["created_at"])) == [D, C], "at or after"
    assert listed_ids(server, q(created_before=c["created_at"])) == [B, A], "before"
    assert listed_ids(server, "status=pending&type=alpha&label=team=a&search=needle") == [C]

    status, _, page = server.json("GET", "/v1/jobs?status=running,pending")
    assert status == 200 and page["total_count"] == 3 and page["next_page_token"] == ""
    assert {job["job_id"]: job for job in page["jobs"]} == {job_id: get(server, job_id) for job_id in (A, C, D)}

    bad = {"status=bogus": "INVALID_ENUM_VALUE", "order_by=size": "INVALID_PARAMETER",
           "ascending=maybe": "INVALID_PARAMETER", "label=novalue": "INVALID_PARAMETER",
           "priority_min=high": "INVALID_PARAMETER", "created_after=yesterday": "INVALID_PARAMETER",
           "page_token=garbage": "INVALID_PAGE_TOKEN", "page_size=-1": "INVALID_PARAMETER"}
    for query, reason in bad.items():
        status, code, got, _ = failure(server, "GET", f"/v1/jobs?{query}")
        assert (status, code, got) == (400, "INVALID_ARGUMENT", reason), query


def test_pages_visit_every_job_once_and_a_token_belongs_to_its_filters(server: Server) -> None:
    created = [create(server, {"type": "paged", "priority": n % 3})["job_id"] for n in range(7)]
    for order in ("", "&order_by=priority", "&ascending=true"):
        visited: list[str] = []
        sizes: list[int] = []
        token = ""
        while True:
            query = f"page_size=3{order}" + (f"&{q(page_token=token)}" if token else "")
            status, headers, page = server.json("GET", f"/v1/jobs?{query}")
            assert status == 200, page
            assert page["total_count"] == 7 and headers["x-total-count"] == "7"
            visited += [job["job_id"] for job in page["jobs"]]
            sizes.append(len(page["jobs"]))
            token = page["next_page_token"]
            if not token:
                break
        assert sizes == [3, 3, 1], order
        assert sorted(visited) == sorted(created) and len(set(visited)) == 7, order
        assert visited == listed_ids(server, order.lstrip("&") + "&page_size=100"), order

    status, _, first = server.json("GET", "/v1/jobs?page_size=3")
    status, code, reason, _ = failure(server, "GET", f"/v1/jobs?page_size=3&type=other&{q(page_token=first['next_page_token'])}")
    assert (status, reason) == (400, "INVALID_PAGE_TOKEN"), "a token is refused with other filters"
    status, code, reason, _ = failure(server, "GET", "/v1/jobs?page_size=501")
    assert (status, code) == (400, "INVALID_ARGUMENT"), "at most 500 per page, as on the binary port"


def test_csv_export_has_every_job_once_across_pages(start_server: StartServer) -> None:
    server = start_server("--store", "memory")

    async def make() -> list[str]:
        async with server.aclient() as client:
            ids: list[str] = []
            for _ in range(12):
                results = await asyncio.gather(*(client.configure(JobSpec(type="bulk")) for _ in range(100)))
                ids += [result.job.job_id for result in results]
            return ids

    ids = asyncio.run(asyncio.wait_for(make(), 30))
    client = server.client()
    client.update(ids[0], status=JobStatus.RUNNING, progress=12.5, current_task="with, comma \"quoted\"")
    status, headers, body = server.http("GET", "/v1/jobs", headers={"Accept": "text/csv"})
    assert status == 200, body[:300]
    assert headers["content-type"].startswith("text/csv")
    text = body.decode()
    assert text.endswith("\r\n") and text.split("\r\n", 1)[0] == CSV_COLUMNS
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == CSV_COLUMNS.split(",")
    exported = [row[0] for row in rows[1:]]
    assert len(exported) == 1200 and set(exported) == set(ids), "every job once, more than two pages of 500"
    created = [row[8] for row in rows[1:]]
    assert created == sorted(created, reverse=True), "newest first, as GET /v1/jobs"

    first = client.get_metadata(ids[0]).to_dict()
    [row] = [row for row in rows[1:] if row[0] == ids[0]]
    assert row == [first["job_id"], "running", "bulk", "0", row[4], 'with, comma "quoted"', "", "0",
                   first["created_at"], first["updated_at"], "", str(first["revision"])]
    assert float(row[4]) == 12.5

    cli = run_cli("list", "--all", "--format", "csv", "--page-size", "500", port=server.port).stdout
    assert cli.splitlines() == text.splitlines(), "the same export as jobwire list --format csv"

    status, headers, body = server.http("GET", "/v1/jobs?format=csv&status=running")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert body.decode().split("\r\n")[:-1] == [CSV_COLUMNS, text.split("\r\n")[1 + exported.index(ids[0])]]
    status, headers, body = server.http("GET", "/v1/jobs?format=csv&type=none")
    assert (status, body.decode()) == (200, CSV_COLUMNS + "\r\n")
    status, code, reason, _ = failure(server, "GET", "/v1/jobs?format=csv&status=bogus")
    assert (status, reason) == (400, "INVALID_ENUM_VALUE"), "a bad filter is still an error, not a broken CSV"
    health_still_works(server)


# PATCH /v1/jobs/{id}.

def test_a_worker_reports_through_patch(server: Server) -> None:
    job = create(server)
    job_id = job["job_id"]
    running = patch(server, job_id, {"status": "running", "progress": 12.5, "current_task": "encoding",
                                     "eta_seconds": 30, "log_lines": ["one", "two"]})
    assert (running["status"], running["progress"], running["current_task"], running["eta_seconds"],
            running["log_line_count"], running["revision"]) == ("running", 12.5, "encoding", 30.0, 2, 2)
    assert running == get(server, job_id)

    status, code, reason, _ = failure(server, "PATCH", f"/v1/jobs/{job_id}", {"progress": 20.0},
                                      {"If-Match": '"1"'})
    assert (status, code, reason) == (412, "ABORTED", "REVISION_MISMATCH")
    status, _, matched = server.json("PATCH", f"/v1/jobs/{job_id}", {"progress": 50.0}, {"If-Match": '"2"'})
    assert status == 200 and (matched["progress"], matched["revision"]) == (50.0, 3)
    status, code, reason, _ = failure(server, "PATCH", f"/v1/jobs/{job_id}", {"progress": 1.0},
                                      {"If-Match": "three"})
    assert (status, reason) == (400, "INVALID_PARAMETER")

    done = patch(server, job_id, {"status": "completed", "progress": 100,
                                  "result": {"content_type": "application/json", "data": {"rows": 3, "ok": True}}})
    assert done["status"] == "completed" and done["completed_at"] is not None and done["expires_at"] is not None
    assert done["result"] == {"content_type": "application/json", "data": {"ok": True, "rows": 3}}
    assert_same_json(done, server.client().get_metadata(job_id).to_dict())

    status, code, reason, _ = failure(server, "PATCH", f"/v1/jobs/{job_id}", {"progress": 1.0})
    assert (status, code, reason) == (409, "FAILED_PRECONDITION", "JOB_TERMINAL")
    pending = create(server)
    status, code, reason, _ = failure(server, "PATCH", f"/v1/jobs/{pending['job_id']}", {"status": "completed"})
    assert (status, code, reason) == (409, "FAILED_PRECONDITION", "ILLEGAL_TRANSITION")
    assert get(server, pending["job_id"])["revision"] == 1, "a refused update changes nothing"

    text = create(server)
    patch(server, text["job_id"], {"status": "running"})
    binary = patch(server, text["job_id"], {"status": "completed",
                                            "result": {"content_type": "application/octet-stream",
                                                       "data_base64": "AAEC/w=="}})
    assert binary["result"] == {"content_type": "application/octet-stream", "data_base64": "AAEC/w=="}
    failed = create(server)
    error = {"message": "disk full", "failed_task": "encoding", "retry_count": 2, "reason": "DISK_FULL"}
    assert patch(server, failed["job_id"], {"status": "failed", "error": error})["error"] == error


# POST /v1/jobs/{id}:cancel, :retry, :setPriority; DELETE.

def test_cancel_with_and_without_a_reason(server: Server) -> None:
    job = create(server)
    status, headers, cancelled = server.json("POST", f"/v1/jobs/{job['job_id']}:cancel",
                                             {"reason": "user closed the tab"})
    assert status == 200, cancelled
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "user closed the tab")
    assert headers["etag"] == f'"{cancelled["revision"]}"'
    status, _, again = server.json("POST", f"/v1/jobs/{job['job_id']}:cancel")
    assert status == 200 and again == cancelled, "cancelling a cancelled job changes nothing"

    plain = create(server)
    status, _, body = server.json("POST", f"/v1/jobs/{plain['job_id']}:cancel")
    assert status == 200 and (body["status"], body["cancel_reason"]) == ("cancelled", "")

    leased = create(server, {"type": "t"}, path="/v1/jobs?lease_ttl_ms=60000")
    assert leased["lease_expires_at"] is not None
    status, _, body = server.json("POST", f"/v1/jobs/{leased['job_id']}:cancel", {"reason": "stop"})
    assert status == 200 and body["status"] == "cancelling", "a worker holds a lease: it is asked to stop"

    status, code, reason, message = failure(server, "POST", f"/v1/jobs/{plain['job_id']}:cancel", {"why": "x"})
    assert (status, reason) == (400, "FIELD_NOT_ALLOWED") and "why" in message
    status, code, reason, _ = failure(server, "POST", f"/v1/jobs/{UNKNOWN_ID}:cancel")
    assert (status, reason) == (404, "JOB_NOT_FOUND")
    status, code, reason, _ = failure(server, "POST", f"/v1/jobs/{plain['job_id']}:pause")
    assert (status, reason) == (404, "ROUTE_NOT_FOUND")


def test_retry_starts_a_failed_job_again(server: Server) -> None:
    job = create(server)
    error = {"message": "disk full", "failed_task": "encoding", "retry_count": 0, "reason": "DISK_FULL"}
    failed = patch(server, job["job_id"], {"status": "failed", "error": error})
    status, code, reason, _ = failure(server, "POST", f"/v1/jobs/{job['job_id']}:retry", None,
                                      {"If-Match": '"1"'})
    assert (status, reason) == (412, "REVISION_MISMATCH")
    status, headers, retried = server.json("POST", f"/v1/jobs/{job['job_id']}:retry", None,
                                           {"If-Match": f'"{failed["revision"]}"'})
    assert status == 200, retried
    assert (retried["status"], retried["attempt"], retried["error"], retried["revision"]) == (
        "pending", 2, None, failed["revision"] + 1)
    assert retried["previous_attempts"] == [{"attempt": 1, "status": "failed", "error": error, "cancel_reason": "",
                                             "completed_at": failed["completed_at"]}]
    assert_same_json(retried, server.client().get_metadata(job["job_id"]).to_dict())
    status, code, reason, _ = failure(server, "POST", f"/v1/jobs/{job['job_id']}:retry")
    assert (status, code, reason) == (409, "FAILED_PRECONDITION", "NOT_RETRYABLE"), "a pending job"
    status, code, reason, message = failure(server, "POST", f"/v1/jobs/{job['job_id']}:retry", {"now": True})
    assert (status, reason) == (400, "FIELD_NOT_ALLOWED") and "now" in message


def test_set_priority(server: Server) -> None:
    job = create(server)
    status, headers, body = server.json("POST", f"/v1/jobs/{job['job_id']}:setPriority", {"priority": 7})
    assert status == 200 and (body["priority"], body["revision"]) == (7, 2) and headers["etag"] == '"2"'
    assert listed_ids(server, "priority_min=7") == [job["job_id"]]
    cases: list[tuple[Any, str]] = [({}, "MISSING_FIELD"), ({"priority": "high"}, "MALFORMED_MESSAGE"),
                                    ({"priority": 2 ** 31}, "VALUE_OUT_OF_RANGE"),
                                    ({"priority": 1.5}, "MALFORMED_MESSAGE"), ({"priority": 1, "x": 1}, "FIELD_NOT_ALLOWED")]
    for body, reason in cases:
        status, code, got, _ = failure(server, "POST", f"/v1/jobs/{job['job_id']}:setPriority", body)
        assert (status, got) == (400, reason), body
    status, _, body = server.json("POST", f"/v1/jobs/{job['job_id']}:setPriority", {"priority": -5},
                                  {"If-Match": '"2"'})
    assert status == 200 and body["priority"] == -5
    server.json("POST", f"/v1/jobs/{job['job_id']}:cancel")
    status, code, reason, _ = failure(server, "POST", f"/v1/jobs/{job['job_id']}:setPriority", {"priority": 1})
    assert (status, reason) == (409, "JOB_TERMINAL")


def test_delete_then_the_job_is_not_found(server: Server) -> None:
    job = create(server)
    patch(server, job["job_id"], {"progress": 3.0})
    status, _, body = server.json("DELETE", f"/v1/jobs/{job['job_id']}")
    assert status == 200 and body == {"job_id": job["job_id"], "deleted": True, "revision": 2}
    for method in ("GET", "DELETE"):
        status, code, reason, message = failure(server, method, f"/v1/jobs/{job['job_id']}")
        assert (status, code, reason) == (404, "NOT_FOUND", "JOB_NOT_FOUND") and job["job_id"] in message
    assert listed_ids(server, "") == []


# Health, Stats, Usage, OpenAPI.

def test_health_and_detailed_health(server: Server) -> None:
    status, headers, health = server.json("GET", "/v1/health")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert (health["status"], health["store"], health["components"]) == ("serving", STORE, [])
    assert health["server_version"] and health["uptime_ms"] >= 0
    status, _, detailed = server.json("GET", "/v1/health/detailed")
    assert status == 200 and detailed["status"] == "serving"
    names = [component["name"] for component in detailed["components"]]
    assert {"store", "disk", "http"} <= set(names) and len(names) == len(set(names)), names
    web = next(component for component in detailed["components"] if component["name"] == "http")
    assert web["state"] == "ok" and web["measures"]["connections"] >= 1, "this very request's connection"
    for component in detailed["components"]:
        assert set(component) == {"name", "state", "message", "measures"} and component["state"] in ("ok", "warning")
    status, code, reason, _ = failure(server, "GET", "/v1/health?detailed=true")
    assert (status, reason) == (400, "INVALID_PARAMETER")


def test_stats_over_a_range_of_creation_times(server: Server) -> None:
    first = create(server)
    second = create(server)
    after_clock_passes(second["created_at"])
    third = create(server)
    patch(server, first["job_id"], {"status": "running"})
    patch(server, first["job_id"], {"status": "completed"})
    patch(server, second["job_id"], {"status": "failed"})
    status, _, stats = server.json("GET", "/v1/stats")
    assert status == 200, stats
    assert stats["total_jobs"] == 3 and stats["jobs"] == {"pending": 1, "completed": 1, "failed": 1}
    assert stats["success_rate"] == pytest.approx(0.5)
    assert stats["date_range"] == {"from": None, "to": None}

    status, _, before = server.json("GET", f"/v1/stats?{q(to=third['created_at'])}")
    assert status == 200 and before["total_jobs"] == 2 and before["jobs"] == {"completed": 1, "failed": 1}
    assert before["date_range"] == {"from": None, "to": third["created_at"]}
    status, _, since = server.json("GET", f"/v1/stats?{q(**{'from': third['created_at']})}")
    assert status == 200 and (since["total_jobs"], since["jobs"]) == (1, {"pending": 1})
    status, _, both = server.json("GET", f"/v1/stats?{q(**{'from': first['created_at'], 'to': third['created_at']})}")
    assert status == 200 and both["total_jobs"] == 2
    status, code, reason, _ = failure(server, "GET", f"/v1/stats?{q(**{'from': third['created_at'], 'to': first['created_at']})}")
    assert (status, reason) == (400, "VALUE_OUT_OF_RANGE")
    status, code, reason, message = failure(server, "GET", "/v1/stats?from=last-week")
    assert (status, reason) == (400, "INVALID_PARAMETER") and "from" in message


def test_usage_counts_the_http_calls_of_the_key(server: Server) -> None:
    job = create(server)
    get(server, job["job_id"])
    failure(server, "GET", f"/v1/jobs/{UNKNOWN_ID}")
    status, _, usage = server.json("GET", "/v1/usage")
    assert status == 200 and usage["tenant"] == "default"
    [key] = usage["keys"]
    assert (key["key_id"], key["role"]) == ("development", "admin")
    methods = {method["method"]: method for method in key["methods"]}
    assert methods["/jobwire.v1.JobService/Configure"]["calls"] == 1
    assert methods["/jobwire.v1.JobService/GetMetadata"] == {
        "method": "/jobwire.v1.JobService/GetMetadata", "calls": 2, "errors": {"NOT_FOUND": 1}}
    assert key["bytes_in"] > 0 and key["bytes_out"] > 0 and key["last_used_at"] is not None


def test_the_openapi_document_is_json(server: Server) -> None:
    status, headers, data = server.http("GET", "/v1/openapi.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    document = json.loads(data)
    assert isinstance(document, dict)
    if "paths" in document:  # once docs/openapi.json is generated in
        assert "/v1/jobs" in document["paths"], sorted(document["paths"])


# One JSON shape.

def test_the_job_json_is_the_clients_to_dict_and_the_clis_get_json(start_server: StartServer) -> None:
    server = start_server("--stream-ports", "52200-52210", "--stream-host", "stream.local")
    client = server.client()
    running = client.configure(EVERY_SPEC_FIELD, lease=60).job
    client.update(running.job_id, status=JobStatus.RUNNING, progress=42.5, current_task="encoding",
                  eta_seconds=30.25, log_lines=["one", "two ü", "three"], lease=60)
    completed = client.configure(EVERY_SPEC_FIELD).job
    client.update(completed.job_id, status=JobStatus.RUNNING)
    client.update(completed.job_id, status=JobStatus.COMPLETED, progress=100.0,
                  result=JobResult("application/json", b'{"rows": 3, "nested": {"list": [1, "a"]}, "none": null}'))
    failed = client.configure(JobSpec(type="fails")).job
    client.update(failed.job_id, status=JobStatus.FAILED,
                  error=JobError(message="disk full", failed_task="encoding", retry_count=3, reason="DISK_FULL"))
    client.retry(failed.job_id)
    cancelled = client.configure(JobSpec(type="cancelled")).job
    client.cancel(cancelled.job_id, reason="user closed the tab")
    binary = client.configure(JobSpec(type="binary")).job
    client.update(binary.job_id, status=JobStatus.RUNNING)
    client.update(binary.job_id, status=JobStatus.COMPLETED, result=JobResult("application/octet-stream", bytes(range(256))))

    for job_id in (running.job_id, completed.job_id, failed.job_id, cancelled.job_id, binary.job_id):
        for tail in (0, 2):
            path = f"/v1/jobs/{job_id}" + (f"?log_tail={tail}" if tail else "")
            status, _, from_http = server.json("GET", path)
            assert status == 200, from_http
            assert_same_json(from_http, client.get_metadata(job_id, log_tail=tail).to_dict())
            assert_same_json(from_http, cli_job(server.port, job_id, tail=tail))
    status, _, page = server.json("GET", "/v1/jobs")
    assert page["jobs"] == [job.to_dict() for job in client.list_jobs()]
