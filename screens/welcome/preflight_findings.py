"""The checks before the first change: each finding with its level, and its fix if any."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from runbook.preflight import Finding

MARKS = {
    "ok": ("✓", "green"),
    "info": ("·", "cyan"),
    "warning": ("!", "yellow"),
    "error": ("✗", "red"),
}


class PreflightFindings(Static):
    """None while the checks run; then one line per finding, fixes named and marked when taken."""

    DEFAULT_CSS = """
    PreflightFindings {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, findings: list[Finding] | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings = findings
        self.applied: set[int] = set()
        self._render_findings()

    def show(self, findings: list[Finding]) -> None:
        self.findings = findings
        self._render_findings()

    def mark_applied(self, index: int) -> None:
        self.applied.add(index)
        self._render_findings()

    def _render_findings(self) -> None:
        if self.findings is None:
            self.update(Text("Checking your account and region…", style="dim italic"))
            return
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        # What needs the person (errors, warnings with a fix) first: above the fold at 80x24.
        urgent = {"error": 0, "warning": 1}
        ordered = sorted(enumerate(self.findings), key=lambda f: urgent.get(f[1].level, 2))
        for index, finding in ordered:
            mark, style = MARKS.get(finding.level, ("·", ""))
            message = Text.assemble((finding.topic, "bold"), ": ", finding.message)
            if finding.fix is not None:
                if index in self.applied:
                    message.append(f"\n✓ fixed: {finding.fix.description}", style="green")
                else:
                    message.append(f"\nfix (f): {finding.fix.description}", style="bold yellow")
            table.add_row(Text(mark, style=style), message)
        self.update(table)
