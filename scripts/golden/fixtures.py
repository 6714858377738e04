"""The golden values: one reference message per fixture name.

Tests/JobWireProtocolTests/GoldenFixtureTests.swift mirrors these values;
change both together, then run `make golden`.
"""
from reference import load

pb = load()

JOB_ID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
JOB_ID_2 = "00000000-0000-4000-8000-000000000002"


def stream_metadata():
    return pb.StreamMetadata(dx=1.02, prr=2000.0, fiber_start_meters=0.0,
                             fiber_length_meters=5000.0, sw_version="1.0.0")


def job_running():
    job = pb.Job(
        job_id=JOB_ID, tenant="acme", type="das_stream", priority=5,
        stream_url="10.10.100.100", stream_port=50051, view_type=1,
        frequencies_list=[0.0, 1.5, 2.25, -3.0], lines_dt=123.5,
        stream_amount=2, frequencies_amount=500, channel_amount=50,
        metadata=stream_metadata(), status=pb.JOB_STATUS_RUNNING, progress=42.5,
        current_task="encoding \u2013 pass 2", eta_seconds=0.0,
        created_at_ms=1761552000000, updated_at_ms=1761552060000,
        lease_expires_at_ms=1761552090000,
        log_tail=["started", "\u03c3-filter ready \u2713"], log_line_count=17, revision=9,
    )
    job.labels["site"] = "haifa"
    job.labels["team"] = "fiber"
    job.channel_to_stream_index[1] = 0
    job.channel_to_stream_index[2] = 1
    job.channel_to_stream_index[70000] = 2
    return job


def job_completed():
    return pb.Job(
        job_id=JOB_ID_2, tenant="acme", type="ai_generation", status=pb.JOB_STATUS_COMPLETED,
        progress=100.0, created_at_ms=1761552000000, updated_at_ms=1761555600000,
        completed_at_ms=1761555600000, expires_at_ms=1761642000000,
        result=pb.JobResult(content_type="application/json", data=b'{"ok":true}'),
        revision=31, log_line_count=0,
    )


def job_failed():
    return pb.Job(
        job_id=JOB_ID, tenant="acme", type="transcode", status=pb.JOB_STATUS_FAILED,
        progress=63.0, current_task="mux",
        error=pb.JobError(message="worker stopped heartbeating", failed_task="mux",
                          retry_count=3, reason="LEASE_EXPIRED"),
        completed_at_ms=1761552100000, revision=12,
    )


def job_retried():
    return pb.Job(
        job_id=JOB_ID, tenant="acme", type="transcode", priority=5, status=pb.JOB_STATUS_PENDING, attempt=3,
        previous_attempts=[
            pb.JobAttempt(attempt=1, status=pb.JOB_STATUS_FAILED, completed_at_ms=1761552100000,
                          error=pb.JobError(message="worker stopped heartbeating", failed_task="mux",
                                            reason="LEASE_EXPIRED")),
            pb.JobAttempt(attempt=2, status=pb.JOB_STATUS_CANCELLED, cancel_reason="wrong input",
                          completed_at_ms=1761552200000),
        ],
        created_at_ms=1761552000000, updated_at_ms=1761552300000, revision=17,
    )


def status_not_found():
    return pb.Status(code=pb.NOT_FOUND, reason="JOB_NOT_FOUND",
                     message=f"job {JOB_ID_2} not found", retry_after_ms=0)


def configure_request():
    job = pb.Job(type="das_stream", priority=-2, stream_url="", stream_port=0, view_type=0,
                 frequencies_list=[10.0, 20.0], lines_dt=0.5, stream_amount=1,
                 frequencies_amount=2, channel_amount=3, metadata=stream_metadata())
    job.labels["owner"] = "front-end"
    job.channel_to_stream_index[7] = 0
    return pb.ConfigureRequest(request_id="req-2026-11-22-0001", job=job, lease_ttl_ms=30000)


def batch_get_response():
    return pb.BatchGetMetadataResponse(results=[
        pb.BatchGetResult(job_id=JOB_ID, job=job_running()),
        pb.BatchGetResult(job_id=JOB_ID_2, error=status_not_found()),
    ])


def list_jobs_request():
    request = pb.ListJobsRequest(
        statuses=[pb.JOB_STATUS_RUNNING, pb.JOB_STATUS_PENDING], type="das_stream",
        created_after_ms=1761000000000, created_before_ms=1762000000000,
        priority=pb.PriorityRange(min=-1, max=10), page_size=50, page_token="opaque-token",
        query="Haifa", order_by=pb.JOB_ORDER_PRIORITY, ascending=True,
    )
    request.labels["site"] = "haifa"
    return request


def update_job_request():
    # progress 0 and an empty current_task are *present*: their oneofs are set.
    return pb.UpdateJobRequest(
        job_id=JOB_ID, status=pb.JOB_STATUS_RUNNING, progress=0.0, current_task="",
        eta_seconds=-1.0, log_lines=["line 1", "line 2 \u00fcml\u00e4ut"], lease_ttl_ms=15000,
        expected_revision=9,
    )


def update_job_complete():
    return pb.UpdateJobRequest(
        job_id=JOB_ID, status=pb.JOB_STATUS_COMPLETED,
        result=pb.JobResult(content_type="application/octet-stream", data=bytes(range(256))),
    )


def stats_response():
    return pb.StatsResponse(
        jobs=[pb.StatusCount(status=pb.JOB_STATUS_RUNNING, count=3),
              pb.StatusCount(status=pb.JOB_STATUS_COMPLETED, count=1000)],
        connections=64, streams=70,
        methods=[pb.MethodStats(method="/jobwire.v1.JobService/GetMetadata", calls=1000000,
                                errors=12, p50_us=45, p99_us=180, p999_us=900)],
        uptime_ms=86400000, total_jobs=1003, success_rate=0.75, average_run_time_ms=1234.5,
        webhook_pending_messages=17, webhook_oldest_pending_age_ms=65000, webhook_endpoints=3,
        webhook_failing_endpoints=1, webhook_disabled_endpoints=1, webhook_skipped_messages=250,
    )


def webhook_endpoint():
    endpoint = pb.WebhookEndpoint(
        endpoint_id="ep_0123456789abcdef0123456789abcdef", url="https://hooks.example.com/jobwire?x=1",
        events=["job.completed", "job.failed"], created_at_ms=1761552000000, enabled=False,
        disabled_at_ms=1761555600000, disabled_reason="GONE: the receiver answered 410",
        failing_since_ms=1761552300000, previous_secret_expires_at_ms=1761638400000,
    )
    endpoint.labels["site"] = "haifa"
    endpoint.labels["env"] = "prod"
    return endpoint


def create_webhook_request():
    request = pb.CreateWebhookRequest(url="https://hooks.example.com/jobwire", events=["job.created"])
    request.labels["site"] = "haifa"
    return request


def webhook_deliveries():
    return pb.ListWebhookDeliveriesResponse(deliveries=[
        pb.WebhookDelivery(
            message_id="msg_00000000000000000000000000000001", endpoint_id="ep_0123456789abcdef0123456789abcdef",
            type="job.completed", job_id=JOB_ID, revision=9, changed_at_ms=1761552000000,
            state=pb.DELIVERY_STATE_DELIVERED,
            attempts=[pb.WebhookAttempt(attempt=1, at_ms=1761552000001, http_status=0, latency_us=5000,
                                        error="CONNECTION: refused"),
                      pb.WebhookAttempt(attempt=2, at_ms=1761552005001, http_status=204, latency_us=812)]),
        pb.WebhookDelivery(
            message_id="msg_00000000000000000000000000000002", endpoint_id="ep_0123456789abcdef0123456789abcdef",
            type="job.progress", job_id=JOB_ID_2, revision=3, changed_at_ms=1761552100000,
            state=pb.DELIVERY_STATE_PENDING, next_attempt_at_ms=1761552400000),
    ])


FIXTURES = {
    "job_running": job_running,
    "job_completed": job_completed,
    "job_failed": job_failed,
    "job_retried": job_retried,
    "status_not_found": status_not_found,
    "configure_request": configure_request,
    "configure_response": lambda: pb.ConfigureResponse(job=job_running(), created=True),
    "get_metadata_request": lambda: pb.GetMetadataRequest(job_id=JOB_ID, log_tail=20),
    "batch_get_request": lambda: pb.BatchGetMetadataRequest(job_ids=[JOB_ID, JOB_ID_2, "not-a-uuid"], log_tail=1),
    "batch_get_response": batch_get_response,
    "list_jobs_request": list_jobs_request,
    "list_jobs_response": lambda: pb.ListJobsResponse(jobs=[job_running(), job_completed()],
                                                      next_page_token="next", total_count=1234),
    "watch_job_request": lambda: pb.WatchJobRequest(job_id=JOB_ID, after_revision=7, log_tail=5),
    "watch_event_change": lambda: pb.WatchEvent(type=pb.WATCH_EVENT_TYPE_CHANGE, revision=9, job=job_running(),
                                                new_log_lines=["\u03c3-filter ready \u2713"]),
    "watch_event_bookmark": lambda: pb.WatchEvent(type=pb.WATCH_EVENT_TYPE_BOOKMARK, revision=9),
    "cancel_request": lambda: pb.CancelRequest(job_id=JOB_ID, reason="user closed the tab"),
    "update_job_request": update_job_request,
    "update_job_complete": update_job_complete,
    "delete_job_request": lambda: pb.DeleteJobRequest(job_id=JOB_ID),
    "delete_job_response": lambda: pb.DeleteJobResponse(revision=13),
    "health_request": lambda: pb.HealthRequest(),
    "health_response": lambda: pb.HealthResponse(status=pb.SERVING_STATUS_SERVING, store="sqlite",
                                                 store_state="ok", server_version="0.1.0", uptime_ms=5000),
    "health_response_detailed": lambda: pb.HealthResponse(
        status=pb.SERVING_STATUS_SERVING, store="sqlite", store_state="ok", server_version="0.1.0", uptime_ms=5000,
        components=[pb.ComponentHealth(name="disk", state=pb.COMPONENT_STATE_WARNING, message="/data has 8 % free",
                                       measures={"free_ratio": 0.08})]),
    "stats_request": lambda: pb.StatsRequest(tenant="acme", created_after_ms=1761000000000,
                                             created_before_ms=1762000000000),
    "retry_request": lambda: pb.RetryRequest(job_id=JOB_ID, expected_revision=12),
    "set_priority_request": lambda: pb.SetPriorityRequest(job_id=JOB_ID, priority=-7, expected_revision=3),
    "usage_response": lambda: pb.UsageResponse(tenant="acme", keys=[pb.KeyUsage(
        key_id="jwk_01", role="client",
        methods=[pb.MethodUsage(method="/jobwire.v1.JobService/GetMetadata", calls=42,
                                errors=[pb.CodeCount(code=pb.NOT_FOUND, count=2)])],
        rate_limited=1, bytes_in=4096, bytes_out=65536, last_used_at_ms=1761552300000)]),
    "stats_response": stats_response,
    "webhook_endpoint": webhook_endpoint,
    "create_webhook_request": create_webhook_request,
    "webhook_secret_response": lambda: pb.WebhookSecretResponse(endpoint=webhook_endpoint(),
                                                                secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    "rotate_webhook_secret_request": lambda: pb.RotateWebhookSecretRequest(endpoint_id="ep_1", overlap_ms=0),
    "rotate_webhook_secret_request_default": lambda: pb.RotateWebhookSecretRequest(endpoint_id="ep_1"),
    "list_webhook_deliveries_request": lambda: pb.ListWebhookDeliveriesRequest(endpoint_id="ep_1", limit=20),
    "list_webhook_deliveries_response": webhook_deliveries,
    "redeliver_webhook_request": lambda: pb.RedeliverWebhookRequest(message_id="msg_1", endpoint_id="ep_1"),
    "frame_hello": lambda: pb.Frame(hello=pb.Hello(protocol_version=1, api_key="jw_secret",
                                                   client_name="golden/1.0", max_frame_bytes=1048576)),
    "frame_hello_ack": lambda: pb.Frame(hello_ack=pb.HelloAck(
        protocol_version=1, server_name="jobwired/0.1.0", max_frame_bytes=4194304,
        max_concurrent_streams=100, ping_interval_ms=30000, tenant="acme", role="worker")),
    "frame_call": lambda: pb.Frame(call=pb.Call(
        stream_id=1, method="/jobwire.v1.JobService/GetMetadata",
        request=pb.GetMetadataRequest(job_id=JOB_ID, log_tail=20).SerializeToString(), timeout_ms=5000)),
    # The reply carries encoded bytes, compared as bytes: the embedded job has no
    # maps, whose entry order and zero values encoders may write differently.
    "frame_reply": lambda: pb.Frame(reply=pb.Reply(
        stream_id=1, message=job_completed().SerializeToString(deterministic=True))),
    "frame_end": lambda: pb.Frame(end=pb.End(stream_id=3, status=status_not_found())),
    "frame_cancel_call": lambda: pb.Frame(cancel_call=pb.CancelCall(stream_id=5)),
    "frame_ping": lambda: pb.Frame(ping=pb.Ping(payload=0xDEADBEEFCAFE)),
    "frame_pong": lambda: pb.Frame(pong=pb.Pong(payload=0xDEADBEEFCAFE)),
    "frame_goaway": lambda: pb.Frame(goaway=pb.GoAway(last_stream_id=41, status=pb.Status(
        code=pb.UNAVAILABLE, reason="SERVER_SHUTTING_DOWN", message="draining", retry_after_ms=1000))),
}
