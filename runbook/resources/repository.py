"""ECR repositories: the private repository of the app's image (made in section III)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from runbook.aws import Aws
from runbook.plan import ApiCall
from runbook.recovery.answers import Found
from runbook.resources.kind import Create, Delete, Kind, Tagged, TagSearch, adopts, missing_on
from runbook.resources.tags import tagged as carries_tag
from runbook.resources.template import Source, Template, logical_id, untagged
from runbook.rules.combinations import tag_count
from runbook.rules.common import tag_fields
from runbook.rules.kinds import by_hand, from_schema
from runbook.rules.spec import FOUND, OWN_TEXT, Field, Operation
from runbook.rules.spec import settings_fix as fix

NAME = "image repository"
NOT_FOUND = ("RepositoryNotFoundException",)
NO_IMAGE = ("ImageNotFoundException",)
NO_LIFECYCLE_POLICY = ("LifecyclePolicyNotFoundException",)
LIFECYCLE = (
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html"
)


def _counts_positive(text: Any) -> bool:
    """countNumber, an integer (ECR lifecycle policy properties): a count of images to keep,
    so 1 or more; a setting of 0 would expire every image, the running one's too."""
    if not isinstance(text, str):
        return True
    try:
        rules = json.loads(text).get("rules", [])
    except (ValueError, AttributeError):
        return True  # not ours to judge here: ECR's own length rule and parser say it
    counts = [r.get("selection", {}).get("countNumber") for r in rules if isinstance(r, dict)]
    return all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in counts)


def find(aws: Aws, p: Mapping[str, Any]) -> Found | None:
    name = p["repositoryName"]
    got = missing_on(
        NOT_FOUND, lambda: aws.call("ecr", "describe_repositories", repositoryNames=[name])
    )
    if not got or not got["repositories"]:
        return None
    repo = got["repositories"][0]
    tags = aws.call("ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"])["tags"]
    return Found(f"image repository {name}", {"repository": repo}, tags)


def tagged(aws: Aws, deployment: str, arns: list[str]) -> Iterator[Tagged]:
    names = {arn.split(":repository/", 1)[-1] for arn in arns}
    repos: list[dict[str, Any]] = []
    if names:
        repos = (
            missing_on(
                NOT_FOUND,
                lambda: aws.call("ecr", "describe_repositories", repositoryNames=sorted(names)),
            )
            or {"repositories": []}
        )["repositories"]
    elif aws.endpoint_url:
        # An emulator's tagging API may leave ECR out: ask ECR itself, repository by repository.
        for repo in aws.call("ecr", "describe_repositories")["repositories"]:
            tags = aws.call("ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"])
            if carries_tag(tags.get("tags"), deployment):
                repos.append(repo)
    for repo in repos:
        yield Tagged(NAME, repo["repositoryName"], repo["repositoryArn"])


def as_cfn(t: Template, call: ApiCall) -> None:
    name = call.params["repositoryName"]
    logical = logical_id(name, "repository")
    properties = untagged(call.params, camel=True)
    kind, attribute = "AWS::ECR::Repository", "RepositoryUri"
    t.made(call, kind, properties, logical=logical, name=name, attribute=attribute)
    for key in call.captures:
        # What the task definition names: this repository, the version the stack is given.
        image = key.removesuffix(".repositoryUri") + ".image"
        t.sources[image] = Source(logical, sub="${" + logical + ".RepositoryUri}:${ImageTag}")
    t.parameters["ImageTag"] = {
        "Type": "String",
        "MinLength": 1,
        "Description": "The app's version to run: the tag its image was pushed with (the "
        "runbook tags each build with its git commit, git-<sha>, or a digest of its source)",
    }
    t.outputs["RepositoryUri"] = {
        "Description": "Push the app's image here, tagged with its version (docker build "
        "--platform linux/amd64 -t <RepositoryUri>:<version> todo_app)",
        "Value": {"Fn::GetAtt": [logical, "RepositoryUri"]},
    }
    t.notes.append(
        "The service runs <RepositoryUri>:<ImageTag>. Push that image while the stack creates "
        "the service (the runbook builds and pushes it itself, while the database is created; "
        "CloudFormation's deployment circuit breaker rolls the service back if it never comes)."
    )


def lifecycle_as_cfn(t: Template, call: ApiCall) -> None:
    props = t.properties(t.owner(call.params["repositoryName"]))
    props["LifecyclePolicy"] = {"LifecyclePolicyText": call.params["lifecyclePolicyText"]}


def rules() -> dict[tuple[str, str], Operation]:
    repo = "AWS::ECR::Repository"
    name = from_schema(repo, "RepositoryName")
    mutability = from_schema(repo, "ImageTagMutability")
    family = fix("task_definition.family")
    return {
        ("ecr", "create_repository"): Operation(
            (
                Field("repositoryName", name, family),
                Field("imageTagMutability", mutability, OWN_TEXT),
                *tag_fields(repo, "tags[]"),
            ),
            (tag_count("tags"),),
        ),
        ("ecr", "put_image_tag_mutability"): Operation(
            (
                Field("repositoryName", name, FOUND),
                Field("imageTagMutability", mutability, OWN_TEXT),
            )
        ),
        ("ecr", "delete_repository"): Operation((Field("repositoryName", name, FOUND),)),
        ("ecr", "put_lifecycle_policy"): Operation(
            (
                Field("repositoryName", name, family),
                Field(
                    "lifecyclePolicyText",
                    from_schema(repo, "LifecyclePolicy.LifecyclePolicyText"),
                    OWN_TEXT,
                ),
                Field(
                    "lifecyclePolicyText",
                    (
                        by_hand(
                            "each rule's countNumber must be a positive whole number",
                            LIFECYCLE,
                            _counts_positive,
                        ),
                    ),
                    fix("task_definition.images_kept"),
                ),
            )
        ),
        ("ecr", "describe_images"): Operation((Field("repositoryName", name, family),)),
        # No parameters: the token is for the caller's own registry (registryIds is deprecated).
        ("ecr", "get_authorization_token"): Operation(),
    }


KIND = Kind(
    NAME,
    section="V",
    not_found=NOT_FOUND,
    create=Create(
        "ecr", "create_repository", as_cfn, adopts("RepositoryAlreadyExistsException", find)
    ),
    translations={("ecr", "put_lifecycle_policy"): lifecycle_as_cfn},
    rules=rules,
    inventory=TagSearch("ECR repositories", tagged, arn_type="repository", tagging_service="ecr"),
    delete=Delete(
        "ecr",
        "delete_repository",
        "repositoryName",
        rank=3,
        by_name=True,
        extra={"force": True},
        with_it=" and its images",
    ),
)
