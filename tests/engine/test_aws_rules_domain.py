"""[domain] names: what ACM and Route 53 take and the runbook can use, both ways; each value
the runbook cannot use says why and gives the value to write instead."""

from __future__ import annotations

import pytest

from runbook.aws_rules import check
from runbook.settings import Settings
from runbook.steps.domain import DomainStep
from runbook.validation import validate

BASE = Settings().replace("database", instance_class="db.t4g.micro")


def errors(**domain: str) -> dict[str, str]:
    return {f"{e.section}.{e.field}": e.rule for e in validate(BASE.replace("domain", **domain))}


@pytest.mark.parametrize(
    "name",
    [
        "todo.example.com",
        "a.io",
        "x-1.sub.example.co.uk",
        "todo.example.xn--p1ai",
        "1a.example.com",
    ],
)
def test_names_acm_and_route_53_take_are_taken_and_pass_the_calls(name: str) -> None:
    assert errors(name=name) == {}
    s = BASE.replace("domain", name=name)
    refused = [str(r) for a in DomainStep().plan(s, None) for r in check(a, {})]
    assert refused == []


@pytest.mark.parametrize(
    ("field", "value", "write"),
    [
        ("name", "Todo.Example.com", "todo.example.com"),
        ("hosted_zone", "Example.COM", "example.com"),
    ],
)
def test_capitals_are_refused_with_the_lower_case_name_and_why(
    field: str, value: str, write: str
) -> None:
    domain = {"name": "todo.example.com", field: value}
    says = errors(**domain)[f"domain.{field}"]
    assert f"lower case ({write})" in says and "Route 53" in says


def test_a_wildcard_acm_would_certify_is_refused_for_the_one_name_the_runbook_points() -> None:
    says = errors(name="*.example.com")["domain.name"]
    assert "not a wildcard" in says and "todo.example.com" in says


def test_a_final_dot_route_53_would_take_is_refused_with_the_name_without_it() -> None:
    assert "(todo.example.com)" in errors(name="todo.example.com.")["domain.name"]


@pytest.mark.parametrize(
    "name",
    ["todo_x.example.com", "-a.example.com", "a-.example.com", "example", "a" * 64 + ".com"],
)
def test_names_acm_refuses_are_refused(name: str) -> None:
    assert "domain.name" in errors(name=name)


def test_the_first_domain_is_at_most_64_characters_and_labels_63() -> None:
    name = "a" * 59 + ".a.io"  # 64 characters, labels within 63
    assert len(name) == 64 and errors(name=name) == {}
    assert "64" in errors(name="a" + name)["domain.name"]
