"""Several jobwired nodes on one PostgreSQL (docs/OPERATIONS.md, "Several nodes"): one writes, the others stand by
and relay every call to it, so any node answers any call; a node's SIGKILL or the database's restart loses no
acknowledged write, and clients given every node's address carry on, their watches resuming with no gap and no
duplicate."""
from __future__ import annotations

import pathlib
import socket
import subprocess
import threading

import pytest

import jobwire
from jobwire import DeliveryState, EventKind, JobsEventType, JobSpec, JobStatus, StatusCode
from cluster_support import Cluster, free_port, is_standby, is_writer, wait_writer
from helpers import FAST_BACKOFF, Server, binary, wait_for
from postgres_server import PostgresServer
from webhook_receiver import Receiver


def test_one_node_writes_and_every_node_answers_every_call(cluster: Cluster) -> None:
    writer = cluster.add()
    standbys = [cluster.add(), cluster.add()]
    for standby in standbys:
        wait_for(lambda: is_standby(standby), what="the standby's notice")
    job = cluster.client(writer).configure(JobSpec(type="t")).job
    # Through each standby, relayed to the writer: reads, writes, and what one node wrote is the others' at once.
    for index, standby in enumerate(standbys):
        through = jobwire.Client("127.0.0.1", standby.port, timeout=10.0)
        try:
            assert through.get_metadata(job.job_id).job_id == job.job_id
            updated = through.set_priority(job.job_id, index + 1)
            assert cluster.client(writer).get_metadata(job.job_id).revision == updated.revision
        finally:
            through.close()
        status, _, body = standby.json("GET", f"/v1/jobs/{job.job_id}")
        assert status == 200 and body["job_id"] == job.job_id and body["priority"] == index + 1
    assert not any(is_writer(standby) for standby in standbys)
    # SIGTERM: a standby has nothing to drain and exits 0 at its next lock attempt; the writer goes on.
    assert standbys[0].stop() == 0
    assert cluster.client(writer).get_metadata(job.job_id).priority == 2


def test_sigkill_of_the_writer_loses_nothing_and_clients_and_watches_move_to_the_standby(cluster: Cluster) -> None:
    first = cluster.add()
    second = cluster.add()
    wait_for(lambda: is_standby(second), what="the standby")
    worker = cluster.client(first)
    watcher = cluster.client(first)
    job = worker.configure(JobSpec(type="t"), request_id="create-once").job
    received: list[jobwire.WatchEvent] = []
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            received.extend(watcher.watch(job.job_id))
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)

    thread = threading.Thread(target=follow)
    thread.start()
    wait_for(lambda: received, what="the snapshot")
    worker.update(job.job_id, status=JobStatus.RUNNING)
    for step in range(1, 6):
        worker.update(job.job_id, progress=float(step), log_lines=[f"step {step}"])
    wait_for(lambda: received[-1].revision >= 7, what="revision 7")

    first.kill()
    wait_writer(second)  # the standby took the writer lock and loaded what was committed
    assert worker.get_metadata(job.job_id, log_tail=10).revision == 7
    # The same request id on the other node answers with the same job: idempotency holds across nodes.
    again = worker.configure(JobSpec(type="t"), request_id="create-once")
    assert again.job.job_id == job.job_id and not again.created
    for step in range(6, 9):
        worker.update(job.job_id, progress=float(step), log_lines=[f"step {step}"])
    worker.update(job.job_id, status=JobStatus.COMPLETED, progress=100.0)
    thread.join(20)
    assert not thread.is_alive() and failures == []
    assert [event.revision for event in received] == list(range(1, 12)), "every revision once, in order"
    assert received[0].kind is EventKind.SNAPSHOT
    assert [line for event in received for line in event.new_log_lines] == [f"step {n}" for n in range(1, 9)]
    final = worker.get_metadata(job.job_id, log_tail=20)
    assert final.status is JobStatus.COMPLETED and final.log_tail == tuple(f"step {n}" for n in range(1, 9))


def test_acknowledged_writes_under_load_survive_a_sigkill_of_the_writer(cluster: Cluster) -> None:
    first = cluster.add()
    second = cluster.add()
    wait_for(lambda: is_standby(second), what="the standby")
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(index: int) -> None:
        client = cluster.client(first)
        while not stop.is_set():
            try:
                job = client.configure(JobSpec(type="load", labels={"writer": str(index)})).job
                with lock:
                    acknowledged[job.job_id] = job.revision
                updated = client.update(job.job_id, status=JobStatus.RUNNING)
                with lock:
                    acknowledged[job.job_id] = updated.revision
            except jobwire.JobWireError as error:
                # An update in flight when the node died may or may not have been applied: the client reports
                # CONNECTION_LOST rather than resend it. Anything else is a failure.
                if error.code is not StatusCode.UNAVAILABLE:
                    errors.append(error)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 100, timeout=20, what="100 acknowledged creates")
    first.kill()
    wait_writer(second)
    wait_for(lambda: len(acknowledged) >= 200, timeout=20, what="writes continuing on the new writer")
    stop.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    reader = cluster.client(second)
    with lock:
        expected = dict(acknowledged)
    jobs = {job.job_id: job for job in reader.list_jobs(type="load")}
    missing = [job_id for job_id in expected if job_id not in jobs]
    assert missing == [], f"{len(missing)} acknowledged jobs lost"
    behind = [job_id for job_id, revision in expected.items() if jobs[job_id].revision < revision]
    assert behind == [], f"{len(behind)} jobs lost an acknowledged update"


def test_a_list_watch_resumes_on_the_new_writer_with_no_gap_and_no_duplicate(cluster: Cluster) -> None:
    first = cluster.add()
    second = cluster.add()
    wait_for(lambda: is_standby(second), what="the standby")
    client = cluster.client(first)
    before = [client.configure(JobSpec(type="listed")).job.job_id for _ in range(3)]
    events = client.watch_jobs(type="listed")
    snapshot: set[str] = set()
    while (event := next(events)).type is not JobsEventType.SYNCED:
        snapshot.update(job.job_id for job in event.jobs)
    assert snapshot == set(before)
    client.update(before[0], status=JobStatus.RUNNING)
    assert (next(events).type, before[0]) == (JobsEventType.CHANGED, before[0])

    first.kill()
    wait_writer(second)
    client.update(before[1], status=JobStatus.RUNNING)
    created = client.configure(JobSpec(type="listed")).job
    client.delete(before[2])
    # Resumed after its cursor on the other node: each change once, whether it comes in the catch-up (a new job
    # then comes as CHANGED) or live, and never a RESYNC.
    changes: list[tuple[JobsEventType, str]] = []
    while len(changes) < 3:
        event = next(events)
        assert event.type is not JobsEventType.RESYNC
        if event.type in (JobsEventType.ENTERED, JobsEventType.CHANGED, JobsEventType.LEFT):
            changes.append((event.type, event.job_id))
    assert sorted(job_id for _, job_id in changes) == sorted([before[1], created.job_id, before[2]])
    assert dict((job_id, kind) for kind, job_id in changes)[before[1]] is JobsEventType.CHANGED
    assert dict((job_id, kind) for kind, job_id in changes)[before[2]] is JobsEventType.LEFT
    assert dict((job_id, kind) for kind, job_id in changes)[created.job_id] in (JobsEventType.ENTERED,
                                                                                  JobsEventType.CHANGED)
    events.close()


def test_the_cli_takes_every_node_and_uses_the_one_that_answers(cluster: Cluster) -> None:
    first = cluster.add()
    second = cluster.add()
    wait_for(lambda: is_standby(second), what="the standby")
    job = cluster.client(first).configure(JobSpec(type="cli")).job
    first.kill()
    wait_writer(second)
    servers = f"127.0.0.1:{first.port},127.0.0.1:{second.port}"
    done = subprocess.run([binary("JOBWIRE_CLI"), "get", "--server", servers, job.job_id, "--json"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert job.job_id in done.stdout
    bad = subprocess.run([binary("JOBWIRE_CLI"), "get", "--server", "127.0.0.1:x", job.job_id],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 64 and "--server must be HOST:PORT" in bad.stderr


def test_a_newer_schema_is_refused_rather_than_written_over(cluster: Cluster, postgres: PostgresServer) -> None:
    node = cluster.add()
    node.stop()
    database = cluster.database_url.rsplit("/", 1)[1]
    assert postgres.sql("SELECT version FROM jobwire_schema", database) == "1"
    postgres.sql("UPDATE jobwire_schema SET version = 99", database)
    assert node.process is not None
    with pytest.raises(AssertionError, match="did not start"):
        node.start()
    assert "STORE_SCHEMA_TOO_NEW" in node.log() or "schema version 99" in node.log()


def test_a_restart_of_postgresql_heals_by_itself_and_loses_nothing(tmp_path: pathlib.Path) -> None:
    database = PostgresServer()
    database.start()
    node = Server(tmp_path / "node", ("--reaper-interval", "50ms", "--log-level", "notice"),
                  database_url=database.create_database())
    try:
        node.port, node.http_port = free_port(), free_port()
        node.start()
        client = jobwire.Client("127.0.0.1", node.port, timeout=30.0, backoff=FAST_BACKOFF)
        job = client.configure(JobSpec(type="t")).job
        updated = client.update(job.job_id, status=JobStatus.RUNNING, log_lines=["before the outage"])
        pid = node.process.pid if node.process else 0

        database.stop()
        # The node finds its session gone within a heartbeat, restarts itself, and while the database stays away
        # answers on its ports: Health NOT_SERVING, every call UNAVAILABLE / STORE_UNAVAILABLE.
        wait_for(lambda: "restarting from what the database holds" in node.log(), timeout=10, what="the node's restart")
        quick = jobwire.Client("127.0.0.1", node.port, timeout=2.0, backoff=FAST_BACKOFF)
        try:
            health = wait_for(lambda: _health_or_none(quick), timeout=15, interval=0.1, what="Health NOT_SERVING")
            assert health.status is jobwire.ServingStatus.NOT_SERVING and health.store_state.startswith("unavailable")
            with pytest.raises(jobwire.JobWireError) as refused:
                quick.get_metadata(job.job_id)
            assert (refused.value.code, refused.value.reason) == (StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE")
            status, _, body = node.json("GET", "/v1/health")
            assert status == 503, body
        finally:
            quick.close()
        database.start()
        # Within a probe the node restarts again, in the same process on the same port, and serves what it had.
        after = wait_for(lambda: _job_or_none(client, job.job_id), timeout=20, interval=0.1, what="the node back")
        assert after.revision == updated.revision and after.status is JobStatus.RUNNING
        assert after.log_tail == ("before the outage",)
        assert client.update(job.job_id, status=JobStatus.COMPLETED).revision == updated.revision + 1
        assert node.process is not None and node.process.pid == pid and node.process.poll() is None
        client.close()
    finally:
        node.cleanup()
        database.cleanup()


def test_a_restart_on_the_same_database_resumes_watches_without_a_resync(cluster: Cluster) -> None:
    node = cluster.add()
    client = cluster.client(node)
    job = client.configure(JobSpec(type="t")).job
    events = client.watch(job.job_id)
    assert next(events).revision == 1
    client.update(job.job_id, status=JobStatus.RUNNING)
    assert next(events).revision == 2
    node.stop()
    node.start()
    client.update(job.job_id, progress=10.0)
    resumed = next(events)
    assert resumed.kind is EventKind.CHANGE and resumed.revision == 3
    events.close()


def test_a_webhook_message_pending_on_the_killed_writer_is_delivered_by_the_next(cluster: Cluster) -> None:
    receiver = Receiver(held=True)  # takes the first attempt and never answers it
    try:
        first = cluster.add("--webhooks-allow-private", "--webhook-retry-delays", "100ms")
        second = cluster.add("--webhooks-allow-private", "--webhook-retry-delays", "100ms")
        wait_for(lambda: is_standby(second), what="the standby")
        client = cluster.client(first)
        hook = client.create_webhook(receiver.url, events=["job.completed"])
        job = client.configure(JobSpec(type="t")).job
        client.update(job.job_id, status=JobStatus.RUNNING)
        client.update(job.job_id, status=JobStatus.COMPLETED)
        first_attempt = receiver.wait_for(1)[0]

        first.kill()  # the attempt in flight dies with it, unanswered and unrecorded
        receiver.release.set()
        wait_writer(second)
        messages = receiver.wait_for(2)
        # At least once, under one webhook-id: the new writer sends the message the old one committed.
        assert {message.id for message in messages} == {first_attempt.id}
        assert all(message.signed_by(hook.secret) for message in messages)
        assert messages[-1].json["data"]["job_id"] == job.job_id
        delivered = wait_for(lambda: [delivery for delivery in client.webhook_deliveries(hook.endpoint.endpoint_id)
                                      if delivery.state is DeliveryState.DELIVERED], what="the delivery recorded")
        assert [delivery.message_id for delivery in delivered] == [first_attempt.id]
    finally:
        receiver.close()


def test_the_stream_port_pool_and_lease_expiry_are_the_writers_and_survive_a_move(cluster: Cluster) -> None:
    first = cluster.add("--stream-ports", "50000-50002")
    second = cluster.add("--stream-ports", "50000-50002")
    wait_for(lambda: is_standby(second), what="the standby")
    client = cluster.client(first)
    held = [client.configure(JobSpec(type="port")).job for _ in range(2)]
    leased = client.configure(JobSpec(type="leased"), lease=0.5).job
    assert len({job.stream_port for job in [*held, leased]}) == 3

    first.kill()
    wait_writer(second)
    # The pool is exhausted on the new writer too: the ports in use came back with the jobs.
    with pytest.raises(jobwire.JobWireError) as exhausted:
        client.configure(JobSpec(type="port"))
    assert exhausted.value.code is StatusCode.RESOURCE_EXHAUSTED
    # The lease nobody renews expires once, on the new writer, after the start-up grace.
    expired = wait_for(lambda: (job := client.get_metadata(leased.job_id)).status is JobStatus.FAILED and job,
                       timeout=20, interval=0.1, what="the lease's expiry")
    assert expired.error is not None and expired.error.reason == "LEASE_EXPIRED"
    assert expired.revision == leased.revision + 1, "failed once, by one node"


def test_many_connections_through_a_standby_all_answer_and_its_watchers_see_the_writers_changes(
        cluster: Cluster) -> None:
    writer = cluster.add()
    standby = cluster.add()
    wait_for(lambda: is_standby(standby), what="the standby")
    job = cluster.client(writer).configure(JobSpec(type="watched")).job
    # A watch through the standby: every change made on the writer reaches it, in order.
    watcher = jobwire.Client("127.0.0.1", standby.port, timeout=20.0)
    events = watcher.watch(job.job_id)
    assert next(events).revision == 1
    answered: list[str] = []
    failures: list[BaseException] = []

    def call(index: int) -> None:
        client = jobwire.Client("127.0.0.1", standby.port, timeout=20.0)
        try:
            created = client.configure(JobSpec(type="relayed", labels={"n": str(index)})).job
            assert client.get_metadata(created.job_id) == created
            answered.append(created.job_id)
        except BaseException as failure:  # reported by the assertion below
            failures.append(failure)
        finally:
            client.close()

    threads = [threading.Thread(target=call, args=(index,)) for index in range(32)]
    for thread in threads:
        thread.start()
    writer_client = cluster.client(writer)
    for progress in (10.0, 20.0, 30.0):
        writer_client.update(job.job_id, progress=progress)
    for thread in threads:
        thread.join(30)
    assert failures == [] and len(set(answered)) == 32
    assert [next(events).revision for _ in range(3)] == [2, 3, 4]
    events.close()
    watcher.close()
    assert {job.job_id for job in writer_client.list_jobs(type="relayed")} == set(answered)
    # Server-Sent Events through the standby's HTTP port, relayed as they are.
    stream = standby.sse(f"/v1/jobs/{job.job_id}/events")
    snapshot, = stream.take(1)
    assert (snapshot["event"], snapshot["data"]["revision"]) == ("snapshot", 4)
    writer_client.update(job.job_id, status=JobStatus.RUNNING)
    change, = stream.take(1)
    assert (change["event"], change["data"]["revision"], change["data"]["job"]["status"]) == ("change", 5, "running")


def _health_or_none(client: jobwire.Client) -> jobwire.Health | None:
    """Health, or None while the node is not answering yet (restarting)."""
    try:
        health = client.health()
    except (jobwire.JobWireError, OSError):
        return None
    return health if health.status is jobwire.ServingStatus.NOT_SERVING else None


def _job_or_none(client: jobwire.Client, job_id: str) -> jobwire.Job | None:
    """The job with its log, or None while the node still answers STORE_UNAVAILABLE."""
    try:
        return client.get_metadata(job_id, log_tail=5)
    except jobwire.JobWireError as error:
        assert (error.code, error.reason) == (StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE"), error
        return None
