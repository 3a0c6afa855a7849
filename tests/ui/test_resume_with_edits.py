"""The issue's story, as a new user would do it: rename, run, quit, come back, resume, finish.

Then a changed instance class, applied in place; then destroy: nothing of ours is left.
"""

from __future__ import annotations

from textual.widgets import Input

from runbook import destroy as tear_down
from runbook.inventory import find
from runbook.recorded import starting_settings
from runbook.state import StateFile
from screens.app import make_app
from screens.modals.confirm_run import ConfirmRun
from screens.section.call_preview import CallPreview
from tests.engine.helpers import inventory
from tests.ui.conftest import SIZE, log_text, plain, run_section, show_section, until


def relaunch(make_runbook, state_path):
    """A new session: the app as the command line builds it, from the state file alone."""
    state = StateFile(state_path)
    start = starting_settings(state, None, None)
    app = make_app(
        lambda listener: make_runbook(listener, settings=start.settings, state=state),
        "sandbox",
        "local emulator (sandbox)",
        start,
    )
    return app, start


async def test_rename_run_quit_resume_finish_destroy(
    sandbox_app, make_runbook, aws, state_path, settings
) -> None:
    """Real engine on the emulator: the one resume after a quit kept whole (a renamed group, a
    new session from the state file, the rest of the run, a database class changed in place,
    destroy leaving nothing)."""
    app = sandbox_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await until(pilot, lambda: app.screen.name == "section-I")
        field = app.screen.query_one("#field-elb_sg", Input)
        assert app.screen.focused is field
        await pilot.press("ctrl+u", *"custom-todo-elb-sg")
        await run_section(pilot, app, "I")
        assert "Next: section II" in plain(app.screen.query_one("#run-hint"))
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)

    app, start = relaunch(make_runbook, state_path)
    assert start.recorded
    async with app.run_test(size=SIZE) as pilot:
        assert "as recorded with the deployment" in plain(app.screen.query_one("#where"))
        await pilot.press("r")
        await until(pilot, lambda: app.screen.name == "section-II")
        # Section II takes the renamed group's id, known, not a <placeholder>.
        needed = plain(app.screen.query_one("#inputs"))
        assert "custom-todo-elb-sg.GroupId" in needed and "known after" not in needed
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen.name == "section-I")
        assert app.screen.query_one("#field-elb_sg", Input).value == "custom-todo-elb-sg"
        await pilot.press("ctrl+n")
        for number in ("II", "III", "IV", "V", "VI"):
            await until(pilot, lambda number=number: app.screen.name == f"section-{number}")
            if number == "II":
                await pilot.press("ctrl+r")
                await until(
                    pilot, lambda: isinstance(app.screen, ConfirmRun) and app.screen.is_mounted
                )
                await pilot.pause()
                shown = plain(app.screen.query_one(CallPreview))
                # Section I's values are known before the first call; only this section's own
                # (made by its earlier calls) are still <placeholders>.
                assert "<custom-todo-elb-sg.GroupId>" not in shown and "<default-vpc" not in shown
                await pilot.press("y")
                await until(pilot, lambda: app.progress["II"].status == "done")
            else:
                await run_section(pilot, app, number)
            if number != "VI":
                await pilot.press("ctrl+n")
        assert "ecs CreateService" in log_text(app, "VI")

        # A changed instance class: "changed in place" is what discovery of the running
        # database differs in, and RDS must end up modified.
        await show_section(pilot, app, "IV")
        field = app.screen.query_one("#field-instance_class", Input)
        field.focus()
        await pilot.press("ctrl+u", *"db.t3.micro", "tab")
        # Recorded as soon as the field is left: a quit now would not lose it.
        assert StateFile(state_path).settings["database"]["instance_class"] == "db.t3.micro"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRun) and app.screen.is_mounted)
        await pilot.pause()
        changes = plain(app.screen.query_one("#changes"))
        assert "instance class: db.t4g.micro -> db.t3.micro: changed in place" in changes
        assert "rds ModifyDBInstance" in plain(app.screen.query_one(CallPreview))
        await pilot.press("y")
        await until(pilot, lambda: app.progress["IV"].status == "done")
        assert "rds ModifyDBInstance  ok" in log_text(app, "IV")
    (db,) = aws.call("rds", "describe_db_instances")["DBInstances"]
    assert db["DBInstanceClass"] == "db.t3.micro"

    groups = aws.call("ec2", "describe_security_groups")["SecurityGroups"]
    assert sorted(g["GroupName"] for g in groups if g["GroupName"] != "default") == [
        "custom-todo-elb-sg",
        "flask-todo-db-sg",
        "flask-todo-ecs-sg",
    ]
    (lb,) = aws.call("elbv2", "describe_load_balancers")["LoadBalancers"]
    custom = next(g["GroupId"] for g in groups if g["GroupName"] == "custom-todo-elb-sg")
    assert lb["SecurityGroups"] == [custom]

    # Destroy, as `runbook destroy` does, from the recorded settings: nothing of ours is left.
    runbook = make_runbook(settings=relaunch(make_runbook, state_path)[1].settings)
    report = tear_down.run(runbook, tear_down.plan(runbook))
    assert all(r.outcome in ("removed", "already gone") for r in report)
    assert find(aws, "flask-todo").resources == []
    assert sum(inventory(aws, settings).values()) == 0
