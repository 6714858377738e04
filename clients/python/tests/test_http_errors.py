"""The HTTP front end's error answers against the real server: each bad request gets its status and the error JSON,
and a request after it still works.
"""
from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import pytest

from helpers import UNKNOWN_ID, Server, error_of
from http_api_support import create, failure, get, health_still_works, listed_ids


# Errors: each answered with the error JSON, and the server goes on serving.

MALFORMED_BODIES: list[tuple[str, str, bytes | dict[str, Any], int, str, str]] = [
    # (method, path ("ID": a job's id), body, HTTP status, reason, a word the message must hold)
    ("POST", "/v1/jobs", b"{not json", 400, "MALFORMED_MESSAGE", "JSON"),
    ("POST", "/v1/jobs", b"[1, 2]", 400, "MALFORMED_MESSAGE", "object"),
    ("POST", "/v1/jobs", {"type": "t", "colour": "red"}, 400, "FIELD_NOT_ALLOWED", "colour"),
    ("POST", "/v1/jobs", {"type": 5}, 400, "MALFORMED_MESSAGE", "type"),
    ("POST", "/v1/jobs", {"labels": {"site": 1}}, 400, "MALFORMED_MESSAGE", "labels"),
    ("POST", "/v1/jobs", {"frequencies_list": [1, "2"]}, 400, "MALFORMED_MESSAGE", "frequencies_list"),
    ("POST", "/v1/jobs", {"channel_to_stream_index": {"one": 0}}, 400, "MALFORMED_MESSAGE", "channel_to_stream_index"),
    ("POST", "/v1/jobs", {"metadata": {"dx": 1, "depth": 2}}, 400, "FIELD_NOT_ALLOWED", "metadata.depth"),
    ("POST", "/v1/jobs", {"priority": 2 ** 40}, 400, "VALUE_OUT_OF_RANGE", "priority"),
    ("POST", "/v1/jobs", {"priority": 1.5}, 400, "MALFORMED_MESSAGE", "priority"),
    ("PATCH", "/v1/jobs/ID", {"progress": "half"}, 400, "MALFORMED_MESSAGE", "progress"),
    ("PATCH", "/v1/jobs/ID", {"status": "done"}, 400, "INVALID_ENUM_VALUE", "status"),
    ("PATCH", "/v1/jobs/ID", {"error": {"message": "x", "colour": 1}}, 400, "FIELD_NOT_ALLOWED", "error.colour"),
    ("PATCH", "/v1/jobs/ID", {"log_lines": "one"}, 400, "MALFORMED_MESSAGE", "log_lines"),
    ("PATCH", "/v1/jobs/ID", {"lease_ttl_ms": -1}, 400, "VALUE_OUT_OF_RANGE", "lease_ttl_ms"),
    ("PATCH", "/v1/jobs/ID", {"result": {"content_type": "text/plain", "data": {"a": 1}}}, 400, "MALFORMED_MESSAGE",
     "result.data"),
    ("PATCH", "/v1/jobs/ID", {"result": {"data_base64": "%%%"}}, 400, "MALFORMED_MESSAGE", "base64"),
]


@pytest.mark.parametrize("case", MALFORMED_BODIES, ids=lambda case: f"{case[0]}-{case[4]}-{case[5]}")
def test_a_bad_body_is_400_naming_what_is_wrong(server: Server, case: tuple[Any, ...]) -> None:
    method, path, body, expected_status, expected_reason, word = case
    job = create(server)
    path = path.replace("ID", job["job_id"])
    headers = {"Content-Type": "application/json"}
    status, code, reason, message = failure(server, method, path, body, headers)
    assert (status, code, reason) == (expected_status, "INVALID_ARGUMENT", expected_reason), message
    assert word in message, message
    assert get(server, job["job_id"]) == job, "nothing changed"
    assert len(listed_ids(server, "")) == 1, "nothing created"
    health_still_works(server)


def test_a_body_that_is_not_json_is_415_and_a_missing_one_400(server: Server) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx"):
        status, code, reason, _ = failure(server, "POST", "/v1/jobs", b'{"type": "t"}',
                                          {"Content-Type": content_type})
        assert (status, reason) == (415, "UNSUPPORTED_MEDIA_TYPE"), content_type
    status, code, reason, _ = failure(server, "POST", "/v1/jobs", b'{"type": "t"}', {})
    assert (status, reason) == (415, "UNSUPPORTED_MEDIA_TYPE"), "no content type at all"
    status, _, job = server.json("POST", "/v1/jobs", b'{"type": "t"}',
                                 {"Content-Type": "Application/JSON; charset=utf-8"})
    assert status == 201, "parameters and case do not matter"
    status, code, reason, _ = failure(server, "POST", "/v1/jobs")
    assert (status, code, reason) == (400, "INVALID_ARGUMENT", "MISSING_FIELD")
    health_still_works(server)


def test_a_body_over_the_limit_is_413_and_the_connection_closes(server: Server) -> None:
    size = (1 << 20) + 1
    status, headers, body = server.raw_http(
        f"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        .encode())
    assert status == 413, body
    assert error_of(json.loads(body)) == ("INVALID_ARGUMENT", "MESSAGE_TOO_LARGE")
    assert headers.get("connection", "").lower() == "close"
    # A body of exactly the limit is read (and refused for what it is, not for its size).
    exact = b'{"type": "' + b"x" * ((1 << 20) - 12) + b'"}'
    assert len(exact) == 1 << 20
    status, code, reason, _ = failure(server, "POST", "/v1/jobs", exact, {"Content-Type": "application/json"})
    assert status == 400 and reason != "MESSAGE_TOO_LARGE"
    health_still_works(server)


@pytest.mark.parametrize("method,suffix", [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", ":cancel"),
                                           ("POST", ":retry"), ("POST", ":setPriority"), ("GET", "/events")])
def test_a_malformed_job_id_is_400_invalid_job_id(server: Server, method: str, suffix: str) -> None:
    body = {"priority": 1} if suffix == ":setPriority" else {"progress": 1.0} if method == "PATCH" else None
    for bad in ("not-a-uuid", "00000000-0000-4000-8000-00000000000g", "0" * 36):
        status, code, reason, message = failure(server, method, f"/v1/jobs/{bad}{suffix}", body)
        assert (status, code, reason) == (400, "INVALID_ARGUMENT", "INVALID_JOB_ID"), (bad, message)
    health_still_works(server)


def test_an_upper_case_job_id_names_the_same_job(server: Server) -> None:
    job = create(server)
    status, _, body = server.json("GET", f"/v1/jobs/{job['job_id'].upper()}")
    assert status == 200 and body["job_id"] == job["job_id"], "ids are canonical lower-case UUIDs, as on the binary port"


def test_unknown_routes_are_404_and_wrong_methods_405_with_allow(server: Server) -> None:
    job = create(server)
    for path in ("/v1/nothing", "/v1", "/nothing", "/v2/jobs", f"/v1/jobs/{job['job_id']}/logs", "/v1/jobs:batchDelete"):
        status, code, reason, _ = failure(server, "GET", path)
        assert (status, code, reason) == (404, "NOT_FOUND", "ROUTE_NOT_FOUND"), path
    cases = [("PUT", "/v1/jobs", "GET, POST"), ("DELETE", "/v1/jobs", "GET, POST"),
             ("GET", "/v1/jobs:batchGet", "POST"), ("PUT", f"/v1/jobs/{job['job_id']}", "GET, PATCH, DELETE"),
             ("GET", f"/v1/jobs/{job['job_id']}:cancel", "POST"), ("POST", "/v1/health", "GET"),
             ("DELETE", "/v1/stats", "GET"), ("POST", "/v1/openapi.json", "GET"),
             ("POST", f"/v1/jobs/{job['job_id']}/events", "GET"), ("GET", "/v1/stream-tokens", "POST")]
    for method, path, allowed in cases:
        status, headers, body = server.json(method, path)
        assert status == 405, (method, path, body)
        assert error_of(body)[1] == "METHOD_NOT_ALLOWED"
        assert headers["allow"] == allowed, (method, path)
    health_still_works(server)


def test_unknown_query_parameters_are_400_naming_them(server: Server) -> None:
    job = create(server)
    for path in ("/v1/jobs?colour=red", f"/v1/jobs/{job['job_id']}?colour=red", "/v1/stats?colour=red",
                 "/v1/usage?colour=red", f"/v1/jobs/{job['job_id']}/events?colour=red", "/v1/events?colour=red",
                 "/v1/events?order_by=priority", "/v1/jobs?status=running&statuses=running"):
        status, code, reason, message = failure(server, "GET", path)
        assert (status, code, reason) == (400, "INVALID_ARGUMENT", "INVALID_PARAMETER"), path
        assert "colour" in message or "order_by" in message or "statuses" in message, message
    health_still_works(server)


def test_headers_over_16_kib_are_431(server: Server) -> None:
    status, headers, body = server.raw_http(
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * (17 * 1024) + b"\r\n\r\n")
    assert status == 431, body
    assert error_of(json.loads(body))[1] == "HEADERS_TOO_LARGE"
    many = b"".join(b"X-Field-%d: 1\r\n" % n for n in range(150))
    status, _, body = server.raw_http(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status == 431, "more than 100 header fields"
    health_still_works(server)


@pytest.mark.parametrize("garbage", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40) + b"\r\n\r\n",
                                     b"HELLO THERE\r\n\r\n", b"GET /v1/health HTTP/9.9\r\n\r\n",
                                     b"GET /v1/health HTTP/1.1\r\nno colon here\r\n\r\n"],
                         ids=["tls", "words", "version", "header"])
def test_bytes_that_are_not_http_are_400_malformed_request(server: Server, garbage: bytes) -> None:
    status, headers, body = server.raw_http(garbage)
    assert status == 400, body
    assert error_of(json.loads(body)) == ("INVALID_ARGUMENT", "MALFORMED_REQUEST")
    health_still_works(server)


def test_an_error_leaves_a_keep_alive_connection_usable(server: Server) -> None:
    job = create(server)
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    try:
        for path, expected in ((f"/v1/jobs/{UNKNOWN_ID}", 404), ("/v1/jobs?colour=red", 400),
                               ("/v1/nothing", 404), (f"/v1/jobs/{job['job_id']}", 200)):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == expected, path
        connection.request("PATCH", f"/v1/jobs/{job['job_id']}", body=b"{", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 400
        connection.request("GET", f"/v1/jobs/{job['job_id']}")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["job_id"] == job["job_id"]
    finally:
        connection.close()


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    job = create(server)
    sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
    reader = sock.makefile("rb")

    class Unclosed:
        """The one buffered reader of the three answers; each HTTPResponse closes its reader when done."""

        def __getattr__(self, name: str) -> Any:
            return getattr(reader, name)

        def close(self) -> None:
            pass

    class Shared:
        def makefile(self, *_: Any) -> Any:
            return Unclosed()

    try:
        request = f"GET /v1/jobs/{job['job_id']} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        unknown = f"GET /v1/jobs/{UNKNOWN_ID} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        sock.sendall(request + unknown + request)
        answers: list[tuple[int, Any]] = []
        for _ in range(3):
            response = http.client.HTTPResponse(Shared(), method="GET")  # type: ignore[arg-type]
            response.begin()
            answers.append((response.status, json.loads(response.read())))
        assert [status for status, _ in answers] == [200, 404, 200]
        assert answers[0][1] == answers[2][1] == job and error_of(answers[1][1])[1] == "JOB_NOT_FOUND"
    finally:
        reader.close()
        sock.close()
