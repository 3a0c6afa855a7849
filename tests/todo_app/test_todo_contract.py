"""The Todo-Backend specification's behaviours (todobackend.com), plus the fields we promise."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient


def post(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/todos", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def path_of(url: str) -> str:
    # The test client takes the path; the url is absolute (http://localhost/todos/1).
    assert url.startswith("http://localhost/")
    return url.removeprefix("http://localhost")


# -- the specification's own tests, in its order ------------------------------------------


def test_the_api_root_responds_to_a_get(client: FlaskClient) -> None:
    response = client.get("/todos")
    assert response.status_code == 200
    assert response.get_json() == []
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_api_root_responds_to_a_post_with_the_todo_which_was_posted(
    client: FlaskClient,
) -> None:
    assert post(client, {"title": "a todo"})["title"] == "a todo"


def test_after_a_delete_the_api_root_answers_an_empty_array(client: FlaskClient) -> None:
    post(client, {"title": "a todo"})
    post(client, {"title": "another"})
    deleted = client.delete("/todos")
    assert deleted.status_code == 204
    assert client.get("/todos").get_json() == []


def test_a_posted_todo_shows_up_in_the_list(client: FlaskClient) -> None:
    post(client, {"title": "walk the dog"})
    todos = client.get("/todos").get_json()
    assert len(todos) == 1
    assert todos[0]["title"] == "walk the dog"


def test_a_new_todo_is_not_completed_and_has_a_url_both_when_posted_and_listed(
    client: FlaskClient,
) -> None:
    created = post(client, {"title": "blah"})
    (listed,) = client.get("/todos").get_json()
    for todo in (created, listed):
        assert todo["completed"] is False
        assert isinstance(todo["url"], str)


def test_a_new_todos_url_returns_that_todo(client: FlaskClient) -> None:
    created = post(client, {"title": "my todo"})
    fetched = client.get(path_of(created["url"]))
    assert fetched.status_code == 200
    assert fetched.get_json()["title"] == "my todo"


def test_can_navigate_from_the_list_to_each_todo(client: FlaskClient) -> None:
    post(client, {"title": "todo the first"})
    post(client, {"title": "todo the second"})
    todos = client.get("/todos").get_json()
    assert len(todos) == 2
    assert client.get(path_of(todos[0]["url"])).get_json()["title"] == "todo the first"


def test_can_patch_the_title(client: FlaskClient) -> None:
    url = post(client, {"title": "initial title"})["url"]
    patched = client.patch(path_of(url), json={"title": "bathe the cat"})
    assert patched.status_code == 200
    assert patched.get_json()["title"] == "bathe the cat"


def test_can_patch_completedness(client: FlaskClient) -> None:
    url = post(client, {"title": "blah"})["url"]
    assert client.patch(path_of(url), json={"completed": True}).get_json()["completed"] is True


def test_changes_are_persisted_in_the_todo_and_in_the_list(client: FlaskClient) -> None:
    url = post(client, {"title": "blah"})["url"]
    client.patch(path_of(url), json={"title": "changed title", "completed": True})
    refetched = client.get(path_of(url)).get_json()
    (listed,) = client.get("/todos").get_json()
    for todo in (refetched, listed):
        assert todo["title"] == "changed title"
        assert todo["completed"] is True


def test_can_delete_a_todo_by_its_url(client: FlaskClient) -> None:
    url = post(client, {"title": "blah"})["url"]
    assert client.delete(path_of(url)).status_code == 204
    assert client.get("/todos").get_json() == []
    assert client.get(path_of(url)).status_code == 404


def test_can_create_a_todo_with_an_order(client: FlaskClient) -> None:
    assert post(client, {"title": "blah", "order": 523})["order"] == 523


def test_can_patch_the_order_and_it_is_remembered(client: FlaskClient) -> None:
    url = post(client, {"title": "blah", "order": 10})["url"]
    assert client.patch(path_of(url), json={"order": 95}).get_json()["order"] == 95
    assert client.get(path_of(url)).get_json()["order"] == 95


# -- what this API adds to the specification ----------------------------------------------


def test_a_todo_has_every_field_and_location_names_its_url(client: FlaskClient) -> None:
    response = client.post("/todos", json={"title": "blah", "completed": True, "order": 3})
    todo = response.get_json()
    assert set(todo) == {"id", "title", "completed", "order", "url", "created_at", "updated_at"}
    assert isinstance(todo["id"], int)
    assert todo["completed"] is True
    assert todo["url"] == f"http://localhost/todos/{todo['id']}"
    assert response.headers["Location"] == todo["url"]
    assert datetime.fromisoformat(todo["created_at"]).utcoffset() == timedelta(0)  # UTC
    assert todo["updated_at"] == todo["created_at"]


def test_a_new_todo_without_an_order_has_a_null_order(client: FlaskClient) -> None:
    assert post(client, {"title": "blah"})["order"] is None


def test_patching_moves_updated_at_and_leaves_other_fields(client: FlaskClient) -> None:
    todo = post(client, {"title": "blah", "order": 4})
    patched = client.patch(path_of(todo["url"]), json={"completed": True}).get_json()
    assert patched["title"] == "blah" and patched["order"] == 4
    assert patched["created_at"] == todo["created_at"]
    assert datetime.fromisoformat(patched["updated_at"]) > datetime.fromisoformat(
        todo["updated_at"]
    )


def test_order_can_be_cleared_with_null(client: FlaskClient) -> None:
    url = post(client, {"title": "blah", "order": 4})["url"]
    assert client.patch(path_of(url), json={"order": None}).get_json()["order"] is None


def test_an_empty_patch_changes_nothing(client: FlaskClient) -> None:
    todo = post(client, {"title": "blah"})
    assert client.patch(path_of(todo["url"]), json={}).get_json() == todo


def test_unknown_keys_such_as_a_sent_back_todo_are_ignored(client: FlaskClient) -> None:
    todo = post(client, {"title": "blah", "id": 999, "url": "http://elsewhere/x", "extra": 1})
    assert todo["id"] != 999 and todo["url"].startswith("http://localhost/todos/")
    patched = client.patch(path_of(todo["url"]), json={**todo, "title": "new"}).get_json()
    assert patched["title"] == "new" and patched["id"] == todo["id"]


def test_list_is_by_order_then_creation_with_unordered_todos_last(client: FlaskClient) -> None:
    for title, order in [("c", 2), ("no order 1", None), ("a", 1), ("b", 2), ("no order 2", None)]:
        post(client, {"title": title, "order": order})
    titles = [todo["title"] for todo in client.get("/todos").get_json()]
    assert titles == ["a", "c", "b", "no order 1", "no order 2"]


def test_title_of_exactly_500_characters_and_unicode_are_kept(client: FlaskClient) -> None:
    title = "ü" * 499 + "✓"
    assert post(client, {"title": title})["title"] == title


def test_urls_follow_the_load_balancers_scheme_and_host(client: FlaskClient) -> None:
    # (Named so: tests/sandbox/test_end_to_end.py leaves out this one, which plays the proxy.)
    # What an ALB's HTTPS listener sends: the client's Host, and -Proto/-Port/-For it sets.
    headers = {
        "Host": "todo.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        "X-Forwarded-For": "203.0.113.7",
    }
    response = client.post("/todos", json={"title": "behind the ALB"}, headers=headers)
    todo = response.get_json()
    assert todo["url"] == f"https://todo.example.com/todos/{todo['id']}"
    assert response.headers["Location"] == todo["url"]
    (listed,) = client.get("/todos", headers=headers).get_json()
    assert listed["url"] == todo["url"]


def test_the_host_header_names_the_urls_with_its_port(client: FlaskClient) -> None:
    headers = {"Host": "flask-todo-elb-1.us-east-1.elb.amazonaws.com", "X-Forwarded-Proto": "http"}
    todo = client.post("/todos", json={"title": "x"}, headers=headers).get_json()
    assert todo["url"].startswith("http://flask-todo-elb-1.us-east-1.elb.amazonaws.com/todos/")
    headers = {"Host": "todo.example.com:8080", "X-Forwarded-Proto": "http"}
    todo = client.post("/todos", json={"title": "y"}, headers=headers).get_json()
    assert todo["url"].startswith("http://todo.example.com:8080/todos/")


def test_x_forwarded_host_never_names_the_urls(client: FlaskClient) -> None:
    # An ALB sets no X-Forwarded-Host: one that arrives is the client's own, and would
    # point the Location of a new todo at any site.
    headers = {"Host": "todo.example.com", "X-Forwarded-Host": "evil.example"}
    response = client.post("/todos", json={"title": "x"}, headers=headers)
    assert response.headers["Location"].startswith("http://todo.example.com/todos/")
    assert "evil" not in response.get_data(as_text=True)
    assert "evil" not in client.get("/todos", headers=headers).get_data(as_text=True)


def test_the_collection_also_answers_with_a_trailing_slash(client: FlaskClient) -> None:
    assert client.post("/todos/", json={"title": "x"}).status_code == 201
    assert len(client.get("/todos/").get_json()) == 1
