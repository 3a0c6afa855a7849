"""A scripted engine for UI tests: the real engine's planning, with its runs told, not made.

Each section's calls are the real offline plan (step.plan with nothing discovered); the values
they need from earlier sections are checked as the engine checks them (NeedsEarlierSection,
before any call); the run is confirmed through the app's own dialog; then it sends the
engine's real events in the order a run sends them (started, each call made, each wait
ticking then over, finished) and records the section in the state file as the engine does,
with the values its calls made. A call AWS refuses, or a wait that sees a failure, is told
too (`fails`), and ends the run as the engine ends it: the call's failed CallMade, the state
recorded failed, StepFailed with the code, message, advice and details, RunbookError.

No AWS, no emulator: what the app shows of a run is tested in milliseconds; a few tests keep
full runs through the real engine on the emulator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook import inputs
from runbook.engine import Confirm, Runbook, yes
from runbook.errors import Problem, RunbookError, advice_for, problem_from, wait_failed_code
from runbook.events import CallMade, StepFailed, StepFinished, StepStarted, Waiting
from runbook.plan import Action, ApiCall, Wait
from runbook.settings import Settings
from runbook.steps import Step

CALL_SECONDS = 0.01
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Refused:
    """AWS's answer to one call: an error code and message (as a ClientError carries them)."""

    code: str
    message: str


@dataclass(frozen=True)
class WaitFailed:
    """What a wait saw instead of success (its `until` verdict), and the details the engine
    reads to explain it (RDS's events, a stopped task's reason)."""

    verdict: str
    details: tuple[str, ...] = ()


Failure = Refused | WaitFailed


class ScriptedEngine(Runbook):
    """Built as the engine is (settings, no AWS, a state file, a listener); `apply` is told.

    waits: the elapsed seconds each wait reports before it is over (one Waiting each).
    made: values the calls return, by key (as captured); any output key not given gets a
        value in AWS's own shape (made_value).
    fails: by boto3 operation name (create_security_group, describe_db_instances), what AWS
        answers that call or what that wait sees: the run ends there, failed.
    """

    def __init__(
        self,
        *args: Any,
        waits: tuple[float, ...] = (0.0, 5.0),
        made: Mapping[str, Any] | None = None,
        fails: Mapping[str, Failure] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.waits = waits
        self.made = dict(made or {})
        self.fails = dict(fails or {})
        self.applied: list[str] = []  # the sections run, in order

    def apply(self, step: Step, confirm: Confirm = yes) -> bool:
        if not step.enabled(self.settings):
            self.state.record(step.number, "skipped")
            self.emit(StepFinished(step.number, "skipped"))
            return True
        self.emit(StepStarted(step.number, step.title))
        actions = self.plan(step, offline=True)
        try:
            # As the engine's check_inputs: the state file's values count (no AWS to look
            # again), a value no section has made refuses the section before its first call.
            wanted = inputs.needed(step, self.settings, actions)
            self._learn(self._returned(step, self._discovered(step, wanted)))
            missing = self._known.missing(wanted)
            if missing:
                raise RunbookError(inputs.missing_problem(step, missing, self.steps, self.settings))
            if actions and not confirm(step, actions):
                self.emit(StepFinished(step.number, "declined"))
                return False
            self.remember()
            self.state.record(step.number, "running")
            for action in actions:
                self._tell(action)
        except RunbookError as exc:
            problem = exc.problem
            self.state.record(step.number, "failed", error=f"{problem.code}: {problem.message}")
            self.emit(
                StepFailed(step.number, problem.code, problem.message, problem.advice, exc.details)
            )
            raise
        # What the calls returned, as the executor captures it (the image's name is derived).
        self._learn(self._returned(step, self._own(step)))
        known = self._known.values
        outputs = {k: known[k] for k in step.output_keys(self.settings) if k in known}
        self.applied.append(step.number)
        self.state.record(step.number, "done", outputs)
        self.emit(StepFinished(step.number, "done", outputs, CALL_SECONDS * len(actions)))
        return True

    def _own(self, step: Step) -> list[str]:
        return step.output_keys(self.settings)

    def _discovered(self, step: Step, wanted: list[str]) -> list[str]:
        """The wanted keys discovery finds: this section's own (the default VPC for section I),
        and those of an earlier section that has run or is running (the emulator, like AWS,
        shows a database's endpoint while it is still being created)."""
        found = []
        for key in self._known.missing(wanted):
            maker = inputs.producer(key, self.steps, self.settings)
            if maker is step or (
                maker is not None and self.state.get(maker.number).status in ("running", "done")
            ):
                found.append(key)
        return found

    def _returned(self, step: Step, keys: list[str]) -> dict[str, Any]:
        """What AWS answers for these keys: as told (`made`), else in AWS's shape."""
        values = {k: self.made.get(k) or made_value(k, self.settings) for k in keys}
        return {k: v for k, v in values.items() if v is not None}

    def _tell(self, action: Action) -> None:
        """One call or wait's events, as the executor sends them; raises where it fails."""
        failure = self.fails.get(action.operation)
        if isinstance(action, ApiCall):
            outcome, result = ("ok", "ok") if failure is None else (failure.code, "failed")
            self.emit(
                CallMade(
                    action.section,
                    action.service,
                    action.operation,
                    dict(action.params),
                    outcome,
                    CALL_SECONDS,
                    action.mutating,
                    result,  # type: ignore[arg-type]
                )
            )
            if isinstance(failure, Refused):
                raise RunbookError(problem_from(client_error(failure, action), action.operation))
            return
        assert isinstance(action, Wait)
        for elapsed in self.waits:
            self.emit(Waiting(action.section, action.what, elapsed))
            self.sleep(0)  # where a closing app stops it, as in a real wait
        if isinstance(failure, WaitFailed):
            code = wait_failed_code(action.service)
            problem = Problem(
                code, f"{action.what}: {failure.verdict}", advice_for(code), action.operation
            )
            raise RunbookError(problem, failure.details)
        self.emit(Waiting(action.section, action.what, self.waits[-1], "done", True))


def client_error(refused: Refused, action: ApiCall) -> Exception:
    """The ClientError botocore raises for this answer."""
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": refused.code, "Message": refused.message}}, action.operation
    )


def made_value(key: str, s: Settings) -> Any:
    """A value for an output key ("<name>.<attribute>") in the shape AWS gives it; None for
    one the engine derives itself (the image's name)."""
    name, _, attribute = key.partition(".")
    region = s.deployment.region
    tail = hashlib.sha256(key.encode()).hexdigest()[:17]
    arn = f"arn:aws:{{}}:{region}:{ACCOUNT}:{{}}"
    shapes: dict[str, Any] = {
        "VpcId": f"vpc-{tail}",
        "SubnetIds": [f"subnet-{tail[:-1]}{n}" for n in "ab"],
        "GroupId": f"sg-{tail}",
        "LoadBalancerArn": arn.format(
            "elasticloadbalancing", f"loadbalancer/app/{name}/{tail[:16]}"
        ),
        "DNSName": f"{name}-{int(tail[:8], 16)}.{region}.elb.amazonaws.com",
        "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K",
        "HTTP.ListenerArn": arn.format(
            "elasticloadbalancing", f"listener/app/{name}/{tail[:16]}/{tail[1:]}"
        ),
        "TargetGroupArn": arn.format("elasticloadbalancing", f"targetgroup/{name}/{tail[:16]}"),
        "clusterArn": arn.format("ecs", f"cluster/{name}"),
        "repositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}",
        "DBInstanceArn": arn.format("rds", f"db:{name}"),
        "Endpoint.Address": f"{name}.{tail[:12]}.{region}.rds.amazonaws.com",
        "Endpoint.Port": 5432,
        "MasterUserSecret.SecretArn": arn.format("secretsmanager", f"secret:rds!db-{tail}"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "taskDefinitionArn": arn.format("ecs", f"task-definition/{name}:1"),
        "Id": ACCOUNT,
        "serviceArn": arn.format("ecs", f"service/{s.cluster.name}/{name}"),
    }
    return shapes.get(attribute)


def made_before(s: Settings, *numbers: str) -> dict[str, Any]:
    """What discovery finds of these sections, made by an earlier run: each output key's value
    in AWS's shape (give it as the engine's `known` to run a later section alone)."""
    from runbook.steps import STEPS

    keys = [k for step in STEPS if step.number in numbers for k in step.output_keys(s)]
    values = {key: made_value(key, s) for key in keys}
    return {k: v for k, v in values.items() if v is not None}
