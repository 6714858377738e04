"""TLS on both ports (docs/SECURITY.md, "TLS"), with throwaway CAs made by `openssl` at test time: HTTPS and the
binary protocol (the sync and asyncio clients) with the CA file, mutual TLS refusing clients without a certificate
or with one from another CA or an expired one, a certificate reloaded on SIGHUP while connections stay up, and
garbage or stalled handshakes dropped while others are served."""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
import pathlib
import socket
import ssl
import subprocess
from collections.abc import Callable

import pytest

import jobwire
from helpers import Server, binary, run_cli, wait_for
from jobwire import JobSpec, JobStatus
from tls_certs import Authority, Pair

StartServer = Callable[..., Server]


@pytest.fixture
def authority(tmp_path: pathlib.Path) -> Authority:
    return Authority(tmp_path / "ca", "JobWire Test CA")


def tls_flags(pair: Pair, client_ca: pathlib.Path | None = None) -> tuple[str, ...]:
    flags = ("--tls-cert", str(pair.certificate), "--tls-key", str(pair.key))
    return flags + (("--tls-client-ca", str(client_ca)) if client_ca else ())


def context(ca: pathlib.Path, client: Pair | None = None) -> ssl.SSLContext:
    made = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        made.load_cert_chain(str(client.certificate), str(client.key))
    return made


def https(server: Server, tls: ssl.SSLContext, path: str = "/v1/health",
          connection: http.client.HTTPSConnection | None = None) -> tuple[int, dict, str]:
    """One request (on `connection` when given, else a fresh one to 127.0.0.1): status, JSON body, peer's CN."""
    owned = connection is None
    connection = connection or http.client.HTTPSConnection("127.0.0.1", server.http_port, context=tls, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert connection.sock is not None
        peer = dict(field[0] for field in connection.sock.getpeercert()["subject"])
        return response.status, body, peer["commonName"]
    finally:
        if owned:
            connection.close()


def refused(server: Server, tls: ssl.SSLContext) -> BaseException:
    """What a request that the server refuses at the TLS layer raises (TLS 1.3 may report it at the first read)."""
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)) as caught:
        https(server, tls)
    return caught.value


def test_https_with_the_ca_file_and_nothing_in_plaintext(start_server: StartServer, authority: Authority) -> None:
    server = start_server(*tls_flags(authority.issue("jobwired", server=True)))
    status, body, peer = https(server, context(authority.certificate))
    assert (status, body["status"], peer) == (200, "serving", "jobwired")
    connection = http.client.HTTPSConnection("127.0.0.1", server.http_port, context=context(authority.certificate))
    connection.request("GET", "/v1/health")
    connection.getresponse().read()
    assert connection.sock is not None and connection.sock.version() in ("TLSv1.2", "TLSv1.3")
    connection.close()
    # Plain HTTP to the TLS port gets no HTTP answer.
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as plain:
        plain.sendall(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n")
        assert not plain.recv(4096).startswith(b"HTTP/1.1 200")
    # A client that trusts another CA refuses the server.
    other = Authority(authority.directory.parent / "other", "Another CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        https(server, context(other.certificate))
    # TLS 1.2 is accepted and TLS 1.1 is not, asked by openssl with its own floor lowered (SECLEVEL=0), so that the
    # refusal is the server's.
    def handshake(version: str) -> bool:
        finished = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.http_port}", version,
                                   "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", str(authority.certificate)],
                                  input="", capture_output=True, text=True, timeout=30)
        return finished.returncode == 0 and "Verify return code: 0 (ok)" in finished.stdout
    assert handshake("-tls1_2")
    assert not handshake("-tls1_1")
    # The server still serves after all of that.
    assert https(server, context(authority.certificate))[0] == 200


def test_mutual_tls_refuses_every_client_without_a_good_certificate(start_server: StartServer,
                                                                    authority: Authority) -> None:
    clients = Authority(authority.directory.parent / "clients", "JobWire Clients CA")
    server = start_server(*tls_flags(authority.issue("jobwired", server=True), client_ca=clients.certificate))
    good = clients.issue("worker-1")
    assert https(server, context(authority.certificate, good))[0] == 200
    refused(server, context(authority.certificate))
    stranger = Authority(authority.directory.parent / "stranger", "Stranger CA").issue("intruder")
    refused(server, context(authority.certificate, stranger))
    refused(server, context(authority.certificate, clients.issue("retired", expired=True)))
    assert https(server, context(authority.certificate, good))[0] == 200, "refusals cost the others nothing"


def test_sighup_reloads_the_certificate_and_open_connections_keep_going(start_server: StartServer,
                                                                        authority: Authority) -> None:
    first = authority.issue("jobwired-2026", server=True)
    live = pathlib.Path(authority.directory / "live")
    live.mkdir()
    served = Pair(live / "cert.pem", live / "key.pem")
    served.certificate.write_bytes(first.certificate.read_bytes())
    served.key.write_bytes(first.key.read_bytes())
    server = start_server(*tls_flags(served))
    tls = context(authority.certificate)
    kept = http.client.HTTPSConnection("127.0.0.1", server.http_port, context=tls, timeout=10)
    assert https(server, tls, connection=kept)[2] == "jobwired-2026"

    second = authority.issue("jobwired-2027", server=True)
    served.certificate.write_bytes(second.certificate.read_bytes())
    served.key.write_bytes(second.key.read_bytes())
    server.reload_keys()  # SIGHUP
    # A new connection gets the new certificate once the signal is handled.
    wait_for(lambda: https(server, tls)[2] == "jobwired-2027", what="the new certificate")
    status, _, peer = https(server, tls, connection=kept)
    assert (status, peer) == (200, "jobwired-2026"), "the open connection goes on with the certificate it began with"

    # Files that cannot be used: the reload is refused, the server keeps serving the last good certificate.
    served.key.write_text("not a key\n")
    server.reload_keys()
    wait_for(lambda: "TLS files not reloaded" in server.log(), what="the refused reload")
    assert https(server, tls)[2] == "jobwired-2027"
    kept.close()


def test_unusable_files_stop_the_start_with_the_reason(tmp_path: pathlib.Path, authority: Authority) -> None:
    pair = authority.issue("jobwired", server=True)
    mismatched = authority.issue("other", server=True)
    cases = [
        (("--tls-cert", str(pair.certificate)), "--tls-cert and --tls-key go together"),
        (("--tls-client-ca", str(authority.certificate)), "--tls-client-ca needs --tls-cert"),
        (("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(pair.key)), "TLS_FILES_INVALID"),
        (("--tls-cert", str(pair.certificate), "--tls-key", str(mismatched.key)), "TLS_FILES_INVALID"),
    ]
    for flags, said in cases:
        finished = subprocess.run([binary("JOBWIRED"), "--port", "0", "--http-port", "0", "--store", "memory", *flags],
                                  capture_output=True, text=True, timeout=30)
        assert finished.returncode != 0, flags
        assert said in finished.stderr, (flags, finished.stderr[-1500:])


def test_garbage_and_stalled_handshakes_are_dropped_and_others_are_served(start_server: StartServer,
                                                                         authority: Authority) -> None:
    server = start_server(*tls_flags(authority.issue("jobwired", server=True)), "--http-idle-timeout", "300ms")
    tls = context(authority.certificate)
    # Garbage instead of a ClientHello: the connection is closed.
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=5) as garbage:
        garbage.sendall(b"\x16\x03\x01\x00\x05hello, not TLS at all" * 20)
        garbage.settimeout(5)
        while garbage.recv(4096):
            pass
    # A handshake that never finishes (half a record, then nothing): closed at the idle timeout, not held.
    stalled = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
    stalled.sendall(b"\x16\x03\x01\x02\x00\x01")
    assert https(server, tls)[0] == 200, "served while a handshake stalls"
    stalled.settimeout(5)
    assert stalled.recv(4096) == b"", "the stalled handshake is closed"
    stalled.close()
    assert https(server, tls)[0] == 200


def binary_peer(server: Server, tls: ssl.SSLContext) -> str:
    """The common name of the certificate the binary port shows a new TLS connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with tls.wrap_socket(raw, server_hostname="127.0.0.1") as secure:
            return dict(field[0] for field in secure.getpeercert()["subject"])["commonName"]


def tls_client(server: Server, ca: pathlib.Path, client: Pair | None = None, **options: object) -> jobwire.Client:
    context = jobwire.tls_context(str(ca), *((str(client.certificate), str(client.key)) if client else ()))
    return server.client(tls=jobwire.TLSOptions(context), **options)


def test_the_binary_port_speaks_tls_to_both_clients_and_calls_run_side_by_side(start_server: StartServer,
                                                                                authority: Authority) -> None:
    server = start_server(*tls_flags(authority.issue("jobwired", server=True)))
    client = tls_client(server, authority.certificate)
    info = client.connect()
    assert info.tenant == "default"
    job = client.configure(JobSpec(type="encode")).job
    # A watch reads on the client's reader thread while other threads write calls on the same TLS connection.
    events: list[jobwire.WatchEvent] = []
    watcher = threading.Thread(target=lambda: events.extend(client.watch(job.job_id)))
    watcher.start()
    wait_for(lambda: events, what="the snapshot")
    failures: list[BaseException] = []

    def report(progress_from: int) -> None:
        try:
            for progress in range(progress_from, progress_from + 20):
                client.get_metadata(job.job_id)
                client.update(job.job_id, status=JobStatus.RUNNING, progress=float(progress))
        except BaseException as failure:  # noqa: BLE001 (collected and asserted below)
            failures.append(failure)

    writers = [threading.Thread(target=report, args=(start,)) for start in (0, 40)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert not failures, failures
    client.update(job.job_id, status=JobStatus.COMPLETED)
    watcher.join(10)
    assert events[-1].job is not None and events[-1].job.status is JobStatus.COMPLETED
    revisions = [event.revision for event in events]
    assert revisions == sorted(set(revisions)), "every change once, in order"
    assert client.get_metadata(job.job_id).revision == events[-1].revision

    async def with_asyncio() -> None:
        context = jobwire.tls_context(str(authority.certificate))
        async with server.aclient(tls=jobwire.TLSOptions(context)) as aclient:
            assert (await aclient.get_metadata(job.job_id)).status is JobStatus.COMPLETED
            assert (await aclient.configure(JobSpec(type="async"))).created
    asyncio.run(with_asyncio())
    assert binary_peer(server, context(authority.certificate)) == "jobwired"


def test_the_binary_port_refuses_plaintext_strangers_and_clients_without_a_good_certificate(
        start_server: StartServer, authority: Authority) -> None:
    clients = Authority(authority.directory.parent / "clients", "JobWire Clients CA")
    server = start_server(*tls_flags(authority.issue("jobwired", server=True), client_ca=clients.certificate),
                          "--handshake-timeout", "300ms")
    good = tls_client(server, authority.certificate, clients.issue("worker-1"))
    job = good.configure(JobSpec(type="encode")).job
    refusals = [
        ("no certificate", tls_client(server, authority.certificate, timeout=1.5, connect_timeout=0.5)),
        ("another CA's", tls_client(server, authority.certificate,
                                    Authority(authority.directory.parent / "stranger", "Stranger CA").issue("intruder"),
                                    timeout=1.5, connect_timeout=0.5)),
        ("an expired one", tls_client(server, authority.certificate, clients.issue("retired", expired=True),
                                      timeout=1.5, connect_timeout=0.5)),
        ("plaintext", server.client(timeout=1.5, connect_timeout=0.5)),
    ]
    for what, refused_client in refusals:
        with pytest.raises(jobwire.JobWireError) as caught:
            refused_client.get_metadata(job.job_id)
        assert caught.value.code in (jobwire.StatusCode.DEADLINE_EXCEEDED, jobwire.StatusCode.UNAVAILABLE), what
    # Garbage instead of a ClientHello, and a handshake that stalls: dropped (the second at the handshake timeout).
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as garbage:
        garbage.sendall(b"\x00\x00\x00\x05hello" * 50)
        garbage.settimeout(5)
        try:
            while garbage.recv(4096):
                pass
        except ConnectionResetError:
            pass  # closed with our garbage unread: a reset is a close too
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stalled.sendall(b"\x16\x03\x01\x02\x00\x01")
    assert good.get_metadata(job.job_id).job_id == job.job_id, "served while a handshake stalls"
    stalled.settimeout(5)
    assert stalled.recv(4096) == b""
    stalled.close()
    assert good.get_metadata(job.job_id).job_id == job.job_id


def test_sighup_reloads_the_binary_ports_certificate_too(start_server: StartServer, authority: Authority) -> None:
    live = authority.directory / "live-binary"
    live.mkdir()
    served = Pair(live / "cert.pem", live / "key.pem")
    for source, target in ((authority.issue("first", server=True), served),):
        target.certificate.write_bytes(source.certificate.read_bytes())
        target.key.write_bytes(source.key.read_bytes())
    server = start_server(*tls_flags(served))
    client = tls_client(server, authority.certificate)
    job = client.configure(JobSpec(type="encode")).job
    assert binary_peer(server, context(authority.certificate)) == "first"
    second = authority.issue("second", server=True)
    served.certificate.write_bytes(second.certificate.read_bytes())
    served.key.write_bytes(second.key.read_bytes())
    server.reload_keys()
    wait_for(lambda: binary_peer(server, context(authority.certificate)) == "second", what="the new certificate")
    assert client.get_metadata(job.job_id).job_id == job.job_id, "the open connection goes on"
    assert client.server_info is not None and client.connections_opened == 1


def test_the_cli_connects_over_tls_with_flags_or_the_environment(start_server: StartServer, authority: Authority) -> None:
    clients = Authority(authority.directory.parent / "clients", "JobWire Clients CA")
    server = start_server(*tls_flags(authority.issue("jobwired", server=True), client_ca=clients.certificate))
    worker = clients.issue("cli")
    cli = [binary("JOBWIRE_CLI")]
    port = ["--port", str(server.port), "--timeout", "3s"]

    def run(*args: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "JOBWIRE_API_KEY": "", **(environment or {})})

    created = run("configure", "--type", "encode", "--json", *port, "--tls", "--tls-ca", str(authority.certificate),
                  "--tls-cert", str(worker.certificate), "--tls-key", str(worker.key))
    assert created.returncode == 0, created.stderr
    job_id = json.loads(created.stdout)["job_id"]
    environment = {"JOBWIRE_TLS": "1", "JOBWIRE_TLS_CA": str(authority.certificate),
                   "JOBWIRE_TLS_CERT": str(worker.certificate), "JOBWIRE_TLS_KEY": str(worker.key)}
    fetched = run("get", job_id, "--json", *port, environment=environment)
    assert fetched.returncode == 0 and json.loads(fetched.stdout)["job_id"] == job_id, fetched.stderr
    # The server's certificate names 127.0.0.1 and localhost, not this:
    wrong_name = run("get", job_id, *port, "--tls-server-name", "jobs.example.com", environment=environment)
    assert wrong_name.returncode != 0 and "TLS handshake failed" in wrong_name.stderr, wrong_name.stderr
    # Without a client certificate, or without TLS at all, nothing is served.
    assert run("get", job_id, *port, "--tls-ca", str(authority.certificate)).returncode != 0
    assert run("get", job_id, *port).returncode != 0
    # A CA that did not sign the server's certificate: refused by the CLI.
    other = Authority(authority.directory.parent / "other-cli", "Another CA")
    untrusted = run("get", job_id, *port, "--tls-ca", str(other.certificate), "--tls-cert", str(worker.certificate),
                    "--tls-key", str(worker.key))
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr, untrusted.stderr


def test_a_client_certificate_in_the_keys_file_acts_as_its_tenant_and_role(start_server: StartServer,
                                                                           authority: Authority, keyring) -> None:  # type: ignore[no-untyped-def]
    clients = Authority(authority.directory.parent / "clients", "JobWire Clients CA")
    worker = clients.issue("worker-1")
    added = run_cli("keys", "add-certificate", str(worker.certificate), "--tenant", "globex", "--role", "worker",
                    "--keys-file", str(keyring.path))
    certificate_id = added.stdout.strip()
    assert len(certificate_id) == 16
    assert f"{certificate_id}  globex  worker" in run_cli("keys", "list", "--keys-file", str(keyring.path)).stdout
    server = start_server(*tls_flags(authority.issue("jobwired", server=True), client_ca=clients.certificate),
                          keys=keyring.path)

    by_certificate = tls_client(server, authority.certificate, worker)
    info = by_certificate.connect()
    assert (info.tenant, info.role) == ("globex", "worker")
    job = by_certificate.configure(JobSpec(type="encode")).job
    assert job.tenant == "globex"
    # A key, when one is sent too, decides.
    keyed = tls_client(server, authority.certificate, worker, api_key=keyring["acme-reader"])
    assert (keyed.connect().tenant, keyed.connect().role) == ("acme", "reader")
    # The HTTP port reads the same certificate the same way.
    status, body, _ = https(server, context(authority.certificate, worker), path=f"/v1/jobs/{job.job_id}")
    assert (status, body["tenant"]) == (200, "globex")
    # A certificate the CA signed but the keys file does not name, and no key: unauthenticated.
    nameless = tls_client(server, authority.certificate, clients.issue("nobody"), timeout=3)
    with pytest.raises(jobwire.Unauthenticated):
        nameless.connect()
    status, body, _ = https(server, context(authority.certificate, clients.issue("nobody-http")), path="/v1/jobs")
    assert status == 401
    # Revoked like a key: after SIGHUP the certificate opens nothing.
    run_cli("keys", "revoke", certificate_id, "--keys-file", str(keyring.path))
    server.reload_keys()
    wait_for(lambda: https(server, context(authority.certificate, worker), path="/v1/jobs")[0] == 401,
             what="the revoked certificate refused")
    revoked = tls_client(server, authority.certificate, worker, timeout=3)
    with pytest.raises(jobwire.Unauthenticated):
        revoked.connect()
