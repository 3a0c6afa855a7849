"""Welcome: where this will deploy, the deployment's name, saved progress, and preflight checks."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Static

from runbook.engine import Runbook
from runbook.preflight import Finding
from runbook.recorded import Start
from runbook.settings import Settings, differences
from screens.messages import BeginRequested, SettingsEdited
from screens.modals.start_over import StartOver
from screens.sidebar.section_list import SectionList
from screens.welcome.preflight_findings import PreflightFindings
from screens.welcome.target_status import Reaching, TargetStatus

INTRO = (
    "This runbook deploys the Flask Todo API to ECS Fargate behind an Application Load "
    "Balancer, with an RDS PostgreSQL database, following the guide's six sections. Each "
    "section explains what it creates, lets you change the guide's defaults, and shows the "
    "exact AWS calls; nothing changes until you confirm them."
)
MODE_NOTES = {
    "aws": "Real resources will be created in this account; they cost money until you run "
    "`runbook destroy`.",
    "sandbox": "A local AWS emulator: nothing leaves this machine and nothing costs money.",
    "dry run": "Dry run: no AWS call changes anything. Run shows the calls it would make.",
}


class WelcomeScreen(Screen[None]):
    BINDINGS = [
        Binding("b", "begin", "Begin"),
        Binding("r", "resume", "Resume"),
        Binding("r", "again", "Start again"),
        Binding("s", "start_over", "Start over"),
        Binding("f", "fix", "Accept fix"),
    ]

    def __init__(
        self,
        runbook: Runbook,
        mode: str,
        where: str,
        findings: list[Finding] | None,
        start: Start | None = None,
        fresh: Settings | None = None,
        reaching: Reaching | None = None,
    ) -> None:
        super().__init__(name="welcome")
        self.reaching = reaching  # the target (the sandbox) reached behind this screen
        self.runbook = runbook
        self.mode = mode
        self.where = where
        self.findings = findings
        self.start = start
        # What starting over gives: the guide's defaults (and --config), same deployment.
        self.fresh = fresh or Settings.for_deployment(runbook.settings.deployment.name)
        self.resuming = runbook.state.existed and (
            runbook.state.settings is not None
            or any(runbook.state.get(step.number).status != "to do" for step in runbook.steps)
        )
        self._fixed: set[int] = set()
        self.reset = False  # nothing the saved run made exists any more

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield SectionList(
                self.runbook.steps, "", is_on=lambda s: s.enabled(self.runbook.settings)
            )
            with VerticalScroll(id="welcome-body"):
                yield Static("Deploy the Flask Todo API to AWS Fargate", id="welcome-title")
                yield Static(self._where(), id="where")
                if self.reaching is not None:
                    yield TargetStatus(self.reaching, id="target")
                if self.resuming:
                    yield Static(self._saved(), id="saved")
                with Horizontal(id="welcome-actions"):
                    yield Button(self._begin_label(), id="begin", variant="primary", compact=True)
                    if self.resuming:
                        yield Button("Start over (s)", id="start-over", compact=True)
                yield Label("Checks before we start", classes="heading")
                yield PreflightFindings(self.findings, id="findings")
                yield Label("What this does", classes="heading")
                yield Static(INTRO, id="intro")
        yield Footer()

    def on_mount(self) -> None:
        # Focus without scrolling: the title stays in view, even on a short terminal.
        self.query_one("#begin", Button).focus(scroll_visible=False)

    def _where(self) -> Text:
        text = Text()
        text.append("Where       ", style="dim")
        text.append(self.where, style="bold")
        text.append("\nDeployment  ", style="dim")
        text.append(self.runbook.settings.deployment.name, style="bold")
        text.append(f"  (region {self.runbook.settings.deployment.region})", style="dim")
        text.append(f"\n{MODE_NOTES.get(self.mode, '')}", style="italic")
        text.append("\nSettings    ", style="dim")
        start = self.start
        recorded = start.recorded if start is not None else self.runbook.state.settings is not None
        if recorded:
            text.append(f"as recorded with the deployment ({self.runbook.state.path})")
        else:
            text.append(
                "the guide's defaults (and --config, if given); recorded from the first run"
            )
        if start is not None and start.changes:
            text.append(
                f"\n            --config changed {len(start.changes)}: "
                + "; ".join(str(c) for c in start.changes),
                style="yellow",
            )
        for note in start.notes if start else []:
            text.append(f"\n            {note}", style="dim")
        return text

    def _saved(self) -> Text:
        state = self.runbook.state
        done = [s.number for s in self.runbook.steps if state.get(s.number).status == "done"]
        text = Text("A saved run was found", style="bold")
        text.append(f" ({state.path}): ")
        sections = "section" if len(done) == 1 else "sections"
        text.append(f"{sections} {', '.join(done)} done. " if done else "nothing done yet. ")
        text.append(
            "Resume continues at the first section not done, with the recorded settings. "
            "Start over (it asks first) forgets progress and settings; nothing in AWS is "
            "deleted.",
            style="dim",
        )
        return text

    def _begin_label(self) -> str:
        return "Resume (r)" if self.resuming else "Begin (b)"

    # -- what the app tells this screen ----------------------------------------------------

    def show_target(self) -> None:
        """Reaching the target said more, or ended."""
        self.query_one(TargetStatus).show()

    def show_findings(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.query_one(PreflightFindings).show(findings)
        self.refresh_bindings()

    def show_gone(self, numbers: list[str], *, everything: bool) -> None:
        """Sections the saved run recorded as done that no longer exist: say so, offer again."""
        self.query_one("#saved", Static).update(self._gone(numbers, everything=everything))
        if everything:
            self.reset = True
            begin = self.query_one("#begin", Button)
            begin.label = "Start again (r)"
            begin.refresh(layout=True)
            self.refresh_bindings()

    def _gone(self, numbers: list[str], *, everything: bool) -> Text:
        state = self.runbook.state
        listed = ", ".join(numbers)
        sections = "section" if len(numbers) == 1 else "sections"
        if everything and self.mode == "sandbox":
            text = Text("The sandbox was reset", style="bold")
            text.append(
                f": nothing the saved run made is in it any more ({sections} {listed} were "
                "done; `runbook sandbox stop` removes everything the sandbox holds). "
            )
        elif everything:
            text = Text("Nothing the saved run made exists any more", style="bold")
            text.append(f" ({sections} {listed} were done in {state.path}). ")
        else:
            text = Text(f"{sections.capitalize()} {listed} no longer exist", style="bold")
            text.append(f": {state.path} recorded them done, but nothing of theirs is left. ")
        again = "Start again (r)" if everything else "Resume (r)"
        text.append(
            f"{again} runs them again with the recorded settings; Start over (s) also "
            "forgets the settings.",
            style="dim",
        )
        return text

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One key, named for what it does here: Begin, or Resume a saved run.
        if action == "begin":
            return not self.resuming
        if action == "resume":
            return self.resuming and not self.reset
        if action == "again":
            return self.resuming and self.reset
        if action == "start_over":
            return self.resuming
        if action == "fix":
            return bool(self._pending_fixes())
        return True

    def _pending_fixes(self) -> list[int]:
        return [
            i
            for i, f in enumerate(self.findings or [])
            if f.fix is not None and i not in self._fixed
        ]

    @on(Button.Pressed, "#begin")
    def action_begin(self) -> None:
        self.post_message(BeginRequested())

    def action_resume(self) -> None:
        self.post_message(BeginRequested())

    def action_again(self) -> None:
        self.post_message(BeginRequested())

    @on(Button.Pressed, "#start-over")
    def action_start_over(self) -> None:
        """Ask first, saying what is forgotten: the progress, and settings that differ."""
        state, steps = self.runbook.state, self.runbook.steps
        done = [s.number for s in steps if state.get(s.number).status == "done"]
        keep = self.runbook.settings.deployment
        fresh = self.fresh.replace("deployment", name=keep.name, region=keep.region)
        forgotten = differences(self.runbook.settings, fresh)

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(BeginRequested(start_over=True))

        self.app.push_screen(StartOver(done, forgotten, keep.name), answered)

    def action_fix(self) -> None:
        """Accept every offered fix, e.g. db.t4g.micro for the guide's retired db.t2.micro."""
        for index in self._pending_fixes():
            fix = (self.findings or [])[index].fix
            assert fix is not None
            self.runbook.use_settings(fix.apply(self.runbook.settings))
            self._fixed.add(index)
            # The finding itself now reads "✓ fixed: ...": no toast, which would sit over
            # section I when the person begins at once.
            self.query_one(PreflightFindings).mark_applied(index)
        self.post_message(SettingsEdited("welcome"))
        self.refresh_bindings()
