"""A private certificate authority for a local PostgreSQL with TLS: the Todo API's tests and
benchmarks, and the sandbox's RDS instances (runbook/sandbox/certificates.py).

It plays the part of the RDS CA bundle: the app trusts its certificate (DB_SSLROOTCERT)
and the server presents a certificate it issued for the endpoint's name (and address).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from typing import Any

from todo_app.embedded_pg import ServerCertificate

# Long enough for a sandbox left running for weeks; these certificates never leave the machine.
VALID_FOR = datetime.timedelta(days=30)


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: Any, public_key: Any) -> Any:
    from cryptography import x509

    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )


def _alternative_name(name: str) -> Any:
    """An IP address as an address (what a client that dials it checks), else a DNS name."""
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@dataclass(frozen=True)
class LocalCA:
    """A self-signed root CA (EC P-256) that issues server certificates, valid 30 days."""

    key: Any
    certificate: Any

    @classmethod
    def create(cls, common_name: str) -> LocalCA:
        # Imported here: the image runs without `cryptography` (it only comes with the tools).
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            _builder(common_name, _name(common_name), key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def pem(self) -> bytes:
        """The CA's certificate, as a bundle file for sslrootcert."""
        from cryptography.hazmat.primitives import serialization

        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: list[str]) -> ServerCertificate:
        """A server certificate for these host names and addresses (the first is also its
        common name)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            _builder(names[0], self.certificate.subject, key.public_key())
            .add_extension(
                x509.SubjectAlternativeName([_alternative_name(name) for name in names]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return ServerCertificate(
            cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
