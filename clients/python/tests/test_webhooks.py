"""Webhooks end to end: jobwired delivering to a real receiver on loopback that verifies every signature
(docs/WEBHOOKS.md). Endpoints are managed through /v1/webhooks."""
from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from conftest import Keyring
from helpers import Server, wait_for
from http_helpers import error_of
from jobwire import JobSpec, JobStatus
from webhook_receiver import Receiver

StartServer = Callable[..., Server]
FAST_RETRIES = ("--webhook-retry-delays", "100ms", "100ms", "100ms")


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*statuses: int, held: bool = False, port: int = 0) -> Receiver:
        receiver = Receiver(statuses, held=held, port=port)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def create_endpoint(server: Server, url: str, api_key: str | None = None, **members: object) -> dict:
    status, headers, body = server.json("POST", "/v1/webhooks", {"url": url, **members}, api_key=api_key)
    assert status == 201, body
    assert headers["location"] == f"/v1/webhooks/{body['id']}"
    assert body["secret"].startswith("whsec_")
    return body


def test_completion_and_failure_are_delivered_signed_with_the_job_as_the_api_shows_it(
        start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private")
    receiver = receivers()
    endpoint = create_endpoint(server, receiver.url, events=["job.completed", "job.failed"])
    client = server.client()
    done = client.configure(JobSpec(type="encode", labels={"site": "haifa"})).job
    client.update(done.job_id, status=JobStatus.RUNNING, progress=50.0)
    client.update(done.job_id, status=JobStatus.COMPLETED)
    broken = client.configure(JobSpec(type="encode")).job
    client.update(broken.job_id, status=JobStatus.RUNNING)
    client.update(broken.job_id, status=JobStatus.FAILED)

    messages = receiver.wait_for(2)
    time.sleep(0.2)
    assert len(receiver.received()) == 2, "only the types the endpoint asked for"
    by_type = {message.json["type"]: message for message in messages}
    assert set(by_type) == {"job.completed", "job.failed"}
    for message in messages:
        assert message.signed_by(endpoint["secret"]) and message.recent(), message.headers
        assert message.id.startswith("msg_") and message.headers["content-type"] == "application/json"
        body = message.json
        assert list(body) == ["type", "timestamp", "data"]
        status, _, job = server.json("GET", f"/v1/jobs/{body['data']['job_id']}")
        assert status == 200 and body["data"] == job, "the job in the one JSON shape, at the revision that made it"
        assert body["timestamp"] == job["updated_at"]
    assert by_type["job.completed"].json["data"]["job_id"] == done.job_id
    assert by_type["job.failed"].json["data"]["status"] == "failed"


def test_a_receiver_that_answers_500_twice_gets_the_same_message_three_times(
        start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private", *FAST_RETRIES)
    receiver = receivers(500, 500)
    endpoint = create_endpoint(server, receiver.url, events=["job.created"])
    server.client().configure(JobSpec(type="t"))
    attempts = receiver.wait_for(3)
    assert len({message.id for message in attempts}) == 1, "one webhook-id on every retry"
    assert all(message.signed_by(endpoint["secret"]) for message in attempts)
    assert attempts[0].body == attempts[2].body, "the same bytes every time"
    wait_for(lambda: server.json("GET", f"/v1/webhooks/{endpoint['id']}")[2]["failing_since"] is None,
             what="the endpoint no longer failing after the success")

    # Every attempt is listed; a delivered message can be sent again, with its id.
    deliveries = wait_for(lambda: (lambda body: body["deliveries"] if body["deliveries"][0]["state"] == "delivered" else None)(
        server.json("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")[2]), what="the delivery recorded")
    assert [d["message_id"] for d in deliveries] == [attempts[0].id]
    assert [a["http_status"] for a in deliveries[0]["attempts"]] == [500, 500, 200]
    assert [a["attempt"] for a in deliveries[0]["attempts"]] == [1, 2, 3]
    status, _, body = server.json("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{attempts[0].id}:redeliver")
    assert (status, body["state"]) == (202, "pending")
    again = receiver.wait_for(4)[3]
    assert again.id == attempts[0].id and again.body == attempts[0].body and again.signed_by(endpoint["secret"])
    status, _, body = server.json("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/msg_unknown:redeliver")
    assert (status, error_of(body)[1]) == (404, "DELIVERY_NOT_FOUND")
    status, _, body = server.json("GET", f"/v1/webhooks/{endpoint['id']}/deliveries?limit=0")
    assert (status, error_of(body)[1]) == (400, "INVALID_PARAMETER")


def test_a_receiver_down_for_a_while_gets_the_message_once_it_is_back(
        start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    # A port that refuses connections: bound (so no other listener takes it), never listening.
    placeholder = socket.socket()
    placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    placeholder.bind(("127.0.0.1", 0))
    port = placeholder.getsockname()[1]
    server = start_server("--webhooks-allow-private", "--webhook-retry-delays", *["200ms"] * 40)
    endpoint = create_endpoint(server, f"http://127.0.0.1:{port}/hook", events=["job.created"])
    job = server.client().configure(JobSpec(type="t")).job
    path = f"/v1/webhooks/{endpoint['id']}"

    def refused_twice() -> list[dict] | None:
        deliveries = server.json("GET", f"{path}/deliveries")[2]["deliveries"]
        return deliveries if deliveries and len(deliveries[0]["attempts"]) >= 2 else None

    down = wait_for(refused_twice, what="two refused attempts")[0]
    assert down["state"] == "pending" and down["next_attempt_at"] is not None
    assert all(a["http_status"] is None and a["error"].startswith("CONNECTION") for a in down["attempts"]), down["attempts"]
    assert server.json("GET", path)[2]["failing_since"] is not None

    placeholder.close()
    receiver = receivers(port=port)
    message = receiver.wait_for(1)[0]
    assert message.id == down["message_id"], "the same webhook-id as the refused attempts"
    assert message.signed_by(endpoint["secret"]) and message.json["data"]["job_id"] == job.job_id
    wait_for(lambda: server.json("GET", path)[2]["failing_since"] is None, what="the endpoint healthy again")
    back = wait_for(lambda: (lambda d: d if d["state"] == "delivered" else None)(
        server.json("GET", f"{path}/deliveries")[2]["deliveries"][0]), what="the delivery recorded")
    assert back["attempts"][-1]["http_status"] == 200 and len(back["attempts"]) >= 3
    assert len(receiver.received()) == 1


def test_messages_pending_when_jobwired_is_killed_are_delivered_after_the_restart(
        start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private", "--webhook-retry-delays", "200ms", "200ms", "200ms", "200ms", "200ms")
    receiver = receivers(*([503] * 3))
    endpoint = create_endpoint(server, receiver.url, events=["job.completed"])
    client = server.client()
    job = client.configure(JobSpec(type="t")).job
    client.update(job.job_id, status=JobStatus.RUNNING)
    client.update(job.job_id, status=JobStatus.COMPLETED)  # acknowledged: its message is in the store
    first = receiver.wait_for(1)[0]
    server.kill()
    server.start()
    delivered = wait_for(lambda: [m for m in receiver.received() if m.id == first.id] if receiver.answered >= 4 else None,
                         timeout=15, what="the delivery after the restart")
    assert all(message.signed_by(endpoint["secret"]) for message in delivered)
    assert delivered[-1].json["data"]["status"] == "completed"


def test_410_gone_disables_the_endpoint_and_says_why(start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private")
    receiver = receivers(410)
    endpoint = create_endpoint(server, receiver.url)
    client = server.client()
    client.configure(JobSpec(type="t"))
    receiver.wait_for(1)
    shown = wait_for(lambda: (lambda body: body if not body["enabled"] else None)(
        server.json("GET", f"/v1/webhooks/{endpoint['id']}")[2]), what="the endpoint disabled")
    assert shown["disabled_reason"].startswith("GONE") and shown["disabled_at"] is not None
    client.configure(JobSpec(type="t"))
    time.sleep(0.3)
    assert len(receiver.received()) == 1, "nothing more to a disabled endpoint"
    status, _, health = server.json("GET", "/v1/health/detailed")
    webhooks = next(component for component in health["components"] if component["name"] == "webhooks")
    assert webhooks["measures"]["disabled_endpoints"] == 1 and webhooks["measures"]["endpoints"] == 1, webhooks


def test_private_and_metadata_addresses_are_refused_without_the_flag(start_server: StartServer) -> None:
    server = start_server()
    refusals = [("http://127.0.0.1:9000/hook", "WEBHOOK_ADDRESS_NOT_ALLOWED"),
                ("http://localhost:9000/hook", "WEBHOOK_ADDRESS_NOT_ALLOWED"),
                ("http://[::1]/hook", "WEBHOOK_ADDRESS_NOT_ALLOWED"), ("http://10.1.2.3/", "WEBHOOK_ADDRESS_NOT_ALLOWED"),
                ("http://169.254.169.254/latest/meta-data", "WEBHOOK_ADDRESS_NOT_ALLOWED"),
                ("ftp://example.com/", "INVALID_WEBHOOK_URL"), ("https://user:pw@example.com/", "INVALID_WEBHOOK_URL")]
    for url, reason in refusals:
        status, _, body = server.json("POST", "/v1/webhooks", {"url": url})
        assert (status, error_of(body)) == (400, ("INVALID_ARGUMENT", reason)), url
    status, _, body = server.json("POST", "/v1/webhooks", {"url": "https://hooks.example.com/", "events": ["job.exploded"]})
    assert (status, error_of(body)) == (400, ("INVALID_ARGUMENT", "UNKNOWN_EVENT_TYPE"))
    status, _, body = server.json("POST", "/v1/webhooks", {"url": "https://hooks.example.com/", "colour": "red"})
    assert status == 400 and "colour" in body["error"]["message"]
    assert server.json("GET", "/v1/webhooks")[2] == {"webhooks": []}, "nothing was created"


def test_metadata_stays_refused_with_the_flag(start_server: StartServer) -> None:
    server = start_server("--webhooks-allow-private")
    status, _, body = server.json("POST", "/v1/webhooks", {"url": "http://169.254.169.254/"})
    assert (status, error_of(body)[1]) == (400, "WEBHOOK_ADDRESS_NOT_ALLOWED")


def test_a_rotation_signs_with_both_secrets_then_only_the_new_one(
        start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private")
    receiver = receivers()
    endpoint = create_endpoint(server, receiver.url, events=["job.created"])
    status, _, rotated = server.json("POST", f"/v1/webhooks/{endpoint['id']}:rotateSecret?overlap_ms=60000")
    assert status == 200 and rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"] is not None
    client = server.client()
    client.configure(JobSpec(type="t"))
    during = receiver.wait_for(1)[0]
    assert len(during.signatures()) == 2 and during.signed_by(endpoint["secret"]) and during.signed_by(rotated["secret"])
    status, _, again = server.json("POST", f"/v1/webhooks/{endpoint['id']}:rotateSecret?overlap_ms=1")
    assert status == 200
    time.sleep(0.01)
    client.configure(JobSpec(type="t"))
    after = receiver.wait_for(2)[1]
    assert len(after.signatures()) == 1 and after.signed_by(again["secret"]) and not after.signed_by(rotated["secret"])
    assert "secret" not in server.json("GET", f"/v1/webhooks/{endpoint['id']}")[2], "a secret is shown once"


def test_a_slow_receiver_does_not_hold_back_a_fast_one(start_server: StartServer, receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private")
    slow = receivers(held=True)
    fast = receivers()
    create_endpoint(server, slow.url, events=["job.created"])
    create_endpoint(server, fast.url, events=["job.created"])
    client = server.client()
    for _ in range(6):
        client.configure(JobSpec(type="t"))
    fast.wait_for(6)
    assert slow.answered == 0 and len(slow.received()) <= 4, "the slow one has at most four in flight, none answered"
    slow.release.set()
    slow.wait_for(6)


def test_endpoints_belong_to_a_tenant_and_readers_only_look(start_server: StartServer, keyring: Keyring,
                                                            receivers: Callable[..., Receiver]) -> None:
    server = start_server("--webhooks-allow-private", keys=keyring.path)
    receiver = receivers()
    endpoint = create_endpoint(server, receiver.url, api_key=keyring["acme-client"])
    status, _, body = server.json("POST", "/v1/webhooks", {"url": receiver.url}, api_key=keyring["acme-reader"])
    assert (status, error_of(body)[0]) == (403, "PERMISSION_DENIED")
    status, _, listed = server.json("GET", "/v1/webhooks", api_key=keyring["acme-reader"])
    assert status == 200 and [item["id"] for item in listed["webhooks"]] == [endpoint["id"]]
    assert server.json("GET", "/v1/webhooks", api_key=keyring["globex-worker"])[2] == {"webhooks": []}
    status, _, body = server.json("GET", f"/v1/webhooks/{endpoint['id']}", api_key=keyring["globex-worker"])
    assert (status, error_of(body)[1]) == (404, "WEBHOOK_NOT_FOUND")
    status, _, body = server.json("DELETE", f"/v1/webhooks/{endpoint['id']}", api_key=keyring["globex-worker"])
    assert status == 404
    # Only acme's jobs reach acme's endpoint.
    server.client(keyring["globex-worker"]).configure(JobSpec(type="globex"))
    server.client(keyring["acme-client"]).configure(JobSpec(type="acme"))
    message = receiver.wait_for(1)[0]
    time.sleep(0.2)
    assert [m.json["data"]["type"] for m in receiver.received()] == ["acme"] and message.json["type"] == "job.created"
    status, _, _ = server.json("DELETE", f"/v1/webhooks/{endpoint['id']}", api_key=keyring["acme-client"])
    assert status == 200
    assert server.json("GET", "/v1/webhooks", api_key=keyring["acme-client"])[2] == {"webhooks": []}
    server.client(keyring["acme-client"]).configure(JobSpec(type="after the delete"))
    time.sleep(0.3)
    assert len(receiver.received()) == 1, "a deleted endpoint gets nothing more"
