"""Webhooks through the clients' calls on the binary port (CreateWebhook and the calls after it) and through
`jobwire webhooks …`, against a real jobwired delivering to a receiver on loopback that verifies every signature.
test_webhooks.py covers the same features over HTTP; this file reuses its receiver fixture."""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

import jobwire
from conftest import Keyring
from helpers import Server, run_cli, wait_for
from jobwire import DeliveryState, JobSpec, JobStatus, Reason, StatusCode, WebhookDelivery
from test_webhooks import receivers  # noqa: F401 (the fixture)
from webhook_receiver import Receiver

StartServer = Callable[..., Server]
Receivers = Callable[..., Receiver]
ALLOW_PRIVATE = "--webhooks-allow-private"
UNKNOWN_ENDPOINT = "ep_" + "0" * 32
UNKNOWN_MESSAGE = "msg_" + "0" * 32
EVENT_TYPES = ("job.created", "job.completed", "job.failed", "job.cancelled", "job.retried", "job.progress")


def now_ms() -> int:
    return int(time.time() * 1000)


def by_id(endpoints: list[jobwire.WebhookEndpoint]) -> dict[str, jobwire.WebhookEndpoint]:
    return {endpoint.endpoint_id: endpoint for endpoint in endpoints}


def complete(client: jobwire.Client, spec: JobSpec | None = None) -> jobwire.Job:
    """A new job taken to COMPLETED; returns it as the completing update answered."""
    job = client.configure(spec or JobSpec(type="encode")).job
    client.update(job.job_id, status=JobStatus.RUNNING)
    return client.update(job.job_id, status=JobStatus.COMPLETED)


def settled(client: jobwire.Client, endpoint_id: str, state: DeliveryState, attempts: int = 1,
            count: int = 1) -> list[WebhookDelivery]:
    """The endpoint's deliveries once there are `count`, each in `state` with `attempts` attempts recorded."""
    def check() -> list[WebhookDelivery] | None:
        deliveries = client.webhook_deliveries(endpoint_id)
        if len(deliveries) == count and all(d.state is state and len(d.attempts) == attempts for d in deliveries):
            return deliveries
        return None

    return wait_for(check, timeout=10, what=f"{count} deliveries {state.name} after {attempts} attempt(s)")


def test_an_endpoint_made_by_the_client_gets_a_signed_job_completed_for_its_labels_only(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()
    client = server.client()
    before = now_ms()
    created = client.create_webhook(receiver.url, events=["job.completed"], labels={"site": "haifa"})
    endpoint = created.endpoint
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", created.secret), "whsec_ and the base64 of 32 bytes"
    assert re.fullmatch(r"ep_[0-9a-f]{32}", endpoint.endpoint_id)
    assert (endpoint.url, endpoint.events, dict(endpoint.labels)) == (receiver.url, ("job.completed",),
                                                                      {"site": "haifa"})
    assert endpoint.enabled and before <= endpoint.created_at_ms <= now_ms()
    assert (endpoint.disabled_at_ms, endpoint.disabled_reason, endpoint.failing_since_ms,
            endpoint.previous_secret_expires_at_ms) == (0, "", 0, 0)
    assert created.secret not in repr(created), "the secret stays out of logs"

    complete(client, JobSpec(type="encode", labels={"site": "tel-aviv"}))   # other labels: no message
    client.configure(JobSpec(type="encode", labels={"site": "haifa"}))      # job.created: not subscribed
    done = complete(client, JobSpec(type="encode", labels={"site": "haifa", "rack": "7"}))
    [message] = receiver.wait_for(1)
    assert message.signed_by(created.secret) and message.recent() and len(message.signatures()) == 1
    body = message.json
    assert body["type"] == "job.completed"
    assert (body["data"]["job_id"], body["data"]["status"], body["data"]["revision"]) == (done.job_id, "completed",
                                                                                          done.revision)
    # Every message is stored with the change that made it: the list is complete as soon as the update returned.
    [delivery] = client.webhook_deliveries(endpoint.endpoint_id)
    assert (delivery.message_id, delivery.job_id, delivery.type) == (message.id, done.job_id, "job.completed")


def test_list_get_and_delete_round_trip(start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    kept_receiver, deleted_receiver = receivers(), receivers()
    client = server.client()
    assert client.list_webhooks() == []
    deleted = client.create_webhook(deleted_receiver.url, events=["job.created"]).endpoint
    kept = client.create_webhook(kept_receiver.url).endpoint
    assert kept.events == () and dict(kept.labels) == {}, "every event type, every job"
    explicit = client.create_webhook("http://127.0.0.1:9/unused", events=[*reversed(EVENT_TYPES), "job.created"],
                                     labels={"b": "2", "a": "1"}).endpoint
    assert explicit.events == tuple(sorted(EVENT_TYPES)), "sorted, each once"
    # As created (their order is test_endpoints_are_listed_in_creation_order's).
    assert by_id(client.list_webhooks()) == by_id([deleted, kept, explicit])
    for endpoint in (deleted, kept, explicit):
        assert client.get_webhook(endpoint.endpoint_id) == endpoint
    status, _, listed = server.json("GET", "/v1/webhooks")
    assert status == 200 and {item["id"]: item["labels"] for item in listed["webhooks"]} == \
           {deleted.endpoint_id: {}, kept.endpoint_id: {}, explicit.endpoint_id: {"a": "1", "b": "2"}}

    assert client.delete_webhook(explicit.endpoint_id) is None
    assert client.delete_webhook(deleted.endpoint_id) is None
    assert client.list_webhooks() == [kept]
    for call in (client.get_webhook, client.delete_webhook, client.webhook_deliveries):
        with pytest.raises(jobwire.NotFound) as caught:
            call(deleted.endpoint_id)
        assert caught.value.reason == Reason.WEBHOOK_NOT_FOUND, call
    job = client.configure(JobSpec(type="after the delete")).job
    [message] = kept_receiver.wait_for(1)
    assert message.json["type"] == "job.created" and message.json["data"]["job_id"] == job.job_id
    assert deleted_receiver.received() == [], "a deleted endpoint gets nothing"


def test_deliveries_show_each_attempt_and_redeliver_sends_the_same_webhook_id_again(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()
    client = server.client()
    created = client.create_webhook(receiver.url, events=["job.completed"])
    endpoint_id = created.endpoint.endpoint_id
    done = complete(client)
    [first] = receiver.wait_for(1)
    [delivery] = settled(client, endpoint_id, DeliveryState.DELIVERED)
    assert (delivery.message_id, delivery.endpoint_id, delivery.type, delivery.job_id, delivery.revision) == \
           (first.id, endpoint_id, "job.completed", done.job_id, done.revision)
    assert delivery.changed_at_ms == done.updated_at_ms and delivery.next_attempt_at_ms == 0
    [attempt] = delivery.attempts
    assert (attempt.attempt, attempt.http_status, attempt.error) == (1, 200, "")
    assert attempt.latency_ms > 0 and done.updated_at_ms <= attempt.at_ms <= now_ms()

    again = client.redeliver_webhook(first.id)
    assert (again.message_id, again.endpoint_id, again.state, again.attempts) == \
           (first.id, endpoint_id, DeliveryState.PENDING, ()), "PENDING, without its attempts"
    second = receiver.wait_for(2)[1]
    assert second.id == first.id and second.body == first.body and second.signed_by(created.secret)
    [delivery] = settled(client, endpoint_id, DeliveryState.DELIVERED, attempts=2)
    assert [(a.attempt, a.http_status) for a in delivery.attempts] == [(1, 200), (2, 200)]

    # With the endpoint named: the same; with another endpoint's id, or an unknown message: not found.
    assert client.redeliver_webhook(first.id, endpoint_id=endpoint_id).state is DeliveryState.PENDING
    assert receiver.wait_for(3)[2].id == first.id
    other = client.create_webhook(receiver.url, events=["job.failed"]).endpoint
    for message_id, named in ((first.id, other.endpoint_id), (UNKNOWN_MESSAGE, "")):
        with pytest.raises(jobwire.NotFound) as caught:
            client.redeliver_webhook(message_id, endpoint_id=named)
        assert caught.value.reason == Reason.DELIVERY_NOT_FOUND
    with pytest.raises(jobwire.NotFound) as caught:
        client.redeliver_webhook(first.id, endpoint_id=UNKNOWN_ENDPOINT)
    assert caught.value.reason == Reason.WEBHOOK_NOT_FOUND


def test_deliveries_come_newest_first_up_to_the_limit(start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()
    client = server.client()
    endpoint_id = client.create_webhook(receiver.url, events=["job.completed"]).endpoint.endpoint_id
    jobs = [complete(client) for _ in range(3)]
    receiver.wait_for(3)
    deliveries = settled(client, endpoint_id, DeliveryState.DELIVERED, count=3)
    assert [d.job_id for d in deliveries] == [job.job_id for job in reversed(jobs)]
    assert [d.job_id for d in client.webhook_deliveries(endpoint_id, limit=2)] == [jobs[2].job_id, jobs[1].job_id]
    assert len(client.webhook_deliveries(endpoint_id, limit=0)) == 3, "0: the default, 50"
    assert len(client.webhook_deliveries(endpoint_id, limit=500)) == 3
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.webhook_deliveries(endpoint_id, limit=501)
    assert caught.value.reason == Reason.VALUE_OUT_OF_RANGE


def test_a_rotation_answers_a_new_secret_and_both_sign_until_the_overlap_ends(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()
    client = server.client()
    created = client.create_webhook(receiver.url, events=["job.created"])
    endpoint_id = created.endpoint.endpoint_id

    before = now_ms()
    rotated = client.rotate_webhook_secret(endpoint_id, overlap=60)
    assert rotated.secret.startswith("whsec_") and rotated.secret != created.secret
    assert rotated.endpoint.endpoint_id == endpoint_id
    expires = rotated.endpoint.previous_secret_expires_at_ms
    assert before + 60_000 <= expires <= now_ms() + 60_000
    assert client.get_webhook(endpoint_id).previous_secret_expires_at_ms == expires
    client.configure(JobSpec(type="during the overlap"))
    during = receiver.wait_for(1)[0]
    assert len(during.signatures()) == 2 and during.signed_by(created.secret) and during.signed_by(rotated.secret)

    stopped = client.rotate_webhook_secret(endpoint_id, overlap=0)
    assert stopped.secret not in (created.secret, rotated.secret)
    assert 0 < stopped.endpoint.previous_secret_expires_at_ms <= now_ms(), "0: the previous secret stops at once"
    client.configure(JobSpec(type="after the overlap"))
    after = receiver.wait_for(2)[1]
    assert len(after.signatures()) == 1 and after.signed_by(stopped.secret) and not after.signed_by(rotated.secret)

    before = now_ms()
    default = client.rotate_webhook_secret(endpoint_id)
    day = 24 * 3_600_000
    assert before + day <= default.endpoint.previous_secret_expires_at_ms <= now_ms() + day, "unset: 24 hours"
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.rotate_webhook_secret(endpoint_id, overlap=7 * 24 * 3600 + 1)
    assert caught.value.reason == Reason.VALUE_OUT_OF_RANGE
    with pytest.raises(jobwire.InvalidArgument) as caught:
        client.rotate_webhook_secret(endpoint_id, overlap=-1)
    assert caught.value.reason == Reason.VALUE_OUT_OF_RANGE, "refused by the client, before sending"
    assert client.get_webhook(endpoint_id) == default.endpoint, "the refused rotations changed nothing"


def test_refusals_carry_the_code_and_reason(start_server: StartServer) -> None:
    server = start_server()   # without --webhooks-allow-private
    client = server.client()
    refusals = [("ftp://example.com/", (), Reason.INVALID_WEBHOOK_URL),
                ("https://user:pw@example.com/", (), Reason.INVALID_WEBHOOK_URL),
                ("not a url", (), Reason.INVALID_WEBHOOK_URL),
                ("http://127.0.0.1:9/hook", (), Reason.WEBHOOK_ADDRESS_NOT_ALLOWED),
                ("http://169.254.169.254/latest/meta-data", (), Reason.WEBHOOK_ADDRESS_NOT_ALLOWED),
                ("https://hooks.example.com/", ("job.completed", "job.exploded"), Reason.UNKNOWN_EVENT_TYPE)]
    for url, events, reason in refusals:
        with pytest.raises(jobwire.InvalidArgument) as caught:
            client.create_webhook(url, events=events)
        assert (caught.value.code, caught.value.reason) == (StatusCode.INVALID_ARGUMENT, reason), url
    for call in (client.get_webhook, client.delete_webhook, client.rotate_webhook_secret, client.webhook_deliveries):
        with pytest.raises(jobwire.NotFound) as not_found:
            call(UNKNOWN_ENDPOINT)
        assert (not_found.value.code, not_found.value.reason) == (StatusCode.NOT_FOUND, Reason.WEBHOOK_NOT_FOUND)
    with pytest.raises(jobwire.NotFound) as not_found:
        client.redeliver_webhook(UNKNOWN_MESSAGE)
    assert not_found.value.reason == Reason.DELIVERY_NOT_FOUND
    assert client.list_webhooks() == [], "nothing was created"


def test_a_tenant_has_at_most_100_endpoints(start_server: StartServer) -> None:
    server = start_server(ALLOW_PRIVATE)
    client = server.client()
    made = [client.create_webhook(f"http://127.0.0.1:9/hook/{n}", events=["job.failed"]).endpoint
            for n in range(100)]
    with pytest.raises(jobwire.ResourceExhausted) as caught:
        client.create_webhook("http://127.0.0.1:9/hook/101")
    assert caught.value.reason == Reason.TOO_MANY_WEBHOOKS
    assert by_id(client.list_webhooks()) == by_id(made)
    client.delete_webhook(made[0].endpoint_id)
    assert client.create_webhook("http://127.0.0.1:9/hook/again").endpoint.url.endswith("/again"), "room again"


def test_endpoints_are_listed_in_creation_order(start_server: StartServer) -> None:
    server = start_server(ALLOW_PRIVATE)
    client = server.client()
    # Back to back, many land in the same millisecond: creation times still increase, so ids (random) never decide.
    made = [client.create_webhook(f"http://127.0.0.1:9/hook/{n}").endpoint for n in range(40)]
    times = [endpoint.created_at_ms for endpoint in made]
    assert all(earlier < later for earlier, later in zip(times, times[1:])), times
    assert [e.endpoint_id for e in client.list_webhooks()] == [e.endpoint_id for e in made]


def test_readers_may_look_and_other_tenants_see_nothing(start_server: StartServer, keyring: Keyring,
                                                        receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE, keys=keyring.path)
    receiver = receivers()
    owner = server.client(keyring["acme-client"])
    reader = server.client(keyring["acme-reader"])
    created = owner.create_webhook(receiver.url, events=["job.created"])
    endpoint_id = created.endpoint.endpoint_id
    job = owner.configure(JobSpec(type="acme")).job
    [message] = receiver.wait_for(1)
    settled(owner, endpoint_id, DeliveryState.DELIVERED)

    assert reader.list_webhooks() == [created.endpoint]
    assert reader.get_webhook(endpoint_id) == created.endpoint
    assert [d.message_id for d in reader.webhook_deliveries(endpoint_id)] == [message.id]
    refused: list[Callable[[], object]] = [
        lambda: reader.create_webhook(receiver.url),
        lambda: reader.delete_webhook(endpoint_id),
        lambda: reader.rotate_webhook_secret(endpoint_id),
        lambda: reader.redeliver_webhook(message.id),
    ]
    for call in refused:
        with pytest.raises(jobwire.PermissionDenied) as caught:
            call()
        assert caught.value.code is StatusCode.PERMISSION_DENIED
    assert owner.list_webhooks() == [created.endpoint], "the reader changed nothing"
    assert len(receiver.received()) == 1 and message.json["data"]["job_id"] == job.job_id

    other = server.client(keyring["globex-worker"])
    assert other.list_webhooks() == []
    for call in (other.get_webhook, other.delete_webhook, other.webhook_deliveries):
        with pytest.raises(jobwire.NotFound) as not_found:
            call(endpoint_id)
        assert not_found.value.reason == Reason.WEBHOOK_NOT_FOUND, "another tenant's endpoint reads as unknown"
    with pytest.raises(jobwire.NotFound) as not_found:
        other.redeliver_webhook(message.id)
    assert not_found.value.reason == Reason.DELIVERY_NOT_FOUND


def test_a_message_on_its_way_is_pending_in_stats_and_cannot_be_redelivered(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers(held=True)
    client = server.client()
    assert client.stats().webhooks == jobwire.WebhookStats(), "no endpoint, nothing pending"
    endpoint_id = client.create_webhook(receiver.url, events=["job.completed"]).endpoint.endpoint_id
    done = complete(client)
    [message] = receiver.wait_for(1)        # on its way: the receiver holds its answer

    stats = client.stats()
    assert (stats.webhooks.endpoints, stats.webhooks.pending_messages, stats.webhooks.failing_endpoints,
            stats.webhooks.disabled_endpoints, stats.webhooks.skipped_messages) == (1, 1, 0, 0, 0)
    assert 0 <= stats.webhooks.oldest_pending_age_ms <= now_ms() - done.updated_at_ms + 1
    [delivery] = client.webhook_deliveries(endpoint_id)
    assert delivery.state is DeliveryState.PENDING and delivery.message_id == message.id
    with pytest.raises(jobwire.FailedPrecondition) as caught:
        client.redeliver_webhook(message.id)
    assert (caught.value.code, caught.value.reason) == (StatusCode.FAILED_PRECONDITION, Reason.DELIVERY_PENDING)

    receiver.release.set()
    settled(client, endpoint_id, DeliveryState.DELIVERED)
    webhooks = wait_for(lambda: (lambda s: s if s.pending_messages == 0 else None)(client.stats().webhooks),
                        what="the outbox empty after the delivery")
    assert webhooks == jobwire.WebhookStats(endpoints=1)
    assert len(receiver.received()) == 1, "sent once: the refused redelivery sent nothing"


def test_410_gone_disables_the_endpoint_and_its_messages_cannot_be_redelivered(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers(410)
    client = server.client()
    endpoint_id = client.create_webhook(receiver.url, events=["job.created"]).endpoint.endpoint_id
    client.configure(JobSpec(type="gone"))
    [message] = receiver.wait_for(1)
    endpoint = wait_for(lambda: (lambda e: e if not e.enabled else None)(client.get_webhook(endpoint_id)),
                        what="the endpoint disabled")
    assert endpoint.disabled_reason.startswith("GONE") and endpoint.disabled_at_ms > 0
    [delivery] = settled(client, endpoint_id, DeliveryState.GIVEN_UP)
    assert delivery.message_id == message.id and delivery.attempts[0].http_status == 410
    with pytest.raises(jobwire.FailedPrecondition) as caught:
        client.redeliver_webhook(message.id)
    assert caught.value.reason == Reason.WEBHOOK_DISABLED
    webhooks = wait_for(lambda: (lambda s: s if s.pending_messages == 0 else None)(client.stats().webhooks),
                        what="the outbox empty after giving up")
    assert webhooks == jobwire.WebhookStats(endpoints=1, disabled_endpoints=1)


def test_the_asyncio_client_creates_lists_and_deletes(start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()

    async def main() -> None:
        async with server.aclient() as client:
            created = await client.create_webhook(receiver.url, events=["job.created"], labels={"k": "v"})
            endpoint_id = created.endpoint.endpoint_id
            assert await client.list_webhooks() == [created.endpoint]
            assert await client.get_webhook(endpoint_id) == created.endpoint
            job = (await client.configure(JobSpec(type="aio", labels={"k": "v"}))).job
            message = (await asyncio.to_thread(receiver.wait_for, 1))[0]
            assert message.signed_by(created.secret) and message.json["data"]["job_id"] == job.job_id
            deliveries: list[WebhookDelivery] = []
            while not deliveries or deliveries[0].state is not DeliveryState.DELIVERED:
                await asyncio.sleep(0.01)
                deliveries = await client.webhook_deliveries(endpoint_id)
            assert [(d.message_id, d.attempts[0].http_status) for d in deliveries] == [(message.id, 200)]
            again = await client.redeliver_webhook(message.id, endpoint_id=endpoint_id)
            assert again.state is DeliveryState.PENDING
            assert (await asyncio.to_thread(receiver.wait_for, 2))[1].id == message.id
            rotated = await client.rotate_webhook_secret(endpoint_id, overlap=0)
            assert rotated.secret != created.secret and rotated.endpoint.previous_secret_expires_at_ms > 0
            assert await client.delete_webhook(endpoint_id) is None
            assert await client.list_webhooks() == []
            with pytest.raises(jobwire.NotFound) as caught:
                await client.get_webhook(endpoint_id)
            assert caught.value.reason == Reason.WEBHOOK_NOT_FOUND

    asyncio.run(asyncio.wait_for(main(), 30))


def _field(output: str, name: str) -> str:
    match = re.search(rf"^{name} +(\S+)$", output, re.M)
    assert match is not None, f"no {name!r} line in {output!r}"
    return match.group(1)


def test_the_cli_manages_an_endpoint_whose_secret_verifies_the_messages(
        start_server: StartServer, receivers: Receivers) -> None:
    server = start_server(ALLOW_PRIVATE)
    receiver = receivers()
    port = server.port
    done = run_cli("webhooks", "create", "--url", receiver.url, "--events", "job.completed", port=port)
    endpoint_id, secret = _field(done.stdout, "endpoint"), _field(done.stdout, "secret")
    assert re.fullmatch(r"ep_[0-9a-f]{32}", endpoint_id) and secret.startswith("whsec_")
    assert secret not in done.stderr and "shown this once" in done.stderr
    client = server.client()
    assert [(e.endpoint_id, e.url, e.events) for e in client.list_webhooks()] == \
           [(endpoint_id, receiver.url, ("job.completed",))]

    client.configure(JobSpec(type="not completed"))
    job = complete(client)
    [message] = receiver.wait_for(1)
    assert message.json["type"] == "job.completed" and message.json["data"]["job_id"] == job.job_id
    assert message.signed_by(secret) and message.recent()

    listed = run_cli("webhooks", "list", port=port).stdout.splitlines()
    assert len(listed) == 1 and listed[0].split() == [endpoint_id, "enabled", receiver.url, "job.completed"]

    def delivered(attempts: int) -> dict[str, Any] | None:
        shown = json.loads(run_cli("webhooks", "deliveries", endpoint_id, "--json", port=port).stdout)
        [only] = shown["deliveries"]
        return shown if only["state"] == "delivered" and len(only["attempts"]) == attempts else None

    shown = wait_for(lambda: delivered(1), what="the delivery recorded")
    [delivery] = shown["deliveries"]
    assert (delivery["message_id"], delivery["job_id"], delivery["type"]) == (message.id, job.job_id, "job.completed")
    assert delivery["attempts"][0]["http_status"] == 200 and delivery["attempts"][0]["attempt"] == 1

    redelivered = run_cli("webhooks", "redeliver", message.id, port=port)
    assert redelivered.stdout.startswith(message.id)
    again = receiver.wait_for(2)[1]
    assert again.id == message.id and again.body == message.body and again.signed_by(secret)
    wait_for(lambda: delivered(2), what="the redelivery recorded")

    rotated = json.loads(run_cli("webhooks", "rotate-secret", endpoint_id, "--overlap", "0", "--json",
                                 port=port).stdout)
    new_secret = rotated["secret"]
    assert new_secret.startswith("whsec_") and new_secret != secret and rotated["id"] == endpoint_id
    assert rotated["previous_secret_expires_at"] is not None
    later = complete(client)
    third = receiver.wait_for(3)[2]
    assert third.json["data"]["job_id"] == later.job_id
    assert third.signed_by(new_secret) and not third.signed_by(secret), "overlap 0: the old secret no longer signs"

    deleted = run_cli("webhooks", "delete", endpoint_id, port=port)
    assert endpoint_id in deleted.stderr
    assert run_cli("webhooks", "list", port=port).stdout.strip() == ""
    assert client.list_webhooks() == []
    failed = run_cli("webhooks", "delete", endpoint_id, port=port, check=False)
    assert failed.returncode == 15 and "NOT_FOUND (WEBHOOK_NOT_FOUND)" in failed.stderr, "10 + NOT_FOUND"
