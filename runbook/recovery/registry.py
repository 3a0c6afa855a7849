"""What each call's answers mean when it may have been sent twice, keyed by (service, operation).

A lost answer leaves a create done in AWS but unknown to us; sending it again then meets
"already exists", or (for a call with no such answer) makes a second one. Each entry says
which answers mean "it exists: look it up", "it is already done" or "not visible yet: wait",
how to look it up, whether to look before sending again, and which idempotency token the
call takes. Steps stay as they are: what they declare (done_on, retry_on) still counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runbook.recovery import lookups
from runbook.recovery.faults import error_code
from runbook.recovery.lookups import Lookup
from runbook.settings import DEPLOYMENT_TAG


@dataclass(frozen=True)
class Answer:
    """An AWS error answer: its code, and a piece of its message when the code is shared."""

    code: str
    says: str = ""

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, ClientError) or error_code(exc) != self.code:
            return False
        return self.says.lower() in str(exc.response.get("Error", {}).get("Message", "")).lower()


@dataclass(frozen=True)
class Token:
    """An idempotency token parameter: AWS returns the first result for a repeated token."""

    param: str
    length: int


@dataclass(frozen=True)
class Recovery:
    exists: tuple[Answer, ...] = ()  # "it already exists": look it up, check it is ours
    find: Lookup | None = None
    # No "already exists" answer (or the emulator makes a second one): look before resending.
    look_first: bool = False
    done: tuple[Answer, ...] = ()  # "already done": a repeated delete, a rule already there
    not_yet: tuple[Answer, ...] = ()  # eventual consistency: wait and send again
    token: Token | None = None

    def already_exists(self, exc: BaseException) -> bool:
        return any(a.matches(exc) for a in self.exists)

    def already_done(self, exc: BaseException) -> bool:
        return any(a.matches(exc) for a in self.done)

    def not_visible_yet(self, exc: BaseException) -> bool:
        return any(a.matches(exc) for a in self.not_yet)

    def with_token(self, params: dict[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters with the call's idempotency token, unless the step set one.

        The token is a digest of the shown parameters (secrets masked, so it reveals
        nothing): the same plan sends the same token on every run, and a plan made after a
        teardown (new IDs in it) sends a new one.
        """
        if self.token is None or self.token.param in params:
            return params
        text = json.dumps(shown, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[: self.token.length]
        return {**params, self.token.param: digest}


NOTHING = Recovery()

# Sources: each service's API reference (errors of Create*/Delete*), and ECS's "Ensuring
# idempotency" (docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html).
RECOVERIES: dict[tuple[str, str], Recovery] = {
    # -- I. security groups ------------------------------------------------------------------
    ("ec2", "create_security_group"): Recovery(
        exists=(Answer("InvalidGroup.Duplicate"),), find=lookups.security_group
    ),
    ("ec2", "authorize_security_group_ingress"): Recovery(
        done=(Answer("InvalidPermission.Duplicate"),),
        not_yet=(Answer("InvalidGroup.NotFound"),),
    ),
    ("ec2", "delete_security_group"): Recovery(done=(Answer("InvalidGroup.NotFound"),)),
    # -- II. load balancer -------------------------------------------------------------------
    # AWS answers a repeated create with the same settings with the existing one; the
    # emulator makes a second load balancer or listener: look before sending again.
    ("elbv2", "create_target_group"): Recovery(
        exists=(Answer("DuplicateTargetGroupName"),), find=lookups.target_group, look_first=True
    ),
    ("elbv2", "create_load_balancer"): Recovery(
        exists=(Answer("DuplicateLoadBalancerName"),),
        find=lookups.load_balancer,
        look_first=True,
        # ELB's words for a security group made a moment ago that it cannot see yet.
        not_yet=(Answer("InvalidSecurityGroup", "does not exist"),),
    ),
    ("elbv2", "create_listener"): Recovery(
        exists=(Answer("DuplicateListener"),), find=lookups.listener, look_first=True
    ),
    ("elbv2", "delete_load_balancer"): Recovery(done=(Answer("LoadBalancerNotFound"),)),
    ("elbv2", "delete_target_group"): Recovery(done=(Answer("TargetGroupNotFound"),)),
    ("elbv2", "delete_listener"): Recovery(done=(Answer("ListenerNotFound"),)),
    # -- III. cluster ------------------------------------------------------------------------
    ("iam", "create_service_linked_role"): Recovery(
        # Account-wide, never ours: made by our first attempt or anyone else, it will do.
        # AWS says "has been taken"; the emulator says EntityAlreadyExists.
        done=(Answer("InvalidInput", "has been taken"), Answer("EntityAlreadyExists")),
    ),
    ("ecs", "create_cluster"): Recovery(
        not_yet=(Answer("InvalidParameterException", "service linked role"),)
    ),
    ("ecs", "delete_cluster"): Recovery(done=(Answer("ClusterNotFoundException"),)),
    ("logs", "create_log_group"): Recovery(
        exists=(Answer("ResourceAlreadyExistsException"),), find=lookups.log_group
    ),
    ("logs", "delete_log_group"): Recovery(done=(Answer("ResourceNotFoundException"),)),
    # -- IV. database ------------------------------------------------------------------------
    ("secretsmanager", "create_secret"): Recovery(
        exists=(Answer("ResourceExistsException"),),
        find=lookups.secret,
        # 32 to 64 characters; botocore fills one per call, but a resend is a new call.
        token=Token("ClientRequestToken", 64),
    ),
    ("secretsmanager", "delete_secret"): Recovery(
        done=(
            Answer("ResourceNotFoundException"),
            Answer("InvalidRequestException", "marked for deletion"),
        )
    ),
    ("rds", "create_db_instance"): Recovery(
        exists=(Answer("DBInstanceAlreadyExists"),), find=lookups.db_instance
    ),
    ("rds", "delete_db_instance"): Recovery(
        done=(
            Answer("DBInstanceNotFound"),
            Answer("DBInstanceNotFoundFault"),
            Answer("InvalidDBInstanceState", "already being deleted"),
        )
    ),
    # -- V. task definition ------------------------------------------------------------------
    ("iam", "create_role"): Recovery(exists=(Answer("EntityAlreadyExists"),), find=lookups.role),
    ("iam", "delete_role"): Recovery(done=(Answer("NoSuchEntity"),)),
    ("iam", "delete_role_policy"): Recovery(done=(Answer("NoSuchEntity"),)),
    ("iam", "detach_role_policy"): Recovery(done=(Answer("NoSuchEntity"),)),
    ("ecr", "create_repository"): Recovery(
        exists=(Answer("RepositoryAlreadyExistsException"),), find=lookups.repository
    ),
    ("ecr", "delete_repository"): Recovery(done=(Answer("RepositoryNotFoundException"),)),
    ("ecs", "register_task_definition"): Recovery(
        # Every register makes a revision: after a lost answer, look before registering again.
        find=lookups.task_definition,
        look_first=True,
        # ECS's words for an execution role made a moment ago that it cannot use yet.
        not_yet=(Answer("ClientException", "role is not valid"),),
    ),
    # -- VI. service -------------------------------------------------------------------------
    ("ecs", "create_service"): Recovery(
        # A repeated clientToken with the same parameters returns the service; otherwise
        # ECS answers "Creation of service was not idempotent".
        exists=(Answer("InvalidParameterException", "not idempotent"),),
        find=lookups.service,
        not_yet=(
            Answer("InvalidParameterException", "service linked role"),
            Answer("InvalidParameterException", "does not have an associated load balancer"),
            Answer("InvalidParameterException", "does not exist"),
        ),
        token=Token("clientToken", 36),  # up to 36 ASCII characters
    ),
    ("ecs", "delete_service"): Recovery(
        done=(Answer("ServiceNotFoundException"), Answer("ServiceNotActiveException"))
    ),
    # Sent again after a lost answer: a count or a task definition set twice is set once.
    # A forceNewDeployment (day two's redeploy) sent twice starts a second deployment that
    # replaces the first one's new tasks: the same end (fresh tasks of the same revision),
    # one rollout more. UpdateService takes no client token to tell the two apart.
    ("ecs", "update_service"): NOTHING,
    # -- VII. HTTPS and domain ---------------------------------------------------------------
    # The step sets IdempotencyToken (valid for an hour); the same token, the same certificate.
    ("acm", "request_certificate"): Recovery(token=Token("IdempotencyToken", 32)),
    ("acm", "delete_certificate"): Recovery(done=(Answer("ResourceNotFoundException"),)),
    # -- VIII. auto scaling ------------------------------------------------------------------
    # "Registers or updates a scalable target": the same range sent twice is the same range.
    ("application-autoscaling", "register_scalable_target"): NOTHING,
    ("application-autoscaling", "deregister_scalable_target"): Recovery(
        # AWS answers ObjectNotFoundException; the emulator, a ValidationException.
        done=(
            Answer("ObjectNotFoundException"),
            Answer("ValidationException", "no scalable target found"),
        )
    ),
}


def recovery_for(service: str, operation: str) -> Recovery:
    """What the call's answers mean; calls not listed (tagging, modify, put) are idempotent."""
    return RECOVERIES.get((service, operation), NOTHING)


def deployment_of(params: Any) -> str | None:
    """The deployment named by our tag in a create's parameters, in any service's tag shape."""
    if isinstance(params, Mapping):
        if params.get(DEPLOYMENT_TAG) is not None:  # {key: value}, as CloudWatch Logs takes
            return str(params[DEPLOYMENT_TAG])
        key = params.get("Key", params.get("key"))
        if key == DEPLOYMENT_TAG:
            return str(params.get("Value", params.get("value")))
        values: Any = params.values()
    elif isinstance(params, list | tuple):
        values = params
    else:
        return None
    for value in values:
        found = deployment_of(value)
        if found is not None:
            return found
    return None
