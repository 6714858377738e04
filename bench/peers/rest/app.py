"""The REST peer of JobWire's benchmark: the style JobWire replaces.

FastAPI + uvicorn serving ``GET /metadata/{job_id}`` as JSON from an in-memory
dict, for the same seeded jobs as JobWire's benchmark (bench/load/main.swift)
and the gRPC peer (bench/peers/grpc): same content, same deterministic ids, the
JSON shape of ``jobwire get --json`` (Sources/jobwire/JobJSON.swift).

Configured by environment, so that ``uvicorn app:app`` (any worker count) runs it:

  REST_PEER_JOBS      jobs to seed (default 10000)
  REST_PEER_IDS_FILE  write the ids there, one per line (optional)
  REST_PEER_MODE      dict (default): the handler returns a dict and FastAPI
                      encodes it (jsonable_encoder + json.dumps) on every request,
                      as a typical service does;
                      cached: every job's JSON is encoded once at start and
                      served as bytes, like JobWire's cached encoded replies.

run.sh starts it; wrk.sh drives it.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response


def job_id(index: int) -> str:
    """Deterministic, UUID-shaped (36 characters, lower case) ids; the same as the gRPC peer's."""
    return f"00000000-0000-4000-8000-{index:012x}"


def iso8601(milliseconds: int) -> str | None:
    """ISO 8601 UTC with milliseconds, or None for 0, as JobJSON.time."""
    if milliseconds == 0:
        return None
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_job(index: int, now_ms: int) -> dict:
    """The job JobWire's benchmark seeds (bench/load/main.swift), as it reads after Configure."""
    return {
        "job_id": job_id(index),
        "tenant": "default",
        "status": "pending",
        "type": "das_stream",
        "labels": {"site": "haifa"},
        "priority": 0,
        "stream_url": "10.10.100.100",
        "stream_port": 50051,
        "view_type": 1,
        "frequencies_list": [i * 0.25 for i in range(500)],
        "lines_dt": 0.001,
        "channel_to_stream_index": {str(channel + 1): channel % 4 for channel in range(50)},
        "stream_amount": 4,
        "frequencies_amount": 500,
        "channel_amount": 50,
        "metadata": {
            "dx": 1.02,
            "prr": 2000.0,
            "fiber_start_meters": 0.0,
            "fiber_length_meters": 5000.0,
            "sw_version": "1.4.2",
        },
        "progress": 0.0,
        "current_task": "",
        "eta_seconds": None,
        "created_at": iso8601(now_ms),
        "updated_at": iso8601(now_ms),
        "completed_at": None,
        "expires_at": None,
        "lease_expires_at": None,
        "revision": 1,
        "result": None,
        "error": None,
        "cancel_reason": "",
        "log_tail": [],
        "log_line_count": 0,
    }


JOB_COUNT = int(os.environ.get("REST_PEER_JOBS", "10000"))
MODE = os.environ.get("REST_PEER_MODE", "dict")
if MODE not in ("dict", "cached"):
    raise SystemExit(f"REST_PEER_MODE must be dict or cached, not {MODE!r}")

_now_ms = int(time.time() * 1000)
JOBS: dict[str, dict] = {}
for _index in range(JOB_COUNT):
    _job = make_job(_index, _now_ms)
    JOBS[_job["job_id"]] = _job

# The bytes JSONResponse would send for each job (compact separators, as Starlette's).
ENCODED: dict[str, bytes] = {}
if MODE == "cached":
    ENCODED = {
        key: json.dumps(job, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
        for key, job in JOBS.items()
    }

_ids_file = os.environ.get("REST_PEER_IDS_FILE")
if _ids_file:
    # Every worker writes the same content; the rename makes that harmless.
    _temporary = f"{_ids_file}.{os.getpid()}"
    with open(_temporary, "w") as handle:
        handle.writelines(f"{key}\n" for key in JOBS)
    os.replace(_temporary, _ids_file)

app = FastAPI(title="jobwire-rest-peer", openapi_url=None, docs_url=None, redoc_url=None)


def not_found(key: str) -> JSONResponse:
    return JSONResponse(
        status_code=404,
        content={"code": "NOT_FOUND", "reason": "JOB_NOT_FOUND", "message": f"job {key} not found"},
    )


if MODE == "cached":

    @app.get("/metadata/{job_id}")
    async def get_metadata(job_id: str):
        body = ENCODED.get(job_id.lower())
        if body is None:
            return not_found(job_id)
        return Response(content=body, media_type="application/json")

else:

    @app.get("/metadata/{job_id}")
    async def get_metadata(job_id: str):
        job = JOBS.get(job_id.lower())
        if job is None:
            return not_found(job_id)
        return job
