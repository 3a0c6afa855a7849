"""A first run, with the keyboard alone: welcome, sections I to VI, then the summary."""

from __future__ import annotations

import json
import re

from runbook.aws import Aws
from runbook.settings import Settings
from screens.summary.summary_screen import SummaryScreen
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import SIZE, log_text, plain, run_section, until
from tests.ui.new_account import VPC_ID, answer_preflight


async def test_welcome_says_where_and_what_it_deploys(
    scripted_app, stub, offline_aws: Aws, settings: Settings
) -> None:
    """The welcome's checks as AWS answers them on a new account (tests/ui/new_account.py)."""
    app = scripted_app(aws=offline_aws)
    answer_preflight(stub, settings, app.runbook.version)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#findings").findings is not None)
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        where = plain(welcome.query_one("#where"))
        assert "local emulator (sandbox)" in where
        assert "flask-todo" in where
        findings = plain(welcome.query_one("#findings"))
        # Preflight found the account and its default VPC.
        assert re.search(r"identity: account \d{12}", findings)
        assert f"default VPC {VPC_ID}" in findings


async def test_all_six_sections_then_the_summary(sandbox_app, aws: Aws, state_path) -> None:
    """Real engine on the emulator: the whole path kept, keyboard only, from section I to the
    summary and what AWS ends up with."""
    app = sandbox_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        for number in ("I", "II", "III", "IV", "V", "VI"):
            await run_section(pilot, app, number)
            assert "done" in log_text(app, number)
            if number != "VI":
                await pilot.press("ctrl+n")
        # The last section stays in view, its log with it; the hint names the summary's key.
        await pilot.pause()
        assert app.screen.name == "section-VI"
        assert "ctrl+s shows the address" in plain(app.screen.query_one("#run-hint"))
        assert "ecs CreateService" in log_text(app, "VI")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause()
        summary = app.screen
        dns = aws.call("elbv2", "describe_load_balancers", Names=["flask-todo-elb"])[
            "LoadBalancers"
        ][0]["DNSName"]
        assert plain(summary.query_one("#dns-name")) == dns
        notes = plain(summary.query_one("#notes"))
        assert "emulator" in notes and "does not resolve" in notes
        assert "No target is registered" in plain(summary.query_one("#targets"))
        assert "not sent" in plain(summary.query_one("#probe"))
        # The next commands point at the same sandbox.
        assert "runbook destroy --sandbox" in plain(summary.query_one("#next-steps"))
        await pilot.press("c")
        assert copied == [f"http://{dns}"]
    state = json.loads(state_path.read_text())
    assert {k: v["status"] for k, v in state["sections"].items()} == dict.fromkeys(
        ("I", "II", "III", "IV", "V", "VI"), "done"
    )
    service = aws.call(
        "ecs", "describe_services", cluster="flask-todo-cluster", services=["flask-todo-service"]
    )["services"]
    assert service and service[0]["status"] == "ACTIVE"


async def test_the_section_list_shows_each_state(scripted_app) -> None:
    app = scripted_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await run_section(pilot, app, "I")
        await pilot.press("ctrl+n", "ctrl+r")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmRun")
        await pilot.press("n")  # cancelled: nothing made, the section stays as it was
        await until(pilot, lambda: "not run" in log_text(app, "II"))
        assert app.progress["II"].status == "to do"
        listing = app.screen.query_one("SectionList")
        prompts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert "✓ I" in prompts[0] and "done" in prompts[0]
        assert "to do" in prompts[1] and "skipped" not in prompts[1]
        assert "to do" in prompts[2]
        assert "not run: you cancelled; nothing changed" in log_text(app, "II")
