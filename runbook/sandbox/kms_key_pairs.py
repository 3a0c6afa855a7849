"""A KMS key's key pair made when something first signs, verifies or asks for its public key.

moto (5.2.5) makes every KMS key an asymmetric key pair up front, an RSA-2048 one even for a
symmetric key (which never signs). The first look at an account's database makes one: RDS's
master user secret names KMS's default key (aws/secretsmanager), which moto then creates.
Making an RSA key costs 30-300 ms of CPU, a third of the emulator's work in a test's deploy.
Here the pair is made on first use, of the kind moto would have made: nothing it answers
changes, only when the pair is made.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.kms import models
from moto.kms.utils import AbstractPrivateKey

from runbook.sandbox.once import once

_make = models.generate_private_key
_making = threading.Lock()  # one process-wide lock: a lock of its own would not pickle


class _OnFirstUse(AbstractPrivateKey):
    """moto's private key for `key_spec`, made when first used."""

    def __init__(self, key_spec: str) -> None:
        self.key_spec = key_spec
        self._made: AbstractPrivateKey | None = None

    def _key(self) -> AbstractPrivateKey:
        with _making:
            if self._made is None:
                self._made = _make(self.key_spec)
            return self._made

    def sign(self, message: bytes, signing_algorithm: str) -> bytes:
        return self._key().sign(message, signing_algorithm)

    def verify(self, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        return self._key().verify(message, signature, signing_algorithm)

    def public_key(self) -> bytes:
        return self._key().public_key()

    def __getattr__(self, name: str) -> Any:
        # Anything else moto's keys have (key_size, the cryptography key itself) is the made
        # key's; Python's own protocols (copy, pickle) find this object's.
        if name.startswith("__") or name in ("key_spec", "_made"):
            raise AttributeError(name)
        return getattr(self._key(), name)


def _on_first_use(key_spec: str) -> AbstractPrivateKey:
    return _OnFirstUse(key_spec)


@once
def install() -> None:
    """Every KMS key made from now on makes its key pair when first used."""
    _on_first_use.__wrapped__ = _make  # type: ignore[attr-defined]
    models.generate_private_key = _on_first_use  # type: ignore[assignment]
