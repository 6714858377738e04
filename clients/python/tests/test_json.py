"""``Job.to_dict()`` against ``jobwire get --json`` (and ``list --format json``), field by field, and against the
golden JSON files that the Swift JSON module is checked against too."""
from __future__ import annotations

import base64
import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

import jobwire
from jobwire import JobError, JobResult, JobSpec, JobStatus, StreamMetadata
from helpers import Server, cli_job, run_cli
from jobwire._convert import parse_job
from jobwire._pb import jobwire_pb2 as pb

StartServer = Callable[..., Server]

EVERY_SPEC_FIELD = JobSpec(
    type="das_stream", labels={"site": "haifa", "empty": "", "unicode": "חיפה"}, priority=-3,
    view_type=7, frequencies_list=(0.0, 1.5, 3.0, 1e-7, 123456789.125, -2.25), lines_dt=0.5,
    channel_to_stream_index={1: 0, 2: 1, 65_000: 3}, stream_amount=4, frequencies_amount=6, channel_amount=3,
    metadata=StreamMetadata(dx=1.02, prr=2000.0, fiber_start_meters=0.1, fiber_length_meters=5000.0,
                            sw_version="1.0.0-ü"))


def assert_same(cli: dict[str, Any], job: jobwire.Job) -> None:
    ours = job.to_dict()
    assert json.loads(json.dumps(ours)) == ours, "to_dict() is plain JSON"
    assert sorted(cli) == sorted(ours), "the same keys"
    for key in sorted(cli):
        assert cli[key] == ours[key], f"{key}: CLI {cli[key]!r} != to_dict {ours[key]!r}"
        assert type(cli[key]) is type(ours[key]) or {type(cli[key]), type(ours[key])} <= {int, float}, key


def test_a_running_job_with_every_field_set(start_server: StartServer) -> None:
    server = start_server("--stream-ports", "52200-52210", "--stream-host", "stream.local")
    client = server.client()
    job = client.configure(EVERY_SPEC_FIELD, lease=60).job
    job = client.update(job.job_id, status=JobStatus.RUNNING, progress=42.5, current_task="encoding", eta_seconds=30.25,
                        log_lines=["one", "two ü", "three"], lease=60)
    assert job.stream_url == "stream.local" and job.stream_port == 52200 and job.lease_expires_at_ms > 0
    with_tail = client.get_metadata(job.job_id, log_tail=2)
    cli = cli_job(server.port, job.job_id, tail=2)
    assert_same(cli, with_tail)
    assert cli["status"] == "running" and cli["channel_to_stream_index"] == {"1": 0, "2": 1, "65000": 3}
    assert cli["log_tail"] == ["two ü", "three"] and cli["completed_at"] is None and cli["result"] is None


def test_terminal_jobs_with_a_result_an_error_and_a_cancel_reason(client: jobwire.Client, server: Server) -> None:
    completed = client.configure(EVERY_SPEC_FIELD).job
    client.update(completed.job_id, status=JobStatus.RUNNING)
    payload = b'{"rows": 3, "ok": true, "none": null, "ratio": 0.1, "whole": 1.0, "nested": {"list": [1, "a"]}}'
    client.update(completed.job_id, status=JobStatus.COMPLETED, progress=100.0,
                  result=JobResult("application/json", payload))
    failed = client.configure(JobSpec(type="fails")).job
    client.update(failed.job_id, status=JobStatus.FAILED,
                  error=JobError(message="disk full", failed_task="encoding", retry_count=3, reason="DISK_FULL"))
    cancelled = client.configure(JobSpec(type="cancelled")).job
    client.cancel(cancelled.job_id, reason="user closed the tab")
    for job_id in (completed.job_id, failed.job_id, cancelled.job_id):
        assert_same(cli_job(server.port, job_id), client.get_metadata(job_id))
    cli = cli_job(server.port, completed.job_id)
    assert cli["result"]["data"]["nested"] == {"list": [1, "a"]} and cli["expires_at"] is not None
    assert cli_job(server.port, failed.job_id)["error"]["reason"] == "DISK_FULL"


def test_text_binary_and_broken_json_results(client: jobwire.Client, server: Server) -> None:
    results = [JobResult("text/plain; charset=utf-8", "héllo\nwörld".encode()),
               JobResult("application/octet-stream", bytes(range(256))),
               JobResult("application/json", b'{"not json'),
               JobResult("application/json", b"NaN"),
               JobResult("", b"")]
    for result in results:
        job = client.configure(JobSpec(type="r")).job
        client.update(job.job_id, status=JobStatus.RUNNING)
        done = client.update(job.job_id, status=JobStatus.COMPLETED, result=result)
        assert_same(cli_job(server.port, job.job_id), done)
    binary = client.list_page(page_size=4).jobs[3]
    assert binary.to_dict()["result"] == {"content_type": "application/octet-stream",
                                          "data_base64": base64.b64encode(bytes(range(256))).decode()}


def test_timestamps_of_many_jobs_match_to_the_millisecond(client: jobwire.Client, server: Server) -> None:
    for index in range(40):
        job = client.configure(JobSpec(type="clock", priority=index)).job
        client.update(job.job_id, progress=float(index))
    listed = json.loads(run_cli("list", "--all", "--format", "json", port=server.port).stdout)
    ours = [job.to_dict() for job in client.list_jobs()]
    assert len(listed) == len(ours) == 40
    for cli, mine in zip(listed, ours, strict=True):
        assert (cli["job_id"], cli["created_at"], cli["updated_at"]) == (mine["job_id"], mine["created_at"],
                                                                          mine["updated_at"])
        assert cli == mine


def test_a_retried_job_with_its_previous_attempts(client: jobwire.Client, server: Server) -> None:
    job = client.configure(JobSpec(type="retried")).job
    client.cancel(job.job_id, reason="user closed the tab")
    client.retry(job.job_id)
    client.update(job.job_id, status=JobStatus.RUNNING, progress=10.0)
    client.update(job.job_id, status=JobStatus.FAILED,
                  error=JobError(message="disk full", failed_task="mux", retry_count=1, reason="DISK_FULL"))
    retried = client.retry(job.job_id)
    cli = cli_job(server.port, job.job_id)
    assert_same(cli, retried)
    assert cli["attempt"] == 3
    assert [attempt["status"] for attempt in cli["previous_attempts"]] == ["cancelled", "failed"]


def test_the_shape_of_attempts() -> None:
    """Members and their order without a server: ``attempt`` after ``eta_seconds``, ``previous_attempts`` after
    ``cancel_reason``, each attempt with its own members in the order of ``JobAttempt``."""
    job = parse_job(pb.Job(
        job_id="3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", status=pb.JOB_STATUS_PENDING, attempt=3,
        previous_attempts=[
            pb.JobAttempt(attempt=1, status=pb.JOB_STATUS_CANCELLED, cancel_reason="stop",
                          completed_at_ms=1_761_552_100_000),
            pb.JobAttempt(attempt=2, status=pb.JOB_STATUS_FAILED, completed_at_ms=1_761_552_100_123,
                          error=pb.JobError(message="disk full", failed_task="mux", retry_count=1, reason="DISK_FULL")),
        ]).SerializeToString())
    ours = job.to_dict()
    members = list(ours)
    assert members.index("attempt") == members.index("eta_seconds") + 1
    assert members.index("previous_attempts") == members.index("cancel_reason") + 1
    assert ours["attempt"] == 3
    assert ours["previous_attempts"] == [
        {"attempt": 1, "status": "cancelled", "error": None, "cancel_reason": "stop",
         "completed_at": "2025-10-27T08:01:40.000Z"},
        {"attempt": 2, "status": "failed",
         "error": {"message": "disk full", "failed_task": "mux", "retry_count": 1, "reason": "DISK_FULL"},
         "cancel_reason": "", "completed_at": "2025-10-27T08:01:40.123Z"},
    ]
    assert [list(attempt) for attempt in ours["previous_attempts"]] == [
        ["attempt", "status", "error", "cancel_reason", "completed_at"]] * 2
    assert parse_job(pb.Job(previous_attempts=[pb.JobAttempt(attempt=1, status=pb.JOB_STATUS_FAILED)])
                     .SerializeToString()).to_dict()["previous_attempts"][0]["completed_at"] is None


GOLDEN = pathlib.Path(__file__).resolve().parents[3] / "Tests" / "JobWireProtocolTests" / "Fixtures" / "golden"


@pytest.mark.parametrize("name", ["job_running", "job_completed", "job_failed"])
def test_to_dict_matches_the_golden_json(name: str) -> None:
    """The golden jobs (made by Google's protobuf) decoded by this client give exactly the JSON the Swift module
    JobWireJSON writes for them (Tests/JobWireProtocolTests/JobJSONTests.swift checks its side against the same file)."""
    job = parse_job((GOLDEN / f"{name}.bin").read_bytes())
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    ours = job.to_dict()
    assert list(ours) == list(expected), "the same members in the same order"
    assert ours == expected
