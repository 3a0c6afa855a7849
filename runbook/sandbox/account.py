"""The sandbox's pretend account: the keys the emulator takes and its default account id."""

from __future__ import annotations

# Fake keys the emulator accepts; they open nothing anywhere else.
CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
DEFAULT_ACCOUNT = "123456789012"  # moto's, when a call names no other
# Marks the data plane's own calls: they are not a person's activity and wake nothing.
OWN_CALL_HEADER = "x-runbook-dataplane"
