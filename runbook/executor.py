"""Carry out a plan: resolve references, make each call, capture outputs, poll waits.

Every call survives AWS's faults: throttling, server errors and lost connections are sent
again with backoff (runbook/aws.py), and a create whose answer was lost is found, not made
twice (runbook/recovery). Sleep and clock are passed in, so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from runbook.aws import Aws
from runbook.aws_rules import refuse_if_broken
from runbook.errors import (
    Problem,
    RunbookError,
    advice_for,
    error_code,
    problem_from,
    wait_failed_code,
)
from runbook.events import CallMade, CallResult, Listener, Waiting
from runbook.plan import Action, ApiCall, Wait, capture, render, resolve
from runbook.recovery.answers import Found, Recovery, deployment_of
from runbook.recovery.faults import Fault
from runbook.resources.registry import recovery_for
from runbook.settings import DEPLOYMENT_TAG
from runbook.steps.base import tagged

# Eventual consistency: a role or group made seconds ago may not be visible everywhere yet.
CONSISTENCY_DELAYS = (2, 4, 8, 15, 30, 30, 30)
ALREADY_DONE: CallResult = "already done"
SENDING_AGAIN = ", sending again"  # a CallMade outcome's end (for people) when it is sent again


@dataclass
class Executor:
    aws: Aws
    known: dict[str, Any]
    emit: Listener
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    # How often a Waiting event reports progress (seconds).
    report_every: float = 5.0
    delays: tuple[float, ...] = field(default=CONSISTENCY_DELAYS)

    def run(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Wait):
                self.wait(action)
            else:
                self.call(action)

    def call(self, action: ApiCall) -> dict[str, Any]:
        # AWS's documented rules, with the values known now: a refused call never leaves.
        refuse_if_broken(action, self.known, getattr(self.aws, "region", None))
        params = resolve(action.params, self.known, reveal=True)
        shown = render(action.params, self.known)
        response = self.send(action, params, shown)
        failed = action.failed(response) if action.failed and response else ""
        if failed:
            raise RunbookError(
                Problem(
                    "PartlyFailed",
                    failed,
                    "Read AWS's reasons above, free what they name, and run again: the runbook "
                    "only looks for what is left.",
                    action.operation,
                )
            )
        return response

    def send(
        self, action: ApiCall, params: dict[str, Any], shown: dict[str, Any]
    ) -> dict[str, Any]:
        """Send until AWS has done it (or had done it already); capture what it answers."""
        # Here, not at the top: only a run that calls AWS (which loads botocore) needs it.
        from botocore.exceptions import ClientError

        recovery = recovery_for(action.service, action.operation)
        params = recovery.with_token(params, shown)
        shown = recovery.with_token(shown, shown)
        not_yet = iter(self.delays)
        while True:
            started = self.clock()
            found: list[Found] = []

            def look_first(recovery: Recovery = recovery, found: list[Found] = found) -> Any:
                hit = self._find(action, recovery, params)
                found[:] = [hit] if hit else []
                return hit.response if hit else None

            def told(fault: Fault, seconds: float, again: bool) -> None:
                if again:
                    self._made(action, shown, round(seconds, 3), "sending again", fault.code)
                else:
                    self._made(action, shown, round(seconds, 3), "failed", fault.code)

            try:
                response = self.aws.request(
                    action.service,
                    action.operation,
                    params,
                    # The runbook reads AWS's answer to a resend; some calls need a look first.
                    before_resend=look_first if recovery.look_first else lambda: None,
                    on_fault=told,
                )
            except ClientError as exc:
                code = error_code(exc)
                took = round(self.clock() - started, 3)
                # "Already exists" first: a step may count it as done, but its outputs are
                # still to capture, and whose it is still to check.
                if recovery.already_exists(exc):
                    hit = self._find(action, recovery, params)
                    if hit is not None:
                        self._made(action, shown, took, ALREADY_DONE)
                        capture(action, hit.response, self.known)
                        return hit.response
                    # AWS says it exists, yet a look-up does not show it: not visible yet.
                elif code in action.done_on or recovery.already_done(exc):
                    self._made(action, shown, took, ALREADY_DONE)
                    return {}
                elif not (code in action.retry_on or recovery.not_visible_yet(exc)):
                    self._made(action, shown, took, "failed", code)
                    raise RunbookError(problem_from(exc, action.operation)) from exc
                delay = next(not_yet, None)
                again: CallResult = "failed" if delay is None else "sending again"
                self._made(action, shown, took, again, code)
                if delay is None:
                    raise RunbookError(problem_from(exc, action.operation)) from exc
                self.sleep(delay)
                continue
            took = round(self.clock() - started, 3)
            self._made(action, shown, took, ALREADY_DONE if found else "ok")
            capture(action, response, self.known)
            return response

    def _find(self, action: ApiCall, recovery: Recovery, params: dict[str, Any]) -> Found | None:
        """What an earlier attempt made, if it exists; an error if it exists and is not ours."""
        if recovery.find is None:
            return None
        hit = recovery.find(self.aws, params)
        if hit is None:
            return None
        deployment = deployment_of(params)
        if deployment is None or not tagged(hit.tags, deployment):
            raise RunbookError(
                Problem(
                    "ExistsNotOurs",
                    f"The {hit.what} already exists and does not carry this deployment's tag "
                    f"({DEPLOYMENT_TAG}={deployment}): someone else made it, so the runbook "
                    "leaves it alone.",
                    "If it is yours from an earlier try, tag it or delete it; otherwise choose "
                    "another name in the settings. Then run again: the runbook resumes.",
                    action.operation,
                )
            )
        return hit

    def _made(
        self,
        action: ApiCall,
        shown: dict[str, Any],
        seconds: float,
        result: CallResult,
        code: str = "",
    ) -> None:
        """One CallMade: its result named, and in words (AWS's code where there is one)."""
        words = {"ok": "ok", "already done": ALREADY_DONE, "failed": code}
        outcome = code + SENDING_AGAIN if result == "sending again" else words[result]
        self.emit(
            CallMade(
                action.section,
                action.service,
                action.operation,
                shown,
                outcome,
                seconds,
                action.mutating,
                result,
            )
        )

    def wait(self, action: Wait) -> dict[str, Any]:
        from botocore.exceptions import ClientError  # as in send

        params = resolve(action.params, self.known, reveal=True)
        started = self.clock()
        last_report = -self.report_every
        shown = None
        while True:
            elapsed = self.clock() - started
            try:
                response = self.aws.call(action.service, action.operation, **params)
                verdict = action.until(response)
                if action.report is not None:
                    seen = action.report(response)
                    if seen is not None and seen != shown:
                        self.emit(seen)
                        shown = seen
            except ClientError as exc:
                code = error_code(exc)
                if code in action.done_on:
                    response, verdict = {}, True
                elif code in action.retry_on:
                    response, verdict = {}, False
                else:
                    raise RunbookError(problem_from(exc, action.operation)) from exc
            if verdict is True:
                self.emit(Waiting(action.section, action.what, round(elapsed, 1), "done", True))
                capture(action, response, self.known)
                return response
            if isinstance(verdict, str):
                code = wait_failed_code(action.service)
                raise RunbookError(
                    Problem(code, f"{action.what}: {verdict}", advice_for(code), action.operation)
                )
            if elapsed >= action.timeout:
                raise RunbookError(
                    Problem(
                        "WaitTimedOut",
                        f"{action.what}: still not ready after {int(elapsed)} s",
                        "Check it in the AWS console; run again to keep waiting (it resumes).",
                        action.operation,
                    )
                )
            if elapsed - last_report >= self.report_every:
                self.emit(Waiting(action.section, action.what, round(elapsed, 1)))
                last_report = elapsed
            self.sleep(action.interval)
