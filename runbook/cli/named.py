"""Which deployment a command acts on: the one its state file records, or none.

A state file that does not exist names no deployment, so only a deploy (or the app) that
starts a new one may go on without it, and says so: at the default path, or at a path given
with --state once --new says so. A damaged file (not JSON, or not the shape this version
writes) is refused whole: never replaced by the guide's defaults. A state file that records
another AWS account than the credentials' is someone else's. And a state file that records
nothing made (new, or emptied by a destroy) never takes over resources that already carry the
deployment's tag (another state file made them, or one lost) without asking: with --yes, only
with --take-over.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.errors import Problem, RunbookError
from runbook.next_steps import default_state
from runbook.settings import DEPLOYMENT_TAG, Settings
from runbook.state import StateFile
from runbook.words import count

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.inventory import Tagged

# Commands that change the deployment: one at a time, under its lock.
CHANGING = ("deploy", "destroy", "scale", "rollback", "redeploy", None)  # None: the app
# Commands that preview a new deployment from the settings alone, recording nothing.
PREVIEWS = ("plan", "export")


class NotNamed(RunbookError):
    """The command names no deployment it may act on (exit 2; nothing was sent)."""


@dataclass
class Named:
    """The state file a command acts on, and what a person should be told about it."""

    state: StateFile
    new: bool = False  # no file yet: this run starts a new deployment recorded there
    notes: list[str] = field(default_factory=list)


def refuse(code: str, message: str, advice: str) -> NotNamed:
    return NotNamed(Problem(code, message, advice))


def changes(args: argparse.Namespace) -> bool:
    """True for a run that would change the deployment (and so takes its lock)."""
    return args.command in CHANGING and not getattr(args, "dry_run", False)


def open_state(args: argparse.Namespace) -> Named:
    """The state file the command names, read; or NotNamed, with what to do instead."""
    given: Path | None = args.state
    path = given or default_state(args.sandbox)
    state = StateFile(path)
    command = args.command
    if state.damaged:
        raise refuse(
            "StateFileDamaged",
            f"{state.damaged}. Nothing was sent and the file was not changed.",
            f"Repair {path} (it is JSON; a copy may be in your backups), or move it aside and "
            f"start a new deployment there with `runbook deploy --new --state {path}`.",
        )
    wants_new = bool(getattr(args, "new", False))
    if state.existed:
        if wants_new:
            raise refuse(
                "StateFileExists",
                f"{path} exists already"
                + (
                    f" and records the deployment {state.settings['deployment']['name']!r}"
                    if _name(state)
                    else ""
                )
                + "; --new starts a new deployment only at a path that has no state file.",
                "Leave out --new to go on with it, or give a new --state FILE.",
            )
        return Named(state)
    starts = command in ("deploy", None) and not getattr(args, "dry_run", False)
    if starts and (given is None or wants_new):
        return Named(state, new=True)
    previews = command in PREVIEWS or (command in ("deploy", None) and args.dry_run)
    if previews and given is None:
        return Named(state)  # a preview of a new deployment: it reads and records nothing
    if command == "destroy" and getattr(args, "deployment", None):
        return Named(state)  # by name and tag, confirmed by the name (commands/destroy.py)
    if starts:
        raise refuse(
            "StateFileMissing",
            f"{path} does not exist, so it names no deployment; nothing was sent.",
            f"Give the --state FILE of the deployment to go on with; or, to start a new "
            f"deployment recorded in {path}, run the same command with --new.",
        )
    if command == "destroy":
        raise refuse(
            "StateFileMissing",
            f"{path} does not exist, so it names no deployment to destroy; nothing was sent.",
            "Give the deployment's --state FILE; or, without one, name the deployment: "
            "`runbook destroy --deployment NAME` finds it by its name and tag and asks you "
            "to type the name.",
        )
    raise refuse(
        "StateFileMissing",
        f"{path} does not exist, so it names no deployment; nothing was sent.",
        "Give the deployment's --state FILE (or run the command in the folder where you "
        "deployed)"
        + ("; a new deployment starts with `runbook deploy`." if given is None else "."),
    )


def _name(state: StateFile) -> str:
    deployment = (state.settings or {}).get("deployment")
    name = deployment.get("name") if isinstance(deployment, dict) else None
    return name if isinstance(name, str) else ""


def new_deployment_note(state: StateFile, settings: Settings) -> str:
    return (
        f"This starts a new deployment, {settings.deployment.name} "
        f"({settings.deployment.region}), recorded in {state.path}."
    )


def account_of(aws: Aws) -> str:
    return str(aws.call("sts", "get_caller_identity")["Account"])


def check_account(state: StateFile, account: str, settings: Settings) -> None:
    """A state file that records another account is someone else's: refuse it whole."""
    if state.account and state.account != account:
        raise refuse(
            "OtherAccountsStateFile",
            f"{state.path} records the deployment {settings.deployment.name} in AWS account "
            f"{state.account}; these credentials are for account {account}. Nothing was "
            "changed.",
            f"Use the credentials of account {state.account} (--profile), or another --state "
            f"FILE for a deployment in account {account}.",
        )


def others(aws: Aws, state: StateFile, settings: Settings) -> list[Tagged]:
    """Resources carrying the deployment's tag that this state file records none of."""
    if state.progress:
        return []  # this file made them (or a copy of it did): they are its deployment's
    from runbook.inventory import find as find_tagged  # every kind's finder: only when asked

    return find_tagged(aws, settings.deployment.name).resources


def describe_others(found: list[Tagged], state: StateFile, settings: Settings, where: str) -> str:
    kinds: dict[str, int] = {}
    for item in found:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    listed = ", ".join(count(n, kind) for kind, n in kinds.items())
    return (
        f"{count(len(found), 'resource')} in {where} already carry the tag of the deployment "
        f"{settings.deployment.name} ({DEPLOYMENT_TAG}={settings.deployment.name}: {listed}), "
        f"and {state.path} records none of them: another state file manages them, or the one "
        "that did was lost."
    )


def take_over_refused(
    found: list[Tagged], state: StateFile, settings: Settings, where: str
) -> NotNamed:
    return refuse(
        "OwnedByAnotherStateFile",
        describe_others(found, state, settings, where) + " Nothing was changed.",
        "Run with that deployment's own --state FILE; or, to manage them from "
        f"{state.path} from now on, run again with --take-over (the other file must then "
        "not be used); or give this deployment another name (--config, [deployment] name).",
    )


def claim(
    console: Console, args: argparse.Namespace, aws: Aws, state: StateFile, s: Settings
) -> str:
    """The account, checked against the state file's; a deploy (or the app) that would take
    over resources this state file records none of asks first (--yes: only --take-over);
    then the state file is written, before any call that changes something."""
    from rich.prompt import Confirm
    from rich.text import Text

    def tell(line: str) -> None:
        console.print(Text(line, style="yellow"), soft_wrap=True)

    def ask(question: str) -> bool:
        try:
            return Confirm.ask(question, console=console, default=False)
        except EOFError:
            return False

    return claim_with(args, aws, state, s, tell=tell, ask=ask, say_found=True)


def claim_with(
    args: argparse.Namespace,
    aws: Aws,
    state: StateFile,
    s: Settings,
    *,
    tell: Callable[[str], None],
    ask: Callable[[str], bool],
    say_found: bool = False,
) -> str:
    """claim, for any front end: `tell` says what it found, `ask` puts the take-over question
    (the app's own dialog, behind its first screen). say_found: tell what was found before
    asking (the app's question says it itself)."""
    account = account_of(aws)
    check_account(state, account, s)
    if args.command not in ("deploy", None):
        return account
    found = others(aws, state, s)
    if found:
        where = f"account {account}, region {s.deployment.region}"
        if args.take_over:
            tell(
                describe_others(found, state, s, where)
                + f" --take-over: {state.path} manages them from now on."
            )
        elif getattr(args, "yes", False):
            raise take_over_refused(found, state, s, where)
        else:
            found_text = describe_others(found, state, s, where)
            if say_found:
                tell(found_text)
            question = f"Take them over, managed from {state.path} from now on?"
            if not ask(question if say_found else f"{found_text}\n\n{question}"):
                raise take_over_refused(found, state, s, where)
    state.begin(account=account)
    return account
