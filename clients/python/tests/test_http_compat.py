"""The endpoints of the REST services JobWire replaces (docs/HTTP.md, "Compatibility routes"), over HTTP against the
real server: their own paths, parameters, status codes and bodies, as the write-ups 000-004 of the design's background
describe them. The 003 section's "Testing" functions are here too, adapted to JobWire (each says how)."""
from __future__ import annotations

import datetime
import json
import time
import urllib.parse
from typing import Any

import pytest

import jobwire
from jobwire import JobError, JobResult, JobSpec, JobStatus
from conftest import Keyring
from helpers import UNKNOWN_ID, Server

#: 000's configure payload: the stream metadata as GET /metadata returns it.
STREAM_CONFIG: dict[str, Any] = {
    "stream_url": "10.10.100.100", "stream_port": 50051, "view_type": 0, "frequencies_list": [0.0, 1.0, 2.5],
    "lines_dt": 123.0, "channel_to_stream_index": {"1": 0, "2": 1}, "stream_amount": 2, "frequencies_amount": 3,
    "channel_amount": 2,
    "metadata": {"dx": 1.02, "prr": 2000.0, "fiber_start_meters": 0.0, "fiber_length_meters": 5000.0,
                 "sw_version": "1.0.0"},
}
METADATA_KEYS = ["status", "job_id", "stream_port", "stream_url", "view_type", "frequencies_list", "lines_dt",
                 "channel_to_stream_index", "stream_amount", "frequencies_amount", "channel_amount", "metadata"]
MONITORED_KEYS = ["job_id", "status", "priority", "created_at", "updated_at", "completed_at", "progress",
                  "user_metadata", "error"]


def complete(client: jobwire.Client, job_id: str, result: Any = None) -> None:
    """Runs a job to COMPLETED, with `result` as its JSON result when given."""
    client.update(job_id, status=JobStatus.RUNNING)
    data = None if result is None else JobResult("application/json", json.dumps(result).encode())
    client.update(job_id, status=JobStatus.COMPLETED, progress=100.0, result=data)


def fail(client: jobwire.Client, job_id: str, message: str = "Error message") -> None:
    client.update(job_id, status=JobStatus.RUNNING)
    client.update(job_id, status=JobStatus.FAILED, error=JobError(message=message, failed_task="transcode_720p",
                                                                   retry_count=2))


def iso(milliseconds: int, zone: str = "Z") -> str:
    """A job time as the query text a front end would send (`zone` "" for a naive time)."""
    moment = datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + zone


# 000: POST /configure and GET /metadata/{job_id}.


def test_configure_then_metadata_returns_the_same_stream_metadata(server: Server) -> None:
    # Members JobWire does not keep (the streaming server's own settings) are ignored, as pydantic ignores them.
    status, _, created = server.json("POST", "/configure", {**STREAM_CONFIG, "nfftSelection": 1024,
                                                            "displayTimeAxisDuration": 10})
    assert status == 200, created
    assert list(created) == METADATA_KEYS
    assert created["status"] == "pending"
    assert {key: created[key] for key in STREAM_CONFIG} == STREAM_CONFIG
    status, _, fetched = server.json("GET", f"/metadata/{created['job_id']}")
    assert status == 200 and fetched == created, "the metadata matches the configure response"
    assert server.json("GET", f"/metadata/{created['job_id'].upper()}")[2] == created, "ids in either case"


def test_metadata_follows_the_job_to_completed(server: Server, client: jobwire.Client) -> None:
    _, _, created = server.json("POST", "/configure", {**STREAM_CONFIG, "stream_port": 50052})
    client.update(created["job_id"], status=JobStatus.RUNNING)
    assert server.json("GET", f"/metadata/{created['job_id']}")[2]["status"] == "running"
    client.update(created["job_id"], status=JobStatus.COMPLETED)
    status, _, body = server.json("GET", f"/metadata/{created['job_id']}")
    assert status == 200 and body["status"] == "completed" and body["stream_port"] == 50052


@pytest.mark.parametrize("job_id", [UNKNOWN_ID, "abc123"])
def test_metadata_of_an_unknown_job_is_404_with_000s_exact_body(server: Server, job_id: str) -> None:
    assert server.json("GET", f"/metadata/{job_id}")[::2] == (404, {"detail": f"Job not found: {job_id}"})


def test_metadata_of_a_deleted_job_is_404(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="stream")).job
    client.delete(job.job_id)
    assert server.json("GET", f"/metadata/{job.job_id}")[::2] == (404, {"detail": f"Job not found: {job.job_id}"})


def test_configure_refuses_a_body_its_model_refuses_with_422(server: Server) -> None:
    status, _, body = server.json("POST", "/configure", {"stream_port": "fifty"})
    assert status == 422
    [problem] = body["detail"]
    assert problem["loc"] == ["body"] and "stream_port" in problem["msg"]
    assert server.json("POST", "/configure", headers={"Content-Type": "application/json"})[0] == 422
    assert server.http("POST", "/configure", "{}", headers={"Content-Type": "text/plain"})[0] == 415


def test_configure_with_an_idempotency_key_creates_one_job(server: Server) -> None:
    payload = {**STREAM_CONFIG, "stream_port": 50053}
    first = server.json("POST", "/configure", payload, headers={"Idempotency-Key": "run-42"})[2]
    again = server.json("POST", "/configure", payload, headers={"Idempotency-Key": "run-42"})[2]
    assert again == first


def test_metadata_takes_only_get(server: Server) -> None:
    status, headers, body = server.json("POST", f"/metadata/{UNKNOWN_ID}", {})
    assert (status, body) == (405, {"detail": "Method Not Allowed"}) and headers["allow"] == "GET"


# 001: GET /status/{jobId}?tail=N.


def test_status_reports_progress_times_items_and_the_log_tail(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="extraction")).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=50.7,
                  log_lines=["Processing started", "Processing item 1", "Processing item 2"])
    status, _, body = server.json("GET", f"/status/{job.job_id}")
    assert status == 200
    assert list(body) == ["status", "progress", "createdAt", "updatedAt", "items", "log_tail"]
    assert body["status"] == "running" and body["progress"] == 50, "a whole percentage, rounded down"
    assert body["items"] == []
    assert body["log_tail"] == "Processing started\nProcessing item 1\nProcessing item 2", "no tail: every line"
    assert body["createdAt"].endswith("Z") and body["updatedAt"] >= body["createdAt"]
    assert server.json("GET", f"/status/{job.job_id}?tail=2")[2]["log_tail"] == "Processing item 1\nProcessing item 2"
    assert server.json("GET", f"/status/{job.job_id}?tail=100")[2]["log_tail"].count("\n") == 2
    assert server.json("GET", f"/status/{job.job_id}?tail=0")[2]["log_tail"] == ""


def test_status_items_come_from_the_result(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="extraction")).job
    items = [{"platform": "youtube", "code": "test123"}, {"platform": "instagram", "code": "test456"}]
    complete(client, job.job_id, {"items": items, "other": 1})
    body = server.json("GET", f"/status/{job.job_id}")[2]
    assert body["items"] == items and body["progress"] == 100 and body["status"] == "completed"


@pytest.mark.parametrize("job_id", [UNKNOWN_ID, "not-a-uuid"])
def test_status_of_an_unknown_or_invalid_id_is_404(server: Server, job_id: str) -> None:
    assert server.json("GET", f"/status/{job_id}")[::2] == (404, {"detail": "Job not found"})


@pytest.mark.parametrize("tail", ["abc", "-1"])
def test_status_with_a_malformed_tail_is_422(server: Server, client: jobwire.Client, tail: str) -> None:
    job = client.configure(JobSpec(type="extraction")).job
    status, _, body = server.json("GET", f"/status/{job.job_id}?tail={tail}")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "tail"] and body["detail"][0]["input"] == tail


# 002: GET /api/job-status/{job_id}.


def test_job_status_of_a_running_and_a_completed_job(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="review")).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=75.5)
    status, _, body = server.json("GET", f"/api/job-status/{job.job_id}")
    assert status == 200
    assert list(body) == ["job_id", "status", "created_at", "updated_at", "result", "progress"]
    assert (body["job_id"], body["status"], body["progress"], body["result"]) == (job.job_id, "running", 75.5, None)
    suggestions = {"suggestions": [{"id": "1", "text": "Test suggestion"}]}
    client.update(job.job_id, status=JobStatus.COMPLETED, progress=100.0,
                  result=JobResult("application/json", json.dumps(suggestions).encode()))
    body = server.json("GET", f"/api/job-status/{job.job_id}")[2]
    assert body["status"] == "completed" and body["result"] == suggestions and body["progress"] == 100


def test_job_status_of_a_failed_job_has_its_error_message(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="review")).job
    fail(client, job.job_id, "the model timed out")
    body = server.json("GET", f"/api/job-status/{job.job_id}")[2]
    assert body["status"] == "failed" and body["error_message"] == "the model timed out"


def test_job_status_404_and_400_bodies_are_002s(server: Server) -> None:
    status, _, body = server.json("GET", f"/api/job-status/{UNKNOWN_ID}")
    assert status == 404 and list(body) == ["error", "timestamp", "path"]
    assert body["error"] == "Job not found" and body["path"] == f"/api/job-status/{UNKNOWN_ID}"
    assert datetime.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    status, _, body = server.json("GET", "/api/job-status/not-a-uuid")
    assert status == 400 and list(body) == ["error", "timestamp", "path"]
    assert body["error"] == "Invalid job_id format (must be UUID)" and body["path"] == "/api/job-status/not-a-uuid"


# 004: GET /api/jobs/{id}.


def test_api_job_shapes_by_status(server: Server, client: jobwire.Client) -> None:
    pending = client.configure(JobSpec(type="ai_generation")).job
    status, _, body = server.json("GET", f"/api/jobs/{pending.job_id}")
    assert status == 200 and list(body) == ["id", "type", "status", "created_at"]
    assert (body["id"], body["type"], body["status"]) == (pending.job_id, "ai_generation", "pending")

    done = client.configure(JobSpec(type="ai_generation")).job
    complete(client, done.job_id, {"document_id": "doc-uuid", "success": True})
    body = server.json("GET", f"/api/jobs/{done.job_id}")[2]
    assert list(body) == ["id", "type", "status", "created_at", "result", "completed_at"]
    assert body["result"] == {"document_id": "doc-uuid", "success": True} and body["completed_at"] >= body["created_at"]

    failed = client.configure(JobSpec(type="ai_generation")).job
    fail(client, failed.job_id)
    body = server.json("GET", f"/api/jobs/{failed.job_id}")[2]
    assert list(body) == ["id", "type", "status", "created_at", "error", "completed_at"]
    assert body["error"] == "Error message"


def test_api_job_400_and_404(server: Server) -> None:
    assert server.json("GET", "/api/jobs/not-a-uuid")[::2] == (400, {"error": "Invalid job ID format"})
    assert server.json("GET", f"/api/jobs/{UNKNOWN_ID}")[::2] == (404, {"error": "Job not found"})


# 003: the monitoring API. Its "Testing" functions first, adapted, then what they leave out.


class Monitoring:
    """003's setting: a key sent as X-API-Key (role client: it may cancel and delete), and a worker for the jobs."""

    def __init__(self, server: Server, api_key: str, worker: jobwire.Client) -> None:
        self.server = server
        self.api_key = api_key
        self.worker = worker

    def call(self, method: str, path: str) -> tuple[int, Any]:
        status, _, body = self.server.json(method, path, headers={"X-API-Key": self.api_key})
        return status, body

    def job(self, **spec: Any) -> str:
        return self.worker.configure(JobSpec(**{"type": "transcode", **spec})).job.job_id


@pytest.fixture
def monitoring(keyed_server: Server, keyring: Keyring) -> Monitoring:
    return Monitoring(keyed_server, keyring["acme-client"], keyed_server.client(keyring["acme-worker"]))


def test_get_job_status(monitoring: Monitoring) -> None:
    """003's test, adapted: `outputs` (video files) is not part of JobWire's job and is left out."""
    job_id = monitoring.job(labels={"filename": "talk.mp4", "owner": "ana"}, priority=3)
    monitoring.worker.update(job_id, status=JobStatus.RUNNING, progress=40.0, current_task="transcode_720p",
                             eta_seconds=90.5)
    status, data = monitoring.call("GET", f"/jobs/{job_id}")
    assert status == 200
    assert data["job_id"] == job_id
    assert "progress" in data
    assert "outputs" not in data and "source" not in data and "processing_time" not in data
    assert list(data) == MONITORED_KEYS
    assert data["progress"] == {"current_task": "transcode_720p", "current_task_progress": 40.0,
                                "overall_progress": 40, "eta_seconds": 90}
    assert (data["status"], data["priority"], data["completed_at"], data["error"]) == ("running", 3, None, None)
    assert data["user_metadata"] == {"filename": "talk.mp4", "owner": "ana"}


def test_get_job_status_of_a_failed_job_has_003s_error(monitoring: Monitoring) -> None:
    job_id = monitoring.job()
    fail(monitoring.worker, job_id, "ffmpeg exited 1")
    status, data = monitoring.call("GET", f"/jobs/{job_id}")
    assert status == 200 and data["status"] == "failed" and data["completed_at"] is not None
    assert data["error"] == {"message": "ffmpeg exited 1", "failed_task": "transcode_720p", "retry_count": 2}


def test_list_jobs_pagination(monitoring: Monitoring) -> None:
    """003's test, with 12 jobs so that there is a second page."""
    created = [monitoring.job() for _ in range(12)]
    status, data = monitoring.call("GET", "/jobs?page=1&per_page=10")
    assert status == 200
    assert data["page"] == 1
    assert data["per_page"] == 10
    assert len(data["jobs"]) <= 10
    assert (data["total"], data["total_pages"], len(data["jobs"])) == (12, 2, 10)
    second = monitoring.call("GET", "/jobs?page=2&per_page=10")[1]
    assert (second["page"], second["total"], len(second["jobs"])) == (2, 12, 2)
    listed = [job["job_id"] for job in data["jobs"] + second["jobs"]]
    assert listed == created[::-1], "newest first, each job once"
    beyond = monitoring.call("GET", "/jobs?page=7&per_page=10")[1]
    assert (beyond["jobs"], beyond["total"], beyond["total_pages"]) == ([], 12, 2)
    assert list(data["jobs"][0]) == ["job_id", "status", "priority", "filename", "created_at", "completed_at",
                                     "progress"]


def test_list_jobs_filtering(monitoring: Monitoring) -> None:
    """003's test, with a completed and a pending job to tell apart."""
    done = monitoring.job()
    complete(monitoring.worker, done)
    monitoring.job()
    status, data = monitoring.call("GET", "/jobs?status=completed")
    assert status == 200
    for job in data["jobs"]:
        assert job["status"] == "completed"
    assert [job["job_id"] for job in data["jobs"]] == [done] and data["total"] == 1


def test_cancel_job(monitoring: Monitoring) -> None:
    """003's test; "verify in database" is GetMetadata. No worker holds a lease on the job, so it is cancelled at
    once."""
    job_id = monitoring.job()
    status, body = monitoring.call("POST", f"/jobs/{job_id}/cancel")
    assert status == 200
    assert body["status"] == "cancelled"
    assert body == {"job_id": job_id, "status": "cancelled", "message": "Job cancellation requested"}
    assert monitoring.worker.get_metadata(job_id).status is JobStatus.CANCELLED


def test_delete_job(monitoring: Monitoring) -> None:
    """003's test; "verify job deleted" is GetMetadata answering NOT_FOUND."""
    job_id = monitoring.job()
    status, body = monitoring.call("DELETE", f"/jobs/{job_id}")
    assert status == 200
    assert body == {"job_id": job_id, "deleted": True, "files_deleted": 0}
    with pytest.raises(jobwire.NotFound):
        monitoring.worker.get_metadata(job_id)
    assert monitoring.call("GET", f"/jobs/{job_id}") == (404, {"detail": "Job not found"})


# 003's test_webhook_notification has no counterpart here: webhooks are not a compatibility route (JobWire's are
# configured on its own API, issue 22).


def test_statistics(monitoring: Monitoring) -> None:
    """003's test, adapted: `storage` (003's per-key storage quota) is not part of JobWire and is left out."""
    complete(monitoring.worker, monitoring.job())
    fail(monitoring.worker, monitoring.job())
    monitoring.job()
    monitoring.job()
    status, data = monitoring.call("GET", "/jobs/stats")
    assert status == 200
    assert "total_jobs" in data
    assert "status_breakdown" in data
    assert "processing_metrics" in data
    assert "storage" not in data
    assert data["total_jobs"] == 4
    assert data["status_breakdown"] == {"pending": 2, "running": 0, "cancelling": 0, "completed": 1, "failed": 1,
                                        "cancelled": 0}
    assert data["success_rate"] == 25.0, "003's rate: completed jobs as a percentage of all"
    assert list(data["processing_metrics"]) == ["total_processing_time_seconds", "total_processing_time_hours",
                                                "average_processing_time_seconds"]
    assert data["date_range"] == {"from": None, "to": None}


def test_health_check(server: Server) -> None:
    """003's test, unchanged: a development-mode server takes no key."""
    response = server.json("GET", "/health")
    assert response[0] == 200
    assert response[2]["status"] == "healthy"


def test_detailed_health_check(server: Server) -> None:
    """003's test, adapted: JobWire's components (its store and disk) take the place of PostgreSQL, Redis and MinIO."""
    status, _, data = server.json("GET", "/health/detailed")
    assert status == 200
    assert "overall" in data
    assert "services" in data
    assert "store" in data["services"]
    assert "disk" in data["services"]
    # A machine short of disk space makes the disk a warning, not a failure: the server keeps serving.
    assert data["overall"] in ("healthy", "warning")
    assert all(service["status"] in ("healthy", "warning") for service in data["services"].values())


def test_health_takes_a_key_when_the_server_has_keys(keyed_server: Server, keyring: Keyring) -> None:
    status, headers, body = keyed_server.json("GET", "/health")
    assert status == 401 and list(body) == ["detail"] and headers["www-authenticate"].startswith("Bearer")
    assert keyed_server.json("GET", "/health", api_key=keyring["acme-reader"])[::2] == (200, {"status": "healthy"})


def test_list_jobs_defaults_and_limits(monitoring: Monitoring) -> None:
    monitoring.job()
    data = monitoring.call("GET", "/jobs")[1]
    assert (data["page"], data["per_page"], data["total"], data["total_pages"]) == (1, 100, 1, 1)
    assert monitoring.call("GET", "/jobs/")[1] == data, "003's router path ends with a slash"
    for query, name in [("per_page=501", "per_page"), ("per_page=0", "per_page"), ("page=0", "page"),
                        ("page=x", "page"), ("priority=high", "priority"), ("from_date=yesterday", "from_date"),
                        ("sort_by=filename", "sort_by")]:
        status, body = monitoring.call("GET", f"/jobs?{query}")
        assert status == 422 and body["detail"][0]["loc"] == ["query", name], (query, body)
    assert monitoring.call("GET", "/jobs?per_page=500")[0] == 200


def test_list_jobs_sort_priority_search_and_dates(monitoring: Monitoring) -> None:
    low = monitoring.job(priority=1, labels={"filename": "a.mp4"})
    time.sleep(0.005)
    high = monitoring.job(priority=9, labels={"filename": "b.mov"})
    time.sleep(0.005)
    last = monitoring.job(priority=1)

    def ids(query: str) -> list[str]:
        status, body = monitoring.call("GET", f"/jobs?{query}")
        assert status == 200, body
        return [job["job_id"] for job in body["jobs"]]

    assert ids("sort_order=asc") == [low, high, last]
    assert ids("sort_by=priority&sort_order=desc")[0] == high
    assert ids("priority=1") == [last, low]
    assert ids("search=b.mov") == [high]
    assert monitoring.call("GET", "/jobs?search=b.mov")[1]["jobs"][0]["filename"] == "b.mov"
    assert ids("status=queued") == [], "a status JobWire does not have matches nothing, as 003's filter"
    created = monitoring.worker.get_metadata(high).created_at_ms
    both = urllib.parse.urlencode({"from_date": iso(created), "to_date": iso(created)})
    assert ids(both) == [high], "both ends inclusive"
    assert ids(urllib.parse.urlencode({"from_date": iso(created, zone="")})) == [last, high], "naive times are UTC"
    assert ids("status=pending&_=1712345678") == [last, high, low], "unknown parameters are ignored"


def test_cancel_a_job_with_a_live_worker_is_cancelling(monitoring: Monitoring) -> None:
    job_id = monitoring.worker.configure(JobSpec(type="transcode"), lease=30).job.job_id
    assert monitoring.call("POST", f"/jobs/{job_id}/cancel") == (
        200, {"job_id": job_id, "status": "cancelling", "message": "Job cancellation requested"})


def test_cancel_a_job_that_ended_is_400(monitoring: Monitoring) -> None:
    done = monitoring.job()
    complete(monitoring.worker, done)
    assert monitoring.call("POST", f"/jobs/{done}/cancel") == (
        400, {"detail": "Cannot cancel job with status: completed"})
    cancelled = monitoring.job()
    assert monitoring.call("POST", f"/jobs/{cancelled}/cancel")[0] == 200
    assert monitoring.call("POST", f"/jobs/{cancelled}/cancel") == (
        400, {"detail": "Cannot cancel job with status: cancelled"})
    assert monitoring.call("POST", f"/jobs/{UNKNOWN_ID}/cancel") == (404, {"detail": "Job not found"})


def test_stats_date_range(monitoring: Monitoring) -> None:
    job_id = monitoring.job()
    created = monitoring.worker.get_metadata(job_id).created_at_ms
    query = urllib.parse.urlencode({"from_date": iso(created), "to_date": iso(created)})
    status, data = monitoring.call("GET", f"/jobs/stats?{query}")
    assert status == 200 and data["total_jobs"] == 1
    assert data["date_range"] == {"from": iso(created), "to": iso(created)}
    later = urllib.parse.urlencode({"from_date": iso(created + 1)})
    assert monitoring.call("GET", f"/jobs/stats?{later}")[1]["total_jobs"] == 0


def test_roles_tenants_and_keys_as_on_v1(keyed_server: Server, keyring: Keyring, monitoring: Monitoring) -> None:
    job_id = monitoring.job()
    # Authorization: Bearer works as X-API-Key does.
    assert keyed_server.json("GET", f"/jobs/{job_id}", api_key=keyring["acme-reader"])[0] == 200
    status, _, body = keyed_server.json("GET", f"/jobs/{job_id}")
    assert status == 401 and list(body) == ["detail"] and body["detail"]
    status, _, body = keyed_server.json("POST", f"/jobs/{job_id}/cancel", api_key=keyring["acme-reader"])
    assert status == 403 and "Cancel" in body["detail"]
    # Another tenant's job is a job that is not there, in every service's words.
    other = keyring["globex-worker"]
    assert keyed_server.json("GET", f"/jobs/{job_id}", api_key=other)[::2] == (404, {"detail": "Job not found"})
    assert keyed_server.json("GET", f"/metadata/{job_id}", api_key=other)[::2] == (
        404, {"detail": f"Job not found: {job_id}"})
    assert keyed_server.json("GET", f"/api/jobs/{job_id}", api_key=other)[::2] == (404, {"error": "Job not found"})
    status, _, body = keyed_server.json("GET", f"/api/job-status/{job_id}", api_key=other)
    assert status == 404 and body["error"] == "Job not found"
    assert keyed_server.json("GET", f"/events/{job_id}/progress", api_key=other)[::2] == (
        403, {"detail": "Access denied"})
    assert keyed_server.json("GET", "/jobs/stats", api_key=other)[2]["total_jobs"] == 0
    # 002's and 004's dialects for a missing key.
    status, _, body = keyed_server.json("GET", f"/api/job-status/{job_id}")
    assert status == 401 and list(body) == ["error", "timestamp", "path"]
    status, _, body = keyed_server.json("GET", f"/api/jobs/{job_id}")
    assert status == 401 and list(body) == ["error"]


def test_jobs_path_methods(monitoring: Monitoring) -> None:
    job_id = monitoring.job()
    status, headers, body = monitoring.server.json("PUT", f"/jobs/{job_id}", {},
                                                   headers={"X-API-Key": monitoring.api_key})
    assert (status, body, headers["allow"]) == (405, {"detail": "Method Not Allowed"}, "GET, DELETE")
    assert monitoring.call("GET", f"/jobs/{job_id}/cancel")[0] == 405


# 003: GET /events/{job_id}/progress.


def test_progress_events_until_complete(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="transcode")).job
    path = f"/events/{job.job_id}/progress"
    stream = server.sse(path)
    first = stream.next()
    assert first is not None and first["event"] == "progress" and first["id"] == str(job.revision)
    assert list(first["data"]) == ["job_id", "status", "current_task", "progress", "overall_progress", "updated_at"]
    assert (first["data"]["job_id"], first["data"]["status"], first["data"]["overall_progress"]) == (
        job.job_id, "pending", 0)
    client.update(job.job_id, status=JobStatus.RUNNING, progress=40.0, current_task="transcode_720p")
    running = stream.next()
    assert running is not None and running["event"] == "progress"
    assert running["data"]["status"] == "running" and running["data"]["current_task"] == "transcode_720p"
    assert running["data"]["progress"] == 40.0 and running["data"]["overall_progress"] == 40
    client.update(job.job_id, status=JobStatus.COMPLETED, progress=100.0)
    last, done = stream.take(2)
    assert last["event"] == "progress" and last["data"]["status"] == "completed"
    assert last["data"]["overall_progress"] == 100
    assert done["event"] == "complete" and list(done["data"]) == ["job_id", "status", "completed_at"]
    assert done["data"]["job_id"] == job.job_id and done["data"]["status"] == "completed"
    assert done["data"]["completed_at"] is not None
    assert stream.next() is None and stream.ended, "the stream ends after complete"
    # EventSource reconnects with the last id it had: nothing follows, and 204 stops it.
    assert server.http("GET", path, headers={"Last-Event-ID": last["id"], "Accept": "text/event-stream"})[0] == 204


def test_progress_of_a_job_that_ended_is_progress_then_complete(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="transcode")).job
    fail(client, job.job_id)
    events = server.sse(f"/events/{job.job_id}/progress").until_end()
    assert [event["event"] for event in events] == ["progress", "complete"]
    assert events[1]["data"]["status"] == "failed"


def test_progress_resumes_after_last_event_id(server: Server, client: jobwire.Client) -> None:
    job = client.configure(JobSpec(type="transcode")).job
    client.update(job.job_id, status=JobStatus.RUNNING, progress=10.0)
    seen = client.update(job.job_id, progress=20.0)
    client.update(job.job_id, progress=30.0)
    stream = server.sse(f"/events/{job.job_id}/progress", headers={"Last-Event-ID": str(seen.revision)})
    event = stream.next()
    assert event is not None and event["data"]["progress"] == 30.0, "only what came after the last id"


def test_progress_of_an_unknown_job_is_403_access_denied(server: Server) -> None:
    assert server.json("GET", f"/events/{UNKNOWN_ID}/progress")[::2] == (403, {"detail": "Access denied"})
    assert server.json("GET", "/events/not-a-uuid/progress")[::2] == (403, {"detail": "Access denied"})


def test_progress_takes_a_stream_token_never_an_api_key_in_the_url(keyed_server: Server, keyring: Keyring) -> None:
    job_id = keyed_server.client(keyring["acme-worker"]).configure(JobSpec(type="transcode")).job.job_id
    # 003's client put the key in the URL (?api_key=): refused, since URLs end up in logs.
    status, _, body = keyed_server.json("GET", f"/events/{job_id}/progress?api_key={keyring['acme-reader']}")
    assert status == 400 and "stream token" in body["detail"]
    status, _, minted = keyed_server.json("POST", "/v1/stream-tokens", api_key=keyring["acme-reader"])
    assert status == 201
    stream = keyed_server.sse(f"/events/{job_id}/progress?stream_token={urllib.parse.quote(minted['token'])}")
    first = stream.next()
    assert first is not None and first["event"] == "progress" and first["data"]["job_id"] == job_id


# Every compatibility route can be turned off.


def test_no_http_compat_leaves_only_v1(start_server: Any) -> None:
    server = start_server("--no-http-compat")
    status, _, body = server.json("GET", f"/metadata/{UNKNOWN_ID}")
    assert status == 404 and body["error"]["reason"] == "ROUTE_NOT_FOUND"
    assert server.json("GET", "/health")[0] == 404
    assert server.json("GET", "/v1/health")[0] == 200
