"""Everything that carries this deployment's tag, whatever its name: found by tag, not by name.

Discovery looks resources up by the names the settings give now, so a resource made under an
earlier name is out of its sight. The inventory asks by the tag instead: one paged Resource
Groups Tagging API call for most kinds, then one look at each kind to drop what is already
deleted (that API also lists resources deleted a short while ago). Each kind says how it is
looked at (runbook/resources): where that API does not answer, the services' own listings do
(IAM roles, security groups; ECR repositories against an emulator).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from runbook.aws import Aws
from runbook.errors import problem_from
from runbook.resources.kind import Tagged as Tagged  # read here by the front ends
from runbook.resources.registry import KINDS, TAGGING_SERVICES
from runbook.settings import DEPLOYMENT_TAG


@dataclass
class Inventory:
    resources: list[Tagged] = field(default_factory=list)
    # Kinds that could not be looked at, and why (e.g. AccessDenied on IAM).
    unchecked: list[str] = field(default_factory=list)


def find(aws: Aws, deployment: str) -> Inventory:
    """Every resource of ours that exists now, each kind looked at once (registry order)."""
    found = Inventory()
    arns: dict[str, list[str]] = defaultdict(list)

    def attempt(what: str, look: Callable[[], Iterable[Tagged] | None]) -> None:
        """Look at one kind; what fails is noted, and the other kinds are still looked at."""
        try:
            found.resources.extend(look() or [])
        except Exception as exc:  # one kind we cannot see must not hide the others
            problem = problem_from(exc)
            found.unchecked.append(f"{what}: {problem.code}: {problem.message}")

    def by_tagging_api() -> None:
        for arn in _tagged_arns(aws, deployment):
            arns[_arn_kind(arn)].append(arn)

    attempt("the tagging API", by_tagging_api)
    for kind in KINDS:
        search = kind.inventory
        if search is not None:
            attempt(
                search.label,
                lambda search=search: search.find(aws, deployment, arns[search.arn_type]),
            )
    return found


def _tagged_arns(aws: Aws, deployment: str) -> Iterator[str]:
    token = ""
    while True:
        page = aws.call(
            "resourcegroupstaggingapi",
            "get_resources",
            TagFilters=[{"Key": DEPLOYMENT_TAG, "Values": [deployment]}],
            ResourceTypeFilters=TAGGING_SERVICES,
            **({"PaginationToken": token} if token else {}),
        )
        for mapping in page.get("ResourceTagMappingList", []):
            yield mapping["ResourceARN"]
        token = page.get("PaginationToken", "")
        if not token:
            return


def _arn_kind(arn: str) -> str:
    """arn:aws:ecs:us-east-1:1:service/c/s -> service; ...:log-group:/ecs/x -> log-group."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    return resource.split("/", 1)[0].split(":", 1)[0]
