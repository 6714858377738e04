"""The dashboard's files on the HTTP port: served from the binary with their types, entity tags and security headers,
refused for other methods and names, and gone with --no-dashboard (the browser tests in web/tests drive the page)."""
from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Callable

from helpers import Server
from http_helpers import error_of

StartServer = Callable[..., Server]

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_the_page_and_its_files_are_served_as_committed(server: Server) -> None:
    status, headers, body = server.http("GET", "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert body == (ROOT / "web" / "dashboard" / "index.html").read_bytes()
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-cache"
    for name, content_type, source in [("app.js", "text/javascript; charset=utf-8", "web/dashboard/app.js"),
                                       ("dashboard.css", "text/css; charset=utf-8", "web/dashboard/dashboard.css"),
                                       ("icon.svg", "image/svg+xml", "web/dashboard/icon.svg"),
                                       ("jobwire.js", "text/javascript; charset=utf-8", "clients/js/jobwire.js")]:
        status, headers, body = server.http("GET", f"/ui/{name}")
        committed = (ROOT / source).read_bytes()
        assert (status, headers["content-type"], body) == (200, content_type, committed), name
        assert headers["etag"] == f'"{hashlib.sha256(committed).hexdigest()[:16]}"', name
    # The view lives in the query: every query of / is the page.
    assert server.http("GET", "/?job=0b8f3c52-3a55-4c1a-9d35-1a54bcd0f2a4&status=running")[0] == 200
    status, headers, _ = server.http("GET", "/favicon.ico")
    assert (status, headers["content-type"]) == (200, "image/svg+xml")


def test_a_known_entity_tag_answers_304_and_head_has_no_body(server: Server) -> None:
    _, headers, body = server.http("GET", "/ui/app.js")
    status, again, rest = server.http("GET", "/ui/app.js", headers={"If-None-Match": f'"other", {headers["etag"]}'})
    assert (status, rest, again["etag"]) == (304, b"", headers["etag"])
    status, head, rest = server.http("HEAD", "/ui/app.js")
    assert (status, rest, head["content-length"]) == (200, b"", str(len(body)))


def test_other_names_and_methods_are_refused_in_the_api_error_shape(server: Server) -> None:
    for path in ("/ui/missing.js", "/ui/", "/ui/a/b.js", "/ui/..%2Fapp.js"):
        status, _, body = server.json("GET", path)
        assert (status, error_of(body)) == (404, ("NOT_FOUND", "ROUTE_NOT_FOUND")), path
    for method in ("POST", "DELETE", "PUT"):
        status, headers, body = server.json(method, "/")
        assert (status, error_of(body), headers["allow"]) == (405, ("UNIMPLEMENTED", "METHOD_NOT_ALLOWED"), "GET"), method


def test_the_files_need_no_key_but_carry_no_data(start_server: StartServer, keyring) -> None:  # noqa: ANN001
    server = start_server(keys=keyring.path)
    assert server.http("GET", "/")[0] == 200
    assert server.http("GET", "/ui/app.js")[0] == 200
    status, _, body = server.json("GET", "/v1/jobs")
    assert (status, error_of(body)[0]) == (401, "UNAUTHENTICATED"), "the data still needs a key"


def test_no_dashboard_turns_it_off_and_keeps_the_api(start_server: StartServer) -> None:
    server = start_server("--no-dashboard")
    for path in ("/", "/ui/app.js", "/favicon.ico"):
        status, _, body = server.json("GET", path)
        assert (status, error_of(body)) == (404, ("NOT_FOUND", "ROUTE_NOT_FOUND")), path
    assert server.json("GET", "/v1/health")[0] == 200
