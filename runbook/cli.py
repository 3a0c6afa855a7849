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
from rich.text import Text

from runbook import settings as settings_module
from runbook.errors import NO_CREDENTIALS_ADVICE, RunbookError, problem_from
from runbook.next_steps import default_state
from runbook.recorded import Start, starting_settings
from runbook.state import StateFile
from runbook.validation import validate

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.aws import Aws
    from runbook.engine import EngineFor, Runbook
    from runbook.events import Listener
    from runbook.plan import Action

OK, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader left
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
    _starting_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    plan = commands.add_parser(
        "plan",
        parents=[common],
        help="print every call a deploy makes",
        description="Print every AWS call a deploy would make now, in order, each checked "
        "against botocore's models, and every setting that differs from what exists. Starts "
        "from the settings recorded with the deployment; records nothing.",
    )
    plan.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    plan.add_argument(
        "--offline",
        action="store_true",
        help="do not look at the account: plan as if nothing exists",
    )
    plan.add_argument("--full", action="store_true", help="show every parameter in full")
    deploy = commands.add_parser(
        "deploy",
        parents=[common],
        help="run every section",
        description="Run every section in order, confirming each after showing its calls "
        "(--yes: no questions), then show the address, the targets' health and a probe. "
        "Starts from the settings recorded with the deployment; --config changes the "
        "fields it names, and the run records them.",
    )
    deploy.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="no questions: apply fixes, adopt hand-made resources, run all",
    )
    deploy.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    deploy.add_argument("--plain", action="store_true", help="line prompts instead of the app")
    _starting_options(deploy)
    status = commands.add_parser(
        "status",
        parents=[common],
        help="each section's resources and health",
        description="Each section's resources and their state, the settings that matter "
        "next to what AWS has, everything else that carries this deployment's tag, and the "
        "targets' health. Changes nothing.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    logs = commands.add_parser(
        "logs",
        parents=[common],
        help="the app's output (CloudWatch)",
        description="The app's output from the CloudWatch log group its task definition "
        "names (works against AWS and the sandbox).",
    )
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument("--since", default="1h", help="how far back: 30s, 10m, 2h, 1d (default 1h)")
    destroy = commands.add_parser(
        "destroy",
        parents=[common],
        help="delete everything this deployment made",
        description="Delete everything that carries this deployment's tag, whatever its "
        "name, in dependency order, and report what was removed and what could not be. "
        "The recorded settings stay, so a deploy would make the same again.",
    )
    from runbook.commands import destroy as destroy_command

    destroy_command.add_arguments(destroy)
    export = commands.add_parser(
        "export",
        parents=[common],
        help="write the deployment as a CloudFormation template",
        description="Write the deployment as a CloudFormation template: the same resources, "
        "names and properties a deploy makes, the default VPC and subnets as parameters, no "
        "secret in it.",
    )
    export.add_argument("--output", "-o", type=Path, metavar="FILE", help="default: stdout")
    export.add_argument("--format", choices=["yaml", "json"], default="yaml")
    # The sandbox has no settings or state of its own to read: only the shape of its waits.
    timings_only = argparse.ArgumentParser(add_help=False)
    timings_only.add_argument(
        "--timings",
        metavar="SHAPE",
        help="with start: instant (default), aws, or aws:FACTOR (AWS's waits, scaled)",
    )
    sandbox = commands.add_parser(
        "sandbox",
        parents=[timings_only],
        help="the background local AWS (emulator and data plane)",
        description="Start, look at or stop the local AWS that --sandbox runs in the "
        "background: the emulator and the data plane that runs the deployment (stopping it "
        "forgets everything in it).",
    )
    sandbox.add_argument("action", choices=["start", "stop", "status"])
    from runbook.commands import day_two

    day_two.add_parsers(commands, common)  # rollback, redeploy, scale
    for name in ("deploy", "destroy", *day_two.COMMANDS):
        _wait_option(commands.choices[name])
    _wait_option(parser)  # the app
    return parser


def _starting_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--new",
        action="store_true",
        help="start a new deployment, recorded in the --state FILE (which must not exist yet)",
    )
    parser.add_argument(
        "--take-over",
        action="store_true",
        help="manage resources that already carry the deployment's tag though this state "
        "file records none of them (another state file made them, or one lost)",
    )


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="while another run changes this deployment, refuse at once instead of waiting",
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader left (`runbook plan --json | head`): nothing more to say, and the
        # interpreter must not fail again flushing stdout at exit.
        _stdout_to_nowhere()
        return CLOSED_PIPE


def _error_object(problem: Any, details: Sequence[str]) -> dict[str, Any]:
    return {
        "code": problem.code,
        "message": problem.message,
        "advice": problem.advice,
        "operation": problem.operation,
        "details": list(details),
    }


def _reader_left() -> None:
    raise BrokenPipeError


def _stdout_to_nowhere() -> None:
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, sys.stdout.fileno())
    os.close(nowhere)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    console.on_broken_pipe = _reader_left  # type: ignore[method-assign]  # rich would exit 1
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
    if args.command == "logs":
        from runbook.commands.logs import SinceError, parse_since

        try:  # the command's own arguments first: a typo is said before anything is read
            parse_since(args.since)
        except SinceError as exc:
            console.print(Text.assemble(("✗ ", "red"), str(exc)))
            return BAD_INPUT
    from runbook.commands import named as named_module

    lock = None
    try:
        if named_module.changes(args):
            lock = _hold_the_deployment(console, args)
        return _named(console, args)
    except RunbookError as exc:  # the state file or the lock: nothing was sent
        from runbook import render

        p = exc.problem
        if getattr(args, "json", False):  # a script reads stdout as JSON, refusals included
            print(json.dumps({"error": _error_object(p, ())}, indent=2))
        else:
            render.error(console, p.code, p.message, p.advice)
        return FAILED if p.code == "DeploymentBusy" else BAD_INPUT
    except KeyboardInterrupt:
        console.print("\n[yellow]Interrupted.[/] Nothing was changed while waiting.")
        return INTERRUPTED
    finally:
        if lock is not None:
            lock.release()


def _hold_the_deployment(console: Console, args: argparse.Namespace) -> Any:
    """The deployment's lock, held until the command ends: waiting (said) or refusing."""
    from runbook.run_lock import RunLock, this_command

    lock = RunLock(args.state or default_state(args.sandbox), this_command())
    lock.acquire(
        wait=not args.no_wait,
        tell=lambda line: console.print(Text(line, style="yellow"), soft_wrap=True),
    )
    return lock


def _named(console: Console, args: argparse.Namespace) -> int:
    """The deployment the command names (its state file), then the settings it starts from."""
    from runbook.commands.named import new_deployment_note, open_state

    named = open_state(args)
    state = named.state
    try:
        start = starting_settings(state, args.config, args.region)
        if getattr(args, "deployment", None) and not state.existed:
            start = _by_name(args, start)
    except settings_module.ConfigError as exc:
        # Plain text: a config's [section] is not rich markup.
        console.print(Text.assemble(("✗ config: ", "red"), str(exc)), soft_wrap=True)
        return BAD_INPUT
    if named.new:
        start.notes.append(new_deployment_note(state, start.settings))
    args.new_deployment = named.new
    errors = validate(start.settings)
    if errors:
        console.print("[red]✗ These settings would be refused; nothing was done:[/]")
        for error in errors:
            console.print(Text(f"  {error}"), soft_wrap=True)
        return BAD_INPUT
    try:
        return _run(console, args, start, state)
    except (RunbookError, BotoCoreError, ClientError) as exc:
        from runbook import render
        from runbook.commands.named import NotNamed
        from runbook.state import StateWriteError

        problem = problem_from(exc)
        details = getattr(exc, "details", ())
        if getattr(args, "json", False):  # a script reads stdout as JSON, failures included
            print(json.dumps({"error": _error_object(problem, details)}, indent=2))
        else:
            render.error(console, problem.code, problem.message, problem.advice, details)
        # A call AWS's rules refuse is bad input: nothing was sent. So is a state file that
        # names no deployment we may act on, or cannot be written (it stays as it was).
        bad_input = problem.code == REFUSED or isinstance(exc, NotNamed | StateWriteError)
        return BAD_INPUT if bad_input else FAILED
    except KeyboardInterrupt:
        console.print(f"\n[yellow]{_interrupted(args)}[/]", soft_wrap=True)
        return INTERRUPTED


# Commands that read only: stopping one midway leaves nothing half-done.
READ_ONLY = {"plan", "status", "logs", "export"}


def _interrupted(args: argparse.Namespace) -> str:
    """What stopping with ctrl+c means for this command, truly."""
    if args.command == "logs":
        return "Stopped following the logs." if args.follow else "Stopped reading the logs."
    if args.command in READ_ONLY or getattr(args, "dry_run", False):
        return "Interrupted. This command changes nothing, so nothing was left half-done."
    return (
        "Interrupted. Run the same command again: it resumes where it stopped, "
        "without making anything twice."
    )


def _by_name(args: argparse.Namespace, start: Start) -> Start:
    """`destroy --deployment NAME` with no state file: the guide's names for NAME."""
    name = args.deployment
    configured = settings_module.read_config(args.config).get("deployment", {}).get("name")
    if configured not in (None, name):
        raise settings_module.ConfigError(
            f"{args.config} names the deployment {configured!r}, and --deployment {name!r}; "
            "nothing was sent."
        )
    base = settings_module.Settings.for_deployment(name)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        base = base.replace("deployment", region=region)
    settings = settings_module.load(args.config, region=args.region, base=base)
    return Start(settings, settings, notes=start.notes)


def _tell_start(console: Console, args: argparse.Namespace, start: Start) -> None:
    """Where the settings come from, and what --config changed in the recorded ones."""
    out = console if not getattr(args, "json", False) else _stderr()
    for note in start.notes:
        out.print(Text(f"· {note}", style="dim"), soft_wrap=True)
    if not start.changes:
        return
    records = args.command == "deploy" and not getattr(args, "dry_run", False)
    out.print(
        Text(
            f"--config changes {len(start.changes)} recorded setting"
            + ("s" if len(start.changes) != 1 else "")
            + (
                " (recorded when a section runs):"
                if records
                else " (this command records nothing):"
            ),
            style="bold",
        )
    )
    for change in start.changes:
        out.print(Text(f"  {change}"), soft_wrap=True)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _run(console: Console, args: argparse.Namespace, start: Start, state: StateFile) -> int:
    settings = start.settings
    offline = (args.command == "plan" and args.offline) or args.command == "export"
    dry_run = bool(getattr(args, "dry_run", False))
    aws = None if offline else _aws(args, settings)
    if aws is None and not (args.command in (None, "plan", "export") or dry_run):
        from runbook.errors import Problem

        raise RunbookError(
            Problem("NoCredentials", "No AWS credentials were found.", NO_CREDENTIALS_ADVICE)
        )
    if aws is None and not offline and args.command is not None:
        _stderr().print(
            "[yellow]No AWS credentials were found:[/] planning offline, as if nothing "
            "existed yet (add --sandbox for the local emulator, or configure credentials "
            "to plan against your account).",
            soft_wrap=True,
        )
    if args.command is not None:
        _tell_start(console, args, start)
    account = ""
    if aws is not None and _changes(args):
        from runbook.commands.named import claim

        account = claim(console, args, aws, state, settings)
    state.target = aws.label if aws else state.target
    return _dispatch(console, args, _engine_for(args, settings, aws, state, account), start, aws)


def _changes(args: argparse.Namespace) -> bool:
    from runbook.commands.named import changes

    return changes(args)


def _dispatch(
    console: Console,
    args: argparse.Namespace,
    engine_for: EngineFor,
    start: Start,
    aws: Aws | None,
) -> int:
    """The command's front end builds the engine with its own listener, and closes it after
    (a build still running in the background ends with the command)."""
    from runbook.events import ignore

    dry_run = bool(getattr(args, "dry_run", False))
    if args.command is None:
        return _open_app(engine_for, args, start, offline=aws is None)
    if args.command == "plan" or (args.command == "deploy" and dry_run):
        with engine_for(ignore) as runbook:
            return _plan(
                console,
                runbook,
                as_json=getattr(args, "json", False),
                full=getattr(args, "full", False),
            )
    if args.command == "deploy":
        if args.plain:
            from runbook.prompts import run_plain

            return run_plain(engine_for, console, assume_yes=args.yes)
        return _deploy(console, engine_for, assume_yes=args.yes)
    if args.command in ("rollback", "redeploy", "scale"):
        from runbook.commands import day_two

        return day_two.run(console, engine_for, args)
    if args.command == "destroy":
        from runbook.commands import destroy

        return destroy.run(console, engine_for, args)
    with engine_for(ignore) as runbook:
        if args.command == "status" and args.json:
            from runbook.commands import status_json

            return status_json.run(runbook)
        if args.command == "status":
            return _status(console, runbook)
        if args.command == "logs":
            from runbook.commands import logs

            assert runbook.aws is not None
            return logs.run(
                console, runbook.aws, runbook.settings, since=args.since, follow=args.follow
            )
        from runbook.export.command import export

        return export(console, runbook, output=args.output, fmt=args.format)


def _aws(args: argparse.Namespace, settings: Any) -> Aws | None:
    """Clients for the target; None when there are no credentials (dry runs go offline)."""
    from runbook.aws import Aws

    region = settings.deployment.region
    if args.sandbox:
        from runbook import sandbox
        from runbook.errors import Problem

        try:
            endpoint = sandbox.ensure_running(timings=args.timings)
            keys = sandbox.credentials()
        except sandbox.SandboxError as exc:
            raise RunbookError(
                Problem("Sandbox", str(exc), "See .runbook/sandbox.log; then run again.")
            ) from exc
        return Aws(
            region,
            endpoint_url=endpoint,
            credentials=keys,
            label="local emulator (sandbox)",
            load_balancer_url=sandbox.local_url,
        )
    aws = Aws(region, profile=args.profile, label=f"AWS {region}")
    return aws if aws.has_credentials() else None


def _engine_for(
    args: argparse.Namespace, settings: Any, aws: Aws | None, state: StateFile, account: str
) -> EngineFor:
    """How this command's engine is built: everything but the front end's own listener."""
    from runbook.engine import Runbook
    from runbook.events import fan_out, ignore, json_lines

    log = ignore
    if args.log:
        log = json_lines(args.log.open("a"))  # closed at exit
    options: dict[str, Any] = {}
    if args.sandbox:
        from runbook.commands.sandbox import poll_sleep
        from runbook.sandbox import Timings

        options["sleep"] = poll_sleep(args.timings or Timings())
    build = _build(args, aws)

    def engine(listener: Listener) -> Runbook:
        return Runbook(
            settings,
            aws,
            state,
            emit=fan_out(log, listener),
            sandbox=args.sandbox,
            profile=args.profile or "",
            account=account,
            build=build,
            **options,
        )

    return engine


def _build(args: argparse.Namespace, aws: Aws | None) -> Any:
    """The engine that builds the app's image: docker or podman here, or the sandbox's own
    stand-in (it builds into the store the sandbox's tasks run from); None: the person."""
    from runbook.errors import Problem
    from runbook.image import Build, ContainerEngine, find_engine
    from runbook.image.container_engine import ENGINE_ENV, EngineSettingError

    if args.sandbox and aws is not None:
        from runbook import sandbox

        return Build(engine=ContainerEngine(sandbox.engine_path()))
    try:
        return Build(engine=find_engine())
    except EngineSettingError as exc:
        raise RunbookError(
            Problem(
                "ContainerEngineSetting",
                str(exc),
                f"Fix or unset {ENGINE_ENV}, then run again.",
            )
        ) from exc


def _plan(console: Console, runbook: Runbook, *, as_json: bool, full: bool) -> int:
    from runbook.model_check import check

    actions: list[Action] = []
    changes = []
    for step in runbook.steps:
        actions += runbook.plan(step)
        changes += runbook.differences(step)
    problems = [f"{a.service}.{a.operation}: {p}" for a in actions if (p := check(a))]
    rows = runbook.rows(actions)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        from runbook import render

        where = runbook.aws.label if runbook.aws else "offline: as if nothing exists yet"
        console.print(
            render.plan_table(rows, title=f"Plan ({where})", full=full, width=console.width)
        )
        render.changes(console, changes)
        if not rows and not changes:
            console.print("[green]Nothing to change:[/] everything already matches the settings.")
        elif rows:
            mutating = sum(1 for a in actions if getattr(a, "mutating", False))
            console.print(
                f"{render.count(len(rows), 'step')}, {mutating} of them change something; "
                "every call checked against botocore's service models and AWS's documented "
                "rules. <name.Attr> is a value known only once the call that makes it has run "
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
            runbook.use_settings(finding.fix.apply(runbook.settings))
            console.print(f"  [green]applied:[/] {finding.fix.description}")
    return True


def _deploy(console: Console, engine_for: EngineFor, *, assume_yes: bool) -> int:
    from runbook.render import Progress

    progress = Progress(console)
    with engine_for(progress) as runbook:
        return _deploy_with(console, runbook, progress, assume_yes=assume_yes)


def _deploy_with(console: Console, runbook: Runbook, progress: Any, *, assume_yes: bool) -> int:
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
                runbook.rows(actions),
                title=f"{step.number}. {step.title}: calls to make",
                width=console.width,
            )
        )
        render.changes(console, runbook.differences(step))
        return Confirm.ask("Run this section?", console=console, default=True)

    try:
        result = runbook.deploy(confirm)
    finally:
        progress.close()
    render.summary(console, result)
    render.next_steps(console, runbook.next_steps())
    return OK


def _status(console: Console, runbook: Runbook) -> int:
    from runbook import destroy as tear_down
    from runbook import render

    status = tear_down.status(runbook)
    console.print(render.status_table(status.sections))
    render.facts(console, [f for step, _ in status.sections for f in runbook.facts(step)])
    render.leftovers(console, status.leftovers, status.unchecked)
    for step, _ in status.sections:
        entry = runbook.state.get(step.number)
        if entry.status == "failed":
            console.print(
                Text.assemble(
                    (f"{step.number}. {step.title} failed last time: ", "red"), entry.error
                ),
                soft_wrap=True,
            )
    render.summary(console, runbook.summary())
    return OK


def _open_app(
    engine_for: EngineFor, args: argparse.Namespace, start: Start, *, offline: bool
) -> int:
    from screens.app import run_app

    region = start.settings.deployment.region

    if args.dry_run and args.sandbox:
        # Looks at the emulator, changes nothing in it.
        mode, where = "dry run", "dry run against the local emulator (sandbox)"
    elif args.sandbox:
        mode, where = "sandbox", "local emulator (sandbox)"
    elif offline:
        mode, where = "dry run", "dry run, offline: no AWS credentials, nothing is looked up"
    elif args.dry_run:
        mode, where = "dry run", "dry run: no AWS calls that change anything"
    else:
        profile = args.profile or os.environ.get("AWS_PROFILE")
        mode = "aws"
        where = f"AWS {region}" + (f", profile {profile}" if profile else "")
    code = run_app(engine_for, mode=mode, where=where, start=start) or OK
    if args.sandbox:
        from runbook.commands.sandbox import still_running_note

        print(still_running_note())
    return code


if __name__ == "__main__":
    sys.exit(main())
