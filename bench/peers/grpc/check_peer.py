#!/usr/bin/env python3
"""Checks a running gRPC peer with grpcio (not with the peer's own code).

    /work/main/.venv/bin/python bench/peers/grpc/check_peer.py PORT [JOB_ID]

GetMetadata must return the seeded job (content of bench/load/main.swift);
an unknown id must fail NOT_FOUND; WatchJob must send a SNAPSHOT, then a
CHANGE for each UpdateJob, and end after a terminal status. Also prints the
size of one encoded reply, which h2load's "data" traffic should match
(plus 5 bytes of gRPC prefix per reply). Python stubs are generated from
proto/jobwire/v1/jobwire.proto into a temporary folder with grpc_tools.
"""

import importlib
import pathlib
import sys
import tempfile
import threading

import grpc
from grpc_tools import protoc

root = pathlib.Path(__file__).resolve().parents[3]
port = int(sys.argv[1])
job_id = sys.argv[2] if len(sys.argv) > 2 else "00000000-0000-4000-8000-000000000000"

out = tempfile.mkdtemp(prefix="jobwire-py-")
status = protoc.main(["protoc", f"-I{root / 'proto'}", f"--python_out={out}", f"--grpc_python_out={out}",
                      "jobwire/v1/jobwire.proto"])
assert status == 0, "protoc failed"
sys.path.insert(0, out)
pb = importlib.import_module("jobwire.v1.jobwire_pb2")
rpc = importlib.import_module("jobwire.v1.jobwire_pb2_grpc")

channel = grpc.insecure_channel(f"127.0.0.1:{port}")
stub = rpc.JobServiceStub(channel)

job = stub.GetMetadata(pb.GetMetadataRequest(job_id=job_id), timeout=5)
assert job.job_id == job_id, job.job_id
assert job.type == "das_stream" and dict(job.labels) == {"site": "haifa"}
assert job.stream_url == "10.10.100.100" and job.stream_port == 50051 and job.view_type == 1
assert list(job.frequencies_list) == [i * 0.25 for i in range(500)]
assert job.lines_dt == 0.001
assert dict(job.channel_to_stream_index) == {c + 1: c % 4 for c in range(50)}
assert (job.stream_amount, job.frequencies_amount, job.channel_amount) == (4, 500, 50)
m = job.metadata
assert (m.dx, m.prr, m.fiber_start_meters, m.fiber_length_meters, m.sw_version) == (1.02, 2000, 0, 5000, "1.4.2")
assert job.status == pb.JOB_STATUS_PENDING and job.tenant == "default"
print(f"GetMetadata {job_id}: ok, the seeded job; encoded reply {job.ByteSize()} bytes "
      f"(+5 gRPC prefix = {job.ByteSize() + 5} per reply), revision {job.revision}")

try:
    stub.GetMetadata(pb.GetMetadataRequest(job_id="00000000-0000-0000-0000-00000000dead"), timeout=5)
    raise SystemExit("unknown id did not fail")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.NOT_FOUND, error.code()
    print("GetMetadata unknown id: NOT_FOUND, ok")

# WatchJob on a job of its own, made with Configure, so the seeded jobs stay as they are.
ids_job = stub.Configure(pb.ConfigureRequest(job=pb.Job(type="watch-check")), timeout=5).job
events = []
snapshot_seen = threading.Event()
watch = stub.WatchJob(pb.WatchJobRequest(job_id=ids_job.job_id), timeout=10)


def read_events():
    for event in watch:
        events.append(event)
        snapshot_seen.set()


reader = threading.Thread(target=read_events)
reader.start()
assert snapshot_seen.wait(timeout=5), "no snapshot"  # update only once the watch is open
stub.UpdateJob(pb.UpdateJobRequest(job_id=ids_job.job_id, status=pb.JOB_STATUS_RUNNING, progress=10,
                                   log_lines=["started"]), timeout=5)
stub.UpdateJob(pb.UpdateJobRequest(job_id=ids_job.job_id, progress=60, current_task="encoding"), timeout=5)
stub.UpdateJob(pb.UpdateJobRequest(job_id=ids_job.job_id, status=pb.JOB_STATUS_COMPLETED, progress=100), timeout=5)
reader.join(timeout=10)
assert not reader.is_alive(), "watch did not end after the terminal status"
kinds = [pb.WatchEventType.Name(e.type) for e in events]
assert kinds == ["WATCH_EVENT_TYPE_SNAPSHOT"] + ["WATCH_EVENT_TYPE_CHANGE"] * 3, kinds
assert [e.revision for e in events] == [1, 2, 3, 4]
assert list(events[1].new_log_lines) == ["started"] and events[2].job.current_task == "encoding"
assert events[3].job.status == pb.JOB_STATUS_COMPLETED and events[3].job.completed_at_ms > 0
print("WatchJob: SNAPSHOT, CHANGE x3 (UpdateJob), ended after COMPLETED: ok")
