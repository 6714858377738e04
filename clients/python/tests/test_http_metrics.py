"""`GET /metrics`: Prometheus' text format from a live server, checked by Debian's `promtool check metrics` and read
back value by value after known traffic (docs/OPERATIONS.md, "Metrics")."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

import pytest

from conftest import Keyring
from helpers import UNKNOWN_ID, Server, wait_for
from http_helpers import error_of
from jobwire import JobSpec, JobStatus, NotFound
from webhook_receiver import Receiver

StartServer = Callable[..., Server]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def scrape(server: Server, api_key: str | None = None) -> str:
    status, headers, body = server.http("GET", "/metrics", api_key=api_key)
    assert status == 200, body
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return body.decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by (name, labels)."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        found[(match.group(1), labels)] = float(match.group(4))
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def promtool_check(text: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make test` installs Debian's prometheus package (make test-deps)"
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    # promtool exits 0 when the format is right; lint remarks (naming advice) go to stderr with a non-zero status.
    assert checked.returncode == 0, f"promtool check metrics:\n{checked.stdout}{checked.stderr}"


def test_the_exposition_passes_promtool_and_counts_what_was_done(start_server: StartServer) -> None:
    receiver = Receiver()
    try:
        server = start_server("--webhooks-allow-private")
        client = server.client()
        status, _, endpoint = server.json("POST", "/v1/webhooks", {"url": receiver.url, "events": ["job.completed"]})
        assert status == 201, endpoint
        job = client.configure(JobSpec(type="encode")).job
        client.update(job.job_id, status=JobStatus.RUNNING)
        client.update(job.job_id, status=JobStatus.COMPLETED)
        for _ in range(5):
            client.get_metadata(job.job_id)
        with pytest.raises(NotFound):
            client.get_metadata(UNKNOWN_ID)
        assert server.json("GET", f"/v1/jobs/{job.job_id}")[0] == 200
        receiver.wait_for(1)
        wait_for(lambda: server.json("GET", "/v1/stats")[2]["webhooks"]["pending_messages"] == 0, what="the delivery settled")

        text = scrape(server)
        promtool_check(text)
        found = samples(text)
        assert value(found, "jobwire_build_info", version=client.health().server_version) == 1
        # Five GetMetadata over the binary port and one GET over HTTP succeeded, one failed.
        assert value(found, "jobwire_calls_total", method="GetMetadata", code="OK") == 6
        assert value(found, "jobwire_calls_total", method="GetMetadata", code="NOT_FOUND") == 1
        assert value(found, "jobwire_calls_total", method="UpdateJob", code="OK") == 2
        assert value(found, "jobwire_call_duration_seconds_count", method="GetMetadata") == 7
        assert value(found, "jobwire_call_duration_seconds_bucket", method="GetMetadata", le="+Inf") == 7
        buckets = sorted((float(dict(labels)["le"]), count) for (name, labels), count in found.items()
                         if name == "jobwire_call_duration_seconds_bucket" and ("method", "GetMetadata") in labels
                         and dict(labels)["le"] != "+Inf")
        assert [count for _, count in buckets] == sorted(count for _, count in buckets), "cumulative buckets"
        assert value(found, "jobwire_connections", port="binary") >= 1
        assert value(found, "jobwire_connections", port="http") >= 1, "this scrape's own connection"
        assert value(found, "jobwire_jobs") == 1
        assert value(found, "jobwire_store_up") == 1
        assert value(found, "jobwire_store_commits_total") >= 4
        assert value(found, "jobwire_store_commit_duration_seconds_count") == value(found, "jobwire_store_commits_total")
        assert value(found, "jobwire_webhook_attempts_total", outcome="delivered") == 1
        assert value(found, "jobwire_webhook_pending_messages") == 0
        assert value(found, "jobwire_webhook_endpoints", state="ok") == 1
        assert value(found, "jobwire_lease_expiries_total") == 0
    finally:
        receiver.close()


def test_watches_and_lease_expiries_are_counted(start_server: StartServer) -> None:
    server = start_server("--reaper-interval", "20ms")
    client = server.client()
    watched = client.configure(JobSpec(type="encode")).job
    watch = client.watch(watched.job_id)
    next(watch)
    wait_for(lambda: value(samples(scrape(server)), "jobwire_watches", kind="job") == 1, what="the watch counted")
    assert value(samples(scrape(server)), "jobwire_watches", kind="list") == 0
    watch.close()
    wait_for(lambda: value(samples(scrape(server)), "jobwire_watches", kind="job") == 0, what="the watch gone")

    leased = client.configure(JobSpec(type="encode"), lease=0.2).job
    client.update(leased.job_id, status=JobStatus.RUNNING)
    wait_for(lambda: client.get_metadata(leased.job_id).status is JobStatus.FAILED, what="the lease to run out")
    wait_for(lambda: value(samples(scrape(server)), "jobwire_lease_expiries_total") == 1, what="the expiry counted")


def test_with_keys_only_an_admin_key_may_scrape(start_server: StartServer, keyring: Keyring) -> None:
    server = start_server(keys=keyring.path)
    status, _, body = server.json("GET", "/metrics")
    assert (status, error_of(body)[1]) == (401, "INVALID_API_KEY")
    for role in ("reader", "client", "worker"):
        status, _, body = server.json("GET", "/metrics", api_key=keyring[f"acme-{role}"])
        assert (status, error_of(body)[1]) == (403, "PERMISSION_DENIED"), role
    promtool_check(scrape(server, keyring["acme-admin"]))
    status, headers, _ = server.http("POST", "/metrics", api_key=keyring["acme-admin"])
    assert status == 405 and headers["allow"] == "GET"
    status, _, body = server.json("GET", "/metrics?x=1", api_key=keyring["acme-admin"])
    assert (status, error_of(body)[1]) == (400, "INVALID_PARAMETER")


def test_the_documented_alert_rules_and_scrape_configuration_are_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """docs/OPERATIONS.md's alert rules pass `promtool check rules`; its scrape configuration `promtool check config`."""
    import pathlib
    operations = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "OPERATIONS.md").read_text()
    section = operations[operations.index("## Metrics"):]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(blocks) >= 2, "the scrape configuration and the alert rules"
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make test` installs Debian's prometheus package (make test-deps)"
    rules = tmp_path / "jobwire.rules.yml"
    rules.write_text(blocks[1])
    checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (tmp_path / "jobwire.key").write_text("jwk_example")
    config = tmp_path / "prometheus.yml"
    config.write_text(blocks[0].replace("/etc/prometheus/jobwire.key", str(tmp_path / "jobwire.key"))
                      + f"rule_files: [{rules}]\n")
    checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
