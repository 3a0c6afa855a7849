"""The password the app logs in with, and what it tries when PostgreSQL refuses it.

ECS injects DB_PWD only when a task starts, and RDS rotates the password every 7 days, so
a long-running task must find the new one by itself: on a refused login it reads the
secret again (the current and the pending password) and tries those. Reads are shared by
every thread (a burst of refused logins costs one read) and spaced out: at least
REREAD_SECONDS apart, doubling up to REREAD_MAX_SECONDS while what was read keeps being
refused (a secret that is simply wrong costs a few reads a minute, not one per request).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg2

from todo_app.secret import DatabaseSecret, SecretUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

REREAD_SECONDS = 1.0
REREAD_MAX_SECONDS = 30.0

# libpq's words for a refused password (SQLSTATE 28P01 is not exposed on connect errors).
_REFUSED = ("password authentication failed", "no password supplied")


def password_refused(error: BaseException) -> bool:
    """Whether a failed connect was the server refusing the password (not a network fault)."""
    return isinstance(error, psycopg2.OperationalError) and any(
        words in str(error) for words in _REFUSED
    )


class Credentials:
    """The password to log in with, as given at start (DB_PWD) or read from the secret."""

    def __init__(
        self,
        password: str | None,
        secret: DatabaseSecret | None,
        *,
        reread_seconds: float = REREAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret = secret
        self.reads = 0  # how many times the secret was read (each: current + pending)
        self._in_use = password
        self._known: list[str] = []
        self._refused: set[str] = set()
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._shortest = reread_seconds
        self._longest = max(reread_seconds, REREAD_MAX_SECONDS)
        self._interval = reread_seconds
        self._unconfirmed = False  # the last read found no password the database took
        self._error: SecretUnavailable | None = None

    def __repr__(self) -> str:  # never the password
        return f"Credentials(secret={self.secret!r}, reads={self.reads})"

    def first(self) -> str | None:
        """The password to try first (None: let libpq find one, e.g. in the DSN)."""
        with self._lock:
            if self._in_use is None and self.secret is not None:
                self._read()
                if self._in_use is None and self._known:
                    self._in_use = self._known[0]
            return self._in_use

    def after_refusal(self, refused: str | None) -> list[str]:
        """Passwords worth trying after the server refused `refused`, reading the secret
        again unless another thread just did."""
        with self._lock:
            if refused is not None:
                self._refused.add(refused)
            if self._in_use not in (None, refused) and self._in_use not in self._refused:
                return [self._in_use]  # another thread has already found the new one
            if self.secret is None:
                return []
            if self._read(because="the database refused the password") and refused is not None:
                self._refused = {refused}  # what was refused before may be current again
            return [password for password in self._known if password not in self._refused]

    def accepted(self, password: str | None) -> bool:
        """The server took this password: use it from now on. Whether it is a new one."""
        with self._lock:
            changed = password is not None and password != self._in_use
            if password is not None:
                self._in_use = password
                self._refused.discard(password)
            self._interval = self._shortest
            self._unconfirmed = False
            return changed

    def refused(self, password: str) -> None:
        with self._lock:
            self._refused.add(password)

    def _read(self, because: str = "") -> bool:
        """Read the secret unless it was read too recently (then reuse what was read, or
        raise what reading it raised); whether it was read now."""
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._interval:
            if self._error is not None:
                raise self._error
            return False
        if self._unconfirmed:
            self._interval = min(self._interval * 2, self._longest)
        self._read_at = now
        self._unconfirmed = True
        assert self.secret is not None
        if because:
            log.warning("%s; reading secret %s again", because, self.secret.arn)
        try:
            known = self.secret.passwords()
        except SecretUnavailable as error:
            self._error = error
            raise
        self._error = None
        self.reads += 1
        self._known = known
        return True


def with_password(kwargs: dict[str, Any], password: str | None) -> dict[str, Any]:
    """Connection keyword arguments logging in with this password (None: as configured)."""
    return kwargs if password is None else {**kwargs, "password": password}


def authenticated(attempt: Callable[[str | None], T], credentials: Credentials) -> T:
    """attempt(password) with the password in use; if the server refuses it, with the ones
    the secret holds now. Raises the refusal when none is taken, SecretUnavailable when the
    secret cannot be read, and any other connection error as it comes."""
    password = credentials.first()
    try:
        result = attempt(password)
    except psycopg2.OperationalError as error:
        if not password_refused(error):
            raise
        refusal = error
    else:
        credentials.accepted(password)
        return result
    try:
        candidates = credentials.after_refusal(password)
    except SecretUnavailable as error:
        raise SecretUnavailable(f"the database refused the password, and {error}") from None
    for candidate in candidates:
        try:
            result = attempt(candidate)
        except psycopg2.OperationalError as error:
            if not password_refused(error):
                raise
            credentials.refused(candidate)
            refusal = error
            continue
        if credentials.accepted(candidate):
            log.info("logged in with the password read from the secret")
        return result
    raise refusal


def connect(kwargs: dict[str, Any], credentials: Credentials) -> psycopg2.extensions.connection:
    """psycopg2.connect(**kwargs), riding out a password rotation."""
    return authenticated(
        lambda password: psycopg2.connect(**with_password(kwargs, password)), credentials
    )


def credentials_for(
    database: dict[str, Any], secret_arn: str | None, reread_seconds: float = REREAD_SECONDS
) -> Credentials:
    """Credentials for a configured database (DB_PWD's password, if any) and secret."""
    secret = DatabaseSecret(secret_arn) if secret_arn else None
    return Credentials(database.get("password"), secret, reread_seconds=reread_seconds)
