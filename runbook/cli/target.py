"""The composition root: what a command runs against (AWS or the sandbox), and how its engine
is built from that, the settings and the state file.

The only module outside runbook/sandbox that imports the sandbox, and only when a command
asks for it (importing it loads the emulator).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from runbook.errors import Problem, RunbookError

if TYPE_CHECKING:
    from runbook.aws import Aws
    from runbook.engine import EngineFor, Runbook
    from runbook.events import Listener
    from runbook.image import Build
    from runbook.sandbox import Timings
    from runbook.state import StateFile

# What a front end is told while its target is reached, and how it asks the person yes/no.
Tell = Callable[[str], None]
Ask = Callable[[str], bool]
# Reach the target (start or find the sandbox), then claim the deployment for this run; run by
# the app in a worker behind its first screen. Raises RunbookError when it cannot.
Reach = Callable[[Tell, Ask], None]
SANDBOX_LABEL = "local emulator (sandbox)"

# With instant timings nothing takes long: poll the emulator often, not at AWS's pace.
INSTANT_POLL = 0.25


class TimingsError(ValueError):
    """--timings names no shape of the sandbox's waits."""


def timings(text: str | None) -> Timings | None:
    """--timings SHAPE, read; None when not given."""
    if not text:
        return None
    from runbook.sandbox import Timings
    from runbook.sandbox import TimingsError as Unreadable

    try:
        return Timings.parse(text)
    except Unreadable as exc:
        raise TimingsError(str(exc)) from exc


def poll_sleep(shape: Timings | None) -> Callable[[float], None]:
    """How the engine pauses against the sandbox: at AWS's pace only when its waits are AWS's."""
    if shape is not None and shape.scale:
        return time.sleep
    return lambda seconds: time.sleep(min(seconds, INSTANT_POLL))


def aws_for(args: argparse.Namespace, settings: Any) -> Aws | None:
    """Clients for the target; None when there are no credentials (dry runs go offline)."""
    from runbook.aws import Aws

    region = settings.deployment.region
    if args.sandbox:
        return _sandbox_aws(args, region)
    aws = Aws(region, profile=args.profile, label=f"AWS {region}")
    return aws if aws.has_credentials() else None


def _sandbox_aws(args: argparse.Namespace, region: str, tell: Tell | None = None) -> Aws:
    """Clients for the background sandbox, started if none answers (a second or two)."""
    from runbook import sandbox
    from runbook.aws import Aws

    known = None
    try:
        if tell is not None:
            known = sandbox.running()
            if known:
                tell(f"running (pid {known['pid']}, {known['url']})")
            else:
                tell("starting (the first start takes a second or two)")
        started = time.monotonic()
        endpoint = sandbox.ensure_running(timings=args.timings)
        keys = sandbox.credentials()
    except sandbox.SandboxError as exc:
        raise RunbookError(
            Problem("Sandbox", str(exc), "See .runbook/sandbox.log; then run again.")
        ) from exc
    if tell is not None and not known:
        tell(f"started in {time.monotonic() - started:.1f} s ({endpoint})")
    return Aws(
        region,
        endpoint_url=endpoint,
        credentials=keys,
        label=SANDBOX_LABEL,
        load_balancer_url=sandbox.local_url,
    )


def sandbox_later(args: argparse.Namespace, settings: Any, state: StateFile) -> tuple[Aws, Reach]:
    """The app's first screen comes before the sandbox: clients that wait for it (built into
    the engine now), and how the app reaches it and claims the deployment behind that screen."""
    from runbook.pending_aws import PendingAws

    pending = PendingAws(settings.deployment.region, SANDBOX_LABEL)

    def reach(tell: Tell, ask: Ask) -> None:
        said: list[str] = []

        def keep(line: str) -> None:
            said.append(line)
            tell(line)

        try:
            aws = _sandbox_aws(args, settings.deployment.region, keep)
        except BaseException as exc:  # every wait on the clients ends with it
            pending.failed(exc)
            raise
        pending.arrived(aws)
        from runbook.cli.named import changes, claim_with

        if changes(args):
            # The tag search takes seconds: say that is what the line waits for now, then
            # leave the sandbox's own line as the last word.
            started = said[-1]
            tell(f"{started}; looking for what already carries the deployment's tag")
            claim_with(args, aws, state, settings, tell=keep, ask=ask)
            if said[-1] == started:  # the search said nothing of its own
                tell(started)

    return cast("Aws", pending), reach


def build_for(args: argparse.Namespace, aws: Aws | None, settings: Any = None) -> Build:
    """The engine that builds the app's image: docker or podman here, or the sandbox's own
    stand-in (it builds into the store the sandbox's tasks run from); None: the person."""
    from runbook.image import Build, ContainerEngine, find_engine
    from runbook.image.container_engine import ENGINE_ENV, EngineSettingError, LateEngine

    if args.sandbox and aws is not None:
        from runbook import sandbox
        from runbook.pending_aws import PendingAws

        if isinstance(aws, PendingAws):  # the sandbox answers later: so does its stand-in
            pending = aws

            def path() -> str:
                pending.wait()
                return sandbox.engine_path()

            engine: ContainerEngine | None = LateEngine(_stand_in_name(), path)
        else:
            engine = ContainerEngine(sandbox.engine_path())
    else:
        try:
            engine = find_engine()
        except EngineSettingError as exc:
            raise RunbookError(
                Problem(
                    "ContainerEngineSetting",
                    str(exc),
                    f"Fix or unset {ENGINE_ENV}, then run again.",
                )
            ) from exc
    if settings is None:
        return Build(engine=engine)
    # The [app] settings name the app (runbook init); none: the Todo API.
    return Build.of_app(settings.app.folder, settings.app.dockerfile, engine)


def _stand_in_name() -> str:
    from runbook.sandbox.container_engine import SHIM

    return SHIM


def engine_for(
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
        options["sleep"] = poll_sleep(args.timings)
    build = build_for(args, aws, settings)

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


# -- the background sandbox itself (`runbook sandbox start|stop|status`) ------------------


class SandboxError(RuntimeError):
    """The sandbox could not be started."""


def start_sandbox(shape: Timings | None) -> tuple[str, dict[str, Any]]:
    """The sandbox's address (started if it was not running), and what it says of itself."""
    from runbook import sandbox

    try:
        url = sandbox.ensure_running(timings=shape)
    except sandbox.SandboxError as exc:
        raise SandboxError(str(exc)) from exc
    return url, sandbox.running() or {}


def running_sandbox() -> dict[str, Any] | None:
    """What the running sandbox says of itself: pid, url, timings, folder; None if none runs."""
    from runbook import sandbox

    return sandbox.running()


def stop_sandbox() -> bool:
    """Stop it and remove its data; False when none was running."""
    from runbook import sandbox

    return bool(sandbox.stop())


def still_running_note() -> str:
    """After the app against the sandbox: it keeps running, and how it stops."""
    known = running_sandbox()
    if not known:
        return ""
    return (
        f"The sandbox is still running in the background (pid {known['pid']}, "
        f"{known['url']}): it stops by itself after 30 minutes unused, or now with "
        "`runbook sandbox stop`."
    )
