"""The list of todos as last sent, kept per process and reused while the database's list
version (migration 2) stays the same.

Every request still asks PostgreSQL for the version, in the same round trip that would
fetch the list: a write acknowledged to any client, by any worker or task, has bumped the
version in its own transaction, so the next request anywhere sees a new version and never
the old list. What the cache saves is PostgreSQL rendering 100 todos as JSON and Python
copying them, on every request that finds nothing changed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from flask import Flask, current_app
from psycopg2 import extensions

from todo_app import store

_EXTENSION = "todo_app.listing"

# The todos' URLs in the list are absolute, so each scheme and host the API is reached by
# (the ALB's name, a domain) has a list of its own. Clients choose the Host header: only a
# few are kept, so odd hosts cost a fetch from the database, never memory.
MAX_COLLECTION_URLS = 4


@dataclass(frozen=True)
class Listing:
    """The list's JSON at one version, and its strong ETag (a hash of those exact bytes)."""

    version: int
    body: bytes
    etag: str  # quoted, as sent in the ETag header


def _listing(version: int, body: str) -> Listing:
    data = body.encode()
    return Listing(version, data, f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"')


class ListingCache:
    """The latest Listing for each of a few collection URLs, shared by a worker's threads."""

    def __init__(self, max_urls: int = MAX_COLLECTION_URLS) -> None:
        self._max_urls = max_urls
        self._lock = threading.Lock()
        self._listings: dict[str, Listing] = {}

    def current(self, conn: extensions.connection, collection_url: str) -> Listing:
        """The list as of this moment in the database: the kept one if it is still current."""
        kept = self._listings.get(collection_url)
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
