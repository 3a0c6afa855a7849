"""The sandbox's certificate authority as files: TLS for the local databases, as RDS's CA does
on AWS.

The CA is the Todo API's own local one (todo_app.local_ca), made once per sandbox. The task
trusts it where the image would carry Amazon's RDS bundle (/app/certs/rds-global-bundle.pem),
so `sslmode=verify-full` checks the database's certificate against its endpoint name, as on
RDS; each database's certificate and key are files its PostgreSQL reads.
"""

from __future__ import annotations

from pathlib import Path

from todo_app.local_ca import LocalCA


class CertificateFiles:
    """One sandbox's CA, its bundle and the certificates it issued, in the sandbox's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._ca = LocalCA.create("fargate-runbook sandbox CA")
        self.bundle = folder / "ca.pem"
        self.bundle.write_bytes(self._ca.pem())

    def issue(self, hostname: str, address: str, name: str) -> tuple[Path, Path]:
        """A server certificate for the hostname (and address): (certificate file, key file)."""
        issued = self._ca.issue([hostname, address])
        cert_file, key_file = self.folder / f"{name}.crt", self.folder / f"{name}.key"
        cert_file.write_bytes(issued.cert_pem)
        key_file.touch(mode=0o600)  # owner-only before the key is in it
        key_file.write_bytes(issued.key_pem)
        return cert_file, key_file
