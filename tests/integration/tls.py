"""TLS in front of the embedded broker, for tests: a throwaway CA and certificates made by
the ``openssl`` command, and Debian's ``stunnel`` terminating TLS.

Tansu 0.6.0 takes ``--cert`` and ``--key`` but cannot be given both (they share an
argument group) and never wraps its sockets in TLS, so the broker itself cannot serve
TLS (docs/kafka.md, "What was tested").
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from smm_pulse.runtime.broker import wait_for_port


@dataclass(frozen=True)
class Authority:
    """A CA made for one test run; the certificates it signs are valid for 127.0.0.1 and
    localhost (as a server's) and serve as clients' too."""

    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path, name: str) -> Authority:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / f"{name}.pem", folder / f"{name}.key"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={name}")
        return cls(cert, key)

    def sign(self, folder: Path, name: str) -> tuple[Path, Path]:
        """A certificate and its key, signed by this CA."""
        cert, key, request = (folder / f"{name}.pem", folder / f"{name}.key",
                              folder / f"{name}.csr")
        names = folder / f"{name}.ext"
        names.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", request, "-subj", f"/CN={name}")
        _openssl("x509", "-req", "-in", request, "-CA", self.cert, "-CAkey", self.key,
                 "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", names)
        return cert, key


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


class Stunnel:
    """TLS on 127.0.0.1:``port``, plain TCP to 127.0.0.1:``target``; with ``client_ca``,
    only clients with a certificate that CA signed get through (mutual TLS)."""

    def __init__(self, port: int, target: int, cert: Path, key: Path, folder: Path,
                 client_ca: Path | None = None) -> None:
        binary = shutil.which("stunnel4") or shutil.which("stunnel")
        assert binary, "stunnel is missing: apt-get install stunnel4 (make tools)"
        config = folder / f"stunnel-{port}.conf"
        mutual = f"verifyChain = yes\nCAfile = {client_ca}\n" if client_ca else ""
        config.write_text(f"foreground = yes\npid =\n[kafka]\naccept = 127.0.0.1:{port}\n"
                          f"connect = 127.0.0.1:{target}\ncert = {cert}\nkey = {key}\n{mutual}")
        self.port = port
        with open(folder / f"stunnel-{port}.log", "ab") as log:
            self.process = subprocess.Popen([binary, str(config)], stdout=log,
                                            stderr=subprocess.STDOUT)
        try:
            wait_for_port("127.0.0.1", port, timeout=10)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
