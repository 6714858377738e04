"""TLS under attack (docs/SECURITY.md, "TLS"): garbage instead of a ClientHello, handshakes that never finish, and
renegotiation attempts on the binary port, beside a well-behaved client on TLS.

Why: the TLS handshake is work the server does before it knows who is asking. A server that waits on a stalled
handshake without a deadline can be held open until it runs out of descriptors; one that renegotiates on request
lets any client make it redo the expensive part of the handshake again and again. jobwired drops a handshake that
has not finished at ``--handshake-timeout``, refuses renegotiation (OpenSSL's ``SSL_OP_NO_RENEGOTIATION``: the
client gets a ``no_renegotiation`` alert) and closes anything that is not TLS at its first record.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time

import jobwire
from support import PROCESS_ALLOWANCE_KIB, Scenario, StartServer
from tls_certs import Authority

GARBAGE = 50
STALLED = 50
RENEGOTIATIONS = 10
HANDSHAKE_TIMEOUT_S = 1.0
#: Per stalled connection: OpenSSL's session and read buffer (~40 KiB with read-ahead) plus the connection's own.
RSS_BOUND_KIB = PROCESS_ALLOWANCE_KIB + STALLED * 64


def test_garbage_stalled_handshakes_and_renegotiation_beside_a_tls_client(start_server: StartServer,
                                                                          tmp_path) -> None:  # type: ignore[no-untyped-def]
    authority = Authority(tmp_path / "ca", "Hostile CA")
    pair = authority.issue("jobwired", server=True)
    server = start_server("--tls-cert", str(pair.certificate), "--tls-key", str(pair.key),
                          "--handshake-timeout", f"{int(HANDSHAKE_TIMEOUT_S * 1000)}ms")
    tls = jobwire.TLSOptions(jobwire.tls_context(str(authority.certificate)))
    with Scenario("tls-handshakes", server, tls=tls) as scenario:
        scenario.begin_attack()
        # Garbage: the server reads one record's worth and closes.
        for index in range(GARBAGE):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as garbage:
                garbage.sendall(os.urandom(512) if index % 2 else b"\x00\x00\x00\x10" + b"not a client hello" * 20)
                garbage.settimeout(5)
                try:
                    while garbage.recv(4096):
                        pass
                except ConnectionResetError:
                    pass  # closed with our bytes unread
        # Stalled: half a ClientHello record header, then nothing.
        stalled = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(STALLED)]
        opened = time.monotonic()
        for sock in stalled:
            sock.sendall(b"\x16\x03\x01\x02\x00\x01")
        # Renegotiation: openssl s_client asks for it (`R`) on an established TLS 1.2 session; the server refuses.
        refusals = 0
        for _ in range(RENEGOTIATIONS):
            done = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2",
                                   "-CAfile", str(authority.certificate)],
                                  input="R\n", capture_output=True, text=True, timeout=30)
            assert "Verify return code: 0 (ok)" in done.stdout, done.stdout[-800:]
            refusals += "no renegotiation" in done.stderr or "no renegotiation" in done.stdout
        assert refusals == RENEGOTIATIONS, f"{refusals} of {RENEGOTIATIONS} renegotiations were refused"
        scenario.extra["renegotiations_refused"] = refusals
        # Every stalled handshake is closed once the handshake timeout has passed.
        for sock in stalled:
            sock.settimeout(HANDSHAKE_TIMEOUT_S + 8)
            try:
                assert sock.recv(4096) == b""
            except ConnectionResetError:
                pass
            sock.close()
        scenario.extra["stalled_closed_after_s"] = f"{time.monotonic() - opened:.1f}"
        scenario.end_attack()
        scenario.assert_rss_growth_below(RSS_BOUND_KIB, "stalled TLS handshakes must not pile up memory")
        scenario.wait_fds_released()
        scenario.finish()
