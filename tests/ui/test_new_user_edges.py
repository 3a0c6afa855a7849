"""More rough edges a new user met in the app, each where a test can see it."""

from __future__ import annotations

from textual.widgets import Input

from runbook.state import StateFile
from tests.ui.conftest import SIZE, log_text, plain, run_section, show_section, until
from tests.ui.scripted import ScriptedEngine, made_before
from tests.ui.test_rough_edges import on_screen


async def test_rerunning_v_says_the_service_runs_the_old_revision_until_vi(
    scripted_app, settings, state_path
) -> None:
    # Deployed whole before (recorded as the engine records it), then a bigger task.
    earlier = ScriptedEngine(settings, None, StateFile(state_path), sleep=lambda _s: None)
    for step in earlier.steps:
        earlier.apply(step)
    bigger = settings.replace("task_definition", cpu="512", memory="1024")
    app = scripted_app(state=StateFile(state_path), settings=bigger)
    async with app.run_test(size=SIZE) as pilot:
        await show_section(pilot, app, "V")
        await run_section(pilot, app, "V")
        await pilot.pause()
        hint = " ".join(plain(app.screen.query_one("#run-hint")).split())
        assert "Every section is done" not in hint
        assert "the service still runs the previous one until section VI" in hint
        assert "still runs the previous one" in log_text(app, "V")


async def test_the_explanations_name_the_port_the_settings_give(offline_app) -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        assert "port 5000 only from the load balancer" in said(app)
        app.screen.query_one("#field-app_port", Input).value = "8080"
        await pilot.pause()
        assert "port 8080 only from the load balancer" in said(app)
        for number, where in (("II", "port 8080"), ("VI", "todo-api:8080")):
            await show_section(pilot, app, number)
            assert where in said(app) and "5000" not in said(app)


def said(app) -> str:
    return " ".join(plain(app.screen.query_one("#explanation")).split())


async def test_sections_open_at_their_title_and_arns_divide_where_they_divide(
    scripted_app, settings
) -> None:
    # Sections I to V made earlier: what discovery finds of them, in AWS's shapes.
    app = scripted_app(known=made_before(settings, "I", "II", "III", "IV", "V"))
    async with app.run_test(size=SIZE) as pilot:
        for number in ("V", "VI"):
            await show_section(pilot, app, number)
            assert app.screen.query_one("#section-body").scroll_y == 0
            assert f"Section {number} ·" in on_screen(app)
        await until(pilot, lambda: "flask-todo.taskDefinitionArn" in inputs_of(app))
        await until(pilot, lambda: "task-definition/" in inputs_of(app))
        assert "    task-definition/flask-todo:1" in inputs_of(app)


def inputs_of(app) -> str:
    return plain(app.screen.query_one("#inputs"))
