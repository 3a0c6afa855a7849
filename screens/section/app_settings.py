"""Section V's view of the [app] settings (`runbook init DIR` writes them): read-only here."""

from __future__ import annotations

from textual.widgets import Static

from runbook.settings import SECRET_ENV_PREFIX, Settings


def describe(s: Settings) -> str:
    app = s.app
    lines = [
        f"Folder: {app.folder}",
        f"Dockerfile: {app.dockerfile or 'Dockerfile'} (its ENTRYPOINT and CMD start the task)",
        f"Port: {s.security_groups.app_port} · health check: {s.load_balancer.health_check_path}",
    ]
    if app.environment:
        shown = ", ".join(f"{name}={value}" for name, value in sorted(app.environment.items()))
        lines.append(f"Environment: {shown}")
    if app.secrets:
        lines.append(
            f"Secrets: {', '.join(app.secrets)} (values from {SECRET_ENV_PREFIX}<NAME>, kept "
            "in Secrets Manager, never shown)"
        )
    lines.append("Change them with `runbook init DIR` or [app] in --config.")
    return "\n".join(lines)


class AppSettings(Static):
    """Shown only when an app of the person's own is named; the Todo API needs no words."""

    def __init__(self, settings: Settings, *, id: str | None = None) -> None:
        super().__init__(describe(settings), id=id, markup=False)
