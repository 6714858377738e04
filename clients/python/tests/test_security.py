"""Keys, roles, tenant isolation and limits (docs/SECURITY.md), with keys made by the real CLI."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import JobSpec, JobStatus, Reason, StatusCode
from conftest import Keyring
from helpers import UNKNOWN_ID, Server, create_key, revoke_key, wait_for

StartServer = Callable[..., Server]


def test_the_hello_ack_names_the_keys_tenant_and_role(keyed_server: Server, keyring: Keyring) -> None:
    info = keyed_server.client(keyring["acme-reader"]).connect()
    assert (info.tenant, info.role) == ("acme", "reader")
    info = keyed_server.client(keyring["globex-worker"]).connect()
    assert (info.tenant, info.role) == ("globex", "worker")


@pytest.mark.parametrize("key", ["", "jwk_not-a-key", "wrong-secret", "x" * 1000])
def test_a_missing_or_wrong_key_is_unauthenticated_at_once(keyed_server: Server, keyring: Keyring, key: str) -> None:
    if key == "wrong-secret":
        real = keyring["acme-reader"]
        key = real[:-1] + ("1" if real.endswith("0") else "0")
    client = keyed_server.client(key or None, timeout=20)
    started = time.monotonic()
    with pytest.raises(jobwire.Unauthenticated) as caught:
        client.health()
    assert time.monotonic() - started < 5, "a refused key is final: no waiting for the deadline"
    assert caught.value.code is StatusCode.UNAUTHENTICATED and caught.value.reason == Reason.INVALID_API_KEY


def test_roles_allow_exactly_their_methods(keyed_server: Server, keyring: Keyring) -> None:
    reader = keyed_server.client(keyring["acme-reader"])
    client_role = keyed_server.client(keyring["acme-client"])
    worker = keyed_server.client(keyring["acme-worker"])
    admin = keyed_server.client(keyring["acme-admin"])
    job = client_role.configure(JobSpec(type="t")).job
    denied: list[Callable[[], object]] = [
        lambda: reader.configure(JobSpec(type="t")), lambda: reader.cancel(job.job_id),
        lambda: reader.delete(job.job_id), lambda: reader.update(job.job_id, progress=1.0),
        lambda: reader.retry(job.job_id), lambda: reader.set_priority(job.job_id, 1),
        lambda: client_role.update(job.job_id, progress=1.0),
        lambda: client_role.claim(job.job_id, revision=job.revision),
    ]
    for call in denied:
        with pytest.raises(jobwire.PermissionDenied) as caught:
            call()
        assert caught.value.code is StatusCode.PERMISSION_DENIED and caught.value.reason == Reason.PERMISSION_DENIED
    assert reader.get_metadata(job.job_id) == job and reader.health().status is jobwire.ServingStatus.SERVING
    assert [found.job_id for found in reader.list_jobs()] == [job.job_id]
    assert next(reader.watch(job.job_id)).job == job
    # Stats and Usage are every role's, for its own tenant; the server-wide counters are only filled for admins.
    own = reader.stats()
    assert own.jobs == {JobStatus.PENDING: 1} and own.total_jobs == 1
    assert (own.connections, own.streams, own.methods) == (0, 0, ())
    assert keyring["acme-reader"].split("_")[1] in {key.key_id for key in reader.usage().keys}
    assert worker.update(job.job_id, status=JobStatus.RUNNING).status is JobStatus.RUNNING
    admin_stats = admin.stats()
    assert admin_stats.jobs == {JobStatus.RUNNING: 1} and admin_stats.connections == 4 and admin_stats.methods


def test_another_tenants_job_looks_exactly_like_an_unknown_id(keyed_server: Server, keyring: Keyring) -> None:
    acme = keyed_server.client(keyring["acme-worker"])
    globex = keyed_server.client(keyring["globex-worker"])
    job = acme.configure(JobSpec(type="secret")).job

    def failure(call: Callable[[str], object], job_id: str) -> jobwire.JobWireError:
        with pytest.raises(jobwire.JobWireError) as caught:
            call(job_id)
        return caught.value

    calls: dict[str, Callable[[str], object]] = {
        "GetMetadata": globex.get_metadata,
        "WatchJob": lambda job_id: next(globex.watch(job_id)),
        "Cancel": globex.cancel,
        "UpdateJob": lambda job_id: globex.update(job_id, progress=1.0),
        "DeleteJob": globex.delete,
    }
    for name, call in calls.items():
        other, unknown = failure(call, job.job_id), failure(call, UNKNOWN_ID)
        assert type(other) is jobwire.NotFound and other.reason == Reason.JOB_NOT_FOUND, name
        assert (other.code, other.reason, other.message.replace(job.job_id, "ID")) == (
            unknown.code, unknown.reason, unknown.message.replace(UNKNOWN_ID, "ID")), name
    [other_result, unknown_result] = globex.batch_get_metadata([job.job_id, UNKNOWN_ID])
    assert other_result.job is None and other_result.error is not None and unknown_result.error is not None
    assert other_result.error.status.message.replace(job.job_id, "ID") == \
        unknown_result.error.status.message.replace(UNKNOWN_ID, "ID")
    assert list(globex.list_jobs()) == [] and globex.list_page().total_count == 0
    assert acme.get_metadata(job.job_id) == job, "the owner still sees it, unchanged"


def test_request_ids_are_scoped_to_the_tenant(keyed_server: Server, keyring: Keyring) -> None:
    acme = keyed_server.client(keyring["acme-worker"]).configure(JobSpec(type="a"), request_id="same")
    globex = keyed_server.client(keyring["globex-worker"]).configure(JobSpec(type="b"), request_id="same")
    assert acme.created and globex.created and acme.job.job_id != globex.job.job_id
    assert (acme.job.tenant, globex.job.tenant) == ("acme", "globex")


def test_only_admin_keys_act_for_another_tenant(keyed_server: Server, keyring: Keyring) -> None:
    job = keyed_server.client(keyring["globex-worker"]).configure(JobSpec(type="g")).job
    trespasser = keyed_server.client(keyring["acme-worker"], tenant="globex")
    with pytest.raises(jobwire.PermissionDenied) as caught:
        trespasser.get_metadata(job.job_id)
    assert caught.value.reason == Reason.PERMISSION_DENIED
    admin_for_globex = keyed_server.client(keyring["acme-admin"], tenant="globex")
    assert admin_for_globex.get_metadata(job.job_id) == job
    assert admin_for_globex.stats().jobs == {JobStatus.PENDING: 1}
    assert [found.job_id for found in admin_for_globex.list_jobs()] == [job.job_id]
    assert keyed_server.client(keyring["acme-admin"]).stats().jobs == {}


def test_a_revoked_key_loses_its_connection_and_cannot_reconnect(keyed_server: Server, keyring: Keyring) -> None:
    revoked = keyed_server.client(keyring["acme-worker"])
    kept = keyed_server.client(keyring["acme-reader"])
    job = revoked.configure(JobSpec(type="t")).job
    events = revoked.watch(job.job_id)
    next(events)
    kept.health()
    added_key = create_key(keyring.path, "acme", "client")
    revoke_key(keyring.path, keyring["acme-worker"])
    keyed_server.reload_keys()
    with pytest.raises(jobwire.Unauthenticated) as caught:
        next(events)  # the GoAway ends the watch with its status; a watch does not retry UNAUTHENTICATED
    assert caught.value.reason == Reason.INVALID_API_KEY
    with pytest.raises(jobwire.Unauthenticated):
        revoked.health()
    assert kept.get_metadata(job.job_id).job_id == job.job_id and kept.connections_opened == 1
    assert keyed_server.client(added_key).connect().role == "client"


def test_rate_limited_calls_say_when_to_retry(start_server: StartServer) -> None:
    server = start_server("--tenant-rate-limit", "2/2")
    client = server.client(retry_rate_limited=False)
    client.health()
    client.health()
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.health()
    error = caught.value
    assert error.code is StatusCode.RESOURCE_EXHAUSTED and error.reason == Reason.RATE_LIMITED
    assert error.retry_after is not None and 0 < error.retry_after <= 0.5


def test_the_client_waits_as_a_rate_limit_asks_and_succeeds(start_server: StartServer) -> None:
    server = start_server("--tenant-rate-limit", "5/1")
    client = server.client()
    started = time.monotonic()
    for _ in range(4):
        assert client.health().status is jobwire.ServingStatus.SERVING
    assert time.monotonic() - started >= 0.5, "three of the four calls had to wait ~200 ms each"
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.health(timeout=0.05)  # the wait the server asks for does not fit in this deadline
    assert caught.value.reason == Reason.RATE_LIMITED


def test_a_key_rate_limit_is_per_key(start_server: StartServer, keyring: Keyring) -> None:
    server = start_server("--rate-limit", "1/1", keys=keyring.path)
    first = server.client(keyring["acme-reader"], retry_rate_limited=False)
    second = server.client(keyring["acme-client"], retry_rate_limited=False)
    first.health()
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        first.health()
    assert caught.value.reason == Reason.RATE_LIMITED and caught.value.retry_after is not None
    assert second.health().status is jobwire.ServingStatus.SERVING


@pytest.mark.parametrize("flag", ["--max-connections", "--max-connections-per-address"])
def test_connection_limits(start_server: StartServer, flag: str) -> None:
    server = start_server(flag, "1")
    holder = server.client()
    holder.health()
    second = server.client(timeout=20)
    started = time.monotonic()
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        second.health()
    assert caught.value.reason == Reason.TOO_MANY_CONNECTIONS and time.monotonic() - started < 5
    holder.close()
    wait_for(lambda: _connects(second), what="a freed connection slot")


def _connects(client: jobwire.Client) -> bool:
    try:
        client.health()
    except jobwire.ResourceExhausted:
        return False
    return True
