"""The sandbox's pretend account: the keys its emulator takes and its default account id."""

from __future__ import annotations

import secrets
import string
from typing import Any, TypeVar

# Shaped as AWS shapes long-term keys (an AKIA id of 20 characters, a 40-character secret).
_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def new_credentials() -> dict[str, str]:
    """A fresh, random access key id and secret access key."""
    key_id = "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return {"aws_access_key_id": key_id, "aws_secret_access_key": secret}


# This process's keys, made when it starts: an emulator it runs takes these and no others, and
# only what this process hands them to (its data plane, its tasks, its container engine
# stand-in, the background sandbox's owner-only credentials file) has them.
CREDENTIALS = new_credentials()
DEFAULT_ACCOUNT = "123456789012"  # moto's, when a call names no other
# Marks the data plane's own calls: they are not a person's activity and wake nothing.
OWN_CALL_HEADER = "x-runbook-dataplane"
ACCOUNT_HEADER = "x-moto-account-id"  # moto's: the account a call is made in

Client = TypeVar("Client")


def in_moto_account(client: Client, events: Any, account: str) -> Client:
    """`client`, its calls (signed through `events`, botocore's) made in the emulator's
    account `account`: a fresh account costs nothing, where a reset costs half a second."""

    def to_account(request: Any, **_: Any) -> None:
        request.headers[ACCOUNT_HEADER] = account

    events.register("before-sign", to_account)
    return client
