"""The `runbook` command: reads the arguments, takes the deployment's lock for a command that
changes it, and hands over to runbook/cli/run.py, which names the deployment (its state file)
and the settings it starts from and runs the command's own module (runbook/cli/commands/).

Only the arguments are read before anything else is imported: `runbook --help` (or a typo)
answers without loading the engine, rich or boto3, and each command imports what it uses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runbook.cli.codes import BAD_INPUT, CLOSED_PIPE, FAILED, INTERRUPTED
from runbook.cli.parser import make_parser

if TYPE_CHECKING:
    from rich.console import Console

    from runbook.errors import Problem


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader left (`runbook plan --json | head`): nothing more to say, and the
        # interpreter must not fail again flushing stdout at exit.
        _stdout_to_nowhere()
        return CLOSED_PIPE


def _reader_left() -> None:
    raise BrokenPipeError


def _stdout_to_nowhere() -> None:
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, sys.stdout.fileno())
    os.close(nowhere)


def _main(argv: Sequence[str] | None) -> int:
    args = make_parser().parse_args(argv)
    from rich.console import Console
    from rich.text import Text

    from runbook.cli import named as named_module
    from runbook.cli import target
    from runbook.errors import RunbookError

    console = Console(stderr=False, highlight=False)
    console.on_broken_pipe = _reader_left  # type: ignore[method-assign]  # rich would exit 1
    try:
        timings = target.timings(args.timings)
    except target.TimingsError as exc:
        console.print(f"[red]✗[/] {exc}")
        return BAD_INPUT
    args.timings = timings
    if args.command == "sandbox":
        from runbook.cli.commands import sandbox as sandbox_command

        return sandbox_command.run(console, args.action, timings)
    if args.command == "init":
        return _init(console, args)
    if args.command == "logs":
        from runbook.cli.commands.logs import SinceError, parse_since

        try:  # the command's own arguments first: a typo is said before anything is read
            parse_since(args.since)
        except SinceError as exc:
            console.print(Text.assemble(("✗ ", "red"), str(exc)))
            return BAD_INPUT
    from runbook.cli import run

    lock = None
    try:
        if named_module.changes(args):
            lock = _hold_the_deployment(console, args)
        return run.named(console, args)
    except RunbookError as exc:  # the state file or the lock: nothing was sent
        return _refused(console, exc.problem, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        console.print("\n[yellow]Interrupted.[/] Nothing was changed while waiting.")
        return INTERRUPTED
    finally:
        if lock is not None:
            lock.release()


def _refused(console: Console, p: Problem, as_json: bool = False) -> int:
    """A refusal before anything was sent (the state file, the lock): said, and its exit code
    (a busy deployment is a failure to wait out, the rest bad input)."""
    from runbook.cli import render
    from runbook.cli import run as run_module

    if as_json:  # a script reads stdout as JSON, refusals included
        print(json.dumps({"error": run_module.error_object(p, ())}, indent=2))
    else:
        render.error(console, p.code, p.message, p.advice)
    return FAILED if p.code == "DeploymentBusy" else BAD_INPUT


def _init(console: Console, args: argparse.Namespace) -> int:
    """init records settings in the deployment's state file: not while another run changes it
    (its write would be lost, or ours), so it holds the same lock."""
    from runbook.cli.commands import init as init_command
    from runbook.errors import RunbookError

    try:
        lock = _hold_the_deployment(console, args)
    except RunbookError as exc:
        return _refused(console, exc.problem)
    except KeyboardInterrupt:
        console.print("\n[yellow]Interrupted.[/] Nothing was written.")
        return INTERRUPTED
    try:
        return init_command.run(console, args)
    except KeyboardInterrupt:
        console.print("\n[yellow]Stopped.[/] Nothing was written.")
        return INTERRUPTED
    finally:
        lock.release()


def _hold_the_deployment(console: Console, args: argparse.Namespace) -> Any:
    """The deployment's lock, held until the command ends: waiting (said) or refusing."""
    from rich.text import Text

    from runbook.next_steps import default_state
    from runbook.run_lock import RunLock, this_command

    lock = RunLock(args.state or default_state(args.sandbox), this_command())
    lock.acquire(
        wait=not args.no_wait,
        tell=lambda line: console.print(Text(line, style="yellow"), soft_wrap=True),
    )
    return lock
