"""What a call's answers mean when it may have been sent twice: the shape each kind fills in.

A lost answer leaves a create done in AWS but unknown to us; sending it again then meets
"already exists", or (for a call with no such answer) makes a second one. A Recovery says
which answers mean "it exists: look it up", "it is already done" or "not visible yet: wait",
how to look it up, whether to look before sending again, and which idempotency token the
call takes. Each resource kind (runbook/resources) declares its calls' recoveries; steps stay
as they are: what they declare (done_on, retry_on) still counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runbook.recovery.faults import error_code, is_client_error
from runbook.settings import DEPLOYMENT_TAG


@dataclass(frozen=True)
class Found:
    """What a create made, found after its answer was lost."""

    what: str  # "security group flask-todo-elb-sg", for messages
    response: dict[str, Any]  # shaped like the create's answer
    tags: Any


# (the AWS client, the create's parameters) -> what it made, or None. The client is the
# caller's runbook.aws.Aws; typed loosely so that recovery stays below it.
Lookup = Callable[[Any, Mapping[str, Any]], Found | None]


@dataclass(frozen=True)
class Answer:
    """An AWS error answer: its code, and a piece of its message when the code is shared."""

    code: str
    says: str = ""

    def matches(self, exc: BaseException) -> bool:
        if not is_client_error(exc) or error_code(exc) != self.code:
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
