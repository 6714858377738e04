"""Keys, roles, tenants, stream tokens, rate limits and CORS on the HTTP front end (docs/SECURITY.md), with keys made
by the real CLI: the same rules as on the binary port, since both call the same service."""
from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from conftest import Keyring
from helpers import UNKNOWN_ID, Server, error_of, revoke_key, wait_for

StartServer = Callable[..., Server]
ORIGIN = "https://app.example"


def create(server: Server, key: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    status, _, job = server.json("POST", "/v1/jobs", spec if spec is not None else {"type": "t"}, api_key=key)
    assert status == 201, job
    return job


def refused(server: Server, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            api_key: str | None = None) -> tuple[int, str, str, dict[str, str], dict[str, Any]]:
    """(HTTP status, code, reason, headers, body) of a request that must fail."""
    status, answer_headers, data = server.json(method, path, body, headers, api_key)
    assert status >= 400, (status, data)
    code, reason = error_of(data)
    return status, code, reason, answer_headers, data


def test_a_missing_or_wrong_key_is_401_with_www_authenticate(keyed_server: Server, keyring: Keyring) -> None:
    real = keyring["acme-reader"]
    wrong = real[:-1] + ("1" if real.endswith("0") else "0")
    job = create(keyed_server, keyring["acme-client"])
    for key in (None, "", "jwk_not-a-key", wrong):
        for method, path in (("GET", "/v1/jobs"), ("GET", f"/v1/jobs/{job['job_id']}"), ("POST", "/v1/jobs"),
                             ("GET", f"/v1/jobs/{job['job_id']}/events"), ("GET", "/v1/events"),
                             ("GET", "/v1/health"), ("POST", "/v1/stream-tokens")):
            status, code, reason, headers, _ = refused(keyed_server, method, path,
                                                       {"type": "t"} if method == "POST" else None, api_key=key)
            assert (status, code, reason) == (401, "UNAUTHENTICATED", "INVALID_API_KEY"), (key, method, path)
            assert headers["www-authenticate"].lower().startswith("bearer"), headers
    status, _, _ = keyed_server.json("GET", "/v1/jobs", headers={"Authorization": f"Basic {real}"})
    assert status == 401, "only the Bearer scheme carries a key"


def test_x_api_key_works_like_bearer(keyed_server: Server, keyring: Keyring) -> None:
    status, _, job = keyed_server.json("POST", "/v1/jobs", {"type": "t"},
                                       headers={"X-API-Key": keyring["acme-client"]})
    assert status == 201 and job["tenant"] == "acme"
    status, _, body = keyed_server.json("GET", f"/v1/jobs/{job['job_id']}",
                                        headers={"X-API-Key": keyring["acme-reader"]})
    assert status == 200 and body == job
    status, _, _ = keyed_server.json("GET", "/v1/jobs", headers={"Authorization": f"bearer {keyring['acme-reader']}"})
    assert status == 200, "the scheme's case does not matter"


def test_a_key_in_the_url_is_refused_even_beside_a_good_one(keyed_server: Server, keyring: Keyring) -> None:
    key = keyring["acme-reader"]
    for path in (f"/v1/jobs?api_key={key}", f"/v1/health?apiKey={key}", f"/v1/events?api_key={key}"):
        for api_key in (None, key):
            status, code, reason, _, _ = refused(keyed_server, "GET", path, api_key=api_key)
            assert (status, code, reason) == (400, "INVALID_ARGUMENT", "API_KEY_IN_URL"), (path, api_key)


def test_roles_allow_exactly_their_calls(keyed_server: Server, keyring: Keyring) -> None:
    reader, client, worker = keyring["acme-reader"], keyring["acme-client"], keyring["acme-worker"]
    job = create(keyed_server, client)
    path = f"/v1/jobs/{job['job_id']}"
    denied = [(reader, "POST", "/v1/jobs", {"type": "t"}), (reader, "PATCH", path, {"progress": 1.0}),
              (reader, "DELETE", path, None), (reader, "POST", f"{path}:cancel", None),
              (reader, "POST", f"{path}:setPriority", {"priority": 1}), (client, "PATCH", path, {"progress": 1.0})]
    for key, method, target, body in denied:
        status, code, reason, _, _ = refused(keyed_server, method, target, body, api_key=key)
        assert (status, code, reason) == (403, "PERMISSION_DENIED", "PERMISSION_DENIED"), (method, target)
    status, _, body = keyed_server.json("GET", path, api_key=reader)
    assert status == 200 and body == job, "a refused call changed nothing"
    status, _, running = keyed_server.json("PATCH", path, {"status": "running", "progress": 5.0}, api_key=worker)
    assert status == 200 and (running["status"], running["progress"]) == ("running", 5.0)
    status, _, page = keyed_server.json("GET", "/v1/jobs", api_key=reader)
    assert status == 200 and [found["job_id"] for found in page["jobs"]] == [job["job_id"]]
    status, _, stats = keyed_server.json("GET", "/v1/stats", api_key=reader)
    assert status == 200 and stats["jobs"] == {"running": 1} and stats["connections"] == 0, "no server-wide figures"


def test_another_tenants_job_answers_exactly_like_an_unknown_id(keyed_server: Server, keyring: Keyring) -> None:
    job = create(keyed_server, keyring["acme-worker"], {"type": "secret"})
    globex = keyring["globex-worker"]
    calls: list[tuple[str, str, Any]] = [("GET", "", None), ("PATCH", "", {"progress": 1.0}), ("DELETE", "", None),
                                         ("POST", ":cancel", None), ("POST", ":setPriority", {"priority": 2}),
                                         ("POST", ":retry", None), ("GET", "/events", None)]
    for method, suffix, body in calls:
        other = keyed_server.json(method, f"/v1/jobs/{job['job_id']}{suffix}", body, api_key=globex)
        unknown = keyed_server.json(method, f"/v1/jobs/{UNKNOWN_ID}{suffix}", body, api_key=globex)
        assert other[0] == unknown[0] == 404, (method, suffix, other)
        assert error_of(other[2]) == ("NOT_FOUND", "JOB_NOT_FOUND"), (method, suffix)
        assert json.dumps(other[2]).replace(job["job_id"], "ID") == \
            json.dumps(unknown[2]).replace(UNKNOWN_ID, "ID"), (method, suffix)
    status, _, batch = keyed_server.json("POST", "/v1/jobs:batchGet", {"job_ids": [job["job_id"], UNKNOWN_ID]},
                                         api_key=globex)
    assert status == 200
    [mine, unknown_result] = batch["results"]
    assert "job" not in mine and json.dumps(mine["error"]).replace(job["job_id"], "ID") == \
        json.dumps(unknown_result["error"]).replace(UNKNOWN_ID, "ID")
    status, headers, page = keyed_server.json("GET", "/v1/jobs", api_key=globex)
    assert status == 200 and page["jobs"] == [] and page["total_count"] == 0 and headers["x-total-count"] == "0"
    status, _, body = keyed_server.json("GET", f"/v1/jobs/{job['job_id']}", api_key=keyring["acme-reader"])
    assert status == 200 and body == job, "the owner still sees it, unchanged"


def test_only_admin_keys_act_for_another_tenant(keyed_server: Server, keyring: Keyring) -> None:
    job = create(keyed_server, keyring["globex-worker"], {"type": "g"})
    other_tenant = {"X-JobWire-Tenant": "globex"}
    status, code, reason, _, _ = refused(keyed_server, "GET", f"/v1/jobs/{job['job_id']}", headers=other_tenant,
                                         api_key=keyring["acme-worker"])
    assert (status, reason) == (403, "PERMISSION_DENIED")
    status, _, body = keyed_server.json("GET", f"/v1/jobs/{job['job_id']}", headers=other_tenant,
                                        api_key=keyring["acme-admin"])
    assert status == 200 and body == job
    status, _, page = keyed_server.json("GET", "/v1/jobs", api_key=keyring["acme-admin"])
    assert status == 200 and page["jobs"] == [], "without the header an admin key works in its own tenant"


def test_stream_tokens_open_event_streams_and_nothing_else(keyed_server: Server, keyring: Keyring) -> None:
    worker = keyring["acme-worker"]
    job = create(keyed_server, worker)
    before = datetime.datetime.now(datetime.timezone.utc)
    status, headers, grant = keyed_server.json("POST", "/v1/stream-tokens", api_key=worker)
    assert status == 201, grant
    assert sorted(grant) == ["expires_at", "role", "tenant", "token"]
    assert (grant["tenant"], grant["role"]) == ("acme", "reader"), "read-only, whatever the key's role"
    expires = datetime.datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00"))
    assert before + datetime.timedelta(minutes=9) < expires < before + datetime.timedelta(minutes=11)
    token = grant["token"]

    stream = keyed_server.sse(f"/v1/jobs/{job['job_id']}/events?stream_token={token}")  # no key, no header
    assert stream.next()["data"]["job"] == job
    status, _, running = keyed_server.json("PATCH", f"/v1/jobs/{job['job_id']}", {"status": "running"}, api_key=worker)
    assert status == 200 and stream.next()["data"]["job"] == running
    watch_all = keyed_server.sse(f"/v1/events?stream_token={token}")
    assert watch_all.take(2)[0]["data"]["jobs"] == [running]

    for method, path, body in (("GET", f"/v1/jobs/{job['job_id']}", None), ("GET", "/v1/jobs", None),
                               ("PATCH", f"/v1/jobs/{job['job_id']}", {"progress": 1.0}),
                               ("POST", "/v1/jobs", {"type": "t"}), ("POST", "/v1/stream-tokens", None)):
        status, code, reason, _, _ = refused(keyed_server, method, f"{path}?stream_token={token}", body)
        assert (status, code, reason) == (403, "PERMISSION_DENIED", "PERMISSION_DENIED"), (method, path)

    status, code, reason, headers, _ = refused(keyed_server, "GET", f"/v1/jobs/{job['job_id']}/events?stream_token=jwst_bogus")
    assert (status, code, reason) == (401, "UNAUTHENTICATED", "INVALID_STREAM_TOKEN")
    other = create(keyed_server, keyring["globex-worker"])
    status, code, reason, _, _ = refused(keyed_server, "GET", f"/v1/jobs/{other['job_id']}/events?stream_token={token}")
    assert (status, reason) == (404, "JOB_NOT_FOUND"), "a token reads its own tenant only"
    status, code, reason, _, _ = refused(keyed_server, "POST", "/v1/stream-tokens")
    assert (status, reason) == (401, "INVALID_API_KEY"), "minting takes a key"


def test_a_revoked_keys_stream_tokens_stop_working(keyed_server: Server, keyring: Keyring) -> None:
    client = keyring["acme-client"]
    job = create(keyed_server, client)
    status, _, cancelled = keyed_server.json("POST", f"/v1/jobs/{job['job_id']}:cancel", api_key=client)
    assert status == 200
    status, _, grant = keyed_server.json("POST", "/v1/stream-tokens", api_key=client)
    assert status == 201
    path = f"/v1/jobs/{job['job_id']}/events?stream_token={grant['token']}"

    def answer() -> tuple[int, bytes]:
        # The job has ended, so a working token's stream is its snapshot and the response ends.
        status, _, body = keyed_server.http("GET", path)
        return status, body

    status, body = answer()
    assert status == 200 and b"event: snapshot" in body and cancelled["job_id"].encode() in body
    revoke_key(keyring.path, client)
    keyed_server.reload_keys()
    wait_for(lambda: answer()[0] == 401, what="the revoked key's token to be refused")
    status, _, body = keyed_server.json("GET", path)
    assert status == 401 and error_of(body) == ("UNAUTHENTICATED", "INVALID_STREAM_TOKEN")
    status, _, _ = keyed_server.json("GET", "/v1/jobs", api_key=client)
    assert status == 401, "and the key itself"
    status, _, _ = keyed_server.json("GET", "/v1/jobs", api_key=keyring["acme-reader"])
    assert status == 200, "other keys go on"


def test_open_streams_of_a_revoked_key_end_with_invalid_api_key(keyed_server: Server, keyring: Keyring) -> None:
    revoked, kept = keyring["acme-client"], keyring["acme-reader"]
    job = create(keyed_server, keyring["acme-worker"])
    status, _, grant = keyed_server.json("POST", "/v1/stream-tokens", api_key=revoked)
    assert status == 201
    by_header = keyed_server.sse(f"/v1/jobs/{job['job_id']}/events", api_key=revoked)
    by_token = keyed_server.sse(f"/v1/events?stream_token={grant['token']}")
    other = keyed_server.sse("/v1/events", api_key=kept)
    assert by_header.next()["event"] == "snapshot"
    assert [by_token.next()["event"], by_token.next()["event"]] == ["snapshot", "synced"]
    assert [other.next()["event"], other.next()["event"]] == ["snapshot", "synced"]

    revoke_key(keyring.path, revoked)
    keyed_server.reload_keys()
    for stream in (by_header, by_token):
        ending = stream.next()
        assert ending is not None and ending["event"] == "error", ending
        assert error_of(ending["data"]) == ("UNAUTHENTICATED", "INVALID_API_KEY")
        assert stream.next() is None and stream.ended, "the response ends after the error event"
    # A stream of a key that stays goes on: it sees the next change.
    status, _, _ = keyed_server.json("PATCH", f"/v1/jobs/{job['job_id']}", {"progress": 5},
                                     api_key=keyring["acme-worker"])
    assert status == 200
    assert other.next()["event"] == "changed"


def test_rate_limited_calls_are_429_with_retry_after(start_server: StartServer) -> None:
    server = start_server("--tenant-rate-limit", "2/2")
    assert server.json("GET", "/v1/health")[0] == 200
    assert server.json("GET", "/v1/health")[0] == 200
    status, code, reason, headers, body = refused(server, "GET", "/v1/health")
    assert (status, code, reason) == (429, "RESOURCE_EXHAUSTED", "RATE_LIMITED")
    assert int(headers["retry-after"]) >= 1 and 0 < body["error"]["retry_after_ms"] <= 1000


# CORS.

def preflight(server: Server, origin: str, method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    return server.http("OPTIONS", "/v1/jobs", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})


def test_cors_allows_the_configured_origins_only(start_server: StartServer, keyring: Keyring) -> None:
    server = start_server("--http-cors-origin", ORIGIN, "--http-cors-origin", "https://admin.example",
                          keys=keyring.path)
    for origin in (ORIGIN, "https://admin.example"):
        status, headers, body = preflight(server, origin)
        assert (status, body) == (204, b""), "no key needed: browsers send none with a preflight"
        assert headers["access-control-allow-origin"] == origin
        allowed = {name.strip() for name in headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key", "last-event-id", "if-match"} <= allowed
        assert "POST" in headers["access-control-allow-methods"] and "PATCH" in headers["access-control-allow-methods"]
    status, headers, _ = preflight(server, "https://evil.example")
    assert "access-control-allow-origin" not in headers and "access-control-allow-headers" not in headers

    reader = keyring["acme-reader"]
    job = create(server, keyring["acme-client"])
    status, headers, _ = server.http("GET", f"/v1/jobs/{job['job_id']}", headers={"Origin": ORIGIN}, api_key=reader)
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in headers["access-control-expose-headers"] and "Origin" in headers["vary"]
    status, headers, _ = server.http("GET", f"/v1/jobs/{job['job_id']}", headers={"Origin": "https://evil.example"},
                                     api_key=reader)
    assert status == 200 and "access-control-allow-origin" not in headers, "answered; the browser hides it"
    status, headers, _ = server.http("GET", "/v1/jobs", headers={"Origin": ORIGIN})
    assert status == 401 and headers["access-control-allow-origin"] == ORIGIN, "errors are readable by the page too"
    stream = server.sse(f"/v1/jobs/{job['job_id']}/events", headers={"Origin": ORIGIN}, api_key=reader)
    assert stream.headers["access-control-allow-origin"] == ORIGIN


def test_without_the_flag_no_origin_is_allowed(server: Server) -> None:
    status, headers, _ = preflight(server, ORIGIN)
    assert "access-control-allow-origin" not in headers
    status, headers, _ = server.http("GET", "/v1/jobs", headers={"Origin": ORIGIN})
    assert status == 200 and "access-control-allow-origin" not in headers


#: Every /v1 call with the least role that may make it (Role.required(for:), docs/SECURITY.md "Roles").
ROLE_RANK = {"reader": 0, "client": 1, "worker": 2, "admin": 3}


def test_the_role_by_route_matrix(keyed_server: Server, keyring: Keyring) -> None:
    """Each role against each route: refused with 403 PERMISSION_DENIED exactly below the route's least role, and
    never refused for its role above it (the answer is then the call's own)."""
    owner = keyring["acme-admin"]
    for role in ROLE_RANK:
        key = keyring[f"acme-{role}"]
        job = create(keyed_server, owner)
        failed = create(keyed_server, owner)
        status, _, _ = keyed_server.json("POST", f"/v1/jobs/{failed['job_id']}:cancel", None, api_key=owner)
        assert status == 200
        path, failed_path = f"/v1/jobs/{job['job_id']}", f"/v1/jobs/{failed['job_id']}"
        routes: list[tuple[str, str, str, Any]] = [
            ("reader", "GET", "/v1/jobs", None), ("reader", "GET", path, None),
            ("reader", "POST", "/v1/jobs:batchGet", {"job_ids": [job["job_id"]]}),
            ("reader", "GET", "/v1/health", None), ("reader", "GET", "/v1/health/detailed", None),
            ("reader", "GET", "/v1/stats", None), ("reader", "GET", "/v1/usage", None),
            ("client", "POST", "/v1/jobs", {"type": "matrix"}),
            ("client", "POST", f"{path}:setPriority", {"priority": 3}),
            ("client", "POST", f"{failed_path}:retry", None),
            ("worker", "PATCH", path, {"status": "running", "progress": 1.0}),
            ("client", "POST", f"{path}:cancel", None),
            ("client", "DELETE", path, None),
        ]
        for least, method, target, body in routes:
            status, _, answer = keyed_server.json(method, target, body, api_key=key)
            if ROLE_RANK[role] < ROLE_RANK[least]:
                assert status == 403 and error_of(answer) == ("PERMISSION_DENIED", "PERMISSION_DENIED"), \
                    (role, method, target, status, answer)
            else:
                assert 200 <= status < 300, (role, method, target, status, answer)
        for target in (f"/v1/jobs/{failed['job_id']}/events", "/v1/events"):
            stream = keyed_server.sse(target, api_key=key)
            assert stream.status == 200, (role, target)
            stream.close()
