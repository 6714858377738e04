"""(i) GetMetadata over TLS at 64 connections against Debian's Redis over TLS, and what TLS costs against plaintext.

A throwaway CA and a certificate for 127.0.0.1 are made with `openssl`. jobwired (release, memory store) serves
both ports with `--tls-cert`/`--tls-key`; Redis serves `--tls-port` only, with the same certificate and the value
of each key the same bytes as the encoded job GetMetadata answers. bench/.build/loadgen drives both with `--tls-ca`
(OpenSSL, the same code for both protocols), one call in flight per connection, then jobwired in plaintext for the
cost of TLS. Rounds alternate; medians are kept. SUMMARY key `tls_get_vs_redis_tls`; the goal is >= 1.0.

    python3 bench/tls_get.py BIN_DIR [--quick]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_support as support  # noqa: E402 (bench/ is on sys.path when run from there)

LOADGEN = Path(__file__).resolve().parent / ".build" / "loadgen"
CONNECTIONS = 64


def certificates(work: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for 127.0.0.1, EC P-256."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA", "-addext", "basicConstraints=critical,CA:TRUE")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "server.key", "-out", "server.csr", "-subj", "/CN=bench")
    (work / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2", "-days", "1",
            "-extfile", "server.ext", "-out", "server.pem")
    for name in ("server.key", "server.pem", "ca.pem"):
        (work / name).chmod(0o644)  # redis-server may drop privileges
    return work / "ca.pem", work / "server.pem", work / "server.key"


def loadgen(*arguments: str | int | float) -> dict[str, float]:
    done = subprocess.run([str(LOADGEN), *map(str, arguments)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def jobwired(bin_dir: Path, *flags: str) -> support.Server:
    return support.start("jobwired", [str(bin_dir / "jobwired"), "--port", "0", "--no-http", "--store", "memory",
                                      "--log-level", "error", *flags], r"jobwired listening on [^:]+:(\d+)")


def redis_tls(work: Path, ca: Path, certificate: Path, key: Path) -> support.Server:
    port = support.free_port()
    return support.start("redis", ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                                   "--tls-cert-file", str(certificate), "--tls-key-file", str(key),
                                   "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no", "--save", "",
                                   "--appendonly", "no", "--dir", str(work), "--maxclients", "1000"],
                         r"Ready to accept connections", port=port)


def measure(bin_dir: Path, quick: bool) -> tuple[str, float]:
    """The Markdown section and the SUMMARY value (tls_get_vs_redis_tls)."""
    if not LOADGEN.exists() or shutil.which("redis-server") is None:
        return "(i) skipped: bench/.build/loadgen or redis-server missing (make bench builds and installs them)", float("nan")
    seconds, warmup, rounds = (2.0, 0.5, 1) if quick else (10.0, 2.0, 3)
    work = Path(tempfile.mkdtemp(prefix="jobwire-bench-tls-"))
    work.chmod(0o755)
    ca, certificate, key = certificates(work)
    common = ["--connections", CONNECTIONS, "--depth", 1, "--seconds", seconds, "--warmup", warmup]
    job_file = work / "job.bin"
    results: dict[str, list[dict[str, float]]] = {"JobWire TLS": [], "Redis TLS": [], "JobWire plaintext": []}
    cpu: dict[str, list[float]] = {name: [] for name in results}

    def run(name: str, server: support.Server, *arguments: str | int | float) -> None:
        try:
            before = server.cpu()
            result = loadgen(*arguments)
            cpu[name].append((server.cpu() - before) / (result["rps"] * (seconds + warmup)) * 1e6)
            results[name].append(result)
        finally:
            server.stop()

    for _ in range(rounds):
        server = jobwired(bin_dir, "--tls-cert", str(certificate), "--tls-key", str(key))
        run("JobWire TLS", server, "--protocol", "jobwire", "--mode", "get", "--port", server.port, "--jobs", 10_000,
            "--tls-ca", ca, "--dump-job", job_file, *common)
        server = redis_tls(work, ca, certificate, key)
        run("Redis TLS", server, "--protocol", "resp", "--mode", "get", "--port", server.port, "--jobs", 10_000,
            "--value-file", job_file, "--tls-ca", ca, *common)
        server = jobwired(bin_dir)
        run("JobWire plaintext", server, "--protocol", "jobwire", "--mode", "get", "--port", server.port,
            "--jobs", 10_000, *common)
    shutil.rmtree(work, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(result[key] for result in results[name])

    lines = [f"(i) GetMetadata over TLS 1.3, {CONNECTIONS} connections, one call in flight each, against Redis GET over "
             f"TLS with the same value bytes; {rounds} alternating round(s) of {seconds:g} s, medians; server CPU per "
             "call includes the handshakes and seeding.",
             "", "| System | req/s | p50 µs | p99 µs | server CPU µs per call |", "|---|---:|---:|---:|---:|"]
    for name in results:
        lines.append(f"| {name} | {median(name, 'rps'):,.0f} | {median(name, 'p50_us'):,.0f} | "
                     f"{median(name, 'p99_us'):,.0f} | {statistics.median(cpu[name]):.1f} |")
    ratio = median("JobWire TLS", "rps") / median("Redis TLS", "rps")
    cost = 1 - median("JobWire TLS", "rps") / median("JobWire plaintext", "rps")
    lines.append("")
    lines.append(f"JobWire over TLS / Redis over TLS: {ratio:.2f}. TLS costs JobWire {cost * 100:.0f} % of its "
                 "plaintext rate.")
    return "\n".join(lines), ratio


if __name__ == "__main__":
    section, versus_redis = measure(Path(sys.argv[1]).resolve(), quick="--quick" in sys.argv)
    print(section)
    print(f"SUMMARY tls_get_vs_redis_tls={versus_redis:.2f}")
