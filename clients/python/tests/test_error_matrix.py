"""One error matrix, run against the Python client and the Swift client (through the ``jobwire`` CLI, which is
built on it): for each scenario both must fail with the same code and reason (and, for errors the server sends,
the same message), and both must fail at once where the failure is final.

A disagreement between the clients is a bug in one of them: docs/PROTOCOL.md ("What a client retries") is the
rule both follow.
"""
from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import jobwire
from conftest import Keyring, StartServer
from helpers import Server, run_cli
from jobwire import JobSpec, JobStatus, Reason, StatusCode

#: Long enough that a client which waited for it instead of failing at once is caught.
PATIENT = 30.0
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_KEY = "jwk_0123456789abcdef_0123456789abcdef0123456789abcdef"


@dataclass
class Setup:
    """What a scenario runs against: a port, the key to use, a job id, and a Python client made the same way."""
    port: int
    key: str | None
    job_id: str
    python: jobwire.Client
    timeout: float = PATIENT


@dataclass
class Scenario:
    name: str
    code: StatusCode
    reason: str
    #: Sets up the server and returns the setup.
    arrange: Callable[[StartServer, Keyring], Setup]
    #: The CLI's arguments (before the global options), with {job} for the job id.
    cli: list[str]
    #: The same call through the Python client.
    call: Callable[[jobwire.Client, str], object]
    #: Whether the failure is final, so both clients must report it well before their deadline.
    immediate: bool = True


def dev_server(start_server: StartServer, _: Keyring, *flags: str) -> tuple[Server, str]:
    server = start_server(*flags)
    return server, server.client().configure(JobSpec(type="t")).job.job_id


def plain(start_server: StartServer, keyring: Keyring) -> Setup:
    server, job_id = dev_server(start_server, keyring)
    return Setup(server.port, None, job_id, server.client(timeout=PATIENT))


def cancelled_job(start_server: StartServer, keyring: Keyring) -> Setup:
    setup = plain(start_server, keyring)
    setup.python.cancel(setup.job_id)
    return setup


def deleted_job(start_server: StartServer, keyring: Keyring) -> Setup:
    setup = plain(start_server, keyring)
    setup.python.delete(setup.job_id)
    return setup


def expired_job(start_server: StartServer, keyring: Keyring) -> Setup:
    server, job_id = dev_server(start_server, keyring, "--retention", "1s", "--reaper-interval", "100ms")
    client = server.client(timeout=PATIENT)
    client.cancel(job_id)
    time.sleep(1.3)
    return Setup(server.port, None, job_id, client)


def keyed(key_name: str | None, *, key: str | None = None) -> Callable[[StartServer, Keyring], Setup]:
    def arrange(start_server: StartServer, keyring: Keyring) -> Setup:
        server = start_server(keys=keyring.path)
        job_id = server.client(keyring["acme-client"]).configure(JobSpec(type="t")).job.job_id
        chosen = keyring[key_name] if key_name is not None else key
        return Setup(server.port, chosen, job_id, server.client(chosen, timeout=PATIENT))
    return arrange


def no_server(_: StartServer, __: Keyring) -> Setup:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Setup(port, None, UNKNOWN_ID, jobwire.Client("127.0.0.1", port, timeout=0.5), timeout=0.5)


def full_server(start_server: StartServer, _: Keyring) -> Setup:
    server = start_server("--max-connections", "1")
    holder = server.client()
    job_id = holder.configure(JobSpec(type="t")).job.job_id
    return Setup(server.port, None, job_id, server.client(timeout=PATIENT))


def rate_limited(start_server: StartServer, _: Keyring) -> Setup:
    # One call per 100 s after a burst of one: the first call of each client after setup must wait far longer
    # than its deadline, so both report the refusal instead of waiting it out. The deadline is long (10 s) so
    # that "at once" (under half of it) and "at the deadline" stay far apart even for a CLI binary that takes a
    # second to start (the ThreadSanitizer build does).
    server = start_server("--tenant-rate-limit", "0.01/1")
    job_id = server.client().configure(JobSpec(type="t")).job.job_id
    return Setup(server.port, None, job_id, server.client(timeout=10.0), timeout=10.0)


SCENARIOS = [
    Scenario("unknown job", StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND, plain,
             ["get", UNKNOWN_ID], lambda c, _: c.get_metadata(UNKNOWN_ID)),
    Scenario("malformed id", StatusCode.INVALID_ARGUMENT, Reason.INVALID_JOB_ID, plain,
             ["cancel", "not-a-uuid"], lambda c, _: c.cancel("not-a-uuid")),
    Scenario("illegal transition", StatusCode.FAILED_PRECONDITION, Reason.ILLEGAL_TRANSITION, plain,
             ["update", "{job}", "--status", "completed"], lambda c, j: c.update(j, status=JobStatus.COMPLETED)),
    Scenario("terminal job", StatusCode.FAILED_PRECONDITION, Reason.JOB_TERMINAL, cancelled_job,
             ["update", "{job}", "--progress", "5"], lambda c, j: c.update(j, progress=5)),
    Scenario("out of range", StatusCode.INVALID_ARGUMENT, Reason.VALUE_OUT_OF_RANGE, plain,
             ["update", "{job}", "--progress", "101"], lambda c, j: c.update(j, progress=101)),
    Scenario("deleted job", StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND, deleted_job,
             ["get", "{job}"], lambda c, j: c.get_metadata(j)),
    Scenario("expired job", StatusCode.NOT_FOUND, Reason.EXPIRED, expired_job,
             ["get", "{job}"], lambda c, j: c.get_metadata(j)),
    Scenario("watch of an unknown job", StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND, plain,
             ["watch", UNKNOWN_ID], lambda c, _: next(iter(c.watch(UNKNOWN_ID)))),
    Scenario("no key", StatusCode.UNAUTHENTICATED, Reason.INVALID_API_KEY, keyed(None),
             ["health"], lambda c, _: c.health()),
    Scenario("unknown key", StatusCode.UNAUTHENTICATED, Reason.INVALID_API_KEY, keyed(None, key=UNKNOWN_KEY),
             ["get", "{job}"], lambda c, j: c.get_metadata(j)),
    Scenario("role", StatusCode.PERMISSION_DENIED, Reason.PERMISSION_DENIED, keyed("acme-reader"),
             ["cancel", "{job}"], lambda c, j: c.cancel(j)),
    Scenario("another tenant's job", StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND, keyed("globex-worker"),
             ["get", "{job}"], lambda c, j: c.get_metadata(j)),
    Scenario("no server", StatusCode.DEADLINE_EXCEEDED, Reason.CONNECT_FAILED, no_server,
             ["health"], lambda c, _: c.health(), immediate=False),
    Scenario("connection limit", StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_CONNECTIONS, full_server,
             ["health"], lambda c, _: c.health()),
    Scenario("rate limit", StatusCode.RESOURCE_EXHAUSTED, Reason.RATE_LIMITED, rate_limited,
             ["get", "{job}"], lambda c, j: c.get_metadata(j)),
]

ERROR_LINE = re.compile(r"^error: ([A-Z_]+) \(([A-Z_]*)\): (.*)$")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_both_clients_report_the_same_error(scenario: Scenario, start_server: StartServer,
                                            keyring: Keyring) -> None:
    setup = scenario.arrange(start_server, keyring)
    arguments = [argument.replace("{job}", setup.job_id) for argument in scenario.cli]
    arguments += ["--timeout", f"{int(setup.timeout * 1000)}ms"]

    started = time.monotonic()
    swift = run_cli(*arguments, port=setup.port, api_key=setup.key or "", check=False)
    swift_elapsed = time.monotonic() - started
    match = ERROR_LINE.match(swift.stderr.strip().splitlines()[-1] if swift.stderr.strip() else "")
    assert match is not None, f"no error line from the CLI: exit {swift.returncode}, stderr {swift.stderr!r}"
    swift_code, swift_reason, swift_message = match.groups()

    started = time.monotonic()
    with pytest.raises(jobwire.JobWireError) as caught:
        scenario.call(setup.python, setup.job_id)
    python_elapsed = time.monotonic() - started
    error = caught.value

    assert (error.code, error.reason) == (scenario.code, scenario.reason), f"Python: {error}"
    assert (swift_code, swift_reason) == (scenario.code.name, scenario.reason), f"Swift: {swift.stderr}"
    assert swift.returncode == 10 + int(scenario.code), "the CLI exits with 10 + the code"
    if scenario.code is not StatusCode.DEADLINE_EXCEEDED:
        assert swift_message == error.message, "the server's message, unchanged by either client"
    if scenario.immediate:
        assert swift_elapsed < setup.timeout / 2, f"the Swift client waited {swift_elapsed:.1f} s"
        assert python_elapsed < setup.timeout / 2, f"the Python client waited {python_elapsed:.1f} s"
    else:
        assert swift_elapsed >= setup.timeout and python_elapsed >= setup.timeout * 0.9
