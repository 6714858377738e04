"""What the HTTP API tests share (test_http_api.py, test_http_errors.py): requests that must succeed or fail, and
the checks around them."""
from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Callable
from typing import Any

from jobwire import JobSpec, StreamMetadata
from helpers import Server, error_of, wait_for

StartServer = Callable[..., Server]

CSV_COLUMNS = ("job_id,status,type,priority,progress,current_task,stream_url,stream_port,created_at,updated_at,"
               "completed_at,revision")

EVERY_SPEC_FIELD = JobSpec(
    type="das_stream", labels={"site": "haifa", "empty": "", "unicode": "חיפה"}, priority=-3,
    view_type=7, frequencies_list=(0.0, 1.5, 3.0, 1e-7, 123456789.125, -2.25), lines_dt=0.5,
    channel_to_stream_index={1: 0, 2: 1, 65_000: 3}, stream_amount=4, frequencies_amount=6, channel_amount=3,
    metadata=StreamMetadata(dx=1.02, prr=2000.0, fiber_start_meters=0.1, fiber_length_meters=5000.0,
                            sw_version="1.0.0-ü"))

#: The same spec as JSON, as a front end would POST it.
EVERY_SPEC_JSON: dict[str, Any] = {
    "type": "das_stream", "labels": {"site": "haifa", "empty": "", "unicode": "חיפה"}, "priority": -3,
    "view_type": 7, "frequencies_list": [0.0, 1.5, 3.0, 1e-7, 123456789.125, -2.25], "lines_dt": 0.5,
    "channel_to_stream_index": {"1": 0, "2": 1, "65000": 3}, "stream_amount": 4, "frequencies_amount": 6,
    "channel_amount": 3,
    "metadata": {"dx": 1.02, "prr": 2000.0, "fiber_start_meters": 0.1, "fiber_length_meters": 5000.0,
                 "sw_version": "1.0.0-ü"},
}


# Helpers.

def create(server: Server, spec: dict[str, Any] | None = None, path: str = "/v1/jobs") -> dict[str, Any]:
    status, _, job = server.json("POST", path, spec if spec is not None else {"type": "t"})
    assert status == 201, job
    return job


def patch(server: Server, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
    status, headers, job = server.json("PATCH", f"/v1/jobs/{job_id}", body)
    assert status == 200, job
    assert headers["etag"] == f'"{job["revision"]}"'
    return job


def get(server: Server, job_id: str) -> dict[str, Any]:
    status, _, job = server.json("GET", f"/v1/jobs/{job_id}")
    assert status == 200, job
    return job


def failure(server: Server, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, str, str, str]:
    """(HTTP status, code, reason, message) of a request that must fail, after checking the error shape."""
    status, answer_headers, data = server.json(method, path, body, headers)
    assert status >= 400, (status, data)
    assert answer_headers["content-type"].startswith("application/json"), answer_headers
    code, reason = error_of(data)
    return status, code, reason, data["error"]["message"]


def listed_ids(server: Server, query: str) -> list[str]:
    status, headers, page = server.json("GET", f"/v1/jobs?{query}" if query else "/v1/jobs")
    assert status == 200, page
    assert set(page) == {"jobs", "next_page_token", "total_count"}, page
    assert headers["x-total-count"] == str(page["total_count"])
    return [job["job_id"] for job in page["jobs"]]


def q(**parameters: Any) -> str:
    return urllib.parse.urlencode(parameters, quote_via=urllib.parse.quote)


def after_clock_passes(iso: str) -> None:
    """Returns once the wall clock is past the millisecond of `iso` (a job's created_at), so the next job is created
    in a later millisecond."""
    moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    wait_for(lambda: datetime.datetime.now(datetime.timezone.utc) > moment + datetime.timedelta(milliseconds=1),
             what="the next millisecond")


def health_still_works(server: Server) -> None:
    status, _, health = server.json("GET", "/v1/health")
    assert status == 200 and health["status"] == "serving", health


def assert_same_json(http_job: dict[str, Any], reference: dict[str, Any]) -> None:
    """Member for member, in the same order, numbers of the same kind (1.0 may be written 1)."""
    assert list(http_job) == list(reference), "the same members in the same order"
    for key in reference:
        assert http_job[key] == reference[key], f"{key}: HTTP {http_job[key]!r} != {reference[key]!r}"
        assert type(http_job[key]) is type(reference[key]) or \
            {type(http_job[key]), type(reference[key])} <= {int, float}, key
