"""A section's form: the guide's defaults, the engine's rules as you type, a live preview."""

from __future__ import annotations

import re

from textual.widgets import Button, Input, Static

from screens.section.call_preview import CallPreview
from tests.ui.conftest import SIZE, confirm_run, log_text, plain, show_section, until


async def test_defaults_are_prefilled_and_the_preview_follows_the_form(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        screen = app.screen
        assert screen.query_one("#field-elb_sg", Input).value == "flask-todo-elb-sg"
        assert screen.query_one("#field-app_port", Input).value == "5000"
        preview = screen.query_one(CallPreview)
        assert "create flask-todo-elb-sg" in plain(preview)
        # Focus starts in the first field; typing replaces the name.
        await pilot.press("ctrl+u", *"web-sg")
        assert "create web-sg" in plain(preview)
        assert app.runbook.settings.security_groups.elb_sg == "web-sg"


async def test_an_invalid_field_shows_the_rule_and_blocks_run(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-II")
        screen = app.screen
        await pilot.press("ctrl+u", *"bad_name")
        rule = screen.query_one("#rule-name", Static)
        assert rule.display
        assert "letters, digits or hyphens" in plain(rule)
        assert screen.query_one("#run", Button).disabled
        # The engine's settings keep the last valid value typed ("bad", before the "_").
        assert app.runbook.settings.load_balancer.name == "bad"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "would make these calls" not in "".join(
            line.plain for line in screen.query_one("RunLog").lines
        )
        await pilot.press("ctrl+u", *"todo-alb")
        assert not rule.display
        assert not screen.query_one("#run", Button).disabled
        assert app.runbook.settings.load_balancer.name == "todo-alb"


async def test_a_cross_field_rule_names_the_fargate_sizes(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+n", "ctrl+n", "ctrl+n", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-V")
        memory = app.screen.query_one("#field-memory", Input)
        memory.focus()
        await pilot.press("ctrl+u", *"4096")
        assert "Fargate with cpu 256 takes memory 512, 1024, 2048" in plain(
            app.screen.query_one("#rule-memory")
        )
        port = app.screen.query_one("#field-container_memory", Input)
        port.focus()
        await pilot.press("ctrl+u")
        assert "must be a whole number" in plain(app.screen.query_one("#rule-container_memory"))


async def test_accepting_the_preflight_fix_changes_section_iv(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "db.t2.micro cannot run" in plain(app.screen.query_one("#findings"))
        await pilot.press("f")
        assert "fixed: use db.t4g.micro" in plain(app.screen.query_one("#findings"))
        await pilot.press("b", "ctrl+n", "ctrl+n", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-IV")
        assert app.screen.query_one("#field-instance_class", Input).value == "db.t4g.micro"
        assert "on db.t4g.micro" in plain(app.screen.query_one(CallPreview))


async def test_values_from_earlier_sections_appear_once_known(scripted_app) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-II")
        assert "known after section I" in plain(app.screen.query_one("#inputs"))
        await pilot.press("ctrl+p")
        await confirm_run(pilot, app)
        await until(pilot, lambda: app.progress["I"].status == "done")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-II")
        group_id = app.runbook.known["flask-todo-elb-sg.GroupId"]
        needed = plain(app.screen.query_one("#inputs"))
        assert re.search(rf"flask-todo-elb-sg\.GroupId\n +{group_id}", needed)
        # Read-only: nothing in the form edits them.
        assert not any(group_id in i.value for i in app.screen.query(Input))


async def test_a_section_beyond_the_guide_is_off_until_its_settings_turn_it_on(
    scripted_app,
) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await show_section(pilot, app, "VIII")
        listing = app.screen.query_one("SectionList")
        assert "off" in str(listing.get_option_at_index(7).prompt)
        assert "Off" in plain(app.screen.query_one("#run-hint"))
        await pilot.press("ctrl+r")  # off: nothing to confirm, nothing made
        await until(pilot, lambda: app.progress["VIII"].status == "skipped")
        assert "is off with these settings" in log_text(app, "VIII")
        await pilot.press("ctrl+u", "3")  # max tasks: 3 turns auto scaling on
        assert app.runbook.settings.auto_scaling.max_tasks == 3
        assert "off" not in str(listing.get_option_at_index(7).prompt)
        assert "Off" not in plain(app.screen.query_one("#run-hint"))
