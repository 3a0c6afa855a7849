"""`runbook init [DIR] [--yes]`: an app's folder read, its [app] settings recorded with the
deployment (the state file a later `runbook deploy` starts from, --sandbox's or --state's).

It uses the app's own Dockerfile as it is, or writes one (runbook/app_dockerfile.py); finds
the port, proposes a health check path (a route that answers without logging in) and lists
the variables the app reads. It asks only what it could not find; --yes takes every proposal.
With no DIR it changes nothing: the deployment runs the Todo API, as before.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from runbook import rds_ca
from runbook.app_dockerfile import dockerfile as written_dockerfile
from runbook.app_scan import Scan, scan
from runbook.cli.codes import BAD_INPUT, OK
from runbook.next_steps import default_state
from runbook.recorded import starting_settings
from runbook.settings import SECRET_ENV_PREFIX, ConfigError, Settings, to_record
from runbook.state import StateFile, StateWriteError
from runbook.validation import validate

DEFAULT_PORT = 8000  # gunicorn's own default port
DEFAULT_WSGI = "app:app"
WHAT_TO_ADD = (
    'add a route that answers 200 without logging in, e.g. @app.get("/healthz") returning '
    '"ok", and set it with `runbook init` again (or [load_balancer] health_check_path)'
)


@dataclass
class Answers:
    """What init found by itself and what it had to ask, for the person (and the figures)."""

    found: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Asker:
    """Plain prompts (questionary), or the proposal itself with --yes."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes

    def text(self, question: str, proposal: str, check: Any = None) -> str:
        if self.yes:
            return proposal
        import questionary

        answer = questionary.text(question, default=proposal, validate=check or (lambda _: True))
        value = answer.ask()
        if value is None:
            raise KeyboardInterrupt
        return str(value).strip()

    def confirm(self, question: str, proposal: bool) -> bool:
        if self.yes:
            return proposal
        import questionary

        value = questionary.confirm(question, default=proposal).ask()
        if value is None:
            raise KeyboardInterrupt
        return bool(value)


def run(console: Console, args: argparse.Namespace) -> int:
    if not args.folder:
        console.print(
            "No app folder named: the deployment runs the Todo API (todo_app/), as before; "
            "nothing was changed. To deploy your own app: runbook init DIR",
            soft_wrap=True,
        )
        return OK
    folder = Path(args.folder).expanduser().resolve()
    if not folder.is_dir():
        console.print(Text(f"✗ {args.folder} is not a folder; nothing was changed.", "red"))
        return BAD_INPUT
    state = StateFile(args.state or default_state(args.sandbox))
    if state.damaged:
        console.print(Text(f"✗ {state.damaged}; nothing was changed.", "red"), soft_wrap=True)
        return BAD_INPUT
    try:
        start = starting_settings(state, args.config, args.region)
    except ConfigError as exc:
        console.print(Text.assemble(("✗ config: ", "red"), str(exc)), soft_wrap=True)
        return BAD_INPUT
    found = scan(folder)
    answers = Answers()
    settings, wsgi = settle(found, start.settings, Asker(args.yes), answers)
    errors = validate(settings)
    if errors:
        console.print("[red]✗ These settings would be refused; nothing was written:[/]")
        for error in errors:
            console.print(Text(f"  {error}"), soft_wrap=True)
        return BAD_INPUT
    if not found.dockerfile:
        (folder / "Dockerfile").write_text(
            written_dockerfile(
                wsgi, settings.security_groups.app_port, found.requirements, found.has_gunicorn
            )
        )
        answers.found.append("wrote Dockerfile (gunicorn, a non-root user): yours to edit")
    try:
        state.record_settings(to_record(settings))
    except StateWriteError as exc:
        console.print(Text(f"✗ {exc.problem.message}", "red"), soft_wrap=True)
        return BAD_INPUT
    tell(console, found, settings, answers, state.path, args)
    return OK


def settle(found: Scan, settings: Settings, ask: Asker, answers: Answers) -> tuple[Settings, str]:
    """The [app] settings (and port, health check) from what was found, and answers; and the
    WSGI callable a written Dockerfile serves."""
    wsgi = found.wsgi or DEFAULT_WSGI
    if found.dockerfile:
        answers.found.append(f"Dockerfile: the app's own ({found.dockerfile}), used as it is")
        if rds_ca.URL not in (found.folder / found.dockerfile).read_text(errors="replace"):
            # The task's DB_SSLMODE is verify-full: without RDS's CAs in the image, libpq
            # refuses the connection on AWS (the sandbox puts its own CA there for every task).
            answers.warnings.append(
                f"{found.dockerfile} does not fetch RDS's CA bundle, which the database "
                f"connection checks on AWS (DB_SSLROOTCERT={rds_ca.IN_IMAGE}, DB_SSLMODE="
                f"verify-full): if the app uses the database, add `{rds_ca.ADD_LINE}`"
            )
    else:
        if found.wsgi:
            answers.found.append(f"WSGI callable: {found.wsgi} ({found.wsgi_where})")
            wsgi = found.wsgi
        else:
            wsgi = ask.text("The WSGI callable gunicorn serves (module:name)", DEFAULT_WSGI)
            answers.asked.append(f"WSGI callable: {wsgi}")
        if found.requirements:
            answers.found.append(f"dependencies: {found.requirements}")
        else:
            answers.warnings.append(
                "no requirements.txt or pyproject.toml: the image gets gunicorn alone"
            )
    if found.port is not None:
        port = found.port
        answers.found.append(f"port: {port} ({found.port_where})")
    else:
        text = ask.text(
            "The port the app listens on",
            str(DEFAULT_PORT),
            lambda t: t.strip().isdigit() or "a port number",
        )
        port = int(text)
        answers.asked.append(f"port: {port}")
    route = found.health_path()
    if route is not None:
        path = route.path
        answers.found.append(f"health check: GET {path} ({route.where}, no login)")
    else:
        path = ask.text("The health check path (a route answering 200 without login)", "/")
        answers.asked.append(f"health check path: {path}")
        answers.warnings.append(f"no route found to check health with: {WHAT_TO_ADD}")
    environment = dict(settings.app.environment)
    secrets = list(settings.app.secrets) if settings.app.folder == str(found.folder) else []
    if settings.app.folder != str(found.folder):
        environment = {}
    for variable in found.to_set():
        name, where = variable.name, variable.where
        if name in environment or name in secrets:
            answers.found.append(f"variable {name}: as recorded before")
            continue
        if not variable.required:
            answers.found.append(f"variable {name} ({where}): has a default in the code, left")
            continue
        secret = ask.confirm(
            f"The app reads {name} ({where}). Is it a secret?", variable.looks_secret
        )
        answers.asked.append(f"variable {name} ({where}): " + ("secret" if secret else "plain"))
        if secret:
            secrets.append(name)
            continue
        value = ask.text(f"{name}'s value", "")
        if value:
            environment[name] = value
        else:
            answers.warnings.append(
                f"{name} has no value and the app reads it without a default: set it in "
                "[app] environment (--config) or run init again without --yes"
            )
    settled = (
        settings.replace(
            "app",
            folder=str(found.folder),
            dockerfile=found.dockerfile or "Dockerfile",
            environment=environment,
            secrets=secrets,
        )
        .replace("security_groups", app_port=port)
        .replace("load_balancer", health_check_path=path)
    )
    return settled, wsgi


def tell(
    console: Console,
    found: Scan,
    settings: Settings,
    answers: Answers,
    state_path: Path,
    args: argparse.Namespace,
) -> None:
    console.print(f"[bold]{found.folder}[/]: recorded as this deployment's app in {state_path}")
    for line in answers.found:
        console.print(Text(f"  ✓ found: {line}"), soft_wrap=True)
    asked = "not found, took the proposal" if args.yes else "asked"
    for line in answers.asked:
        console.print(Text(f"  ? {asked}: {line}"), soft_wrap=True)
    for line in answers.warnings + found.notes:
        console.print(Text(f"  ! {line}", "yellow"), soft_wrap=True)
    where = " --sandbox" if args.sandbox else ""
    if args.state:
        where += f" --state {args.state}"
    if settings.app.secrets:
        names = " ".join(f"{SECRET_ENV_PREFIX}{n}=..." for n in settings.app.secrets)
        console.print(
            Text(
                f"Secrets ({', '.join(settings.app.secrets)}): give their values to the first "
                f"deploy only, in its environment: {names} runbook deploy{where}. They go to "
                "Secrets Manager, never to a file.",
            ),
            soft_wrap=True,
        )
    console.print(Text(f"Next: runbook deploy{where}", "bold"))
