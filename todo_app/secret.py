"""Reads the database password from its Secrets Manager secret (DB_SECRET_ARN), as RDS keeps it.

RDS rotates the master password it manages (every 7 days by default) the way Secrets
Manager's rotation steps go: the new password is first stored in a version labelled
AWSPENDING, then set in the database, then AWSCURRENT moves to it. So between the last two
steps the database already wants the AWSPENDING password, and a reader must look at both.
(Secrets Manager User Guide, "How rotation works" and "Managed rotation": "During rotation,
new connections that retrieve the secret may get the previous version of the credentials.")
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

# arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>
_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:secret:.+$"
)
PENDING = "AWSPENDING"


class SecretUnavailable(Exception):
    """The password could not be read from Secrets Manager; the message says why and what to do."""


def region_of(arn: str) -> str:
    """The secret's region, from its ARN (a task may run in another region than its secret)."""
    match = _ARN.match(arn)
    if match is None:
        raise ValueError(
            "DB_SECRET_ARN must be a Secrets Manager secret's ARN"
            f" (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not {arn!r}"
        )
    return match["region"]


class DatabaseSecret:
    """One secret holding `{"username": ..., "password": ...}`, read on demand."""

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.region = region_of(arn)
        self._client: Any = None

    def __repr__(self) -> str:
        return f"DatabaseSecret({self.arn!r})"

    def _secrets_manager(self) -> Any:
        if self._client is None:
            # Imported here: an app without DB_SECRET_ARN never pays for boto3.
            import boto3
            from botocore.config import Config

            # botocore logs whole response bodies (the secret among them) at DEBUG.
            logging.getLogger("botocore").setLevel(logging.INFO)
            # A session of its own (sessions are not thread-safe; clients are). Timeouts
            # well under the ALB's 5 s health check timeout, and one retry: a failed read
            # is tried again at the next refused login anyway.
            self._client = boto3.session.Session().client(
                "secretsmanager",
                region_name=self.region,
                config=Config(
                    connect_timeout=2,
                    read_timeout=2,
                    retries={"mode": "standard", "total_max_attempts": 2},
                ),
            )
        return self._client

    def passwords(self) -> list[str]:
        """The AWSCURRENT password, then the AWSPENDING one if a rotation is under way."""
        current = self._read(None)
        if current is None:  # only the pending stage may be missing
            raise SecretUnavailable(f"secret {self.arn} has no current version")
        found = [current]
        try:
            pending = self._read(PENDING)
        except SecretUnavailable as error:
            # The current password is what matters; a pending one is only a spare.
            log.warning("could not read the secret's %s version: %s", PENDING, error)
            pending = None
        if pending is not None and pending != current:
            found.append(pending)
        log.info(
            "read the database password from Secrets Manager secret %s (%s)",
            self.arn,
            "current and pending versions" if len(found) > 1 else "current version",
        )
        return found

    def _read(self, stage: str | None) -> str | None:
        """One version's password; None when no version carries that stage."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        # Without VersionStage, GetSecretValue answers the AWSCURRENT version (Secrets
        # Manager API Reference, GetSecretValue).
        request: dict[str, str] = {"SecretId": self.arn}
        if stage is not None:
            request["VersionStage"] = stage
        try:
            answer = self._secrets_manager().get_secret_value(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if stage is not None and code == "ResourceNotFoundException":
                return None
            message = error.response.get("Error", {}).get("Message", "")
            raise SecretUnavailable(
                f"Secrets Manager refused to give secret {self.arn}: {code}: {message}"
                " (check that the secret exists and that the task role may call"
                " secretsmanager:GetSecretValue on it)"
            ) from None
        except NoCredentialsError:
            raise SecretUnavailable(
                f"no AWS credentials to read secret {self.arn}"
                " (the task definition needs a task role that may read it)"
            ) from None
        except BotoCoreError as error:
            raise SecretUnavailable(
                f"cannot reach Secrets Manager in {self.region} to read secret {self.arn}:"
                f" {error} (check the task's network path: a public IP or a VPC endpoint)"
            ) from None
        return self._password(answer.get("SecretString"))

    def _password(self, text: str | None) -> str:
        # Never quote the secret's text in a message: it is the password.
        try:
            value = json.loads(text or "")
        except ValueError:
            value = None
        password = value.get("password") if isinstance(value, dict) else None
        if not isinstance(password, str) or not password:
            raise SecretUnavailable(
                f'secret {self.arn} holds no "password" field (expected JSON like RDS\'s:'
                ' {"username": ..., "password": ...})'
            )
        return password
