"""One of the guide's six sections: what it makes and why, its settings, its calls, its log."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Header, Input, Label, Static, TextArea

from runbook.engine import Runbook
from runbook.events import Event, Notice
from runbook.labels import PLACEHOLDERS
from runbook.settings import Settings
from runbook.steps import Step
from runbook.validation import FieldError, dockerfile_problem, validate
from runbook.words import explained
from screens.messages import RunRequested, SettingsEdited
from screens.progress import Progress, SectionProgress
from screens.section.app_settings import AppForm
from screens.section.call_preview import CallPreview
from screens.section.changed_text import update_changed
from screens.section.known_values import KnownValues, inputs, outputs
from screens.section.run_log import RunLog
from screens.section.section_form import SectionForm
from screens.sidebar.section_list import SectionList
from screens.steady_footer import SteadyFooter

# Section V's settings only the Todo API reads: an app of the person's own never sees them.
TODO_API_FIELDS = ("flask_app", "flask_env")


class SectionScreen(Screen[None]):
    """Installed once per section, so its log and its running step outlive a visit elsewhere."""

    BINDINGS = [
        Binding("ctrl+r", "run", "Run"),
        Binding("ctrl+n", "app.next_section", "Next"),
        Binding("ctrl+p", "app.previous_section", "Previous"),
        Binding("ctrl+l", "focus_sections", "Sections"),
    ]

    def __init__(self, runbook: Runbook, step: Step, mode: str) -> None:
        super().__init__(name=f"section-{step.number}")
        self.runbook = runbook
        self.step = step
        self.mode = mode
        self.errors: dict[str, str] = {}
        self.progress = SectionProgress()
        self._shown_settings: Any = self._own(runbook.settings)
        self._early: list[Event] = []
        self._stale = False
        # The form's values and the runbook's settings as last validated.
        self._validated: Any = None
        # Set by the app after a run: what to do next (the next section, or the summary).
        self.next_hint = ""
        # Section V's [app] fields, when an app of one's own was named as the screen was made.
        self._app_fields: AppForm | None = None

    def compose(self) -> ComposeResult:
        step, settings = self.step, self.runbook.settings
        yield Header()
        with Horizontal():
            yield SectionList(self.runbook.steps, step.number, is_on=self._is_on)
            with Vertical(id="section-main"):
                yield Static(self._title(), id="section-title")
                with VerticalScroll(id="section-body"):
                    yield Static(explained(step.explanation, settings), id="explanation")
                    yield Label("Settings", classes="heading")
                    yield SectionForm(step.key, settings.section(step.key), id="form")
                    if step.key == "task_definition" and settings.app.folder:
                        # The person's own app ([app], as `runbook init` recorded it).
                        yield Label("Your app", classes="heading", id="app-heading")
                        self._app_fields = AppForm(settings, self.runbook.build, id="app-form")
                        yield self._app_fields
                    yield Label("From earlier sections", classes="heading", id="inputs-heading")
                    yield KnownValues(id="inputs")
                    yield Label("Made by this section", classes="heading", id="outputs-heading")
                    yield KnownValues(id="outputs")
                    yield Label(self._calls_heading(), classes="heading", id="calls-heading")
                    yield CallPreview(self._preview(settings), id="preview")
                # Always in view, whatever is scrolled: the Run button and why it can't run.
                with Horizontal(id="run-row"):
                    yield Button(self._run_label(), id="run", variant="primary", compact=True)
                    yield Static("", id="run-hint")
                yield RunLog(id="run-log")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(RunLog).display = False
        self._show_known()
        self.watch(self.app, "progress", self._progress_changed, init=True)
        for event in self._early:
            self.query_one(RunLog).record(event)
        self._early.clear()
        self._show_todo_api_fields()
        self._validate()

    def on_screen_resume(self) -> None:
        self._show_progress(self._stale)
        self._stale = False
        self.query_one(SectionList).refresh_entries()
        # Settings can change elsewhere (a preflight fix on the welcome screen).
        if self._own(self.runbook.settings) != self._shown_settings and not self.errors:
            self.reload()
        self._show_known()
        self._show_explanation(self.runbook.settings)
        if not isinstance(self.focused, Input | Checkbox | Button):
            first = self.query(Input).first() if self.query(Input) else None
            if first is not None and not first.disabled:
                # Without scrolling: a section opens at its title and explanation (V and
                # VI have long ones; scrolled to their first field, they opened mid-text).
                first.focus(scroll_visible=False)

    def reload(self) -> None:
        """Show the runbook's settings again (a fix accepted, or a start over)."""
        settings = self.runbook.settings
        self._shown_settings = self._own(settings)
        if self.is_mounted:
            self.query_one(SectionForm).load(settings.section(self.step.key))
            app_form = self._app_fields
            if app_form is not None:
                # A start over forgets the app: its fields go with it.
                app_form.display = bool(settings.app.folder)
                self.query_one("#app-heading").display = bool(settings.app.folder)
                app_form.load(settings)
            self._show_todo_api_fields()
            self._validate()

    def _show_todo_api_fields(self) -> None:
        if self.step.key != "task_definition":
            return
        shown = not self.runbook.settings.app.folder
        for name in TODO_API_FIELDS:
            for widget in self.query(f"#label-{name}, #field-{name}"):
                widget.display = shown
        image = self.query_one("#field-image", Input)
        image.placeholder = (
            PLACEHOLDERS[("task_definition", "image")]
            if shown
            else "empty: built from the app's folder, tagged with its version"
        )

    def _own(self, settings: Settings) -> Any:
        """The settings this screen edits: its section's, and section V's [app]."""
        return (settings.section(self.step.key), settings.app)

    def _app_form(self) -> AppForm | None:
        """The [app] fields, when an app of the person's own is named."""
        # Kept, not queried: a query walks the whole screen, and this runs per keystroke.
        return self._app_fields if self.runbook.settings.app.folder else None

    def _forms_values(self) -> Any:
        app_form = self._app_form()
        return (self.query_one(SectionForm).values(), app_form.values() if app_form else None)

    # -- what the app tells this screen ----------------------------------------------------

    def record(self, event: Event) -> None:
        """An engine event for this section (on the app's thread)."""
        if not self.is_mounted:
            self._early.append(event)
            return
        self.query_one(RunLog).record(event)
        self._show_known()

    def show_dry_run(self, rows: list[dict[str, Any]]) -> None:
        log = self.query_one(RunLog)
        log.dry_run(self.step.number, rows, off=not self.step.enabled(self.runbook.settings))

    def show_next(self, hint: str) -> None:
        """After a run: what comes next, beside the Run button and at the end of the log."""
        self.next_hint = hint
        if not hint:
            return
        if not self.is_mounted:
            self._early.append(Notice(self.step.number, hint))
            return
        self.query_one(RunLog).write(f"  {hint}", "bold")
        self._update_run()

    # -- the form ----------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def _field_changed(self) -> None:
        # Each field says Changed once as it mounts (and again on a reload), with the values
        # just validated: planning and checking every call again for each of them stalled
        # the app 100-500 ms whenever a section first opened.
        if self._validated != (self._forms_values(), self.runbook.settings):
            self._validate()

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @on(Input.Blurred)
    @on(Checkbox.Changed)
    def _field_left(self) -> None:
        # A field left with a valid value is the person's setting: the app records it.
        if not self.errors:
            self.post_message(SettingsEdited(self.step.number))

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # A text area (the app's environment) says nothing of its own when it is left.
        if isinstance(event.widget, TextArea):
            self._field_left()

    def _validate(self) -> None:
        """The engine's own rules, as you type; a valid form becomes the runbook's settings."""
        form = self.query_one(SectionForm)
        values, unparsed = form.values()
        candidate = self.runbook.settings.replace(self.step.key, **values)
        app_form = self._app_form()
        if app_form is not None:
            app_values, app_unparsed = app_form.values()
            candidate = candidate.replace("app", **app_values)
        # Every rule once per keystroke, shared by the section's form and the app's.
        broken = validate(candidate)
        self.errors = {**_of(broken, self.step.key), **unparsed}
        form.show_errors(self.errors)
        if app_form is not None:
            app_errors = {**_of(broken, "app"), **app_unparsed}
            _dockerfile_found(candidate, app_errors)
            app_form.show_errors(app_errors)
            app_form.show(candidate)
            self.errors.update({f"app.{name}": rule for name, rule in app_errors.items()})
        if not self.errors:
            turned = self.step.enabled(candidate) != self.step.enabled(self.runbook.settings)
            self.runbook.use_settings(candidate)
            self._shown_settings = self._own(candidate)
            if turned:
                self.query_one(SectionList).refresh_entries()
        self.query_one(CallPreview).show(self._preview(candidate))
        self._show_explanation(candidate)
        self._show_known(candidate)
        self._update_run()
        self._validated = (self._forms_values(), self.runbook.settings)

    def _show_explanation(self, settings: Settings) -> None:
        # In the settings' values: section I's port is the one sections II, V and VI name.
        update_changed(
            self.query_one("#explanation", Static), explained(self.step.explanation, settings)
        )

    def _preview(self, settings: Settings) -> list[dict[str, Any]] | None:
        """The calls a first run makes; None when these settings turn the section off."""
        if not self.step.enabled(settings):
            return None
        return self.runbook.preview(self.step, settings)

    def _is_on(self, step: Step) -> bool:
        return step.enabled(self.runbook.settings)

    def _show_known(self, settings: Settings | None = None) -> None:
        if not self.is_mounted:
            return
        settings = settings or self.runbook.settings
        known = self.runbook.known
        needed = inputs(self.step, self.runbook.steps, settings, known)
        made = outputs(self.step, settings, known) if self.progress.status == "done" else []
        if not made and self.progress.status == "done":
            made = [
                (k, v, self.step.number)
                for k, v in self.runbook.state.get(self.step.number).outputs.items()
            ]
        self.query_one("#inputs", KnownValues).show(needed)
        self.query_one("#outputs", KnownValues).show(made)
        self.query_one("#inputs-heading").display = bool(needed)
        self.query_one("#outputs-heading").display = bool(made)

    # -- running -------------------------------------------------------------------------

    def _progress_changed(self, progress: Progress) -> None:
        mine = progress.get(self.step.number, SectionProgress())
        changed = mine.status != self.progress.status
        self.progress = mine
        if not self.is_current:
            # A screen out of view catches up when it comes back (on_screen_resume).
            self._stale = self._stale or changed
            return
        self._show_progress(changed)

    def _show_progress(self, changed: bool) -> None:
        self.query_one("#section-title", Static).update(self._title())
        self.query_one("#calls-heading", Label).update(self._calls_heading())
        self.query_one(SectionForm).disabled = self.progress.running
        if self._app_fields is not None:
            self._app_fields.disabled = self.progress.running
        self._update_run()
        if changed:
            self._show_known()

    def _update_run(self) -> None:
        button = self.query_one("#run", Button)
        blocked = bool(self.errors) or self.progress.running
        hint, style = "", "dim"
        waiting_for = self._unknown_inputs()
        if self.errors:
            hint, style = "Fix the fields marked ↳ to run it.", "bold red"
        elif self.progress.running:
            hint = "Running: the log below follows it."
        elif not self.step.enabled(self.runbook.settings):
            hint = "Off: these settings leave it out."
        elif waiting_for:
            hint, style = f"Needs section {waiting_for} first.", "yellow"
        elif self.progress.status == "done" and self.next_hint:
            hint, style = self.next_hint, "green"
        elif self.progress.status == "interrupted":
            hint, style = "Interrupted: run it again to carry on.", "yellow"
        update_changed(self.query_one("#run-hint", Static), Text(hint, style=style))
        if button.disabled != blocked:
            button.disabled = blocked
            self.refresh_bindings()  # the footer greys Run out, or shows it again

    def _unknown_inputs(self) -> str:
        """The first earlier section whose values this one needs and nobody knows yet."""
        if not self.is_mounted:
            return ""
        rows = self.query_one("#inputs", KnownValues).rows or []
        return next((producer for _key, value, producer in rows if value is None), "")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.app.screen is not self:
            return False  # a dialog is on top: its own keys apply
        if action == "run" and (self.errors or self.progress.running):
            return None  # shown greyed in the footer
        return True

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        if self.errors:
            self.notify("Some fields break AWS's rules: fix them first.", severity="warning")
            # The section's fields first, then the app's: the first one marked takes the focus.
            forms = [self.query_one(SectionForm), self._app_form()]
            invalid = next(
                (
                    widget
                    for form in forms
                    if form is not None
                    for widget in form.query(".-invalid")
                    if isinstance(widget, Input | TextArea | Checkbox)
                ),
                None,
            )
            if invalid is not None:
                invalid.focus()
            return
        if self.progress.running:
            return
        self.next_hint = ""
        log = self.query_one(RunLog)
        log.display = True
        self.post_message(RunRequested(self.step.number))

    def action_focus_sections(self) -> None:
        listing = self.query_one(SectionList)
        if listing.display:
            listing.focus()
        else:  # folded away on a narrow terminal
            self.notify("The section list shows on a wider terminal; ctrl+n / ctrl+p move.")

    # -- text ----------------------------------------------------------------------------

    def _title(self) -> Text:
        title = Text(f"Section {self.step.number} · {self.step.title}", style="bold")
        status = self.progress.status
        style = {
            "done": "green",
            "failed": "red",
            "running": "yellow",
            "interrupted": "yellow",
        }.get(status, "dim")
        title.append(f"   {status}", style=style)
        return title

    def _run_label(self) -> str:
        if self.mode == "dry run":
            return "Show calls (dry run)"
        return f"Run section {self.step.number}"

    def _calls_heading(self) -> str:
        # The preview plans from nothing; Run first looks at what exists and may need fewer.
        if self.progress.status == "done":
            return "Calls a first run makes (Run looks first: only what is missing or differs)"
        return "Calls this section will make"


def _of(broken: list[FieldError], section: str) -> dict[str, str]:
    """One section's broken rules by field name."""
    return {e.field: e.rule for e in broken if e.section == section}


def _dockerfile_found(s: Settings, errors: dict[str, str]) -> None:
    """The [app] Dockerfile on disk, inside the folder (rules that read the disk)."""
    # An image given by name is not built: its Dockerfile is not needed then.
    if s.task_definition.image or "dockerfile" in errors:
        return
    if problem := dockerfile_problem(s.app.folder, s.app.dockerfile):
        errors["dockerfile"] = problem
