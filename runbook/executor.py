"""Carry out a plan: resolve references, make each call, capture outputs, poll waits.

Sleep and clock are passed in, so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runbook.aws import Aws
from runbook.errors import Problem, RunbookError, advice_for, error_code, problem_from
from runbook.events import CallMade, Listener, Waiting
from runbook.plan import Action, ApiCall, Wait, capture, render, resolve
from runbook.rules import refuse_if_broken

# Eventual consistency: a role or group made seconds ago may not be visible everywhere yet.
CONSISTENCY_DELAYS = (2, 4, 8, 15, 30, 30, 30)


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
        refuse_if_broken(action, self.known)
        params = resolve(action.params, self.known, reveal=True)
        shown = render(action.params, self.known)
        attempts = iter(self.delays)
        while True:
            started = self.clock()
            try:
                response = self.aws.call(action.service, action.operation, **params)
            except ClientError as exc:
                code = error_code(exc)
                if code in action.done_on:
                    self._made(action, shown, "already done", started)
                    return {}
                delay = next(attempts, None) if code in action.retry_on else None
                self._made(action, shown, code, started)
                if delay is None:
                    raise RunbookError(problem_from(exc, action.operation)) from exc
                self.sleep(delay)
                continue
            self._made(action, shown, "ok", started)
            capture(action, response, self.known)
            return response

    def _made(self, action: ApiCall, shown: dict[str, Any], outcome: str, started: float) -> None:
        self.emit(
            CallMade(
                action.section,
                action.service,
                action.operation,
                shown,
                outcome,
                round(self.clock() - started, 3),
                action.mutating,
            )
        )

    def wait(self, action: Wait) -> dict[str, Any]:
        params = resolve(action.params, self.known, reveal=True)
        started = self.clock()
        last_report = -self.report_every
        while True:
            elapsed = self.clock() - started
            try:
                response = self.aws.call(action.service, action.operation, **params)
                verdict = action.until(response)
            except ClientError as exc:
                code = error_code(exc)
                if code in action.done_on:
                    response, verdict = {}, True
                elif code in action.retry_on:
                    response, verdict = {}, False
                else:
                    raise RunbookError(problem_from(exc, action.operation)) from exc
            if verdict is True:
                self.emit(Waiting(action.section, action.what, round(elapsed, 1), "done"))
                capture(action, response, self.known)
                return response
            if isinstance(verdict, str):
                raise RunbookError(
                    Problem(
                        "ServiceNotStable" if action.service == "ecs" else "WaitFailed",
                        f"{action.what}: {verdict}",
                        advice_for("ServiceNotStable"),
                        action.operation,
                    )
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
