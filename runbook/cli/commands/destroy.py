"""`runbook destroy`: delete what carries the deployment's tag, once the person named it.

Before it asks, it says which deployment (name, account, region), how many resources, and
what happens to the database. `--yes` alone is enough only when the state file was read and
records the deployment's progress (it made what is deleted); otherwise the person names the
deployment: by typing its name at the question, or with `--deployment NAME --yes`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from runbook.cli.codes import FAILED, OK

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.destroy import Status
    from runbook.engine import EngineFor, Runbook
    from runbook.plan import Action


def resources(status: Status) -> int:
    """What would be deleted: each section's resources that exist and are ours, and the
    others only the tag finds."""
    ours = sum(1 for _, seen in status.sections for r in seen.resources if r.exists and r.ours)
    return ours + len(status.leftovers)


def database_line(actions: list[Action]) -> str:
    """What happens to the database, said before the question (empty: there is none)."""
    from runbook.steps import final_snapshot

    line = final_snapshot.confirmation_line(actions)
    return line[0].upper() + line[1:] + "." if line else ""


def run(console: Console, engine_for: EngineFor, args: argparse.Namespace) -> int:
    """The engine, built to print each delete as it goes, then closed."""
    from runbook.cli.render import Progress

    progress = Progress(console)
    with engine_for(progress) as runbook:
        try:
            return _run(console, runbook, args, progress)
        finally:
            progress.close()


def _run(console: Console, runbook: Runbook, args: argparse.Namespace, progress: Any) -> int:
    from rich.prompt import Confirm, Prompt
    from rich.text import Text

    from runbook import destroy as tear_down
    from runbook.cli import render
    from runbook.cli.named import account_of, refuse
    from runbook.settings import DEPLOYMENT_TAG
    from runbook.words import count

    assert runbook.aws is not None
    account = runbook.account or account_of(runbook.aws)  # a dry run did not look yet
    # The state file was read and records this deployment's progress.
    recorded = runbook.state.existed and bool(runbook.state.progress)

    settings = runbook.settings
    name = settings.deployment.name
    named = getattr(args, "deployment", None)
    if named and named != name:
        raise refuse(
            "OtherDeployment",
            f"{runbook.state.path} records the deployment {name!r}, not {named!r}; nothing "
            "was sent.",
            f"Give {named!r}'s own --state FILE, or --deployment {name} for this one.",
        )
    where = f"account {account}, region {settings.deployment.region}" + (
        " (local emulator)" if runbook.sandbox else ""
    )
    status = tear_down.status(runbook)
    actions = tear_down.plan(runbook, status, skip_final_snapshot=args.skip_final_snapshot)
    tag = f"{DEPLOYMENT_TAG} = {name}"
    if not actions:
        console.print(
            f"Nothing to delete: nothing in {where} carries the tag of the deployment "
            f"{name} ({tag})."
        )
        render.leftovers(console, [], status.unchecked)
        if not args.dry_run:
            tear_down.nothing_left(runbook)
        return OK
    console.print(render.plan_table(runbook.rows(actions), title="Teardown", width=console.width))
    render.leftovers(console, [], status.unchecked)
    how_found = (
        f"recorded in {runbook.state.path}"
        if recorded
        else "found by its name and tag"
        + (
            f" ({runbook.state.path} records none of it)"
            if runbook.state.existed
            else " (no state file)"
        )
    )
    console.print(
        Text.assemble(
            ("Destroy the deployment ", "bold"),
            (name, "bold red"),
            f" in {where}, {how_found}: ",
            (f"{count(resources(status), 'resource')} carry its tag", "bold"),
            f" ({count(sum(1 for a in actions if getattr(a, 'mutating', False)), 'call')}).",
        ),
        soft_wrap=True,
    )
    about_database = database_line(actions)
    if about_database:
        console.print(Text(about_database, style="yellow"), soft_wrap=True)
    if args.dry_run:
        return OK
    question = _question(actions)
    if not confirmed(console, args, name, recorded, question, Confirm, Prompt):
        console.print("Nothing was deleted.")
        return OK
    report = tear_down.run(runbook, actions)
    progress.close()
    render.destroy_report(console, report, runbook.state.path if runbook.state.existed else None)
    _after_database(console, runbook, actions, report, status)
    return OK if all(r.outcome != "failed" for r in report) else FAILED


def _question(actions: list[Action]) -> str:
    """The question repeats the database's fate, the one thing that cannot be undone."""
    from runbook.steps import final_snapshot

    line = final_snapshot.confirmation_line(actions)
    return f"Delete all of it ({line})?" if line else "Delete all of it?"


def confirmed(
    console: Console,
    args: argparse.Namespace,
    name: str,
    recorded: bool,
    question: str,
    confirm: Any,
    prompt: Any,
) -> bool:
    """--yes for a deployment the state file records; else the name, typed or given."""
    from runbook.cli.named import refuse

    if recorded:
        if args.yes:
            return True
        return bool(confirm.ask(question, console=console, default=False))
    if args.yes:
        if args.deployment == name:
            return True
        raise refuse(
            "NameTheDeployment",
            "--yes alone deletes only a deployment its state file records, and no state file "
            f"records {name}'s resources; nothing was deleted.",
            f"Name it to delete it by its tag: `runbook destroy --deployment {name} --yes` "
            "(or without --yes, and type its name).",
        )
    try:
        typed = prompt.ask(f"Type the deployment's name ({name}) to delete all of it")
    except EOFError:  # no terminal to answer from
        return False
    return typed.strip() == name


def _after_database(
    console: Console, runbook: Runbook, actions: list[Action], report: Any, status: Status
) -> None:
    """How to bring a deleted database back from its final snapshot, and what keeping it costs."""
    from runbook.steps import final_snapshot

    removed = {r.what for r in report if r.outcome == "removed"}
    for line in final_snapshot.after_destroy(
        [a for a in actions if getattr(a, "why", None) in removed],
        runbook.settings.deployment.region,
        final_snapshot.described(status),
    ):
        console.print(line, highlight=False, soft_wrap=True)
