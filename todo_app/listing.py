"""The list of todos as last sent, kept per process and reused while the database's list
version (migration 2) stays the same.

Every request still has PostgreSQL's word on the version, from a question sent after the
request began (in the same round trip that would fetch the list): a write acknowledged to
any client, by any worker or task, has bumped the version in its own transaction, so any
later request anywhere sees a new version and never the old list. What the cache saves is
PostgreSQL rendering 100 todos as JSON and Python copying them, on every request that
finds nothing changed; and threads that wait at once share one question (VersionRounds).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg2 import extensions

from todo_app import store

_EXTENSION = "todo_app.listing"

# The todos' URLs in the list are absolute, so each scheme and host the API is reached by
# (the ALB's name, a domain) has a list of its own. Clients choose the Host header: only a
# few are kept, so odd hosts cost a fetch from the database, never memory.
MAX_COLLECTION_URLS = 4
# How long a request waits for others' question before asking its own: far longer than a
# round trip, far shorter than opening a connection after a password rotation.
PATIENCE_SECONDS = 0.2


@dataclass(frozen=True)
class Listing:
    """The list's JSON at one version, and its strong ETag (a hash of those exact bytes)."""

    version: int
    body: bytes
    etag: str  # quoted, as sent in the ETag header


def _listing(version: int, body: str) -> Listing:
    data = body.encode()
    return Listing(version, data, f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"')


class VersionRounds:
    """The list's version, asked of PostgreSQL by one thread at a time for all who wait.

    A request may only trust an answer whose snapshot was taken after the request began, so
    an ask already on its way when a request arrives is no use to it: the request waits for
    the next one, which one of the waiting threads (the leader) sends, and every request
    that arrived before it was sent shares its answer. Under load, a worker's threads then
    make one round trip where each made one; alone, a request makes its own at once.
    """

    def __init__(self, patience_seconds: float = PATIENCE_SECONDS) -> None:
        self._patience = patience_seconds
        self._changed = threading.Condition()
        self._sent = 0  # rounds sent so far
        self._asking = False
        # The latest round that ended, and how: a version, or the error its ask raised.
        self._ended = 0
        self._version = 0
        self._error: BaseException | None = None

    def version(self, ask: Callable[[], int]) -> int | None:
        """The version from an ask sent after this call began, or None when this thread
        was the one that asked (`ask` already gave it the answer, and whatever else).

        An ask that fails fails every request that waited for it, as their own would have:
        handing the question on from one waiter to the next would make the last one wait
        as long as all the failures together (while the database is away, or refuses a
        rotated password), where each would have waited for one.
        """
        give_up = time.monotonic() + self._patience
        mine = 0  # the round this thread sends; 0: it asks alone, outside the rounds
        with self._changed:
            wanted = self._sent + 1  # the first round sent from now on
            while self._ended < wanted:
                if not self._asking:
                    self._asking = True
                    self._sent += 1
                    mine = self._sent
                    break
                left = give_up - time.monotonic()
                if left <= 0:
                    # The rounds are slow (a new connection, a password read again): ask
                    # alongside them rather than wait for two of them.
                    break
                self._changed.wait(left)
            else:
                if self._error is not None:
                    raise self._error
                return self._version
        if not mine:
            ask()
            return None
        try:
            version = ask()
        except BaseException as error:
            self._end(mine, 0, error)
            raise
        self._end(mine, version, None)
        return None

    def _end(self, round_: int, version: int, error: BaseException | None) -> None:
        with self._changed:
            self._asking = False
            self._ended, self._version, self._error = round_, version, error
            self._changed.notify_all()


class ListingCache:
    """The latest Listing for each of a few collection URLs, shared by a worker's threads."""

    def __init__(self, max_urls: int = MAX_COLLECTION_URLS) -> None:
        self._max_urls = max_urls
        self._lock = threading.Lock()
        self._listings: dict[str, Listing] = {}
        self._rounds = VersionRounds()

    def current(
        self, connection: Callable[[], extensions.connection], collection_url: str
    ) -> Listing:
        """The list as of this moment in the database: the kept one if it is still current.

        `connection` gives the request's database connection; asked only when needed.
        """
        kept = self._listings.get(collection_url)
        fetched: list[Listing] = []

        def ask() -> int:
            # The leader asks for the version and, in the same round trip and snapshot, for
            # the list if its own kept one is not of that version.
            fetched.append(self._fetch(connection(), collection_url, kept))
            return fetched[0].version

        version = self._rounds.version(ask)
        if version is None:
            return fetched[0]
        # Any list kept at that version is that version's list (the leader may just have
        # kept it, for the same URL).
        latest = self._listings.get(collection_url)
        if latest is not None and latest.version == version:
            return latest
        # Changed (or never kept for this URL): fetch it, in a snapshot later still.
        return self._fetch(connection(), collection_url, latest)

    def _fetch(
        self, conn: extensions.connection, collection_url: str, kept: Listing | None
    ) -> Listing:
        version, body = store.list_todos_since(
            conn, collection_url, kept.version if kept is not None else None
        )
        if body is None:
            # Unchanged since `kept` (the database answered no list only for its version).
            assert kept is not None
            return kept
        fresh = _listing(version, body)
        self._keep(collection_url, fresh)
        return fresh

    def _keep(self, collection_url: str, fresh: Listing) -> None:
        with self._lock:
            kept = self._listings.get(collection_url)
            if kept is not None and kept.version > fresh.version:
                return  # another thread already kept a later one
            if kept is None and len(self._listings) >= self._max_urls:
                # The oldest-kept URL makes room (dicts keep insertion order).
                del self._listings[next(iter(self._listings))]
            self._listings[collection_url] = fresh


def get_listing_cache(app: Flask | None = None) -> ListingCache:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions[_EXTENSION]


def init_app(app: Flask) -> None:
    # Made with the app, so each gunicorn worker (each builds its own app) has its own.
    app.extensions[_EXTENSION] = ListingCache()
