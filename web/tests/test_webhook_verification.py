"""The verification code of docs/WEBHOOKS.md, run as written: the Python function here, the JavaScript function in
chromium. Both are checked against Standard Webhooks' own example (the one the Swift signer's tests use,
Tests/JobWireWebhooksTests), and against a changed body, another secret, a stale timestamp and another version."""
from __future__ import annotations

import pathlib
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from browser_support import dashboard_url
from helpers import Server

StartServer = Callable[..., Server]

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "WEBHOOKS.md"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
           "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
BODY = b'{"test": 2432232314}'
# The example is from 2021: a tolerance that reaches it, so that the signature itself is what is checked.
EVER = 10 ** 10


def code_block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.DOTALL)
    found = [block for block in blocks if marker in block]
    assert len(found) == 1, f"docs/WEBHOOKS.md has one {language} block with {marker!r}"
    return found[0]


def test_the_python_example_verifies_and_refuses() -> None:
    namespace: dict[str, object] = {}
    exec(code_block("python", "def verify_webhook"), namespace)  # noqa: S102 (the documentation's own code)
    verify = namespace["verify_webhook"]
    assert callable(verify)
    verify(SECRET, HEADERS, BODY, tolerance=EVER)
    verify(SECRET, {**HEADERS, "webhook-signature": "v2,AAAA " + HEADERS["webhook-signature"]}, BODY, tolerance=EVER)
    refusals = [
        (SECRET, HEADERS, b'{"test": 2432232315}', EVER, "no signature matches"),
        ("whsec_" + "A" * 32, HEADERS, BODY, EVER, "no signature matches"),
        (SECRET, {**HEADERS, "webhook-signature": "v2," + HEADERS["webhook-signature"][3:]}, BODY, EVER, "no signature"),
        (SECRET, HEADERS, BODY, 300, "too far from now"),
    ]
    for secret, headers, body, tolerance, message in refusals:
        with pytest.raises(ValueError, match=message):
            verify(secret, headers, body, tolerance=tolerance)


def test_the_javascript_example_verifies_and_refuses(page: Page, start_server: StartServer) -> None:
    server = start_server()
    page.goto(dashboard_url(server, "ui/jobwire.js"))  # Web Crypto needs a secure context: a loopback origin is one
    results = page.evaluate("""async ([source, secret, headers, body, ever]) => {
      const verifyWebhook = new Function(`${source}; return verifyWebhook;`)();
      const bytes = new TextEncoder().encode(body);
      const outcome = async (secret, headers, body, tolerance) => {
        try { await verifyWebhook(secret, new Headers(headers), body, tolerance); return "verified"; }
        catch (error) { return error.message; }
      };
      return [
        await outcome(secret, headers, bytes, ever),
        await outcome(secret, headers, bytes.buffer, ever),
        await outcome(secret, headers, new TextEncoder().encode(body.replace("4}", "5}")), ever),
        await outcome("whsec_" + "A".repeat(32), headers, bytes, ever),
        await outcome(secret, headers, bytes, 300),
      ];
    }""", [code_block("js", "async function verifyWebhook"), SECRET, HEADERS, BODY.decode(), EVER])
    assert results == ["verified", "verified", "no signature matches the secret", "no signature matches the secret",
                       "webhook-timestamp is too far from now"]
