"""Throwaway certificate authorities for the TLS tests, made with Debian's `openssl` at test time: a CA, a server
certificate for 127.0.0.1 and localhost, client certificates (one from another CA, one expired)."""
from __future__ import annotations

import pathlib
import subprocess
from dataclasses import dataclass


def openssl(*args: str, cwd: pathlib.Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


@dataclass
class Pair:
    certificate: pathlib.Path
    key: pathlib.Path


class Authority:
    """A CA in `directory`; `issue` signs leaf certificates with it (EC P-256 keys: quick to make)."""

    def __init__(self, directory: pathlib.Path, name: str) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.certificate = directory / f"{name}.pem"
        self.key = directory / f"{name}.key"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(self.key), "-out", str(self.certificate), "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=directory)
        self.serial = 1

    def issue(self, name: str, *, server: bool = False, expired: bool = False) -> Pair:
        """A leaf certificate: for a server (127.0.0.1, ::1 and localhost) or a client; `expired` ended in 2000."""
        key = self.directory / f"{name}.key"
        request = self.directory / f"{name}.csr"
        certificate = self.directory / f"{name}.pem"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}", cwd=self.directory)
        extensions = self.directory / f"{name}.ext"
        usage = "serverAuth" if server else "clientAuth"
        lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", f"extendedKeyUsage={usage}"]
        if server:
            lines.append("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost")
        extensions.write_text("\n".join(lines) + "\n")
        self.serial += 1
        if expired:
            self._sign_expired(request, certificate, extensions)
        else:
            openssl("x509", "-req", "-in", str(request), "-CA", str(self.certificate), "-CAkey", str(self.key),
                    "-set_serial", str(self.serial), "-days", "1", "-extfile", str(extensions), "-out", str(certificate),
                    cwd=self.directory)
        return Pair(certificate, key)

    def _sign_expired(self, request: pathlib.Path, certificate: pathlib.Path, extensions: pathlib.Path) -> None:
        """`openssl ca` is what takes explicit dates: valid for one day of 2000."""
        database = self.directory / f"ca-{self.serial}"
        database.mkdir()
        (database / "index.txt").write_text("")
        (database / "serial").write_text(f"{self.serial:04X}\n")
        config = database / "ca.cnf"
        config.write_text(f"""
[ca]
default_ca = throwaway
[throwaway]
database = {database}/index.txt
serial = {database}/serial
new_certs_dir = {database}
certificate = {self.certificate}
private_key = {self.key}
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
""")
        openssl("ca", "-batch", "-config", str(config), "-in", str(request), "-out", str(certificate),
                "-startdate", "20000101000000Z", "-enddate", "20000102000000Z", "-extfile", str(extensions),
                "-notext", cwd=self.directory)
