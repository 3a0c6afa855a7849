"""The list of todos is kept per process and revalidated with PostgreSQL on every request:
conditional GETs answer 304, every kind of write shows at once, whoever made it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg2
from flask import Flask
from flask.testing import FlaskClient

from todo_app.db import get_db
from todo_app.listing import MAX_COLLECTION_URLS, VersionRounds, get_listing_cache


def titles(response: object) -> list[str]:
    return [todo["title"] for todo in response.get_json()]  # type: ignore[attr-defined]


def test_a_conditional_get_of_an_unchanged_list_answers_304_without_it(
    client: FlaskClient,
) -> None:
    client.post("/todos", json={"title": "one"})
    first = client.get("/todos")
    etag = first.headers["ETag"]
    again = client.get("/todos", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "no-cache"
    assert "Content-Type" not in again.headers
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    # If-None-Match compares weakly, takes a list, and "*" matches any current list.
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        assert client.get("/todos", headers={"If-None-Match": header}).status_code == 304
    other = client.get("/todos", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert titles(other) == ["one"]


def test_each_kind_of_write_gives_a_new_list_and_etag(client: FlaskClient) -> None:
    todo = client.post("/todos", json={"title": "one"}).get_json()
    writes = [
        lambda: client.post("/todos", json={"title": "two", "order": 1}),
        lambda: client.patch(f"/todos/{todo['id']}", json={"completed": True}),
        lambda: client.patch(f"/todos/{todo['id']}", json={"order": 0}),
        lambda: client.delete(f"/todos/{todo['id']}"),
        lambda: client.delete("/todos"),
    ]
    expected = [["one", "two"], ["one", "two"], ["one", "two"], ["two"], []]
    completed = [False, True, True, None, None]
    for write, want, done in zip(writes, expected, completed, strict=True):
        before = client.get("/todos").headers["ETag"]
        assert write().status_code < 300
        answer = client.get("/todos", headers={"If-None-Match": before})
        assert answer.status_code == 200
        assert sorted(titles(answer)) == want
        if done is not None:
            assert [t["completed"] for t in answer.get_json() if t["id"] == todo["id"]] == [done]
        # The ETag names the exact bytes: a list that differs has another one.
        assert answer.headers["ETag"] != before


def test_a_write_made_elsewhere_shows_at_once(client: FlaskClient, database: str) -> None:
    """Another task, or psql: PostgreSQL itself tells the app its kept list is old."""
    client.post("/todos", json={"title": "mine"})
    etag = client.get("/todos").headers["ETag"]
    conn = psycopg2.connect(database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("UPDATE todos SET title = 'changed elsewhere'")
    answer = client.get("/todos", headers={"If-None-Match": etag})
    assert answer.status_code == 200
    assert titles(answer) == ["changed elsewhere"]
    with conn.cursor() as cur:
        cur.execute("TRUNCATE todos")
    conn.close()
    assert client.get("/todos").get_json() == []


def test_an_unchanged_list_is_not_rendered_again(app: Flask, client: FlaskClient) -> None:
    client.post("/todos", json={"title": "one"})
    url = "http://localhost/todos"
    with app.app_context():
        cache = get_listing_cache()
        first = cache.current(get_db, url)
        assert cache.current(get_db, url) is first
        with get_db().cursor() as cur:
            cur.execute("INSERT INTO todos (title) VALUES ('two')")
        later = cache.current(get_db, url)
    assert later is not first
    assert later.version > first.version
    assert b'"two"' in later.body


def test_each_host_gets_its_own_urls_and_odd_hosts_are_not_all_kept(
    client: FlaskClient, app: Flask
) -> None:
    todo = client.post("/todos", json={"title": "one"}).get_json()
    hosts = [f"host{n}.example" for n in range(MAX_COLLECTION_URLS + 3)]
    for _round in range(2):
        etags = set()
        for host in hosts:
            answer = client.get("/todos", headers={"Host": host})
            assert answer.get_json()[0]["url"] == f"http://{host}/todos/{todo['id']}"
            etags.add(answer.headers["ETag"])
        assert len(etags) == len(hosts)
    with app.app_context():
        assert len(get_listing_cache()._listings) == MAX_COLLECTION_URLS


def test_migrating_a_database_that_has_todos_keeps_them_and_counts_from_there(
    empty_database: str, make_app: Callable[..., Flask]
) -> None:
    from todo_app.migrations import MIGRATIONS, upgrade

    conn = psycopg2.connect(empty_database)
    conn.autocommit = True
    with conn.cursor() as cur:  # a database at version 1, as deployed before migration 2
        cur.execute(MIGRATIONS[0].sql)
        cur.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'create todos')")
        cur.execute("INSERT INTO todos (title) VALUES ('from before')")
    assert upgrade(conn) == [m.version for m in MIGRATIONS[1:]]
    conn.close()
    client = make_app(empty_database).test_client()
    etag = client.get("/todos").headers["ETag"]
    assert titles(client.get("/todos")) == ["from before"]
    client.post("/todos", json={"title": "after"})
    answer = client.get("/todos", headers={"If-None-Match": etag})
    assert titles(answer) == ["from before", "after"]


def wait_for_waiters(rounds: VersionRounds, count: int) -> None:
    """Until `count` threads wait for the next round (Condition keeps its waiters)."""
    deadline = time.monotonic() + 10
    while len(rounds._changed._waiters) < count:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the threads never came to wait"
        time.sleep(0.001)


def test_threads_arriving_during_a_question_share_the_next_one_not_that_one() -> None:
    rounds = VersionRounds(patience_seconds=60)  # never tired of waiting, here
    asking, release = threading.Event(), threading.Event()
    later_asks: list[int] = []
    answers: dict[str, int | None] = {}

    def first_ask() -> int:
        asking.set()
        assert release.wait(10)
        return 1  # the version as of before the later threads arrived: not theirs

    def later_ask() -> int:
        later_asks.append(1)
        return 2

    def run(name: str, ask: Callable[[], int]) -> threading.Thread:
        thread = threading.Thread(target=lambda: answers.__setitem__(name, rounds.version(ask)))
        thread.start()
        return thread

    threads = [run("first", first_ask)]
    assert asking.wait(10)
    threads += [run(name, later_ask) for name in ("b", "c", "d")]
    wait_for_waiters(rounds, 3)
    release.set()
    for thread in threads:
        thread.join(10)
    assert answers["first"] is None  # it asked, and has its answer from its own ask
    later = sorted((answers[name] for name in "bcd"), key=lambda v: v is None)
    assert later == [2, 2, None]  # one of them asked again, for all three
    assert later_asks == [1]
    # Alone, a thread asks at once.
    assert rounds.version(later_ask) is None
    assert later_asks == [1, 1]


def test_a_failed_question_leaves_the_waiters_to_ask_again() -> None:
    rounds = VersionRounds(patience_seconds=60)  # never tired of waiting, here
    asking, release = threading.Event(), threading.Event()
    answers: list[int | None] = []

    def failing_ask() -> int:
        asking.set()
        assert release.wait(10)
        raise psycopg2.OperationalError("the database went away")

    def failing() -> None:
        try:
            rounds.version(failing_ask)
        except psycopg2.OperationalError:
            answers.append(-1)

    first = threading.Thread(target=failing)
    first.start()
    assert asking.wait(10)
    second = threading.Thread(target=lambda: answers.append(rounds.version(lambda: 5)))
    second.start()
    wait_for_waiters(rounds, 1)
    release.set()
    first.join(10)
    second.join(10)
    assert sorted(answers, key=str) == [-1, None]


def test_an_error_is_the_answer_of_everyone_who_waited_for_that_question() -> None:
    """While the database is away, each waiting request fails after one question, not after
    every question asked before its own."""
    rounds = VersionRounds(patience_seconds=60)  # never tired of waiting, here
    asking, release = threading.Event(), threading.Event()
    failing_asks: list[int] = []
    outcomes: list[str] = []

    def first_ask() -> int:
        asking.set()
        assert release.wait(10)
        return 1

    def failing_ask() -> int:
        failing_asks.append(1)
        raise psycopg2.OperationalError("the database went away")

    def run(ask: Callable[[], int]) -> None:
        try:
            outcomes.append(f"answer {rounds.version(ask)}")
        except psycopg2.OperationalError:
            outcomes.append("error")

    threads = [threading.Thread(target=run, args=(first_ask,))]
    threads[0].start()
    assert asking.wait(10)
    threads += [threading.Thread(target=run, args=(failing_ask,)) for _ in range(3)]
    for thread in threads[1:]:
        thread.start()
    wait_for_waiters(rounds, 3)
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["answer None", "error", "error", "error"]
    assert failing_asks == [1]  # one question failed, for all three


def test_a_thread_tired_of_waiting_for_slow_rounds_asks_alone() -> None:
    rounds = VersionRounds(patience_seconds=0.05)
    asking, release = threading.Event(), threading.Event()

    def stuck_ask() -> int:
        asking.set()
        assert release.wait(10)
        return 1

    first = threading.Thread(target=rounds.version, args=(stuck_ask,))
    first.start()
    assert asking.wait(10)
    own_asks: list[int] = []
    # Still stuck: the second thread gave up waiting and asked itself.
    assert rounds.version(lambda: own_asks.append(1) or 2) is None
    assert own_asks == [1]
    release.set()
    first.join(10)
