"""The rough edges a new user met, each where a test can see it."""

from __future__ import annotations

import re

from textual.widgets import Input
from textual.widgets._toast import Toast

from runbook.state import StateFile
from screens.section.call_preview import CallPreview
from screens.section.run_log import RunLog, waiting_line
from screens.sidebar.section_list import SectionList
from screens.summary.summary_screen import SummaryScreen
from tests.ui.conftest import SIZE, plain, run_section, show_section, until
from tests.ui.new_account import answer_preflight, answer_summary_before_anything

NARROW = (60, 20)


def on_screen(app) -> str:
    """The text the terminal shows now."""
    svg = app.export_screenshot()
    rows = re.findall(r'<text class="[^"]*" x="[^"]*" y="([^"]*)"[^>]*>([^<]*)</text>', svg)
    lines: dict[str, str] = {}
    for y, text in rows:
        lines[y] = lines.get(y, "") + text.replace("&#160;", " ")
    return "\n".join(lines.values())


async def test_the_log_shows_after_a_scrolled_run_and_wraps_long_lines(scripted_app) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        app.screen.query_one("#section-body").scroll_end(animate=False)
        await pilot.pause()
        await run_section(pilot, app, "I")
        log = app.screen.query_one(RunLog)
        long = "an ARN that goes on " + "and on " * 20 + "END-OF-THE-LINE"
        log.write(long)
        await until(pilot, lambda: "END-OF-THE-LINE" in on_screen(app))
        shown = on_screen(app)
        assert "Section I done" in shown or "END-OF-THE-LINE" in shown
        assert "END-OF-THE-LINE" in shown  # wrapped to the panel, followed to the end
        # No toast covers the log: what comes next is beside the Run button.
        assert not list(app.screen.query(Toast))
        assert "Next: section II" in plain(app.screen.query_one("#run-hint"))


async def test_the_summary_is_not_done_before_anything_is_deployed(
    scripted_app, stub, offline_aws, settings
) -> None:
    """The summary's worker reads AWS: here a new account's answers (no load balancer yet)."""
    app = scripted_app(aws=offline_aws)
    answer_preflight(stub, settings, app.runbook.version)
    answer_summary_before_anything(stub, settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#findings").findings is not None)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause()
        assert app.progress["end"].status == "to do"
        listing = app.screen.query_one(SectionList)
        assert "done" not in str(listing.get_option_at_index(8).prompt)


async def test_a_section_that_is_off_says_so(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await show_section(pilot, app, "VIII")
        preview = plain(app.screen.query_one(CallPreview))
        assert "these settings turn this section off" in preview
        assert "already" not in preview


async def test_at_60x20_the_list_folds_and_the_welcome_shows_its_title(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        assert not app.screen.query_one(SectionList).display
        assert app.screen.query_one("#welcome-body").scroll_y == 0
        assert "Deploy the Flask Todo API" in on_screen(app)
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        await pilot.pause()
        assert not app.screen.query_one(SectionList).display
        assert "Show calls (dry run)" in on_screen(app)


async def test_a_dry_run_records_nothing_and_a_real_one_records_a_left_field(
    offline_app, scripted_app, state_path
) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+u", *"web-sg", "tab")
        assert not app.runbook.state.path.exists()
    app = scripted_app(state=StateFile(state_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        assert isinstance(app.screen.focused, Input)
        await pilot.press("ctrl+u", *"web-sg")
        assert not state_path.exists()  # not per key: when the field is left
        await pilot.press("tab")
        assert StateFile(state_path).settings["security_groups"]["elb_sg"] == "web-sg"


def test_a_wait_shows_elapsed_time_and_aws_usual_time() -> None:
    what = "database flask-todo-db to be available"
    text = plain_renderable(waiting_line(what, since=100.0, now=300.0))
    assert "3:20" in text and "usually 5 to 10 min" in text
    late = plain_renderable(waiting_line(what, since=0.0, now=700.0))
    assert "11:40" in late and "longer than the usual 10 min" in late
    own = plain_renderable(waiting_line("the image x:latest in ECR", since=0.0, now=65.0))
    assert "1:05" in own and "usually" not in own


def plain_renderable(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_quitting_in_a_changed_field_keeps_what_was_typed(scripted_app, state_path) -> None:
    app = scripted_app(state=StateFile(state_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        await pilot.press("ctrl+u", *"web-sg", "ctrl+q")
        await until(pilot, lambda: not app.is_running)
    assert StateFile(state_path).settings["security_groups"]["elb_sg"] == "web-sg"
