"""Opened with a state file: resume at the first section not done, or start over."""

from __future__ import annotations

from runbook.state import StateFile
from screens.modals.start_over import StartOver
from screens.section.known_values import KnownValues
from screens.welcome.welcome_screen import WelcomeScreen
from tests.ui.conftest import SIZE, plain, until
from tests.ui.scripted import ScriptedEngine
from tests.ui.test_rough_edges import on_screen


def _recorded_through_iii(settings, state_path) -> dict[str, str]:
    """Sections I to III recorded done as the engine records them (scripted: no AWS), each
    with what it made; their security group ids."""
    earlier = ScriptedEngine(settings, None, StateFile(state_path), sleep=lambda _s: None)
    for number in ("I", "II", "III"):
        earlier.apply(earlier.step(number))
    sg = settings.security_groups
    groups = {
        f"{name}.GroupId": f"sg-0{n}{'a' * 16}"
        for n, name in enumerate((sg.elb_sg, sg.ecs_sg, sg.db_sg))
    }
    StateFile(state_path).record("I", "done", groups)
    return groups


async def test_resume_lands_on_the_first_section_not_done(
    scripted_app, settings, state_path
) -> None:
    # What the screens show of a saved run: the state file's record is all they read here.
    groups = _recorded_through_iii(settings, state_path)
    app = scripted_app(state=StateFile(state_path))
    async with app.run_test(size=SIZE) as pilot:
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        saved = plain(welcome.query_one("#saved"))
        assert "sections I, II, III done" in saved
        assert "Resume (r)" in str(welcome.query_one("#begin").label)
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-IV")
        # The done sections are marked in the list, and show what they made.
        assert [app.progress[n].status for n in ("I", "II", "III", "IV")] == [
            "done",
            "done",
            "done",
            "to do",
        ]
        listing = plain(app.screen.query_one("#section-title"))
        assert "Section IV" in listing
        await pilot.press("ctrl+p", "ctrl+p", "ctrl+p")
        await until(pilot, lambda: app.screen.name == "section-I")
        made = plain(app.screen.query_one("#outputs", KnownValues))
        for key, group_id in groups.items():
            assert key in made and group_id in made
        # Section IV's database group id, from section I, is shown read-only there.
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-IV")
        needed = plain(app.screen.query_one("#inputs", KnownValues))
        assert groups["flask-todo-db-sg.GroupId"] in needed


async def test_start_over_asks_says_what_it_forgets_and_runs_nothing(
    scripted_app, state_path, settings
) -> None:
    # What start_over forgets (and that it calls nothing) is tests/engine/test_built_whole.py's;
    # here, what the app asks, says and shows of it.
    _recorded_through_iii(settings, state_path)
    app = scripted_app(state=StateFile(state_path))
    async with app.run_test(size=SIZE) as pilot:
        welcome = app.screen
        await until(pilot, lambda: welcome.findings is not None, timeout=30)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StartOver))
        said = plain(app.screen.query_one("#start-over-text"))
        assert "sections I, II, III done" in said
        # The tests' settings differ from the guide's in the instance class: named, forgotten.
        assert "database.instance_class: 'db.t4g.micro' -> 'db.t2.micro'" in said
        assert "everything in AWS" in said
        await pilot.press("n")  # kept: nothing forgotten
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        assert state_path.exists() and app.progress["I"].status == "done"
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StartOver))
        await pilot.press("y")
        # A first run's welcome: the guide's db.t2.micro is back, and the checks, run
        # again, offer to fix it.
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.screen != welcome)
        assert app.runbook.settings.database.instance_class == "db.t2.micro"
        assert not state_path.exists()
        await until(pilot, lambda: app.screen.findings is not None, timeout=30)
        assert "fix (f): use db.t4g.micro" in plain(app.screen.query_one("#findings"))
        assert "A saved run" not in on_screen(app)
        await pilot.press("f")
        assert app.runbook.settings.database.instance_class == "db.t4g.micro"
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        assert all(app.progress[n].status == "to do" for n in ("I", "II", "III"))
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.screen.name == "section-II")
        assert "known after section I" in plain(app.screen.query_one("#inputs"))
        assert app.runbook.applied == []  # forgotten, not undone: no section ran
