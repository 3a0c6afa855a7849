"""The `runbook` command's arguments: the options every command shares, and each command's own.

Nothing but argparse: `runbook --help`, and a typo, answer before any command's module (or
rich, or boto3) is imported.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runbook.rules.quotas import TASKS_PER_SERVICE

# An option the command line takes before the command and after it is parsed after it into
# this name, then merged (RunbookParser): argparse would otherwise let the command's default
# overwrite what was typed before it (`runbook --state X destroy` acting on the default
# deployment, `runbook --dry-run destroy` deleting).
AFTER = "after_command__"


class RunbookParser(argparse.ArgumentParser):
    """`runbook [OPTIONS] COMMAND [OPTIONS]`: an option typed on either side counts; typed on
    both with different values, it is refused rather than one silently chosen."""

    top = False  # the `runbook` parser itself, not a command's

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if self.top:
            self._merge(parsed)
        return parsed, extras

    def _merge(self, parsed: argparse.Namespace) -> None:
        for key, value in list(vars(parsed).items()):
            if not key.startswith(AFTER):
                continue
            dest = key.removeprefix(AFTER)
            delattr(parsed, key)
            before = getattr(parsed, dest, None)
            if before not in (None, False, self.get_default(dest)) and before != value:
                option = "--" + dest.replace("_", "-")
                self.error(
                    f"{option} is given twice, before and after the command ({before} and "
                    f"{value}); give it once. Nothing was done."
                )
            setattr(parsed, dest, value)


def _common() -> argparse.ArgumentParser:
    """The options every command takes: one copy for `runbook`, another for its commands (argparse
    shares a parent's option objects with every parser made from it)."""
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
    return common


def make_parser() -> argparse.ArgumentParser:
    """Every command, its options and its help."""
    common = _common()
    parser = RunbookParser(
        prog="runbook",
        parents=[_common()],
        description="Deploy the Flask Todo API to ECS Fargate, section by section. "
        "With no command, opens the guided app.",
    )
    parser.add_argument("--dry-run", action="store_true", help="open the app; change nothing")
    _starting_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        """A command that takes the common options: its one-line summary and its help."""
        return commands.add_parser(name, parents=[common], help=summary, description=description)

    plan = command(
        "plan",
        "print every call a deploy makes",
        "Print every AWS call a deploy would make now, in order, each checked "
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
    deploy = command(
        "deploy",
        "run every section",
        "Run every section in order, confirming each after showing its calls "
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
    status = command(
        "status",
        "each section's resources and health",
        "Each section's resources and their state, the settings that matter "
        "next to what AWS has, everything else that carries this deployment's tag, and the "
        "targets' health. Changes nothing.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    logs = command(
        "logs",
        "the app's output (CloudWatch)",
        "The app's output from the CloudWatch log group its task definition "
        "names (works against AWS and the sandbox).",
    )
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument("--since", default="1h", help="how far back: 30s, 10m, 2h, 1d (default 1h)")
    run = command(
        "run",
        "run a command in the deployment (a one-off task)",
        "Run a command as a one-off ECS task with the service's task definition "
        "(its image, environment and secrets), in its network (subnets, security group, "
        "public IP), e.g. `runbook run -- python -m app.migrate`. Prints the command's output "
        "and exits with its exit code (125 if it never ran). The image's entry point stays: "
        'it must run the command it is given (e.g. end with exec "$@").',
    )
    run.add_argument(
        "argv",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND ...",
        help="the command and its arguments, after --",
    )
    destroy = command(
        "destroy",
        "delete everything this deployment made",
        "Delete everything that carries this deployment's tag, whatever its "
        "name, in dependency order, and report what was removed and what could not be. "
        "The recorded settings stay, so a deploy would make the same again.",
    )
    _destroy_options(destroy)
    export = command(
        "export",
        "write the deployment as a CloudFormation template",
        "Write the deployment as a CloudFormation template: the same resources, "
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
    init = command(
        "init",
        "read your app's folder and record it as the app to deploy",
        "Read an app's folder (its Dockerfile, or write one; its port, a health "
        "check path, the variables it reads) and record its [app] settings with the "
        "deployment (the --state file, or --sandbox's), asking only what it cannot find. "
        "With no DIR, nothing changes: the deployment runs the Todo API.",
    )
    init.add_argument("folder", nargs="?", metavar="DIR", help="the app's folder")
    init.add_argument("--yes", "-y", action="store_true", help="take every proposal, ask nothing")
    _day_two(command)
    for name in ("deploy", "destroy", "init", *DAY_TWO):
        _wait_option(commands.choices[name])
    _wait_option(parser)  # the app
    parser.top = True
    _after_the_command(parser, commands)
    return parser


def _after_the_command(parser: argparse.ArgumentParser, commands: Any) -> None:
    """A command's own copy of an option `runbook` also takes is parsed into AFTER + its name,
    absent unless typed (so it never overwrites what was typed before the command)."""
    shared = {action.dest for action in parser._actions}
    for command in commands.choices.values():
        for action in command._actions:
            if action.dest in shared and action.dest != "help":
                action.dest = AFTER + action.dest
                action.default = argparse.SUPPRESS


def _destroy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask")
    parser.add_argument("--dry-run", action="store_true", help="print the deletes only")
    parser.add_argument(
        "--deployment",
        metavar="NAME",
        help="with no state file: the deployment to delete, found by its name and tag "
        "(you confirm by typing the name)",
    )
    parser.add_argument(
        "--skip-final-snapshot",
        action="store_true",
        help="delete the database with no final snapshot (its data is lost for good)",
    )


# The day-two commands (runbook/cli/commands/day_two.py runs them).
DAY_TWO = ("rollback", "redeploy", "scale")


def _day_two(command: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    """rollback, redeploy and scale, with the options every command takes."""
    rollback = command(
        "rollback",
        "roll the service back to its previous revision",
        "Roll the service back to its task definition family's ACTIVE revision "
        "before the one it runs now, showing the calls first, then the rollout until it is "
        "stable. Nothing is deregistered or deleted; the next deploy rolls forward again and "
        "says so.",
    )
    redeploy = command(
        "redeploy",
        "new tasks from the same revision",
        "Start a new deployment of the revision the service runs (new tasks: a "
        "rotated secret or a re-pushed image tag is picked up), then show the rollout.",
    )
    scale = command(
        "scale",
        "change the service's desired count",
        f"Run COUNT tasks (0 to {TASKS_PER_SERVICE}); recorded with the "
        "deployment's settings. With Auto Scaling on, COUNT becomes its minimum instead (it "
        "owns the count).",
    )
    scale.add_argument("count", type=int, metavar="COUNT", help="tasks to run")
    for parser in (rollback, redeploy, scale):
        parser.add_argument("--yes", "-y", action="store_true", help="do not ask")


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
