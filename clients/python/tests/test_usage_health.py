"""What operators read: Usage (calls and errors by key and method), detailed Health, and Stats over a range of
creation times (sync and asyncio), against the real server."""
from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import pytest

import jobwire
from jobwire import ComponentState, JobError, JobSpec, JobStatus, MethodUsage, StatusCode
from conftest import Keyring
from helpers import UNKNOWN_ID, Server

StartServer = Callable[..., Server]

CONFIGURE = "/jobwire.v1.JobService/Configure"
GET_METADATA = "/jobwire.v1.JobService/GetMetadata"
HEALTH = "/jobwire.v1.JobService/Health"
USAGE = "/jobwire.v1.JobService/Usage"


def key_id(key: str) -> str:
    """The public part of a ``jwk_<id>_<secret>`` key."""
    return key.split("_")[1]


def by_key(usage: jobwire.Usage) -> dict[str, jobwire.KeyUsage]:
    return {key.key_id: key for key in usage.keys}


def by_method(key: jobwire.KeyUsage) -> dict[str, MethodUsage]:
    return {method.method: method for method in key.methods}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_usage_lists_the_calling_key_with_its_calls_and_errors_by_code(client: jobwire.Client) -> None:
    started = now_ms()
    job = client.configure(JobSpec(type="t")).job
    client.configure(JobSpec(type="t"))
    client.get_metadata(job.job_id)
    with pytest.raises(jobwire.NotFound):
        client.get_metadata(UNKNOWN_ID)
    usage = client.usage()
    assert usage.tenant == "default"
    [key] = usage.keys
    assert (key.key_id, key.role) == ("development", "admin")
    methods = by_method(key)
    assert set(methods) <= {CONFIGURE, GET_METADATA, USAGE}
    assert methods[CONFIGURE] == MethodUsage(CONFIGURE, 2, {})
    assert methods[GET_METADATA] == MethodUsage(GET_METADATA, 2, {StatusCode.NOT_FOUND: 1})
    assert key.rate_limited == 0 and key.bytes_in > 0 and key.bytes_out > 0
    assert started - 1000 <= key.last_used_at_ms <= now_ms() + 1000
    later = by_method(client.usage().keys[0])
    assert later[USAGE].calls >= 1 and later[GET_METADATA] == methods[GET_METADATA]


def test_usage_is_per_key_and_per_tenant(keyed_server: Server, keyring: Keyring) -> None:
    reader = keyed_server.client(keyring["acme-reader"])
    reader.health()
    with pytest.raises(jobwire.NotFound):
        reader.get_metadata(UNKNOWN_ID)
    keyed_server.client(keyring["globex-worker"]).configure(JobSpec(type="g"))
    admin = keyed_server.client(keyring["acme-admin"])
    usage = admin.usage()
    keys = by_key(usage)
    assert usage.tenant == "acme"
    assert key_id(keyring["acme-reader"]) in keys and key_id(keyring["acme-admin"]) in keys
    assert key_id(keyring["globex-worker"]) not in keys, "another tenant's key"
    assert key_id(keyring["acme-worker"]) not in keys, "a key that never connected"
    read = keys[key_id(keyring["acme-reader"])]
    assert read.role == "reader"
    assert by_method(read) == {HEALTH: MethodUsage(HEALTH, 1, {}),
                               GET_METADATA: MethodUsage(GET_METADATA, 1, {StatusCode.NOT_FOUND: 1})}
    globex = admin.usage("globex")
    assert globex.tenant == "globex" and [key.key_id for key in globex.keys] == [key_id(keyring["globex-worker"])]
    assert by_method(globex.keys[0])[CONFIGURE].calls == 1
    assert key_id(keyring["acme-reader"]) in by_key(reader.usage()), "a reader sees its own tenant's usage"
    with pytest.raises(jobwire.PermissionDenied):
        reader.usage("globex")


def test_usage_counts_rate_limited_calls(start_server: StartServer, keyring: Keyring) -> None:
    server = start_server("--rate-limit", "1/2", keys=keyring.path)  # a burst of two calls
    reader = server.client(keyring["acme-reader"], retry_rate_limited=False)
    reader.health()
    reader.health()
    with pytest.raises(jobwire.ResourceExhausted):
        reader.health()
    usage = server.client(keyring["acme-admin"]).usage()
    assert by_key(usage)[key_id(keyring["acme-reader"])].rate_limited == 1


def test_detailed_health_reports_each_component(client: jobwire.Client) -> None:
    assert client.health().components == (), "only when asked for"
    health = client.health(detailed=True)
    assert health.status is jobwire.ServingStatus.SERVING
    names = [component.name for component in health.components]
    assert {"store", "disk", "event_loops"} <= set(names) and len(names) == len(set(names))
    assert [component.name for component in client.health(detailed=True).components] == names, "a fixed order"
    for component in health.components:
        assert component.state in (ComponentState.OK, ComponentState.WARNING), component
        assert all(isinstance(value, float) for value in component.measures.values()), component
    store = next(component for component in health.components if component.name == "store")
    assert store.state is ComponentState.OK


def test_stats_count_the_jobs_created_in_a_range(client: jobwire.Client) -> None:
    before = client.configure(JobSpec(type="before")).job
    time.sleep(0.005)
    inside = [client.configure(JobSpec(type="inside")).job for _ in range(6)]
    time.sleep(0.005)
    after = client.configure(JobSpec(type="after")).job
    first, last = inside[0].created_at_ms, inside[-1].created_at_ms + 1
    assert before.created_at_ms < first and after.created_at_ms >= last, "the clock moved between the groups"

    completed: list[jobwire.Job] = []
    for index, pause in ((0, 0.03), (1, 0.0)):
        client.update(inside[index].job_id, status=JobStatus.RUNNING)
        time.sleep(pause)
        completed.append(client.update(inside[index].job_id, status=JobStatus.COMPLETED))
    client.update(inside[2].job_id, status=JobStatus.FAILED, error=JobError("boom"))
    client.cancel(inside[3].job_id)
    client.update(inside[4].job_id, status=JobStatus.RUNNING)

    stats = client.stats(created_after_ms=first, created_before_ms=last)
    assert stats.jobs == {JobStatus.PENDING: 1, JobStatus.RUNNING: 1, JobStatus.COMPLETED: 2, JobStatus.FAILED: 1,
                          JobStatus.CANCELLED: 1}
    assert stats.total_jobs == 6
    assert stats.success_rate == pytest.approx(2 / 4), "completed / (completed + failed + cancelled)"
    assert stats.average_run_time_ms == pytest.approx(
        statistics.mean(job.completed_at_ms - job.created_at_ms for job in completed))
    assert stats.average_run_time_ms >= 15

    everything = client.stats()
    assert everything.total_jobs == 8 and everything.jobs[JobStatus.PENDING] == 3
    assert everything.connections == 1, "an admin's stats still carry the server-wide counters"
    only_after = client.stats(created_after_ms=last)
    assert (only_after.total_jobs, only_after.jobs, only_after.success_rate, only_after.average_run_time_ms) == (
        1, {JobStatus.PENDING: 1}, 0.0, 0.0)
    assert client.stats(created_before_ms=first).total_jobs == 1


def test_usage_health_and_stats_on_the_async_client(server: Server) -> None:
    async def main() -> None:
        async with server.aclient() as client:
            job = (await client.configure(JobSpec(type="t"))).job
            await client.update(job.job_id, status=JobStatus.RUNNING)
            await client.update(job.job_id, status=JobStatus.COMPLETED)
            with pytest.raises(jobwire.NotFound):
                await client.get_metadata(UNKNOWN_ID)
            usage = await client.usage()
            methods = by_method(usage.keys[0])
            assert methods[GET_METADATA].errors == {StatusCode.NOT_FOUND: 1}
            health = await client.health(detailed=True)
            assert {"store", "disk", "event_loops"} <= {component.name for component in health.components}
            stats = await client.stats(created_after_ms=job.created_at_ms)
            assert (stats.total_jobs, stats.success_rate) == (1, 1.0)
            assert (await client.stats(created_after_ms=job.created_at_ms + 1)).total_jobs == 0

    asyncio.run(asyncio.wait_for(main(), 30))
