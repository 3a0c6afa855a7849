"""The `runbook` command: builds the engine for a target and hands it to a front end."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from runbook import settings as settings_module
from runbook.errors import NO_CREDENTIALS_ADVICE, RunbookError, problem_from
from runbook.validation import validate

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.engine import Runbook
    from runbook.plan import Action

OK, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
REFUSED = "RefusedByAwsRules"  # runbook.rules.CODE, without importing the rules to start


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the local AWS emulator: no account needed",
    )
    common.add_argument("--config", type=Path, metavar="FILE", help="settings in TOML")
    common.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="state file (default runbook-state.json, "
        "or runbook-state.sandbox.json with --sandbox)",
    )
    common.add_argument("--region", help="AWS region (default: AWS_REGION, then us-east-1)")
    common.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")
    common.add_argument("--log", type=Path, metavar="FILE", help="append events as JSON lines")
    common.add_argument(
        "--timings",
        metavar="SHAPE",
        help="with --sandbox: instant (default), aws, or aws:FACTOR (AWS's waits, scaled)",
    )

    parser = argparse.ArgumentParser(
        prog="runbook",
        parents=[common],
        description="Deploy the Flask Todo API to ECS Fargate, section by section. "
        "With no command, opens the guided app.",
    )
    parser.add_argument("--dry-run", action="store_true", help="open the app; change nothing")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    plan = commands.add_parser("plan", parents=[common], help="print every call a deploy makes")
    plan.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    plan.add_argument(
        "--offline",
        action="store_true",
        help="do not look at the account: plan as if nothing exists",
    )
    plan.add_argument("--full", action="store_true", help="show every parameter in full")
    deploy = commands.add_parser("deploy", parents=[common], help="run every section")
    deploy.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="no questions: apply fixes, adopt hand-made resources, run all",
    )
    deploy.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    deploy.add_argument("--plain", action="store_true", help="line prompts instead of the app")
    status = commands.add_parser(
        "status", parents=[common], help="each section's resources and health"
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    logs = commands.add_parser("logs", parents=[common], help="the app's output (CloudWatch)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument("--since", default="1h", help="how far back: 30s, 10m, 2h, 1d (default 1h)")
    destroy = commands.add_parser(
        "destroy", parents=[common], help="delete everything this deployment made"
    )
    destroy.add_argument("--yes", "-y", action="store_true", help="do not ask")
    destroy.add_argument("--dry-run", action="store_true", help="print the deletes only")
    export = commands.add_parser(
        "export", parents=[common], help="write the deployment as a CloudFormation template"
    )
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="default: stdout")
    export.add_argument("--format", choices=["yaml", "json"], default="yaml")
    sandbox = commands.add_parser(
        "sandbox", parents=[common], help="the background local AWS (emulator and data plane)"
    )
    sandbox.add_argument("action", choices=["start", "stop", "status"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    timings = None
    if args.timings:
        from runbook.sandbox import Timings, TimingsError

        try:
            timings = Timings.parse(args.timings)
        except TimingsError as exc:
            console.print(f"[red]✗[/] {exc}")
            return BAD_INPUT
    args.timings = timings
    if args.command == "sandbox":
        from runbook.commands import sandbox as sandbox_command

        return sandbox_command.run(console, args.action, timings)
    try:
        settings = settings_module.load(args.config, region=args.region)
    except settings_module.ConfigError as exc:
        console.print(f"[red]✗ config:[/] {exc}")
        return BAD_INPUT
    errors = validate(settings)
    if errors:
        console.print("[red]✗ These settings would be refused; nothing was done:[/]")
        for error in errors:
            console.print(f"  {error}", highlight=False, soft_wrap=True)
        return BAD_INPUT
    try:
        return _run(console, args, settings)
    except (RunbookError, BotoCoreError, ClientError) as exc:
        from runbook import render

        problem = problem_from(exc)
        details = getattr(exc, "details", ())
        render.error(console, problem.code, problem.message, problem.advice, details)
        # A call AWS's rules refuse is bad input: nothing was sent.
        return BAD_INPUT if problem.code == REFUSED else FAILED
    except KeyboardInterrupt:
        console.print(
            "\n[yellow]Interrupted.[/] Run the same command again: it resumes where "
            "it stopped, without making anything twice."
        )
        return INTERRUPTED


def _run(console: Console, args: argparse.Namespace, settings: Any) -> int:
    offline = (args.command == "plan" and args.offline) or args.command == "export"
    dry_run = bool(getattr(args, "dry_run", False))
    aws = None if offline else _aws(args, settings)
    if aws is None and not (args.command in (None, "plan", "export") or dry_run):
        from runbook.errors import Problem

        raise RunbookError(
            Problem("NoCredentials", "No AWS credentials were found.", NO_CREDENTIALS_ADVICE)
        )
    runbook = _runbook(args, settings, aws, console)
    if args.command is None:
        return _open_app(runbook, args, aws)
    if args.command == "plan" or (args.command == "deploy" and dry_run):
        return _plan(
            console,
            runbook,
            as_json=getattr(args, "json", False),
            full=getattr(args, "full", False),
        )
    if args.command == "deploy":
        if args.plain:
            from runbook.prompts import run_plain

            return run_plain(runbook, console, assume_yes=args.yes)
        return _deploy(console, runbook, assume_yes=args.yes)
    if args.command == "status" and args.json:
        from runbook.commands import status_json

        return status_json.run(runbook)
    if args.command == "status":
        return _status(console, runbook)
    if args.command == "logs":
        from runbook.commands import logs

        assert aws is not None
        return logs.run(console, aws, settings, since=args.since, follow=args.follow)
    if args.command == "export":
        from runbook.export.command import export

        return export(console, runbook, output=args.output, fmt=args.format)
    return _destroy(console, runbook, assume_yes=args.yes, dry_run=dry_run)


def _aws(args: argparse.Namespace, settings: Any) -> Aws | None:
    """Clients for the target; None when there are no credentials (dry runs go offline)."""
    from runbook.aws import Aws

    region = settings.deployment.region
    if args.sandbox:
        from runbook import sandbox
        from runbook.errors import Problem

        try:
            endpoint = sandbox.ensure_running(timings=args.timings)
        except sandbox.SandboxError as exc:
            raise RunbookError(
                Problem("Sandbox", str(exc), "See .runbook/sandbox.log; then run again.")
            ) from exc
        return Aws(
            region,
            endpoint_url=endpoint,
            credentials=sandbox.CREDENTIALS,
            label="local emulator (sandbox)",
            load_balancer_url=sandbox.local_url,
        )
    aws = Aws(region, profile=args.profile, label=f"AWS {region}")
    return aws if aws.has_credentials() else None


def _runbook(args: argparse.Namespace, settings: Any, aws: Aws | None, console: Console) -> Runbook:
    from runbook.engine import Runbook
    from runbook.events import ignore, json_lines
    from runbook.state import StateFile

    default = "runbook-state.sandbox.json" if args.sandbox else "runbook-state.json"
    state = StateFile(args.state or Path(default), target=aws.label if aws else "")
    listener = ignore
    if args.log:
        listener = json_lines(args.log.open("a"))  # closed at exit
    options: dict[str, Any] = {}
    if args.sandbox:
        from runbook.commands.sandbox import poll_sleep
        from runbook.sandbox import Timings

        options["sleep"] = poll_sleep(args.timings or Timings())
    return Runbook(settings, aws, state, emit=listener, sandbox=args.sandbox, **options)


def _attach_progress(console: Console, runbook: Runbook) -> Any:
    from runbook.events import fan_out
    from runbook.render import Progress

    progress = Progress(console)
    runbook.emit = fan_out(runbook.emit, progress)
    return progress


def _plan(console: Console, runbook: Runbook, *, as_json: bool, full: bool) -> int:
    from runbook.model_check import check

    actions: list[Action] = []
    for step in runbook.steps:
        actions += runbook.plan(step)
    problems = [f"{a.service}.{a.operation}: {p}" for a in actions if (p := check(a))]
    rows = runbook.rows(actions)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        from runbook.render import plan_table

        where = runbook.aws.label if runbook.aws else "offline: as if nothing exists yet"
        console.print(plan_table(rows, title=f"Plan ({where})", full=full, width=console.width))
        if not rows:
            console.print("[green]Nothing to do:[/] everything already matches the settings.")
        else:
            mutating = sum(1 for a in actions if getattr(a, "mutating", False))
            console.print(
                f"{len(rows)} steps, {mutating} of them change something; every call "
                "checked against botocore's service models and AWS's documented rules. "
                "<name.Attr> is a value known only once the call that makes it has run "
                "(checked then)."
            )
    for problem in problems:
        print(f"invalid call: {problem}", file=sys.stderr)
    if _report_refused(console, rows, to_stderr=as_json):
        return BAD_INPUT
    return FAILED if problems else OK


def _report_refused(console: Console, rows: list[dict[str, Any]], *, to_stderr: bool) -> bool:
    """Say which calls AWS would refuse, why and what to do; True if any would be."""
    from rich.console import Console as RichConsole

    from runbook import render

    refused = [row for row in rows if row.get("refused")]
    if refused:
        render.refused(RichConsole(stderr=True) if to_stderr else console, refused)
    return bool(refused)


def _preflight(console: Console, runbook: Runbook, *, assume_yes: bool) -> bool:
    from rich.prompt import Confirm

    from runbook import render

    found = runbook.preflight()
    render.findings(console, found)
    if any(f.level == "error" for f in found):
        return False
    for finding in found:
        if not (finding.fix and finding.level == "warning"):
            continue
        question = f"Apply the fix: {finding.fix.description}?"
        if assume_yes or Confirm.ask(question, console=console, default=True):
            runbook.settings = finding.fix.apply(runbook.settings)
            console.print(f"  [green]applied:[/] {finding.fix.description}")
    return True


def _deploy(console: Console, runbook: Runbook, *, assume_yes: bool) -> int:
    from rich.prompt import Confirm

    from runbook import render

    if not _preflight(console, runbook, assume_yes=assume_yes):
        return FAILED

    def confirm(step: Any, actions: list[Action]) -> bool:
        if assume_yes:
            return True
        progress.close()
        console.print(
            render.plan_table(
                runbook.rows(actions), title=f"{step.number}. {step.title}: calls to make"
            )
        )
        return Confirm.ask("Run this section?", console=console, default=True)

    progress = _attach_progress(console, runbook)
    try:
        result = runbook.deploy(confirm)
    finally:
        progress.close()
    render.summary(console, result)
    console.print(
        "Next: [bold]runbook status[/] to look again, [bold]runbook destroy[/] to "
        "remove it all" + (" (add --sandbox)." if runbook.sandbox else ".")
    )
    return OK


def _status(console: Console, runbook: Runbook) -> int:
    from runbook import render

    observed = runbook.status()
    console.print(render.status_table(observed))
    for step, _ in observed:
        entry = runbook.state.get(step.number)
        if entry.status == "failed":
            console.print(f"[red]{step.number}. {step.title} failed last time:[/] {entry.error}")
    render.summary(console, runbook.summary())
    return OK


def _destroy(console: Console, runbook: Runbook, *, assume_yes: bool, dry_run: bool) -> int:
    from rich.prompt import Confirm

    from runbook import render

    actions = runbook.destroy_plan()
    if not actions:
        console.print("Nothing to delete: no resource carries this deployment's tag.")
        runbook.state.reset()
        return OK
    console.print(render.plan_table(runbook.rows(actions), title="Teardown", width=console.width))
    if dry_run:
        return OK
    if not assume_yes and not Confirm.ask(
        "Delete all of this, including the database and its data?",
        console=console,
        default=False,
    ):
        console.print("Nothing was deleted.")
        return OK
    progress = _attach_progress(console, runbook)
    try:
        runbook.destroy(actions)
    finally:
        progress.close()
    console.print("[green]Deleted everything this deployment made.[/]")
    return OK


def _open_app(runbook: Runbook, args: argparse.Namespace, aws: Aws | None) -> int:
    from screens.app import run_app

    if args.dry_run and args.sandbox:
        # Looks at the emulator, changes nothing in it.
        mode, where = "dry run", "dry run against the local emulator (sandbox)"
    elif args.sandbox:
        mode, where = "sandbox", "local emulator (sandbox)"
    elif args.dry_run or aws is None:
        mode, where = "dry run", "dry run: no AWS calls that change anything"
    else:
        profile = args.profile or os.environ.get("AWS_PROFILE")
        mode = "aws"
        where = f"AWS {runbook.settings.deployment.region}" + (
            f", profile {profile}" if profile else ""
        )
    code = run_app(runbook, mode=mode, where=where) or OK
    if args.sandbox:
        from runbook.commands.sandbox import still_running_note

        print(still_running_note())
    return code


if __name__ == "__main__":
    sys.exit(main())
